import { describe, expect, it } from 'vitest';
import {
  ijkFromLps,
  lpsFromIjk,
  makeGrid,
  makeVolume,
  orientationCode,
  reorientVolume,
  voxelIndex,
} from '../src/index.js';

// Every permutation/flip of the axes must keep each voxel at its exact world position.
const directions = [
  // left-handed oblique
  [
    [0.6, 0.8, 0],
    [0, 0, -1],
    [0.8, -0.6, 0],
  ],
  // RAS (NIfTI-like)
  [
    [-1, 0, 0],
    [0, -1, 0],
    [0, 0, 1],
  ],
  // sagittal ASL-like
  [
    [0, -1, 0],
    [0, 0, 1],
    [1, 0, 0],
  ],
];

describe('reorientVolume is lossless and keeps world positions', () => {
  for (const [n, direction] of directions.entries()) {
    for (const target of ['LPS', 'RAS', 'SAL']) {
      it(`direction set ${n} -> ${target}`, () => {
        const grid = makeGrid({ size: [3, 4, 5], spacing: [0.7, 1.1, 2.3], origin: [5, -7, 11], direction });
        const frames = 2;
        const components = 2;
        const data = new Float32Array(3 * 4 * 5 * frames * components).map((_, q) => q * 1.5 - 7);
        const vol = makeVolume({ grid, data, frames, components });
        const out = reorientVolume(vol, target);
        expect(orientationCode(out.grid)).toBe(target);
        for (let k = 0; k < out.grid.size[2]; k++)
          for (let j = 0; j < out.grid.size[1]; j++)
            for (let i = 0; i < out.grid.size[0]; i++) {
              const src = ijkFromLps(grid, lpsFromIjk(out.grid, [i, j, k])).map((x) => Math.round(x * 1e6) / 1e6);
              for (const x of src) expect(Number.isInteger(x)).toBe(true);
              for (let t = 0; t < frames; t++)
                for (let c = 0; c < components; c++) {
                  const a = out.data[voxelIndex(out.grid, i, j, k, t, components, c)];
                  const b = data[voxelIndex(grid, src[0]!, src[1]!, src[2]!, t, components, c)];
                  expect(a).toBe(b);
                }
            }
      });
    }
  }
});

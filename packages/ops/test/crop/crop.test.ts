import { lpsFromIjk, makeGrid, makeVolume, S2SError, type Vec3 } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { boundingBox } from '../../src/crop/bounding-box.js';
import { crop, cropToMask } from '../../src/crop/crop.js';
import { pad } from '../../src/crop/pad.js';
import { obliqueGrid } from '../filters/helpers.js';

const near = (a: Vec3, b: Vec3) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

describe('crop and pad keep every voxel at its world position', () => {
  const grid = obliqueGrid([9, 7, 5]);
  const n = 9 * 7 * 5;
  const data = Int16Array.from({ length: n }, (_, p) => p - 100);
  const v = makeVolume({ grid, data, units: 'HU' });

  it('crop: voxel (i,j,k) of the crop is voxel (i+s) of the original, same LPS', () => {
    const box = { start: [2, 1, 3] as Vec3, end: [7, 6, 5] as Vec3 };
    const c = crop(v, { box });
    expect(c.grid.size).toEqual([5, 5, 2]);
    expect(c.grid.direction).toEqual(grid.direction);
    for (const [i, j, k] of [
      [0, 0, 0],
      [4, 4, 1],
      [2, 3, 0],
    ] as Vec3[]) {
      expect(near(lpsFromIjk(c.grid, [i, j, k]), lpsFromIjk(grid, [i + 2, j + 1, k + 3]))).toBeLessThan(1e-9);
      expect(c.data[i + 5 * (j + 5 * k)]).toBe(data[i + 2 + 9 * (j + 1 + 7 * (k + 3))]);
    }
  });

  it('pad then crop back is the identity; padded voxels hold the requested value', () => {
    const p = pad(v, { before: [1, 2, 3], after: [0, 1, 2] });
    expect(p.grid.size).toEqual([10, 10, 10]);
    expect(near(lpsFromIjk(p.grid, [1, 2, 3]), grid.origin)).toBeLessThan(1e-9);
    expect(p.data[0]).toBe(-100); // 'min'
    const back = crop(p, { box: { start: [1, 2, 3], end: [10, 9, 8] } });
    expect(Array.from(back.data)).toEqual(Array.from(data));
    expect(near(back.grid.origin, grid.origin)).toBeLessThan(1e-9);
    expect(pad(v, { before: 1, value: 7 }).data[0]).toBe(7);
    const e = pad(v, { before: [2, 0, 0], value: 'edge' });
    expect([e.data[0], e.data[1], e.data[2]]).toEqual([data[0], data[0], data[0]]);
  });

  it('pad by a margin in mm rounds up to whole voxels per axis', () => {
    const p = pad(v, { marginMm: 1.2 }); // spacing 0.8, 1.1, 1.3 -> 2, 2, 1 voxels
    expect(p.grid.size).toEqual([13, 11, 7]);
  });

  it('multi-frame, multi-component volumes crop per voxel', () => {
    const g = makeGrid({ size: [3, 2, 2] });
    const d = Uint8Array.from({ length: 12 * 2 * 2 }, (_, p) => p);
    const c = crop(makeVolume({ grid: g, data: d, components: 2, frames: 2 }), {
      box: { start: [1, 1, 1], end: [2, 2, 2] },
    });
    // voxel (1,1,1) = linear 10; components at 20, 21; frame 1 adds 24
    expect(Array.from(c.data)).toEqual([20, 21, 44, 45]);
  });

  it('refuses boxes outside the grid or empty', () => {
    expect(() => crop(v, { box: { start: [0, 0, 0], end: [10, 1, 1] } })).toThrow(S2SError);
    expect(() => crop(v, { box: { start: [3, 0, 0], end: [3, 1, 1] } })).toThrow(/start < end/);
    expect(() => pad(v, { before: -1 })).toThrow(S2SError);
  });
});

describe('boundingBox', () => {
  const grid = makeGrid({ size: [20, 12, 10], spacing: [0.5, 1, 2] });
  const mask = new Uint8Array(20 * 12 * 10);
  mask[5 + 20 * (5 + 12 * 5)] = 1;
  it('grows by a margin in mm, per axis, in whole voxels', () => {
    expect(boundingBox(mask, grid)).toEqual({ start: [5, 5, 5], end: [6, 6, 6] });
    expect(boundingBox(mask, grid, { marginMm: 2 })).toEqual({ start: [1, 3, 4], end: [10, 8, 7] });
    expect(boundingBox(mask, grid, { marginMm: 100 })).toEqual({ start: [0, 0, 0], end: [20, 12, 10] });
    expect(boundingBox(new Uint8Array(mask.length), grid)).toBeUndefined();
  });
  it('cropToMask crops a volume to it', () => {
    const v = makeVolume({ grid, data: new Float32Array(mask.length) });
    expect(cropToMask(v, mask, { marginMm: 2 }).grid.size).toEqual([9, 5, 3]);
  });
});

// Look-first preprocesses, infers and maps back only its box (segmentWithModel's source-backed
// LookFirstInput). For a translation-invariant (pointwise) model the labels must be exactly the
// full path's, on grids that need reorienting and resampling both ways, oblique and left-handed
// ones included, by either route back to the source grid, for one or all structures.
import {
  applyAffine,
  type Grid,
  lpsFromIjkMatrix,
  makeGrid,
  makeVolume,
  type Vec3,
  voxelCount,
} from '@slice2solid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferenceSessionLike } from '../src/backend.js';
import { lookFirstInference } from '../src/look-first.js';
import { onnxRuntimeNodeBackend } from '../src/node/onnxruntime-node.js';
import { preprocessForModel } from '../src/preprocess.js';
import { segmentWithModel } from '../src/segment-with-model.js';
import { thresholdCard, thresholdLabel, thresholdOnnx } from './helpers/threshold-model.js';

let session: InferenceSessionLike;
beforeAll(async () => {
  session = await onnxRuntimeNodeBackend({ intraOpNumThreads: 1 }).createSession(thresholdOnnx());
});
afterAll(async () => {
  await session.dispose();
});

function rotation(axis: Vec3, deg: number): [Vec3, Vec3, Vec3] {
  const n = Math.hypot(...axis);
  const [x, y, z] = axis.map((v) => v / n) as unknown as Vec3;
  const t = (deg * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  const C = 1 - c;
  return [
    [c + x * x * C, y * x * C + z * s, z * x * C - y * s],
    [x * y * C - z * s, c + y * y * C, z * y * C + x * s],
    [x * z * C + y * s, y * z * C - x * s, c + z * z * C],
  ];
}
function centred(size: Vec3, spacing: Vec3, direction: [Vec3, Vec3, Vec3]): Grid {
  const origin = [0, 1, 2].map(
    (r) => -[0, 1, 2].reduce((s, a) => s + direction[a]![r]! * spacing[a]! * ((size[a]! - 1) / 2), 0),
  );
  return makeGrid({ size, spacing, origin, direction });
}
const R = rotation([1, 2, 3], 20);
const GRIDS: [string, Grid][] = [
  [
    'axial LPS, anisotropic (flips i and j)',
    centred(
      [96, 80, 30],
      [0.8, 0.9, 2.5],
      [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
    ),
  ],
  ['oblique (20 degrees about 1,2,3)', centred([84, 90, 32], [0.9, 0.8, 2.4], R)],
  [
    'left-handed, permuted (sagittal-like)',
    centred(
      [34, 90, 84],
      [2.2, 0.8, 0.9],
      [
        [0, 1, 0],
        [0, 0, -1],
        [1, 0, 0],
      ],
    ),
  ],
  ['oblique and left-handed', centred([80, 30, 86], [0.85, 2.3, 0.95], [R[0], R[2], R[1]])],
];

// world phantom (LPS mm): a ball (200 HU: 'ball') near one corner, a box (900 HU: 'box') near the other
const BALL = { c: [18, -14, 9] as Vec3, r: 8 };
const BOX = { lo: [-30, 12, -20] as Vec3, hi: [-22, 22, -10] as Vec3 };
// (the box's rim, interpolated between 900 and -50 HU, looks like 'ball' to the threshold model, so
// the one-structure tests use the ball alone)
function hu(p: Vec3, withBox: boolean): number {
  if (Math.hypot(p[0] - BALL.c[0], p[1] - BALL.c[1], p[2] - BALL.c[2]) <= BALL.r) return 200;
  if (withBox && p.every((x, a) => x >= BOX.lo[a]! && x <= BOX.hi[a]!)) return 900;
  return -50 + 10 * Math.sin(0.21 * p[0] + 0.13 * p[1] + 0.17 * p[2]);
}
function image(grid: Grid, withBox = false) {
  const m = lpsFromIjkMatrix(grid);
  const [nx, ny, nz] = grid.size;
  const data = new Int16Array(voxelCount(grid));
  let o = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) data[o++] = Math.round(hu(applyAffine(m, [i, j, k]), withBox));
  return makeVolume({ grid, data, units: 'HU' });
}
function count(a: ArrayLike<number>, v: number): number {
  let n = 0;
  for (let p = 0; p < a.length; p++) if (a[p] === v) n++;
  return n;
}

const card = thresholdCard();
const LOOK = { marginMm: 4, growMm: 6 };

describe('look-first preprocesses, infers and maps back only its box, with the full path’s labels', () => {
  for (const [name, grid] of GRIDS) {
    it(`one structure, both routes back, exactly the full path's labels: ${name}`, async () => {
      const v = image(grid);
      for (const backToSource of ['labels', 'probabilities'] as const) {
        const full = await segmentWithModel(v, card, session, { structures: ['ball'], backToSource });
        const look = await segmentWithModel(v, card, session, { structures: ['ball'], backToSource, roiFirst: LOOK });
        expect(count(full.labels.data, 1), backToSource).toBeGreaterThan(500);
        expect(Array.from(look.labels.data), backToSource).toEqual(Array.from(full.labels.data));
        const lf = look.report.lookFirst!;
        expect(lf.found).toBe(true);
        expect(lf.touching).toBe(false);
        // only the box was preprocessed and inferred, and only its part of the source was mapped
        expect(lf.voxelsInferred).toBeLessThan(lf.fullVoxels / 2);
        expect(look.report.sourceVoxelsRead).toBeLessThan(full.report.sourceVoxelsRead);
        expect(look.report.sourceVoxelsMapped).toBeLessThan(voxelCount(grid) / 4);
        expect(look.report.structures).toEqual(full.report.structures);
      }
    });
  }

  it('all structures (two boxes far apart: one box holding both), and the box without the other structure', async () => {
    const grid = GRIDS[1]![1];
    const v = image(grid, true);
    const full = await segmentWithModel(v, card, session);
    const look = await segmentWithModel(v, card, session, { roiFirst: LOOK });
    expect(full.report.structures.map((s) => s.voxels > 100)).toEqual([true, true]);
    expect(Array.from(look.labels.data)).toEqual(Array.from(full.labels.data));
    const box = await segmentWithModel(v, card, session, { structures: ['box'], roiFirst: LOOK });
    const fullBox = Uint8Array.from(full.labels.data, (x) => (x === 2 ? 2 : 0));
    expect(Array.from(box.labels.data)).toEqual(Array.from(fullBox));
    expect(box.report.lookFirst!.voxelsInferred).toBeLessThan(look.report.lookFirst!.voxelsInferred);
  });

  it('the coarse pass reads a small part of the source, and the box input equals the full input there', async () => {
    const grid = GRIDS[0]![1];
    const v = image(grid);
    const look = await segmentWithModel(v, card, session, { structures: ['ball'], roiFirst: { ...LOOK, factor: 3 } });
    // the coarse grid (4.5 mm) reads about 2 source voxels per coarse voxel per axis, not the image
    const lf = look.report.lookFirst!;
    const coarseVoxels = lf.coarseGrid.size[0] * lf.coarseGrid.size[1] * lf.coarseGrid.size[2];
    expect(look.report.sourceVoxelsRead).toBeLessThan(voxelCount(grid) / 3);
    expect(coarseVoxels).toBeLessThan(voxelCount(grid) / 20);
    // the older entry point (a preprocessed Volume) still works and agrees on the model grid
    const { input } = preprocessForModel(v, card);
    const settings = { patchSize: card.input.patchSize, overlap: 0.5, labelValues: [0, 1, 2], mirrorAxes: [] };
    const old = await lookFirstInference(session, input, settings, [1], LOOK);
    expect(old.prediction.box).toBeUndefined();
    expect(old.prediction.labels.length).toBe(voxelCount(input.grid));
    const want = Uint8Array.from(input.data, (x) => thresholdLabel(x * 100));
    let ball = 0;
    for (let p = 0; p < want.length; p++) {
      if (want[p] !== 1) continue;
      ball++;
      expect(old.prediction.labels[p]).toBe(1);
    }
    expect(ball).toBeGreaterThan(100);
  });
});

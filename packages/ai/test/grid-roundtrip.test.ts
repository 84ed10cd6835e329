// Preprocess -> (perfect or ONNX) model -> postprocess on oblique and left-handed grids:
// labels must land where they belong in world (LPS) coordinates.
import {
  applyAffine,
  type Grid,
  isLeftHanded,
  lpsFromIjkMatrix,
  makeGrid,
  makeVolume,
  orientationCode,
  type Vec3,
  voxelCount,
} from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { parseModelCard } from '../src/model-card.js';
import { onnxRuntimeNodeBackend } from '../src/node/onnxruntime-node.js';
import { labelsToSource, probabilitiesToSource, segmentsFromCard, undoReorient } from '../src/postprocess.js';
import { preprocessForModel } from '../src/preprocess.js';
import { slidingWindowInference } from '../src/sliding-window.js';
import { testCard } from './helpers/cards.js';
import { conv3dModel } from './helpers/onnx-builder.js';

// World phantom (LPS mm): a ball (label 1) and a box (label 2), placed off-centre so that any
// flip or axis swap moves them.
const BALL = { c: [6, -4, 3] as Vec3, r: 11 };
const BOX = { lo: [-22, 6, -9] as Vec3, hi: [-8, 20, 12] as Vec3 };
function phantom(p: Vec3): number {
  if (Math.hypot(p[0] - BALL.c[0], p[1] - BALL.c[1], p[2] - BALL.c[2]) <= BALL.r) return 1;
  if (p.every((x, a) => x >= BOX.lo[a]! && x <= BOX.hi[a]!)) return 2;
  return 0;
}
/** Distance from p to the nearest phantom surface (mm). */
function boundaryDistance(p: Vec3): number {
  const ball = Math.abs(Math.hypot(p[0] - BALL.c[0], p[1] - BALL.c[1], p[2] - BALL.c[2]) - BALL.r);
  const outside = Math.hypot(...p.map((x, a) => Math.max(BOX.lo[a]! - x, 0, x - BOX.hi[a]!)));
  const inside = Math.min(...p.map((x, a) => Math.min(x - BOX.lo[a]!, BOX.hi[a]! - x)));
  return Math.min(ball, outside > 0 ? outside : Math.max(0, inside));
}
function sample(grid: Grid, f: (p: Vec3) => number): Uint8Array {
  const m = lpsFromIjkMatrix(grid);
  const [nx, ny, nz] = grid.size;
  const out = new Uint8Array(voxelCount(grid));
  let o = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) out[o++] = f(applyAffine(m, [i, j, k]));
  return out;
}
function rotation(axis: Vec3, deg: number): [Vec3, Vec3, Vec3] {
  const n = Math.hypot(...axis);
  const [x, y, z] = axis.map((v) => v / n) as unknown as Vec3;
  const t = (deg * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  const C = 1 - c;
  // columns of the rotation matrix
  return [
    [c + x * x * C, y * x * C + z * s, z * x * C - y * s],
    [x * y * C - z * s, c + y * y * C, z * y * C + x * s],
    [x * z * C + y * s, y * z * C - x * s, c + z * z * C],
  ];
}
/** A grid of `size` and `spacing` along `direction`, centred on the world origin. */
function centredGrid(size: Vec3, spacing: Vec3, direction: [Vec3, Vec3, Vec3]): Grid {
  const origin = [0, 1, 2].map(
    (r) => -[0, 1, 2].reduce((s, a) => s + direction[a]![r]! * spacing[a]! * ((size[a]! - 1) / 2), 0),
  );
  return makeGrid({ size, spacing, origin, direction });
}

const R = rotation([1, 2, 3], 20);
const GRIDS: [string, Grid][] = [
  [
    'axial LPS, anisotropic',
    centredGrid(
      [64, 56, 26],
      [0.8, 0.9, 2.5],
      [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
    ),
  ],
  ['oblique (20 degrees about 1,2,3)', centredGrid([60, 58, 24], [0.9, 0.8, 2.4], R)],
  [
    'left-handed, permuted (sagittal-like, axes j/k swapped)',
    centredGrid(
      [30, 60, 56],
      [2.2, 0.8, 0.9],
      [
        [0, 1, 0],
        [0, 0, -1],
        [1, 0, 0],
      ],
    ),
  ],
  ['oblique and left-handed', centredGrid([58, 24, 60], [0.85, 2.3, 0.95], [R[0], R[2], R[1]])],
];

const card = parseModelCard(testCard());
const HALF_DIAGONAL = (1.5 * Math.sqrt(3)) / 2;

describe('grid round trip: preprocess -> model grid -> source grid', () => {
  it('the test grids are what they claim', () => {
    expect(isLeftHanded(GRIDS[2]![1])).toBe(true);
    expect(isLeftHanded(GRIDS[3]![1])).toBe(true);
    expect(isLeftHanded(GRIDS[1]![1])).toBe(false);
  });

  for (const [name, grid] of GRIDS) {
    it(`keeps labels in place: ${name}`, () => {
      const truth = sample(grid, phantom);
      // CT-like image: 0 / 100 / 200 HU for background / ball / box
      const image = makeVolume({ grid, data: Int16Array.from(truth, (l) => l * 100), units: 'HU' });
      const { input, record } = preprocessForModel(image, card);
      expect(orientationCode(record.modelGrid)).toBe('RAS');
      expect(record.modelGrid.spacing).toEqual([1.5, 1.5, 1.5]);
      expect(record.normalization[0]).toMatchObject({ type: 'ct', low: -1000, high: 1000, offset: 0, scale: 0.01 });
      // the preprocessed image shows the phantom at the model voxels' world positions
      const expectedOnModel = sample(record.modelGrid, phantom);
      const distOnModel = sample(record.modelGrid, (p) => (boundaryDistance(p) > 3 ? 1 : 0));
      let checked = 0;
      for (let p = 0; p < expectedOnModel.length; p++) {
        if (!distOnModel[p]) continue;
        checked++;
        expect(input.data[p]).toBeCloseTo(expectedOnModel[p]!, 4);
      }
      expect(checked).toBeGreaterThan(1000);

      // a perfect model: the phantom sampled at the model grid's voxel centres
      const back = labelsToSource(expectedOnModel, record, segmentsFromCard(card));
      expect(back.grid).toBe(grid);
      expect(back.segments.map((s) => s.name)).toEqual(['ball', 'box']);
      let wrong = 0;
      const m = lpsFromIjkMatrix(grid);
      const [nx, ny] = grid.size;
      for (let p = 0; p < truth.length; p++) {
        if (back.data[p] === truth[p]) continue;
        wrong++;
        const i = p % nx;
        const j = Math.floor(p / nx) % ny;
        const k = Math.floor(p / (nx * ny));
        // nearest-neighbour error is at most half a model voxel diagonal from a surface
        expect(boundaryDistance(applyAffine(m, [i, j, k]))).toBeLessThanOrEqual(HALF_DIAGONAL + 1e-6);
      }
      expect(wrong / truth.length).toBeLessThan(0.08);
      for (const label of [1, 2]) {
        const a = centroid(truth, grid, label);
        const b = centroid(back.data, grid, label);
        expect(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])).toBeLessThan(0.3);
      }

      // the probability route (one-hot probabilities, linear resampling, arg-max on the source grid)
      const probs = [0, 1, 2].map((l) => Uint8Array.from(expectedOnModel, (v) => (v === l ? 255 : 0)));
      const back2 = probabilitiesToSource(probs, [0, 1, 2], record);
      for (let p = 0; p < truth.length; p++) {
        if (back2.data[p] === truth[p]) continue;
        const i = p % nx;
        const j = Math.floor(p / nx) % ny;
        const k = Math.floor(p / (nx * ny));
        expect(boundaryDistance(applyAffine(m, [i, j, k]))).toBeLessThanOrEqual(2 * HALF_DIAGONAL + 1e-6);
      }
    });
  }

  it('is exact (every voxel) when the model spacing equals the reoriented source spacing', () => {
    for (const [, grid] of GRIDS) {
      const truth = sample(grid, phantom);
      const image = makeVolume({ grid, data: Int16Array.from(truth, (l) => l * 100) });
      const { record: probe } = preprocessForModel(image, card);
      const same = parseModelCard(
        testCard({ input: { ...(testCard().input as object), spacing: probe.reorientedGrid.spacing } }),
      );
      const { input, record } = preprocessForModel(image, same);
      expect(record.modelGrid.size).toEqual(record.reorientedGrid.size);
      const labels = Uint8Array.from(input.data, (x) => Math.round(x));
      expect(Array.from(labelsToSource(labels, record).data)).toEqual(Array.from(truth));
      // undoReorient is the inverse of the reorientation on any data
      expect(Array.from(undoReorient(Float32Array.from(input.data), record))).toEqual(Array.from(truth));
    }
  });

  it('end to end with an ONNX model: thresholds in the model grid come back on the source grid', async () => {
    // logits: background 0, ball 2x - 1, box 4x - 4 on x = HU / 100 -> arg-max picks 0 / 1 / 2 at 0 / 1 / 2
    const session = await onnxRuntimeNodeBackend({ intraOpNumThreads: 1 }).createSession(
      conv3dModel({
        inChannels: 1,
        outChannels: 3,
        kernelSize: [1, 1, 1],
        weights: new Float32Array([0, 2, 4]),
        bias: new Float32Array([0, -1, -4]),
      }),
    );
    const grid = GRIDS[3]![1];
    const truth = sample(grid, phantom);
    const image = makeVolume({ grid, data: Int16Array.from(truth, (l) => l * 100), units: 'HU' });
    const { input, record } = preprocessForModel(image, card);
    const result = await slidingWindowInference(session, input, {
      patchSize: card.input.patchSize,
      mirrorAxes: card.inference.mirrorAxes,
      returnProbabilities: true,
    });
    await session.dispose();
    const back = labelsToSource(result.labels, record);
    const m = lpsFromIjkMatrix(grid);
    const [nx, ny] = grid.size;
    let agree = 0;
    for (let p = 0; p < truth.length; p++) {
      if (back.data[p] === truth[p]) {
        agree++;
        continue;
      }
      const q = [p % nx, Math.floor(p / nx) % ny, Math.floor(p / (nx * ny))];
      // linear interpolation of the image then thresholding: within one model voxel of a surface
      expect(boundaryDistance(applyAffine(m, q))).toBeLessThanOrEqual(2 * HALF_DIAGONAL + 1e-6);
    }
    expect(agree / truth.length).toBeGreaterThan(0.93);
    const back2 = probabilitiesToSource(result.probabilities!, [0, 1, 2], record);
    let same = 0;
    for (let p = 0; p < truth.length; p++) if (back2.data[p] === truth[p]) same++;
    expect(same / truth.length).toBeGreaterThan(0.93);
  });

  it('refuses images whose channel count does not match the card', () => {
    const grid = GRIDS[0]![1];
    const two = makeVolume({ grid, data: new Int16Array(voxelCount(grid) * 2), components: 2 });
    expect(() => preprocessForModel(two, card)).toThrow(/takes 1 input channel\(s\) \(CT\) but the image has 2/);
    const flat = makeVolume({ grid, data: new Int16Array(voxelCount(grid)) });
    const z = parseModelCard(
      testCard({
        input: {
          ...(testCard().input as object),
          channels: [{ name: 'T1', modality: 'MR', normalization: { type: 'zscore' } }],
        },
      }),
    );
    expect(() => preprocessForModel(flat, z)).toThrow(/constant/);
    const { record } = preprocessForModel(makeVolume({ grid, data: Int16Array.from(sample(grid, phantom)) }), card);
    expect(() => labelsToSource(new Uint8Array(5), record)).toThrow(/5 values but the model grid/);
  });
});

function centroid(data: ArrayLike<number>, grid: Grid, label: number): Vec3 {
  const m = lpsFromIjkMatrix(grid);
  const [nx, ny] = grid.size;
  const s = [0, 0, 0];
  let n = 0;
  for (let p = 0; p < data.length; p++) {
    if (data[p] !== label) continue;
    const w = applyAffine(m, [p % nx, Math.floor(p / nx) % ny, Math.floor(p / (nx * ny))]);
    s[0] += w[0];
    s[1] += w[1];
    s[2] += w[2];
    n++;
  }
  return [s[0]! / n, s[1]! / n, s[2]! / n];
}

// The fused, region-restricted preprocessing and back-mapping (model-region.ts) against the
// step-by-step reference they replace (core reorientVolume, per-voxel normalisation, ops
// resampleOnto, undoReorient): bit for bit, on the whole grid and on boxes, on oblique,
// left-handed and permuted grids, linear and cubic, one and two channels.
import {
  type Grid,
  gridsMatch,
  makeGrid,
  makeVolume,
  reorientPlan,
  reorientVolume,
  type Vec3,
  type Volume,
  voxelCount,
} from '@slice2solid/core';
import { cropArray, type IndexBox, resampleOnto } from '@slice2solid/ops';
import { describe, expect, it } from 'vitest';
import { type ModelCard, parseModelCard } from '../src/model-card.js';
import { fullBox, keepLut, labelsOntoSource, probabilitiesOntoSource, reorientedGridOf } from '../src/model-region.js';
import { labelsToSource, probabilitiesToSource, undoReorient } from '../src/postprocess.js';
import { type PreprocessRecord, preprocessForModel, preprocessPlan, preprocessRegion } from '../src/preprocess.js';
import { testCard } from './helpers/cards.js';

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
const R = rotation([1, 2, 3], 20);
const I3: [Vec3, Vec3, Vec3] = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];
const GRIDS: [string, Grid][] = [
  [
    'axial LPS, anisotropic',
    makeGrid({ size: [37, 33, 17], spacing: [0.8, 0.9, 2.5], origin: [3, -7, 11], direction: I3 }),
  ],
  ['oblique', makeGrid({ size: [31, 29, 14], spacing: [0.9, 0.8, 2.4], origin: [-5, 2, 1], direction: R })],
  [
    'left-handed, permuted',
    makeGrid({
      size: [15, 34, 30],
      spacing: [2.2, 0.8, 0.9],
      origin: [1, 2, 3],
      direction: [
        [0, 1, 0],
        [0, 0, -1],
        [1, 0, 0],
      ],
    }),
  ],
  [
    'oblique and left-handed',
    makeGrid({ size: [29, 13, 31], spacing: [0.85, 2.3, 0.95], origin: [0, 0, 0], direction: [R[0], R[2], R[1]] }),
  ],
  [
    'already on the model grid (RAS, 1.5 mm)',
    makeGrid({
      size: [20, 18, 16],
      spacing: [1.5, 1.5, 1.5],
      origin: [4, 5, 6],
      direction: [
        [-1, 0, 0],
        [0, -1, 0],
        [0, 0, 1],
      ],
    }),
  ],
];

/** Deterministic pseudo-random image (CT-like range), `components` interleaved. */
function noiseVolume(grid: Grid, components = 1, seed = 1): Volume {
  let s = seed >>> 0;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const data = new Int16Array(voxelCount(grid) * components);
  for (let p = 0; p < data.length; p++) data[p] = Math.round(-1200 + 2600 * rnd());
  return makeVolume({ grid, data, components, units: 'HU' });
}

function cardWith(input: Record<string, unknown>): ModelCard {
  const base = testCard();
  return parseModelCard(testCard({ input: { ...(base.input as object), ...input } }));
}

/** The preprocessing as it was done before (reorient, normalise every voxel, resample the whole grid). */
function referencePreprocess(volume: Volume, record: PreprocessRecord): Volume {
  const orientation = 'RAS';
  const re = reorientVolume(volume, orientation);
  const nc = volume.components;
  const n = voxelCount(re.grid);
  const norm = new Float32Array(n * nc);
  for (let c = 0; c < nc; c++) {
    const { low, high, offset, scale } = record.normalization[c]!;
    for (let p = 0; p < n; p++) {
      let x = re.data[p * nc + c]!;
      if (x < low) x = low;
      else if (x > high) x = high;
      norm[p * nc + c] = (x - offset) * scale;
    }
  }
  const nv = makeVolume({ grid: re.grid, data: norm, components: nc, units: 'normalized' });
  return gridsMatch(record.modelGrid, re.grid, 1e-6)
    ? { ...nv, grid: record.modelGrid }
    : resampleOnto(nv, record.modelGrid, { interpolation: record.interpolation });
}

function referenceLabelsToSource(labels: Uint8Array, record: PreprocessRecord): Uint8Array {
  const on = gridsMatch(record.modelGrid, record.reorientedGrid, 1e-6)
    ? labels
    : (resampleOnto(makeVolume({ grid: record.modelGrid, data: labels }), record.reorientedGrid, {
        interpolation: 'nearest',
      }).data as Uint8Array);
  return undoReorient(on, record);
}

function referenceProbabilitiesToSource(probs: Uint8Array[], values: number[], record: PreprocessRecord): Uint8Array {
  const n = voxelCount(record.reorientedGrid);
  const best = new Float32Array(n).fill(-1);
  const labels = new Uint8Array(n);
  const same = gridsMatch(record.modelGrid, record.reorientedGrid, 1e-6);
  probs.forEach((p, c) => {
    const on = same
      ? p
      : resampleOnto(makeVolume({ grid: record.modelGrid, data: p }), record.reorientedGrid, {
          interpolation: 'linear',
        }).data;
    for (let q = 0; q < n; q++) {
      if (on[q]! > best[q]!) {
        best[q] = on[q]!;
        labels[q] = values[c]!;
      }
    }
  });
  return undoReorient(labels, record);
}

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/** A few boxes of a grid: inner, touching the low corner, touching the high corner, one voxel thick. */
function boxesOf(size: readonly number[]): IndexBox[] {
  const [x, y, z] = size as Vec3;
  return [
    { start: [2, 3, 1], end: [x - 3, y - 2, z - 1] },
    { start: [0, 0, 0], end: [Math.ceil(x / 2), Math.ceil(y / 3), Math.ceil(z / 2)] },
    { start: [Math.floor(x / 2), Math.floor(y / 2), Math.floor(z / 3)], end: [x, y, z] },
    { start: [Math.floor(x / 3), 1, 2], end: [Math.floor(x / 3) + 1, y - 1, 3] },
  ];
}

/** Labels 0..3 in blobs (so that boxes of labelled voxels are smaller than the grid). */
function blobLabels(grid: Grid): Uint8Array {
  const [nx, ny, nz] = grid.size;
  const out = new Uint8Array(voxelCount(grid));
  let p = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, p++) {
        const a =
          (i - nx * 0.4) ** 2 / (nx * 0.2) ** 2 +
          (j - ny * 0.5) ** 2 / (ny * 0.25) ** 2 +
          (k - nz * 0.6) ** 2 / (nz * 0.2) ** 2;
        out[p] = a < 0.3 ? 3 : a < 1 ? 1 : i > nx * 0.8 && j < ny * 0.3 ? 2 : 0;
      }
  return out;
}

/** Softmax-like uint8 probabilities for 3 channels (background first), varying smoothly. */
function probabilities(grid: Grid): Uint8Array[] {
  const [nx, ny, nz] = grid.size;
  const n = voxelCount(grid);
  const ps = [new Uint8Array(n), new Uint8Array(n), new Uint8Array(n)];
  let p = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, p++) {
        const a = Math.max(0, Math.min(1, 1.2 - Math.hypot(i - nx / 2, j - ny / 2, k - nz / 2) / (nx / 4)));
        const b = Math.max(0, Math.min(1 - a, 0.5 + 0.5 * Math.sin(0.4 * i + 0.3 * k) - a));
        ps[1]![p] = Math.round(a * 255);
        ps[2]![p] = Math.round(b * 255);
        ps[0]![p] = Math.max(0, 255 - ps[1]![p]! - ps[2]![p]!);
      }
  return ps;
}

describe('fused, region-restricted preprocessing (model-region.ts sampleSource)', () => {
  for (const [name, grid] of GRIDS) {
    for (const interpolation of ['linear', 'cubic'] as const) {
      it(`equals reorient + normalise + resampleOnto bit for bit, whole grid and boxes: ${name}, ${interpolation}`, () => {
        const card = cardWith({ interpolation });
        const v = noiseVolume(grid);
        const { input, record } = preprocessForModel(v, card);
        expect(record.reorientedGrid).toEqual(reorientVolume(v, 'RAS').grid);
        const ref = referencePreprocess(v, record);
        expect(input.grid).toEqual(ref.grid);
        expect(bits(input.data as Float32Array)).toEqual(bits(ref.data as Float32Array));
        for (const box of boxesOf(record.modelGrid.size)) {
          const got = preprocessRegion(v, record, { box });
          const want = cropArray(ref.data as Float32Array, record.modelGrid, box);
          expect(got.input.grid).toEqual(want.grid);
          expect(bits(got.input.data as Float32Array)).toEqual(bits(want.data));
          expect(got.sourceVoxelsRead).toBeLessThanOrEqual(voxelCount(grid));
        }
      });
    }
  }

  it('two channels, zscore and percentile normalisation, float input: bit for bit', () => {
    const grid = GRIDS[1]![1];
    const raw = noiseVolume(grid, 2, 7);
    const v = makeVolume({ grid, data: Float32Array.from(raw.data, (x) => x * 0.37), components: 2 });
    const card = cardWith({
      channels: [
        { name: 'T1', modality: 'MR', normalization: { type: 'zscore' } },
        { name: 'T2', modality: 'MR', normalization: { type: 'percentile', lower: 1, upper: 99, map: 'unit' } },
      ],
    });
    const { input, record } = preprocessForModel(v, card);
    const ref = referencePreprocess(v, record);
    expect(bits(input.data as Float32Array)).toEqual(bits(ref.data as Float32Array));
    const box = boxesOf(record.modelGrid.size)[0]!;
    const got = preprocessRegion(v, record, { box });
    expect(bits(got.input.data as Float32Array)).toEqual(
      bits(cropArray(ref.data as Float32Array, record.modelGrid, box, 2).data),
    );
  });

  it('onto another grid of the same direction (a coarse grid) equals resampleOnto of the reoriented, normalised image', () => {
    const grid = GRIDS[3]![1];
    const v = noiseVolume(grid);
    const record = preprocessPlan(v, cardWith({}));
    const coarse = makeGrid({ ...record.modelGrid, size: [8, 5, 9], spacing: [3, 3.5, 3] });
    const got = preprocessRegion(v, record, { grid: coarse, interpolation: 'linear' });
    const re = reorientVolume(v, 'RAS');
    const norm = makeVolume({
      grid: re.grid,
      data: Float32Array.from(re.data, (x) => (Math.min(Math.max(x, -1000), 1000) - 0) * 0.01),
    });
    const want = resampleOnto(norm, coarse, { interpolation: 'linear' });
    expect(bits(got.input.data as Float32Array)).toEqual(bits(want.data as Float32Array));
  });

  it('reorientedGridOf gives the grid reorientVolume gives', () => {
    for (const [, grid] of GRIDS) {
      for (const code of ['RAS', 'LPS', 'SAL', 'IPR']) {
        const v = makeVolume({ grid, data: new Uint8Array(voxelCount(grid)) });
        expect(reorientedGridOf(grid, reorientPlan(grid, code))).toEqual(reorientVolume(v, code).grid);
      }
    }
  });
});

describe('region-restricted back-mapping (labelsOntoSource, probabilitiesOntoSource)', () => {
  for (const [name, grid] of GRIDS) {
    it(`labels and probabilities come back as the whole-grid resampling puts them, also from a box: ${name}`, () => {
      const card = cardWith({});
      const v = noiseVolume(grid);
      const record = preprocessPlan(v, card);
      const labels = blobLabels(record.modelGrid);
      const want = referenceLabelsToSource(labels, record);
      expect(Array.from(labelsToSource(labels, record).data)).toEqual(Array.from(want));

      // only some structures kept: the lut drops the others
      const keep13 = referenceLabelsToSource(
        Uint8Array.from(labels, (x) => (x === 2 ? 0 : x)),
        record,
      );
      const out13 = new Uint8Array(voxelCount(grid));
      const r13 = labelsOntoSource(labels, fullBox(record.modelGrid), record.modelGrid, record, out13, keepLut([1, 3]));
      expect(Array.from(out13)).toEqual(Array.from(keep13));
      expect([1, 2, 3].map((v) => r13.counts![v])).toEqual([1, 2, 3].map((v) => keep13.filter((x) => x === v).length));

      const probs = probabilities(record.modelGrid);
      const wantP = referenceProbabilitiesToSource(probs, [0, 1, 2], record);
      expect(Array.from(probabilitiesToSource(probs, [0, 1, 2], record).data)).toEqual(Array.from(wantP));

      for (const box of boxesOf(record.modelGrid.size)) {
        // a prediction on the box only; the rest of the model grid is background
        const inBox = cropArray(labels, record.modelGrid, box).data;
        const pasted = new Uint8Array(labels.length);
        paste(inBox, pasted, box, record.modelGrid.size);
        const out = new Uint8Array(voxelCount(grid));
        const r = labelsOntoSource(inBox, box, record.modelGrid, record, out);
        expect(Array.from(out)).toEqual(Array.from(referenceLabelsToSource(pasted, record)));
        if (r.sourceBox) expect(r.voxels).toBeLessThanOrEqual(voxelCount(grid));
        // voxels per value, counted on the model grid, are those of the source grid
        for (const v of [1, 2, 3]) expect(r.counts?.[v] ?? 0, `value ${v}`).toBe(out.filter((x) => x === v).length);

        const pBox = probs.map((p) => cropArray(p, record.modelGrid, box).data);
        const pPasted = pBox.map((p, c) => {
          const full = new Uint8Array(labels.length);
          if (c === 0) full.fill(255);
          paste(p, full, box, record.modelGrid.size);
          return full;
        });
        const outP = new Uint8Array(voxelCount(grid));
        probabilitiesOntoSource(pBox, [0, 1, 2], box, record.modelGrid, record, outP);
        expect(Array.from(outP)).toEqual(Array.from(referenceProbabilitiesToSource(pPasted, [0, 1, 2], record)));
      }
    });
  }
});

function paste(src: Uint8Array, dst: Uint8Array, box: IndexBox, size: readonly number[]): void {
  const [nx, ny] = size as Vec3;
  const bx = box.end[0] - box.start[0];
  let o = 0;
  for (let k = box.start[2]; k < box.end[2]; k++)
    for (let j = box.start[1]; j < box.end[1]; j++) {
      dst.set(src.subarray(o, o + bx), (k * ny + j) * nx + box.start[0]);
      o += bx;
    }
}

/**
 * Preprocessing from a model card, as nnU-Net does it, with every step recorded so that
 * postprocess.ts can put the prediction back exactly where it belongs:
 *
 *  1. reorient (lossless permutation/flip of the voxel axes, core `reorientVolume`) so the
 *     index axes point towards the card's orientation code; oblique directions stay oblique
 *     (the model works in voxel space, like nnU-Net);
 *  2. normalise each channel's intensities as the card says (on the source voxels);
 *  3. resample to the card's spacing (ops `resampledGrid`/`resampleOnto`: same physical box
 *     and centre, same direction), linear or cubic.
 *
 * The result is a float32 volume with one component per model input channel on the model grid,
 * plus a JSON-serialisable record of the grids and the normalisation parameters used.
 */
import {
  type Grid,
  gridsMatch,
  makeVolume,
  type RunOptions,
  reorientPlan,
  reorientVolume,
  S2SError,
  throwIfAborted,
  type Vec3,
  type Volume,
  voxelCount,
} from '@slice2solid/core';
import { percentiles, resampledGrid, resampleOnto } from '@slice2solid/ops';
import type { ModelCard, Normalization } from './model-card.js';

export interface PreprocessOptions extends RunOptions {}

export const PREPROCESS_DEFAULTS = {} as const satisfies PreprocessOptions;

/** What preprocessing did: enough to undo the geometry and to report the intensity mapping. */
export interface PreprocessRecord {
  readonly sourceGrid: Grid;
  /** reoriented axis b = source axis perm[b], reversed where flip[b]. */
  readonly reorient: { readonly perm: Vec3; readonly flip: readonly [boolean, boolean, boolean] };
  readonly reorientedGrid: Grid;
  readonly modelGrid: Grid;
  readonly interpolation: 'linear' | 'cubic';
  /** Per input channel: the normalisation applied as value' = (value clipped to [low, high] - offset) * scale. */
  readonly normalization: readonly {
    readonly type: Normalization['type'];
    readonly low: number;
    readonly high: number;
    readonly offset: number;
    readonly scale: number;
  }[];
}

export interface PreprocessResult {
  /** Float32, one component per model input channel, on `record.modelGrid`. */
  readonly input: Volume;
  readonly record: PreprocessRecord;
}

/** Reorients, normalises and resamples `volume` to what the model of `card` expects. */
export function preprocessForModel(volume: Volume, card: ModelCard, options: PreprocessOptions = {}): PreprocessResult {
  const nch = card.input.channels.length;
  if (volume.frames !== 1) {
    throw new S2SError('INVALID_ARGUMENT', `the image has ${volume.frames} frames; the model takes one 3D volume`, {
      hint: 'select one frame first',
    });
  }
  if (volume.components !== nch) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the model "${card.name}" takes ${nch} input channel(s) (${card.input.channels.map((c) => c.name).join(', ')}) but the image has ${volume.components} component(s)`,
      { hint: 'give one co-registered image per channel, stacked as components' },
    );
  }
  throwIfAborted(options.signal);
  const plan = reorientPlan(volume.grid, card.input.orientation);
  const reoriented = reorientVolume(volume, card.input.orientation);
  const n = voxelCount(reoriented.grid);
  const normalized = new Float32Array(n * nch);
  const records: PreprocessRecord['normalization'][number][] = [];
  for (let c = 0; c < nch; c++) {
    throwIfAborted(options.signal);
    const ch = channelOf(reoriented, c);
    const rec = normalizationParameters(ch, card.input.channels[c]!.normalization);
    const { low, high, offset, scale } = rec;
    for (let p = 0; p < n; p++) {
      let x = ch[p]!;
      if (x < low) x = low;
      else if (x > high) x = high;
      normalized[p * nch + c] = (x - offset) * scale;
    }
    records.push(rec);
  }
  const normVolume = makeVolume({ grid: reoriented.grid, data: normalized, components: nch, units: 'normalized' });
  const modelGrid = resampledGrid(reoriented.grid, card.input.spacing, 'spacing');
  const input = gridsMatch(modelGrid, reoriented.grid, 1e-6)
    ? { ...normVolume, grid: modelGrid }
    : resampleOnto(normVolume, modelGrid, { interpolation: card.input.interpolation, ...runOpts(options) });
  return {
    input,
    record: {
      sourceGrid: volume.grid,
      reorient: { perm: plan.perm, flip: plan.flip },
      reorientedGrid: reoriented.grid,
      modelGrid,
      interpolation: card.input.interpolation,
      normalization: records,
    },
  };
}

function runOpts(o: RunOptions): RunOptions {
  return { ...(o.signal ? { signal: o.signal } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) };
}

/** One component of a volume, in its own voxel type. */
function channelOf(v: Volume, c: number): ArrayLike<number> {
  if (v.components === 1) return v.data;
  const n = voxelCount(v.grid);
  const out = new (v.data.constructor as new (n: number) => typeof v.data)(n);
  for (let p = 0; p < n; p++) out[p] = v.data[p * v.components + c]!;
  return out;
}

/** Clip limits and linear map of one channel for a normalisation (statistics from the data where needed). */
export function normalizationParameters(
  data: ArrayLike<number>,
  norm: Normalization,
): { type: Normalization['type']; low: number; high: number; offset: number; scale: number } {
  const constant = (): never => {
    throw new S2SError('INVALID_ARGUMENT', `the image is constant, so its ${norm.type} normalisation is undefined`, {
      hint: 'check that the right image was given',
    });
  };
  switch (norm.type) {
    case 'ct':
      return { type: 'ct', low: norm.clip[0], high: norm.clip[1], offset: norm.mean, scale: 1 / norm.std };
    case 'linear':
      return { type: 'linear', low: -Infinity, high: Infinity, offset: norm.offset, scale: norm.scale };
    case 'none':
      return { type: 'none', low: -Infinity, high: Infinity, offset: 0, scale: 1 };
    case 'zscore': {
      const { mean, sd } = meanSd(data, -Infinity, Infinity, norm.region === 'nonzero');
      if (!(sd > 0)) constant();
      return { type: 'zscore', low: -Infinity, high: Infinity, offset: mean, scale: 1 / sd };
    }
    case 'percentile': {
      const [low, high] = percentiles(data, [norm.lower, norm.upper]) as [number, number];
      if (!(high > low)) constant();
      if (norm.map === 'unit') return { type: 'percentile', low, high, offset: low, scale: 1 / (high - low) };
      const { mean, sd } = meanSd(data, low, high, false);
      if (!(sd > 0)) constant();
      return { type: 'percentile', low, high, offset: mean, scale: 1 / sd };
    }
  }
}

/** Mean and population sd of the clipped values (two passes, float64). */
function meanSd(data: ArrayLike<number>, low: number, high: number, nonzero: boolean): { mean: number; sd: number } {
  let n = 0;
  let sum = 0;
  const clip = (x: number) => Math.min(Math.max(x, low), high);
  for (let p = 0; p < data.length; p++) {
    const x = data[p]!;
    if (nonzero && x === 0) continue;
    if (!Number.isFinite(x)) continue;
    sum += clip(x);
    n++;
  }
  if (n === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'no usable voxels for the z-score (all zero or non-finite)', {
      hint: 'check the image, or use region "all"',
    });
  }
  const mean = sum / n;
  let ss = 0;
  for (let p = 0; p < data.length; p++) {
    const x = data[p]!;
    if ((nonzero && x === 0) || !Number.isFinite(x)) continue;
    const d = clip(x) - mean;
    ss += d * d;
  }
  return { mean, sd: Math.sqrt(ss / n) };
}

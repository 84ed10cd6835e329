/**
 * Preprocessing from a model card, as nnU-Net does it, with every step recorded so that
 * postprocess.ts can put the prediction back exactly where it belongs:
 *
 *  1. reorient (lossless permutation/flip of the voxel axes, as core `reorientVolume`) so the
 *     index axes point towards the card's orientation code; oblique directions stay oblique
 *     (the model works in voxel space, like nnU-Net);
 *  2. normalise each channel's intensities as the card says (on the source voxels);
 *  3. resample to the card's spacing (ops `resampledGrid`/`resampleOnto`: same physical box
 *     and centre, same direction), linear or cubic.
 *
 * The result is a float32 volume with one component per model input channel on the model grid,
 * plus a JSON-serialisable record of the grids and the normalisation parameters used.
 *
 * The three steps are fused (model-region.ts `sampleSource`): no reoriented or normalised copy of
 * the image is made, and only the source voxels the interpolation reaches are read, with the
 * same values, voxel for voxel, as the three steps one after the other. `preprocessPlan` gives the
 * record alone (grids and normalisation, no voxel resampled) and `preprocessRegion` the input on
 * any box of the model grid (or on another grid of the same direction, e.g. a coarser one), which
 * is how look-first preprocesses only where it looks.
 */
import {
  type Grid,
  makeVolume,
  type RunOptions,
  reorientPlan,
  S2SError,
  throwIfAborted,
  type Vec3,
  type Volume,
  voxelCount,
} from '@slice2solid/core';
import { type IndexBox, percentiles, resampledGrid } from '@slice2solid/ops';
import type { ModelCard, Normalization } from './model-card.js';
import { reorientedGridOf, sampleSource } from './model-region.js';

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

/**
 * The preprocessing record of `volume` for `card` without resampling anything: the grids, and the
 * normalisation parameters (which read the image only for the image-dependent kinds, zscore and
 * percentile).
 */
export function preprocessPlan(volume: Volume, card: ModelCard, options: PreprocessOptions = {}): PreprocessRecord {
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
  const reorientedGrid = reorientedGridOf(volume.grid, plan);
  const records: PreprocessRecord['normalization'][number][] = [];
  for (let c = 0; c < nch; c++) {
    throwIfAborted(options.signal);
    const norm = card.input.channels[c]!.normalization;
    // statistics are order-independent: taken on the source voxels (no reoriented copy)
    const needsData = norm.type === 'zscore' || norm.type === 'percentile';
    records.push(normalizationParameters(needsData ? channelOf(volume, c) : [], norm));
  }
  return {
    sourceGrid: volume.grid,
    reorient: { perm: plan.perm, flip: plan.flip },
    reorientedGrid,
    modelGrid: resampledGrid(reorientedGrid, card.input.spacing, 'spacing'),
    interpolation: card.input.interpolation,
    normalization: records,
  };
}

export interface PreprocessRegionResult {
  /** Float32, one component per model input channel, on the box's grid. */
  readonly input: Volume;
  /** Source voxels read per channel (only those the interpolation reaches). */
  readonly sourceVoxelsRead: number;
  /** Largest temporary arrays held at once, bytes (the result included). */
  readonly workingBytes: number;
}

/**
 * The preprocessed input on `box` of the model grid (default: all of it), or on another `grid`
 * with the model grid's direction (e.g. look-first's coarse grid; `interpolation` then defaults
 * to the card's), voxel for voxel what preprocessing the whole image and cropping gives.
 */
export function preprocessRegion(
  volume: Volume,
  record: PreprocessRecord,
  options: PreprocessOptions & {
    readonly box?: IndexBox;
    readonly grid?: Grid;
    readonly interpolation?: 'linear' | 'cubic';
  } = {},
): PreprocessRegionResult {
  const grid = options.grid ?? record.modelGrid;
  const sampled = sampleSource(
    volume,
    record,
    grid,
    options.box,
    options.interpolation ?? record.interpolation,
    record.normalization,
    options,
  );
  return {
    input: makeVolume({ grid: sampled.grid, data: sampled.data, components: volume.components, units: 'normalized' }),
    sourceVoxelsRead: sampled.sourceVoxelsRead,
    workingBytes: sampled.workingBytes,
  };
}

/** Reorients, normalises and resamples `volume` to what the model of `card` expects. */
export function preprocessForModel(volume: Volume, card: ModelCard, options: PreprocessOptions = {}): PreprocessResult {
  const record = preprocessPlan(volume, card, options);
  return { input: preprocessRegion(volume, record, runOpts(options)).input, record };
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

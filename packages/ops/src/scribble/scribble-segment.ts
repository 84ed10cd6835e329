/**
 * Segmentation that learns from a few brush strokes (ilastik pixel classification, ITK-SNAP
 * classification pre-segmentation): the user paints some voxels of each class (1..K, 0 = not
 * painted), a random forest learns the multi-scale features of the painted voxels and labels
 * every voxel of the volume (or of a region) with its most probable class.
 *
 * Iterative use: paint, segment, look, paint more where it is wrong, segment again. Training on a
 * few thousand voxels takes well under a second; `trainScribbleModel` / `applyScribbleModel` split
 * the two steps (e.g. train on one volume and keep the model in a web app via
 * `serializeScribbleModel`).
 *
 * Output labels hold the painted class values; voxels outside `region` are 0. Optional
 * post-processing: keep only the largest connected piece of some classes (removed voxels go to
 * their second most probable class), then any caller-supplied hooks.
 */
import {
  type Grid,
  gridsMatch,
  type RunOptions,
  S2SError,
  type Volume,
  voxelCount,
} from '@slice2solid/core';
import { keepLargest as keepLargestComponent } from '../components/keep-largest.js';
import {
  checkScalarVolume,
  computeFeatures,
  featureNames,
  forEachFeatureSlice,
  type ResolvedFeatureSettings,
  resolveFeatureSettings,
  type ScribbleFeatureSettings,
} from './features.js';
import {
  deserializeRandomForest,
  predictRandomForest,
  type RandomForest,
  type RandomForestOptions,
  type SerializedRandomForest,
  seededRandom,
  serializeRandomForest,
  trainRandomForest,
} from './random-forest.js';

/** Painted voxels: a LabelMap, or anything with one value per voxel (0 = not painted, 1..255 = class). */
export type Scribbles = { readonly data: ArrayLike<number>; readonly grid?: Grid } | ArrayLike<number>;

/** A post-processing step: changes the labels in place. */
export type ScribblePostprocess = (
  labels: Uint8Array,
  grid: Grid,
  info: { readonly classes: readonly number[]; readonly region: ArrayLike<number> | undefined },
) => void;

export interface ScribbleTrainOptions extends RunOptions {
  /** Which features (scales in mm, kinds, coordinates). */
  readonly features?: ScribbleFeatureSettings;
  /** Random forest settings (trees, depth, seed...). */
  readonly forest?: Omit<RandomForestOptions, keyof RunOptions>;
  /** At most this many painted voxels per class are used (a seeded random subset). */
  readonly maxSamplesPerClass?: number;
  /** Upper bound for the feature slab buffers, in bytes. */
  readonly memoryBudgetBytes?: number;
}

export interface ScribbleApplyOptions extends RunOptions {
  /** Only voxels where this mask is non-zero are classified; the others get label 0. */
  readonly region?: ArrayLike<number>;
  /** Class values reduced to their largest connected component (26-connected). */
  readonly keepLargest?: readonly number[];
  /** Extra post-processing steps, run in order after keepLargest. */
  readonly postprocess?: readonly ScribblePostprocess[];
  /** Also return per-class probabilities (uint8, 0..255). */
  readonly probabilities?: boolean;
  readonly memoryBudgetBytes?: number;
}

export interface ScribbleSegmentOptions extends ScribbleTrainOptions, ScribbleApplyOptions {}

export const SCRIBBLE_SEGMENT_DEFAULTS = {
  maxSamplesPerClass: 20000,
  keepLargest: [] as readonly number[],
  probabilities: false,
} as const;

export interface ScribbleModel {
  /** The painted class values, in the order of the forest's class indices. */
  readonly classes: readonly number[];
  readonly features: ResolvedFeatureSettings;
  readonly featureNames: readonly string[];
  readonly forest: RandomForest;
  /** Painted voxels used for training, per class. */
  readonly samples: readonly number[];
}

export interface ScribbleApplyResult {
  /** One class value per voxel (0 outside the region). */
  readonly labels: Uint8Array;
  /**
   * With `probabilities`: plane c (c = 0..classes-1, voxels in volume order) holds
   * round(255 * P(classes[c])) per voxel: probabilities[c * voxels + p].
   */
  readonly probabilities?: Uint8Array;
}

export interface ScribbleSegmentResult extends ScribbleApplyResult {
  readonly model: ScribbleModel;
  /** Milliseconds spent on training features, forest training and prediction. */
  readonly timings: { readonly featuresMs: number; readonly trainMs: number; readonly predictMs: number };
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

function scribbleData(volume: Volume, scribbles: Scribbles): ArrayLike<number> {
  const s = scribbles as { data?: ArrayLike<number>; grid?: Grid };
  const data = s.data !== undefined && typeof (s as ArrayLike<number>).length !== 'number' ? s.data : undefined;
  const arr = data ?? (scribbles as ArrayLike<number>);
  if (data !== undefined && s.grid !== undefined && !gridsMatch(s.grid, volume.grid)) {
    throw new S2SError('GEOMETRY_MISMATCH', 'the scribbles are on a different grid than the image', {
      hint: 'paint (or resample) the scribble label map on the grid of the image',
    });
  }
  const n = voxelCount(volume.grid);
  if (typeof arr?.length !== 'number' || arr.length !== n) {
    throw new S2SError('INVALID_ARGUMENT', `scribbles have ${arr?.length} values but the image has ${n} voxels`, {
      hint: 'paint the scribbles on the grid of the image',
    });
  }
  return arr;
}

/** Trains a model on the painted voxels. Needs at least two painted classes. */
export function trainScribbleModel(volume: Volume, scribbles: Scribbles, options: ScribbleTrainOptions = {}): ScribbleModel {
  return trainTimed(volume, scribbles, options).model;
}

function trainTimed(
  volume: Volume,
  scribbles: Scribbles,
  options: ScribbleTrainOptions,
): { model: ScribbleModel; featuresMs: number; trainMs: number } {
  checkScalarVolume(volume);
  const data = scribbleData(volume, scribbles);
  const settings = resolveFeatureSettings(options.features);
  const maxPer = options.maxSamplesPerClass ?? SCRIBBLE_SEGMENT_DEFAULTS.maxSamplesPerClass;
  if (!Number.isInteger(maxPer) || maxPer < 1) {
    throw new S2SError('INVALID_ARGUMENT', `maxSamplesPerClass must be a whole number >= 1, got ${maxPer}`);
  }
  // count painted voxels per class value
  const counts = new Float64Array(256);
  for (let p = 0; p < data.length; p++) {
    const v = data[p]!;
    if (v === 0) continue;
    if (!(Number.isInteger(v) && v > 0 && v < 256)) {
      throw new S2SError('INVALID_ARGUMENT', `scribble value ${v} is not a class (use 0 for unpainted and 1..255)`, {
        hint: 'paint class values 1, 2, ... (e.g. 1 = structure, 2 = background)',
      });
    }
    counts[v]!++;
  }
  const classes: number[] = [];
  for (let v = 1; v < 256; v++) if (counts[v]! > 0) classes.push(v);
  if (classes.length < 2) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the scribbles hold ${classes.length === 0 ? 'no painted voxels' : `only class ${classes[0]}`}; at least two classes are needed`,
      { hint: 'paint some voxels of the structure and some of the background (two different values)' },
    );
  }
  // seeded subset of at most maxPer voxels per class: pick ranks, then one pass over the data
  const rand = seededRandom((options.forest?.seed ?? 1) ^ 0x5eed);
  const chosen = new Map<number, Set<number>>();
  const samples: number[] = [];
  for (const v of classes) {
    const c = counts[v]!;
    samples.push(Math.min(c, maxPer));
    if (c > maxPer) {
      // Floyd's algorithm: maxPer distinct ranks out of c
      const set = new Set<number>();
      for (let j = c - maxPer; j < c; j++) {
        const t = Math.floor(rand() * (j + 1));
        set.add(set.has(t) ? j : t);
      }
      chosen.set(v, set);
    }
  }
  const total = samples.reduce((a, b) => a + b, 0);
  const voxels = new Int32Array(total);
  const y = new Uint8Array(total);
  const classIndex = new Int16Array(256).fill(-1);
  classes.forEach((v, i) => {
    classIndex[v] = i;
  });
  const rank = new Float64Array(256);
  let q = 0;
  for (let p = 0; p < data.length; p++) {
    const v = data[p]!;
    if (v === 0) continue;
    const set = chosen.get(v);
    const r = rank[v]!++;
    if (set && !set.has(r)) continue;
    voxels[q] = p;
    y[q++] = classIndex[v]!;
  }
  const t0 = now();
  const x = computeFeatures(volume, voxels, {
    ...settings,
    memoryBudgetBytes: options.memoryBudgetBytes,
    signal: options.signal,
    onProgress: options.onProgress,
  });
  const t1 = now();
  const nf = featureNames(settings).length;
  const forest = trainRandomForest(x, y, nf, classes.length, {
    ...options.forest,
    signal: options.signal,
    onProgress: options.onProgress,
  });
  const t2 = now();
  return {
    model: { classes, features: settings, featureNames: featureNames(settings), forest, samples },
    featuresMs: t1 - t0,
    trainMs: t2 - t1,
  };
}

/** Labels every voxel (or every voxel of `region`) with the model's most probable class. */
export function applyScribbleModel(
  volume: Volume,
  model: ScribbleModel,
  options: ScribbleApplyOptions = {},
): ScribbleApplyResult {
  checkScalarVolume(volume);
  const { forest, classes } = model;
  const K = classes.length;
  if (forest.classes !== K || forest.features !== featureNames(model.features).length) {
    throw new S2SError('INVALID_ARGUMENT', 'the scribble model is inconsistent (classes or features do not match its forest)', {
      hint: 'train the model again',
    });
  }
  const n = voxelCount(volume.grid);
  const region = options.region;
  const keep = options.keepLargest ?? SCRIBBLE_SEGMENT_DEFAULTS.keepLargest;
  for (const c of keep) {
    if (!classes.includes(c)) {
      throw new S2SError('INVALID_ARGUMENT', `keepLargest names class ${c}, which the model does not know`, {
        hint: `the model's classes are ${classes.join(', ')}`,
      });
    }
  }
  const labels = new Uint8Array(n);
  const second = keep.length > 0 ? new Uint8Array(n) : undefined;
  const probs = options.probabilities ? new Uint8Array(n * K) : undefined;
  let out = new Float32Array(0);
  forEachFeatureSlice(
    volume,
    {
      ...model.features,
      region,
      memoryBudgetBytes: options.memoryBudgetBytes,
      signal: options.signal,
      onProgress: options.onProgress,
    },
    (_k, lin, feats, cnt) => {
      if (out.length < cnt * K) out = new Float32Array(cnt * K);
      predictRandomForest(forest, feats, cnt, out);
      for (let q = 0; q < cnt; q++) {
        const o = q * K;
        let best = 0;
        let next = -1;
        for (let c = 1; c < K; c++) {
          if (out[o + c]! > out[o + best]!) {
            next = best;
            best = c;
          } else if (next < 0 || out[o + c]! > out[o + next]!) next = c;
        }
        const p = lin[q]!;
        labels[p] = classes[best]!;
        if (second) second[p] = classes[next < 0 ? best : next]!;
        if (probs) for (let c = 0; c < K; c++) probs[c * n + p] = Math.round(255 * out[o + c]!);
      }
    },
  );
  for (const c of keep) {
    const mask = new Uint8Array(n);
    for (let p = 0; p < n; p++) mask[p] = labels[p] === c ? 1 : 0;
    const kept = keepLargestComponent(mask, volume.grid, { signal: options.signal });
    for (let p = 0; p < n; p++) if (mask[p] && !kept[p]) labels[p] = second![p]!;
  }
  for (const hook of options.postprocess ?? []) hook(labels, volume.grid, { classes, region });
  return probs ? { labels, probabilities: probs } : { labels };
}

/** Trains on the scribbles and segments the volume in one call. */
export function scribbleSegment(
  volume: Volume,
  scribbles: Scribbles,
  options: ScribbleSegmentOptions = {},
): ScribbleSegmentResult {
  const trained = trainTimed(volume, scribbles, options);
  const t0 = now();
  const applied = applyScribbleModel(volume, trained.model, options);
  return {
    ...applied,
    model: trained.model,
    timings: { featuresMs: trained.featuresMs, trainMs: trained.trainMs, predictMs: now() - t0 },
  };
}

// ---- model storage -------------------------------------------------------------------------

export interface SerializedScribbleModel {
  readonly format: 'slice2solid-scribble-model';
  readonly version: 1;
  readonly classes: readonly number[];
  readonly features: ResolvedFeatureSettings;
  readonly samples: readonly number[];
  readonly forest: SerializedRandomForest;
}

/** A JSON-safe copy of the model (JSON.stringify it to keep it). */
export function serializeScribbleModel(model: ScribbleModel): SerializedScribbleModel {
  return {
    format: 'slice2solid-scribble-model',
    version: 1,
    classes: [...model.classes],
    features: {
      sigmasMm: [...model.features.sigmasMm],
      kinds: [...model.features.kinds],
      rawIntensity: model.features.rawIntensity,
      coordinates: model.features.coordinates,
      truncate: model.features.truncate,
    },
    samples: [...model.samples],
    forest: serializeRandomForest(model.forest),
  };
}

/** Reads a stored model back, checking that it is complete and consistent. */
export function deserializeScribbleModel(data: unknown): ScribbleModel {
  const bad = (why: string) =>
    new S2SError('MALFORMED_FILE', `scribble model: ${why}`, { hint: 'the saved model is damaged; train it again' });
  const o = data as Partial<Record<keyof SerializedScribbleModel, unknown>> | null;
  if (typeof o !== 'object' || o === null || o.format !== 'slice2solid-scribble-model') {
    throw bad('this is not a slice2solid scribble model');
  }
  if (o.version !== 1) throw bad(`version ${String(o.version)} is not supported (this program reads version 1)`);
  const classes = o.classes;
  if (
    !Array.isArray(classes) ||
    classes.some((c) => !Number.isInteger(c) || c < 1 || c > 255) ||
    new Set(classes).size !== classes.length
  ) {
    throw bad('the class list is not a list of distinct values 1..255');
  }
  let features: ResolvedFeatureSettings;
  try {
    features = resolveFeatureSettings(o.features as ScribbleFeatureSettings);
  } catch (e) {
    throw bad(`bad feature settings (${(e as Error).message})`);
  }
  const forest = deserializeRandomForest(o.forest);
  if (forest.classes !== classes.length) throw bad('the forest and the class list disagree');
  const names = featureNames(features);
  if (forest.features !== names.length) throw bad('the forest and the feature settings disagree');
  const samples = Array.isArray(o.samples) ? (o.samples as number[]) : [];
  return { classes: classes as number[], features, featureNames: names, forest, samples };
}

/**
 * The training plan (`<run>/plan.json`, schema slice2solid-train-plan/1, read by the PyTorch
 * trainer; see docs/training.md): labels and class indices, target spacing, patch size,
 * orientation, normalisation, the cases with their split and data files, and the training
 * settings. Made from the dataset fingerprint as nnU-Net plans are:
 *
 *  - spacing: the median spacing of the cases; for anisotropic data (max/min median spacing > 3)
 *    the coarse axis takes the 10th percentile of the cases' spacings along it instead;
 *  - normalisation: CT -> clip to the foreground 0.5/99.5 percentiles, then z-score with the
 *    foreground mean and standard deviation; anything else (MR...) -> per-image z-score;
 *  - patch size: the median image shape at the target spacing, rounded up to a multiple of
 *    2^(levels-1) (the U-Net's downsampling), then shrunk (largest axis first) until the estimated
 *    training memory fits the budget.
 *
 * `preprocessCase` turns one case into the plan's data: the SAME preprocessing inference applies
 * (preprocessForModel: reorient, normalise, resample linearly), labels reoriented and resampled
 * with nearest neighbour onto the same grid and mapped to class indices, both padded up to the
 * patch size where the image is smaller.
 */
import {
  type LabelMap,
  makeVolume,
  reorientVolume,
  S2SError,
  type Vec3,
  type Volume,
  voxelCount,
} from '@slice2solid/core';
import { resampleOnto } from '@slice2solid/ops';
import { MODEL_CARD_SCHEMA, type ModelCard, type Normalization } from '../model-card.js';
import { preprocessForModel } from '../preprocess.js';
import type { DatasetReport } from './checks.js';
import type { DatasetFingerprint } from './fingerprint.js';

export const TRAIN_PLAN_SCHEMA = 'slice2solid-train-plan/1';

export interface TrainingSettings {
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly weightDecay: number;
  readonly schedule: 'poly' | 'cosine' | 'constant';
  readonly loss: 'dice' | 'dice+ce';
  readonly foregroundOversample: number;
  readonly augment: {
    readonly flip: boolean;
    readonly rotate: boolean;
    readonly scale: boolean;
    readonly elastic: boolean;
    readonly intensity: boolean;
    readonly noise: boolean;
  };
  readonly earlyStopPatience: number;
  readonly seed: number;
  readonly baseChannels: number;
  readonly levels: number;
  /**
   * Normalisation layers. 'instance' (nnU-Net's choice) normalises each patch by its own
   * statistics, so a voxel's prediction depends on where the patch was cut; 'batch' uses the
   * running statistics at inference, so the network is a fixed local filter and sliding-window or
   * look-first crops give the same labels wherever the patches fall.
   */
  readonly norm: 'instance' | 'batch';
  /** A trainer checkpoint (.pt) to start from, or null. */
  readonly init: string | null;
  readonly freeze: 'none' | 'encoder';
  readonly device: 'auto' | 'cpu' | 'cuda';
  readonly maxMinutes: number | null;
}

export const TRAINING_DEFAULTS: TrainingSettings = {
  epochs: 50,
  stepsPerEpoch: 20,
  batchSize: 2,
  lr: 0.001,
  weightDecay: 0.0001,
  schedule: 'poly',
  loss: 'dice+ce',
  foregroundOversample: 0.33,
  augment: { flip: true, rotate: true, scale: true, elastic: false, intensity: true, noise: true },
  earlyStopPatience: 10,
  seed: 1,
  baseChannels: 8,
  levels: 3,
  norm: 'instance',
  init: null,
  freeze: 'none',
  device: 'auto',
  maxMinutes: null,
};

export interface PlanCase {
  readonly id: string;
  readonly patient: string;
  readonly split: 'train' | 'val' | 'test';
  /** Data files, relative to the run folder. */
  readonly image: string;
  readonly labels: string;
  readonly size: readonly [number, number, number];
}

export interface TrainPlan {
  readonly schema: typeof TRAIN_PLAN_SCHEMA;
  /** Class index c > 0 <-> labels[c - 1]. */
  readonly labels: readonly { readonly value: number; readonly name: string; readonly color: Vec3 }[];
  readonly numClasses: number;
  readonly patchSize: readonly [number, number, number];
  readonly spacing: Vec3;
  readonly orientation: string;
  readonly normalization: Normalization;
  readonly cases: readonly PlanCase[];
  readonly training: TrainingSettings;
}

export interface PlanOptions {
  /** Target spacing (mm); default from the fingerprint. */
  readonly spacing?: Vec3;
  /** Patch size (voxels); default from the median shape and the memory budget. */
  readonly patchSize?: readonly [number, number, number];
  /** 'auto' reads the fingerprint: CT normalisation for CT, z-score otherwise. */
  readonly modality?: 'auto' | 'CT' | 'MR';
  /** Estimated training memory the patch may use (bytes). */
  readonly memoryBudgetBytes?: number;
  readonly training?: Partial<TrainingSettings>;
}

export const PLAN_DEFAULTS = {
  modality: 'auto',
  memoryBudgetBytes: 1024 ** 3,
  /** Estimated bytes per voxel per base channel per batch item for a training step (activations + gradients over all levels). */
  bytesPerVoxelChannel: 64,
  /** Patch voxels never exceed this (about 128^3), whatever the budget. */
  maxPatchVoxels: 128 ** 3,
} as const;

/** Multiple that every patch axis must be: 2^(levels - 1). */
export function patchMultiple(levels: number): number {
  return 2 ** (levels - 1);
}

/** Patch size from the median shape (at the target spacing) and a memory budget. */
export function choosePatchSize(
  medianShape: readonly number[],
  levels: number,
  baseChannels: number,
  batchSize: number,
  memoryBudgetBytes: number = PLAN_DEFAULTS.memoryBudgetBytes,
): [number, number, number] {
  const m = patchMultiple(levels);
  const patch = medianShape.map((s) => Math.max(m, Math.ceil(s / m) * m));
  const maxVoxels = Math.min(
    PLAN_DEFAULTS.maxPatchVoxels,
    memoryBudgetBytes / (PLAN_DEFAULTS.bytesPerVoxelChannel * baseChannels * batchSize),
  );
  while (patch[0]! * patch[1]! * patch[2]! > maxVoxels) {
    // shrink the axis that is largest relative to the median shape (ties: the largest axis)
    let a = 0;
    for (let b = 1; b < 3; b++) if (patch[b]! > patch[a]! && patch[b]! > m) a = b;
    if (patch[a]! <= m) break;
    patch[a] = patch[a]! - m;
  }
  return [patch[0]!, patch[1]!, patch[2]!];
}

/** Target spacing: median, with nnU-Net's rule for anisotropic data. */
export function targetSpacing(fp: DatasetFingerprint): Vec3 {
  const med = [...fp.medianSpacing];
  const lo = Math.min(...med);
  const coarse = med.indexOf(Math.max(...med));
  if (med[coarse]! / lo > 3) {
    const along = fp.cases.map((c) => c.spacing[coarse]!).sort((a, b) => a - b);
    const p10 = along[Math.floor(0.1 * (along.length - 1))]!;
    med[coarse] = Math.max(p10, lo);
  }
  return med as unknown as Vec3;
}

/** The normalisation of the plan. */
export function planNormalization(fp: DatasetFingerprint, modality: 'auto' | 'CT' | 'MR'): Normalization {
  const ct = modality === 'CT' || (modality === 'auto' && fp.modality === 'CT');
  if (!ct) return { type: 'zscore', region: 'all' };
  const f = fp.foreground;
  if (!(f.percentile99_5 > f.percentile00_5) || !(f.std > 0)) {
    throw new S2SError('INVALID_ARGUMENT', 'the foreground intensities are constant; CT normalisation is undefined', {
      hint: 'check the images (or use --modality MR for a per-image z-score)',
    });
  }
  return { type: 'ct', clip: [f.percentile00_5, f.percentile99_5], mean: f.mean, std: f.std };
}

/** Plan without data files yet (cases are added by the preprocessing step). */
export function makePlan(fp: DatasetFingerprint, report: DatasetReport, options: PlanOptions = {}): TrainPlan {
  const training: TrainingSettings = { ...TRAINING_DEFAULTS, ...options.training };
  const spacing = options.spacing ?? targetSpacing(fp);
  const m = patchMultiple(training.levels);
  if (options.patchSize?.some((p) => p % m !== 0 || p < m)) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the patch size ${options.patchSize.join(',')} must be multiples of ${m} (2^(levels-1) with ${training.levels} levels)`,
      { hint: `e.g. --patch ${options.patchSize.map((p) => Math.max(m, Math.round(p / m) * m)).join(',')}` },
    );
  }
  const medianShape = [0, 1, 2].map((a) => Math.round((fp.medianSize[a]! * fp.medianSpacing[a]!) / spacing[a]!));
  const patchSize =
    options.patchSize ??
    choosePatchSize(
      medianShape,
      training.levels,
      training.baseChannels,
      training.batchSize,
      options.memoryBudgetBytes ?? PLAN_DEFAULTS.memoryBudgetBytes,
    );
  return {
    schema: TRAIN_PLAN_SCHEMA,
    labels: report.labels.map((l, n) => ({
      value: l.value,
      name: l.name,
      color: l.color ?? defaultColor(n),
    })),
    numClasses: report.labels.length + 1,
    patchSize: [patchSize[0], patchSize[1], patchSize[2]],
    spacing: [spacing[0], spacing[1], spacing[2]],
    orientation: fp.orientation,
    normalization: planNormalization(fp, options.modality ?? PLAN_DEFAULTS.modality),
    cases: [],
    training,
  };
}

const PALETTE: readonly Vec3[] = [
  [241, 214, 145],
  [216, 101, 79],
  [128, 174, 128],
  [111, 184, 210],
  [221, 130, 101],
  [144, 238, 144],
  [192, 104, 88],
  [220, 245, 20],
];
function defaultColor(n: number): Vec3 {
  return PALETTE[n % PALETTE.length]!;
}

/** A provisional model card for the plan's input side (what inference will do with an image). */
export function planInputCard(plan: TrainPlan, modality = 'CT'): ModelCard {
  return {
    schema: MODEL_CARD_SCHEMA,
    name: 'training-plan',
    version: '0',
    description: 'training plan',
    file: 'model.onnx',
    input: {
      channels: [{ name: 'image', modality, normalization: plan.normalization }],
      orientation: plan.orientation,
      spacing: plan.spacing,
      patchSize: plan.patchSize,
      interpolation: 'linear',
    },
    output: {
      activation: 'softmax',
      channels: plan.numClasses,
      labels: [
        { channel: 0, value: 0, name: 'background' },
        ...plan.labels.map((l, n) => ({ channel: n + 1, value: l.value, name: l.name, color: l.color })),
      ],
    },
    inference: { overlap: 0.5, mirrorAxes: [], gaussianSigmaScale: 0.125 },
    license: { spdx: 'NOASSERTION' },
    training: { summary: '', datasets: [] },
    validation: { summary: '', cases: 0, metrics: [] },
    intendedUse: '',
    limitations: '',
  };
}

export interface PreprocessedCase {
  /** Float32 normalised image, i fastest. */
  readonly image: Float32Array;
  /** Class indices 0..numClasses-1. */
  readonly labels: Uint8Array;
  readonly size: [number, number, number];
}

/** Preprocesses one case for training (see the module doc). */
export function preprocessCase(id: string, image: Volume, labels: LabelMap, plan: TrainPlan): PreprocessedCase {
  const { input, record } = preprocessForModel(image, planInputCard(plan));
  const lblVol = reorientVolume(makeVolume({ grid: labels.grid, data: labels.data, units: 'label' }), plan.orientation);
  // the labels share the image's grid (checked within tolerance): use the image's exactly
  const onGrid = resampleOnto({ ...lblVol, grid: record.reorientedGrid }, record.modelGrid, {
    interpolation: 'nearest',
  });
  const lut = new Map<number, number>(plan.labels.map((l, n) => [l.value, n + 1]));
  const n = voxelCount(record.modelGrid);
  const cls = new Uint8Array(n);
  const src = onGrid.data;
  const unknown = new Set<number>();
  for (let p = 0; p < n; p++) {
    const v = src[p]!;
    if (v === 0) continue;
    const c = lut.get(v);
    if (c === undefined) unknown.add(v);
    else cls[p] = c;
  }
  if (unknown.size > 0) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `case "${id}" has label value(s) ${[...unknown].join(', ')} that the plan does not list`,
      {
        hint: 'the plan was made from other cases; plan again',
      },
    );
  }
  const size = record.modelGrid.size as [number, number, number];
  return padTo(input.data as Float32Array, cls, size, plan.patchSize);
}

/** Pads image (with its minimum) and labels (with 0) symmetrically up to the patch size where smaller. */
export function padTo(
  image: Float32Array,
  labels: Uint8Array,
  size: readonly [number, number, number],
  patch: readonly [number, number, number],
): PreprocessedCase {
  const out = [0, 1, 2].map((a) => Math.max(size[a]!, patch[a]!)) as [number, number, number];
  if (out.every((s, a) => s === size[a])) return { image, labels, size: [size[0], size[1], size[2]] };
  let min = Infinity;
  for (let p = 0; p < image.length; p++) if (image[p]! < min) min = image[p]!;
  const off = [0, 1, 2].map((a) => (out[a]! - size[a]!) >> 1);
  const img = new Float32Array(out[0] * out[1] * out[2]).fill(min);
  const lbl = new Uint8Array(img.length);
  for (let k = 0; k < size[2]; k++) {
    for (let j = 0; j < size[1]; j++) {
      const s = (k * size[1] + j) * size[0];
      const d = ((k + off[2]!) * out[1] + j + off[1]!) * out[0] + off[0]!;
      img.set(image.subarray(s, s + size[0]), d);
      lbl.set(labels.subarray(s, s + size[0]), d);
    }
  }
  return { image: img, labels: lbl, size: out };
}

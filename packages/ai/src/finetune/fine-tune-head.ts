/**
 * Head fine-tuning in TypeScript: adapts a segmentation model to new data (another scanner,
 * protocol or intensity range) without a deep-learning framework, in Node or in a browser.
 *
 * The backbone stays frozen: ONNX Runtime (any InferenceBackend session) computes the
 * `features` output, the input of the model's final 1x1x1 convolution, at a seeded sample of
 * voxels of every case (balanced per class for training, uniform for validation, so memory is
 * samples x F floats). Then only the head (W [C, F], b [C], starting from the model's own head)
 * is trained on those features: softmax, soft Dice loss (optionally plus cross-entropy), Adam with
 * decoupled weight decay, shuffled mini-batches, early stopping on the mean foreground Dice of
 * held-out validation cases (split by patient). Deterministic for a seed.
 *
 * Validation Dice here is estimated from the uniformly sampled validation voxels (an unbiased
 * sample of each volume); `evaluateModelDice` measures it on whole volumes.
 */
import { type LabelMap, type RunOptions, S2SError, throwIfAborted, type Volume } from '@slice2solid/core';
import type { InferenceSessionLike } from '../backend.js';
import type { ModelCard } from '../model-card.js';
import { preprocessForModel } from '../preprocess.js';
import { Adam } from './adam.js';
import { checkHead, type HeadWeights } from './head.js';
import { HEAD_LOSS_DEFAULTS, type HeadLossOptions, headLossAndGradient } from './head-loss.js';
import { assertFineTunable, labelClassesOnModelGrid } from './labels-to-model-grid.js';
import { seededUniform, shuffleInPlace } from './random.js';
import { sampleFeatures } from './sample-features.js';

interface FineTuneCaseBase {
  readonly id: string;
  /** Cases of one patient stay on one side of the train/validation split (default: the id). */
  readonly patient?: string;
  /** Forces the case into a side of the split. */
  readonly split?: 'train' | 'validation';
}

/** A labelled case in memory, or one loaded on demand (`load`), so that only one case is held at a time. */
export type FineTuneCase =
  | (FineTuneCaseBase & {
      readonly image: Volume;
      /** Reference labels on the image's grid. */
      readonly labels: LabelMap;
    })
  | (FineTuneCaseBase & { load(): Promise<{ readonly image: Volume; readonly labels: LabelMap }> });

/** The image and labels of a case, loading it when it is lazy. */
export async function caseData(c: FineTuneCase): Promise<{ readonly image: Volume; readonly labels: LabelMap }> {
  return 'load' in c ? c.load() : c;
}

export interface FineTuneEpoch {
  readonly epoch: number;
  /** Mean training loss over the epoch's mini-batches (0: the starting head, no training). */
  readonly trainLoss: number;
  /** Mean foreground Dice on the validation samples (absent without validation cases). */
  readonly valDice?: number;
  readonly valDicePerLabel?: Readonly<Record<string, number>>;
  readonly seconds: number;
}

export interface FineTuneHeadOptions extends RunOptions, HeadLossOptions {
  /** Starting head (normally the model's own, `readHead(model)`); default: zeros. */
  readonly initialHead?: HeadWeights;
  /** Name of the model's features output (the head's input). */
  readonly featuresName?: string;
  /** Fraction of patients held out for validation (0: none, no early stopping). */
  readonly validation?: number;
  /** How sampled features are taken from the sliding-window patches (see sampleFeatures). */
  readonly featureAveraging?: 'gaussian' | 'central';
  /**
   * 'volume': each class-balanced sample counts for the voxels it stands for, so the loss
   * estimates the whole-volume loss (and the head learns the real class frequencies); 'none':
   * every sample counts once (the head learns balanced classes and over-segments rare ones).
   */
  readonly sampleWeighting?: 'volume' | 'none';
  /** Training voxels sampled per class and training case. */
  readonly samplesPerClass?: number;
  /** Validation voxels sampled (uniformly) per validation case. */
  readonly validationSamples?: number;
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly lr?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  /** Decoupled weight decay on W (not on b). */
  readonly weightDecay?: number;
  /** Stop after this many epochs without a better validation Dice (0: never). */
  readonly earlyStopPatience?: number;
  readonly seed?: number;
  /** Called after every epoch (and once for epoch 0, the starting head). */
  readonly onEpoch?: (e: FineTuneEpoch) => void;
}

export const FINE_TUNE_HEAD_DEFAULTS = {
  ...HEAD_LOSS_DEFAULTS,
  featuresName: 'features',
  featureAveraging: 'gaussian',
  sampleWeighting: 'volume',
  validation: 0.2,
  samplesPerClass: 2000,
  validationSamples: 20000,
  epochs: 60,
  batchSize: 512,
  lr: 0.003,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 1e-4,
  earlyStopPatience: 15,
  seed: 1,
} as const satisfies FineTuneHeadOptions;

export interface DiceSummary {
  /** Mean over the foreground labels. */
  readonly mean: number;
  readonly perLabel: Readonly<Record<string, number>>;
}

export interface FineTuneHeadResult {
  /** The best head (by validation Dice; the last one without validation cases). */
  readonly head: HeadWeights;
  readonly initialHead: HeadWeights;
  /** Epoch 0 (starting head) then one entry per trained epoch. */
  readonly history: readonly FineTuneEpoch[];
  readonly bestEpoch: number;
  readonly stoppedEarly: boolean;
  /** Validation Dice (sampled voxels) of the starting head and of the returned head. */
  readonly before?: DiceSummary;
  readonly after?: DiceSummary;
  readonly split: { readonly train: readonly string[]; readonly validation: readonly string[] };
  readonly samples: { readonly train: number; readonly validation: number };
  readonly featureChannels: number;
  readonly patchesRun: number;
  readonly timing: { readonly featureSeconds: number; readonly trainSeconds: number; readonly totalSeconds: number };
}

const now = (): number => performance.now() / 1000;

/** Splits cases into train and validation by patient, seeded; explicit `split` fields win. */
export function splitCasesByPatient(
  cases: readonly Pick<FineTuneCase, 'id' | 'patient' | 'split'>[],
  fraction: number,
  seed: number,
): { train: string[]; validation: string[] } {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new S2SError('INVALID_ARGUMENT', `the validation fraction must be in [0, 1), got ${fraction}`);
  }
  const ids = new Set<string>();
  for (const c of cases) {
    if (ids.has(c.id)) throw new S2SError('INVALID_ARGUMENT', `two cases have the id "${c.id}"`);
    ids.add(c.id);
  }
  const forced = new Map<string, 'train' | 'validation'>();
  for (const c of cases) {
    const pat = c.patient ?? c.id;
    if (!c.split) continue;
    const prev = forced.get(pat);
    if (prev && prev !== c.split) {
      throw new S2SError('INVALID_ARGUMENT', `patient "${pat}" has cases forced into both train and validation`, {
        hint: 'keep all cases of a patient on one side of the split',
      });
    }
    forced.set(pat, c.split);
  }
  const forcedVal = [...forced].filter(([, side]) => side === 'validation').map(([p]) => p);
  const forcedTrain = forced.size - forcedVal.length;
  const free = [...new Set(cases.map((c) => c.patient ?? c.id))].filter((p) => !forced.has(p)).sort();
  shuffleInPlace(free, seededUniform(seed ^ 0x51ed));
  const total = free.length + forced.size;
  let target = Math.round(fraction * total);
  if (fraction > 0 && total >= 2) target = Math.max(target, 1);
  // keep at least one training patient
  const fromFree = Math.max(0, Math.min(target - forcedVal.length, free.length - (forcedTrain > 0 ? 0 : 1)));
  const valPatients = new Set([...free.slice(0, fromFree), ...forcedVal]);
  const train: string[] = [];
  const validation: string[] = [];
  for (const c of cases) (valPatients.has(c.patient ?? c.id) ? validation : train).push(c.id);
  if (train.length === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'no case is left for training', { hint: 'lower the validation fraction' });
  }
  return { train, validation };
}

/** Fine-tunes the head of the model behind `session` (card `card`) on `cases`. */
export async function fineTuneHead(
  cases: readonly FineTuneCase[],
  card: ModelCard,
  session: InferenceSessionLike,
  options: FineTuneHeadOptions = {},
): Promise<FineTuneHeadResult> {
  const o = { ...FINE_TUNE_HEAD_DEFAULTS, ...options };
  const t0 = now();
  if (cases.length === 0) throw new S2SError('INVALID_ARGUMENT', 'fine-tuning needs at least one labelled case');
  for (const [k, v] of [
    ['epochs', o.epochs],
    ['batch size', o.batchSize],
    ['samples per class', o.samplesPerClass],
    ['validation samples', o.validationSamples],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new S2SError('INVALID_ARGUMENT', `${k} must be a positive integer, got ${v}`);
    }
  }
  const C = card.output.channels;
  assertFineTunable(card);
  const split = splitCasesByPatient(cases, o.validation, o.seed);
  const isVal = new Set(split.validation);
  const inputName = card.input.name ?? session.inputNames[0]!;
  const labelNames = new Map(card.output.labels.map((l) => [l.channel, l.name]));
  const bgChannel = card.output.labels.find((l) => l.value === 0)!.channel;
  const fg = Array.from({ length: C }, (_, c) => c).filter((c) => c !== bgChannel);

  // 1. features of the frozen backbone at sampled voxels
  const trainParts: { features: Float32Array; targets: Uint8Array; weights: Float32Array }[] = [];
  const valParts: { features: Float32Array; targets: Uint8Array; weights: Float32Array }[] = [];
  let F = -1;
  let patchesRun = 0;
  for (const [idx, c] of cases.entries()) {
    throwIfAborted(o.signal);
    o.onProgress?.({ stage: 'fine-tuning: features', done: idx, total: cases.length });
    const { image, labels } = await caseData(c);
    const { input, record } = preprocessForModel(image, card, o.signal ? { signal: o.signal } : {});
    const classes = labelClassesOnModelGrid(labels, record, card, o.signal ? { signal: o.signal } : {});
    const val = isVal.has(c.id);
    const s = await sampleFeatures(session, input, classes, C, {
      patchSize: card.input.patchSize,
      overlap: card.inference.overlap,
      gaussianSigmaScale: card.inference.gaussianSigmaScale,
      averaging: o.featureAveraging,
      inputName,
      featuresName: o.featuresName,
      mode: val ? 'uniform' : 'balanced',
      count: val ? o.validationSamples : o.samplesPerClass,
      seed: (o.seed * 7919 + idx * 104729) | 0,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    patchesRun += s.patchesRun;
    if (F < 0) F = s.featureChannels;
    else if (s.featureChannels !== F) {
      throw new S2SError('INVALID_ARGUMENT', `case "${c.id}" gave ${s.featureChannels} feature channels, others ${F}`);
    }
    (val ? valParts : trainParts).push({ features: s.features, targets: s.targets, weights: s.weights });
  }
  o.onProgress?.({ stage: 'fine-tuning: features', done: cases.length, total: cases.length });
  const concat = (parts: typeof trainParts) => {
    const n = parts.reduce((a, p) => a + p.targets.length, 0);
    const features = new Float32Array(n * F);
    const targets = new Uint8Array(n);
    const weights = new Float32Array(n);
    let at = 0;
    for (const p of parts) {
      features.set(p.features, at * F);
      targets.set(p.targets, at);
      weights.set(p.weights, at);
      at += p.targets.length;
    }
    return { n, features, targets, weights };
  };
  const train = concat(trainParts);
  const val = concat(valParts);
  trainParts.length = 0;
  valParts.length = 0;
  const t1 = now();

  // 2. the starting head
  const initialHead: HeadWeights = o.initialHead ?? {
    classes: C,
    features: F,
    weight: new Float32Array(C * F),
    bias: new Float32Array(C),
  };
  checkHead(initialHead);
  if (initialHead.classes !== C || initialHead.features !== F) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the starting head maps ${initialHead.features} features to ${initialHead.classes} classes, but the model gives ${F} features and its card ${C} classes`,
      { hint: 'read the head from the same model the session runs (readHead)' },
    );
  }
  const W = Float64Array.from(initialHead.weight);
  const b = Float64Array.from(initialHead.bias);
  const params = { classes: C, features: F, weight: W, bias: b };
  const samples = {
    features: train.features,
    targets: train.targets,
    ...(o.sampleWeighting === 'volume' ? { weights: train.weights } : {}),
  };
  const gW = new Float64Array(C * F);
  const gB = new Float64Array(C);
  const adam = { lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps };
  const optW = new Adam(C * F, { ...adam, weightDecay: o.weightDecay });
  const optB = new Adam(C, { ...adam, weightDecay: 0 });
  const lossOpts: HeadLossOptions = {
    loss: o.loss,
    ceWeight: o.ceWeight,
    diceSmooth: o.diceSmooth,
    diceIncludeBackground: o.diceIncludeBackground,
  };

  const validate = (): DiceSummary | undefined => {
    if (val.n === 0) return undefined;
    const a = new Float64Array(C);
    const r = new Float64Array(C);
    const both = new Float64Array(C);
    for (let m = 0; m < val.n; m++) {
      let best = 0;
      let bz = -Infinity;
      for (let c = 0; c < C; c++) {
        let z = b[c]!;
        for (let f = 0; f < F; f++) z += W[c * F + f]! * val.features[m * F + f]!;
        if (z > bz) {
          bz = z;
          best = c;
        }
      }
      // each uniform sample stands for (case voxels / samples) voxels: cases of any size weigh right
      const y = val.targets[m]!;
      const w = val.weights[m]!;
      a[best]! += w;
      r[y]! += w;
      if (best === y) both[y]! += w;
    }
    const perLabel: Record<string, number> = {};
    let sum = 0;
    for (const c of fg) {
      const d = a[c]! + r[c]! === 0 ? 1 : (2 * both[c]!) / (a[c]! + r[c]!);
      perLabel[labelNames.get(c) ?? `channel ${c}`] = d;
      sum += d;
    }
    return { mean: fg.length ? sum / fg.length : 1, perLabel };
  };

  // 3. training
  const history: FineTuneEpoch[] = [];
  const before = validate();
  const e0: FineTuneEpoch = {
    epoch: 0,
    trainLoss: 0,
    ...(before ? { valDice: before.mean, valDicePerLabel: before.perLabel } : {}),
    seconds: 0,
  };
  history.push(e0);
  o.onEpoch?.(e0);
  let bestW = W.slice();
  let bestB = b.slice();
  let bestScore = before ? before.mean : -Infinity;
  let bestEpoch = 0;
  let bestSummary = before;
  let sinceBest = 0;
  let stoppedEarly = false;
  const order = Int32Array.from({ length: train.n }, (_, m) => m);
  const rnd = seededUniform(o.seed ^ 0x7a3d);
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    const te = now();
    shuffleInPlace(order, rnd);
    let lossSum = 0;
    let batches = 0;
    for (let s = 0; s < train.n; s += o.batchSize) {
      throwIfAborted(o.signal);
      const idx = order.subarray(s, Math.min(train.n, s + o.batchSize));
      lossSum += headLossAndGradient(params, samples, idx, lossOpts, { weight: gW, bias: gB });
      optW.step(W, gW);
      optB.step(b, gB);
      batches++;
    }
    const trainLoss = lossSum / Math.max(1, batches);
    if (!Number.isFinite(trainLoss)) {
      throw new S2SError('INVALID_ARGUMENT', `fine-tuning diverged at epoch ${epoch} (loss ${trainLoss})`, {
        hint: 'lower the learning rate',
      });
    }
    const v = validate();
    const entry: FineTuneEpoch = {
      epoch,
      trainLoss,
      ...(v ? { valDice: v.mean, valDicePerLabel: v.perLabel } : {}),
      seconds: now() - te,
    };
    history.push(entry);
    o.onEpoch?.(entry);
    o.onProgress?.({ stage: 'fine-tuning: training', done: epoch, total: o.epochs });
    const score = v ? v.mean : epoch; // without validation: the last epoch
    if (score > bestScore) {
      bestScore = score;
      bestEpoch = epoch;
      bestW = W.slice();
      bestB = b.slice();
      bestSummary = v;
      sinceBest = 0;
    } else if (v && o.earlyStopPatience > 0 && ++sinceBest >= o.earlyStopPatience) {
      stoppedEarly = true;
      break;
    }
    // let a browser's event loop breathe between epochs
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
  const t2 = now();
  return {
    head: { classes: C, features: F, weight: Float32Array.from(bestW), bias: Float32Array.from(bestB) },
    initialHead,
    history,
    bestEpoch,
    stoppedEarly,
    ...(before ? { before } : {}),
    ...(bestSummary ? { after: bestSummary } : {}),
    split,
    samples: { train: train.n, validation: val.n },
    featureChannels: F,
    patchesRun,
    timing: { featureSeconds: t1 - t0, trainSeconds: t2 - t1, totalSeconds: t2 - t0 },
  };
}

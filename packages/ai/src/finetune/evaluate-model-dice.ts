/**
 * Dice of a model's segmentation against reference labels on whole volumes: the same path as
 * inference (preprocess, sliding-window inference with the card's settings, back onto the
 * source grid), then per-label Dice on the source grid. Used to measure a model before and
 * after head fine-tuning.
 */
import { progressReporter, type RunOptions, voxelCount } from '@slice2solid/core';
import type { InferenceSessionLike } from '../backend.js';
import { labelValuesOf, type ModelCard } from '../model-card.js';
import { labelsToSource } from '../postprocess.js';
import { preprocessForModel } from '../preprocess.js';
import { slidingWindowInference } from '../sliding-window.js';
import { caseData, type DiceSummary, type FineTuneCase } from './fine-tune-head.js';
import { classLookup } from './labels-to-model-grid.js';

export interface EvaluateModelDiceOptions extends RunOptions {
  /** Patches per model run. */
  readonly batchSize?: number;
}

export const EVALUATE_MODEL_DICE_DEFAULTS = { batchSize: 1 } as const satisfies EvaluateModelDiceOptions;

export interface ModelDiceResult extends DiceSummary {
  readonly perCase: readonly (DiceSummary & { readonly id: string })[];
}

/** Segments every case with `session` and compares with its labels (Dice per foreground label; mean over cases). */
export async function evaluateModelDice(
  cases: readonly FineTuneCase[],
  card: ModelCard,
  session: InferenceSessionLike,
  options: EvaluateModelDiceOptions = {},
): Promise<ModelDiceResult> {
  const C = card.output.channels;
  const values = labelValuesOf(card);
  const channelOfValue = new Map(values.map((v, c) => [v, c]));
  const bg = card.output.labels.find((l) => l.value === 0)?.channel ?? -1;
  const fg = card.output.labels.filter((l) => l.channel !== bg).sort((a, b) => a.channel - b.channel);
  const outputName = card.output.name ?? (session.outputNames.includes('logits') ? 'logits' : session.outputNames[0]);
  const perCase: (DiceSummary & { id: string })[] = [];
  const tick = progressReporter('evaluating Dice', cases.length, options, 1);
  tick(0);
  for (const item of cases) {
    const c = { id: item.id, ...(await caseData(item)) };
    const lut = classLookup(c.labels, card);
    const { input, record } = preprocessForModel(c.image, card, options.signal ? { signal: options.signal } : {});
    const sw = await slidingWindowInference(session, input, {
      patchSize: card.input.patchSize,
      overlap: card.inference.overlap,
      gaussianSigmaScale: card.inference.gaussianSigmaScale,
      mirrorAxes: card.inference.mirrorAxes,
      activation: card.output.activation,
      labelValues: values,
      batchSize: options.batchSize ?? EVALUATE_MODEL_DICE_DEFAULTS.batchSize,
      ...(card.input.name ? { inputName: card.input.name } : {}),
      ...(outputName ? { outputName } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const pred = labelsToSource(sw.labels, record).data;
    const n = voxelCount(c.labels.grid);
    const a = new Float64Array(C);
    const r = new Float64Array(C);
    const both = new Float64Array(C);
    for (let p = 0; p < n; p++) {
      const pc = channelOfValue.get(pred[p]!) ?? bg;
      const rc = lut.get(c.labels.data[p]!) ?? -1;
      if (pc >= 0) a[pc]!++;
      if (rc >= 0) r[rc]!++;
      if (pc === rc && rc >= 0) both[rc]!++;
    }
    const perLabel: Record<string, number> = {};
    let sum = 0;
    for (const l of fg) {
      const d = a[l.channel]! + r[l.channel]! === 0 ? 1 : (2 * both[l.channel]!) / (a[l.channel]! + r[l.channel]!);
      perLabel[l.name] = d;
      sum += d;
    }
    perCase.push({ id: c.id, mean: fg.length ? sum / fg.length : 1, perLabel });
    tick(perCase.length);
  }
  const perLabel: Record<string, number> = {};
  for (const l of fg)
    perLabel[l.name] = perCase.reduce((s, x) => s + x.perLabel[l.name]!, 0) / Math.max(1, perCase.length);
  const mean = perCase.reduce((s, x) => s + x.mean, 0) / Math.max(1, perCase.length);
  return { mean, perLabel, perCase };
}

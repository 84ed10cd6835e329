/// <reference types="node" />
/**
 * Runs a model package on labelled dataset cases (segmentWithModel, onnxruntime-node) and
 * measures it against the reference labels (train/evaluation.ts). Which cases: a split of the
 * card's `training.splits` when the dataset is the one the model was trained on, or all.
 */
import { type RunOptions, S2SError, throwIfAborted } from '@slice2solid/core';
import type { InferenceBackend } from '../../backend.js';
import type { ModelCard } from '../../model-card.js';
import { type SegmentWithModelOptions, segmentWithModel } from '../../segment-with-model.js';
import { checkCaseGeometry } from '../../train/checks.js';
import {
  type CaseMetrics,
  EVALUATION_DEFAULTS,
  type EvaluationResult,
  evaluateCase,
  summarizeEvaluation,
} from '../../train/evaluation.js';
import { onnxRuntimeNodeBackend } from '../onnxruntime-node.js';
import { type DatasetCaseRef, loadDatasetCase } from './dataset.js';

export type EvaluationSplit = 'test' | 'val' | 'train' | 'all';

/** The cases of a split, by the card's training splits; 'all' (or a card without splits) keeps every case. */
export function casesOfSplit(
  refs: readonly DatasetCaseRef[],
  card: ModelCard,
  split: EvaluationSplit,
): { refs: DatasetCaseRef[]; used: 'card' | 'all' } {
  const s = card.training.splits;
  if (split === 'all') return { refs: [...refs], used: 'all' };
  if (!s) {
    throw new S2SError('INVALID_ARGUMENT', `the model card lists no training splits, so there is no "${split}" split`, {
      hint: 'use --split all (every case of the dataset; make sure the model never saw them)',
    });
  }
  const ids = new Set(s[split]);
  const known = new Set([...s.train, ...s.val, ...s.test]);
  const picked = refs.filter((r) => ids.has(r.id));
  const foreign = refs.filter((r) => !known.has(r.id));
  if (picked.length === 0) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      foreign.length === refs.length
        ? `none of the dataset's cases is in the model's training splits: this is not the dataset the model was trained on`
        : `the "${split}" split of the model is empty or its cases are not in this dataset`,
      { hint: 'use --split all to evaluate on every case of a new dataset' },
    );
  }
  return { refs: picked, used: 'card' };
}

export interface EvaluateModelOptions extends RunOptions {
  readonly toleranceMm?: number;
  readonly backend?: InferenceBackend;
  readonly segment?: SegmentWithModelOptions;
  readonly split?: string;
  /** Called after each case. */
  readonly onCase?: (c: CaseMetrics, index: number, total: number) => void;
}

/** Segments every case with the model and compares with its labels. */
export async function evaluateModel(
  model: { card: ModelCard; onnx: Uint8Array },
  refs: readonly DatasetCaseRef[],
  options: EvaluateModelOptions = {},
): Promise<EvaluationResult> {
  const tol = options.toleranceMm ?? EVALUATION_DEFAULTS.toleranceMm;
  const backend = options.backend ?? onnxRuntimeNodeBackend();
  const session = await backend.createSession(model.onnx);
  const cases: CaseMetrics[] = [];
  try {
    for (const [n, ref] of refs.entries()) {
      throwIfAborted(options.signal);
      const c = await loadDatasetCase(ref);
      checkCaseGeometry(c.id, c.image.grid, c.labels.grid);
      const { labels } = await segmentWithModel(c.image, model.card, session, {
        ...options.segment,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const m = evaluateCase(c.id, labels.data, c.labels.data, c.labels.grid, model.card, tol);
      cases.push(m);
      options.onCase?.(m, n, refs.length);
      options.onProgress?.({ stage: 'evaluate', done: n + 1, total: refs.length });
    }
  } finally {
    await session.dispose();
  }
  return summarizeEvaluation(
    { name: model.card.name, version: model.card.version },
    options.split ?? 'all',
    tol,
    cases,
  );
}

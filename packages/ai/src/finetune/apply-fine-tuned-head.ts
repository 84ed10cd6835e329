/**
 * Packages a fine-tuned head: the model's head initializers are rewritten in place (the rest of
 * the ONNX file is byte-identical) and the card says what changed: a version suffix, a training
 * summary naming what was fine-tuned on how many cases, and the fine-tuning validation metrics
 * (or that there were none). The card's sha256 is dropped (the file changed); the model store
 * computes it again when the package is added.
 */
import { S2SError } from '@slice2solid/core';
import { type MetricSummary, MODEL_CARD_SCHEMA, type ModelCard, parseModelCard } from '../model-card.js';
import { replaceInitializers } from '../onnx/replace-initializers.js';
import type { DiceSummary } from './fine-tune-head.js';
import { checkHead, HEAD_NAMES_DEFAULTS, type HeadNames, type HeadWeights } from './head.js';

export interface FineTuneSummary {
  /** Name of the data the head was fine-tuned on (no patient identifiers). */
  readonly dataset: string;
  readonly trainCases: number;
  readonly validationCases: number;
  readonly epochs: number;
  readonly bestEpoch: number;
  /** Training voxels sampled. */
  readonly samples: number;
  /** Loss and optimiser, e.g. 'soft Dice + cross-entropy, AdamW lr 0.01'. */
  readonly method: string;
  /** Validation Dice of the original and of the fine-tuned model on the validation cases. */
  readonly validation?: { readonly before: DiceSummary; readonly after: DiceSummary; readonly how: string };
  /** ISO date (default: today). */
  readonly date?: string;
  readonly headNames?: HeadNames;
}

/** Version with a fine-tuning suffix: 1.0.0 -> 1.0.0+ft1, 1.0.0+ft1 -> 1.0.0+ft2. */
export function fineTunedVersion(version: string): string {
  const m = /^(.*)\+ft(\d+)$/.exec(version);
  return m ? `${m[1]}+ft${Number(m[2]) + 1}` : `${version}+ft1`;
}

/** New model bytes with `head` inside, and the updated card. */
export function applyFineTunedHead(
  model: Uint8Array,
  card: ModelCard,
  head: HeadWeights,
  summary: FineTuneSummary,
): { model: Uint8Array; card: ModelCard } {
  checkHead(head);
  if (head.classes !== card.output.channels) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the head has ${head.classes} classes but the card "${card.name}" ${card.output.channels} output channels`,
    );
  }
  const names = summary.headNames ?? HEAD_NAMES_DEFAULTS;
  const patched = replaceInitializers(model, { [names.weight]: head.weight, [names.bias]: head.bias });
  const date = summary.date ?? new Date().toISOString().slice(0, 10);
  const what =
    `Fine-tuned by slice2solid in TypeScript on ${date}: only the final 1x1x1 convolution ` +
    `(${names.weight} [${head.classes}, ${head.features}], ${names.bias}) was retrained, the backbone frozen, ` +
    `on "${summary.dataset}" (${summary.trainCases} training case(s), ${summary.samples} sampled voxels, ` +
    `${summary.validationCases} validation case(s)) with ${summary.method}; best epoch ${summary.bestEpoch} of ${summary.epochs}.`;
  const v = summary.validation;
  const metrics: MetricSummary[] = v
    ? Object.entries(v.after.perLabel).map(([label, dice]) => ({ label, dice: Math.min(1, Math.max(0, dice)) }))
    : [];
  const fmt = (d: DiceSummary) =>
    `${d.mean.toFixed(3)} (${Object.entries(d.perLabel)
      .map(([k, x]) => `${k} ${x.toFixed(3)}`)
      .join(', ')})`;
  const { sha256: _dropped, ...rest } = card;
  const next = {
    ...rest,
    schema: MODEL_CARD_SCHEMA,
    version: fineTunedVersion(card.version),
    description: `${card.description} Head fine-tuned on ${summary.dataset}.`,
    training: {
      summary: `${card.training.summary} ${what}`,
      datasets: [
        ...card.training.datasets,
        { name: summary.dataset, cases: summary.trainCases + summary.validationCases },
      ],
    },
    validation: v
      ? {
          summary: `Fine-tuning validation on ${summary.validationCases} held-out case(s) of "${summary.dataset}" (${v.how}): mean Dice ${fmt(v.before)} before, ${fmt(v.after)} after. The original card's validation: ${card.validation.summary}`,
          cases: summary.validationCases,
          metrics,
        }
      : {
          summary: `Not validated after fine-tuning (no held-out cases); the original model's validation no longer applies. The original card's validation: ${card.validation.summary}`,
          cases: 0,
          metrics: [],
        },
  };
  return { model: patched, card: parseModelCard(JSON.parse(JSON.stringify(next))) };
}

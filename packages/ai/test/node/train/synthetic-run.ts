// Test helper: writes a trainer run folder (contract 2: plan.json + raw data files) from
// synthetic cases, normalised with a fixed linear map. The real plan writer is the training
// workflow's; this one only follows the same format so the trainer can be tested on its own.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYNTHETIC_SEGMENTS, type SyntheticCaseOptions, syntheticCase } from '../../../src/train/synthetic.js';

/** The normalisation applied to the synthetic images: (HU - 0) * 0.01. */
export const SYNTHETIC_NORMALIZATION = { type: 'linear', offset: 0, scale: 0.01 } as const;

export interface SyntheticRunOptions {
  train?: number;
  val?: number;
  test?: number;
  /** Seed of the first case; case n uses seed + n. */
  seed?: number;
  caseOptions?: SyntheticCaseOptions;
  patchSize?: readonly [number, number, number];
  training?: Record<string, unknown>;
}

export function writeSyntheticRun(dir: string, options: SyntheticRunOptions = {}): Record<string, unknown> {
  const nTrain = options.train ?? 4;
  const nVal = options.val ?? 2;
  const nTest = options.test ?? 0;
  const seed0 = options.seed ?? 100;
  mkdirSync(join(dir, 'data'), { recursive: true });
  const cases: Record<string, unknown>[] = [];
  const splits = [
    ...Array<string>(nTrain).fill('train'),
    ...Array<string>(nVal).fill('val'),
    ...Array<string>(nTest).fill('test'),
  ];
  let spacing: readonly number[] = [1.5, 1.5, 1.5];
  splits.forEach((split, n) => {
    const { image, labels } = syntheticCase(seed0 + n, options.caseOptions);
    spacing = image.grid.spacing;
    const id = `case${String(n + 1).padStart(3, '0')}`;
    const img = new Float32Array(image.data.length);
    for (let v = 0; v < img.length; v++) {
      img[v] = (image.data[v]! - SYNTHETIC_NORMALIZATION.offset) * SYNTHETIC_NORMALIZATION.scale;
    }
    writeFileSync(join(dir, 'data', `${id}_img.f32`), new Uint8Array(img.buffer));
    writeFileSync(join(dir, 'data', `${id}_lbl.u8`), labels.data as Uint8Array);
    cases.push({
      id,
      patient: `p${id}`,
      split,
      image: `data/${id}_img.f32`,
      labels: `data/${id}_lbl.u8`,
      size: [...image.grid.size],
    });
  });
  const plan = {
    schema: 'slice2solid-train-plan/1',
    labels: SYNTHETIC_SEGMENTS.map((s) => ({ value: s.value, name: s.name, color: [...s.color] })),
    numClasses: 3,
    patchSize: [...(options.patchSize ?? [32, 32, 32])],
    spacing: [...spacing],
    orientation: 'RAS',
    normalization: SYNTHETIC_NORMALIZATION,
    cases,
    training: {
      epochs: 4,
      stepsPerEpoch: 10,
      batchSize: 2,
      lr: 0.01,
      weightDecay: 0.0001,
      schedule: 'poly',
      loss: 'dice+ce',
      foregroundOversample: 0.5,
      augment: { flip: true, rotate: false, scale: false, elastic: false, intensity: true, noise: false },
      earlyStopPatience: 10,
      seed: 1,
      baseChannels: 4,
      levels: 3,
      init: null,
      freeze: 'none',
      device: 'cpu',
      maxMinutes: null,
      ...options.training,
    },
  };
  writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan, null, 2));
  return plan;
}

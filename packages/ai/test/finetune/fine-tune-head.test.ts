// Head fine-tuning end to end with a hand-built backbone (smoothing + ramp detectors, see
// helpers/head-model.ts): fit a head on ordinary synthetic cases, shift the intensities so
// that head fails, fine-tune it on a few shifted cases and measure on other shifted cases.
import { makeLabelMap } from '@slice2solid/core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { InferenceSessionLike } from '../../src/backend.js';
import { applyFineTunedHead } from '../../src/finetune/apply-fine-tuned-head.js';
import { evaluateModelDice } from '../../src/finetune/evaluate-model-dice.js';
import { type FineTuneCase, fineTuneHead, splitCasesByPatient } from '../../src/finetune/fine-tune-head.js';
import { readHead } from '../../src/finetune/head.js';
import { parseModelCard } from '../../src/model-card.js';
import { onnxRuntimeNodeBackend } from '../../src/node/onnxruntime-node.js';
import { readFloatInitializer } from '../../src/onnx/read-onnx.js';
import { syntheticCase } from '../../src/train/synthetic.js';
import { headModel, headModelCard, TEST_THRESHOLDS } from '../helpers/head-model.js';

const backend = onnxRuntimeNodeBackend({ intraOpNumThreads: 1 });
const card = parseModelCard(headModelCard());
const SIZE = [32, 32, 32] as const;
const SHIFT = 130; // HU: background lands near the ellipsoids' intensity, ellipsoids near the tubes'
const mk = (seeds: readonly number[], shift: number): FineTuneCase[] =>
  seeds.map((s) => ({ id: `case${s}`, ...syntheticCase(s, { size: SIZE, intensityShift: shift }) }));

let zeroModel: Uint8Array;
let frozenModel: Uint8Array;
let frozen: InferenceSessionLike;
let fitTime = 0;

beforeAll(async () => {
  zeroModel = headModel({ thresholds: TEST_THRESHOLDS, classes: 3 });
  const s0 = await backend.createSession(zeroModel);
  const t = performance.now();
  // the "trained model": a head fitted (from zeros) on ordinary cases
  const fit = await fineTuneHead(mk([1, 2, 3, 4], 0), card, s0, {
    epochs: 60,
    lr: 0.01,
    seed: 1,
    samplesPerClass: 1500,
  });
  fitTime = (performance.now() - t) / 1000;
  await s0.dispose();
  expect(fit.after!.mean).toBeGreaterThan(0.9);
  frozenModel = applyFineTunedHead(zeroModel, card, fit.head, {
    dataset: 'synthetic',
    trainCases: 3,
    validationCases: 1,
    epochs: 60,
    bestEpoch: fit.bestEpoch,
    samples: fit.samples.train,
    method: 'test',
  }).model;
  frozen = await backend.createSession(frozenModel);
});

describe('fineTuneHead', () => {
  it('recovers Dice on shifted-intensity cases that the frozen head fails', async () => {
    const test = mk([301, 302, 303], SHIFT);
    const ordinary = await evaluateModelDice(mk([301, 302, 303], 0), card, frozen);
    const before = await evaluateModelDice(test, card, frozen);
    const t = performance.now();
    const ft = await fineTuneHead(mk([201, 202, 203, 204], SHIFT), card, frozen, {
      initialHead: readHead(frozenModel),
      seed: 3,
    });
    const ftSeconds = (performance.now() - t) / 1000;
    const { model, card: newCard } = applyFineTunedHead(frozenModel, card, ft.head, {
      dataset: 'shifted synthetic',
      trainCases: ft.split.train.length,
      validationCases: ft.split.validation.length,
      epochs: ft.history.length - 1,
      bestEpoch: ft.bestEpoch,
      samples: ft.samples.train,
      method: 'soft Dice + cross-entropy, AdamW',
      validation: { before: ft.before!, after: ft.after!, how: 'sampled voxels' },
    });
    const tuned = await backend.createSession(model);
    const after = await evaluateModelDice(test, card, tuned);
    console.log(
      `hand-built backbone: fit from zeros ${fitTime.toFixed(2)} s; frozen Dice ${ordinary.mean.toFixed(3)} on ordinary cases, ` +
        `${before.mean.toFixed(3)} on +${SHIFT} HU cases; fine-tuned ${after.mean.toFixed(3)} ` +
        `(${JSON.stringify(after.perLabel)}) in ${ftSeconds.toFixed(2)} s ` +
        `(features ${ft.timing.featureSeconds.toFixed(2)} s, training ${ft.timing.trainSeconds.toFixed(2)} s, ` +
        `${ft.history.length - 1} epochs, best ${ft.bestEpoch}, val Dice ${ft.before!.mean.toFixed(3)} -> ${ft.after!.mean.toFixed(3)})`,
    );
    expect(ordinary.mean).toBeGreaterThan(0.9);
    expect(before.mean).toBeLessThan(0.8);
    expect(after.mean).toBeGreaterThan(0.9);
    expect(after.perLabel.ellipsoid).toBeGreaterThan(0.85);
    expect(after.perLabel.tube).toBeGreaterThan(0.85);
    // history: epoch 0 is the starting head, validation Dice improves
    expect(ft.history[0]!.epoch).toBe(0);
    expect(ft.history[0]!.valDice).toBeCloseTo(ft.before!.mean, 12);
    expect(ft.after!.mean).toBeGreaterThan(ft.before!.mean);
    expect(ft.split.validation.length).toBe(1);
    // the card says what happened
    expect(newCard.version).toBe('1.0.0+ft1');
    expect(newCard.training.summary).toMatch(
      /head\.weight \[3, 15\].*backbone frozen.*"shifted synthetic" \(3 training case/,
    );
    expect(newCard.validation.cases).toBe(1);
    expect(newCard.validation.metrics.map((m) => m.label)).toEqual(['ellipsoid', 'tube']);
    expect(newCard.sha256).toBeUndefined();
    // only the head changed
    expect(Array.from(readFloatInitializer(model, 'ramp.bias'))).toEqual(
      Array.from(readFloatInitializer(frozenModel, 'ramp.bias')),
    );
    await tuned.dispose();
  });

  it('is deterministic for a seed and reports each epoch', async () => {
    const cases = mk([11, 12, 13], 60);
    const epochs: number[] = [];
    const opts = {
      initialHead: readHead(frozenModel),
      epochs: 4,
      seed: 9,
      samplesPerClass: 300,
      validationSamples: 3000,
    };
    const a = await fineTuneHead(cases, card, frozen, { ...opts, onEpoch: (e) => epochs.push(e.epoch) });
    const b = await fineTuneHead(cases, card, frozen, opts);
    expect(Array.from(a.head.weight)).toEqual(Array.from(b.head.weight));
    expect(a.history.map((h) => h.trainLoss)).toEqual(b.history.map((h) => h.trainLoss));
    expect(epochs).toEqual([0, 1, 2, 3, 4].slice(0, a.history.length));
    const c = await fineTuneHead(cases, card, frozen, { ...opts, seed: 10 });
    expect(Array.from(c.head.weight)).not.toEqual(Array.from(a.head.weight));
  });

  it('stops early when validation Dice stops improving, and honours abort', async () => {
    const cases = mk([21, 22, 23], 0); // already solved: the starting head is hard to beat
    const r = await fineTuneHead(cases, card, frozen, {
      initialHead: readHead(frozenModel),
      epochs: 200,
      earlyStopPatience: 2,
      lr: 0.05,
      samplesPerClass: 200,
    });
    expect(r.stoppedEarly).toBe(true);
    expect(r.history.length).toBeLessThan(201);
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(fineTuneHead(cases, card, frozen, { signal: ctrl.signal })).rejects.toThrow(/cancelled/);
  });

  it('rejects labels the model does not know, and matches labels by segment name', async () => {
    const c = syntheticCase(5, { size: SIZE });
    const renamed = makeLabelMap({
      grid: c.labels.grid,
      data: c.labels.data.map((v) => (v === 2 ? 7 : v)),
      segments: [c.labels.segments[0]!, { ...c.labels.segments[1]!, value: 7 }],
    });
    const d = await evaluateModelDice([{ id: 'a', image: c.image, labels: renamed }], card, frozen);
    const plain = await evaluateModelDice([{ id: 'a', ...c }], card, frozen);
    expect(d.mean).toBeCloseTo(plain.mean, 12);
    const unnamed = makeLabelMap({ grid: c.labels.grid, data: renamed.data });
    await expect(
      fineTuneHead([{ id: 'a', image: c.image, labels: unnamed }], card, frozen, { validation: 0 }),
    ).rejects.toThrow(/value\(s\) 7 that the model "test-ramp-head" has no output for/);
  });
});

describe('splitCasesByPatient', () => {
  it('keeps patients on one side, honours forced splits, keeps a training case', () => {
    const cases = [
      { id: 'a1', patient: 'A' },
      { id: 'a2', patient: 'A' },
      { id: 'b', patient: 'B' },
      { id: 'c', patient: 'C' },
      { id: 'd', patient: 'D' },
      { id: 'e', patient: 'E', split: 'validation' as const },
    ];
    for (let seed = 1; seed <= 20; seed++) {
      const s = splitCasesByPatient(cases, 0.4, seed);
      expect(s.train.length + s.validation.length).toBe(6);
      expect(s.validation).toContain('e');
      expect(s.train.includes('a1')).toBe(s.train.includes('a2'));
      expect(s.validation.length).toBeGreaterThanOrEqual(2); // round(0.4 * 5 patients) = 2 patients
    }
    expect(splitCasesByPatient([{ id: 'x' }], 0.5, 1)).toEqual({ train: ['x'], validation: [] });
    expect(splitCasesByPatient([{ id: 'x' }, { id: 'y' }], 0.1, 1).validation.length).toBe(1);
    expect(splitCasesByPatient([{ id: 'x' }, { id: 'y' }], 0, 1).validation).toEqual([]);
  });
});

// The check: head fine-tuning in TypeScript improves Dice on a shifted-intensity version
// of the synthetic data from the frozen model's value to above 0.9, with the model trained by
// the PyTorch trainer (packages/ai/test/fixtures/synthetic-unet, made by
// scripts/make-synthetic-fixture.ts) and the card's own sliding-window inference.
//
// Which shift: that model normalises every convolution's output per patch (InstanceNorm), which
// removes a global intensity shift or scale exactly except at zero-padded patch borders, so a
// plain shift barely hurts it (measured: 0.931 mean Dice on these test cases unshifted, 0.937
// with +150 HU). A shift of ONE structure's intensity is not removed: here the ellipsoids move by
// -260 HU (80 -> -180 HU, darker than the -50 HU background: their contrast is inverted) while
// the background and the tubes keep theirs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeVolume } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../../test-utils/shared-data.js';
import { applyFineTunedHead } from '../../src/finetune/apply-fine-tuned-head.js';
import { evaluateModelDice } from '../../src/finetune/evaluate-model-dice.js';
import { type FineTuneCase, fineTuneHead } from '../../src/finetune/fine-tune-head.js';
import { readHead } from '../../src/finetune/head.js';
import { parseModelCard } from '../../src/model-card.js';
import { onnxRuntimeNodeBackend } from '../../src/node/onnxruntime-node.js';
import { syntheticCase } from '../../src/train/synthetic.js';

const FIXTURE = join(REPO_ROOT, 'packages', 'ai', 'test', 'fixtures', 'synthetic-unet');
const ELLIPSOID_SHIFT = -260; // HU, ellipsoids only

/** A synthetic case whose ellipsoids are shifted by `shift` HU. */
function shiftedCase(seed: number, shift: number): FineTuneCase {
  const { image, labels } = syntheticCase(seed);
  const data = Float32Array.from(image.data as Float32Array);
  for (let p = 0; p < data.length; p++) if (labels.data[p] === 1) data[p]! += shift;
  return { id: `s${seed}`, image: makeVolume({ grid: image.grid, data, units: 'HU' }), labels };
}

describe('head fine-tuning of the trained synthetic U-Net (issue check)', () => {
  it('raises Dice on intensity-shifted cases from the frozen value to above 0.9', async () => {
    const onnx = new Uint8Array(readFileSync(join(FIXTURE, 'model.onnx')));
    const card = parseModelCard(readFileSync(join(FIXTURE, 'model.json'), 'utf8'), 'model.json');
    const backend = onnxRuntimeNodeBackend();
    const frozen = await backend.createSession(onnx);
    // held-out test cases: the seeds the fixture's card was validated on (never trained on)
    const test = [5001, 5002, 5003].map((s) => shiftedCase(s, ELLIPSOID_SHIFT));
    const t0 = performance.now();
    const before = await evaluateModelDice(test, card, frozen);
    const evalSeconds = (performance.now() - t0) / 1000;
    // fine-tuning cases: other seeds; 4 train + 1 validation (split by patient)
    const ft = await fineTuneHead(
      [6001, 6002, 6003, 6004, 6005].map((s) => shiftedCase(s, ELLIPSOID_SHIFT)),
      card,
      frozen,
      { initialHead: readHead(onnx), seed: 1 },
    );
    const { model, card: tunedCard } = applyFineTunedHead(onnx, card, ft.head, {
      dataset: 'synthetic, ellipsoids -260 HU',
      trainCases: ft.split.train.length,
      validationCases: ft.split.validation.length,
      epochs: ft.history.length - 1,
      bestEpoch: ft.bestEpoch,
      samples: ft.samples.train,
      method: 'soft Dice + cross-entropy, AdamW',
    });
    const tuned = await backend.createSession(model);
    const after = await evaluateModelDice(test, tunedCard, tuned);
    const r = (x: number) => x.toFixed(3);
    console.log(
      `synthetic-unet, ellipsoids ${ELLIPSOID_SHIFT} HU, test seeds 5001-5003: frozen Dice ${r(before.mean)} ` +
        `(ellipsoid ${r(before.perLabel.ellipsoid!)}, tube ${r(before.perLabel.tube!)}) -> fine-tuned ${r(after.mean)} ` +
        `(ellipsoid ${r(after.perLabel.ellipsoid!)}, tube ${r(after.perLabel.tube!)}); fine-tuning ${ft.timing.totalSeconds.toFixed(1)} s ` +
        `(backbone features ${ft.timing.featureSeconds.toFixed(1)} s over ${ft.patchesRun} patches, head training ${ft.timing.trainSeconds.toFixed(1)} s, ` +
        `${ft.history.length - 1} epochs, best ${ft.bestEpoch}, ${ft.samples.train} samples x ${ft.featureChannels} features); ` +
        `one evaluation of 3 cases ${evalSeconds.toFixed(1)} s`,
    );
    expect(before.mean).toBeLessThan(0.8);
    expect(after.mean).toBeGreaterThan(0.9);
    expect(after.perLabel.ellipsoid).toBeGreaterThan(before.perLabel.ellipsoid! + 0.5);
    await frozen.dispose();
    await tuned.dispose();
  });
});

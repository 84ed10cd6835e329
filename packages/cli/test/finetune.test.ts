/** CLI `finetune`, run in-process on a tiny generated dataset (shifted-intensity synthetic cases). */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyFineTunedHead, fineTuneHead, parseModelCard, readHead, syntheticCase } from '@slice2solid/ai';
import { onnxRuntimeNodeBackend, resolveModel } from '@slice2solid/ai/node';
import { segmentsSidecarName, writeNifti, writeNiftiLabels } from '@slice2solid/io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headModel, headModelCard, TEST_THRESHOLDS } from '../../ai/test/helpers/head-model.js';
import { runCliIn } from './helpers/run-cli.js';

const SIZE = [32, 32, 32] as const;
let work = '';

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 's2s-finetune-cli-'));
  // the model: the ramp backbone with a head fitted on ordinary synthetic cases
  const card = parseModelCard(headModelCard());
  const zero = headModel({ thresholds: TEST_THRESHOLDS, classes: 3 });
  const session = await onnxRuntimeNodeBackend({ intraOpNumThreads: 1 }).createSession(zero);
  const cases = [1, 2, 3].map((s) => ({ id: `c${s}`, ...syntheticCase(s, { size: SIZE }) }));
  const fit = await fineTuneHead(cases, card, session, { epochs: 60, lr: 0.01, validation: 0, samplesPerClass: 1500 });
  await session.dispose();
  const pkg = applyFineTunedHead(zero, card, fit.head, {
    dataset: 'synthetic',
    trainCases: 3,
    validationCases: 0,
    epochs: 60,
    bestEpoch: fit.bestEpoch,
    samples: fit.samples.train,
    method: 'test fit',
  });
  mkdirSync(join(work, 'model'));
  writeFileSync(join(work, 'model', 'model.onnx'), pkg.model);
  writeFileSync(join(work, 'model', 'model.json'), JSON.stringify({ ...pkg.card, version: '1.0.0' }));
  // the dataset: 5 cases from "another scanner" (+130 HU), a CSV with patients
  mkdirSync(join(work, 'data'));
  const rows = ['image,labels,patient'];
  for (const s of [41, 42, 43, 44, 45]) {
    const c = syntheticCase(s, { size: SIZE, intensityShift: 130 });
    writeFileSync(join(work, 'data', `s${s}_image.nii.gz`), writeNifti(c.image, { gzip: true }));
    const lab = writeNiftiLabels(c.labels);
    writeFileSync(join(work, 'data', `s${s}_labels.nii.gz`), lab.image);
    writeFileSync(join(work, 'data', segmentsSidecarName(`s${s}_labels.nii.gz`)), lab.segmentsJson);
    rows.push(`s${s}_image.nii.gz,s${s}_labels.nii.gz,p${s}`);
  }
  writeFileSync(join(work, 'data', 'cases.csv'), `${rows.join('\n')}\n`);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cli = (argv: string[]) => runCliIn(work, argv);

describe('slice2solid finetune', () => {
  it('writes a fine-tuned model package and reports whole-volume validation Dice before and after', async () => {
    const r = await cli(['finetune', 'model', 'data/cases.csv', '--out', 'tuned', '--validation', '0.4', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.cases).toEqual({ train: 3, validation: 2 });
    expect(j.validationDice.before.mean).toBeLessThan(0.8);
    expect(j.validationDice.after.mean).toBeGreaterThan(0.9);
    expect(j.history[0].epoch).toBe(0);
    expect(j.name).toBe('test-ramp-head-ft');
    // the package loads (card valid, sha256 right) and records what was done
    const m = resolveModel(join(work, 'tuned'));
    expect(m.card.name).toBe('test-ramp-head-ft');
    expect(m.card.version).toBe('1.0.0+ft1');
    expect(m.card.training.summary).toMatch(/"user dataset" \(3 training case\(s\), \d+ sampled voxels, 2 validation/);
    expect(m.card.validation.cases).toBe(2);
    expect(m.card.validation.summary).toContain(j.validationDice.after.mean.toFixed(3));
    const tunedHead = readHead(m.onnx);
    const oldHead = readHead(new Uint8Array(readFileSync(join(work, 'model', 'model.onnx'))));
    expect(Array.from(tunedHead.weight)).not.toEqual(Array.from(oldHead.weight));
    // no case names in the output
    expect(r.out).not.toMatch(/s4\d_|p4\d/);
  });

  it('prints a readable summary, refuses a non-empty --out, and needs --out', async () => {
    const r = await cli([
      'finetune',
      'model',
      'data/cases.csv',
      '--out',
      'tuned2',
      '--epochs',
      '3',
      '--samples',
      '300',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/validation Dice before: 0\.\d{3} \(ellipsoid/);
    expect(r.out).toMatch(/validation Dice after: {2}0\.\d{3}/);
    expect(r.err).toMatch(/epoch 1\/3: loss/);
    const again = await cli(['finetune', 'model', 'data/cases.csv', '--out', 'tuned2']);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/not empty/);
    const noOut = await cli(['finetune', 'model', 'data/cases.csv']);
    expect(noOut.code).toBe(2);
    expect(noOut.err).toMatch(/--out/);
  });
});

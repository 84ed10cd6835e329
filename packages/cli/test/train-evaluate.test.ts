// End to end: `slice2solid train` on a tiny synthetic dataset (nnU-Net layout, NIfTI), then
// `slice2solid evaluate --split test` on the model package it wrote. Needs a Python with PyTorch
// (Debian python3-torch, installed by .ci/run): skipped with a message without it, a failure in CI.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeEvent, parseModelCard, readTfRecords, syntheticCase } from '@slice2solid/ai';
import { findPythonTorch } from '@slice2solid/ai/node';
import { writeNifti, writeNiftiLabels } from '@slice2solid/io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliIn } from './helpers/run-cli.js';

const torch = await findPythonTorch();
if (!torch && process.env.CI) throw new Error('CI run without PyTorch (.ci/run installs python3-torch)');
if (!torch)
  console.warn(
    '[slice2solid tests] no Python with PyTorch: skipping train/evaluate CLI test (apt-get install python3-torch)',
  );
const describeTorch = torch ? describe : describe.skip;

const work = mkdtempSync(join(tmpdir(), 's2s-train-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cli = (argv: string[]) => runCliIn(work, argv);

describeTorch('slice2solid train + evaluate', () => {
  const run = join(work, 'run');
  let train: { code: number; out: string; err: string };

  beforeAll(async () => {
    const ds = join(work, 'ds');
    mkdirSync(join(ds, 'imagesTr'), { recursive: true });
    mkdirSync(join(ds, 'labelsTr'), { recursive: true });
    for (let n = 0; n < 6; n++) {
      const { image, labels } = syntheticCase(200 + n, { size: [24, 24, 24] });
      writeFileSync(join(ds, 'imagesTr', `syn${n}_0000.nii.gz`), writeNifti(image));
      const l = writeNiftiLabels(labels);
      writeFileSync(join(ds, 'labelsTr', `syn${n}.nii.gz`), l.image);
      writeFileSync(join(ds, 'labelsTr', `syn${n}.segments.json`), l.segmentsJson);
    }
    process.env.S2S_TRAIN_THREADS = '2';
    train = await cli([
      'train',
      'ds',
      '--out',
      'run',
      '--epochs',
      '3',
      '--steps',
      '6',
      '--channels',
      '4',
      '--lr',
      '0.01',
      '--patch',
      '24,24,24',
      '--seed',
      '5',
      '--license',
      'CC0-1.0',
      '--json',
    ]);
  }, 600_000);

  it('writes the run folder: plan, splits, TensorBoard events, checkpoints, model package', () => {
    expect(train.err).toMatch(/live curves: http:\/\/127\.0\.0\.1:\d+\//);
    expect(train.code, train.err).toBe(0);
    const plan = JSON.parse(readFileSync(join(run, 'plan.json'), 'utf8'));
    expect(plan.schema).toBe('slice2solid-train-plan/1');
    expect(plan.labels.map((l: { name: string }) => l.name)).toEqual(['ellipsoid', 'tube']);
    expect(plan.cases).toHaveLength(6);
    for (const c of plan.cases) {
      const n = c.size[0] * c.size[1] * c.size[2];
      expect(readFileSync(join(run, c.image)).length).toBe(4 * n);
      expect(readFileSync(join(run, c.labels)).length).toBe(n);
    }
    const splits = JSON.parse(readFileSync(join(run, 'splits.json'), 'utf8'));
    expect([splits.train.length, splits.val.length, splits.test.length]).toEqual([4, 1, 1]);
    expect(JSON.parse(readFileSync(join(run, 'fingerprint.json'), 'utf8')).cases).toHaveLength(6);
    const tb = readdirSync(join(run, 'tb'));
    expect(tb).toHaveLength(1);
    const events = readTfRecords(new Uint8Array(readFileSync(join(run, 'tb', tb[0]!)))).map(decodeEvent);
    expect(events[0]!.fileVersion).toBe('brain.Event:2');
    const steps = events.filter((e) => e.values.some((v) => v.tag === 'loss/train')).map((e) => e.step);
    expect(steps).toEqual([1, 2, 3]);
    expect(events.at(-1)!.values.map((v) => v.tag)).toContain('dice/val/ellipsoid');
    expect(existsSync(join(run, 'checkpoints', 'last.pt'))).toBe(true);
    expect(existsSync(join(run, 'checkpoints', 'best.pt'))).toBe(true);
    const card = parseModelCard(readFileSync(join(run, 'model', 'model.json')));
    const onnx = readFileSync(join(run, 'model', card.file));
    expect(card.sha256).toBe(createHash('sha256').update(onnx).digest('hex'));
    expect(card.license.spdx).toBe('CC0-1.0');
    expect(card.training.splits).toEqual({ train: splits.train, val: splits.val, test: splits.test });
    expect(card.validation.cases).toBe(1);
    expect(card.validation.metrics.map((m) => m.label)).toEqual(['ellipsoid', 'tube']);
    const summary = JSON.parse(train.out);
    expect(summary.evaluation.split).toBe('test');
  });

  it('evaluate --split test reproduces the card metrics exactly', async () => {
    const r = await cli([
      'evaluate',
      'run/model',
      'ds',
      '--split',
      'test',
      '--json',
      'eval.json',
      '--html',
      'eval.html',
    ]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/mean\s+ellipsoid/);
    const ev = JSON.parse(readFileSync(join(work, 'eval.json'), 'utf8'));
    const card = parseModelCard(readFileSync(join(run, 'model', 'model.json')));
    expect(ev.cases.map((c: { id: string }) => c.id)).toEqual(card.training.splits!.test);
    for (const m of card.validation.metrics) {
      const s = ev.structures.find((x: { label: string }) => x.label === m.label);
      expect(s.dice).toBe(m.dice);
      expect(s.surfaceDice).toBe(m.surfaceDice);
    }
    const html = readFileSync(join(work, 'eval.html'), 'utf8');
    expect(html).toMatch(/<svg/);
    expect(html).not.toMatch(/<script|(src|href)=["']?https?:/);
    // by default the card's own test split is chosen for the training dataset
    const d = await cli(['evaluate', 'run/model', 'ds']);
    expect(d.err).toMatch(/split test/);
  });
});

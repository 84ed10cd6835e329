// The shipped CT model (models/ct-torso-small): its card is valid and matches its ONNX file, the
// network runs in browsers (no ConvTranspose), and the numbers in its card are the ones
// `slice2solid evaluate` measures on the test case it never saw. The dataset is rebuilt from
// ../shared/data by the same script that built it for training (scripts/make-ct-torso-dataset.ts).
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseModelCard } from '@slice2solid/ai';
import { webGpuUnfriendlyOps } from '@slice2solid/ai/web';
import { afterAll, expect, it } from 'vitest';
import { buildCtTorsoDataset } from '../../../scripts/make-ct-torso-dataset.js';
import { describeData, REPO_ROOT, SHARED_DATA } from '../../../test-utils/shared-data.js';
import { runCliIn } from './helpers/run-cli.js';

const PKG = join(REPO_ROOT, 'models', 'ct-torso-small');
const work = mkdtempSync(join(tmpdir(), 's2s-shipped-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it('the shipped model package is in the repository, valid, and matches its checksum', () => {
  expect(existsSync(join(PKG, 'model.json')), 'models/ct-torso-small/model.json').toBe(true);
  const card = parseModelCard(readFileSync(join(PKG, 'model.json'), 'utf8'));
  const onnx = readFileSync(join(PKG, card.file));
  expect(createHash('sha256').update(onnx).digest('hex')).toBe(card.sha256);
  expect(onnx.length).toBeLessThan(8 * 1024 * 1024);
  expect(webGpuUnfriendlyOps(new Uint8Array(onnx))).toEqual([]);
  expect(card.intendedUse && card.limitations).toBeTruthy();
  const s = card.training.splits!;
  expect(s.test.length).toBeGreaterThan(0);
  for (const id of s.test) expect([...s.train, ...s.val]).not.toContain(id);
});

describeData('the shipped model: card numbers come from evaluate on its unseen test case', () => {
  it('slice2solid evaluate reproduces every metric of the card on the test split', async () => {
    const csv = await buildCtTorsoDataset(SHARED_DATA, join(work, 'dataset'), () => {});
    const { code, out, err } = await runCliIn(work, ['evaluate', PKG, csv, '--json', join(work, 'eval.json')]);
    expect(code, err).toBe(0);
    expect(err).toContain('(split test)');
    const card = parseModelCard(readFileSync(join(PKG, 'model.json'), 'utf8'));
    const result = JSON.parse(readFileSync(join(work, 'eval.json'), 'utf8')) as {
      split: string;
      cases: { id: string }[];
      structures: {
        label: string;
        cases: number;
        dice: number | null;
        hd95: number | null;
        surfaceDice: number | null;
      }[];
    };
    expect(result.cases.map((c) => c.id)).toEqual(card.training.splits!.test);
    expect(card.validation.cases).toBe(result.cases.length);
    const measured = result.structures.filter((x) => x.cases > 0);
    expect(card.validation.metrics.map((m) => m.label)).toEqual(measured.map((x) => x.label));
    for (const m of card.validation.metrics) {
      const x = measured.find((y) => y.label === m.label)!;
      expect(m.dice, m.label).toBeCloseTo(x.dice!, 6);
      expect(m.surfaceDice, m.label).toBeCloseTo(x.surfaceDice!, 6);
      if (x.hd95 === null) expect(m.hd95, m.label).toBeUndefined();
      else expect(m.hd95!, m.label).toBeCloseTo(x.hd95, 4);
    }
    console.log(out.trim());
  });
});

/** CLI `models`, `segment --model / --scribbles` and `convert --model`, run in-process on generated data. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeGrid, makeLabelMap, type Volume } from '@slice2solid/core';
import { readNiftiLabels, segmentsFromJson, writeNifti, writeNiftiLabels } from '@slice2solid/io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ball,
  phantom,
  thresholdCardJson,
  thresholdLabel,
  thresholdOnnx,
} from '../../ai/test/helpers/threshold-model.js';
import { runCli } from '../src/cli.js';

let work = '';
let ct: Volume;
const store = () => join(work, 'store');
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 's2s-models-cli-'));
  // an LPS CT at the model's spacing: a ball (label 1) and a dense block (label 2)
  const grid = makeGrid({ size: [32, 28, 24], spacing: [1.5, 1.5, 1.5], origin: [-20, -15, 10] });
  ct = phantom(
    grid,
    (i, j, k) =>
      ball([10, 12, 12], 5)(i, j, k) ?? (i >= 22 && i < 28 && j >= 4 && j < 10 && k >= 6 && k < 12 ? 900 : undefined),
  );
  writeFileSync(join(work, 'ct.nii.gz'), writeNifti(ct, { gzip: true }));
  const pkg = join(work, 'pkg');
  mkdirSync(pkg);
  writeFileSync(join(pkg, 'model.json'), JSON.stringify(thresholdCardJson()));
  writeFileSync(join(pkg, 'model.onnx'), thresholdOnnx());
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const prev = process.env.SLICE2SOLID_MODELS;
  process.env.SLICE2SOLID_MODELS = store();
  try {
    const code = await runCli(argv, {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s), isTTY: false },
      cwd: work,
    });
    return { code, out, err };
  } finally {
    if (prev === undefined) delete process.env.SLICE2SOLID_MODELS;
    else process.env.SLICE2SOLID_MODELS = prev;
  }
}

function readLabels(name: string) {
  const segmentsJson = readFileSync(join(work, name.replace(/\.nii\.gz$/, '.segments.json')), 'utf8');
  return readNiftiLabels(new Uint8Array(readFileSync(join(work, name))), { segmentsJson });
}

describe('slice2solid models', () => {
  it('adds, lists, describes and removes a model package in the store from $SLICE2SOLID_MODELS', async () => {
    // the user store starts empty: only the built-in models (models/ in the repository) are listed
    const before = JSON.parse((await cli(['models', 'list', '--json'])).out) as { source: string }[];
    expect(before.filter((m) => m.source !== 'builtin')).toEqual([]);
    const add = await cli(['models', 'add', 'pkg']);
    expect(add.code).toBe(0);
    expect(add.out).toMatch(/added tiny-threshold 0\.1\.0/);
    expect(existsSync(join(store(), 'tiny-threshold', 'model.onnx'))).toBe(true);
    const list = await cli(['models', 'list']);
    expect(list.out).toMatch(/^tiny-threshold 0\.1\.0 {2}\(user, 0\.0 MB\) {2}ball, box$/m);
    const json = JSON.parse((await cli(['models', 'list', '--json'])).out) as { source: string }[];
    expect(json.filter((m) => m.source !== 'builtin')).toEqual([
      expect.objectContaining({ name: 'tiny-threshold', source: 'user', labels: ['ball', 'box'] }),
    ]);
    const info = await cli(['models', 'info', 'tiny-threshold']);
    expect(info.code).toBe(0);
    for (const want of [
      /orientation RAS, spacing 1\.5 x 1\.5 x 1\.5 mm, patch 16 x 16 x 16 voxels/,
      /normalisation of CT: CT: clip -1000\.\.1000 HU, then \(x - 0\) \/ 100/,
      /1 {2}ball {2}rgb 200,40,40 {2}SCT 123037004/,
      /ball: Dice 0\.990, HD95 1\.2 mm/,
      /Intended use: Unit tests\./,
      /Limitations: Not a medical device/,
      /sha256 [0-9a-f]{64}/,
    ])
      expect(info.out).toMatch(want);
    const infoJson = JSON.parse((await cli(['models', 'info', 'tiny-threshold', '--json'])).out);
    expect(infoJson.card.input.patchSize).toEqual([16, 16, 16]);
    expect((await cli(['models', 'add', 'pkg'])).err).toMatch(/already has a model called "tiny-threshold"/);
    expect((await cli(['models', 'remove', 'tiny-threshold'])).code).toBe(0);
    expect((await cli(['models', 'info', 'tiny-threshold'])).err).toMatch(/no model called "tiny-threshold"/);
    const bad = await cli(['models', 'frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown models action/);
  });
});

describe('slice2solid segment --model / --scribbles, convert --model', () => {
  it('segment --model writes the model labels with the card segments; --structures filters', async () => {
    const r = await cli(['segment', 'ct.nii.gz', 'ai.nii.gz', '--model', 'pkg']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/model tiny-threshold 0\.1\.0 on cpu: source 32x28x24, model grid 32x28x24/);
    expect(r.out).toMatch(/2 {2}box: 216 voxels, 0\.73 mL/);
    expect(r.err).toMatch(/no sha256/);
    const lm = readLabels('ai.nii.gz');
    expect(Array.from(lm.data)).toEqual(Array.from(ct.data, (x) => thresholdLabel(x)));
    expect(lm.segments.map((s) => [s.value, s.name, s.color.join(',')])).toEqual([
      [1, 'ball', '200,40,40'],
      [2, 'box', '40,40,200'],
    ]);

    const only = await cli([
      'segment',
      'ct.nii.gz',
      'box.nii.gz',
      '--model',
      'pkg',
      '--structures',
      'box',
      '--roi-first',
    ]);
    expect(only.code, only.err).toBe(0);
    expect(only.out).toMatch(/look-first: coarse 16x14x12/);
    const box = readLabels('box.nii.gz');
    expect(Array.from(box.data)).toEqual(Array.from(ct.data, (x) => (thresholdLabel(x) === 2 ? 2 : 0)));
    expect(segmentsFromJson(readFileSync(join(work, 'box.segments.json'), 'utf8')).map((s) => s.name)).toEqual(['box']);

    const unknown = await cli(['segment', 'ct.nii.gz', 'x.nii.gz', '--model', 'pkg', '--structures', 'liver']);
    expect(unknown.code, unknown.err).toBe(2);
    expect(unknown.err).toMatch(/no structure "liver"[\s\S]*its structures are: ball, box/);
    const both = await cli(['segment', 'ct.nii.gz', 'x.nii.gz', '--model', 'pkg', '--preset', 'bone']);
    expect(both.code).toBe(2);
    expect((await cli(['segment', 'ct.nii.gz', 'x.nii.gz', '--structures', 'ball', '--preset', 'bone'])).err).toMatch(
      /--structures needs --model/,
    );
    expect((await cli(['segment', 'ct.nii.gz', 'x.nii.gz', '--model', 'nope-model'])).err).toMatch(
      /no model called "nope-model"/,
    );
  });

  it('segment --scribbles learns from strokes on a few slices and segments the rest', async () => {
    // strokes on 5 of the 24 axial slices: structure (1) inside the ball, background (2) elsewhere
    // on those slices and on the dense block
    const [nx, ny, nz] = ct.grid.size;
    const strokes = new Uint8Array(nx * ny * nz);
    const truth = Uint8Array.from(ct.data, (x) => (thresholdLabel(x) === 1 ? 1 : 0));
    for (const k of [2, 9, 12, 15, 21])
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          const p = (k * ny + j) * nx + i;
          const d = Math.hypot(i - 10, j - 12);
          const inside = Math.sqrt(Math.max(0, 25 - (k - 12) ** 2)); // the ball's radius on this slice
          if (d <= inside - 0.5) strokes[p] = 1;
          else if (d >= inside + 1.5) strokes[p] = 2;
        }
    for (let j = 5; j < 9; j++) for (let i = 23; i < 27; i++) strokes[(8 * ny + j) * nx + i] = 2;
    const lm = makeLabelMap({
      grid: ct.grid,
      data: strokes,
      segments: [
        { value: 1, name: 'ball', color: [10, 200, 10] },
        { value: 2, name: 'background', color: [0, 0, 0] },
      ],
    });
    const out = writeNiftiLabels(lm, { gzip: true });
    writeFileSync(join(work, 'strokes.nii.gz'), out.image);
    writeFileSync(join(work, 'strokes.segments.json'), out.segmentsJson);
    const r = await cli(['segment', 'ct.nii.gz', 'scr.nii.gz', '--scribbles', 'strokes.nii.gz', '--keep-largest']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/scribbles: classes 1, 2 \(background\)/);
    expect(r.out).toMatch(/training \d+\.\d\d s/);
    const got = readLabels('scr.nii.gz');
    let both = 0;
    let a = 0;
    let b = 0;
    for (let p = 0; p < truth.length; p++) {
      a += truth[p]!;
      b += got.data[p] === 1 ? 1 : 0;
      both += truth[p] === 1 && got.data[p] === 1 ? 1 : 0;
    }
    expect((2 * both) / (a + b), `${r.out} ${a} ${b} ${both}`).toBeGreaterThan(0.9);
    expect(got.segments.map((s) => [s.value, s.name])).toEqual([[1, 'ball']]);
    const noBg = await cli([
      'segment',
      'ct.nii.gz',
      'x.nii.gz',
      '--scribbles',
      'strokes.nii.gz',
      '--scribble-background',
      '3',
    ]);
    expect(noBg.code).toBe(2);
    expect(noBg.err).toMatch(/no background \(value 3\)/);
  });

  it('convert --model makes one mesh per structure, named from the card, and records the model step', async () => {
    const r = await cli(['convert', 'ct.nii.gz', 'organs.glb', '--model', 'pkg', '--json', '--smooth', '0']);
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary.metrics.perStructure.map((s: { name: string }) => s.name)).toEqual(['ball', 'box']);
    const run = JSON.parse(readFileSync(join(work, summary.runRecord), 'utf8'));
    const seg = run.steps.find((s: { step: string }) => s.step === 'segment');
    expect(seg.options.model).toBe('tiny-threshold');
    expect(seg.result.structures.map((s: { voxels: number }) => s.voxels)).toEqual([
      Array.from(ct.data).filter((x) => thresholdLabel(x) === 1).length,
      216,
    ]);
  });
});

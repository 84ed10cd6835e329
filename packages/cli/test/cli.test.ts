/**
 * CLI tests: commands are run in-process through runCli with captured stdout/stderr (fast), plus
 * two real child processes (exit codes, no stack traces) through tsx, or the built dist/main.js
 * when it exists.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  applyAffine,
  ijkFromLpsMatrix,
  lpsFromIjkMatrix,
  multiplyAffine,
  type Volume,
  voxelCount,
} from '@slice2solid/core';
import { readNifti, readNrrdSync } from '@slice2solid/io';
import { makeCtHeadPhantom } from '@slice2solid/ops';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPath, describeData } from '../../../test-utils/shared-data.js';
import { runCli } from '../src/cli.js';
import type { GeometryReport } from '../src/report.js';

const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, '../../..');

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(argv: string[], opts: { tty?: boolean } = {}): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s), isTTY: opts.tty ?? false },
    cwd: work,
  });
  return { code, out, err };
}

/** Same world image: every voxel centre of `got` is on a voxel centre of `ref` (0.01 mm) with the same value. */
function expectSameWorldImage(ref: Volume, got: Volume): void {
  expect(voxelCount(got.grid)).toBe(voxelCount(ref.grid));
  const t = multiplyAffine(ijkFromLpsMatrix(ref.grid), lpsFromIjkMatrix(got.grid));
  const [gx, gy, gz] = got.grid.size;
  const [rx, ry] = ref.grid.size;
  const mr = lpsFromIjkMatrix(ref.grid);
  const mg = lpsFromIjkMatrix(got.grid);
  for (let c = 0; c < 8; c++) {
    const ijk = [c & 1 ? gx - 1 : 0, c & 2 ? gy - 1 : 0, c & 4 ? gz - 1 : 0];
    const a = applyAffine(mg, ijk);
    const b = applyAffine(mr, applyAffine(t, ijk).map(Math.round));
    expect(Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])).toBeLessThan(0.01);
  }
  let bad = 0;
  for (let k = 0; k < gz; k++)
    for (let j = 0; j < gy; j++)
      for (let i = 0; i < gx; i++) {
        const r = applyAffine(t, [i, j, k]).map(Math.round) as [number, number, number];
        if (ref.data[(r[2] * ry + r[1]) * rx + r[0]] !== got.data[(k * gy + j) * gx + i]) bad++;
      }
  expect(bad).toBe(0);
}

let work: string;
let demoDicom: string;
let phantom: Volume;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 's2s-cli-'));
  const r = await cli(['demo', 'demo-out']);
  expect(r.code, r.err).toBe(0);
  demoDicom = join(work, 'demo-out', 'dicom');
  phantom = makeCtHeadPhantom();
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('slice2solid demo', () => {
  it('writes the phantom as DICOM, loads it back and checks the round trip', async () => {
    const files = readdirSync(demoDicom);
    expect(files).toHaveLength(phantom.grid.size[2]);
    expect(files.every((n) => /^IM\d{4}\.dcm$/.test(n))).toBe(true);
    const r = await cli(['demo', 'demo-out', '--json']); // again into the same folder: allowed, same files
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.roundTrip.ok).toBe(true);
    expect(j.roundTrip.changedVoxels).toBe(0);
    expect(j.roundTrip.maxVoxelCentreErrorMm).toBeLessThan(1e-3);
    expect(j.report.size).toEqual([...phantom.grid.size]);
    expect(j.report.orientation).toBe('LPS');
  });

  it('refuses to write into a folder holding other files', async () => {
    mkdirSync(join(work, 'busy', 'dicom'), { recursive: true });
    writeFileSync(join(work, 'busy', 'dicom', 'precious.dcm'), 'x');
    const r = await cli(['demo', 'busy']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: .*precious\.dcm/m);
    expect(r.err).toMatch(/^hint: /m);
    expect(readFileSync(join(work, 'busy', 'dicom', 'precious.dcm'), 'utf8')).toBe('x');
  });
});

describe('slice2solid info', () => {
  it('reports the geometry of the demo series (text)', async () => {
    const r = await cli(['info', demoDicom]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Size: +128 x 136 x 112 voxels$/m);
    expect(r.out).toMatch(/^Spacing: +1\.6, 1\.6, 2 mm/m);
    expect(r.out).toMatch(/^Orientation: +LPS \(right-handed\)$/m);
    expect(r.out).toMatch(/^Origin: +\(-101\.6, -108, -111\) mm LPS/m);
    expect(r.out).toMatch(/^Intensity: .* HU \(int16\)$/m);
    expect(r.out).toMatch(/^Warnings: +none$/m);
    expect(r.err).toBe(''); // no progress on a non-terminal without --progress
  });

  it('--json gives the same facts, and no identifiers anywhere', async () => {
    const r = await cli(['info', demoDicom, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as GeometryReport;
    expect(j.size).toEqual([128, 136, 112]);
    expect(j.spacing.map((x) => Math.round(x * 1e6) / 1e6)).toEqual([1.6, 1.6, 2]);
    expect(j.origin.map((x) => Math.round(x * 1e6) / 1e6)).toEqual([-101.6, -108, -111]);
    expect(j.direction).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(j.handedness).toBe('right');
    expect(j.intensity.units).toBe('HU');
    expect(j.series).toHaveLength(1);
    expect(j.series![0]!.chosen).toBe(true);
    expect(j.series![0]!.modality).toBe('CT');
    for (const text of [r.out, (await cli(['info', demoDicom])).out]) {
      expect(text).not.toMatch(/Phantom|PHANTOM|2\.25\.|synthetic CT|demo:/);
    }
  });

  it('--progress writes progress lines to stderr; a terminal gets them by default', async () => {
    const forced = await cli(['info', demoDicom, '--progress']);
    expect(forced.code).toBe(0);
    expect(forced.err).toMatch(/^parse: 100%$/m);
    const tty = await cli(['info', demoDicom], { tty: true });
    expect(tty.err).toMatch(/\r.*100%/);
  });

  it('reads a .zip and a folder with junk the same way (DICOM found by content, not name)', async () => {
    const entries: Record<string, Uint8Array> = {};
    const messy = join(work, 'messy');
    for (const [n, name] of readdirSync(demoDicom).entries()) {
      const bytes = new Uint8Array(readFileSync(join(demoDicom, name)));
      // odd names: no extension, nested folders
      const target = n % 2 ? `a/b/slice${n}` : `c/${n}.img`;
      entries[target] = bytes;
      mkdirSync(dirname(join(messy, target)), { recursive: true });
      writeFileSync(join(messy, target), bytes);
    }
    for (const [name, text] of [
      ['DICOMDIR', 'index'],
      ['README.txt', 'hello'],
      ['.DS_Store', 'junk'],
      ['a/notes.json', '{}'],
    ] as const) {
      entries[name] = new TextEncoder().encode(text);
      writeFileSync(join(messy, name), text);
    }
    writeFileSync(join(work, 'series.zip'), zipSync(entries));
    const fromDir = JSON.parse((await cli(['info', messy, '--json'])).out) as GeometryReport;
    const fromZip = JSON.parse((await cli(['info', 'series.zip', '--json'])).out) as GeometryReport;
    for (const j of [fromDir, fromZip]) {
      expect(j.size).toEqual([128, 136, 112]);
      expect(j.input.files).toBe(112);
      expect(j.input.skipped).toBe(4);
      expect(j.skippedFiles.map((s) => s.reason).join(';')).toMatch(/DICOMDIR/);
    }
    expect(fromZip.input.container).toBe('zip');
    expect(fromDir.origin).toEqual(fromZip.origin);
  });

  it('a single DICOM file is a one-slice series', async () => {
    const r = await cli(['info', join(demoDicom, 'IM0010.dcm'), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as GeometryReport;
    expect(j.size).toEqual([128, 136, 1]);
    expect(j.origin[2]).toBeCloseTo(-111 + 9 * 2, 9);
  });
});

describe('slice2solid volume', () => {
  it('writes .nii.gz and .nrrd that hold the phantom at the same world positions', async () => {
    const a = await cli(['volume', demoDicom, 'out/ct.nii.gz']);
    expect(a.code, a.err).toBe(0);
    expect(a.out).toMatch(/^wrote out\/ct\.nii\.gz: 128x136x112 voxels/);
    expectSameWorldImage(phantom, readNifti(new Uint8Array(readFileSync(join(work, 'out/ct.nii.gz')))));
    const b = await cli(['volume', demoDicom, 'out/ct.nrrd']);
    expect(b.code, b.err).toBe(0);
    expectSameWorldImage(phantom, readNrrdSync(new Uint8Array(readFileSync(join(work, 'out/ct.nrrd')))));
    // and the NIfTI reads back through the CLI with the same geometry as the DICOM
    const fromNii = JSON.parse((await cli(['info', 'out/ct.nii.gz', '--json'])).out) as GeometryReport;
    const fromDcm = JSON.parse((await cli(['info', demoDicom, '--json'])).out) as GeometryReport;
    expect(fromNii.input.kind).toBe('nifti');
    expect(fromNii.size).toEqual(fromDcm.size);
    for (const [n, x] of fromNii.origin.entries()) expect(x).toBeCloseTo(fromDcm.origin[n]!, 4);
    expect([fromNii.intensity.min, fromNii.intensity.max]).toEqual([fromDcm.intensity.min, fromDcm.intensity.max]);
    expect(fromNii.intensity.units).toBe('arbitrary'); // NIfTI stores no units: HU are not claimed
    // MetaImage out, and back in through the CLI
    const c = await cli(['volume', 'out/ct.nii.gz', 'out/ct.mha']);
    expect(c.code, c.err).toBe(0);
    const fromMha = JSON.parse((await cli(['info', 'out/ct.mha', '--json'])).out) as GeometryReport;
    expect(fromMha.input.kind).toBe('metaimage');
    expect(fromMha.size).toEqual(fromDcm.size);
    for (const [n, x] of fromMha.origin.entries()) expect(x).toBeCloseTo(fromDcm.origin[n]!, 4);
    // a zip holding one NIfTI is read as that NIfTI
    writeFileSync(
      join(work, 'one.zip'),
      zipSync({ 'x/ct.nii.gz': new Uint8Array(readFileSync(join(work, 'out/ct.nii.gz'))) }),
    );
    const fromZip = JSON.parse((await cli(['info', 'one.zip', '--json'])).out) as GeometryReport;
    expect(fromZip.size).toEqual(fromDcm.size);
  });
});

describe('errors and exit codes', () => {
  it.each([
    [[], 2, /Usage: slice2solid <command>/],
    [['frobnicate'], 2, /unknown command "frobnicate"/],
    [['info'], 2, /missing argument/],
    [['info', 'a', 'b'], 2, /too many arguments/],
    [['info', 'x', '--bogus'], 2, /bogus/],
    [['volume', 'x', 'out.vtk'], 2, /cannot tell the output format/],
    [['demo', '--seed', 'abc'], 2, /--seed must be an integer/],
    [['info', 'does-not-exist'], 1, /does not exist/],
  ])('%j exits with %i', async (argv, code, pattern) => {
    const r = await cli(argv as string[]);
    expect(r.code).toBe(code);
    expect(r.out + r.err).toMatch(pattern as RegExp);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a folder without images fails with a hint; --debug adds the stack trace', async () => {
    mkdirSync(join(work, 'empty'), { recursive: true });
    writeFileSync(join(work, 'empty', 'notes.txt'), 'nothing');
    writeFileSync(join(work, 'empty', 'data.bin'), new Uint8Array(1000).fill(7));
    const r = await cli(['info', 'empty']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: /m);
    expect(r.err).toMatch(/^hint: /m);
    expect(r.err).not.toMatch(/\n\s+at /);
    const d = await cli(['info', 'empty', '--debug']);
    expect(d.code).toBe(1);
    expect(d.err).toMatch(/\n\s+at /);
  });

  it('--help and --version', async () => {
    const h = await cli(['info', '--help']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/Usage: slice2solid info <input>/);
    const v = await cli(['--version']);
    expect(v.out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('the real executable', () => {
  const dist = join(REPO, 'packages/cli/dist/main.js');
  const useDist = existsSync(dist);
  const cmd = useDist ? [dist] : ['--conditions', 'source', '--import', 'tsx', join(REPO, 'packages/cli/src/main.ts')];
  it(`runs as a process (${useDist ? 'dist/main.js' : 'tsx on src/main.ts'}) with exit codes 0 / 1 / 2`, () => {
    const ok = spawnSync(process.execPath, [...cmd, 'info', demoDicom, '--json'], { encoding: 'utf8', cwd: REPO });
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).size).toEqual([128, 136, 112]);
    const bad = spawnSync(process.execPath, [...cmd, 'info', join(work, 'nope')], { encoding: 'utf8', cwd: REPO });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^error: .*does not exist\nhint: /);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const usage = spawnSync(process.execPath, [...cmd, 'nope'], { encoding: 'utf8', cwd: REPO });
    expect(usage.status).toBe(2);
  });
});

describeData('slice2solid on public scans', () => {
  it('info: gantry-tilted GE CT is regularized by default, kept raw with --raw-geometry', async () => {
    const dir = dataPath('dicom-ct-gantry-tilt-ge');
    const reg = JSON.parse((await cli(['info', dir, '--json'])).out) as GeometryReport;
    expect(reg.geometry).toBe('regularized');
    expect(reg.tiltDegrees).toBeCloseTo(18.5, 1);
    expect(reg.warnings.join('\n')).toMatch(/sheared/);
    // the dataset folder also holds licences, CSV, JSON and reference NIfTIs: all skipped
    expect(reg.input.files).toBe(28);
    const raw = JSON.parse((await cli(['info', dir, '--json', '--raw-geometry'])).out) as GeometryReport;
    expect(raw.geometry).toBe('raw');
    expect(raw.size[2]).toBe(28);
    expect(raw.skew).toBeGreaterThan(0.3);
  });

  it('info: a NIfTI file and the TotalSegmentator JPEG 2000 DICOM series', async () => {
    const nii = JSON.parse(
      (await cli(['info', dataPath('totalsegmentator-ct-mr', 'example_ct.nii.gz'), '--json'])).out,
    ) as GeometryReport;
    expect(nii.input.kind).toBe('nifti');
    expect(nii.size).toEqual([122, 101, 112]);
    const dcm = await cli(['info', dataPath('totalsegmentator-ct-mr', 'example_ct_dicom'), '--json']);
    expect(dcm.code, dcm.err).toBe(0);
    const j = JSON.parse(dcm.out) as GeometryReport;
    expect(j.size).toEqual([512, 512, 20]);
    expect(j.spacing[2]).toBeCloseTo(2, 3); // spacing from positions, not SliceThickness (3 mm)
  });

  it('info: a multi-file NRRD (.nhdr + 93 raw slices), a PNG stack and a multipage TIFF agree', async () => {
    const nhdr = JSON.parse(
      (await cli(['info', dataPath('ct-head-volumes', 'vtk-headsq', 'quarter.nhdr'), '--json'])).out,
    ) as GeometryReport;
    expect(nhdr.input.kind).toBe('nrrd');
    expect(nhdr.size).toEqual([64, 64, 93]);
    expect(nhdr.spacing).toEqual([3.2, 3.2, 1.5]);
    const stackDir = dataPath('image-stacks-png-tiff', 'headsq-derived', 'png16');
    const noSpacing = await cli(['info', stackDir]);
    expect(noSpacing.code).toBe(1);
    expect(noSpacing.err).toMatch(/^hint: .*--spacing/m);
    const png = JSON.parse((await cli(['info', stackDir, '--spacing', '3.2,3.2,1.5', '--json'])).out) as GeometryReport;
    expect(png.input.kind).toBe('image-stack');
    expect(png.input.files).toBe(93);
    expect(png.size).toEqual([64, 64, 93]);
    const tif = JSON.parse(
      (
        await cli([
          'info',
          dataPath('image-stacks-png-tiff', 'headsq-derived', 'headsq_93slices_uint16.tif'),
          '--spacing',
          '3.2,3.2,1.5',
          '--json',
        ])
      ).out,
    ) as GeometryReport;
    expect(tif.size).toEqual([64, 64, 93]);
    expect([tif.intensity.min, tif.intensity.max]).toEqual([png.intensity.min, png.intensity.max]);
    expect([png.intensity.min, png.intensity.max]).toEqual([nhdr.intensity.min, nhdr.intensity.max]);
  });

  it('volume: the GE NIH 4D series is written as one 4D NIfTI', async () => {
    const r = await cli(['volume', dataPath('dicom-mr-ge-siemens-nih', 'dicom', '20180918GE'), 'ge4d.nii']);
    expect(r.code, r.err).toBe(0);
    const v = readNifti(new Uint8Array(readFileSync(join(work, 'ge4d.nii'))));
    expect([...v.grid.size, v.frames]).toEqual([64, 64, 15, 10]);
  });
});

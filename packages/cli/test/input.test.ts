/**
 * The CLI's fast I/O paths give the same bytes as the plain ones: concurrent folder reading
 * (readFolderAsync) vs readFolder, .nii.gz through Node's zlib vs the universal writer, and the
 * anonymize command's chunked, pipelined writes vs anonymizeDicom's joined bytes.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { makeGrid, makeVolume } from '@slice2solid/core';
import { anonymizeDicom, writeCtSeries } from '@slice2solid/dicom';
import { readNifti, writeVolume } from '@slice2solid/io';
import { afterAll, describe, expect, it } from 'vitest';
import { runAnonymize } from '../src/commands/anonymize.js';
import type { CommandContext } from '../src/commands/types.js';
import { encodeVolumeFile } from '../src/commands/volume.js';
import { readFolder, readFolderAsync } from '../src/input.js';

const root = mkdtempSync(join(tmpdir(), 's2s-input-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const volume = makeVolume({
  grid: makeGrid({ size: [9, 7, 5], spacing: [0.7, 0.8, 1.2], origin: [-4, 2, 30] }),
  data: Int16Array.from({ length: 9 * 7 * 5 }, (_, n) => ((n * 37) % 2000) - 1000),
  units: 'HU',
});
const series = writeCtSeries(volume);

function ctx(cwd: string): CommandContext {
  return { stdout: { write: () => true }, stderr: { write: () => true }, cwd, debug: false, run: {} };
}

describe('readFolderAsync', () => {
  it('reads the same files, bytes and skips as readFolder, in the same order', async () => {
    const dir = join(root, 'folder');
    mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
    mkdirSync(join(dir, '.hidden'), { recursive: true });
    for (const [n, f] of series.entries()) writeFileSync(join(dir, n % 2 ? 'sub' : 'sub/deeper', f.name), f.bytes);
    writeFileSync(join(dir, 'README.txt'), 'not an image');
    writeFileSync(join(dir, 'empty.dcm'), new Uint8Array(0));
    writeFileSync(join(dir, '.hidden', 'x.dcm'), series[0]!.bytes);
    const a = readFolder(dir);
    for (const concurrency of [1, 3, 64]) {
      const b = await readFolderAsync(dir, { concurrency });
      expect(b.skipped).toEqual(a.skipped);
      expect(b.files.map((f) => f.name)).toEqual(a.files.map((f) => f.name));
      for (const [n, f] of b.files.entries()) expect(f.bytes).toEqual(a.files[n]!.bytes);
    }
    expect(a.files.length).toBe(series.length + 1);
  });
});

describe('volume .nii.gz through native zlib', () => {
  it('gunzips to exactly the .nii the universal writer makes, and reads back the same volume', async () => {
    const gz = await encodeVolumeFile(volume, 'ct.nii.gz');
    expect(gz[0]).toBe(0x1f);
    expect(gz[1]).toBe(0x8b);
    expect(new Uint8Array(gunzipSync(gz))).toEqual(writeVolume(volume, 'ct.nii'));
    const back = readNifti(gz);
    expect(Array.from(back.data)).toEqual(Array.from(volume.data));
    expect(await encodeVolumeFile(volume, 'ct.nii')).toEqual(writeVolume(volume, 'ct.nii'));
  });
});

describe('anonymize: chunked, pipelined writes', () => {
  it('every output file is byte for byte anonymizeDicom(input).bytes (more files than recycled buffers)', async () => {
    const series = writeCtSeries(
      makeVolume({
        grid: makeGrid({ size: [40, 30, 23], spacing: [0.7, 0.8, 1.2], origin: [-4, 2, 30] }),
        data: Int16Array.from({ length: 40 * 30 * 23 }, (_, n) => ((n * 37) % 2000) - 1000),
        units: 'HU',
      }),
    );
    const dir = join(root, 'anon-in');
    mkdirSync(dir, { recursive: true });
    for (const f of series) writeFileSync(join(dir, f.name), f.bytes);
    const key = 'input-test-key-0123456789abcdef';
    writeFileSync(join(root, 'key'), key);
    const summary = await runAnonymize(ctx(root), {
      positionals: ['anon-in', 'anon-out'],
      values: { 'key-file': 'key' },
    });
    expect(summary.files.written).toBe(series.length);
    const out = readdirSync(join(root, 'anon-out')).filter((n) => n.endsWith('.dcm'));
    expect(out.length).toBe(series.length);
    for (const f of series) {
      const r = anonymizeDicom(f.bytes, { key });
      expect(new Uint8Array(readFileSync(join(root, 'anon-out', `${r.sopInstanceUID}.dcm`)))).toEqual(r.bytes);
    }
    // no temporary files left behind
    expect(readdirSync(join(root, 'anon-out')).some((n) => n.includes('.partial-'))).toBe(false);
  });
});

import { readdirSync } from 'node:fs';
import { makeGrid, makeVolume, S2SError } from '@slice2solid/core';
import { encode as encodePng } from 'fast-png';
import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { dataPath, describeData } from '../../../test-utils/shared-data.js';
import {
  companionFileNames,
  detectFormat,
  readVolume,
  writeMetaImage,
  writeNifti,
  writeNrrd,
  writeNrrdDetached,
  writeVolume,
  writeVolumeFiles,
} from '../src/index.js';
import { expectSameVolume, mulberry32, randomGrid, randomVolume, readBytes } from './helpers.js';

async function expectReject(p: Promise<unknown>, code: string): Promise<S2SError> {
  try {
    await p;
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(S2SError);
    expect((e as S2SError).code).toBe(code);
    return e as S2SError;
  }
  throw new Error(`expected an S2SError ${code}`);
}

const rand = mulberry32(2024);
const vol = randomVolume(rand, 'int16', randomGrid(rand, 'oblique', [4, 3, 2]));

describe('detectFormat decides by content, not by name', () => {
  const png = encodePng({ width: 1, height: 1, data: new Uint8Array(1), depth: 8, channels: 1 });
  const dicom = new Uint8Array(200);
  dicom.set(new TextEncoder().encode('DICM'), 128);
  it.each([
    ['misnamed.png', writeNifti(vol), 'nifti'],
    ['x.nii.gz', writeNifti(vol, { gzip: true }), 'nifti'],
    ['x.gz', writeNifti(vol, { version: 2, gzip: true }), 'nifti'],
    ['x.nii', writeNrrd(vol), 'nrrd'],
    ['x.dat', writeMetaImage(vol), 'metaimage'],
    ['x.nii', png, 'png'],
    ['x', dicom, 'dicom'],
    ['x.nii', new Uint8Array(10), 'unknown'],
    ['x.nii', new Uint8Array(0), 'unknown'],
  ] as const)('%s -> %s', (name, bytes, want) => {
    expect(detectFormat(name, bytes.subarray(0, 1024))).toBe(want);
  });
});

describe('readVolume / writeVolume', () => {
  it.each(['a.nii', 'a.nii.gz', 'a.nrrd', 'a.mha'])('writeVolume(%s) -> readVolume round trip', async (name) => {
    const bytes = writeVolume(vol, name);
    expectSameVolume(vol, await readVolume([{ name, bytes }]), name.startsWith('a.nii') ? 1e-4 : 1e-9);
  });

  it.each(['a.nhdr', 'a.mhd'])(
    'writeVolumeFiles(%s) gives header + data that readVolume finds by name',
    async (name) => {
      const files = writeVolumeFiles(vol, `out/dir/${name}`);
      expect(files).toHaveLength(2);
      expect(files[0]!.name).toBe(name);
      expect(companionFileNames(files[0]!.name, files[0]!.bytes)).toEqual([files[1]!.name]);
      // data first, header second, under a folder: lookup is by the name the header gives
      const given = [...files].reverse().map((f) => ({ name: `some/folder/${f.name}`, bytes: f.bytes }));
      expectSameVolume(vol, await readVolume(given), 1e-9);
      expect(() => writeVolume(vol, name)).toThrow(S2SError);
    },
  );

  it('a detached NRRD whose data file is missing names it', async () => {
    const { header } = writeNrrdDetached(vol, 'gone.raw.gz');
    const e = await expectReject(readVolume([{ name: 'v.nhdr', bytes: header }]), 'IO_ERROR');
    expect(e.message).toContain('gone.raw.gz');
  });

  it('refuses DICOM (other loader), unknown files, two volumes at once, unknown extensions', async () => {
    const dicom = new Uint8Array(200);
    dicom.set(new TextEncoder().encode('DICM'), 128);
    const e = await expectReject(readVolume([{ name: 'a.dcm', bytes: dicom }]), 'UNSUPPORTED_FORMAT');
    expect(e.hint).toMatch(/DICOM loader/);
    await expectReject(readVolume([{ name: 'a.bin', bytes: new Uint8Array(100) }]), 'UNSUPPORTED_FORMAT');
    await expectReject(
      readVolume([
        { name: 'a.nii', bytes: writeNifti(vol) },
        { name: 'b.nii', bytes: writeNifti(vol) },
      ]),
      'INVALID_ARGUMENT',
    );
    await expectReject(readVolume([]), 'INVALID_ARGUMENT');
    expect(() => writeVolume(vol, 'a.stl')).toThrow(/cannot tell/);
  });

  it('reads a NIfTI .hdr/.img pair given together', async () => {
    const nii = writeNifti(vol);
    const hdr = nii.slice(0, 352);
    hdr.set(new TextEncoder().encode('ni1\0'), 344);
    new DataView(hdr.buffer).setFloat32(108, 0, true);
    const img = nii.slice(352);
    expectSameVolume(
      vol,
      await readVolume([
        { name: 'p/v.img', bytes: img },
        { name: 'p/v.hdr', bytes: hdr },
      ]),
      1e-4,
    );
    await expectReject(readVolume([{ name: 'v.hdr', bytes: hdr }]), 'IO_ERROR');
  });

  it('PNG stacks go through readImageStack with the options', async () => {
    const png = (v: number) =>
      encodePng({ width: 2, height: 2, data: new Uint8Array(4).fill(v), depth: 8, channels: 1 });
    const files = [
      { name: 'b_10.png', bytes: png(10) },
      { name: 'b_9.png', bytes: png(9) },
    ];
    await expectReject(readVolume(files), 'MISSING_GEOMETRY');
    const v = await readVolume(files, { spacing: [1, 1, 2] });
    expect(v.grid.size).toEqual([2, 2, 2]);
    expect(v.data[0]).toBe(9);
  });

  it('gzip-compressed NRRD/MHA bodies are detected too (whole-file gzip of a NIfTI is NIfTI)', () => {
    expect(detectFormat('x', gzipSync(writeNifti(vol)))).toBe('nifti');
  });

  it('writeVolume keeps RGB volumes where the format can hold them', async () => {
    const rgb = makeVolume({
      grid: makeGrid({ size: [2, 1, 1] }),
      data: Uint8Array.from([1, 2, 3, 4, 5, 6]),
      components: 3,
    });
    for (const name of ['c.nii', 'c.nrrd', 'c.mha'])
      expectSameVolume(rgb, await readVolume([{ name, bytes: writeVolume(rgb, name) }]), 1e-6);
  });
});

describeData('readVolume on real files', () => {
  it('headsq quarter.nhdr with its 93 slice files, given in any order', async () => {
    const dir = dataPath('ct-head-volumes', 'vtk-headsq');
    const files = readdirSync(dir)
      .filter((n) => n.startsWith('quarter.'))
      .map((n) => ({ name: `vtk-headsq/${n}`, bytes: readBytes(`${dir}/${n}`) }));
    const v = await readVolume(files);
    expect(v.grid.size).toEqual([64, 64, 93]);
  });
  it('TotalSegmentator example_ct.nii.gz', async () => {
    const bytes = readBytes(dataPath('totalsegmentator-ct-mr', 'example_ct.nii.gz'));
    expect(detectFormat('example_ct.nii.gz', bytes.subarray(0, 1024))).toBe('nifti');
    const v = await readVolume([{ name: 'example_ct.nii.gz', bytes }]);
    expect(v.grid.size).toEqual([122, 101, 112]);
  });
  it('a real DICOM file is recognised as DICOM', () => {
    const dir = dataPath('dicom-ct-transfer-syntaxes');
    const first = readdirSync(dir, { recursive: true, withFileTypes: true }).find(
      (d) => d.isFile() && d.name.endsWith('.dcm'),
    );
    expect(first).toBeDefined();
    const bytes = readBytes(`${first!.parentPath}/${first!.name}`);
    expect(detectFormat(first!.name, bytes.subarray(0, 1024))).toBe('dicom');
  });
});

describe('native gzip path (gunzipAsync) agrees with the JavaScript inflater', () => {
  it('same bytes, multi-member too; truncated data still gives TRUNCATED_FILE through readVolume', async () => {
    const { gunzipAsync } = await import('../src/index.js');
    const raw = writeNifti(vol);
    const a = gzipSync(raw.subarray(0, 100));
    const b = gzipSync(raw.subarray(100));
    const multi = new Uint8Array(a.length + b.length);
    multi.set(a);
    multi.set(b, a.length);
    expect(Array.from(await gunzipAsync(multi))).toEqual(Array.from(raw));
    const big = writeNifti(randomVolume(rand, 'float32', randomGrid(rand, 'axis', [30, 30, 30])), { gzip: true });
    await expectReject(readVolume([{ name: 't.nii.gz', bytes: big.subarray(0, big.length >> 1) }]), 'TRUNCATED_FILE');
    const nrrd = writeNrrd(randomVolume(rand, 'float32', randomGrid(rand, 'axis', [30, 30, 30])));
    await expectReject(readVolume([{ name: 't.nrrd', bytes: nrrd.subarray(0, nrrd.length - 1000) }]), 'TRUNCATED_FILE');
  });
});

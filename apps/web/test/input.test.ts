import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDicomSeries } from '@slice2solid/dicom';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { dataPath, describeData } from '../../../test-utils/shared-data.js';
import { expandInputs, loadFiles, skipReason } from '../src/app/input.js';

const files = (dir: string) =>
  readdirSync(dir)
    .sort()
    .map((name) => ({ name: `scan/${name}`, bytes: new Uint8Array(readFileSync(join(dir, name))) }));

describe('input routing (no data)', () => {
  it('skips hidden files, hidden folders, DICOMDIR and obvious non-images by name', () => {
    expect(skipReason('a/.DS_Store')).toBe('hidden file');
    expect(skipReason('.git/objects/x')).toBe('hidden folder');
    expect(skipReason('study/DICOMDIR')).toMatch(/DICOMDIR/);
    expect(skipReason('notes/readme.txt')).toMatch(/not an image/);
    expect(skipReason('IM0001')).toBeUndefined();
    expect(skipReason('ct.nii.gz')).toBeUndefined();
  });

  it('opens zips and names their entries', () => {
    const zip = zipSync({
      'a/IM1': Uint8Array.of(1),
      'a/readme.txt': Uint8Array.of(2),
      '__MACOSX/a/._IM1': Uint8Array.of(3),
    });
    const r = expandInputs([{ name: 'study.zip', bytes: zip }]);
    expect(r.zip).toBe(true);
    expect(r.files.map((f) => f.name)).toEqual(['a/IM1']);
    expect(r.skipped.map((s) => s.name).sort()).toEqual(['__MACOSX/a/._IM1', 'a/readme.txt']);
  });

  it('a file that is no image gives a clear error', async () => {
    await expect(loadFiles([{ name: 'x.bin', bytes: Uint8Array.of(1, 2, 3, 4, 5) }])).rejects.toThrow(/DICOM/);
    await expect(loadFiles([])).rejects.toThrow(/no files/);
  });
});

describeData('input routing on real scans', () => {
  it('a zipped DICOM series loads like the same files given directly', async () => {
    const dir = dataPath('totalsegmentator-ct-mr', 'example_ct_dicom');
    const plain = files(dir).slice(0, 6); // a few slices are enough to compare
    const direct = await loadDicomSeries(plain);
    const zip = zipSync(Object.fromEntries(plain.map((f) => [f.name, f.bytes])));
    const viaZip = await loadFiles([{ name: 'ct.zip', bytes: zip }]);
    expect(viaZip.kind).toBe('dicom');
    expect(viaZip.container).toBe('zip');
    expect(viaZip.volume.grid).toEqual(direct.volume.grid);
    const a = viaZip.volume.data;
    const b = direct.volume.data;
    expect(a.length).toBe(b.length);
    let diff = 0;
    for (let n = 0; n < a.length; n++) if (a[n] !== b[n]) diff++;
    expect(diff).toBe(0); // (toEqual on millions of voxels takes a minute)
    expect(viaZip.dicom?.series.length).toBe(1);
  });

  it('a folder with a .nhdr and its raw slices loads as NRRD; text files are skipped', async () => {
    const loaded = await loadFiles(files(dataPath('ct-head-volumes', 'vtk-headsq')));
    expect(loaded.kind).toBe('nrrd');
    expect(loaded.volume.grid.size).toEqual([64, 64, 93]);
    expect(loaded.volume.grid.spacing).toEqual([3.2, 3.2, 1.5]);
    expect(loaded.skipped.some((s) => /Copyright/.test(s.name))).toBe(true);
  });
});

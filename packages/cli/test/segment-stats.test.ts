/** CLI `segment` and `stats`, run in-process through runCli on a generated NIfTI and on real data. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lpsFromIjkMatrix, makeGrid, makeVolume } from '@slice2solid/core';
import { readDicomSeg, readNiftiLabels, readNrrdLabels, segmentsFromJson, writeNifti } from '@slice2solid/io';
import { THRESHOLD_PRESETS } from '@slice2solid/ops';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPath, describeData } from '../../../test-utils/shared-data.js';
import { runCliIn } from './helpers/run-cli.js';

let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 's2s-segment-'));
  // a 40 x 36 x 30 CT (HU) on an oblique grid: body (40 HU) ball r 15 mm, a bone ball r 6 mm, a bone speck
  const grid = makeGrid({
    size: [40, 36, 30],
    spacing: [1, 1.2, 1.5],
    origin: [-20, -21, -22],
    direction: [
      [0.8, 0.6, 0],
      [-0.6, 0.8, 0],
      [0, 0, 1],
    ],
  });
  const m = lpsFromIjkMatrix(grid);
  const data = new Int16Array(40 * 36 * 30);
  let p = 0;
  for (let k = 0; k < 30; k++)
    for (let j = 0; j < 36; j++)
      for (let i = 0; i < 40; i++, p++) {
        const x = m[0]! * i + m[1]! * j + m[2]! * k + m[3]!;
        const y = m[4]! * i + m[5]! * j + m[6]! * k + m[7]!;
        const z = m[8]! * i + m[9]! * j + m[10]! * k + m[11]!;
        const r = Math.hypot(x, y, z);
        data[p] = r <= 6 ? 1200 : Math.hypot(x - 11, y, z) <= 1 ? 900 : r <= 15 ? 40 : -1000;
      }
  writeFileSync(join(work, 'ct.nii.gz'), writeNifti(makeVolume({ grid, data, units: 'HU' }), { gzip: true }));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cli = (argv: string[]) => runCliIn(work, argv);

describe('slice2solid segment / stats', () => {
  it('segments bone with clean-up into NIfTI + sidecar; stats reports the ball volume and HU', async () => {
    const r = await cli([
      'segment',
      'ct.nii.gz',
      'bone.nii.gz',
      '--preset',
      'bone',
      '--min-island',
      '20',
      '--keep-largest',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/threshold 226\.\.3071/);
    expect(r.out).toMatch(/keep-largest/);
    const labels = readNiftiLabels(new Uint8Array(readFileSync(join(work, 'bone.nii.gz'))), {
      segmentsJson: readFileSync(join(work, 'bone.segments.json'), 'utf8'),
    });
    expect(labels.segments).toEqual([{ value: 1, ...THRESHOLD_PRESETS.bone.segment }]);
    const s = await cli(['stats', 'bone.nii.gz', '--image', 'ct.nii.gz', '--json']);
    expect(s.code).toBe(0);
    const stats = JSON.parse(s.out) as {
      name: string;
      volumeMm3: number;
      centroidLps: number[];
      intensity: { mean: number };
    }[];
    expect(stats).toHaveLength(1);
    expect(stats[0]!.name).toBe('bone');
    const ball = (4 / 3) * Math.PI * 216;
    expect(Math.abs(stats[0]!.volumeMm3 - ball) / ball).toBeLessThan(0.05);
    expect(Math.hypot(...(stats[0]!.centroidLps as [number, number, number]))).toBeLessThan(0.5);
    expect(stats[0]!.intensity.mean).toBe(1200);
    const table = await cli(['stats', 'bone.nii.gz']);
    expect(table.out).toMatch(/1 {2}bone: \d+ voxels, 0\.\d{3} mL/);
  });

  it('writes .seg.nrrd (Slicer keys) and DICOM SEG that read back to the same labels', async () => {
    expect(
      (await cli(['segment', 'ct.nii.gz', 'body.seg.nrrd', '--preset', 'skin', '--fill-holes', '--name', 'body'])).code,
    ).toBe(0);
    const nrrd = await readNrrdLabels(new Uint8Array(readFileSync(join(work, 'body.seg.nrrd'))));
    expect(nrrd.segments[0]?.name).toBe('body');
    expect(segmentsFromJson(readFileSync(join(work, 'body.segments.json'), 'utf8'))[0]?.name).toBe('body');
    expect(
      (await cli(['segment', 'ct.nii.gz', 'body.dcm', '--preset', 'skin', '--fill-holes', '--name', 'body'])).code,
    ).toBe(0);
    const seg = readDicomSeg(new Uint8Array(readFileSync(join(work, 'body.dcm'))), { referenceGrid: nrrd.grid });
    let diff = 0;
    for (let p = 0; p < nrrd.data.length; p++) if ((nrrd.data[p] ? 1 : 0) !== seg.masks[0]![p]) diff++;
    expect(diff).toBe(0);
    const st = await cli(['stats', 'body.dcm']);
    expect(st.code).toBe(0);
    expect(st.out).toMatch(/body: \d+ voxels/);
  });

  it('usage errors and refusals give exit codes 2 and 1 with a reason', async () => {
    const bad = await cli(['segment', 'ct.nii.gz', 'x.stl', '--preset', 'bone']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/label format/);
    const preset = await cli(['segment', 'ct.nii.gz', 'x.nii.gz', '--preset', 'bones']);
    expect(preset.code).toBe(2);
    const none = await cli(['segment', 'ct.nii.gz', 'x.nii.gz']);
    expect(none.code).toBe(2); // the CLI treats INVALID_ARGUMENT without a file as wrong usage
    expect(none.err).toMatch(/nothing to segment with/);
    expect(existsSync(join(work, 'x.nii.gz'))).toBe(false);
    writeFileSync(
      join(work, 'small.nii'),
      writeNifti(makeVolume({ grid: makeGrid({ size: [4, 4, 4] }), data: new Int16Array(64) })),
    );
    const mismatch = await cli(['stats', 'bone.nii.gz', '--image', 'small.nii']);
    expect(mismatch.code).toBe(1);
    expect(mismatch.err).toMatch(/not on the same grid/);
  });
});

describeData('slice2solid segment on real CT', () => {
  it('TotalSegmentator example_ct bone (226..3071 HU): voxel count equals numpy', async () => {
    const r = await cli([
      'segment',
      dataPath('totalsegmentator-ct-mr', 'example_ct.nii.gz'),
      'ts-bone.nii.gz',
      '--preset',
      'bone',
    ]);
    expect(r.code).toBe(0);
    // numpy: ((a >= 226) & (a <= 3071)).sum() on example_ct.nii.gz = 22813
    expect(r.out).toMatch(/threshold +22813 voxels/);
  });
});

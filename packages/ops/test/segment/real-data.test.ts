/**
 * Segmentation on real scans. Reference numbers were computed independently with numpy/scipy
 * (Debian python3-numpy 1.24 / scipy 1.10) on the same files:
 *   headsq: vol = stack(quarter.1..93 as <i2) & 0x7fff;  (vol >= t).sum();
 *           scipy.ndimage.label(vol >= t, structure=ones((3,3,3))) -> largest component size
 *   example_ct: a = nibabel.load(...).dataobj; ((a >= lo) & (a <= hi)).sum(); largest 26-component;
 *           binary_fill_holes(largest).sum()
 */
import { readFileSync } from 'node:fs';
import { readNifti, readNrrd } from '@slice2solid/io';
import { expect } from 'vitest';
import { dataPath, describeData, itData } from '../../../../test-utils/shared-data.js';
import { labelStats } from '../../src/segment/label-stats.js';
import { segmentVolumeDetailed } from '../../src/segment/segment.js';

describeData('vtk headsq CT (not HU): skin 500 and bone 1150 as in VTK Medical examples', () => {
  const dir = dataPath('ct-head-volumes', 'vtk-headsq');
  const load = () =>
    readNrrd(new Uint8Array(readFileSync(`${dir}/quarter.nhdr`)), {
      readFile: (f) => new Uint8Array(readFileSync(`${dir}/${f}`)),
    });

  itData('masks, largest pieces and volumes match numpy', async () => {
    const ct = await load();
    // the raw values are 15-bit (VTK masks 0x7fff); the io reader returns them as stored
    const data = ct.data;
    for (let p = 0; p < data.length; p++) data[p] = data[p]! & 0x7fff;
    for (const [lower, voxels, largest] of [
      [500, 144968, 144967],
      [1150, 34295, 34209],
    ] as const) {
      // a HU preset must be refused on this non-HU scan; explicit thresholds work
      expect(() => segmentVolumeDetailed(ct, { preset: 'bone' })).toThrow(/not HU/);
      const r = segmentVolumeDetailed(ct, { lower, keepLargest: true });
      expect(r.steps.map((s) => s.voxels)).toEqual([voxels, largest]);
      const [s] = labelStats(r.labels, { image: ct });
      expect(s!.volumeMl).toBeCloseTo((largest * 3.2 * 3.2 * 1.5) / 1000, 9);
      expect(s!.intensity!.min).toBeGreaterThanOrEqual(lower);
    }
  });
});

describeData('TotalSegmentator example_ct (HU): bone and body', () => {
  itData('preset bone and skin (body) with keep-largest and fill-holes match numpy/scipy', () => {
    const ct = readNifti(new Uint8Array(readFileSync(dataPath('totalsegmentator-ct-mr', 'example_ct.nii.gz'))));
    const bone = segmentVolumeDetailed(ct, { preset: 'bone', keepLargest: true, fillHoles: true });
    expect(bone.steps.map((s) => s.voxels)).toEqual([22813, 21705, 21808]);
    const body = segmentVolumeDetailed(ct, { preset: 'skin', keepLargest: true, fillHoles: true });
    expect(body.steps.map((s) => s.voxels)).toEqual([884964, 877633, 882517]);
    // plausible: 3 mm voxels -> body about 23.8 L for this torso crop, bone about 0.59 L
    const [b] = labelStats(bone.labels, { image: ct });
    expect(b!.volumeMl).toBeCloseTo(21808 * 0.027, 6);
    expect(b!.intensity!.mean).toBeGreaterThan(226);
  });
});

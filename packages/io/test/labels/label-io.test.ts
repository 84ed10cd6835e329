import { readdirSync, readFileSync } from 'node:fs';
import { gridsMatch, type LabelMap, makeGrid, makeLabelMap, makeVolume, S2SError } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { dataPath, describeData } from '../../../../test-utils/shared-data.js';
import { defaultLabelColor } from '../../src/labels/label-colors.js';
import { labelMapFromVolume } from '../../src/labels/label-volume.js';
import { readNiftiLabels, writeNiftiLabels } from '../../src/labels/nifti-labels.js';
import { readNrrdLabels, slicerSegmentsFromKeys, writeNrrdLabels } from '../../src/labels/nrrd-labels.js';
import { segmentsFromJson, segmentsSidecarName, segmentsToJson } from '../../src/labels/segment-table.js';
import { readNrrdHeader } from '../../src/nrrd.js';

/** Number of positions where two label arrays differ (plus a length mismatch) - fast on big arrays. */
function differences(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = Math.abs(a.length - b.length);
  for (let p = 0; p < Math.min(a.length, b.length); p++) if (a[p] !== b[p]) d++;
  return d;
}

function oblique(data: Uint8Array | Uint16Array | Int32Array, size: [number, number, number]): LabelMap {
  const grid = makeGrid({
    size,
    spacing: [0.75, 1.25, 3],
    origin: [12.5, -40.25, 7],
    direction: [
      [0.8, 0.6, 0],
      [-0.6, 0.8, 0],
      [0, 0, -1], // left-handed
    ],
  });
  return makeLabelMap({
    grid,
    data,
    segments: [
      { value: 1, name: 'bone', color: [241, 214, 145], code: { scheme: 'SCT', value: '272673000', meaning: 'Bone' } },
      { value: 300, name: 'Läsion ß', color: [10, 20, 30] },
    ],
  });
}

function sample(): LabelMap {
  const data = new Uint16Array(5 * 4 * 3);
  data.forEach((_, p) => {
    data[p] = p % 7 === 0 ? 300 : p % 3 === 0 ? 1 : 0;
  });
  return oblique(data, [5, 4, 3]);
}

describe('label maps as NIfTI and NRRD', () => {
  it('NIfTI round trip keeps values, type, grid and (via the sidecar) the segment table', () => {
    const labels = sample();
    const out = writeNiftiLabels(labels);
    const back = readNiftiLabels(out.image, { segmentsJson: out.segmentsJson });
    expect(back.data).toBeInstanceOf(Uint16Array);
    expect(back.data).toEqual(labels.data);
    expect(gridsMatch(back.grid, labels.grid, 1e-4)).toBe(true);
    expect(back.segments).toEqual(labels.segments);
  });

  it('NRRD round trip keeps everything exactly, with the table in Slicer keys (no sidecar needed)', async () => {
    const labels = sample();
    const out = writeNrrdLabels(labels);
    const back = await readNrrdLabels(out.image);
    expect(back.data).toEqual(labels.data);
    expect(gridsMatch(back.grid, labels.grid, 1e-9)).toBe(true);
    expect(back.segments).toEqual(labels.segments);
    const h = readNrrdHeader(out.image);
    expect(h.keyValues.Segment0_LabelValue).toBe('1');
    expect(h.keyValues.Segment0_Color).toBe('0.945098 0.839216 0.568627');
    expect(h.keyValues.Segment1_Extent).toMatch(/^\d+ \d+ \d+ \d+ \d+ \d+$/);
    expect(h.keyValues.Segment0_Tags).toContain('SCT^272673000^Bone');
  });

  it('reads Slicer multi-layer segment keys and flattens layers', async () => {
    const segs = slicerSegmentsFromKeys({
      Segment0_ID: 'Segment_1',
      Segment0_Name: 'liver',
      Segment0_Color: '0.866667 0.509804 0.396078',
      Segment0_LabelValue: '1',
      Segment0_Layer: '0',
      Segment1_Name: 'tumour',
      Segment1_LabelValue: '1',
      Segment1_Layer: '1',
    });
    expect(segs.map((s) => [s.name, s.value, s.layer])).toEqual([
      ['liver', 1, 0],
      ['tumour', 1, 1],
    ]);
    expect(segs[0]!.color).toEqual([221, 130, 101]);
  });

  it('refuses intensity images and 4D files as label maps', () => {
    const grid = makeGrid({ size: [2, 1, 1] });
    expect(() => labelMapFromVolume(makeVolume({ grid, data: new Float32Array([0, 1.5]) }))).toThrow(/whole numbers/);
    expect(() => labelMapFromVolume(makeVolume({ grid, data: new Int16Array([0, -2]) }))).toThrow(S2SError);
    const four = makeVolume({ grid, data: new Uint8Array([0, 1, 2, 0]), frames: 2 });
    expect(() => labelMapFromVolume(four)).toThrow(/2 frames/);
    expect([...labelMapFromVolume(four, { frame: 1 }).data]).toEqual([2, 0]);
    const f = labelMapFromVolume(makeVolume({ grid, data: new Float64Array([0, 70000]) }));
    expect(f.data).toBeInstanceOf(Int32Array);
    expect(f.segments).toEqual([{ value: 70000, name: 'label 70000', color: defaultLabelColor(70000) }]);
  });
});

describe('segment table JSON sidecar', () => {
  it('round-trips and names the sidecar after the label file', () => {
    const segs = sample().segments;
    expect(segmentsFromJson(segmentsToJson(segs))).toEqual(segs);
    expect(segmentsSidecarName('out/bone.nii.gz')).toBe('out/bone.segments.json');
    expect(segmentsSidecarName('a.seg.nrrd')).toBe('a.segments.json');
    expect(segmentsSidecarName('x.nrrd')).toBe('x.segments.json');
  });

  it('accepts a bare list and an id -> name map (TotalSegmentator class maps)', () => {
    expect(segmentsFromJson('[{"value":3,"name":"x"}]')).toEqual([
      { value: 3, name: 'x', color: defaultLabelColor(3) },
    ]);
    expect(segmentsFromJson('{"1":"spleen","2":"kidney_right"}').map((s) => s.name)).toEqual([
      'spleen',
      'kidney_right',
    ]);
  });

  it.each([
    ['not json', /not valid JSON/],
    ['{"format":"other","segments":[]}', /unknown segment table format/],
    ['{"segments":[{"value":0}]}', /integer "value" >= 1/],
    ['{"segments":[{"value":1},{"value":1}]}', /appears twice/],
    ['{"segments":[{"value":1,"color":[1,2]}]}', /three numbers/],
    ['{"segments":[{"value":1,"code":{"scheme":"SCT"}}]}', /"code" needs/],
  ])('refuses %s', (text, msg) => {
    expect(() => segmentsFromJson(text, 'x.segments.json')).toThrow(msg);
  });
});

describeData('TotalSegmentator label maps round-trip unchanged', () => {
  const dir = dataPath('totalsegmentator-ct-mr');
  const files = [
    'example_seg.nii.gz',
    'example_seg_fast.nii.gz',
    'example_seg_mr.nii.gz',
    ...readdirSync(`${dir}/example_seg_fast`)
      .filter((f) => /^(liver|spleen|aorta|vertebrae_L1)\.nii\.gz$/.test(f))
      .map((f) => `example_seg_fast/${f}`),
  ];
  it.each(files)('%s through NIfTI and NRRD', async (f) => {
    const labels = readNiftiLabels(new Uint8Array(readFileSync(`${dir}/${f}`)), { name: f });
    expect(labels.data.some((v) => v !== 0)).toBe(true);
    const viaNifti = writeNiftiLabels(labels);
    const a = readNiftiLabels(viaNifti.image, { segmentsJson: viaNifti.segmentsJson });
    expect(a.data.constructor).toBe(labels.data.constructor);
    expect(differences(a.data, labels.data)).toBe(0);
    expect(gridsMatch(a.grid, labels.grid, 1e-4)).toBe(true);
    expect(a.segments).toEqual(labels.segments);
    const viaNrrd = writeNrrdLabels(labels);
    const b = await readNrrdLabels(viaNrrd.image);
    expect(b.data.constructor).toBe(labels.data.constructor);
    expect(differences(b.data, labels.data)).toBe(0);
    expect(gridsMatch(b.grid, labels.grid, 1e-9)).toBe(true);
    expect(b.segments).toEqual(labels.segments);
  });
});

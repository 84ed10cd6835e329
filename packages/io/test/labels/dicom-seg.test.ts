import { readdirSync, readFileSync } from 'node:fs';
import {
  applyAffine,
  gridsMatch,
  ijkFromLpsMatrix,
  type LabelMap,
  lpsFromIjkMatrix,
  makeGrid,
  makeLabelMap,
  maxCornerDistance,
  multiplyAffine,
  S2SError,
} from '@slice2solid/core';
import { loadDicomSeries } from '@slice2solid/dicom';
import { describe, expect, it } from 'vitest';
import { dataPath, describeData } from '../../../../test-utils/shared-data.js';
import {
  dicomLabFromRgb,
  dicomSegToLabelMap,
  formatDS,
  readDicomSeg,
  rgbFromDicomLab,
  writeDicomSeg,
} from '../../src/labels/dicom-seg.js';
import { readNrrdLabels } from '../../src/labels/nrrd-labels.js';

/** An oblique, anisotropic, left-handed grid with two structures. */
function phantom(): LabelMap {
  const c = Math.cos(0.3);
  const s = Math.sin(0.3);
  const grid = makeGrid({
    size: [12, 9, 7],
    spacing: [0.7, 0.9, 2.5],
    origin: [-10.25, 33.5, -80.125],
    direction: [
      [c, s, 0],
      [-s * 0.9, c * 0.9, 0.43588989435406733],
      // left-handed: minus the cross product of the first two
      [-(s * 0.43588989435406733), c * 0.43588989435406733, -0.9],
    ],
  });
  const data = new Uint8Array(12 * 9 * 7);
  for (let k = 0; k < 7; k++)
    for (let j = 0; j < 9; j++)
      for (let i = 0; i < 12; i++) {
        const p = i + 12 * (j + 9 * k);
        if ((i - 5) ** 2 + (j - 4) ** 2 < 9 && k >= 1 && k <= 4) data[p] = 2;
        else if (i > 8 && k >= 3) data[p] = 7;
      }
  return makeLabelMap({
    grid,
    data,
    segments: [
      {
        value: 2,
        name: 'tumour',
        color: [200, 30, 40],
        code: { scheme: 'SCT', value: '108369006', meaning: 'Neoplasm' },
      },
      { value: 7, name: 'bone', color: [241, 214, 145] },
    ],
  });
}

describe('DICOM SEG write -> read', () => {
  it('keeps voxels, geometry (oblique, left-handed), names, colours and codes', () => {
    const labels = phantom();
    const bytes = writeDicomSeg(labels);
    const seg = readDicomSeg(bytes);
    // the SEG's own grid runs along +normal; compare in world space through the index maps
    expect(maxCornerDistance(seg.grid, seg.grid)).toBe(0);
    const back = dicomSegToLabelMap(seg);
    const toSrc = multiplyAffine(ijkFromLpsMatrix(labels.grid), lpsFromIjkMatrix(back.grid));
    const [nx, ny, nz] = back.grid.size;
    let compared = 0;
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          const q = applyAffine(toSrc, [i, j, k]);
          const r = q.map(Math.round);
          expect(Math.max(...q.map((x, a) => Math.abs(x - r[a]!)))).toBeLessThan(1e-4);
          expect(back.data[i + nx * (j + ny * k)]).toBe(labels.data[r[0]! + 12 * (r[1]! + 9 * r[2]!)]);
          compared++;
        }
    // slices with no structure are not written, so the SEG grid spans slices 1..6 only
    expect(compared).toBe(12 * 9 * 6);
    expect(seg.segments.map((s) => [s.value, s.name, s.code?.value])).toEqual([
      [2, 'tumour', '108369006'],
      [7, 'bone', '85756007'],
    ]);
    for (const [n, s] of seg.segments.entries()) {
      const want = labels.segments[n]!.color;
      for (const [a, c] of s.color.entries()) expect(Math.abs(c - want[a]!)).toBeLessThanOrEqual(1);
    }
    expect(seg.overlapping).toBe(false);
    expect(seg.referencedInstanceUIDs).toEqual([]);
  });

  it('reads back onto the full source grid, and records referenced images when given', () => {
    const labels = phantom();
    const instances = Array.from({ length: 7 }, (_, k) => `1.2.3.4.${k + 1}`);
    const bytes = writeDicomSeg(labels, {
      reference: { studyInstanceUID: '1.2.3', seriesInstanceUID: '1.2.3.4', frameOfReferenceUID: '1.2.3.9', instances },
    });
    const seg = readDicomSeg(bytes, { referenceGrid: labels.grid });
    expect(dicomSegToLabelMap(seg).data).toEqual(labels.data);
    expect(seg.frameOfReferenceUID).toBe('1.2.3.9');
    expect(seg.referencedSeriesInstanceUID).toBe('1.2.3.4');
    // slice 0 holds no structure: no frame refers to it
    expect(seg.referencedInstanceUIDs).toEqual(instances.slice(1));
  });

  it('refuses a reference grid the frames do not fit', () => {
    const labels = phantom();
    const bytes = writeDicomSeg(labels);
    const shifted = {
      ...labels.grid,
      origin: [labels.grid.origin[0] + 0.3, labels.grid.origin[1], labels.grid.origin[2]] as const,
    };
    expect(() => readDicomSeg(bytes, { referenceGrid: shifted })).toThrow(/not on a slice/);
    const other = makeGrid({ size: [9, 12, 7] });
    expect(() => readDicomSeg(bytes, { referenceGrid: other })).toThrow(S2SError);
  });

  it('refuses what is not a SEG, with the reason', () => {
    expect(() => readDicomSeg(new Uint8Array(10))).toThrow(/not a DICOM Part 10 file/);
    const truncated = writeDicomSeg(phantom()).subarray(0, 2000);
    expect(() => readDicomSeg(truncated)).toThrow(S2SError);
    const empty = makeLabelMap({ grid: makeGrid({ size: [2, 2, 2] }), data: new Uint8Array(8) });
    expect(() => writeDicomSeg(empty)).toThrow(/nothing to write/);
  });

  it('DS values fit 16 characters and CIELab round-trips sRGB', () => {
    for (const x of [0.810547, -235.19999999999999, 1e-7, 123456789.123456, -0.0000123456789]) {
      const s = formatDS(x);
      expect(s.length).toBeLessThanOrEqual(16);
      expect(Math.abs(Number(s) - x)).toBeLessThanOrEqual(Math.abs(x) * 1e-9 + 1e-12);
    }
    for (const rgb of [
      [0, 0, 0],
      [255, 255, 255],
      [128, 174, 128],
      [241, 214, 145],
      [10, 200, 90],
    ]) {
      expect(rgbFromDicomLab(dicomLabFromRgb(rgb))).toEqual(rgb);
    }
  });
});

describeData('dcmqi SEG objects and label maps on their CT', () => {
  const dir = dataPath('dcmqi-ct-3slice-seg');
  const bytes = (name: string) => new Uint8Array(readFileSync(`${dir}/${name}`));

  it('liver.dcm == liver_seg.nrrd voxelwise, both aligned to the CT (NRRD slice 0 is the last DICOM instance)', async () => {
    const ctFiles = readdirSync(`${dir}/ct-3slice`).map((f) => ({ name: f, bytes: bytes(`ct-3slice/${f}`) }));
    const ct = (await loadDicomSeries(ctFiles)).volume;
    const nrrd = await readNrrdLabels(bytes('liver_seg.nrrd'));
    const seg = readDicomSeg(bytes('liver.dcm'), { referenceGrid: ct.grid });
    const segOwn = readDicomSeg(bytes('liver.dcm'));
    expect(gridsMatch(segOwn.grid, nrrd.grid, 1e-3)).toBe(true);
    const segLabels = dicomSegToLabelMap(seg);
    expect(segLabels.segments[0]?.name).toBe('Liver');
    // world-space comparison: NRRD voxel -> LPS -> CT voxel
    const toCt = multiplyAffine(ijkFromLpsMatrix(ct.grid), lpsFromIjkMatrix(nrrd.grid));
    const [nx, ny, nz] = nrrd.grid.size;
    let inside = 0;
    let mismatches = 0;
    for (let k = 0; k < nz; k++) {
      const c0 = applyAffine(toCt, [0, 0, k]);
      const kk = Math.round(c0[2]);
      expect(Math.abs(c0[2] - kk)).toBeLessThan(0.01);
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          const c = applyAffine(toCt, [i, j, k]);
          const q = Math.round(c[0]) + ct.grid.size[0] * (Math.round(c[1]) + ct.grid.size[1] * kk);
          const a = nrrd.data[i + nx * (j + ny * k)]!;
          if (segLabels.data[q] !== a) mismatches++;
          inside += a ? 1 : 0;
        }
    }
    expect(mismatches).toBe(0);
    expect(inside).toBe(107098);
  });

  it('partial_overlaps.dcm: every segment equals its value in partial_overlaps-1..3.nrrd', async () => {
    const seg = readDicomSeg(bytes('partial_overlaps.dcm'));
    expect(seg.overlapping).toBe(true);
    expect(() => dicomSegToLabelMap(seg)).toThrow(/overlap/);
    const seen = new Set<number>();
    for (const f of ['partial_overlaps-1.nrrd', 'partial_overlaps-2.nrrd', 'partial_overlaps-3.nrrd']) {
      const nrrd = await readNrrdLabels(bytes(f));
      expect(gridsMatch(nrrd.grid, seg.grid, 1e-3)).toBe(true);
      const values = new Set(nrrd.data);
      values.delete(0);
      for (const v of values) {
        const idx = seg.segments.findIndex((s) => s.value === v);
        expect(idx).toBeGreaterThanOrEqual(0);
        const mask = seg.masks[idx]!;
        let diff = 0;
        for (let p = 0; p < mask.length; p++) if ((nrrd.data[p] === v ? 1 : 0) !== mask[p]) diff++;
        expect(diff).toBe(0);
        seen.add(v);
      }
    }
    expect([...seen].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('our SEG of a dcmqi two-structure label map reads back identically', async () => {
    const nrrd = await readNrrdLabels(bytes('liver_spine_seg.nrrd'));
    const seg = readDicomSeg(writeDicomSeg(nrrd), { referenceGrid: nrrd.grid });
    const back = dicomSegToLabelMap(seg).data;
    let diff = 0;
    for (let p = 0; p < back.length; p++) if (back[p] !== nrrd.data[p]) diff++;
    expect(back.length).toBe(nrrd.data.length);
    expect(diff).toBe(0);
    expect(new Set(nrrd.data).size).toBe(3);
  });
});

import { makeGrid, makeLabelMap, makeVolume, type Segment } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { checkCaseGeometry, datasetReport, formatDatasetReport, summarizeCase } from '../../src/train/checks.js';

const grid = makeGrid({ size: [4, 4, 4], spacing: [1, 1, 2], origin: [0, 0, 0] });

function labels(values: (p: number) => number, segments: Segment[]) {
  const d = new Uint8Array(64);
  for (let p = 0; p < 64; p++) d[p] = values(p);
  return makeLabelMap({ grid, data: d, segments });
}
const image = makeVolume({ grid, data: new Float32Array(64) });
const seg = (value: number, name: string): Segment => ({ value, name, color: [1, 2, 3] });

describe('checkCaseGeometry', () => {
  it('names the case and what differs, with a fix', () => {
    const shifted = makeGrid({ ...grid, origin: [0, 0, 1] });
    expect(() => checkCaseGeometry('c7', grid, shifted)).toThrow(
      /case "c7".*origin: image \[0, 0, 0\], labels \[0, 0, 1\] \(1 mm apart\).*export the labels on the image grid/,
    );
    const resized = makeGrid({ ...grid, size: [4, 4, 5] });
    expect(() => checkCaseGeometry('c8', grid, resized)).toThrow(/size: image 4x4x4, labels 4x4x5/);
    const spaced = makeGrid({ ...grid, spacing: [1, 1, 2.5] });
    expect(() => checkCaseGeometry('c9', grid, spaced)).toThrow(
      /spacing: image \[1, 1, 2\] mm, labels \[1, 1, 2.5\] mm/,
    );
    const flipped = makeGrid({
      ...grid,
      direction: [
        [-1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
    });
    expect(() => checkCaseGeometry('c10', grid, flipped)).toThrow(/direction:.*flipped or transposed/);
    // within tolerance: 0.05 voxel origin shift, 1e-5 relative spacing
    checkCaseGeometry('ok', grid, makeGrid({ ...grid, origin: [0.05, 0, 0], spacing: [1.00001, 1, 2] }));
  });
});

describe('datasetReport', () => {
  it('counts voxels and millilitres per label per case and overall', () => {
    const a = summarizeCase(
      'a',
      'pa',
      image,
      labels((p) => (p < 8 ? 1 : p < 10 ? 2 : 0), [seg(1, 'liver'), seg(2, 'spleen')]),
    );
    const b = summarizeCase(
      'b',
      'pb',
      image,
      labels((p) => (p < 4 ? 1 : 0), [seg(1, 'liver')]),
    );
    expect(a.labels).toEqual([
      { value: 1, name: 'liver', voxels: 8, ml: 0.016, color: [1, 2, 3] },
      { value: 2, name: 'spleen', voxels: 2, ml: 0.004, color: [1, 2, 3] },
    ]);
    expect(a.backgroundVoxels).toBe(54);
    const r = datasetReport([a, b]);
    expect(r.labels.map((l) => [l.name, l.cases, l.voxels])).toEqual([
      ['liver', 2, 12],
      ['spleen', 1, 2],
    ]);
    expect(r.labels[0]!.ml).toBeCloseTo(0.024, 12);
    expect(r.labels[0]!.fraction).toBeCloseTo(12 / 128, 12);
    expect(r.warnings).toEqual(['label "spleen" is missing from 1 case(s): b']);
    expect(formatDatasetReport(r).join('\n')).toMatch(/liver\s+2\s+12\s+0.02/);
  });

  it('refuses one value with two names or two values with one name; default names agree with any name', () => {
    const a = summarizeCase(
      'a',
      'pa',
      image,
      labels((p) => (p < 8 ? 1 : 0), [seg(1, 'liver')]),
    );
    const b = summarizeCase(
      'b',
      'pb',
      image,
      labels((p) => (p < 8 ? 1 : 0), [seg(1, 'kidney')]),
    );
    expect(() => datasetReport([a, b])).toThrow(/label value 1 is "liver" in case "a" but "kidney" in case "b"/);
    const c = summarizeCase(
      'c',
      'pc',
      image,
      labels((p) => (p < 8 ? 1 : 0), []),
    );
    expect(c.labels[0]!.name).toBe('label 1');
    expect(datasetReport([c, a]).labels[0]!.name).toBe('liver');
    const d = summarizeCase(
      'd',
      'pd',
      image,
      labels((p) => (p < 8 ? 2 : 0), [seg(2, 'liver')]),
    );
    expect(() => datasetReport([a, d])).toThrow(/values 1 and 2 are both called "liver"/);
    const e = summarizeCase(
      'e',
      'pe',
      image,
      labels(() => 0, []),
    );
    expect(() => datasetReport([e])).toThrow(/no case has any labelled voxel/);
  });
});

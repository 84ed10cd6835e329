import { makeGrid, makeLabelMap } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { defaultSegmentColor } from '../../src/labels/colors.js';
import { completeSegments, labelMapFromMask, labelValues, makeSegment, maskOfLabel } from '../../src/labels/make.js';
import { mergeLabelMaps, mergeMasks } from '../../src/labels/merge.js';
import { compactLabels, relabel } from '../../src/labels/relabel.js';

const grid = makeGrid({ size: [4, 1, 1] });

describe('label map helpers', () => {
  it('from a mask, back to a mask, with the smallest array type', () => {
    const l = labelMapFromMask([0, 1, 1, 0], grid, { value: 300, name: 'x' });
    expect(l.data).toBeInstanceOf(Uint16Array);
    expect([...l.data]).toEqual([0, 300, 300, 0]);
    expect(l.segments).toEqual([{ value: 300, name: 'x', color: defaultSegmentColor(300) }]);
    expect([...maskOfLabel(l, 300)]).toEqual([0, 1, 1, 0]);
    expect(() => makeSegment(0)).toThrow(/background/);
  });

  it.each([
    ['last', [0, 2, 2, 1]],
    ['first', [0, 1, 2, 1]],
  ] as const)('merges overlapping masks (%s wins)', (overlap, want) => {
    const m = mergeMasks(
      grid,
      [
        { mask: [0, 1, 0, 1], segment: { value: 1, name: 'a' } },
        { mask: [0, 1, 1, 0], segment: { value: 2, name: 'b' } },
      ],
      { overlap },
    );
    expect([...m.data]).toEqual(want);
    expect(m.segments.map((s) => s.name)).toEqual(['a', 'b']);
  });

  it('refuses overlaps when asked, duplicate values and other grids', () => {
    const layers = [
      { mask: [1, 0, 0, 0], segment: { value: 1 } },
      { mask: [1, 0, 0, 0], segment: { value: 2 } },
    ];
    expect(() => mergeMasks(grid, layers, { overlap: 'error' })).toThrow(/overlap/);
    expect(() => mergeMasks(grid, [layers[0]!, { ...layers[1]!, segment: { value: 1 } }])).toThrow(
      /two structures use label value 1/,
    );
    const a = labelMapFromMask([1, 0, 0, 0], grid);
    const b = labelMapFromMask([0, 1, 0, 0], makeGrid({ size: [4, 1, 1], spacing: [2, 1, 1] }));
    expect(() => mergeLabelMaps([a, b])).toThrow(/not on the same grid/);
  });

  it('merges label maps with renumbering', () => {
    const a = labelMapFromMask([1, 0, 0, 0], grid, { name: 'a' });
    const b = labelMapFromMask([0, 1, 0, 0], grid, { name: 'b' });
    const m = mergeLabelMaps([a, b], { renumber: true });
    expect([...m.data]).toEqual([1, 2, 0, 0]);
    expect(m.segments.map((s) => [s.value, s.name])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
  });

  it('relabels, deletes, merges values and compacts', () => {
    const l = makeLabelMap({
      grid,
      data: new Uint8Array([5, 7, 9, 0]),
      segments: [
        { value: 5, name: 'five', color: [1, 1, 1] },
        { value: 7, name: 'seven', color: [2, 2, 2] },
      ],
    });
    const r = relabel(l, { 5: 1, 7: 0, 9: 1 });
    expect([...r.data]).toEqual([1, 0, 1, 0]);
    expect(r.segments).toEqual([{ value: 1, name: 'five', color: [1, 1, 1] }]);
    const c = compactLabels(l);
    expect([...c.data]).toEqual([1, 2, 3, 0]);
    expect(c.segments.map((s) => s.name)).toEqual(['five', 'seven', 'label 3']);
    expect(labelValues(l)).toEqual([5, 7, 9]);
    expect(completeSegments(l).map((s) => s.value)).toEqual([5, 7, 9]);
    expect(() => relabel(l, { 5: -1 })).toThrow(/>= 0/);
  });
});

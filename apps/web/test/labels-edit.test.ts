import { makeGrid } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { addStructure, hexOf, paintDisc, replaceStructure, rgbOf } from '../src/app/labels-edit.js';
import { viewGeometry } from '../src/app/view-geometry.js';

describe('paintDisc', () => {
  const grid = makeGrid({ size: [20, 20, 5], spacing: [0.5, 1, 2] });
  const g = viewGeometry(grid, 'axial');

  it('paints an ellipse of voxels that is a circle in mm, only on the slice, and reports it for undo', () => {
    const labels = new Uint8Array(20 * 20 * 5);
    const r = paintDisc(labels, grid.size, g, 2, 10, 10, { value: 3, erase: false, radiusMm: 2 });
    let painted = 0;
    for (let k = 0; k < 5; k++)
      for (let j = 0; j < 20; j++)
        for (let i = 0; i < 20; i++) {
          const v = labels[i + 20 * (j + 20 * k)]!;
          if (v === 0) continue;
          painted++;
          expect(k).toBe(2);
          const d = Math.hypot((i - 10) * 0.5, (j - 10) * 1);
          expect(d).toBeLessThanOrEqual(2 + 1e-9);
        }
    // voxels within 2 mm: |di| <= 4 (0.5 mm), |dj| <= 2 (1 mm)
    let expected = 0;
    for (let dj = -2; dj <= 2; dj++) for (let di = -4; di <= 4; di++) if (Math.hypot(di * 0.5, dj) <= 2) expected++;
    expect(painted).toBe(expected);
    expect(r.index.length).toBe(expected);
    expect([...new Set(r.before)]).toEqual([0]);
  });

  it('does not paint over another structure, and the eraser clears only the active one', () => {
    const labels = new Uint8Array(20 * 20 * 5);
    const q = 10 + 20 * (10 + 20 * 2);
    labels[q] = 7;
    labels[q + 1] = 3;
    paintDisc(labels, grid.size, g, 2, 10, 10, { value: 3, erase: false, radiusMm: 1 });
    expect(labels[q]).toBe(7);
    const e = paintDisc(labels, grid.size, g, 2, 10, 10, { value: 3, erase: true, radiusMm: 1 });
    expect(labels[q]).toBe(7);
    expect(labels[q + 1]).toBe(0);
    expect(e.after.every((x) => x === 0)).toBe(true);
  });
});

describe('structures', () => {
  it('replaceStructure sets one structure to the mask and keeps the others', () => {
    const labels = Uint8Array.of(0, 1, 2, 1, 0);
    const mask = Uint8Array.of(1, 0, 1, 1, 0);
    expect([...replaceStructure(labels, mask, 1)]).toEqual([1, 0, 2, 1, 0]);
    expect([...labels]).toEqual([0, 1, 2, 1, 0]);
  });

  it('addStructure takes the next free value and a default colour', () => {
    const a = addStructure([]);
    expect(a.segment.value).toBe(1);
    const b = addStructure(a.segments, { name: ' bone ', color: [241, 214, 145] });
    expect(b.segment).toMatchObject({ value: 2, name: 'bone', color: [241, 214, 145] });
    const c = addStructure(b.segments.filter((s) => s.value !== 1));
    expect(c.segment.value).toBe(1);
  });

  it('hex colours round-trip', () => {
    expect(hexOf([241, 214, 145])).toBe('#f1d691');
    expect(rgbOf('#f1d691')).toEqual([241, 214, 145]);
  });
});

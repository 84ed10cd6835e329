import { makeGrid } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { renderSlice } from '../src/app/render-slice.js';
import {
  paintScribble,
  SCRIBBLE_BACKGROUND,
  SCRIBBLE_COLORS,
  SCRIBBLE_STRUCTURE,
  scribbleCounts,
  scribbleProblem,
  structureFromScribbleLabels,
} from '../src/app/scribble.js';
import { sliceIndices, viewGeometry } from '../src/app/view-geometry.js';

describe('scribble strokes', () => {
  const grid = makeGrid({ size: [20, 20, 5], spacing: [1, 1, 2] });
  const g = viewGeometry(grid, 'axial');
  const n = 20 * 20 * 5;

  it('paint the two classes over each other on one slice, and erase both', () => {
    const s = new Uint8Array(n);
    const a = paintScribble(s, grid.size, g, 1, 5, 5, SCRIBBLE_STRUCTURE, 2);
    expect(a).toBeGreaterThan(5);
    expect(scribbleCounts(s)).toEqual({ structure: a, background: 0 });
    // a background stroke over part of it takes those voxels (strokes may overwrite each other)
    const b = paintScribble(s, grid.size, g, 1, 6, 5, SCRIBBLE_BACKGROUND, 2);
    const c = scribbleCounts(s);
    expect(c.background).toBe(b);
    expect(c.structure).toBeLessThan(a);
    expect(c.structure + c.background).toBeGreaterThan(a);
    // only slice 1 is painted
    for (let p = 0; p < n; p++) if (s[p]) expect(Math.floor(p / 400)).toBe(1);
    // erasing clears both classes under the disc
    paintScribble(s, grid.size, g, 1, 5.5, 5, 'erase', 5);
    expect(scribbleCounts(s)).toEqual({ structure: 0, background: 0 });
  });

  it('say what is missing before learning', () => {
    expect(scribbleProblem({ structure: 0, background: 0 })).toMatch(/no strokes/);
    expect(scribbleProblem({ structure: 3, background: 0 })).toMatch(/background/);
    expect(scribbleProblem({ structure: 0, background: 3 })).toMatch(/structure/);
    expect(scribbleProblem({ structure: 1, background: 1 })).toBeUndefined();
  });

  it('class 1 of the result is the structure', () => {
    expect([...structureFromScribbleLabels(Uint8Array.from([0, 1, 2, 1]))]).toEqual([0, 1, 0, 1]);
  });

  it('are drawn over the slice in their colours, without touching the grey values elsewhere', () => {
    const data = new Float32Array(n).fill(100);
    const s = new Uint8Array(n);
    s[0] = SCRIBBLE_STRUCTURE;
    s[1] = SCRIBBLE_BACKGROUND;
    const idx = sliceIndices(grid, g, 0);
    const out = renderSlice(data, idx, { center: 100, width: 200 }, { scribbles: s, scribbleColors: SCRIBBLE_COLORS });
    const px = (q: number) => {
      const p = [...idx].indexOf(q);
      return [...out.subarray(4 * p, 4 * p + 3)];
    };
    const grey = px(2);
    expect(grey[0]).toBe(grey[1]);
    expect(px(0)[1]).toBeGreaterThan(px(0)[0]! + 50); // green
    expect(px(1)[2]).toBeGreaterThan(px(1)[0]! + 50); // blue
  });
});

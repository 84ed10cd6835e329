import { lpsFromIjk, makeGrid } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { patientAxes, screenOf, sliceIndices, viewGeometry, voxelAt } from '../src/app/view-geometry.js';

// The screen conventions (radiological, DICOM LPS): axial right = +x (patient left), down = +y
// (posterior); coronal right = +x, down = -z; sagittal right = +y, down = -z.
const SCREEN: Record<string, { right: number[]; down: number[] }> = {
  axial: { right: [1, 0, 0], down: [0, 1, 0] },
  coronal: { right: [1, 0, 0], down: [0, 0, -1] },
  sagittal: { right: [0, 1, 0], down: [0, 0, -1] },
};

const sub = (a: readonly number[], b: readonly number[]) => a.map((x, n) => x - b[n]!);
const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, n) => s + x * b[n]!, 0);

function checkConventions(grid: ReturnType<typeof makeGrid>): void {
  for (const view of ['axial', 'coronal', 'sagittal'] as const) {
    const g = viewGeometry(grid, view);
    const s = Math.floor(g.slices / 2);
    const p00 = lpsFromIjk(grid, voxelAt(g, s, 1, 1));
    const p10 = lpsFromIjk(grid, voxelAt(g, s, 2, 1));
    const p01 = lpsFromIjk(grid, voxelAt(g, s, 1, 2));
    // one pixel to the right / down moves the world point mostly along the expected patient axis
    const right = sub(p10, p00);
    const down = sub(p01, p00);
    expect(dot(right, SCREEN[view]!.right) / Math.hypot(...right), `${view} right`).toBeGreaterThan(0.7);
    expect(dot(down, SCREEN[view]!.down) / Math.hypot(...down), `${view} down`).toBeGreaterThan(0.7);
    // and screenOf inverts voxelAt
    expect(screenOf(g, voxelAt(g, s, 3, 5))).toEqual([3, 5]);
  }
}

describe('view geometry', () => {
  it('identity (LPS) grid: axial slices across k, no flips', () => {
    const grid = makeGrid({ size: [4, 5, 6], spacing: [1, 2, 3] });
    const g = viewGeometry(grid, 'axial');
    expect(g.sliceAxis).toBe(2);
    expect([g.u.axis, g.u.flip, g.v.axis, g.v.flip]).toEqual([0, false, 1, false]);
    expect(viewGeometry(grid, 'coronal').sliceAxis).toBe(1);
    expect(viewGeometry(grid, 'sagittal').sliceAxis).toBe(0);
    checkConventions(grid);
  });

  it('RAS-ordered grid (as read from a NIfTI): flips so the screen still shows R on the left', () => {
    const grid = makeGrid({
      size: [6, 7, 8],
      spacing: [1, 1, 2],
      direction: [
        [-1, 0, 0],
        [0, -1, 0],
        [0, 0, 1],
      ],
    });
    const g = viewGeometry(grid, 'axial');
    expect(g.u.flip && g.v.flip).toBe(true);
    checkConventions(grid);
  });

  it('coronal acquisition with permuted, oblique and left-handed axes', () => {
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    const grid = makeGrid({
      size: [5, 9, 7],
      spacing: [0.8, 1.1, 2.5],
      // i tilted 17 degrees from L towards S, j towards I, k towards A: a left-handed coronal stack
      direction: [
        [c, 0, s],
        [s, 0, -c],
        [0, -1, 0],
      ],
    });
    const pa = patientAxes(grid);
    expect(new Set(pa.axisOf).size).toBe(3);
    expect(viewGeometry(grid, 'coronal').sliceAxis).toBe(2);
    expect(viewGeometry(grid, 'axial').sliceAxis).toBe(1);
    checkConventions(grid);
  });

  it('sliceIndices lists exactly the voxels of the slice, in screen order', () => {
    const grid = makeGrid({
      size: [3, 4, 5],
      spacing: [1, 1, 1],
      direction: [
        [-1, 0, 0],
        [0, 0, -1],
        [0, 1, 0],
      ],
    });
    for (const view of ['axial', 'coronal', 'sagittal'] as const) {
      const g = viewGeometry(grid, view);
      const s = g.slices - 1;
      const idx = sliceIndices(grid, g, s);
      expect(idx.length).toBe(g.u.n * g.v.n);
      for (let y = 0; y < g.v.n; y++)
        for (let x = 0; x < g.u.n; x++) {
          const [i, j, k] = voxelAt(g, s, x, y);
          expect(idx[y * g.u.n + x]).toBe(i + 3 * (j + 4 * k));
        }
    }
  });
});

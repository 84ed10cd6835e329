import { lpsFromIjk, makeGrid, makeLabelMap, makeVolume, type Vec3 } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { labelStats, voxelVolumeMm3 } from '../../src/segment/label-stats.js';
import { ballVolume, obliqueGrid } from './phantoms.js';

describe('label statistics', () => {
  it.each([false, true])(
    'ball on an oblique anisotropic grid (left-handed %s): volume within 2%%, centroid within 0.5 voxel',
    (lh) => {
      const grid = obliqueGrid([40, 34, 24], lh);
      const c = lpsFromIjk(grid, [19.3, 16.6, 11.2]);
      const R = 12;
      const ball = ballVolume(grid, c, R, 1, 0).data;
      const labels = makeLabelMap({
        grid,
        data: Uint8Array.from(ball),
        segments: [{ value: 1, name: 'ball', color: [1, 2, 3] }],
      });
      const [s] = labelStats(labels);
      const want = (4 / 3) * Math.PI * R ** 3;
      expect(s!.name).toBe('ball');
      expect(Math.abs(s!.volumeMm3 - want) / want).toBeLessThan(0.02);
      expect(s!.volumeMl).toBeCloseTo(s!.volumeMm3 / 1000, 12);
      const d = Math.hypot(s!.centroidLps![0] - c[0], s!.centroidLps![1] - c[1], s!.centroidLps![2] - c[2]);
      expect(d).toBeLessThan(0.5 * Math.min(...grid.spacing));
      // the LPS box encloses the ball (voxel extents) and is not much bigger than its axis-aligned box
      for (let a = 0; a < 3; a++) {
        expect(s!.bboxLps!.min[a]!).toBeLessThanOrEqual(c[a]! - R + 0.01);
        expect(s!.bboxLps!.max[a]!).toBeGreaterThanOrEqual(c[a]! + R - 0.01);
      }
      expect(voxelVolumeMm3(grid)).toBeCloseTo(0.9 * 1.1 * 1.6, 12);
    },
  );

  it('table-driven: counts, boxes, intensities, unnamed and empty segments', () => {
    const grid = makeGrid({ size: [3, 2, 2], spacing: [2, 1, 0.5], origin: [10, 20, 30] });
    // biome-ignore format: picture
    const data = new Uint16Array([
      1, 1, 0,
      0, 2, 0,
      0, 0, 0,
      0, 0, 9,
    ]);
    const image = makeVolume({ grid, data: new Float32Array([10, 20, 0, 0, 5, 0, 0, 0, 0, 0, 0, -7]), units: 'HU' });
    const labels = makeLabelMap({
      grid,
      data,
      segments: [
        { value: 1, name: 'a', color: [0, 0, 0] },
        { value: 4, name: 'empty', color: [0, 0, 0] },
      ],
    });
    const st = labelStats(labels, { image });
    expect(st.map((s) => [s.value, s.name, s.voxels, s.volumeMm3])).toEqual([
      [1, 'a', 2, 2],
      [2, 'label 2', 1, 1],
      [4, 'empty', 0, 0],
      [9, 'label 9', 1, 1],
    ]);
    const a = st[0]!;
    expect(a.bboxIjk).toEqual({ min: [0, 0, 0], max: [1, 0, 0] });
    expect(a.bboxLps).toEqual({ min: [9, 19.5, 29.75], max: [13, 20.5, 30.25] });
    expect(a.centroidLps).toEqual([11, 20, 30]);
    expect(a.intensity!.mean).toBe(15);
    expect(a.intensity!.min).toBe(10);
    expect(a.intensity!.max).toBe(20);
    expect(a.intensity!.std).toBeCloseTo(Math.SQRT2 * 5, 12);
    expect(st[3]!.intensity).toEqual({ mean: -7, min: -7, max: -7, std: 0 });
    expect(st[3]!.centroidLps).toEqual([14, 21, 30.5] as Vec3);
    expect(labelStats(labels, { includeEmpty: false }).map((s) => s.value)).toEqual([1, 2, 9]);
  });

  it('refuses an image on another grid, saying how it differs', () => {
    const grid = makeGrid({ size: [3, 2, 2] });
    const labels = makeLabelMap({ grid, data: new Uint8Array(12) });
    const other = makeVolume({ grid: makeGrid({ size: [3, 2, 2], origin: [0, 0, 1] }), data: new Float32Array(12) });
    expect(() => labelStats(labels, { image: other })).toThrow(
      /not on the same grid: their voxel centres differ by up to 1\.000 mm/,
    );
    const smaller = makeVolume({ grid: makeGrid({ size: [3, 2, 1] }), data: new Float32Array(6) });
    expect(() => labelStats(labels, { image: smaller })).toThrow(/3x2x1 voxels and the labels 3x2x2/);
  });
});

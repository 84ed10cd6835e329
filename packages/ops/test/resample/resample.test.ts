import { ijkFromLps, lpsFromIjk, makeGrid, makeVolume, S2SError, type Vec3, worldBounds } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { resample, resampledGrid } from '../../src/resample/resample.js';
import { ballVolume, count, forEachVoxelLps, gridCentre, obliqueGrid, shellMask } from '../filters/helpers.js';

const dist = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);

describe('resampledGrid keeps the physical box and the orientation', () => {
  const grid = obliqueGrid([30, 21, 17]); // spacing 0.8, 1.1, 1.3, left-handed oblique
  it("fit 'extent': same box exactly", () => {
    const g = resampledGrid(grid, 0.5, 'extent');
    expect(g.direction).toEqual(grid.direction);
    for (let a = 0; a < 3; a++) expect(g.size[a]! * g.spacing[a]!).toBeCloseTo(grid.size[a]! * grid.spacing[a]!, 9);
    expect(dist(gridCentre(g), gridCentre(grid))).toBeLessThan(1e-9);
    // corner faces coincide: centre of the first voxel minus half a voxel along each axis
    const corner = (gr: typeof g) => lpsFromIjk(gr, [-0.5, -0.5, -0.5]);
    expect(dist(corner(g), corner(grid))).toBeLessThan(1e-9);
  });
  it("fit 'spacing' (default): exact spacing, same centre, extent within one new voxel", () => {
    const g = resampledGrid(grid, 0.7);
    expect(g.spacing).toEqual([0.7, 0.7, 0.7]);
    expect(g.size).toEqual([34, 33, 32]); // 24/0.7, 23.1/0.7, 22.1/0.7 rounded
    expect(dist(gridCentre(g), gridCentre(grid))).toBeLessThan(1e-9);
    for (let a = 0; a < 3; a++)
      expect(Math.abs(g.size[a]! * 0.7 - grid.size[a]! * grid.spacing[a]!)).toBeLessThanOrEqual(0.35 + 1e-9);
  });
  it('default spacing is isotropic at the smallest spacing', () => {
    expect(resampledGrid(grid, undefined).spacing).toEqual([0.8, 0.8, 0.8]);
  });
  it('refuses a zero spacing', () => {
    expect(() => resampledGrid(grid, 0)).toThrow(S2SError);
  });
});

describe('resample values', () => {
  const grid = obliqueGrid([24, 18, 14]);
  const f = (x: number, y: number, z: number) => 0.3 * x - 1.7 * y + 2.2 * z + 5;
  const n = 24 * 18 * 14;
  const ramp = new Float32Array(n);
  forEachVoxelLps(grid, (p, x, y, z) => {
    ramp[p] = f(x, y, z);
  });
  for (const interpolation of ['linear', 'cubic'] as const) {
    it(`${interpolation}: a linear function of LPS position is reproduced at the new voxel centres (interior)`, () => {
      const out = resample(makeVolume({ grid, data: ramp }), { spacing: [0.5, 0.9, 0.6], interpolation });
      expect(out.data).toBeInstanceOf(Float32Array);
      let checked = 0;
      forEachVoxelLps(out.grid, (p, x, y, z) => {
        const ijk = ijkFromLps(grid, [x, y, z]);
        if (ijk.some((c, a) => c < 1 || c > grid.size[a]! - 2)) return;
        checked++;
        expect(Math.abs(out.data[p]! - f(x, y, z))).toBeLessThan(2e-3);
      });
      expect(checked).toBeGreaterThan(1000);
    });
  }
  it('nearest keeps labels and type: each new voxel holds the old voxel its centre falls in', () => {
    const labels = Uint16Array.from({ length: n }, (_, p) => (p * 7919) % 65521);
    const out = resample(makeVolume({ grid, data: labels }), { spacing: 0.45, interpolation: 'nearest' });
    expect(out.data).toBeInstanceOf(Uint16Array);
    forEachVoxelLps(out.grid, (p, x, y, z) => {
      if (p % 13) return;
      const ijk = ijkFromLps(grid, [x, y, z]).map((c, a) => Math.min(grid.size[a]! - 1, Math.max(0, Math.round(c))));
      // ties (exactly half-way) can go either way; away from ties the answer is unique
      const frac = ijkFromLps(grid, [x, y, z]).map((c) => Math.abs(c - Math.floor(c) - 0.5));
      if (frac.some((d) => d < 1e-6)) return;
      expect(out.data[p]).toBe(labels[ijk[0]! + 24 * (ijk[1]! + 18 * ijk[2]!)]);
    });
  });
  it('same spacing is the identity', () => {
    const out = resample(makeVolume({ grid, data: ramp }), { spacing: grid.spacing as Vec3, interpolation: 'cubic' });
    expect(out.grid.size).toEqual(grid.size);
    expect(dist(out.grid.origin, grid.origin)).toBeLessThan(1e-9);
    for (let p = 0; p < n; p++) expect(out.data[p]).toBeCloseTo(ramp[p]!, 4);
  });
  it('a ball keeps its volume through nearest resampling to 0.5 mm isotropic (within 2%)', () => {
    const g = obliqueGrid([40, 30, 26]);
    const ball = shellMask(g, gridCentre(g), 8);
    const out = resample(makeVolume({ grid: g, data: ball }), { spacing: 0.5, interpolation: 'nearest' });
    expect(Math.abs(count(out.data) * 0.125 - ballVolume(8)) / ballVolume(8)).toBeLessThan(0.02);
    const [lo, hi] = worldBounds(out.grid);
    const [lo0, hi0] = worldBounds(g);
    for (let a = 0; a < 3; a++) expect(Math.abs(lo[a]! + hi[a]! - (lo0[a]! + hi0[a]!))).toBeLessThan(1e-6);
  });
  it('integer data with keepType is rounded and clamped', () => {
    const g = makeGrid({ size: [3, 1, 1], spacing: [2, 1, 1] });
    const out = resample(makeVolume({ grid: g, data: Int16Array.from([0, 32767, 0]) }), {
      spacing: [1, 1, 1],
      interpolation: 'cubic',
      keepType: true,
    });
    expect(out.data).toBeInstanceOf(Int16Array);
    expect(Math.max(...out.data)).toBeLessThanOrEqual(32767);
  });
  it('works on a sheared (gantry-tilted) grid: per-axis mapping, geometry kept', () => {
    const g = makeGrid({
      size: [8, 8, 6],
      spacing: [1, 1, 2],
      direction: [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0.25, 1],
      ],
    });
    const d = new Float32Array(8 * 8 * 6);
    forEachVoxelLps(g, (p, x, y, z) => {
      d[p] = f(x, y, z);
    });
    const out = resample(makeVolume({ grid: g, data: d }), { spacing: [1, 1, 1] });
    expect(out.grid.direction).toEqual(g.direction);
    forEachVoxelLps(out.grid, (p, x, y, z) => {
      const ijk = ijkFromLps(g, [x, y, z]);
      if (ijk.some((c, a) => c < 0 || c > g.size[a]! - 1)) return;
      expect(Math.abs(out.data[p]! - f(x, y, z))).toBeLessThan(2e-3);
    });
  });
});

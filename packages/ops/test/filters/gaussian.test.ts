import { makeGrid, makeVolume, S2SError, type Vec3 } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { edgeIndex, gaussian, gaussianKernel } from '../../src/filters/gaussian.js';
import { describeScipy, obliqueGrid, rng, runScipy } from './helpers.js';

describe('gaussian: kernel and edges', () => {
  it('kernel matches scipy: radius floor(4 sigma + 0.5), sums to 1', () => {
    const w = gaussianKernel(1.43);
    expect(w.length).toBe(2 * Math.floor(4 * 1.43 + 0.5) + 1);
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(Array.from(gaussianKernel(0.1))).toEqual([1]);
  });
  it.each([
    [-1, 4, 'nearest', 0],
    [5, 4, 'nearest', 3],
    [-1, 4, 'reflect', 0],
    [-2, 4, 'reflect', 1],
    [4, 4, 'reflect', 3],
    [9, 4, 'reflect', 1],
    [-9, 4, 'reflect', 0],
  ] as const)('edgeIndex(%i, %i, %s) = %i', (x, n, mode, want) => {
    expect(edgeIndex(x, n, mode)).toBe(want);
  });
});

describe('gaussian: analytic properties on an oblique anisotropic grid', () => {
  const size: Vec3 = [41, 31, 25];
  const grid = obliqueGrid(size, [0.6, 0.9, 1.5]);
  it('an impulse spreads with the requested sigma in mm along every axis (second moment within 1%)', () => {
    const data = new Float32Array(size[0] * size[1] * size[2]);
    const c = [20, 15, 12];
    data[c[0]! + size[0] * (c[1]! + size[1] * c[2]!)] = 1;
    const sigma = 1.8;
    const out = gaussian(makeVolume({ grid, data }), { sigmaMm: sigma }).data;
    let sum = 0;
    const m2 = [0, 0, 0];
    for (let k = 0; k < size[2]; k++)
      for (let j = 0; j < size[1]; j++)
        for (let i = 0; i < size[0]; i++) {
          const v = out[i + size[0] * (j + size[1] * k)]!;
          sum += v;
          m2[0]! += v * ((i - c[0]!) * grid.spacing[0]) ** 2;
          m2[1]! += v * ((j - c[1]!) * grid.spacing[1]) ** 2;
          m2[2]! += v * ((k - c[2]!) * grid.spacing[2]) ** 2;
        }
    expect(sum).toBeCloseTo(1, 5);
    for (const m of m2) expect(Math.abs(Math.sqrt(m / sum) - sigma) / sigma).toBeLessThan(0.01);
  });
  it('keeps a constant image and a linear ramp (away from the edges) and the geometry', () => {
    const n = size[0] * size[1] * size[2];
    const ramp = new Float32Array(n);
    for (let p = 0; p < n; p++) ramp[p] = 3 + 0.5 * (p % size[0]);
    const v = makeVolume({ grid, data: ramp, units: 'HU' });
    const out = gaussian(v, { sigmaMm: [1, 0, 0] });
    expect(out.grid).toBe(grid);
    expect(out.units).toBe('HU');
    for (let i = 8; i < size[0] - 8; i++) expect(out.data[i]).toBeCloseTo(3 + 0.5 * i, 4);
    const flat = gaussian(makeVolume({ grid, data: new Int16Array(n).fill(-1000) }), { sigmaMm: 2 });
    for (let p = 0; p < n; p += 97) expect(flat.data[p]).toBeCloseTo(-1000, 3);
  });
  it('filters each component of an RGB volume separately', () => {
    const g = makeGrid({ size: [4, 3, 2] });
    const data = new Uint8Array(24 * 3);
    for (let p = 0; p < 24; p++) {
      data[p * 3] = 10;
      data[p * 3 + 1] = 20;
      data[p * 3 + 2] = 30;
    }
    const out = gaussian(makeVolume({ grid: g, data, components: 3 }), { sigmaMm: 1 });
    expect(Array.from(out.data.slice(0, 6)).map((x) => Math.round(x))).toEqual([10, 20, 30, 10, 20, 30]);
  });
  it('refuses a negative sigma and an unknown mode', () => {
    const v = makeVolume({ grid: makeGrid({ size: [2, 2, 2] }), data: new Float32Array(8) });
    expect(() => gaussian(v, { sigmaMm: -1 })).toThrow(S2SError);
    expect(() => gaussian(v, { mode: 'wrap' as 'nearest' })).toThrow(S2SError);
  });
});

describeScipy('gaussian: same input as scipy.ndimage.gaussian_filter', () => {
  const size: Vec3 = [37, 29, 23];
  const spacing: Vec3 = [0.7, 1.1, 2.3];
  const r = rng(99);
  const data = new Float64Array(size[0] * size[1] * size[2]);
  for (let p = 0; p < data.length; p++) data[p] = r();
  for (const mode of ['nearest', 'reflect'] as const) {
    it(`sigma 1.6 mm, mode ${mode}, truncate 4: values within 1e-4`, () => {
      const sv = spacing.map((s) => 1.6 / s);
      const ref = runScipy(
        `out('g', ndi.gaussian_filter(x, sigma=(${sv[2]}, ${sv[1]}, ${sv[0]}), mode='${mode}', truncate=4.0))`,
        { x: data },
        size,
      );
      const out = gaussian(makeVolume({ grid: makeGrid({ size, spacing }), data }), { sigmaMm: 1.6, mode }).data;
      let worst = 0;
      for (let p = 0; p < data.length; p++) worst = Math.max(worst, Math.abs(out[p]! - ref.g![p]!));
      expect(worst).toBeLessThan(1e-4);
    });
  }
});

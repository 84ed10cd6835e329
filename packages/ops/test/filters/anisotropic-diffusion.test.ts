import { makeGrid, makeVolume, S2SError, type Vec3 } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { anisotropicDiffusion, diffusionStableTimeStep } from '../../src/filters/anisotropic-diffusion.js';
import { gaussian } from '../../src/filters/gaussian.js';
import { rng } from './helpers.js';

describe('anisotropic diffusion', () => {
  const size: Vec3 = [30, 20, 16];
  const grid = makeGrid({ size, spacing: [0.7, 0.7, 1.2] });
  const n = size[0] * size[1] * size[2];
  // a 0 / 1000 step along i (at i = 15) with noise sigma 20
  const r = rng(5);
  const clean = new Float32Array(n);
  const noisy = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    clean[p] = p % size[0] < 15 ? 0 : 1000;
    const g = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    noisy[p] = clean[p]! + 20 * g;
  }
  const rms = (a: ArrayLike<number>, sel: (i: number) => boolean) => {
    let s = 0;
    let c = 0;
    for (let p = 0; p < n; p++) {
      if (!sel(p % size[0])) continue;
      s += (a[p]! - clean[p]!) ** 2;
      c++;
    }
    return Math.sqrt(s / c);
  };
  const flat = (i: number) => i < 12 || i > 17;
  const edge = (i: number) => i === 14 || i === 15;

  it('reduces noise in flat regions and keeps the edge sharp, unlike a Gaussian of similar strength', () => {
    const v = makeVolume({ grid, data: noisy });
    const ad = anisotropicDiffusion(v, { iterations: 10, edgeGradient: 100 }).data;
    const ga = gaussian(v, { sigmaMm: 1 }).data;
    expect(rms(ad, flat)).toBeLessThan(0.5 * rms(noisy, flat));
    expect(rms(ad, edge)).toBeLessThan(0.1 * rms(ga, edge));
  });

  it('preserves the sum (zero flux at the edges) and a constant image', () => {
    const v = makeVolume({ grid, data: noisy });
    const ad = anisotropicDiffusion(v, { iterations: 4, conductanceFunction: 'quadratic' }).data;
    let a = 0;
    let b = 0;
    for (let p = 0; p < n; p++) {
      a += noisy[p]!;
      b += ad[p]!;
    }
    expect(Math.abs(a - b) / Math.abs(a)).toBeLessThan(1e-5);
    const c = anisotropicDiffusion(makeVolume({ grid, data: new Int16Array(n).fill(7) }), { iterations: 3 }).data;
    expect(Array.from(c).every((x) => x === 7)).toBe(true);
  });

  it('refuses an unstable time step', () => {
    const v = makeVolume({ grid, data: noisy });
    expect(() => anisotropicDiffusion(v, { timeStep: diffusionStableTimeStep(grid) * 1.5 })).toThrow(S2SError);
    expect(diffusionStableTimeStep(grid)).toBeCloseTo(1 / (2 * (2 / 0.49 + 1 / 1.44)), 12);
  });
});

// The WebAssembly SIMD kernel of the Gaussian: present in Node, equal to the JS passes within
// float32 rounding on awkward shapes (rows not a multiple of 8, radius larger than the axis,
// memory growth), and its committed bytes are what scripts/build-wasm.mjs builds from the WAT.
import { createRequire } from 'node:module';
import { makeGrid, makeVolume, type Vec3 } from '@slice2solid/core';
import { afterEach, describe, expect, it } from 'vitest';
import { gaussian } from '../../src/filters/gaussian.js';
import { gaussianSimd, setGaussianSimdEnabled } from '../../src/filters/gaussian-simd.js';
import { rng } from './helpers.js';

afterEach(() => setGaussianSimdEnabled(true));

function both(size: Vec3, spacing: Vec3, sigmaMm: number | Vec3, mode: 'nearest' | 'reflect', seed: number) {
  const r = rng(seed);
  const data = new Float32Array(size[0] * size[1] * size[2]);
  for (let p = 0; p < data.length; p++) data[p] = 2000 * r() - 1000;
  const v = makeVolume({ grid: makeGrid({ size, spacing }), data });
  setGaussianSimdEnabled(true);
  const simd = gaussian(v, { sigmaMm, mode }).data;
  setGaussianSimdEnabled(false);
  const js = gaussian(v, { sigmaMm, mode }).data;
  setGaussianSimdEnabled(true);
  let worst = 0;
  for (let p = 0; p < data.length; p++) worst = Math.max(worst, Math.abs(simd[p]! - js[p]!));
  return { simd, js, worst };
}

describe('gaussian: WebAssembly SIMD kernel', () => {
  it('is available in Node 20 (so the fast path is the one tested)', () => {
    expect(gaussianSimd()).not.toBeNull();
  });

  it.each([
    ['odd rows, anisotropic', [13, 7, 5], [0.7, 1.1, 2.3], 1.6, 'nearest'],
    ['odd rows, reflect', [13, 7, 5], [0.7, 1.1, 2.3], 1.6, 'reflect'],
    ['radius larger than every axis', [3, 4, 2], [1, 1, 1], 3, 'reflect'],
    ['radius larger than every axis, nearest', [3, 4, 2], [1, 1, 1], 3, 'nearest'],
    ['single-voxel axes', [1, 9, 1], [1, 1, 1], 1, 'reflect'],
    ['one axis only', [17, 3, 6], [1, 1, 1], [0, 0, 1.5], 'nearest'],
    ['rows a multiple of 8', [16, 8, 8], [0.5, 0.5, 0.5], 1, 'nearest'],
  ] as const)('%s: same as the JS passes within float32 rounding', (_name, size, spacing, sigma, mode) => {
    const { worst } = both(size as unknown as Vec3, spacing as unknown as Vec3, sigma as number | Vec3, mode, 5);
    // values in [-1000, 1000): float32 spacing there is 6e-5; allow a few roundings
    expect(worst).toBeLessThan(1e-3);
  });

  it('grows its memory for long rows and columns (70000 x 2 x 3, both runs)', () => {
    const first = both([70000, 2, 3], [0.1, 1, 1], 1, 'nearest', 7);
    expect(first.worst).toBeLessThan(1e-3);
    // a second call after the growth reuses the grown memory through renewed views
    const again = both([70000, 2, 3], [0.1, 1, 1], 1, 'nearest', 7);
    expect(again.simd).toEqual(first.simd);
  });

  it('an impulse keeps its mass and symmetry through the SIMD path', () => {
    const size: Vec3 = [21, 21, 21];
    const data = new Float32Array(21 * 21 * 21);
    data[10 + 21 * 10 + 441 * 10] = 1;
    const out = gaussian(makeVolume({ grid: makeGrid({ size }), data }), { sigmaMm: 1.5 }).data;
    let sum = 0;
    for (const x of out) sum += x;
    expect(sum).toBeCloseTo(1, 5);
    for (let d = 1; d <= 8; d++) {
      const c = 10 + 21 * 10 + 441 * 10;
      expect(out[c - d]).toBe(out[c + d]);
      expect(out[c - 21 * d]).toBe(out[c + 21 * d]);
      expect(out[c - 441 * d]).toBe(out[c + 441 * d]);
    }
  });
});

const haveWabt = (() => {
  try {
    createRequire(import.meta.url).resolve('wabt');
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!haveWabt && !process.env.CI)('gaussian: committed wasm bytes', () => {
  it('regenerating from the WAT source gives the committed module (node scripts/build-wasm.mjs)', async () => {
    const { readFileSync } = await import('node:fs');
    // @ts-expect-error: plain .mjs build script without types
    const { buildWasmModules } = await import('../../../../scripts/build-wasm.mjs');
    const built = (await buildWasmModules()) as { path: string; text: string }[];
    expect(built.length).toBeGreaterThan(0);
    for (const { path, text } of built) expect(readFileSync(path, 'utf8')).toBe(text);
  });
});

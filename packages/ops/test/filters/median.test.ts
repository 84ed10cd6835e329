import { makeGrid, makeVolume, S2SError, type Vec3 } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { median, medianData } from '../../src/filters/median.js';
import { describeScipy, rng, runScipy } from './helpers.js';

/** Brute-force median with edge clamping. */
function brute(data: ArrayLike<number>, size: Vec3, r: Vec3): number[] {
  const [nx, ny, nz] = size;
  const c = (x: number, n: number) => Math.min(n - 1, Math.max(0, x));
  const out: number[] = [];
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const w: number[] = [];
        for (let dk = -r[2]; dk <= r[2]; dk++)
          for (let dj = -r[1]; dj <= r[1]; dj++)
            for (let di = -r[0]; di <= r[0]; di++)
              w.push(data[c(i + di, nx) + nx * (c(j + dj, ny) + ny * c(k + dk, nz))]!);
        w.sort((a, b) => a - b);
        out.push(w[(w.length - 1) >> 1]!);
      }
  return out;
}

describe('median: against brute force', () => {
  const size: Vec3 = [11, 9, 7];
  const n = size[0] * size[1] * size[2];
  const r = rng(3);
  const i16 = new Int16Array(n);
  const u8 = new Uint8Array(n);
  const f32 = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    i16[p] = Math.round(r() * 4000 - 2000);
    u8[p] = Math.floor(r() * 256);
    f32[p] = r() * 10 - 5;
  }
  const grid = makeGrid({ size });
  for (const [name, data] of [
    ['int16 (histogram path)', i16],
    ['uint8 (histogram path)', u8],
    ['float32 (selection path)', f32],
  ] as const) {
    for (const rad of [
      [1, 1, 1],
      [2, 1, 0],
      [0, 0, 2],
    ] as Vec3[]) {
      it(`${name}, radius ${rad.join(',')}`, () => {
        const out = medianData(data, grid, { radius: rad });
        expect(out.constructor).toBe(data.constructor);
        expect(Array.from(out)).toEqual(brute(data, size, rad));
      });
    }
  }
  it('removes salt-and-pepper noise from a flat image', () => {
    const d = new Int16Array(n).fill(40);
    for (let p = 5; p < n; p += 17) d[p] = p % 2 ? 3000 : -1000;
    const out = median(makeVolume({ grid, data: d }), { radius: 1 }).data;
    expect(Array.from(out).every((v) => v === 40)).toBe(true);
  });
  it('refuses a fractional radius', () => {
    expect(() => medianData(i16, grid, { radius: 1.5 })).toThrow(S2SError);
  });
});

describeScipy('median: same input as scipy.ndimage.median_filter', () => {
  it('int16, size 3, mode nearest: identical', () => {
    const size: Vec3 = [33, 27, 19];
    const r = rng(17);
    const data = new Int16Array(size[0] * size[1] * size[2]);
    for (let p = 0; p < data.length; p++) data[p] = Math.round(r() * 3000 - 1000);
    const ref = runScipy(`out('m', ndi.median_filter(x, size=3, mode='nearest'))`, { x: data }, size);
    const out = medianData(data, makeGrid({ size }), { radius: 1 });
    let diff = 0;
    for (let p = 0; p < data.length; p++) if (out[p] !== ref.m![p]) diff++;
    expect(diff).toBe(0);
  });
});

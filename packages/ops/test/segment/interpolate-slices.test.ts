import { makeGrid } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { interpolateSlices } from '../../src/segment/interpolate-slices.js';
import { sum } from './phantoms.js';

/** A mask with discs of radius r[s] (mm) centred at (cx, cy) mm on the listed slices. */
function discs(
  size: [number, number, number],
  spacing: [number, number, number],
  slices: Record<number, [number, number, number]>,
): Uint8Array {
  const [nx, ny] = size;
  const m = new Uint8Array(size[0] * size[1] * size[2]);
  for (const [ks, [r, cx, cy]] of Object.entries(slices)) {
    const k = Number(ks);
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++)
        if (Math.hypot(i * spacing[0] - cx, j * spacing[1] - cy) <= r) m[i + nx * (j + ny * k)] = 1;
  }
  return m;
}

describe('interpolate slices (shape-based)', () => {
  it('a ball drawn on 3 slices fills to the volume of the two frusta it defines (within 5%) and keeps the drawn slices', () => {
    // ball radius R = 20 mm, centre 30 mm; drawn at z = 30 - 16, 30, 30 + 16 (radii 12, 20, 12)
    const spacing: [number, number, number] = [0.8, 0.8, 1];
    const size: [number, number, number] = [76, 76, 61];
    const R = 20;
    const c = 30;
    const drawn = { 14: [12, c, c], 30: [R, c, c], 46: [12, c, c] } as Record<number, [number, number, number]>;
    const grid = makeGrid({ size, spacing });
    const m = discs(size, spacing, drawn);
    const out = interpolateSlices(m, grid);
    const voxelMm3 = 0.8 * 0.8 * 1;
    // two frusta of height 16 between radii 12 and 20: pi h / 3 (R^2 + R r + r^2) each
    const frusta = 2 * ((Math.PI * 16) / 3) * (20 * 20 + 20 * 12 + 12 * 12);
    const got = sum(out) * voxelMm3;
    expect(Math.abs(got - frusta) / frusta).toBeLessThan(0.05);
    // and within 20% of the true ball part between the drawn slices (linear interpolation cuts the bulge)
    const ballPart = Math.PI * (R * R * 32 - (2 * 16 ** 3) / 3);
    expect(Math.abs(got - ballPart) / ballPart).toBeLessThan(0.2);
    // drawn slices are unchanged; nothing is added outside the drawn range
    for (const k of [14, 30, 46]) {
      const a = m.subarray(k * 76 * 76, (k + 1) * 76 * 76);
      const b = out.subarray(k * 76 * 76, (k + 1) * 76 * 76);
      expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).toBe(0);
    }
    expect(sum(out.subarray(0, 14 * 76 * 76))).toBe(0);
    // the in-between slice radius grows linearly: at z = 22 the radius is about 16 mm
    const k = 22;
    const area = sum(out.subarray(k * 76 * 76, (k + 1) * 76 * 76)) * 0.64;
    expect(Math.sqrt(area / Math.PI)).toBeGreaterThan(15.2);
    expect(Math.sqrt(area / Math.PI)).toBeLessThan(16.8);
  });

  it('a shape that moves between drawn slices is placed halfway in between', () => {
    // (shapes must overlap between drawn slices; disjoint ones vanish in between - see the module doc)
    const size: [number, number, number] = [40, 20, 5];
    const grid = makeGrid({ size, spacing: [1, 1, 2] });
    const m = discs(size, [1, 1, 2], { 0: [7, 15, 10], 4: [7, 25, 10] });
    const out = interpolateSlices(m, grid);
    let si = 0;
    let n = 0;
    for (let j = 0; j < 20; j++)
      for (let i = 0; i < 40; i++)
        if (out[i + 40 * (j + 20 * 2)]) {
          si += i;
          n++;
        }
    expect(n).toBeGreaterThan(0);
    expect(si / n).toBeCloseTo(20, 0);
  });

  it('works across any axis: axis 0 on transposed data gives the transposed result', () => {
    const size: [number, number, number] = [9, 12, 14];
    const m = discs(size, [1, 1, 1], { 2: [3, 4, 6], 11: [5, 4, 6] });
    const out = interpolateSlices(m, makeGrid({ size }));
    // transpose (i, j, k) -> (k, j, i)
    const t = new Uint8Array(m.length);
    for (let k = 0; k < 14; k++)
      for (let j = 0; j < 12; j++) for (let i = 0; i < 9; i++) t[k + 14 * (j + 12 * i)] = m[i + 9 * (j + 12 * k)]!;
    const outT = interpolateSlices(t, makeGrid({ size: [14, 12, 9] }), { axis: 0 });
    let diff = 0;
    for (let k = 0; k < 14; k++)
      for (let j = 0; j < 12; j++)
        for (let i = 0; i < 9; i++) if (outT[k + 14 * (j + 12 * i)] !== out[i + 9 * (j + 12 * k)]) diff++;
    expect(diff).toBe(0);
    expect(sum(out)).toBeGreaterThan(sum(m));
  });

  it('an explicitly drawn empty slice ends the structure halfway; fewer than 2 drawn slices change nothing', () => {
    const size: [number, number, number] = [30, 30, 11];
    const grid = makeGrid({ size });
    const m = discs(size, [1, 1, 1], { 0: [8, 15, 15] });
    const out = interpolateSlices(m, grid, { drawnSlices: [0, 10] });
    const area = (k: number) => sum(out.subarray(k * 900, (k + 1) * 900));
    expect(area(1)).toBeGreaterThan(0);
    expect(area(4)).toBeLessThan(area(1));
    expect(area(6)).toBe(0);
    expect(interpolateSlices(m, grid)).toEqual(m);
    expect(() => interpolateSlices(m, grid, { drawnSlices: [0, 11] })).toThrow(/outside/);
    expect(() => interpolateSlices(m.subarray(1), grid)).toThrow(/voxels/);
  });
});

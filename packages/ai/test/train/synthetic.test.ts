import { lpsFromIjkMatrix, reorientPlan } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { SYNTHETIC_CASE_DEFAULTS, SYNTHETIC_INTENSITIES, syntheticCase } from '../../src/train/synthetic.js';

function classStats(image: Float32Array, labels: Uint8Array, value: number) {
  let n = 0;
  let s = 0;
  let s2 = 0;
  for (let v = 0; v < labels.length; v++) {
    if (labels[v] !== value) continue;
    n++;
    s += image[v]!;
    s2 += image[v]! * image[v]!;
  }
  const mean = s / n;
  return { n, mean, sd: Math.sqrt(s2 / n - mean * mean) };
}

describe('syntheticCase', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = syntheticCase(7);
    const b = syntheticCase(7);
    const c = syntheticCase(8);
    expect(Buffer.from(a.image.data.buffer).equals(Buffer.from(b.image.data.buffer))).toBe(true);
    expect(Buffer.from(a.labels.data.buffer).equals(Buffer.from(b.labels.data.buffer))).toBe(true);
    expect(Buffer.from(a.labels.data.buffer).equals(Buffer.from(c.labels.data.buffer))).toBe(false);
  });

  it('has the default geometry: 48^3 at 1.5 mm, RAS index axes, centred on the LPS origin', () => {
    const { image, labels } = syntheticCase(1);
    expect(image.grid.size).toEqual(SYNTHETIC_CASE_DEFAULTS.size);
    expect(image.grid.spacing).toEqual(SYNTHETIC_CASE_DEFAULTS.spacing);
    expect(labels.grid).toEqual(image.grid);
    expect(image.data).toBeInstanceOf(Float32Array);
    expect(labels.data).toBeInstanceOf(Uint8Array);
    expect(image.data.length).toBe(48 * 48 * 48);
    // already in RAS order: reorienting to RAS changes nothing
    expect(reorientPlan(image.grid, 'RAS')).toEqual({ perm: [0, 1, 2], flip: [false, false, false] });
    // centre of the box at LPS (0, 0, 0): voxel (0,0,0) and (47,47,47) are mirror images
    const m = lpsFromIjkMatrix(image.grid);
    const p0 = [m[3]!, m[7]!, m[11]!];
    const p1 = [0, 1, 2].map((r) => m[r * 4]! * 47 + m[r * 4 + 1]! * 47 + m[r * 4 + 2]! * 47 + m[r * 4 + 3]!);
    for (let a = 0; a < 3; a++) expect(p0[a]! + p1[a]!).toBeCloseTo(0, 9);
    expect(labels.segments.map((s) => [s.value, s.name])).toEqual([
      [1, 'ellipsoid'],
      [2, 'tube'],
    ]);
  });

  it('follows size and spacing options', () => {
    const { image } = syntheticCase(3, { size: [32, 40, 24], spacing: [1, 1.2, 2] });
    expect(image.grid.size).toEqual([32, 40, 24]);
    expect(image.grid.spacing).toEqual([1, 1.2, 2]);
    expect(image.data.length).toBe(32 * 40 * 24);
  });

  it('labels sit where the intensities say: class means and noise as specified', () => {
    let ellipsoidVoxels = 0;
    let tubeVoxels = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const { image, labels } = syntheticCase(seed);
      const img = image.data as Float32Array;
      const lbl = labels.data as Uint8Array;
      const bg = classStats(img, lbl, 0);
      const el = classStats(img, lbl, 1);
      const tu = classStats(img, lbl, 2);
      ellipsoidVoxels += el.n;
      tubeVoxels += tu.n;
      expect(el.n).toBeGreaterThan(100);
      expect(tu.n).toBeGreaterThan(50);
      // means within the smooth background variation (< ~18 HU) of the nominal values
      expect(Math.abs(bg.mean - SYNTHETIC_INTENSITIES.background)).toBeLessThan(15);
      expect(Math.abs(el.mean - SYNTHETIC_INTENSITIES.ellipsoid)).toBeLessThan(15);
      expect(Math.abs(tu.mean - SYNTHETIC_INTENSITIES.tube)).toBeLessThan(15);
      // noise sd 25 plus a little background variation
      expect(bg.sd).toBeGreaterThan(24);
      expect(bg.sd).toBeLessThan(32);
      // foreground is a minority of the box
      expect(el.n + tu.n).toBeLessThan(0.35 * lbl.length);
    }
    expect(ellipsoidVoxels).toBeGreaterThan(tubeVoxels * 0.5);
  });

  it('noise 0 leaves only the smooth background variation', () => {
    const { image, labels } = syntheticCase(4, { noise: 0 });
    const img = image.data as Float32Array;
    const lbl = labels.data as Uint8Array;
    for (const [value, mean] of [
      [0, SYNTHETIC_INTENSITIES.background],
      [1, SYNTHETIC_INTENSITIES.ellipsoid],
      [2, SYNTHETIC_INTENSITIES.tube],
    ] as const) {
      let maxDev = 0;
      for (let v = 0; v < lbl.length; v++) {
        if (lbl[v] === value) maxDev = Math.max(maxDev, Math.abs(img[v]! - mean));
      }
      expect(maxDev).toBeGreaterThan(0.5);
      expect(maxDev).toBeLessThanOrEqual(18.001);
    }
  });

  it('applies intensityScale then intensityShift to every voxel, labels unchanged', () => {
    const a = syntheticCase(11);
    const b = syntheticCase(11, { intensityScale: 0.8, intensityShift: 120 });
    expect(Buffer.from(a.labels.data.buffer).equals(Buffer.from(b.labels.data.buffer))).toBe(true);
    const ia = a.image.data as Float32Array;
    const ib = b.image.data as Float32Array;
    let maxErr = 0;
    for (let v = 0; v < ia.length; v++) maxErr = Math.max(maxErr, Math.abs(ib[v]! - (ia[v]! * 0.8 + 120)));
    expect(maxErr).toBeLessThan(1e-3);
    expect(Math.abs(ib[0]! - ia[0]!)).toBeGreaterThan(1);
  });
});

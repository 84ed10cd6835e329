import { makeGrid, makeVolume } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { histogram, otsuBinsFromHistogram, otsuThresholds } from '../../src/segment/otsu.js';
import { gaussian, rng } from './phantoms.js';

/** Between-class variance computed directly: sum_c w_c (mu_c - mu)^2 (independent of the DP's S^2/P form). */
function betweenVariance(counts: number[], cuts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const mu = counts.reduce((a, c, b) => a + c * b, 0) / total;
  const bounds = [-1, ...cuts, counts.length - 1];
  let v = 0;
  for (let c = 1; c < bounds.length; c++) {
    let w = 0;
    let s = 0;
    for (let b = bounds[c - 1]! + 1; b <= bounds[c]!; b++) {
      w += counts[b]!;
      s += counts[b]! * b;
    }
    if (w > 0) v += (w / total) * (s / w - mu) ** 2;
  }
  return v;
}

describe('Otsu', () => {
  it('hand-computed cases: two spikes, and ties go to the lowest threshold (as numpy argmax)', () => {
    // bins 0 and 3 hold everything; cuts after bin 0, 1 or 2 separate them equally well
    expect(otsuBinsFromHistogram([10, 0, 0, 10])).toEqual([0]);
    // 3 / 1 / 4 counts at 0, 1, 2: cut after bin 1 gives w0=4/8 mu0=.25, w1=.5 mu1=2: sigma_b = .25*1.75^2=0.7656;
    // cut after bin 0: w0=3/8 mu0=0, w1=5/8 mu1=1.8, mu=1.125: sigma_b = 3/8*1.265625+5/8*0.455625 = 0.759375
    expect(otsuBinsFromHistogram([3, 1, 4])).toEqual([1]);
    expect(otsuBinsFromHistogram([5, 0, 5, 0, 5], 3)).toEqual([0, 2]);
  });

  it('equals brute force on random histograms (2, 3 and 4 classes)', () => {
    const u = rng(7);
    for (let trial = 0; trial < 30; trial++) {
      const nb = 6 + Math.floor(u() * 10);
      const counts = Array.from({ length: nb }, () => Math.floor(u() * 50));
      counts[0]! += 1;
      for (const classes of [2, 3, 4]) {
        const got = otsuBinsFromHistogram(counts, classes);
        let best = -1;
        const search = (start: number, left: number, cuts: number[]): void => {
          if (left === 0) {
            best = Math.max(best, betweenVariance(counts, cuts));
            return;
          }
          for (let c = start; c <= nb - 1 - left; c++) search(c + 1, left - 1, [...cuts, c]);
        };
        search(0, classes - 1, []);
        expect(got).toHaveLength(classes - 1);
        expect(betweenVariance(counts, got)).toBeCloseTo(best, 10);
      }
    }
  });

  it('separates a three-tissue MR-like image (means 100, 400, 900, sd 30) into the right classes', () => {
    const g = gaussian(rng(3));
    const n = 30000;
    const data = new Float32Array(n);
    for (let p = 0; p < n; p++) data[p] = [100, 400, 900][p % 3]! + 30 * g();
    const v = makeVolume({ grid: makeGrid({ size: [n, 1, 1] }), data });
    const [t1, t2] = otsuThresholds(v, { classes: 3 });
    // each threshold lies in the gap between two classes (means +- 3 sd), so the classes come out right
    expect(t1).toBeGreaterThan(100 + 90);
    expect(t1).toBeLessThan(400 - 90);
    expect(t2).toBeGreaterThan(400 + 90);
    expect(t2).toBeLessThan(900 - 90);
    const [t] = otsuThresholds(v);
    expect(t).toBeGreaterThan(400 + 90);
    expect(t).toBeLessThan(900 - 90);
  });

  it('histogram uses bin centres over [min, max] and honours a mask', () => {
    const h = histogram([0, 10, 10, 5], 2);
    expect([...h.counts]).toEqual([1, 3]);
    expect([...h.centers]).toEqual([2.5, 7.5]);
    const m = histogram([0, 10, 10, 5], 2, new Uint8Array([0, 1, 1, 1]));
    expect(m.min).toBe(5);
  });

  it('refuses constant images and impossible class counts', () => {
    const v = makeVolume({ grid: makeGrid({ size: [4, 1, 1] }), data: new Float32Array(4).fill(3) });
    expect(() => otsuThresholds(v)).toThrow(/constant/);
    expect(() => otsuBinsFromHistogram([1, 2], 3)).toThrow(/cannot split/);
    expect(() => otsuBinsFromHistogram([1, 2, 3], 1)).toThrow(/at least 2 classes/);
  });
});

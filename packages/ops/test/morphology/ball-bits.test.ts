// The two methods of ball morphology (bit-packed rows, distance transform) give the same masks.
import { makeGrid, type Vec3 } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { ballMorphology } from '../../src/morphology/ball.js';
import { ballRows } from '../../src/morphology/ball-bits.js';
import { dilate } from '../../src/morphology/dilate.js';
import { count, randomMask } from '../filters/helpers.js';

describe('ball morphology: bit-packed rows = distance transform', () => {
  const cases: [Vec3, Vec3, number][] = [
    [[70, 23, 17], [0.7, 0.7, 1], 2],
    [[33, 41, 12], [0.5, 1.1, 2.3], 3.3],
    [[65, 9, 9], [1, 1, 1], Math.SQRT2],
    [[40, 30, 20], [0.3, 0.9, 0.6], 1.7],
  ];
  for (const [size, spacing, r] of cases) {
    const grid = makeGrid({ size, spacing });
    for (const mode of ['dilate', 'erode'] as const) {
      // sparse for dilation, a few holes for erosion (so neither result is empty or full)
      const mask = randomMask(size[0] * size[1] * size[2], mode === 'dilate' ? 0.05 : 0.995, size[0] + size[1]);
      for (const bg of mode === 'erode' ? [false, true] : [false]) {
        it(`${mode}${bg ? ' (outside = background)' : ''}, r ${r.toFixed(2)} mm on ${size.join('x')} at ${spacing.join(' x ')} mm`, () => {
          const bits = ballMorphology(mask, grid, r, mode, bg, {}, 'bits');
          const edt = ballMorphology(mask, grid, r, mode, bg, {}, 'edt');
          let diff = 0;
          for (let p = 0; p < bits.length; p++) if (bits[p] !== edt[p]) diff++;
          expect(diff).toBe(0);
          expect(count(bits)).toBeGreaterThan(0);
          expect(count(bits)).toBeLessThan(bits.length);
        });
      }
    }
  }
  it('the rows of a 1 mm ball on a 1 mm grid: 5 rows, half-width 1 for the centre row and 0 for its 4 neighbours', () => {
    const rows = ballRows(1 * (1 + 1e-6), [1, 1, 1]);
    const t = Array.from(rows.triples);
    expect(t.length / 3).toBe(5);
    expect(rows).toMatchObject({ wMax: 1, rj: 1, rk: 1 });
    expect(t.filter((_, q) => q % 3 === 2)).toEqual([0, 0, 1, 0, 0]);
  });
  it('a ball wider than 31 voxels along i takes the distance transform (same result as forcing it)', () => {
    const size: Vec3 = [90, 12, 10];
    const grid = makeGrid({ size, spacing: [0.1, 1, 1] });
    const one = new Uint8Array(size[0] * size[1] * size[2]);
    one[45 + 90 * (6 + 12 * 5)] = 1;
    const auto = dilate(one, grid, { radiusMm: 3.5 });
    const edt = ballMorphology(one, grid, 3.5, 'dilate', false, {}, 'edt');
    expect(Array.from(auto)).toEqual(Array.from(edt));
    // 71 voxels along i (|a| <= 35), the row through the centre
    let run = 0;
    for (let i = 0; i < 90; i++) run += auto[i + 90 * (6 + 12 * 5)]!;
    expect(run).toBe(71);
  });
});

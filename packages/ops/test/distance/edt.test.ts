import { makeGrid, S2SError, type Vec3 } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { edt, signedEdt } from '../../src/distance/edt.js';
import {
  describeScipy,
  forEachVoxelLps,
  gridCentre,
  obliqueGrid,
  randomMask,
  runScipy,
  shellMask,
} from '../filters/helpers.js';

/** Brute force: distance from each voxel to the nearest voxel with mask === want. */
function bruteEdt(mask: Uint8Array, size: Vec3, spacing: Vec3, want: number): Float64Array {
  const [nx, ny, nz] = size;
  const out = new Float64Array(mask.length).fill(Infinity);
  const targets: number[][] = [];
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) if (mask[i + nx * (j + ny * k)] === want) targets.push([i, j, k]);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        let best = Infinity;
        for (const [a, b, c] of targets) {
          const d = ((i - a!) * spacing[0]) ** 2 + ((j - b!) * spacing[1]) ** 2 + ((k - c!) * spacing[2]) ** 2;
          if (d < best) best = d;
        }
        out[i + nx * (j + ny * k)] = Math.sqrt(best);
      }
  return out;
}

describe('edt: tiny tables', () => {
  const cases: { name: string; size: Vec3; spacing: Vec3; mask: number[]; want: number[] }[] = [
    { name: 'row, spacing 2', size: [5, 1, 1], spacing: [2, 1, 1], mask: [1, 1, 1, 0, 1], want: [6, 4, 2, 0, 2] },
    {
      name: 'row, no zeros left of the first',
      size: [4, 1, 1],
      spacing: [1, 1, 1],
      mask: [0, 1, 1, 1],
      want: [0, 1, 2, 3],
    },
    {
      name: '3x3 plane, zero in a corner, anisotropic',
      size: [3, 3, 1],
      spacing: [1, 2, 1],
      mask: [0, 1, 1, 1, 1, 1, 1, 1, 1],
      want: [0, 1, 2, 2, Math.sqrt(5), Math.sqrt(8), 4, Math.sqrt(17), Math.sqrt(20)],
    },
    {
      name: 'column along k',
      size: [1, 1, 4],
      spacing: [1, 1, 0.5],
      mask: [1, 1, 0, 1],
      want: [1, 0.5, 0, 0.5],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const grid = makeGrid({ size: c.size, spacing: c.spacing });
      const d = edt(Uint8Array.from(c.mask), grid);
      expect(Array.from(d).map((x) => +x.toFixed(5))).toEqual(c.want.map((x) => +x.toFixed(5)));
    });
  }

  it('all foreground gives +Infinity, all background gives 0', () => {
    const grid = makeGrid({ size: [3, 2, 2] });
    expect(Array.from(edt(new Uint8Array(12).fill(1), grid))).toEqual(new Array(12).fill(Infinity));
    expect(Array.from(edt(new Uint8Array(12), grid))).toEqual(new Array(12).fill(0));
  });

  it('outsideIsTarget bounds the distance by the grid edge', () => {
    // j and k have one voxel each: the outside along them is 10 mm away
    const grid = makeGrid({ size: [5, 1, 1], spacing: [2, 10, 10] });
    const d = edt(new Uint8Array(5).fill(1), grid, { outsideIsTarget: true });
    expect(Array.from(d)).toEqual([2, 4, 6, 4, 2]);
    const thin = edt(new Uint8Array(5).fill(1), makeGrid({ size: [5, 1, 1], spacing: [2, 1, 1] }), {
      outsideIsTarget: true,
    });
    expect(Array.from(thin)).toEqual([1, 1, 1, 1, 1]);
  });

  it('squared option and "to: foreground"', () => {
    const grid = makeGrid({ size: [4, 1, 1], spacing: [3, 1, 1] });
    expect(Array.from(edt(Uint8Array.from([1, 0, 0, 0]), grid, { to: 'foreground', squared: true }))).toEqual([
      0, 9, 36, 81,
    ]);
  });
});

describe('edt: exact against brute force', () => {
  for (const [seed, size, spacing, density] of [
    [1, [9, 7, 5], [0.7, 1.3, 2.1], 0.85],
    [2, [6, 11, 8], [1, 1, 1], 0.95],
    [3, [13, 4, 9], [2.5, 0.4, 0.9], 0.6],
  ] as [number, Vec3, Vec3, number][]) {
    it(`random mask seed ${seed}, spacing ${spacing.join('x')}`, () => {
      const grid = makeGrid({ size, spacing });
      const mask = randomMask(size[0] * size[1] * size[2], density, seed);
      const d = edt(mask, grid);
      const ref = bruteEdt(mask, size, spacing, 0);
      for (let p = 0; p < d.length; p++) expect(d[p]).toBeCloseTo(ref[p]!, 5);
      const dOut = edt(mask, grid, { to: 'foreground' });
      const refOut = bruteEdt(mask, size, spacing, 1);
      for (let p = 0; p < d.length; p++) expect(dOut[p]).toBeCloseTo(refOut[p]!, 5);
    });
  }
});

describe('edt: analytic ball on an oblique, anisotropic, left-handed grid', () => {
  it('distance outside a ball of radius 6 mm is |x - c| - 6 within one voxel diagonal', () => {
    const grid = obliqueGrid([34, 26, 22]);
    const c = gridCentre(grid);
    const R = 6;
    const ball = shellMask(grid, c, R);
    const d = edt(ball, grid, { to: 'foreground' });
    const diag = Math.hypot(...grid.spacing);
    let worst = 0;
    forEachVoxelLps(grid, (p, x, y, z) => {
      const r = Math.hypot(x - c[0], y - c[1], z - c[2]);
      if (r <= R) return;
      // the nearest inside voxel centre can't be nearer than the sphere, and one lies within a voxel diagonal of it
      expect(d[p]!).toBeGreaterThanOrEqual(r - R - 1e-5);
      worst = Math.max(worst, d[p]! - (r - R));
    });
    expect(worst).toBeLessThanOrEqual(diag);
    expect(worst).toBeGreaterThan(0);
  });

  it('signed distance: negative inside, positive outside, |d| >= smallest spacing', () => {
    const grid = obliqueGrid([20, 18, 16]);
    const ball = shellMask(grid, gridCentre(grid), 5);
    const s = signedEdt(ball, grid);
    const minSp = Math.min(...grid.spacing);
    for (let p = 0; p < s.length; p++) {
      if (ball[p]) expect(s[p]!).toBeLessThanOrEqual(-minSp + 1e-6);
      else expect(s[p]!).toBeGreaterThanOrEqual(minSp - 1e-6);
    }
    const pos = signedEdt(ball, grid, { inside: 'positive' });
    for (let p = 0; p < s.length; p++) expect(pos[p]).toBe(-s[p]!);
  });
});

describe('edt: bad input', () => {
  it('refuses a sheared grid with a hint', () => {
    const grid = makeGrid({
      size: [4, 4, 4],
      direction: [
        [1, 0, 0],
        [0, 1, 0],
        [0, 0.3, 1],
      ],
    });
    expect(() => edt(new Uint8Array(64), grid)).toThrow(S2SError);
    expect(() => edt(new Uint8Array(64), grid)).toThrow(/sheared/);
  });
  it('refuses a mask of the wrong length', () => {
    expect(() => edt(new Uint8Array(5), makeGrid({ size: [2, 2, 2] }))).toThrow(/needs 8/);
  });
  it('stops when aborted', () => {
    const grid = makeGrid({ size: [30, 30, 30] });
    const err = (() => {
      try {
        edt(new Uint8Array(27000), grid, { signal: { aborted: true } });
      } catch (e) {
        return e as S2SError;
      }
    })();
    expect(err?.code).toBe('ABORTED');
  });
});

describeScipy('edt: same input as scipy.ndimage.distance_transform_edt', () => {
  it('random 40x33x27 mask with sampling (0.7, 1.25, 2.0) mm: values within 1e-4', () => {
    const size: Vec3 = [40, 33, 27];
    const spacing: Vec3 = [0.7, 1.25, 2.0];
    const mask = randomMask(size[0] * size[1] * size[2], 0.93, 42);
    const ref = runScipy(
      `out('d', ndi.distance_transform_edt(mask, sampling=(${spacing[2]}, ${spacing[1]}, ${spacing[0]})))\nout('e', ndi.distance_transform_edt(mask == 0, sampling=(${spacing[2]}, ${spacing[1]}, ${spacing[0]})))`,
      { mask },
      size,
    );
    const grid = makeGrid({ size, spacing });
    const d = edt(mask, grid);
    const e = edt(mask, grid, { to: 'foreground' });
    let worst = 0;
    for (let p = 0; p < d.length; p++) {
      worst = Math.max(worst, Math.abs(d[p]! - ref.d![p]!), Math.abs(e[p]! - ref.e![p]!));
    }
    expect(worst).toBeLessThan(1e-4);
    expect(Math.max(...ref.d!)).toBeGreaterThan(2); // the comparison covers non-trivial distances
  });
});

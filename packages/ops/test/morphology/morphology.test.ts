import { makeGrid, S2SError, type Vec3 } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { connectedComponents } from '../../src/components/connected-components.js';
import { close } from '../../src/morphology/close.js';
import { dilate } from '../../src/morphology/dilate.js';
import { erode } from '../../src/morphology/erode.js';
import { fillHoles } from '../../src/morphology/fill-holes.js';
import { hollow } from '../../src/morphology/hollow.js';
import { logical } from '../../src/morphology/logical.js';
import { open } from '../../src/morphology/open.js';
import {
  ballVolume,
  count,
  describeScipy,
  forEachVoxelLps,
  gridCentre,
  obliqueGrid,
  randomMask,
  runScipy,
  shellMask,
  torusMask,
} from '../filters/helpers.js';

/** Brute-force ball morphology: the definition, voxel by voxel. */
function brute(
  mask: Uint8Array,
  size: Vec3,
  sp: Vec3,
  r: number,
  mode: 'dilate' | 'erode',
  outsideBg = false,
): Uint8Array {
  const [nx, ny, nz] = size;
  const out = new Uint8Array(mask.length);
  const lim = r * r * (1 + 1e-6);
  const R = [0, 1, 2].map((a) => Math.floor(r / sp[a]!) + 1);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const p = i + nx * (j + ny * k);
        if (mode === 'erode' && !mask[p]) continue;
        let hit = false;
        for (let c = -R[2]!; c <= R[2]! && !hit; c++)
          for (let b = -R[1]!; b <= R[1]! && !hit; b++)
            for (let a = -R[0]!; a <= R[0]! && !hit; a++) {
              if ((a * sp[0]) ** 2 + (b * sp[1]) ** 2 + (c * sp[2]) ** 2 > lim) continue;
              const x = i + a;
              const y = j + b;
              const z = k + c;
              const inside = x >= 0 && y >= 0 && z >= 0 && x < nx && y < ny && z < nz;
              if (mode === 'dilate') hit = inside && mask[x + nx * (y + ny * z)] === 1;
              else hit = inside ? mask[x + nx * (y + ny * z)] === 0 : outsideBg;
            }
        out[p] = mode === 'dilate' ? (hit ? 1 : 0) : hit ? 0 : 1;
      }
  return out;
}

describe('dilate / erode: single voxel and exact ties', () => {
  const grid = makeGrid({ size: [5, 5, 5] });
  const one = new Uint8Array(125);
  one[62] = 1;
  for (const [r, n] of [
    [0, 1],
    [0.99, 1],
    [1, 7],
    [Math.SQRT2, 19],
    [Math.sqrt(3), 27],
    [2, 33],
  ] as const) {
    it(`a voxel dilated by ${r.toFixed(3)} mm on a 1 mm grid has ${n} voxels`, () => {
      expect(count(dilate(one, grid, { radiusMm: r }))).toBe(n);
    });
  }
  it('anisotropic spacing: 1 x 2 x 3 mm, radius 2 mm reaches 2 voxels along i, 1 along j, 0 along k', () => {
    const g = makeGrid({ size: [5, 5, 5], spacing: [1, 2, 3] });
    const d = dilate(one, g, { radiusMm: 2 });
    // (+-1,0,0), (+-2,0,0), (0,+-1,0) and the centre
    expect(count(d)).toBe(7);
    expect(d[62 + 2]).toBe(1);
    expect(d[62 + 5]).toBe(1);
    expect(d[62 + 25]).toBe(0);
  });
  it('negative radius is refused', () => {
    expect(() => dilate(one, grid, { radiusMm: -1 })).toThrow(S2SError);
  });
});

describe('dilate / erode: identical to the brute-force definition', () => {
  for (const [seed, size, sp, r, density] of [
    [11, [12, 9, 7], [0.7, 1.2, 2.0], 2.1, 0.08],
    [12, [10, 10, 10], [1, 1, 1], 1.5, 0.1],
    [13, [9, 14, 6], [0.5, 0.9, 1.4], 1.4, 0.9],
  ] as [number, Vec3, Vec3, number, number][]) {
    it(`seed ${seed}, spacing ${sp.join('x')}, r = ${r} mm`, () => {
      const grid = makeGrid({ size, spacing: sp });
      const mask = randomMask(size[0] * size[1] * size[2], density, seed);
      expect(Array.from(dilate(mask, grid, { radiusMm: r }))).toEqual(Array.from(brute(mask, size, sp, r, 'dilate')));
      expect(Array.from(erode(mask, grid, { radiusMm: r }))).toEqual(Array.from(brute(mask, size, sp, r, 'erode')));
      expect(Array.from(erode(mask, grid, { radiusMm: r, outside: 'background' }))).toEqual(
        Array.from(brute(mask, size, sp, r, 'erode', true)),
      );
    });
  }
});

describe('morphology on analytic balls (oblique, anisotropic, left-handed grid)', () => {
  const grid = obliqueGrid([50, 38, 32]);
  const c = gridCentre(grid);
  const vox = 0.8 * 1.1 * 1.3;
  const ball = shellMask(grid, c, 7);
  const rel = (n: number, v: number) => Math.abs(n * vox - v) / v;
  // Radius of the sphere with the same volume as `n` voxels. Morphology with a ball of voxel
  // offsets (the scipy/ITK definition, checked exactly above) on a sampled sphere moves the
  // surface by r minus a fraction of a voxel, so radii are checked to half the smallest spacing.
  const eqRadius = (n: number) => Math.cbrt((3 * n * vox) / (4 * Math.PI));
  const HALF_VOXEL = 0.4;

  it('the sampled ball itself has the analytic volume within 1.5%', () => {
    expect(rel(count(ball), ballVolume(7))).toBeLessThan(0.015);
  });

  it('dilate by 3 mm gives the ball of radius 10 (equivalent radius within 0.4 mm, extent within one voxel)', () => {
    const d = dilate(ball, grid, { radiusMm: 3 });
    expect(Math.abs(eqRadius(count(d)) - 10)).toBeLessThan(HALF_VOXEL);
    let far = 0;
    forEachVoxelLps(grid, (p, x, y, z) => {
      if (d[p]) far = Math.max(far, Math.hypot(x - c[0], y - c[1], z - c[2]));
    });
    expect(far).toBeLessThanOrEqual(10 + 1e-6);
    expect(far).toBeGreaterThan(10 - 1.3);
  });

  it('erode by 3 mm gives the ball of radius 4 (equivalent radius within 0.4 mm)', () => {
    const e = erode(ball, grid, { radiusMm: 3 });
    expect(Math.abs(eqRadius(count(e)) - 4)).toBeLessThan(HALF_VOXEL);
    for (let p = 0; p < e.length; p++) if (e[p]) expect(ball[p]).toBe(1);
  });

  it('open removes a thin rod but keeps the ball; close fills a thin gap', () => {
    const rod = new Uint8Array(ball);
    const [nx, ny] = grid.size;
    for (let i = 0; i < nx; i++) rod[i + nx * (5 + ny * 5)] = 1; // a one-voxel rod far from the ball
    const o = open(rod, grid, { radiusMm: 1.5 });
    expect(o[3 + nx * (5 + ny * 5)]).toBe(0);
    expect(Math.abs(eqRadius(count(o)) - 7)).toBeLessThan(HALF_VOXEL);
    // a shell with a one-voxel-wide cut: closing with 1.5 mm bridges it
    const split = new Uint8Array(ball);
    for (let k = 0; k < grid.size[2]; k++) for (let j = 0; j < ny; j++) split[25 + nx * (j + ny * k)] = 0;
    expect(connectedComponents(split, grid).count).toBe(2);
    const cl = close(split, grid, { radiusMm: 1.5 });
    expect(connectedComponents(cl, grid).count).toBe(1);
    for (let p = 0; p < cl.length; p++) if (split[p]) expect(cl[p]).toBe(1);
  });

  it('closing and opening are extensive / anti-extensive on random masks', () => {
    const g = makeGrid({ size: [14, 12, 10], spacing: [0.6, 0.9, 1.7] });
    const m = randomMask(14 * 12 * 10, 0.4, 5);
    const cl = close(m, g, { radiusMm: 1.8 });
    const op = open(m, g, { radiusMm: 1.8 });
    for (let p = 0; p < m.length; p++) {
      if (m[p]) expect(cl[p]).toBe(1);
      if (op[p]) expect(m[p]).toBe(1);
    }
  });

  it('hollow(2 mm) leaves a 2 mm wall: the cavity has an equivalent radius of 5 mm within 0.4 mm', () => {
    const h = hollow(ball, grid, { thicknessMm: 2 });
    expect(Math.abs(eqRadius(count(ball) - count(h)) - 5)).toBeLessThan(HALF_VOXEL);
    expect(rel(count(h), ballVolume(7) - ballVolume(5))).toBeLessThan(0.12);
    for (let p = 0; p < h.length; p++) if (h[p]) expect(ball[p]).toBe(1);
    // the cavity is enclosed: filling it gives the ball back
    expect(Array.from(fillHoles(h, grid))).toEqual(Array.from(ball));
    expect(() => hollow(ball, grid, { thicknessMm: 0 })).toThrow(S2SError);
  });

  it('hollow closes the wall along the image edge', () => {
    const g = makeGrid({ size: [10, 10, 10] });
    const full = new Uint8Array(1000).fill(1);
    const h = hollow(full, g, { thicknessMm: 1 });
    expect(count(h)).toBe(1000 - 512); // a one-voxel wall around the 8x8x8 core
    expect(count(hollow(full, g, { thicknessMm: 1, outside: 'foreground' }))).toBe(0);
  });
});

describe('fillHoles', () => {
  const grid = obliqueGrid([40, 30, 28]);
  const c = gridCentre(grid);

  it('3d: fills the cavity of a spherical shell (volume of the outer ball within 3%)', () => {
    const shell = shellMask(grid, c, 8, 5);
    const f = fillHoles(shell, grid);
    const vox = 0.8 * 1.1 * 1.3;
    expect(Math.abs(count(f) * vox - ballVolume(8)) / ballVolume(8)).toBeLessThan(0.03);
    expect(Array.from(f)).toEqual(Array.from(shellMask(grid, c, 8)));
  });

  it('3d: a torus has no enclosed cavity, so nothing changes', () => {
    const t = torusMask(grid, c, 6, 2, [0.3, 0.2, 0.93]);
    expect(Array.from(fillHoles(t, grid))).toEqual(Array.from(t));
  });

  it('slice mode fills a tube open at both ends, 3d mode does not', () => {
    const g = makeGrid({ size: [11, 11, 6], spacing: [0.5, 0.5, 2] });
    const tube = new Uint8Array(11 * 11 * 6);
    const lumen = new Uint8Array(11 * 11 * 6);
    for (let k = 0; k < 6; k++)
      for (let j = 0; j < 11; j++)
        for (let i = 0; i < 11; i++) {
          const r = Math.hypot(i - 5, j - 5);
          tube[i + 11 * (j + 11 * k)] = r <= 4 && r > 2 ? 1 : 0;
          lumen[i + 11 * (j + 11 * k)] = r <= 2 ? 1 : 0;
        }
    expect(Array.from(fillHoles(tube, g))).toEqual(Array.from(tube));
    const f = fillHoles(tube, g, { mode: 'slice', axis: 2 });
    for (let p = 0; p < f.length; p++) expect(f[p]).toBe(tube[p]! | lumen[p]!);
    // slices along i cut the tube lengthwise: no closed holes there
    expect(Array.from(fillHoles(tube, g, { mode: 'slice', axis: 0 }))).toEqual(Array.from(tube));
  });

  it('a cavity touching the image edge is not a hole', () => {
    const g = makeGrid({ size: [5, 5, 5] });
    const m = new Uint8Array(125).fill(1);
    m[62] = 0; // centre: a hole
    m[2 + 5 * (2 + 5 * 0)] = 0; // on the k = 0 face: not a hole
    const f = fillHoles(m, g);
    expect(f[62]).toBe(1);
    expect(f[12]).toBe(0);
  });
});

describe('logical', () => {
  const a = Uint8Array.from([0, 0, 1, 1]);
  const b = Uint8Array.from([0, 1, 0, 1]);
  it.each([
    ['and', [0, 0, 0, 1]],
    ['or', [0, 1, 1, 1]],
    ['xor', [0, 1, 1, 0]],
    ['subtract', [0, 0, 1, 0]],
    ['not', [1, 1, 0, 0]],
  ] as const)('%s', (op, want) => {
    expect(Array.from(logical(op, a, b))).toEqual(want);
  });
  it('treats any non-zero as inside', () => {
    expect(Array.from(logical('and', Uint8Array.from([0, 7, 255]), Uint8Array.from([3, 1, 2])))).toEqual([0, 1, 1]);
  });
  it('refuses masks on different grids', () => {
    const g1 = makeGrid({ size: [2, 2, 1] });
    const g2 = makeGrid({ size: [2, 2, 1], origin: [0, 0, 0.5] });
    expect(() => logical('and', a, b, { gridA: g1, gridB: g2 })).toThrow(/different grids/);
    expect(() => logical('and', a, Uint8Array.from([1]))).toThrow(S2SError);
    expect(() => logical('nand' as 'and', a, b)).toThrow(/unknown logical/);
  });
});

describeScipy('morphology: same input as scipy.ndimage binary_dilation / binary_erosion / binary_closing', () => {
  it('ball of 2 mm on an anisotropic grid (0.7 x 0.7 x 1.0 mm): identical masks', () => {
    const size: Vec3 = [34, 29, 21];
    const sp: Vec3 = [0.7, 0.7, 1.0];
    const grid = makeGrid({ size, spacing: sp });
    const mask = randomMask(size[0] * size[1] * size[2], 0.12, 77);
    const ref = runScipy(
      [
        'r = 2.0',
        `sp = (${sp[2]}, ${sp[1]}, ${sp[0]})`,
        'R = [int(r / s) for s in sp]',
        'zz, yy, xx = np.mgrid[-R[0]:R[0]+1, -R[1]:R[1]+1, -R[2]:R[2]+1]',
        'ball = (zz*sp[0])**2 + (yy*sp[1])**2 + (xx*sp[2])**2 <= r*r*(1+1e-6)',
        'm = mask > 0',
        "out('dil', ndi.binary_dilation(m, structure=ball))",
        "out('ero', ndi.binary_erosion(m, structure=ball, border_value=1))",
        "out('erobg', ndi.binary_erosion(m, structure=ball, border_value=0))",
        "out('clo', ndi.binary_closing(m, structure=ball))",
      ].join('\n'),
      { mask },
      size,
    );
    const same = (a: Uint8Array, b: Float64Array) => a.every((v, p) => v === b[p]);
    expect(count(ref.dil!)).toBeGreaterThan(count(mask));
    expect(same(dilate(mask, grid, { radiusMm: 2 }), ref.dil!)).toBe(true);
    const dense = dilate(mask, grid, { radiusMm: 1 });
    const refDense = runScipy(
      [
        'r = 2.0',
        `sp = (${sp[2]}, ${sp[1]}, ${sp[0]})`,
        'R = [int(r / s) for s in sp]',
        'zz, yy, xx = np.mgrid[-R[0]:R[0]+1, -R[1]:R[1]+1, -R[2]:R[2]+1]',
        'ball = (zz*sp[0])**2 + (yy*sp[1])**2 + (xx*sp[2])**2 <= r*r*(1+1e-6)',
        'm = mask > 0',
        "out('ero', ndi.binary_erosion(m, structure=ball, border_value=1))",
        "out('erobg', ndi.binary_erosion(m, structure=ball, border_value=0))",
      ].join('\n'),
      { mask: dense },
      size,
    );
    expect(count(refDense.ero!)).toBeGreaterThan(0);
    expect(same(erode(dense, grid, { radiusMm: 2 }), refDense.ero!)).toBe(true);
    expect(same(erode(dense, grid, { radiusMm: 2, outside: 'background' }), refDense.erobg!)).toBe(true);
    // scipy's closing erodes with the outside as background; ours keeps the outside neutral
    // (extensive closing). With the same border rule the two are identical:
    const scipyRule = erode(dilate(mask, grid, { radiusMm: 2 }), grid, { radiusMm: 2, outside: 'background' });
    expect(same(scipyRule, ref.clo!)).toBe(true);
    // and ours differs from it only within the radius of the image edge
    const ours = close(mask, grid, { radiusMm: 2 });
    const [nx, ny, nz] = size;
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          const p = i + nx * (j + ny * k);
          const edgeMm = Math.min(
            (i + 1) * sp[0],
            (nx - i) * sp[0],
            (j + 1) * sp[1],
            (ny - j) * sp[1],
            (k + 1) * sp[2],
            (nz - k) * sp[2],
          );
          if (edgeMm > 2) expect(ours[p]).toBe(ref.clo![p]);
        }
  });
});

import { describe, expect, it } from 'vitest';
import {
  directionSkew,
  gridFromLpsAffine,
  gridsMatch,
  ijkFromLps,
  invertAffine,
  isLeftHanded,
  lpsFromIjk,
  lpsFromIjkMatrix,
  makeGrid,
  maxCornerDistance,
  multiplyAffine,
  orientationCode,
  S2SError,
  worldBounds,
} from '../src/index.js';

// An oblique, anisotropic, LEFT-HANDED grid whose expected positions are computed by hand below.
// d0 = (0.6, 0.8, 0), d1 = (0, 0, -1), d2 = (0.8, -0.6, 0): det = -1.
const oblique = makeGrid({
  size: [5, 6, 7],
  spacing: [0.5, 0.8, 2.5],
  origin: [10, -20, 30],
  direction: [
    [0.6, 0.8, 0],
    [0, 0, -1],
    [0.8, -0.6, 0],
  ],
});

describe('lpsFromIjk pins the matrix order (oblique, left-handed, anisotropic)', () => {
  it.each([
    // ijk, expected LPS (hand-computed: origin + i*s0*d0 + j*s1*d1 + k*s2*d2)
    [
      [0, 0, 0],
      [10, -20, 30],
    ],
    [
      [1, 0, 0],
      [10.3, -19.6, 30],
    ],
    [
      [0, 1, 0],
      [10, -20, 29.2],
    ],
    [
      [0, 0, 1],
      [12, -21.5, 30],
    ],
    [
      [2, 3, 4],
      [18.6, -25.2, 27.6],
    ],
    [
      [-0.5, -0.5, -0.5],
      [8.85, -19.45, 30.4],
    ],
  ])('ijk %j -> lps %j', (ijk, lps) => {
    const p = lpsFromIjk(oblique, ijk);
    for (let r = 0; r < 3; r++) expect(p[r]).toBeCloseTo(lps[r]!, 12);
  });

  it('ijkFromLps inverts lpsFromIjk', () => {
    for (const ijk of [
      [0, 0, 0],
      [4, 5, 6],
      [1.25, -3, 2.5],
    ]) {
      const back = ijkFromLps(oblique, lpsFromIjk(oblique, ijk));
      for (let r = 0; r < 3; r++) expect(back[r]).toBeCloseTo(ijk[r]!, 10);
    }
  });

  it('the matrix columns are spacing * direction and the last column is the origin', () => {
    const m = lpsFromIjkMatrix(oblique);
    // column 1 (j axis) = 0.8 * (0, 0, -1)
    expect([m[1], m[5], m[9]]).toEqual([0, 0, -0.8]);
    expect([m[3], m[7], m[11], m[15]]).toEqual([10, -20, 30, 1]);
    const id = multiplyAffine(m, invertAffine(m));
    for (let n = 0; n < 16; n++) expect(id[n]).toBeCloseTo(n % 5 === 0 ? 1 : 0, 12);
  });

  it('knows its handedness and orientation code', () => {
    expect(isLeftHanded(oblique)).toBe(true);
    expect(orientationCode(oblique)).toBe('PIL');
    expect(isLeftHanded(makeGrid({ size: [2, 2, 2] }))).toBe(false);
    expect(orientationCode(makeGrid({ size: [2, 2, 2] }))).toBe('LPS');
    const ras = makeGrid({
      size: [2, 2, 2],
      direction: [
        [-1, 0, 0],
        [0, -1, 0],
        [0, 0, 1],
      ],
    });
    expect(orientationCode(ras)).toBe('RAS');
    expect(directionSkew(oblique)).toBeLessThan(1e-12);
  });

  it('gridFromLpsAffine recovers spacing, direction and origin', () => {
    const g = gridFromLpsAffine(lpsFromIjkMatrix(oblique), oblique.size);
    expect(gridsMatch(g, oblique, 1e-9)).toBe(true);
    for (let a = 0; a < 3; a++) expect(g.spacing[a]).toBeCloseTo(oblique.spacing[a]!, 12);
  });

  it('a sheared (gantry-tilt-like) grid keeps its non-orthogonal slice axis', () => {
    const tilt = (18.5 * Math.PI) / 180;
    const g = makeGrid({
      size: [4, 4, 3],
      spacing: [0.5, 0.5, 4.22],
      direction: [
        [1, 0, 0],
        [0, Math.cos(tilt), -Math.sin(tilt)],
        [0, 0, 1],
      ],
    });
    expect(directionSkew(g)).toBeCloseTo(Math.sin(tilt), 12);
    expect(lpsFromIjk(g, [0, 2, 1])[2]).toBeCloseTo(4.22 - 2 * 0.5 * Math.sin(tilt), 12);
  });

  it('worldBounds and corner distances', () => {
    const [lo, hi] = worldBounds(makeGrid({ size: [3, 4, 5], spacing: [1, 2, 3], origin: [1, 1, 1] }));
    expect(lo).toEqual([1, 1, 1]);
    expect(hi).toEqual([3, 7, 13]);
    const shifted = makeGrid({ ...oblique, origin: [10, -20, 30.5] });
    expect(maxCornerDistance(oblique, shifted)).toBeCloseTo(0.5, 12);
    expect(gridsMatch(oblique, shifted, 0.01)).toBe(false);
  });
});

describe('makeGrid rejects bad geometry with a clear error', () => {
  it.each([
    [{ size: [0, 1, 1] }, /size must be positive integers/],
    [{ size: [2, 2, 2], spacing: [1, 0, 1] }, /spacing must be > 0/],
    [{ size: [2, 2, 2], spacing: [1, Number.NaN, 1] }, /3 finite numbers/],
    [
      {
        size: [2, 2, 2],
        direction: [
          [1, 0, 0],
          [1, 0, 0],
          [0, 0, 1],
        ],
      },
      /degenerate/,
    ],
  ])('%j', (init, msg) => {
    expect(() => makeGrid(init as Parameters<typeof makeGrid>[0])).toThrow(msg);
    try {
      makeGrid(init as Parameters<typeof makeGrid>[0]);
    } catch (e) {
      expect(e).toBeInstanceOf(S2SError);
      expect((e as S2SError).code).toBe('INVALID_ARGUMENT');
    }
  });
});

import { makeGrid, makeVolume, reorientVolume, type Volume, voxelCount } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import {
  computeFeatures,
  featureHalo,
  featureNames,
  forEachFeatureSlice,
  planSlabs,
  resolveFeatureSettings,
  SCRIBBLE_FEATURE_DEFAULTS,
  symmetricEigenvalues3,
} from '../../src/scribble/features.js';
import { seededRandom } from '../../src/scribble/random-forest.js';

function volumeOf(
  size: [number, number, number],
  spacing: [number, number, number],
  f: (i: number, j: number, k: number) => number,
  direction?: number[][],
): Volume {
  const grid = makeGrid({ size, spacing, ...(direction ? { direction } : {}) });
  const data = new Float32Array(voxelCount(grid));
  let p = 0;
  for (let k = 0; k < size[2]; k++)
    for (let j = 0; j < size[1]; j++) for (let i = 0; i < size[0]; i++) data[p++] = f(i, j, k);
  return makeVolume({ grid, data });
}

const index = (v: Volume, i: number, j: number, k: number) => (k * v.grid.size[1] + j) * v.grid.size[0] + i;

describe('symmetricEigenvalues3', () => {
  it('diagonal and identity-multiple matrices', () => {
    const out = new Float64Array(3);
    symmetricEigenvalues3(1, -3, 2, 0, 0, 0, out);
    expect([...out]).toEqual([2, 1, -3]);
    symmetricEigenvalues3(4, 4, 4, 0, 0, 0, out);
    expect([...out]).toEqual([4, 4, 4]);
  });
  it('Q diag(l) Q^T gives back l, largest first (200 random rotations)', () => {
    const rand = seededRandom(3);
    const out = new Float64Array(3);
    for (let t = 0; t < 200; t++) {
      // random rotation from a random unit quaternion
      let [w, x, y, z] = [rand() - 0.5, rand() - 0.5, rand() - 0.5, rand() - 0.5];
      const n = Math.hypot(w, x, y, z);
      [w, x, y, z] = [w / n, x / n, y / n, z / n];
      const Q = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
      ];
      const l = [rand() * 20 - 10, rand() * 20 - 10, t % 5 === 0 ? 0 : rand() * 20 - 10];
      const A = [0, 1, 2].map((r) =>
        [0, 1, 2].map(
          (c) => Q[r]![0]! * l[0]! * Q[c]![0]! + Q[r]![1]! * l[1]! * Q[c]![1]! + Q[r]![2]! * l[2]! * Q[c]![2]!,
        ),
      );
      symmetricEigenvalues3(A[0]![0]!, A[1]![1]!, A[2]![2]!, A[0]![1]!, A[0]![2]!, A[1]![2]!, out);
      const want = [...l].sort((a, b) => b - a);
      for (let e = 0; e < 3; e++) expect(out[e]).toBeCloseTo(want[e]!, 9);
    }
  });
});

describe('feature stack', () => {
  it('names and counts follow the settings; kinds are kept in canonical order', () => {
    expect(featureNames()).toHaveLength(1 + SCRIBBLE_FEATURE_DEFAULTS.sigmasMm.length * 6);
    const s = resolveFeatureSettings({
      sigmasMm: [2],
      kinds: ['hessian', 'intensity'],
      rawIntensity: false,
      coordinates: true,
    });
    expect(featureNames(s)).toEqual([
      'intensity s=2mm',
      'hessian1 s=2mm',
      'hessian2 s=2mm',
      'hessian3 s=2mm',
      'x mm',
      'y mm',
      'z mm',
    ]);
  });

  it('bad settings are refused with a hint', () => {
    expect(() => resolveFeatureSettings({ sigmasMm: [0] })).toThrow(/> 0 mm/);
    expect(() => resolveFeatureSettings({ kinds: ['texture' as never] })).toThrow(/unknown feature kind/);
    expect(() => resolveFeatureSettings({ sigmasMm: [], rawIntensity: false })).toThrow(/empty/);
    expect(() => resolveFeatureSettings({ truncate: 0.5 })).toThrow(/truncate/);
  });

  it('quadratic image on an anisotropic grid: gradient, LoG and Hessian eigenvalues are exact in mm', () => {
    // f(x, y, z) = a x^2 + b y^2 + c z^2 + d x y + g x + h z with x = 0.7 i, y = 1.3 j, z = 2.5 k (mm).
    // Gaussian smoothing only adds a constant to a quadratic (away from the edges), and central
    // differences are exact for quadratics: Hessian = [[2a, d, 0], [d, 2b, 0], [0, 0, 2c]].
    const [a, b, c, d, g, h] = [0.5, -0.25, 0.1, 0.3, 2, -1];
    const sp: [number, number, number] = [0.7, 1.3, 2.5];
    const v = volumeOf([40, 30, 24], sp, (i, j, k) => {
      const [x, y, z] = [(i - 20) * sp[0], (j - 15) * sp[1], (k - 12) * sp[2]];
      return a * x * x + b * y * y + c * z * z + d * x * y + g * x + h * z;
    });
    const opts = { sigmasMm: [1.5], rawIntensity: false, truncate: 3 };
    const [i, j, k] = [20, 15, 12];
    const f = computeFeatures(v, [index(v, i, j, k), index(v, i + 1, j, k + 1)], opts);
    expect(f).toHaveLength(2 * 6);
    const eig = new Float64Array(3);
    symmetricEigenvalues3(2 * a, 2 * b, 2 * c, d, 0, 0, eig);
    // at the centre: gradient (g, 0, h) -> |grad| = sqrt(5)
    expect(f[1]).toBeCloseTo(Math.sqrt(g * g + h * h), 3);
    expect(f[2]).toBeCloseTo(2 * (a + b + c), 3);
    for (let e = 0; e < 3; e++) expect(f[3 + e]).toBeCloseTo(eig[e]!, 3);
    // next voxel: x = 0.7, z = 2.5 -> grad = (2a x + d y + g, 2b y + d x, 2c z + h)
    const [x, y, z] = [0.7, 0, 2.5];
    expect(f[6 + 1]).toBeCloseTo(Math.hypot(2 * a * x + d * y + g, 2 * b * y + d * x, 2 * c * z + h), 3);
  });

  it('slabs give exactly the features of the whole volume (tiny memory budget = many slabs)', () => {
    const rand = seededRandom(5);
    const v = volumeOf([12, 10, 40], [1, 1, 0.8], () => rand() * 100);
    const all = Int32Array.from({ length: voxelCount(v.grid) }, (_, p) => p);
    const whole = computeFeatures(v, all);
    const nf = featureNames().length;
    const halo = featureHalo(v.grid, resolveFeatureSettings());
    expect(halo).toBeGreaterThan(5);
    // budget for one core slice plus halo: forces a slab per slice
    const perSlice = 12 * 10 * 4 * 5;
    const sliced = computeFeatures(v, all, { memoryBudgetBytes: perSlice * (2 * halo + 1) });
    expect(sliced).toEqual(whole);
    // slice visitor: same rows
    let seen = 0;
    forEachFeatureSlice(v, { memoryBudgetBytes: perSlice * (2 * halo + 3) }, (_k, lin, feats, cnt) => {
      for (let q = 0; q < cnt; q++) {
        for (let f = 0; f < nf; f++)
          if (feats[q * nf + f] !== whole[lin[q]! * nf + f]) throw new Error(`differs at ${lin[q]}`);
      }
      seen += cnt;
    });
    expect(seen).toBe(voxelCount(v.grid));
  });

  it('requested voxels come back in the order asked, repeats included; a region limits the visited voxels', () => {
    const rand = seededRandom(6);
    const v = volumeOf([8, 7, 9], [1, 2, 1], () => rand());
    const nf = featureNames().length;
    const ids = [300, 5, 300, 17, 503];
    const f = computeFeatures(v, ids);
    for (let q = 0; q < ids.length; q++) {
      expect(f.subarray(q * nf, (q + 1) * nf)).toEqual(computeFeatures(v, [ids[q]!]));
    }
    const region = new Uint8Array(voxelCount(v.grid));
    region[100] = 1;
    region[400] = 1;
    const visited: number[] = [];
    forEachFeatureSlice(v, { region }, (_k, lin, _f, cnt) => visited.push(...lin.subarray(0, cnt)));
    expect(visited).toEqual([100, 400]);
    expect(() => computeFeatures(v, [voxelCount(v.grid)])).toThrow(/outside the volume/);
    expect(() => forEachFeatureSlice(v, { region: new Uint8Array(3) }, () => {})).toThrow(/region has 3 values/);
  });

  it('flipping and permuting the axes (left-handed grid, oblique direction) does not change the features', () => {
    const rand = seededRandom(9);
    const c = Math.SQRT1_2;
    // oblique (rotated 45 degrees about k) and anisotropic
    const v = volumeOf([14, 11, 9], [0.8, 1.1, 2], () => rand() * 50, [
      [c, c, 0],
      [-c, c, 0],
      [0, 0, 1],
    ]);
    const opts = { coordinates: true, sigmasMm: [1, 3] };
    const all = Int32Array.from({ length: voxelCount(v.grid) }, (_, p) => p);
    const ref = computeFeatures(v, all, opts);
    const nf = featureNames(opts).length;
    for (const code of ['RAI', 'SLP', 'IRA']) {
      const w = reorientVolume(v, code);
      // map each voxel of w back to v through the data (values are distinct floats)
      const pos = new Map<number, number>();
      for (let p = 0; p < v.data.length; p++) pos.set(v.data[p]!, p);
      const got = computeFeatures(
        w,
        Int32Array.from({ length: voxelCount(w.grid) }, (_, p) => p),
        opts,
      );
      let worst = 0;
      for (let p = 0; p < w.data.length; p++) {
        const src = pos.get(w.data[p]!)!;
        for (let f = 0; f < nf; f++) {
          const x = ref[src * nf + f]!;
          const y = got[p * nf + f]!;
          worst = Math.max(worst, Math.abs(x - y) / (1 + Math.abs(x)));
        }
      }
      expect(worst).toBeLessThan(1e-4);
    }
  });

  it('refuses multi-component volumes and stops when aborted', () => {
    const grid = makeGrid({ size: [4, 4, 4] });
    const rgb = makeVolume({ grid, data: new Uint8Array(64 * 3), components: 3 });
    expect(() => computeFeatures(rgb, [0])).toThrow(/one grey-value 3D image/);
    const v = makeVolume({ grid, data: new Float32Array(64) });
    expect(() => computeFeatures(v, [0], { signal: { aborted: true } })).toThrow(/cancelled/);
  });

  it('planSlabs merges close runs, splits long ones and skips empty slices', () => {
    const w = [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
    expect(planSlabs(w, 1, 100)).toEqual([
      [1, 5],
      [12, 17],
    ]);
    expect(planSlabs(w, 1, 2)).toEqual([
      [1, 2],
      [4, 5],
      [12, 14],
      [14, 16],
      [16, 17],
    ]);
    expect(planSlabs([0, 0], 3, 5)).toEqual([]);
  });
});

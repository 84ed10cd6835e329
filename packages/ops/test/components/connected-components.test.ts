import { makeGrid, S2SError, type Vec3 } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { componentStats } from '../../src/components/component-stats.js';
import { type Connectivity, connectedComponents } from '../../src/components/connected-components.js';
import { keepLargest } from '../../src/components/keep-largest.js';
import { removeIslands } from '../../src/components/remove-islands.js';
import {
  ballVolume,
  count,
  describeScipy,
  obliqueGrid,
  randomMask,
  runScipy,
  shellMask,
  torusMask,
} from '../filters/helpers.js';

/** A 3x3x3 mask with voxels at the given (i, j, k). */
function tiny(voxels: Vec3[]): Uint8Array {
  const m = new Uint8Array(27);
  for (const [i, j, k] of voxels) m[i + 3 * j + 9 * k] = 1;
  return m;
}

describe('connectedComponents: tiny tables', () => {
  const grid = makeGrid({ size: [3, 3, 3] });
  const cases: { name: string; voxels: Vec3[]; want: Record<Connectivity, number> }[] = [
    {
      name: 'face neighbours',
      voxels: [
        [0, 0, 0],
        [1, 0, 0],
      ],
      want: { 6: 1, 18: 1, 26: 1 },
    },
    {
      name: 'edge neighbours',
      voxels: [
        [0, 0, 0],
        [1, 1, 0],
      ],
      want: { 6: 2, 18: 1, 26: 1 },
    },
    {
      name: 'corner neighbours',
      voxels: [
        [0, 0, 0],
        [1, 1, 1],
      ],
      want: { 6: 2, 18: 2, 26: 1 },
    },
    {
      name: 'edge across k',
      voxels: [
        [2, 0, 0],
        [2, 1, 1],
      ],
      want: { 6: 2, 18: 1, 26: 1 },
    },
    {
      name: 'corner, backwards i',
      voxels: [
        [2, 0, 0],
        [1, 1, 1],
      ],
      want: { 6: 2, 18: 2, 26: 1 },
    },
    {
      name: 'far apart',
      voxels: [
        [0, 0, 0],
        [2, 2, 2],
      ],
      want: { 6: 2, 18: 2, 26: 2 },
    },
    {
      name: 'U shape merges two provisional labels',
      voxels: [
        [0, 0, 0],
        [2, 0, 0],
        [0, 1, 0],
        [2, 1, 0],
        [0, 2, 0],
        [1, 2, 0],
        [2, 2, 0],
      ],
      want: { 6: 1, 18: 1, 26: 1 },
    },
    { name: 'empty', voxels: [], want: { 6: 0, 18: 0, 26: 0 } },
  ];
  for (const c of cases) {
    for (const conn of [6, 18, 26] as const) {
      it(`${c.name}, ${conn}-connectivity`, () => {
        const r = connectedComponents(tiny(c.voxels), grid, { connectivity: conn });
        expect(r.count).toBe(c.want[conn]);
        expect(r.sizes.length).toBe(r.count + 1);
        expect(r.sizes[0]).toBe(27 - c.voxels.length);
      });
    }
  }

  it('numbers components in memory (raster) order', () => {
    // component A starts at voxel 5, component B at voxel 1: B must be 1
    const m = new Uint8Array(27);
    m[5] = 1; // (2,1,0)
    m[1] = 1; // (1,0,0)
    m[26] = 1; // (2,2,2)
    const r = connectedComponents(m, grid, { connectivity: 6 });
    expect([r.labels[1], r.labels[5], r.labels[26]]).toEqual([1, 2, 3]);
  });

  it('refuses connectivity 8', () => {
    expect(() => connectedComponents(new Uint8Array(27), grid, { connectivity: 8 as Connectivity })).toThrow(S2SError);
  });
});

describeScipy('connectedComponents: same input as scipy.ndimage.label', () => {
  const size: Vec3 = [31, 26, 19];
  const grid = makeGrid({ size });
  for (const [conn, rank, density, minCount] of [
    [6, 1, 0.4, 20],
    [18, 2, 0.25, 20],
    [26, 3, 0.15, 20],
    [26, 3, 0.05, 100], // mostly isolated voxels
    [6, 1, 0.6, 2], // long runs: few large components
  ] as const) {
    it(`${conn}-connectivity on a random mask of density ${density}: identical labels`, () => {
      const mask = randomMask(size[0] * size[1] * size[2], density, 7 + conn);
      const ref = runScipy(
        `lab, n = ndi.label(mask, structure=ndi.generate_binary_structure(3, ${rank}))\nout('lab', lab)\nout('n', np.array([n]))`,
        { mask },
        size,
      );
      const r = connectedComponents(mask, grid, { connectivity: conn });
      expect(r.count).toBe(ref.n![0]);
      expect(r.count).toBeGreaterThanOrEqual(minCount); // a non-trivial case
      let diff = 0;
      for (let p = 0; p < mask.length; p++) if (r.labels[p] !== ref.lab![p]) diff++;
      expect(diff).toBe(0);
    });
  }
});

describe('keepLargest / removeIslands / componentStats on analytic phantoms', () => {
  // oblique, anisotropic, left-handed grid; voxel volume 0.8 * 1.1 * 1.3 mm^3
  const grid = obliqueGrid([60, 44, 40]);
  const m = [0, 0, 0];
  const place = (ijk: Vec3): Vec3 => {
    // LPS of an index position (through the grid helpers)
    const d = grid.direction;
    for (let r = 0; r < 3; r++)
      m[r] = grid.origin[r]! + ijk.reduce((s, x, a) => s + d[a]![r]! * grid.spacing[a]! * x, 0);
    return [m[0]!, m[1]!, m[2]!];
  };
  const cBig = place([12, 22, 20]);
  const cSmall = place([52, 22, 20]);
  const cTorus = place([32, 22, 20]);
  const big = shellMask(grid, cBig, 7);
  const small = shellMask(grid, cSmall, 4);
  const torus = torusMask(grid, cTorus, 5, 1.6, [0, 0.6, 0.8]);
  const all = new Uint8Array(big.length);
  for (let p = 0; p < all.length; p++) all[p] = big[p]! | small[p]! | torus[p]!;
  const vox = 0.8 * 1.1 * 1.3;

  it('the phantoms are separate: three components', () => {
    expect(connectedComponents(all, grid).count).toBe(3);
  });

  it('keepLargest keeps the big ball (volume 4/3 pi 7^3 within 2%)', () => {
    const k = keepLargest(all, grid);
    expect(Array.from(k)).toEqual(Array.from(big));
    expect(Math.abs(count(k) * vox - ballVolume(7)) / ballVolume(7)).toBeLessThan(0.02);
    expect(count(keepLargest(all, grid, { count: 2 }))).toBe(count(big) + Math.max(count(small), count(torus)));
    expect(count(keepLargest(all, grid, { count: 5 }))).toBe(count(all));
  });

  it('removeIslands drops what is below the volume threshold', () => {
    const vSmall = count(small) * vox;
    const vTorus = count(torus) * vox;
    const torusVol = 2 * Math.PI ** 2 * 5 * 1.6 ** 2;
    expect(Math.abs(vTorus - torusVol) / torusVol).toBeLessThan(0.05);
    expect(Math.abs(vSmall - ballVolume(4)) / ballVolume(4)).toBeLessThan(0.05);
    const thr = Math.max(vSmall, vTorus) + 1;
    expect(Array.from(removeIslands(all, grid, { minVolumeMm3: thr }))).toEqual(Array.from(big));
    // exactly the size of the smaller one: it is kept
    const lo = Math.min(vSmall, vTorus);
    expect(count(removeIslands(all, grid, { minVolumeMm3: lo }))).toBe(count(all));
    expect(() => removeIslands(all, grid, { minVolumeMm3: -1 })).toThrow(S2SError);
  });

  it('componentStats: volumes and centroids in LPS (centroid within 0.05 mm of the analytic centre)', () => {
    const { labels } = connectedComponents(all, grid);
    const stats = componentStats(labels, grid, { sortBy: 'volume' });
    expect(stats.length).toBe(3);
    expect(stats[0]!.volumeMm3).toBeCloseTo(count(big) * vox, 6);
    for (const [s, c] of [
      [stats[0]!, cBig],
      [stats.find((x) => x.voxels === count(small))!, cSmall],
      [stats.find((x) => x.voxels === count(torus))!, cTorus],
    ] as const) {
      expect(Math.hypot(s.centroidLps[0] - c[0], s.centroidLps[1] - c[1], s.centroidLps[2] - c[2])).toBeLessThan(0.05);
    }
    const b = stats[0]!;
    // the big ball (radius 7 mm) spans about 2 * 7 / spacing voxels along each axis
    for (let a = 0; a < 3; a++) {
      expect(Math.abs(b.bboxMax[a]! - b.bboxMin[a]! + 1 - 14 / grid.spacing[a]!)).toBeLessThanOrEqual(2);
    }
  });
});

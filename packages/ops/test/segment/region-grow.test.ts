import { lpsFromIjk, makeGrid, makeVolume } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { confidenceConnected, connectedThreshold, seedVoxels } from '../../src/segment/region-grow.js';
import { ballVolume, fillByLps, gaussian, obliqueGrid, rng, sum } from './phantoms.js';

// 5 x 4 x 1:  two blobs of 1s touching only diagonally
const tiny = makeVolume({
  grid: makeGrid({ size: [5, 4, 1] }),
  // biome-ignore format: picture
  data: new Float32Array([
    1, 1, 0, 0, 0,
    1, 1, 0, 0, 0,
    0, 0, 1, 1, 0,
    0, 0, 1, 0, 5,
  ]),
});

describe('connected threshold', () => {
  it.each([
    [6, [1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    [26, [1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0]],
  ] as const)('%i-connected growth from one seed', (connectivity, want) => {
    const m = connectedThreshold(tiny, { seeds: [{ ijk: [0, 0, 0] }], lower: 1, upper: 1, connectivity });
    expect([...m]).toEqual(want);
  });

  it('a seed outside the range grows nothing; several seeds grow several regions', () => {
    expect(sum(connectedThreshold(tiny, { seeds: [{ ijk: [4, 0, 0] }], lower: 1, upper: 1 }))).toBe(0);
    const m = connectedThreshold(tiny, { seeds: [{ ijk: [0, 0, 0] }, { ijk: [3, 2, 0] }], lower: 1, upper: 1 });
    expect(sum(m)).toBe(7);
  });

  it('LPS seeds on an oblique left-handed grid hit the right voxel; outside seeds are refused', () => {
    const grid = obliqueGrid([20, 18, 16], true);
    const target: [number, number, number] = [7, 11, 5];
    const lps = lpsFromIjk(grid, [target[0] + 0.3, target[1] - 0.2, target[2] + 0.4]);
    expect(seedVoxels(grid, [{ lps }])).toEqual([target]);
    expect(() => seedVoxels(grid, [{ ijk: [20, 0, 0] }])).toThrow(/outside the image/);
    expect(() => seedVoxels(grid, [{ lps: [1e4, 0, 0] }])).toThrow(/LPS millimetres/);
    expect(() => seedVoxels(grid, [])).toThrow(/at least one seed/);
  });

  it('grows exactly the ball it is seeded in (in LPS), not the second ball', () => {
    const grid = obliqueGrid([40, 36, 28]);
    const c1 = lpsFromIjk(grid, [12, 18, 14]);
    const c2 = lpsFromIjk(grid, [30, 18, 14]);
    const data = fillByLps(grid, (x, y, z) =>
      Math.hypot(x - c1[0], y - c1[1], z - c1[2]) <= 7 || Math.hypot(x - c2[0], y - c2[1], z - c2[2]) <= 7 ? 1000 : 0,
    );
    const v = makeVolume({ grid, data });
    const ball1 = ballVolume(grid, c1, 7).data;
    const m = connectedThreshold(v, { seeds: [{ lps: c1 }], lower: 500, upper: 2000 });
    let diff = 0;
    for (let p = 0; p < m.length; p++) if (m[p] !== (ball1[p]! > 0 ? 1 : 0)) diff++;
    expect(diff).toBe(0);
  });
});

describe('confidence connected', () => {
  it('recovers a noisy ball from one seed (mean 100 sd 10 in a background of 0 sd 10)', () => {
    const grid = obliqueGrid([36, 34, 24]);
    const c = lpsFromIjk(grid, [18, 17, 12]);
    const ball = ballVolume(grid, c, 9, 1, 0).data;
    const g = gaussian(rng(11));
    const data = new Float32Array(ball.length);
    for (let p = 0; p < data.length; p++) data[p] = (ball[p] ? 100 : 0) + 10 * g();
    const r = confidenceConnected(makeVolume({ grid, data }), { seeds: [{ lps: c }], multiplier: 3 });
    let diff = 0;
    for (let p = 0; p < data.length; p++) if (r.mask[p] !== ball[p]) diff++;
    // at 3 sd a few noisy voxels may fall outside (0.27% of the ball) and none of the background gets in
    expect(diff).toBeLessThan(0.01 * sum(ball));
    expect(r.mean).toBeGreaterThan(97);
    expect(r.mean).toBeLessThan(103);
    expect(r.std).toBeGreaterThan(8);
    expect(r.std).toBeLessThan(12);
    expect(r.lower).toBeGreaterThan(40);
  });

  it('refuses bad parameters', () => {
    expect(() => confidenceConnected(tiny, { seeds: [{ ijk: [0, 0, 0] }], multiplier: 0 })).toThrow(/multiplier/);
    expect(() => confidenceConnected(tiny, { seeds: [{ ijk: [0, 0, 0] }], iterations: -1 })).toThrow(/iterations/);
    expect(() => connectedThreshold(tiny, { seeds: [{ ijk: [0, 0, 0] }], connectivity: 8 as 6 })).toThrow(
      /connectivity/,
    );
  });
});

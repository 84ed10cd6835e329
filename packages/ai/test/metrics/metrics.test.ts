import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Grid, makeGrid, voxelCount } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { compareLabels } from '../../src/metrics/compare-labels.js';
import { dice, iou } from '../../src/metrics/overlap.js';
import { surfaceDistances, surfaceVoxels } from '../../src/metrics/surface-distance.js';
import { seededRandom } from '../helpers/onnx-builder.js';

const here = dirname(fileURLToPath(import.meta.url));

function maskOf(grid: Grid, f: (i: number, j: number, k: number) => boolean): Uint8Array {
  const [nx, ny, nz] = grid.size;
  const m = new Uint8Array(voxelCount(grid));
  let p = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) m[p++] = f(i, j, k) ? 1 : 0;
  return m;
}

describe('overlap and surface metrics: hand-computed values', () => {
  it('a row of voxels with 2 mm spacing', () => {
    const grid = makeGrid({ size: [10, 1, 1], spacing: [2, 1, 1] });
    const a = maskOf(grid, (i) => i >= 2 && i <= 5); // 4 voxels
    const b = maskOf(grid, (i) => i >= 3 && i <= 7); // 5 voxels, 3 shared
    expect(dice(a, b)).toBeCloseTo(6 / 9, 12);
    expect(iou(a, b)).toBeCloseTo(3 / 6, 12);
    // one voxel thick: every voxel is on the surface. d(A->B) = [2, 0, 0, 0], d(B->A) = [0, 0, 0, 2, 4]
    const s = surfaceDistances(a, b, grid, { toleranceMm: 2 });
    expect(s.surfaceA).toBe(4);
    expect(s.surfaceB).toBe(5);
    expect(s.hd95).toBeCloseTo(3.6, 5); // max(0 + 0.85 * 2, 2 + 0.8 * 2)
    expect(s.hausdorff).toBeCloseTo(4, 6);
    expect(s.meanAToB).toBeCloseTo(0.5, 6);
    expect(s.meanBToA).toBeCloseTo(1.2, 6);
    expect(s.assd).toBeCloseTo(0.85, 6);
    expect(s.pooledMean).toBeCloseTo(8 / 9, 6);
    expect(s.surfaceDice).toBeCloseTo(8 / 9, 6); // voxel 7 of B is 4 mm away
    expect(surfaceDistances(a, b, grid, { toleranceMm: 1.9 }).surfaceDice).toBeCloseTo(6 / 9, 6);
  });

  it('a 3x3x3 cube against its centre voxel, anisotropic spacing', () => {
    const sp: [number, number, number] = [0.5, 1, 2];
    const grid = makeGrid({ size: [5, 5, 5], spacing: sp });
    const a = maskOf(grid, (i, j, k) => [i, j, k].every((x) => x >= 1 && x <= 3));
    const b = maskOf(grid, (i, j, k) => i === 2 && j === 2 && k === 2);
    expect(dice(a, b)).toBeCloseTo(2 / 28, 12);
    expect(iou(a, b)).toBeCloseTo(1 / 27, 12);
    expect(Array.from(surfaceVoxels(a, grid)).reduce((s, x) => s + x, 0)).toBe(26);
    // A's 26 surface voxels: 2 face neighbours per axis at 0.5 / 1 / 2 mm, 4 edge neighbours per axis pair, 8 corners
    const d: number[] = [];
    for (let di = -1; di <= 1; di++)
      for (let dj = -1; dj <= 1; dj++)
        for (let dk = -1; dk <= 1; dk++) if (di || dj || dk) d.push(Math.hypot(di * sp[0], dj * sp[1], dk * sp[2]));
    d.sort((x, y) => x - y);
    const rank = 0.95 * 25;
    const p95 = d[Math.floor(rank)]! + (rank - Math.floor(rank)) * (d[Math.ceil(rank)]! - d[Math.floor(rank)]!);
    const meanAB = d.reduce((s, x) => s + x, 0) / 26;
    const s = surfaceDistances(a, b, grid, { toleranceMm: 1 });
    expect(s.meanBToA).toBeCloseTo(0.5, 6); // the centre's nearest surface voxel of A is 0.5 mm away
    expect(s.meanAToB).toBeCloseTo(meanAB, 5);
    expect(s.hd95).toBeCloseTo(p95, 5);
    expect(s.hausdorff).toBeCloseTo(Math.hypot(0.5, 1, 2), 5);
    expect(s.assd).toBeCloseTo((meanAB + 0.5) / 2, 5);
    // within 1 mm: the 2 i-face (0.5), 2 j-face (1), 4 i-j edge (1.118 > 1: no) voxels -> 4 of A, plus B's one voxel
    expect(s.surfaceDice).toBeCloseTo(5 / 27, 6);
  });

  it('identical, empty and disjoint masks', () => {
    const grid = makeGrid({ size: [6, 5, 4], spacing: [1, 1, 3] });
    const a = maskOf(grid, (i, j) => i > 1 && j > 1);
    const empty = new Uint8Array(voxelCount(grid));
    const same = surfaceDistances(a, a, grid);
    expect([dice(a, a), same.hd95, same.assd, same.surfaceDice]).toEqual([1, 0, 0, 1]);
    const none = surfaceDistances(empty, empty, grid);
    expect([dice(empty, empty), iou(empty, empty), none.hd95, none.surfaceDice]).toEqual([1, 1, 0, 1]);
    const one = surfaceDistances(a, empty, grid);
    expect([dice(a, empty), one.hd95, one.assd, one.surfaceDice]).toEqual([0, Infinity, Infinity, 0]);
    expect(() => dice(a, new Uint8Array(3))).toThrow(/masks have 120 and 3 voxels/);
    expect(() => surfaceDistances(a, a, grid, { toleranceMm: -1 })).toThrow(/tolerance must be >= 0/);
  });

  it('compareLabels reports every structure with volumes in mm^3', () => {
    const grid = makeGrid({ size: [8, 8, 8], spacing: [1, 1, 2] });
    const ref = maskOf(grid, (i) => i < 4).map((x, p) => (x ? 1 : p % 2 ? 3 : 0));
    const pred = Uint8Array.from(ref, (v, p) => (v === 3 && p % 4 === 1 ? 0 : v));
    const r = compareLabels(pred, ref, grid);
    expect(r.map((x) => x.label)).toEqual([1, 3]);
    expect(r[0]).toMatchObject({ dice: 1, iou: 1, predictedMm3: 256 * 2, referenceMm3: 256 * 2 });
    expect(r[0]!.surface!.hd95).toBe(0);
    expect(r[1]!.dice).toBeCloseTo((2 * 64) / (128 + 64), 12);
    expect(compareLabels(pred, ref, grid, { labels: [5], overlapOnly: true })).toEqual([
      { label: 5, dice: 1, iou: 1, predictedMm3: 0, referenceMm3: 0 },
    ]);
  });
});

// Cross-check against numpy/scipy (medpy's definitions) on random blobby masks.
const PY = '/usr/bin/python3';
function haveScipy(): boolean {
  if (!existsSync(PY)) return false;
  try {
    execFileSync(PY, ['-c', 'import numpy, scipy.ndimage'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const SCIPY = haveScipy();
if (!SCIPY && process.env.CI)
  throw new Error('CI run without /usr/bin/python3 + numpy + scipy for the metrics cross-check');
if (!SCIPY)
  console.warn('[metrics tests] /usr/bin/python3 with numpy and scipy not found: skipping the scipy cross-check');

describe.skipIf(!SCIPY)('metrics agree with scipy', () => {
  const cases: [string, Grid, number][] = [
    ['anisotropic', makeGrid({ size: [40, 34, 22], spacing: [0.7, 0.9, 2.5] }), 1],
    [
      'left-handed (i and j swapped)',
      makeGrid({
        size: [31, 37, 29],
        spacing: [1.2, 0.6, 1],
        direction: [
          [0, 1, 0],
          [1, 0, 0],
          [0, 0, 1],
        ],
      }),
      2,
    ],
  ];
  for (const [name, grid, seed] of cases) {
    it(name, () => {
      const rnd = seededRandom(seed);
      const [nx, ny, nz] = grid.size;
      // a few random balls per mask (in mm), so that shapes differ and touch the grid's edge
      const balls = (count: number) =>
        Array.from({ length: count }, () => ({
          c: [
            ((rnd() + 1) / 2) * nx * grid.spacing[0],
            ((rnd() + 1) / 2) * ny * grid.spacing[1],
            ((rnd() + 1) / 2) * nz * grid.spacing[2],
          ],
          r: 4 + 4 * ((rnd() + 1) / 2),
        }));
      const mk = (bs: ReturnType<typeof balls>) =>
        maskOf(grid, (i, j, k) =>
          bs.some(
            (b) =>
              Math.hypot(i * grid.spacing[0] - b.c[0]!, j * grid.spacing[1] - b.c[1]!, k * grid.spacing[2] - b.c[2]!) <=
              b.r,
          ),
        );
      const ballsA = balls(4);
      // B: the same balls, moved by up to 2 mm and resized by up to 1.5 mm, plus one more
      const ballsB = [...ballsA.map((x) => ({ c: x.c.map((v) => v + 2 * rnd()), r: x.r + 1.5 * rnd() })), ...balls(1)];
      const a = mk(ballsA);
      const b = mk(ballsB);
      const dir = mkdtempSync(join(tmpdir(), 's2s-metrics-'));
      try {
        writeFileSync(join(dir, 'a.raw'), a);
        writeFileSync(join(dir, 'b.raw'), b);
        const tol = 1.5;
        const ref = JSON.parse(
          execFileSync(
            PY,
            [
              join(here, 'surface_metrics_ref.py'),
              join(dir, 'a.raw'),
              join(dir, 'b.raw'),
              ...grid.size.map(String),
              ...grid.spacing.map(String),
              String(tol),
            ],
            {
              encoding: 'utf8',
            },
          ),
        );
        const s = surfaceDistances(a, b, grid, { toleranceMm: tol });
        expect(s.surfaceA).toBe(ref.surfaceA);
        expect(s.surfaceB).toBe(ref.surfaceB);
        expect(dice(a, b)).toBeCloseTo(ref.dice, 10);
        expect(iou(a, b)).toBeCloseTo(ref.iou, 10);
        expect(s.hd95).toBeCloseTo(ref.hd95, 4);
        expect(s.hausdorff).toBeCloseTo(ref.hausdorff, 4);
        expect(s.assd).toBeCloseTo(ref.assd, 4);
        expect(s.surfaceDice).toBeCloseTo(ref.surfaceDice, 10);
        expect(ref.dice).toBeGreaterThan(0.05);
        expect(ref.dice).toBeLessThan(0.95);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

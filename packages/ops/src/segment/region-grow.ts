/**
 * Seeded region growing.
 *
 * - connectedThreshold: the voxels inside [lower, upper] that are connected (6 or 26) to a seed.
 * - confidenceConnected: like ITK's ConfidenceConnectedImageFilter. The range starts as
 *   mean +- multiplier * std of the (2r+1)^3 neighbourhoods of the seeds, the region is grown, then
 *   `iterations` times the mean and std are recomputed over the whole current region and the
 *   region is grown again from the seeds with the new range.
 *
 * Seeds are given as voxel indices { ijk } or LPS positions in mm { lps } (mapped to the nearest
 * voxel through the grid's affine).
 */
import {
  type Grid,
  ijkFromLps,
  progressReporter,
  type RunOptions,
  S2SError,
  type Vec3,
  type Volume,
  voxelCount,
} from '@slice2solid/core';
import { type Connectivity, checkConnectivity } from '../components/connected-components.js';
import { checkRange, scalarFrame } from './threshold.js';

export type Seed = { readonly ijk: readonly number[] } | { readonly lps: readonly number[] };

export interface ConnectedThresholdOptions extends RunOptions {
  readonly seeds: readonly Seed[];
  readonly lower?: number;
  readonly upper?: number;
  /** 6 = faces, 18 = faces + edges, 26 = faces + edges + corners. */
  readonly connectivity?: Connectivity;
  readonly frame?: number;
}

export const CONNECTED_THRESHOLD_DEFAULTS = {
  lower: Number.NEGATIVE_INFINITY,
  upper: Number.POSITIVE_INFINITY,
  connectivity: 6 as Connectivity,
  frame: 0,
} as const;

export interface ConfidenceConnectedOptions extends RunOptions {
  readonly seeds: readonly Seed[];
  /** Range half-width in standard deviations. */
  readonly multiplier?: number;
  /** Number of re-estimations of mean and std from the grown region. */
  readonly iterations?: number;
  /** Radius (voxels) of the cube around each seed used for the first estimate. */
  readonly initialNeighborhoodRadius?: number;
  readonly connectivity?: Connectivity;
  readonly frame?: number;
}

export const CONFIDENCE_CONNECTED_DEFAULTS = {
  multiplier: 2.5,
  iterations: 4,
  initialNeighborhoodRadius: 1,
  connectivity: 6 as Connectivity,
  frame: 0,
} as const;

export interface ConfidenceConnectedResult {
  readonly mask: Uint8Array;
  /** The range used by the last growth. */
  readonly lower: number;
  readonly upper: number;
  /** Statistics the last range was computed from. */
  readonly mean: number;
  readonly std: number;
}

/** The voxel index (integers) of each seed, checked to lie inside the grid. */
export function seedVoxels(grid: Grid, seeds: readonly Seed[]): Vec3[] {
  if (seeds.length === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'region growing needs at least one seed', {
      hint: 'give a seed as voxel indices (i, j, k) or an LPS position in mm',
    });
  }
  return seeds.map((s, n) => {
    const isLps = 'lps' in s;
    const p = isLps ? s.lps : s.ijk;
    if (p.length !== 3 || !p.every((x) => Number.isFinite(x))) {
      throw new S2SError('INVALID_ARGUMENT', `seed ${n + 1} must be 3 finite numbers`);
    }
    const c = isLps ? ijkFromLps(grid, p) : (p as unknown as Vec3);
    const ijk: Vec3 = [Math.round(c[0]), Math.round(c[1]), Math.round(c[2])];
    if (ijk.some((x, a) => x < 0 || x >= grid.size[a]!)) {
      const where = isLps
        ? `LPS (${p.join(', ')}) mm, voxel (${c.map((x) => x.toFixed(1)).join(', ')})`
        : `voxel (${p.join(', ')})`;
      throw new S2SError(
        'INVALID_ARGUMENT',
        `seed ${n + 1} at ${where} is outside the image (${grid.size.join('x')})`,
        {
          hint: isLps
            ? 'check that the seed is in LPS millimetres (DICOM patient coordinates), not RAS'
            : 'indices start at 0',
        },
      );
    }
    return ijk;
  });
}

/** Neighbour offsets (di, dj, dk) for a connectivity. */
function neighbourOffsets(connectivity: Connectivity): Vec3[] {
  checkConnectivity(connectivity);
  const out: Vec3[] = [];
  for (let dk = -1; dk <= 1; dk++)
    for (let dj = -1; dj <= 1; dj++)
      for (let di = -1; di <= 1; di++) {
        const m = Math.abs(di) + Math.abs(dj) + Math.abs(dk);
        if (m === 0) continue;
        if (connectivity === 6 && m > 1) continue;
        if (connectivity === 18 && m > 2) continue;
        out.push([di, dj, dk]);
      }
  return out;
}

/** Flood fill from `seeds` through voxels where `inside(index)` holds. Seeds outside the range start nothing. */
function flood(
  grid: Grid,
  seeds: readonly Vec3[],
  inside: (p: number) => boolean,
  connectivity: Connectivity,
  options: RunOptions,
  stage: string,
): Uint8Array {
  const [nx, ny, nz] = grid.size;
  const n = voxelCount(grid);
  const out = new Uint8Array(n);
  const offs = neighbourOffsets(connectivity);
  let queue = new Int32Array(Math.min(n, 1 << 16));
  let head = 0;
  let tail = 0;
  const push = (p: number): void => {
    if (tail === queue.length) {
      // compact or grow
      if (head > 0) {
        queue.copyWithin(0, head, tail);
        tail -= head;
        head = 0;
      }
      if (tail === queue.length) {
        const bigger = new Int32Array(Math.min(n, queue.length * 2));
        bigger.set(queue);
        queue = bigger;
      }
    }
    queue[tail++] = p;
  };
  for (const [i, j, k] of seeds) {
    const p = i + nx * (j + ny * k);
    if (!out[p] && inside(p)) {
      out[p] = 1;
      push(p);
    }
  }
  const report = progressReporter(stage, n, options, 1 << 18);
  let visited = 0;
  const nxy = nx * ny;
  while (head < tail) {
    const p = queue[head++]!;
    if (++visited % 65536 === 0) report(visited);
    const k = Math.floor(p / nxy);
    const r = p - k * nxy;
    const j = Math.floor(r / nx);
    const i = r - j * nx;
    for (const [di, dj, dk] of offs) {
      const ii = i + di;
      const jj = j + dj;
      const kk = k + dk;
      if (ii < 0 || jj < 0 || kk < 0 || ii >= nx || jj >= ny || kk >= nz) continue;
      const q = ii + nx * (jj + ny * kk);
      if (out[q] || !inside(q)) continue;
      out[q] = 1;
      push(q);
    }
  }
  report(n);
  return out;
}

/** Voxels in [lower, upper] connected to any seed. A seed outside the range grows nothing. */
export function connectedThreshold(volume: Volume, options: ConnectedThresholdOptions): Uint8Array {
  const lower = options.lower ?? CONNECTED_THRESHOLD_DEFAULTS.lower;
  const upper = options.upper ?? CONNECTED_THRESHOLD_DEFAULTS.upper;
  checkRange(lower, upper);
  const v = scalarFrame(volume, options.frame ?? CONNECTED_THRESHOLD_DEFAULTS.frame, 'region growing');
  const seeds = seedVoxels(v.grid, options.seeds);
  const data = v.data;
  return flood(
    v.grid,
    seeds,
    (p) => {
      const x = data[p]!;
      return x >= lower && x <= upper;
    },
    options.connectivity ?? CONNECTED_THRESHOLD_DEFAULTS.connectivity,
    options,
    'region growing',
  );
}

/** Confidence-connected region growing (see the file comment). */
export function confidenceConnected(volume: Volume, options: ConfidenceConnectedOptions): ConfidenceConnectedResult {
  const multiplier = options.multiplier ?? CONFIDENCE_CONNECTED_DEFAULTS.multiplier;
  const iterations = options.iterations ?? CONFIDENCE_CONNECTED_DEFAULTS.iterations;
  const radius = options.initialNeighborhoodRadius ?? CONFIDENCE_CONNECTED_DEFAULTS.initialNeighborhoodRadius;
  const connectivity = options.connectivity ?? CONFIDENCE_CONNECTED_DEFAULTS.connectivity;
  if (!(multiplier > 0) || !Number.isFinite(multiplier)) {
    throw new S2SError('INVALID_ARGUMENT', `multiplier must be > 0, got ${multiplier}`);
  }
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw new S2SError('INVALID_ARGUMENT', `iterations must be an integer >= 0, got ${iterations}`);
  }
  if (!Number.isInteger(radius) || radius < 0) {
    throw new S2SError('INVALID_ARGUMENT', `initialNeighborhoodRadius must be an integer >= 0, got ${radius}`);
  }
  const v = scalarFrame(volume, options.frame ?? CONFIDENCE_CONNECTED_DEFAULTS.frame, 'region growing');
  const seeds = seedVoxels(v.grid, options.seeds);
  const [nx, ny, nz] = v.grid.size;
  const data = v.data;
  // first estimate: every voxel of every seed's neighbourhood (a voxel shared by two seeds counts twice, as in ITK)
  let sum = 0;
  let sum2 = 0;
  let count = 0;
  for (const [si, sj, sk] of seeds) {
    for (let k = Math.max(0, sk - radius); k <= Math.min(nz - 1, sk + radius); k++)
      for (let j = Math.max(0, sj - radius); j <= Math.min(ny - 1, sj + radius); j++)
        for (let i = Math.max(0, si - radius); i <= Math.min(nx - 1, si + radius); i++) {
          const x = data[i + nx * (j + ny * k)]!;
          if (!Number.isFinite(x)) continue;
          sum += x;
          sum2 += x * x;
          count++;
        }
  }
  if (count === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'the seed neighbourhoods hold no finite values');
  }
  let mean = sum / count;
  let std = Math.sqrt(Math.max(0, (sum2 - sum * mean) / Math.max(1, count - 1)));
  let lower = mean - multiplier * std;
  let upper = mean + multiplier * std;
  // the seed voxels themselves are always in range (ITK widens the first range to include them)
  for (const [i, j, k] of seeds) {
    const x = data[i + nx * (j + ny * k)]!;
    if (x < lower) lower = x;
    if (x > upper) upper = x;
  }
  const grow = (lo: number, hi: number, it: number): Uint8Array =>
    flood(
      v.grid,
      seeds,
      (p) => {
        const x = data[p]!;
        return x >= lo && x <= hi;
      },
      connectivity,
      options,
      `confidence connected ${it + 1}/${iterations + 1}`,
    );
  let mask = grow(lower, upper, 0);
  for (let it = 0; it < iterations; it++) {
    sum = 0;
    sum2 = 0;
    count = 0;
    for (let p = 0; p < mask.length; p++) {
      if (!mask[p]) continue;
      const x = data[p]!;
      sum += x;
      sum2 += x * x;
      count++;
    }
    if (count < 2) break;
    mean = sum / count;
    std = Math.sqrt(Math.max(0, (sum2 - sum * mean) / (count - 1)));
    const lo = mean - multiplier * std;
    const hi = mean + multiplier * std;
    if (lo === lower && hi === upper) break;
    lower = lo;
    upper = hi;
    mask = grow(lower, upper, it + 1);
  }
  return { mask, lower, upper, mean, std };
}

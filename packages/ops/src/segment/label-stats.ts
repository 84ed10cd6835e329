/**
 * Per-segment statistics of a label map: voxel count, volume, bounding boxes, centroid and,
 * when an image on the same grid is given, intensity statistics.
 *
 * - volume = voxels * |det(lpsFromIjk 3x3)| (the parallelepiped of one voxel, right for sheared grids);
 * - bboxIjk = inclusive min / max voxel index;
 * - bboxLps = axis-aligned LPS box around the VOXELS of the ijk box (their corners, index +- 0.5);
 * - centroidLps = mean LPS position of the voxel centres.
 */
import {
  applyAffine,
  type Grid,
  gridsMatch,
  type LabelMap,
  lpsFromIjkMatrix,
  maxCornerDistance,
  progressReporter,
  type RunOptions,
  S2SError,
  type Vec3,
  type Volume,
  voxelCount,
} from '@slice2solid/core';
import { scalarFrame } from './threshold.js';

export interface LabelStatsOptions extends RunOptions {
  /** Image on the same grid as the labels, for intensity statistics. */
  readonly image?: Volume;
  /** Frame of a 4D image. */
  readonly frame?: number;
  /** Also report table segments that have no voxels. */
  readonly includeEmpty?: boolean;
  /** Largest corner distance (mm) for the image and label grids to count as the same. */
  readonly gridToleranceMm?: number;
}

export const LABEL_STATS_DEFAULTS = { frame: 0, includeEmpty: true, gridToleranceMm: 1e-3 } as const;

export interface IntensityStats {
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  /** Sample standard deviation (n - 1); 0 for a single voxel. */
  readonly std: number;
}

export interface LabelStats {
  readonly value: number;
  readonly name: string;
  readonly voxels: number;
  readonly volumeMm3: number;
  readonly volumeMl: number;
  /** Inclusive voxel index box; undefined for an empty segment. */
  readonly bboxIjk?: { readonly min: Vec3; readonly max: Vec3 };
  readonly bboxLps?: { readonly min: Vec3; readonly max: Vec3 };
  readonly centroidLps?: Vec3;
  readonly intensity?: IntensityStats;
}

/** Volume of one voxel in mm^3 (|det| of the index-to-LPS matrix). */
export function voxelVolumeMm3(grid: Grid): number {
  const m = lpsFromIjkMatrix(grid);
  const det =
    m[0]! * (m[5]! * m[10]! - m[6]! * m[9]!) -
    m[1]! * (m[4]! * m[10]! - m[6]! * m[8]!) +
    m[2]! * (m[4]! * m[9]! - m[5]! * m[8]!);
  return Math.abs(det);
}

interface Acc {
  n: number;
  si: number;
  sj: number;
  sk: number;
  lo: [number, number, number];
  hi: [number, number, number];
  vSum: number;
  vSum2: number;
  vMin: number;
  vMax: number;
  vN: number;
}

function newAcc(): Acc {
  return {
    n: 0,
    si: 0,
    sj: 0,
    sk: 0,
    lo: [Infinity, Infinity, Infinity],
    hi: [-Infinity, -Infinity, -Infinity],
    vSum: 0,
    vSum2: 0,
    vMin: Infinity,
    vMax: -Infinity,
    vN: 0,
  };
}

/** Statistics of every segment value present in the map (and of empty table segments), by value. */
export function labelStats(labels: LabelMap, options: LabelStatsOptions = {}): LabelStats[] {
  const grid = labels.grid;
  const n = voxelCount(grid);
  if (labels.data.length !== n) {
    throw new S2SError('INVALID_ARGUMENT', `label data has ${labels.data.length} values but the grid needs ${n}`);
  }
  let image: Volume | undefined;
  if (options.image) {
    const tol = options.gridToleranceMm ?? LABEL_STATS_DEFAULTS.gridToleranceMm;
    image = scalarFrame(options.image, options.frame ?? LABEL_STATS_DEFAULTS.frame, 'intensity statistics');
    if (!gridsMatch(image.grid, grid, tol)) {
      const why = image.grid.size.some((s, a) => s !== grid.size[a])
        ? `the image is ${image.grid.size.join('x')} voxels and the labels ${grid.size.join('x')}`
        : `their voxel centres differ by up to ${maxCornerDistance(image.grid, grid).toFixed(3)} mm`;
      throw new S2SError('GEOMETRY_MISMATCH', `the image and the label map are not on the same grid: ${why}`, {
        hint: 'give the image the labels were made from, or resample the labels onto the image grid first',
      });
    }
  }
  const accs = new Map<number, Acc>();
  const [nx, ny, nz] = grid.size;
  const data = labels.data;
  const img = image?.data;
  const report = progressReporter('label statistics', nz, options, Math.max(1, Math.floor(nz / 20)));
  let last = -1;
  let acc: Acc | undefined;
  let p = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        const v = data[p]!;
        if (v === 0) continue;
        if (v !== last) {
          acc = accs.get(v);
          if (!acc) {
            acc = newAcc();
            accs.set(v, acc);
          }
          last = v;
        }
        const a = acc!;
        a.n++;
        a.si += i;
        a.sj += j;
        a.sk += k;
        if (i < a.lo[0]) a.lo[0] = i;
        if (i > a.hi[0]) a.hi[0] = i;
        if (j < a.lo[1]) a.lo[1] = j;
        if (j > a.hi[1]) a.hi[1] = j;
        if (k < a.lo[2]) a.lo[2] = k;
        if (k > a.hi[2]) a.hi[2] = k;
        if (img) {
          const x = img[p]!;
          if (Number.isFinite(x)) {
            a.vSum += x;
            a.vSum2 += x * x;
            a.vN++;
            if (x < a.vMin) a.vMin = x;
            if (x > a.vMax) a.vMax = x;
          }
        }
      }
    }
    report(k + 1);
  }
  const names = new Map(labels.segments.map((s) => [s.value, s.name]));
  const values = new Set(accs.keys());
  if (options.includeEmpty ?? LABEL_STATS_DEFAULTS.includeEmpty) for (const s of labels.segments) values.add(s.value);
  const m = lpsFromIjkMatrix(grid);
  const vv = voxelVolumeMm3(grid);
  const out: LabelStats[] = [];
  for (const value of [...values].sort((a, b) => a - b)) {
    const a = accs.get(value);
    const name = names.get(value) ?? `label ${value}`;
    if (!a) {
      out.push({ value, name, voxels: 0, volumeMm3: 0, volumeMl: 0 });
      continue;
    }
    const volumeMm3 = a.n * vv;
    const lo: number[] = [Infinity, Infinity, Infinity];
    const hi: number[] = [-Infinity, -Infinity, -Infinity];
    for (let c = 0; c < 8; c++) {
      const q = applyAffine(m, [
        c & 1 ? a.hi[0] + 0.5 : a.lo[0] - 0.5,
        c & 2 ? a.hi[1] + 0.5 : a.lo[1] - 0.5,
        c & 4 ? a.hi[2] + 0.5 : a.lo[2] - 0.5,
      ]);
      for (let r = 0; r < 3; r++) {
        lo[r] = Math.min(lo[r]!, q[r]!);
        hi[r] = Math.max(hi[r]!, q[r]!);
      }
    }
    const stats: LabelStats = {
      value,
      name,
      voxels: a.n,
      volumeMm3,
      volumeMl: volumeMm3 / 1000,
      bboxIjk: { min: [...a.lo], max: [...a.hi] },
      bboxLps: { min: lo as unknown as Vec3, max: hi as unknown as Vec3 },
      centroidLps: applyAffine(m, [a.si / a.n, a.sj / a.n, a.sk / a.n]),
    };
    if (img && a.vN > 0) {
      const mean = a.vSum / a.vN;
      const variance = a.vN > 1 ? Math.max(0, (a.vSum2 - a.vSum * mean) / (a.vN - 1)) : 0;
      out.push({ ...stats, intensity: { mean, min: a.vMin, max: a.vMax, std: Math.sqrt(variance) } });
    } else {
      out.push(stats);
    }
  }
  return out;
}

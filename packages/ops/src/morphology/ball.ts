// Shared kernel of dilate/erode, computed only inside the mask's bounding box grown by the
// radius: for balls up to ~31 voxels across along i, OR-ing bit-packed rows (ball-bits.ts);
// for larger ones, thresholding an exact distance transform at the radius.
import { type Grid, makeGrid, progressReporter, type RunOptions, voxelCount } from '@slice2solid/core';
import { squaredEdtInPlace } from '../distance/edt.js';
import { checkMask, checkNumber, checkOrthogonal } from '../filters/internal.js';
import {
  allocInt32,
  allocUint8,
  isShareable,
  type ParallelOptions,
  splitRange,
  useRunner,
} from '../parallel/runner.js';
import { type BallBitsArgs, ballDilate, ballPack, ballRows } from './ball-bits.js';

/** Relative slack on r^2 so that voxels at exactly the radius are inside the ball despite rounding. */
export const BALL_TOLERANCE = 1e-6;

export function checkRadius(r: unknown, name = 'radiusMm'): number {
  return checkNumber(r, name, 0, 'give a radius in millimetres, 0 or more');
}

/** Index box [start, end) of the non-zero voxels, or undefined when there are none. */
export function nonZeroBox(mask: ArrayLike<number>, grid: Grid): { start: number[]; end: number[] } | undefined {
  const [nx, ny, nz] = grid.size;
  let i0 = nx;
  let i1 = -1;
  let j0 = ny;
  let j1 = -1;
  let k0 = nz;
  let k1 = -1;
  let p = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      let rowAny = false;
      for (let i = 0; i < nx; i++, p++) {
        if (mask[p] !== 0) {
          rowAny = true;
          if (i < i0) i0 = i;
          if (i > i1) i1 = i;
        }
      }
      if (rowAny) {
        if (j < j0) j0 = j;
        if (j > j1) j1 = j;
        if (k < k0) k0 = k;
        if (k > k1) k1 = k;
      }
    }
  }
  if (i1 < 0) return undefined;
  return { start: [i0, j0, k0], end: [i1 + 1, j1 + 1, k1 + 1] };
}

/**
 * mode 'dilate': 1 where some non-zero voxel centre lies within radius (mm).
 * mode 'erode': 1 where the voxel is non-zero and no zero voxel centre lies within radius;
 * outside the grid counts as foreground unless `borderIsBackground`.
 */
export function ballMorphology(
  mask: ArrayLike<number>,
  grid: Grid,
  radiusMm: number,
  mode: 'dilate' | 'erode',
  borderIsBackground: boolean,
  options: RunOptions & ParallelOptions,
  method: 'auto' | 'bits' | 'edt' = 'auto',
): Uint8Array {
  checkMask(mask, grid);
  checkOrthogonal(grid, 'ball morphology');
  const r = checkRadius(radiusMm);
  const n = voxelCount(grid);
  const runner = useRunner(options.parallel) ? options.parallel : undefined;
  const out = allocUint8(n, runner);
  const box = nonZeroBox(mask, grid);
  if (!box) return out;
  const lim = r * r * (1 + BALL_TOLERANCE);
  // grow the box by the radius (+1 voxel for erosion so the nearest zero voxels are inside it)
  const s0: number[] = [];
  const e0: number[] = [];
  for (let a = 0; a < 3; a++) {
    const g = Math.ceil(r / grid.spacing[a]! + 1e-9) + 1;
    s0.push(Math.max(0, box.start[a]! - g));
    e0.push(Math.min(grid.size[a]!, box.end[a]! + g));
  }
  const bx = e0[0]! - s0[0]!;
  const by = e0[1]! - s0[1]!;
  const bz = e0[2]! - s0[2]!;
  const dilateMode = mode === 'dilate';
  if (method !== 'edt' && bitsFit(r, grid.spacing, method === 'bits')) {
    const tick = progressReporter(`ball ${mode}`, 2, options);
    const rows = ballRows(lim, grid.spacing);
    const W = (bx + 31) >>> 5;
    const args: BallBitsArgs = {
      mask,
      size: grid.size,
      start: [s0[0]!, s0[1]!, s0[2]!],
      box: [bx, by, bz],
      invert: !dilateMode,
      bits: allocInt32(W * by * bz, runner),
      rows,
      out,
    };
    if (runner && ArrayBuffer.isView(mask) && isShareable(mask, runner)) {
      runner.runSlabs('ball.pack', args, splitRange(bz, runner));
    } else ballPack(args, 0, bz);
    tick(1);
    // (the workers need only the packed bits: do not copy the mask to them)
    if (runner) runner.runSlabs('ball.dilate', { ...args, mask: [] }, splitRange(bz, runner, 4, rows.rk + 1));
    else ballDilate(args, 0, bz);
    tick(2);
  } else {
    edtBox(mask, grid, s0, [bx, by, bz], lim, dilateMode, out, options);
  }
  if (!dilateMode && borderIsBackground) clearNearBorder(out, grid, lim);
  return out;
}

/**
 * Whether the bit-packed method applies (the ball's half-width along i fits in a word's
 * shifts) and, unless `forced`, beats the distance transform: it costs about (rows of the
 * ball) / 32 word operations per voxel, the distance transform ~30 ns per voxel.
 */
function bitsFit(r: number, spacing: readonly [number, number, number], forced: boolean): boolean {
  const [ri, rj, rk] = spacing.map((s) => Math.floor(r / s) + 1) as [number, number, number];
  if (ri > 31) return false;
  // rows of the ball <= (2 rj + 1)(2 rk + 1) (a bound; about pi/4 of them are used)
  return forced || (2 * rj + 1) * (2 * rk + 1) <= 640;
}

/** The distance-transform method inside the box. */
function edtBox(
  mask: ArrayLike<number>,
  grid: Grid,
  s0: readonly number[],
  [bx, by, bz]: readonly [number, number, number],
  lim: number,
  dilateMode: boolean,
  out: Uint8Array,
  options: RunOptions,
): void {
  const [nx, ny] = grid.size;
  const sub = makeGrid({ size: [bx, by, bz], spacing: grid.spacing });
  const f = new Float32Array(bx * by * bz);
  let q = 0;
  for (let k = 0; k < bz; k++) {
    for (let j = 0; j < by; j++) {
      const row = (k + s0[2]!) * nx * ny + (j + s0[1]!) * nx + s0[0]!;
      for (let i = 0; i < bx; i++, q++) {
        const fg = mask[row + i] !== 0;
        f[q] = fg === dilateMode ? 0 : Infinity;
      }
    }
  }
  squaredEdtInPlace(f, sub, { ...options, cap: lim });
  q = 0;
  for (let k = 0; k < bz; k++) {
    for (let j = 0; j < by; j++) {
      const row = (k + s0[2]!) * nx * ny + (j + s0[1]!) * nx + s0[0]!;
      for (let i = 0; i < bx; i++, q++) {
        const d2 = f[q]!;
        out[row + i] = dilateMode ? (d2 <= lim ? 1 : 0) : d2 > lim ? 1 : 0;
      }
    }
  }
}

/** Erosion with the outside as background: clears voxels within the radius of the grid's edge. */
function clearNearBorder(out: Uint8Array, grid: Grid, lim: number): void {
  // the nearest voxel centre outside the grid is straight across the nearest face
  const [nx, ny, nz] = grid.size;
  const [sx, sy, sz] = grid.spacing;
  let p = 0;
  for (let k = 0; k < nz; k++) {
    const dk = Math.min(k + 1, nz - k) * sz;
    for (let j = 0; j < ny; j++) {
      const dj = Math.min(Math.min(j + 1, ny - j) * sy, dk);
      for (let i = 0; i < nx; i++, p++) {
        const d = Math.min(Math.min(i + 1, nx - i) * sx, dj);
        if (d * d <= lim) out[p] = 0;
      }
    }
  }
}

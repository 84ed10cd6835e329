/**
 * Exact Euclidean distance transform on a voxel grid with anisotropic spacing
 * (Felzenszwalb & Huttenlocher's separable lower envelope of parabolas, 2012), in millimetres.
 *
 * Distances are between voxel CENTRES, measured with the grid's spacing (exact for any
 * orthogonal direction matrix, right- or left-handed, because rotations and flips keep
 * lengths). Sheared grids (non-orthogonal axes) are refused.
 *
 * Convention (same as scipy.ndimage.distance_transform_edt with `sampling`): for
 * `to: 'background'` each non-zero voxel gets the distance to the nearest zero voxel and
 * zero voxels get 0. With `to: 'foreground'` it is the other way round. A voxel with no
 * target voxel anywhere in the grid gets +Infinity (unless `outsideIsTarget`).
 */
import { type Grid, progressReporter, type RunOptions, voxelCount } from '@slice2solid/core';
import { checkMask, checkOrthogonal } from '../filters/internal.js';

export interface EdtOptions extends RunOptions {
  /** Measure the distance TO the nearest zero voxel ('background', default) or non-zero voxel ('foreground'). */
  readonly to?: 'background' | 'foreground';
  /** Return squared distances (mm^2), skipping the square root. */
  readonly squared?: boolean;
  /** Count everything outside the grid as target voxels (distance is then also bounded by the distance to the grid's edge, measured to the first voxel centre outside). */
  readonly outsideIsTarget?: boolean;
}

export const EDT_DEFAULTS = {
  to: 'background',
  squared: false,
  outsideIsTarget: false,
} as const satisfies EdtOptions;

/** Euclidean distance (mm) from each voxel to the nearest target voxel; see the module doc. */
export function edt(mask: ArrayLike<number>, grid: Grid, options: EdtOptions = {}): Float32Array {
  checkMask(mask, grid);
  checkOrthogonal(grid, 'the distance transform');
  const to = options.to ?? EDT_DEFAULTS.to;
  const n = voxelCount(grid);
  const f = new Float32Array(n);
  const wantBackground = to === 'background';
  for (let p = 0; p < n; p++) {
    const isTarget = wantBackground ? mask[p] === 0 : mask[p] !== 0;
    f[p] = isTarget ? 0 : Infinity;
  }
  squaredEdtInPlace(f, grid, options);
  if (options.outsideIsTarget ?? EDT_DEFAULTS.outsideIsTarget) clampToBorder(f, grid);
  if (!(options.squared ?? EDT_DEFAULTS.squared)) {
    for (let p = 0; p < n; p++) f[p] = Math.sqrt(f[p]!);
  }
  return f;
}

export interface SignedEdtOptions extends RunOptions {
  /** Sign of the inside: 'negative' (default, as ITK's signed Maurer map) or 'positive'. */
  readonly inside?: 'negative' | 'positive';
}

export const SIGNED_EDT_DEFAULTS = { inside: 'negative' } as const satisfies SignedEdtOptions;

/**
 * Signed distance (mm): inside voxels (non-zero) get minus the distance to the nearest
 * outside voxel centre, outside voxels plus the distance to the nearest inside voxel centre
 * (signs swapped with `inside: 'positive'`). Every voxel is at least one voxel step from the
 * other class, so |d| >= the smallest spacing; the surface lies about half a step from the
 * boundary voxels. A class that is empty gives +/-Infinity.
 */
export function signedEdt(mask: ArrayLike<number>, grid: Grid, options: SignedEdtOptions = {}): Float32Array {
  const sign = (options.inside ?? SIGNED_EDT_DEFAULTS.inside) === 'negative' ? -1 : 1;
  const half = { signal: options.signal };
  const inside = edt(mask, grid, { ...half, to: 'background' });
  const outside = edt(mask, grid, { ...half, to: 'foreground' });
  for (let p = 0; p < inside.length; p++) {
    inside[p] = mask[p] !== 0 ? sign * inside[p]! : -sign * outside[p]!;
  }
  options.onProgress?.({ stage: 'signed distance transform', done: 1, total: 1 });
  return inside;
}

/** min(f, squared distance to the nearest voxel centre just outside the grid). */
function clampToBorder(f: Float32Array, grid: Grid): void {
  const [nx, ny, nz] = grid.size;
  const [sx, sy, sz] = grid.spacing;
  let p = 0;
  for (let k = 0; k < nz; k++) {
    const dk = Math.min(k + 1, nz - k) * sz;
    for (let j = 0; j < ny; j++) {
      const dj = Math.min(Math.min(j + 1, ny - j) * sy, dk);
      for (let i = 0; i < nx; i++, p++) {
        const d = Math.min(Math.min(i + 1, nx - i) * sx, dj);
        const d2 = d * d;
        if (d2 < f[p]!) f[p] = d2;
      }
    }
  }
}

/**
 * In place: f holds 0 at target voxels and +Infinity elsewhere (any finite f works as an
 * additive cost); on return it holds the squared distance in mm^2 to the nearest target.
 */
export function squaredEdtInPlace(f: Float32Array, grid: Grid, options: RunOptions & { cap?: number } = {}): void {
  // Values above `cap` may be replaced by +Infinity after every pass: later passes only add
  // non-negative terms, so whether the final value is <= cap is unchanged, and lines that
  // became all-infinite are skipped (this makes ball morphology cost ~ the object's surface).
  const cap = options.cap ?? Infinity;
  const [nx, ny, nz] = grid.size;
  const [sx, sy, sz] = grid.spacing;
  const nxy = nx * ny;
  const tick = progressReporter('distance transform', ny * nz + nz + ny, options);
  let done = 0;
  // Axis 0: rows are contiguous.
  const maxLen = Math.max(nx, ny, nz);
  const v = new Int32Array(maxLen);
  const z = new Float64Array(maxLen + 1);
  const line = new Float64Array(maxLen);
  const res = new Float64Array(maxLen);
  const finite = new Uint8Array(nx);
  const nonZero = new Uint8Array(nx);
  const cols = new Int32Array(nx);
  // per row (j, k): whether it holds any finite value (a row that is all-infinite is skipped)
  const rowFinite = new Uint8Array(ny * nz);
  // per row: whether it is all zero (all targets; such a row never changes)
  const rowZero = new Uint8Array(ny * nz);
  for (let r = 0; r < ny * nz; r++) {
    const base = r * nx;
    let anyFinite = false;
    let allZero = true;
    for (let i = 0; i < nx; i++) {
      const x = f[base + i]!;
      line[i] = x;
      if (x !== Infinity) anyFinite = true;
      if (x !== 0) allZero = false;
    }
    if (anyFinite) rowFinite[r] = 1;
    if (allZero) rowZero[r] = 1;
    if (anyFinite && !allZero) {
      envelope(line, nx, sx, res, v, z, cap);
      for (let i = 0; i < nx; i++) f[base + i] = res[i]!;
    }
    if ((++done & 255) === 0) tick(done);
  }
  // Axes 1 and 2: columns are strided; transpose a block of columns into a contiguous buffer.
  if (ny > 1) {
    const block = new Float64Array(nx * ny);
    for (let k = 0; k < nz; k++) {
      passBlock(
        f,
        k * nxy,
        nx,
        nx,
        ny,
        sy,
        block,
        line,
        res,
        v,
        z,
        cap,
        finite,
        nonZero,
        cols,
        rowFinite,
        rowZero,
        k * ny,
        1,
      );
      tick(++done);
    }
  } else done += nz;
  if (nz > 1) {
    const block = new Float64Array(nx * nz);
    for (let j = 0; j < ny; j++) {
      passBlock(
        f,
        j * nx,
        nx,
        nxy,
        nz,
        sz,
        block,
        line,
        res,
        v,
        z,
        cap,
        finite,
        nonZero,
        cols,
        rowFinite,
        rowZero,
        j,
        ny,
      );
      tick(++done);
    }
  }
  tick(ny * nz + nz + ny);
}

/**
 * Runs the 1D transform on the m columns (base + c + p * stride, p < n) of a block. A first
 * sequential sweep finds the columns that need work (some finite value and some non-zero
 * value); only those are copied to a contiguous buffer, transformed and written back.
 */
function passBlock(
  f: Float32Array,
  base: number,
  m: number,
  stride: number,
  n: number,
  s: number,
  block: Float64Array,
  line: Float64Array,
  res: Float64Array,
  v: Int32Array,
  z: Float64Array,
  cap: number,
  finite: Uint8Array,
  nonZero: Uint8Array,
  cols: Int32Array,
  rowFinite: Uint8Array,
  rowZero: Uint8Array,
  flagBase: number,
  flagStride: number,
): void {
  // rowFinite[flagBase + p * flagStride] = 0 marks a row known to be all-infinite: skip its values
  finite.fill(0, 0, m);
  nonZero.fill(0, 0, m);
  // and rowZero = 1 a row known to be all zero (zeros are targets and never change)
  let infiniteRow = false;
  let zeroRow = false;
  let finiteRow = false;
  for (let p = 0; p < n; p++) {
    const flag = flagBase + p * flagStride;
    if (rowFinite[flag] === 0) {
      infiniteRow = true;
      continue;
    }
    finiteRow = true;
    if (rowZero[flag] === 1) {
      zeroRow = true;
      continue;
    }
    const row = base + p * stride;
    for (let c = 0; c < m; c++) {
      const x = f[row + c]!;
      if (x !== Infinity) finite[c] = 1;
      if (x !== 0) nonZero[c] = 1;
    }
  }
  if (!finiteRow) return;
  if (infiniteRow) nonZero.fill(1, 0, m);
  if (zeroRow) finite.fill(1, 0, m);
  let nc = 0;
  for (let c = 0; c < m; c++) if (finite[c] === 1 && nonZero[c] === 1) cols[nc++] = c;
  if (nc === 0) return;
  for (let p = 0; p < n; p++) {
    const row = base + p * stride;
    for (let q = 0; q < nc; q++) block[q * n + p] = f[row + cols[q]!]!;
  }
  for (let q = 0; q < nc; q++) {
    const off = q * n;
    for (let p = 0; p < n; p++) line[p] = block[off + p]!;
    envelope(line, n, s, res, v, z, cap);
    for (let p = 0; p < n; p++) block[off + p] = res[p]!;
  }
  for (let p = 0; p < n; p++) {
    const row = base + p * stride;
    let any = false;
    for (let q = 0; q < nc; q++) {
      const x = block[q * n + p]!;
      f[row + cols[q]!] = x;
      if (x !== Infinity) any = true;
    }
    if (any) rowFinite[flagBase + p * flagStride] = 1;
  }
}

/**
 * out[p] = min_q f[q] + ((p - q) * s)^2 over the n samples of `f` (lower envelope of parabolas).
 * Infinite f[q] never win; an all-infinite line stays infinite.
 */
function envelope(
  f: Float64Array,
  n: number,
  s: number,
  out: Float64Array,
  v: Int32Array,
  z: Float64Array,
  cap: number,
): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q]!;
    if (fq === Infinity) continue;
    const xq = q * s;
    const hq = fq + xq * xq;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    let sect = 0;
    for (;;) {
      const vk = v[k]!;
      const xv = vk * s;
      sect = (hq - (f[vk]! + xv * xv)) / (2 * (xq - xv));
      if (sect <= z[k]!) k--;
      else break;
    }
    k++;
    v[k] = q;
    z[k] = sect;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    for (let p = 0; p < n; p++) out[p] = Infinity;
    return;
  }
  let j = 0;
  for (let p = 0; p < n; p++) {
    const xp = p * s;
    while (z[j + 1]! < xp) j++;
    const vj = v[j]!;
    const d = xp - vj * s;
    const val = d * d + f[vj]!;
    out[p] = val > cap ? Infinity : val;
  }
}

/**
 * Multi-scale voxel features for the scribble-trained classifier (as in ilastik's pixel
 * classification and ITK-SNAP's classification pre-segmentation).
 *
 * For every scale sigma (in mm; converted per axis with the grid spacing, so anisotropic voxels
 * get an isotropic physical blur) the image is smoothed with ops' `gaussian` and these features
 * are taken with finite differences on the smoothed image, in mm units:
 *   - 'intensity': the smoothed value
 *   - 'gradient':  |grad| (central differences)
 *   - 'log':       Laplacian of Gaussian, trace of the Hessian
 *   - 'hessian':   the three Hessian eigenvalues, largest first (closed form, symmetric 3x3)
 * plus optionally the raw (unsmoothed) intensity and the voxel's LPS position in mm.
 *
 * Derivatives are taken along the index axes and divided by the spacing: exact for orthogonal
 * grids (any orientation, left-handed included: the features do not change when the axes are
 * flipped or permuted); on a sheared (gantry-tilted) grid they are those of the index frame.
 *
 * Memory: the volume is processed in slabs of slices; a slab holds one float32 copy per scale of
 * its slices plus a halo of (kernel radius + 1) slices on each side, so the features of the core
 * slices are exactly those of the whole volume. Features are only computed for the voxels asked
 * for (training voxels, or the voxels of one slice at a time for prediction).
 */
import {
  type Grid,
  lpsFromIjkMatrix,
  makeGrid,
  progressReporter,
  type RunOptions,
  S2SError,
  throwIfAborted,
  type Volume,
  voxelCount,
} from '@slice2solid/core';
import { gaussianInPlace, gaussianKernel } from '../filters/gaussian.js';

export type ScribbleFeatureKind = 'intensity' | 'gradient' | 'log' | 'hessian';

export interface ScribbleFeatureSettings {
  /** Scales (Gaussian standard deviations) in mm, each > 0. */
  readonly sigmasMm?: readonly number[];
  /** Which features to take at every scale. */
  readonly kinds?: readonly ScribbleFeatureKind[];
  /** Also the unsmoothed intensity as a feature. */
  readonly rawIntensity?: boolean;
  /** Also the voxel's LPS position (x, y, z in mm) as features (ITK-SNAP's "coordinates"). */
  readonly coordinates?: boolean;
  /** Gaussian kernel half-width in standard deviations. */
  readonly truncate?: number;
}

export interface ScribbleFeatureOptions extends ScribbleFeatureSettings, RunOptions {
  /** Upper bound for the float32 slab buffers (bytes); the slab thickness follows from it. */
  readonly memoryBudgetBytes?: number;
}

export const SCRIBBLE_FEATURE_DEFAULTS = {
  sigmasMm: [1, 2, 4, 8],
  kinds: ['intensity', 'gradient', 'log', 'hessian'],
  rawIntensity: true,
  coordinates: false,
  truncate: 3,
  memoryBudgetBytes: 512 * 1024 * 1024,
} as const satisfies Required<Omit<ScribbleFeatureOptions, 'signal' | 'onProgress'>>;

/** Feature settings with every field filled in (what a trained model records). */
export interface ResolvedFeatureSettings {
  readonly sigmasMm: readonly number[];
  readonly kinds: readonly ScribbleFeatureKind[];
  readonly rawIntensity: boolean;
  readonly coordinates: boolean;
  readonly truncate: number;
}

const KINDS: readonly ScribbleFeatureKind[] = ['intensity', 'gradient', 'log', 'hessian'];

/** Checks the settings and fills in defaults. */
export function resolveFeatureSettings(s: ScribbleFeatureSettings = {}): ResolvedFeatureSettings {
  const sigmasMm = [...(s.sigmasMm ?? SCRIBBLE_FEATURE_DEFAULTS.sigmasMm)];
  for (const v of sigmasMm) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new S2SError('INVALID_ARGUMENT', `feature scales must be finite numbers > 0 mm, got ${String(v)}`, {
        hint: 'give scales in millimetres, e.g. [1, 2, 4, 8]; use rawIntensity for the unsmoothed value',
      });
    }
  }
  const kinds = [...new Set(s.kinds ?? SCRIBBLE_FEATURE_DEFAULTS.kinds)];
  for (const k of kinds) {
    if (!KINDS.includes(k)) {
      throw new S2SError('INVALID_ARGUMENT', `unknown feature kind "${String(k)}"`, {
        hint: `use some of ${KINDS.join(', ')}`,
      });
    }
  }
  const truncate = s.truncate ?? SCRIBBLE_FEATURE_DEFAULTS.truncate;
  if (typeof truncate !== 'number' || !Number.isFinite(truncate) || truncate < 1) {
    throw new S2SError('INVALID_ARGUMENT', `truncate must be a number >= 1, got ${String(truncate)}`, {
      hint: 'the Gaussian kernel half-width in standard deviations, e.g. 3',
    });
  }
  const out: ResolvedFeatureSettings = {
    sigmasMm,
    // keep the canonical order so that the feature layout does not depend on how kinds were listed
    kinds: KINDS.filter((k) => kinds.includes(k)),
    rawIntensity: s.rawIntensity ?? SCRIBBLE_FEATURE_DEFAULTS.rawIntensity,
    coordinates: s.coordinates ?? SCRIBBLE_FEATURE_DEFAULTS.coordinates,
    truncate,
  };
  if (featureNames(out).length === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'the feature set is empty', {
      hint: 'give at least one scale and kind, or turn on rawIntensity',
    });
  }
  return out;
}

/** Names of the features in their storage order (e.g. "hessian1 s=2mm"). */
export function featureNames(settings: ScribbleFeatureSettings = {}): string[] {
  const s = {
    sigmasMm: settings.sigmasMm ?? SCRIBBLE_FEATURE_DEFAULTS.sigmasMm,
    kinds: KINDS.filter((k) => (settings.kinds ?? SCRIBBLE_FEATURE_DEFAULTS.kinds).includes(k)),
    rawIntensity: settings.rawIntensity ?? SCRIBBLE_FEATURE_DEFAULTS.rawIntensity,
    coordinates: settings.coordinates ?? SCRIBBLE_FEATURE_DEFAULTS.coordinates,
  };
  const names: string[] = [];
  if (s.rawIntensity) names.push('intensity raw');
  for (const sigma of s.sigmasMm) {
    for (const k of s.kinds) {
      if (k === 'hessian') names.push(`hessian1 s=${sigma}mm`, `hessian2 s=${sigma}mm`, `hessian3 s=${sigma}mm`);
      else names.push(`${k} s=${sigma}mm`);
    }
  }
  if (s.coordinates) names.push('x mm', 'y mm', 'z mm');
  return names;
}

/**
 * Eigenvalues of the symmetric matrix [[a, d, e], [d, b, f], [e, f, c]], largest first, written
 * to out[o..o+2]. Closed form (trigonometric solution of the characteristic cubic).
 */
export function symmetricEigenvalues3(
  a: number,
  b: number,
  c: number,
  d: number,
  e: number,
  f: number,
  out: Float32Array | Float64Array,
  o = 0,
): void {
  const p1 = d * d + e * e + f * f;
  const q = (a + b + c) / 3;
  const a0 = a - q;
  const b0 = b - q;
  const c0 = c - q;
  const p2 = a0 * a0 + b0 * b0 + c0 * c0 + 2 * p1;
  if (!(p2 > 1e-30 * (q * q + 1e-300))) {
    // a multiple of the identity (or all zero)
    out[o] = q;
    out[o + 1] = q;
    out[o + 2] = q;
    return;
  }
  if (p1 <= 1e-14 * p2) {
    // diagonal: sort three numbers
    let x = a;
    let y = b;
    let z = c;
    if (x < y) [x, y] = [y, x];
    if (y < z) [y, z] = [z, y];
    if (x < y) [x, y] = [y, x];
    out[o] = x;
    out[o + 1] = y;
    out[o + 2] = z;
    return;
  }
  const p = Math.sqrt(p2 / 6);
  // det((A - qI) / p) / 2
  const det = a0 * (b0 * c0 - f * f) - d * (d * c0 - f * e) + e * (d * f - b0 * e);
  let r = det / (2 * p * p * p);
  if (r < -1) r = -1;
  else if (r > 1) r = 1;
  const phi = Math.acos(r) / 3;
  const l1 = q + 2 * p * Math.cos(phi);
  const l3 = q + 2 * p * Math.cos(phi + (2 * Math.PI) / 3);
  out[o] = l1;
  out[o + 1] = 3 * q - l1 - l3;
  out[o + 2] = l3;
}

/** Checks that `volume` is a single-channel 3D image. */
export function checkScalarVolume(volume: Volume, what = 'the scribble assistant'): void {
  if (volume.components !== 1 || volume.frames !== 1) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `${what} works on one grey-value 3D image, but this volume has ${volume.components} component(s) and ${volume.frames} frame(s)`,
      { hint: 'pick one frame (frameOf) or convert colour to grey first' },
    );
  }
  if (volume.data.length !== voxelCount(volume.grid)) {
    throw new S2SError('INVALID_ARGUMENT', 'the volume data does not fit its grid');
  }
}

/** Halo (slices on each side) a slab needs so that its core slices' features are exact. */
export function featureHalo(grid: Grid, settings: ResolvedFeatureSettings): number {
  let r = 0;
  for (const s of settings.sigmasMm)
    r = Math.max(r, (gaussianKernel(s / grid.spacing[2], settings.truncate).length - 1) / 2);
  // +1 for the central differences
  return Math.min(grid.size[2] - 1, r + 1);
}

/**
 * One slab of smoothed copies. `featuresAt` fills the features of voxels in one core slice.
 * Internal building block of computeFeatures / forEachFeatureSlice.
 */
class FeatureSlab {
  readonly nx: number;
  readonly ny: number;
  readonly nz: number;
  readonly e0: number;
  readonly smoothed: Float32Array[];
  readonly raw: Float32Array | undefined;
  readonly nf: number;
  private readonly h: Float64Array;
  private readonly tmp = new Float64Array(3);
  private readonly lps: Float64Array;

  constructor(
    volume: Volume,
    private readonly s: ResolvedFeatureSettings,
    e0: number,
    e1: number,
    signal: RunOptions['signal'],
  ) {
    const g = volume.grid;
    [this.nx, this.ny, this.nz] = g.size;
    this.e0 = e0;
    const nxy = this.nx * this.ny;
    const n = (e1 - e0) * nxy;
    const base = new Float32Array(n);
    const src = volume.data;
    const off = e0 * nxy;
    for (let p = 0; p < n; p++) base[p] = src[off + p]!;
    const sub = makeGrid({ size: [this.nx, this.ny, e1 - e0], spacing: g.spacing });
    this.smoothed = [];
    const needSmoothed = s.kinds.length > 0;
    for (let si = 0; si < s.sigmasMm.length && needSmoothed; si++) {
      throwIfAborted(signal);
      const copy = si === s.sigmasMm.length - 1 && !s.rawIntensity ? base : base.slice();
      gaussianInPlace(copy, sub, { sigmaMm: s.sigmasMm[si]!, truncate: s.truncate, mode: 'nearest', signal });
      this.smoothed.push(copy);
    }
    this.raw = s.rawIntensity ? base : undefined;
    this.nf = featureNames(s).length;
    this.h = Float64Array.from(g.spacing);
    this.lps = lpsFromIjkMatrix(g);
  }

  /**
   * Features of the voxels at in-slice offsets `pos[from..to)` of global slice k, written as
   * rows of nf values to out starting at row `row`.
   */
  featuresAt(k: number, pos: ArrayLike<number>, from: number, to: number, out: Float32Array, row: number): void {
    const { nx, ny, nz, nf, s } = this;
    const nxy = nx * ny;
    const [hx, hy, hz] = this.h as unknown as [number, number, number];
    const kl = k - this.e0;
    const kp = Math.min(k + 1, nz - 1) - this.e0;
    const km = Math.max(k - 1, 0) - this.e0;
    const dk = kp - km;
    const ev = this.tmp;
    const m = this.lps;
    const wantI = s.kinds.includes('intensity');
    const wantG = s.kinds.includes('gradient');
    const wantL = s.kinds.includes('log');
    const wantH = s.kinds.includes('hessian');
    for (let q = from; q < to; q++) {
      const p = pos[q]!;
      const j = (p / nx) | 0;
      const i = p - j * nx;
      const ip = i + 1 < nx ? i + 1 : i;
      const im = i > 0 ? i - 1 : i;
      const jp = j + 1 < ny ? j + 1 : j;
      const jm = j > 0 ? j - 1 : j;
      const di = ip - im;
      const dj = jp - jm;
      let o = (row + q - from) * nf;
      if (this.raw) out[o++] = this.raw[kl * nxy + p]!;
      for (const b of this.smoothed) {
        const c0 = kl * nxy + j * nx;
        const v = b[c0 + i]!;
        if (wantI) out[o++] = v;
        if (!(wantG || wantL || wantH)) continue;
        const rowP = kl * nxy + jp * nx;
        const rowM = kl * nxy + jm * nx;
        const up = kp * nxy + j * nx;
        const dn = km * nxy + j * nx;
        const gx = di ? (b[c0 + ip]! - b[c0 + im]!) / (di * hx) : 0;
        const gy = dj ? (b[rowP + i]! - b[rowM + i]!) / (dj * hy) : 0;
        const gz = dk ? (b[up + i]! - b[dn + i]!) / (dk * hz) : 0;
        if (wantG) out[o++] = Math.sqrt(gx * gx + gy * gy + gz * gz);
        if (!(wantL || wantH)) continue;
        const xx = (b[c0 + ip]! - 2 * v + b[c0 + im]!) / (hx * hx);
        const yy = (b[rowP + i]! - 2 * v + b[rowM + i]!) / (hy * hy);
        const zz = (b[up + i]! - 2 * v + b[dn + i]!) / (hz * hz);
        if (wantL) out[o++] = xx + yy + zz;
        if (!wantH) continue;
        const xy = di && dj ? (b[rowP + ip]! - b[rowP + im]! - b[rowM + ip]! + b[rowM + im]!) / (di * dj * hx * hy) : 0;
        const xz = di && dk ? (b[up + ip]! - b[up + im]! - b[dn + ip]! + b[dn + im]!) / (di * dk * hx * hz) : 0;
        const upY = kp * nxy;
        const dnY = km * nxy;
        const yz =
          dj && dk
            ? (b[upY + jp * nx + i]! - b[upY + jm * nx + i]! - b[dnY + jp * nx + i]! + b[dnY + jm * nx + i]!) /
              (dj * dk * hy * hz)
            : 0;
        symmetricEigenvalues3(xx, yy, zz, xy, xz, yz, ev, 0);
        out[o++] = ev[0]!;
        out[o++] = ev[1]!;
        out[o++] = ev[2]!;
      }
      if (s.coordinates) {
        out[o++] = m[0]! * i + m[1]! * j + m[2]! * k + m[3]!;
        out[o++] = m[4]! * i + m[5]! * j + m[6]! * k + m[7]!;
        out[o++] = m[8]! * i + m[9]! * j + m[10]! * k + m[11]!;
      }
    }
  }
}

/**
 * Core slice ranges [k0, k1) covering every wanted slice. Runs of wanted slices closer than
 * 2 * halo are merged (sharing one slab is cheaper than smoothing the halo twice), and no core
 * is thicker than maxCore.
 */
export function planSlabs(wanted: ArrayLike<boolean | number>, halo: number, maxCore: number): [number, number][] {
  const nz = wanted.length;
  const out: [number, number][] = [];
  let k = 0;
  while (k < nz) {
    while (k < nz && !wanted[k]) k++;
    if (k >= nz) break;
    const k0 = k;
    let last = k;
    let j = k + 1;
    while (j < nz && j - k0 < maxCore) {
      if (wanted[j]) last = j;
      else if (j - last > 2 * halo) break;
      j++;
    }
    out.push([k0, last + 1]);
    k = last + 1;
  }
  return out;
}

/** Slab core thickness that keeps the slab buffers under the memory budget. */
function maxCoreSlices(grid: Grid, s: ResolvedFeatureSettings, halo: number, budget: number): number {
  const copies = s.sigmasMm.length * (s.kinds.length > 0 ? 1 : 0) + (s.rawIntensity ? 1 : 0);
  const perSlice = Math.max(1, copies) * grid.size[0] * grid.size[1] * 4;
  return Math.max(1, Math.floor(budget / perSlice) - 2 * halo);
}

function budgetOf(options: ScribbleFeatureOptions): number {
  const b = options.memoryBudgetBytes ?? SCRIBBLE_FEATURE_DEFAULTS.memoryBudgetBytes;
  if (typeof b !== 'number' || !(b > 0)) {
    throw new S2SError('INVALID_ARGUMENT', `memoryBudgetBytes must be a number > 0, got ${String(b)}`);
  }
  return b;
}

/**
 * Features of the voxels with linear indices `voxels` (any order, repeats allowed), as a
 * float32 matrix with one row of featureNames(options).length values per voxel, in the order given.
 */
export function computeFeatures(
  volume: Volume,
  voxels: ArrayLike<number>,
  options: ScribbleFeatureOptions = {},
): Float32Array {
  checkScalarVolume(volume);
  const s = resolveFeatureSettings(options);
  const nf = featureNames(s).length;
  const [nx, ny, nz] = volume.grid.size;
  const nxy = nx * ny;
  const nvox = nxy * nz;
  const n = voxels.length;
  // order by voxel index (so each slice is visited once), keep the caller's row order
  const order = new Int32Array(n);
  for (let q = 0; q < n; q++) {
    const v = voxels[q]!;
    if (!Number.isInteger(v) || v < 0 || v >= nvox) {
      throw new S2SError('INVALID_ARGUMENT', `voxel index ${v} is outside the volume (0..${nvox - 1})`);
    }
    order[q] = q;
  }
  order.sort((a, b) => voxels[a]! - voxels[b]!);
  const wanted = new Uint8Array(nz);
  for (let q = 0; q < n; q++) wanted[Math.floor(voxels[q]! / nxy)] = 1;
  const halo = featureHalo(volume.grid, s);
  const slabs = planSlabs(wanted, halo, maxCoreSlices(volume.grid, s, halo, budgetOf(options)));
  const out = new Float32Array(n * nf);
  const tick = progressReporter('scribble features', n, options);
  const pos = new Int32Array(nxy);
  let q = 0;
  for (const [k0, k1] of slabs) {
    const slab = new FeatureSlab(volume, s, Math.max(0, k0 - halo), Math.min(nz, k1 + halo), options.signal);
    while (q < n) {
      const v = voxels[order[q]!]!;
      const k = Math.floor(v / nxy);
      if (k >= k1) break;
      // all requested voxels of slice k
      let cnt = 0;
      const start = q;
      while (q < n && Math.floor(voxels[order[q]!]! / nxy) === k) pos[cnt++] = voxels[order[q++]!]! - k * nxy;
      for (let c = 0; c < cnt; c++) slab.featuresAt(k, pos, c, c + 1, out, order[start + c]!);
      tick(q);
    }
  }
  tick(n);
  return out;
}

export interface FeatureSliceOptions extends ScribbleFeatureOptions {
  /** Only voxels where this mask is non-zero (one value per voxel) are visited. */
  readonly region?: ArrayLike<number>;
}

/**
 * Visits the volume slice by slice (k = 0, 1, ...) and calls fn with the linear indices of the
 * voxels of that slice (all, or those inside `region`) and their feature rows. The arrays are
 * reused between calls: copy what you keep. Slices with no voxel to visit are skipped.
 */
export function forEachFeatureSlice(
  volume: Volume,
  options: FeatureSliceOptions,
  fn: (k: number, voxels: Int32Array, features: Float32Array, count: number) => void,
): void {
  checkScalarVolume(volume);
  const s = resolveFeatureSettings(options);
  const nf = featureNames(s).length;
  const [nx, ny, nz] = volume.grid.size;
  const nxy = nx * ny;
  const region = options.region;
  if (region !== undefined && region.length !== nxy * nz) {
    throw new S2SError('INVALID_ARGUMENT', `region has ${region.length} values but the grid needs ${nxy * nz}`, {
      hint: 'make the region mask on the same grid as the image',
    });
  }
  const wanted = new Uint8Array(nz);
  for (let k = 0; k < nz; k++) {
    if (!region) wanted[k] = 1;
    else
      for (let p = k * nxy; p < (k + 1) * nxy; p++)
        if (region[p]) {
          wanted[k] = 1;
          break;
        }
  }
  const halo = featureHalo(volume.grid, s);
  const slabs = planSlabs(wanted, halo, maxCoreSlices(volume.grid, s, halo, budgetOf(options)));
  const pos = new Int32Array(nxy);
  const lin = new Int32Array(nxy);
  const feats = new Float32Array(nxy * nf);
  const tick = progressReporter('scribble features', nz, options);
  for (const [k0, k1] of slabs) {
    const slab = new FeatureSlab(volume, s, Math.max(0, k0 - halo), Math.min(nz, k1 + halo), options.signal);
    for (let k = k0; k < k1; k++) {
      let cnt = 0;
      for (let p = 0; p < nxy; p++) {
        if (!region || region[k * nxy + p]) {
          pos[cnt] = p;
          lin[cnt++] = k * nxy + p;
        }
      }
      if (cnt > 0) {
        slab.featuresAt(k, pos, 0, cnt, feats, 0);
        fn(k, lin, feats, cnt);
      }
      tick(k + 1);
    }
  }
  tick(nz);
}

/**
 * Anti-aliasing of binary masks before marching cubes, so a mask gives a smooth surface instead
 * of a voxel staircase — WITHOUT leaving the mask boundary.
 *
 * Method (constrained Gaussian): the mask (1 inside, 0 outside) is blurred with a small Gaussian
 * (sigma in voxels, per index axis), then every voxel is pushed back to its own side of 0.5:
 * inside voxels to >= 0.5 + margin, outside voxels to <= 0.5 - margin. Marching cubes at 0.5 on
 * the result therefore separates exactly the mask's inside voxel centres from its outside ones
 * (same topology as the mask: thin structures are never lost, holes never closed), and:
 *
 *   GUARANTEE: every vertex lies on the segment between an inside voxel centre and a face-adjacent
 *   outside voxel centre, hence within half a voxel (of that axis's spacing) of the mask boundary
 *   face between them.
 *
 * Outside the grid counts as background, so `maskSurface` always gives closed surfaces (and with
 * the consistent marching-cubes table, closed 2-manifolds).
 */
import {
  check,
  type Grid,
  type Mesh,
  makeVolume,
  progressReporter,
  type RunOptions,
  S2SError,
  type Volume,
  voxelCount,
} from '@slice2solid/core';
import {
  allocFloat32,
  allocUint8,
  isShareable,
  type ParallelOptions,
  type ParallelRunner,
  splitRange,
  useRunner,
} from '../parallel/runner.js';
import { marchingCubes } from './marching-cubes.js';

export interface AntialiasMaskOptions extends RunOptions, ParallelOptions {
  /** Gaussian sigma in voxels along each index axis (default 0.5; 0 = no blur, plain staircase). */
  sigmaVoxels?: number;
  /** How far from 0.5 the constrained values stay, 0 < margin < 0.5 (default 0.02). */
  margin?: number;
}

export const ANTIALIAS_MASK_DEFAULTS = {
  sigmaVoxels: 0.5,
  margin: 0.02,
} as const;

/** The anti-aliased mask as a float32 volume (0..1); its 0.5 iso-surface is the smooth boundary. */
export function antialiasMask(mask: Uint8Array, grid: Grid, options: AntialiasMaskOptions = {}): Volume {
  const n = voxelCount(grid);
  if (mask.length !== n) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the mask has ${mask.length} voxels but the grid ${grid.size.join('x')} needs ${n}`,
    );
  }
  const sigma = options.sigmaVoxels ?? ANTIALIAS_MASK_DEFAULTS.sigmaVoxels;
  const margin = options.margin ?? ANTIALIAS_MASK_DEFAULTS.margin;
  check(sigma >= 0 && sigma <= 10, `sigmaVoxels must be in [0, 10], got ${sigma}`);
  check(margin > 0 && margin < 0.5, `margin must be in (0, 0.5), got ${margin}`);
  const runner = useRunner(options.parallel) ? options.parallel : undefined;
  const [nx, ny, nz] = grid.size;
  const out = allocFloat32(n, runner);
  const report = progressReporter('anti-aliasing mask', 3, options);
  const hi = 0.5 + margin;
  const lo = 0.5 - margin;
  if (sigma > 0) {
    const r = Math.max(1, Math.ceil(3 * sigma));
    const w = new Float64Array(2 * r + 1);
    let s = 0;
    for (let t = -r; t <= r; t++) s += w[t + r] = Math.exp((-t * t) / (2 * sigma * sigma));
    for (let t = 0; t < w.length; t++) w[t]! /= s;
    const sharedMask = runner && !isShareable(mask, runner) ? copyToShared(mask, runner) : mask;
    // per row (y, z) and x-chunk: may hold a nonzero value after the x and y passes
    const flags = allocUint8(ny * nz * Math.ceil(nx / CHUNK), runner);
    const xy: AntialiasXYArgs = { mask: sharedMask, out, flags, nx, ny, w, r };
    report(0);
    if (runner) runner.runSlabs('aa.xy', xy, splitRange(nz, runner, 4, 1));
    else antialiasXY(xy, 0, nz);
    report(1);
    const ranges = runner ? splitRange(nz, runner, 4, r + 1) : [[0, nz] as const];
    // the original planes each z-slab reads from its neighbours (which overwrite them in place)
    const starts = Int32Array.from(ranges.map(([a]) => a));
    const plane = nx * ny;
    const halo = allocFloat32(ranges.length > 1 ? ranges.length * 2 * r * plane : 0, runner);
    if (ranges.length > 1)
      ranges.forEach(([a, b], q) => {
        for (let d = 0; d < r; d++) {
          const below = a - r + d;
          const above = b + d;
          if (below >= 0) halo.set(out.subarray(below * plane, (below + 1) * plane), (q * 2 * r + d) * plane);
          if (above < nz) halo.set(out.subarray(above * plane, (above + 1) * plane), (q * 2 * r + r + d) * plane);
        }
      });
    const zArgs: AntialiasZArgs = { mask: sharedMask, out, flags, nx, ny, nz, w, r, hi, lo, starts, halo };
    if (runner) runner.runSlabs('aa.z', zArgs, ranges);
    else antialiasZ(zArgs, 0, nz);
  } else {
    for (let v = 0; v < n; v++) out[v] = mask[v] ? 1 : 0;
  }
  report(3);
  return makeVolume({ grid, data: out, units: 'normalized' });
}

function copyToShared(a: Uint8Array, runner: ParallelRunner): Uint8Array {
  const c = allocUint8(a.length, runner);
  c.set(a);
  return c;
}

/** Width of the x-chunks whose "holds a nonzero value" flags let the passes skip empty space. */
const CHUNK = 16;

/** Arguments of the 'aa.xy' kernel: the x and y passes of the blur, plane by plane. */
export interface AntialiasXYArgs {
  readonly mask: Uint8Array;
  /** Output: the x-then-y blurred planes (zero where untouched). */
  readonly out: Float32Array;
  /** Output: per row (y, z) and x-chunk of CHUNK voxels, 1 when it may hold a nonzero value after the two passes. */
  readonly flags: Uint8Array;
  readonly nx: number;
  readonly ny: number;
  readonly w: Float64Array;
  readonly r: number;
}

/**
 * The x pass (straight from the mask) and the y pass of the separable blur for planes
 * [z0, z1), row by row (contiguous reads), only in x-chunks that can hold a nonzero value.
 * Same arithmetic as a per-line convolution with zero outside the grid: float64 sums in
 * increasing source index, rounded to float32 after each pass; zero terms are skipped (adding +0
 * to a sum of non-negative terms changes nothing), and so are chunks whose inputs are all zero.
 */
export function antialiasXY(args: AntialiasXYArgs, z0: number, z1: number): void {
  const { mask, out, flags, nx, ny, w, r } = args;
  const plane = nx * ny;
  const nc = Math.ceil(nx / CHUNK);
  const scratch = new Float32Array(plane);
  const dirty = new Uint8Array(ny); // scratch row holds nonzero values from an earlier plane
  const f1 = new Uint8Array(ny * nc); // chunk flags after the x pass
  const acc = new Float64Array(CHUNK);
  for (let z = z0; z < z1; z++) {
    const base = z * plane;
    f1.fill(0);
    // x pass: mask (0 / 1) -> scratch
    for (let y = 0; y < ny; y++) {
      const m = base + y * nx;
      const o = y * nx;
      if (dirty[y] !== 0) {
        scratch.fill(0, o, o + nx);
        dirty[y] = 0;
      }
      let first = -1;
      let last = -1;
      const fo = y * nc;
      for (let x = 0; x < nx; x++) {
        if (mask[m + x] !== 0) {
          if (first < 0) first = x;
          last = x;
          const c0 = x - r > 0 ? ((x - r) / CHUNK) | 0 : 0;
          const c1 = Math.min(nc - 1, ((x + r) / CHUNK) | 0);
          for (let c = c0; c <= c1; c++) f1[fo + c] = 1;
        }
      }
      if (first < 0) continue;
      dirty[y] = 1;
      for (let c = 0; c < nc; c++) {
        if (f1[fo + c] === 0) continue;
        const t0 = c * CHUNK;
        const t1 = Math.min(nx, t0 + CHUNK);
        for (let t = t0; t < t1; t++) {
          let s = 0;
          const u0 = Math.max(t - r, first);
          const u1 = Math.min(t + r, last);
          for (let u = u0; u <= u1; u++) if (mask[m + u] !== 0) s += w[u - t + r]!;
          scratch[o + t] = s;
        }
      }
    }
    // y pass: scratch -> out
    for (let y = 0; y < ny; y++) {
      const u0 = Math.max(0, y - r);
      const u1 = Math.min(ny - 1, y + r);
      const fo = (z * ny + y) * nc;
      const o = base + y * nx;
      for (let c = 0; c < nc; c++) {
        let any = 0;
        for (let u = u0; u <= u1; u++) any |= f1[u * nc + c]!;
        flags[fo + c] = any;
        if (any === 0) continue;
        const t0 = c * CHUNK;
        const len = Math.min(nx, t0 + CHUNK) - t0;
        acc.fill(0);
        for (let u = u0; u <= u1; u++) {
          if (f1[u * nc + c] === 0) continue;
          const wk = w[u - y + r]!;
          const so = u * nx + t0;
          for (let x = 0; x < len; x++) acc[x]! += wk * scratch[so + x]!;
        }
        for (let x = 0; x < len; x++) out[o + t0 + x] = acc[x]!;
      }
    }
  }
}

/** Arguments of the 'aa.z' kernel: the z pass of the blur and the clamp, in place. */
export interface AntialiasZArgs {
  readonly mask: Uint8Array;
  readonly out: Float32Array;
  readonly flags: Uint8Array;
  readonly nx: number;
  readonly ny: number;
  readonly nz: number;
  readonly w: Float64Array;
  readonly r: number;
  readonly hi: number;
  readonly lo: number;
  /** First plane of each slab (the ranges the kernel is called with). */
  readonly starts: Int32Array;
  /** Per slab: the r planes below it and the r planes above it, as they were before the z pass. */
  readonly halo: Float32Array;
}

/**
 * The z pass for planes [z0, z1) in place (originals kept in a ring of r + 1 planes), then the
 * clamp to each voxel's side of 0.5. Chunks with no nonzero input in reach stay 0 (outside:
 * every inside voxel has a nonzero value after the x and y passes).
 */
export function antialiasZ(args: AntialiasZArgs, z0: number, z1: number): void {
  const { mask, out, flags, nx, ny, nz, w, r, hi, lo, starts, halo } = args;
  const plane = nx * ny;
  const nc = Math.ceil(nx / CHUNK);
  let q = 0;
  while (q < starts.length && starts[q] !== z0) q++;
  const below = (q * 2 * r - (z0 - r)) * plane; // halo offset of plane u < z0: below + u * plane
  const above = (q * 2 * r + r - z1) * plane; // of plane u >= z1: above + u * plane
  const ring = new Float32Array((r + 1) * plane);
  const acc = new Float64Array(CHUNK);
  for (let z = z0; z < z1; z++) {
    const base = z * plane;
    ring.set(out.subarray(base, base + plane), (z % (r + 1)) * plane);
    const u0 = Math.max(0, z - r);
    const u1 = Math.min(nz - 1, z + r);
    for (let y = 0; y < ny; y++) {
      const yo = y * nx;
      for (let c = 0; c < nc; c++) {
        let any = 0;
        for (let u = u0; u <= u1; u++) any |= flags[(u * ny + y) * nc + c]!;
        if (any === 0) continue;
        const t0 = c * CHUNK;
        const len = Math.min(nx, t0 + CHUNK) - t0;
        acc.fill(0);
        for (let u = u0; u <= u1; u++) {
          if (flags[(u * ny + y) * nc + c] === 0) continue;
          const wk = w[u - z + r]!;
          let src: Float32Array;
          let so: number;
          if (u < z0) {
            src = halo;
            so = below + u * plane + yo + t0;
          } else if (u <= z) {
            src = ring;
            so = (u % (r + 1)) * plane + yo + t0;
          } else if (u < z1) {
            src = out;
            so = u * plane + yo + t0;
          } else {
            src = halo;
            so = above + u * plane + yo + t0;
          }
          for (let x = 0; x < len; x++) acc[x]! += wk * src[so + x]!;
        }
        const o = base + yo + t0;
        for (let x = 0; x < len; x++) {
          let v = Math.fround(acc[x]!);
          if (mask[o + x] !== 0) {
            if (v < hi) v = hi;
          } else if (v > lo) v = lo;
          out[o + x] = v;
        }
      }
    }
  }
}

export interface MaskSurfaceOptions extends AntialiasMaskOptions {}

/** A closed, anti-aliased surface of a binary mask (antialiasMask, then marching cubes at 0.5, capped at the grid border). */
export function maskSurface(mask: Uint8Array, grid: Grid, options: MaskSurfaceOptions = {}): Mesh {
  const smooth = antialiasMask(mask, grid, options);
  return marchingCubes(smooth, {
    isoValue: 0.5,
    closeBoundary: true,
    outsideValue: 0,
    signal: options.signal,
    onProgress: options.onProgress,
    ...(options.parallel ? { parallel: options.parallel } : {}),
  });
}

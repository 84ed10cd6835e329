/**
 * Gaussian smoothing with sigma in millimetres, honouring anisotropic spacing (sigma in voxels
 * along axis a = sigmaMm / spacing[a]), as three separable 1D passes.
 *
 * The kernel and its support are those of scipy.ndimage.gaussian_filter: radius
 * floor(truncate * sigmaVoxels + 0.5), weights exp(-x^2 / (2 sigma^2)) normalised to sum 1.
 * Edges: 'nearest' repeats the edge voxel (default), 'reflect' mirrors about the edge
 * (d c b a | a b c d | d c b a). Output is float32; geometry is unchanged.
 */
import { type Grid, progressReporter, type RunOptions, S2SError, type Volume, voxelCount } from '@slice2solid/core';
import { allocFloat32, isShareable, type ParallelOptions, splitRange, useRunner } from '../parallel/runner.js';
import {
  type EdgeMode,
  type GaussianColumnsArgs,
  type GaussianSlicesArgs,
  gaussianColumns,
  gaussianSlices,
} from './gaussian-passes.js';
import { checkMask, checkNumber, perAxis } from './internal.js';

export { type EdgeMode, edgeIndex } from './gaussian-passes.js';

export interface GaussianOptions extends RunOptions, ParallelOptions {
  /** Standard deviation in mm: one value, or one per index axis (i, j, k). 0 leaves an axis alone. */
  readonly sigmaMm?: number | readonly [number, number, number];
  /** Kernel half-width in standard deviations. */
  readonly truncate?: number;
  readonly mode?: EdgeMode;
}

export const GAUSSIAN_DEFAULTS = { sigmaMm: 1, truncate: 4, mode: 'nearest' } as const satisfies GaussianOptions;

/** Smoothed copy of a volume (float32, every frame and component filtered separately). */
export function gaussian(volume: Volume, options: GaussianOptions = {}): Volume {
  if (volume.components * volume.frames === 1) {
    // one channel: filter a float32 copy in place (no second full-size buffer)
    const out = allocFloat32(volume.data.length, options.parallel);
    out.set(volume.data);
    return { ...volume, data: gaussianInPlace(out, volume.grid, options) };
  }
  // several channels: each through one float32 buffer that the runner's threads can see
  const out = new Float32Array(volume.data.length);
  const n = voxelCount(volume.grid);
  const nc = volume.components;
  const buf = allocFloat32(n, options.parallel);
  for (let ch = 0; ch < nc * volume.frames; ch++) {
    const base = Math.floor(ch / nc) * n * nc + (ch % nc);
    for (let p = 0; p < n; p++) buf[p] = volume.data[base + p * nc]!;
    gaussianInPlace(buf, volume.grid, options);
    for (let p = 0; p < n; p++) out[base + p * nc] = buf[p]!;
  }
  return { ...volume, data: out };
}

/** The 1D kernel (odd length 2r+1) for sigma in voxels, as scipy.ndimage builds it. */
export function gaussianKernel(sigmaVoxels: number, truncate: number = GAUSSIAN_DEFAULTS.truncate): Float64Array {
  const r = Math.floor(truncate * sigmaVoxels + 0.5);
  const w = new Float64Array(2 * r + 1);
  if (r === 0) {
    w[0] = 1;
    return w;
  }
  let sum = 0;
  for (let x = -r; x <= r; x++) {
    const v = Math.exp((-0.5 * x * x) / (sigmaVoxels * sigmaVoxels));
    w[x + r] = v;
    sum += v;
  }
  for (let x = 0; x < w.length; x++) w[x]! /= sum;
  return w;
}

/**
 * Filters a single-channel float32 image in place. With `parallel`, slabs go to its threads;
 * `data` must then be on a SharedArrayBuffer when the runner is `shared` (gaussian() sees to
 * that) or the work stays on this thread. The result is the same bit for bit either way.
 */
export function gaussianInPlace(data: Float32Array, grid: Grid, options: GaussianOptions = {}): Float32Array {
  checkMask(data, grid, 'image');
  const sigma = perAxis(options.sigmaMm ?? GAUSSIAN_DEFAULTS.sigmaMm, 'sigmaMm');
  for (let a = 0; a < 3; a++) checkNumber(sigma[a], `sigmaMm[${a}]`, 0, 'give a standard deviation in mm, 0 or more');
  const truncate = checkNumber(options.truncate ?? GAUSSIAN_DEFAULTS.truncate, 'truncate', 0);
  const mode = options.mode ?? GAUSSIAN_DEFAULTS.mode;
  if (mode !== 'nearest' && mode !== 'reflect') {
    throw new S2SError('INVALID_ARGUMENT', `edge mode must be 'nearest' or 'reflect', got ${String(mode)}`);
  }
  const [, ny, nz] = grid.size;
  const [wi, wj, wk] = sigma.map((s, a) => gaussianKernel(s / grid.spacing[a]!, truncate)) as [
    Float64Array,
    Float64Array,
    Float64Array,
  ];
  const runner = useRunner(options.parallel) && isShareable(data, options.parallel) ? options.parallel : undefined;
  const size = grid.size;
  const tick = progressReporter('gaussian', 2, options);
  if (wi.length > 1 || wj.length > 1) {
    const args: GaussianSlicesArgs = { data, size, wi, wj, mode };
    if (runner) runner.runSlabs('gaussian.slices', args, splitRange(nz, runner));
    else gaussianSlices(args, 0, nz);
  }
  tick(1);
  if (wk.length > 1) {
    const args: GaussianColumnsArgs = { data, size, wk, mode };
    if (runner) runner.runSlabs('gaussian.columns', args, splitRange(ny, runner));
    else gaussianColumns(args, 0, ny);
  }
  tick(2);
  return data;
}

/**
 * Gaussian smoothing with sigma in millimetres, honouring anisotropic spacing (sigma in voxels
 * along axis a = sigmaMm / spacing[a]), as three separable 1D passes.
 *
 * The kernel and its support are those of scipy.ndimage.gaussian_filter: radius
 * floor(truncate * sigmaVoxels + 0.5), weights exp(-x^2 / (2 sigma^2)) normalised to sum 1.
 * Edges: 'nearest' repeats the edge voxel (default), 'reflect' mirrors about the edge
 * (d c b a | a b c d | d c b a). Output is float32; geometry is unchanged.
 */
import { type Grid, progressReporter, type RunOptions, S2SError, type Volume } from '@slice2solid/core';
import { checkMask, checkNumber, mapChannels, perAxis } from './internal.js';

export type EdgeMode = 'nearest' | 'reflect';

export interface GaussianOptions extends RunOptions {
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
    const out = Float32Array.from(volume.data);
    return { ...volume, data: gaussianInPlace(out, volume.grid, options) };
  }
  const out = new Float32Array(volume.data.length);
  mapChannels(volume, out, (ch) => {
    gaussianInPlace(ch, volume.grid, options);
    return ch;
  });
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

/** Source index for position x (may be outside [0, n)) under the edge mode. */
export function edgeIndex(x: number, n: number, mode: EdgeMode): number {
  if (x >= 0 && x < n) return x;
  if (mode === 'nearest' || n === 1) return x < 0 ? 0 : n - 1;
  // reflect: period 2n, d c b a | a b c d | d c b a
  const period = 2 * n;
  let m = x % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

/** Filters a single-channel float32 image in place. */
export function gaussianInPlace(data: Float32Array, grid: Grid, options: GaussianOptions = {}): Float32Array {
  checkMask(data, grid, 'image');
  const sigma = perAxis(options.sigmaMm ?? GAUSSIAN_DEFAULTS.sigmaMm, 'sigmaMm');
  for (let a = 0; a < 3; a++) checkNumber(sigma[a], `sigmaMm[${a}]`, 0, 'give a standard deviation in mm, 0 or more');
  const truncate = checkNumber(options.truncate ?? GAUSSIAN_DEFAULTS.truncate, 'truncate', 0);
  const mode = options.mode ?? GAUSSIAN_DEFAULTS.mode;
  if (mode !== 'nearest' && mode !== 'reflect') {
    throw new S2SError('INVALID_ARGUMENT', `edge mode must be 'nearest' or 'reflect', got ${String(mode)}`);
  }
  const [nx, ny, nz] = grid.size;
  const kernels = sigma.map((s, a) => gaussianKernel(s / grid.spacing[a]!, truncate));
  const tick = progressReporter('gaussian', nz + nz + ny, options);
  let done = 0;
  // axis 0: each row through a padded line buffer
  const k0 = kernels[0]!;
  if (k0.length > 1) {
    const r = (k0.length - 1) >> 1;
    const line = new Float64Array(nx + 2 * r);
    const row = new Float64Array(nx);
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        const base = (k * ny + j) * nx;
        for (let x = -r; x < nx + r; x++) line[x + r] = data[base + edgeIndex(x, nx, mode)]!;
        // tap pairs over the whole row (contiguous inner loops)
        const c0 = k0[r]!;
        for (let i = 0; i < nx; i++) row[i] = c0 * line[i + r]!;
        let t = 1;
        for (; t + 1 <= r; t += 2) {
          const wa = k0[r + t]!;
          const wb = k0[r + t + 1]!;
          const la = r - t;
          const ra = r + t;
          const lb = r - t - 1;
          const rb = r + t + 1;
          for (let i = 0; i < nx; i++)
            row[i]! += wa * (line[i + la]! + line[i + ra]!) + wb * (line[i + lb]! + line[i + rb]!);
        }
        for (; t <= r; t++) {
          const wt = k0[r + t]!;
          for (let i = 0; i < nx; i++) row[i]! += wt * (line[i + r - t]! + line[i + r + t]!);
        }
        for (let i = 0; i < nx; i++) data[base + i] = row[i]!;
      }
      tick(++done);
    }
  } else tick((done += nz));
  // axis 1: for each slice, whole rows at once (contiguous inner loop)
  const nxy = nx * ny;
  const k1 = kernels[1]!;
  if (k1.length > 1) {
    const acc = new Float64Array(nxy);
    for (let k = 0; k < nz; k++) {
      rowsPass(data, k * nxy, nx, nx, ny, k1, mode, acc);
      tick(++done);
    }
  } else tick((done += nz));
  const k2 = kernels[2]!;
  if (k2.length > 1) {
    const acc = new Float64Array(nx * nz);
    for (let j = 0; j < ny; j++) {
      rowsPass(data, j * nx, nx, nxy, nz, k2, mode, acc);
      tick(++done);
    }
  }
  tick(nz + nz + ny);
  return data;
}

/**
 * Convolves along a strided axis: the n rows at base + p * stride (each m contiguous values)
 * are combined row-wise, so the innermost loop runs over contiguous memory.
 */
function rowsPass(
  data: Float32Array,
  base: number,
  m: number,
  stride: number,
  n: number,
  w: Float64Array,
  mode: EdgeMode,
  acc: Float64Array,
): void {
  const r = (w.length - 1) >> 1;
  const c = w[r]!;
  for (let p = 0; p < n; p++) {
    const o = p * m;
    const src = base + p * stride;
    // taps in pairs: two rows per sweep over the output row
    let t = 1;
    if (r >= 2) {
      const w1 = w[r + 1]!;
      const w2 = w[r + 2]!;
      const a1 = base + edgeIndex(p - 1, n, mode) * stride;
      const b1 = base + edgeIndex(p + 1, n, mode) * stride;
      const a2 = base + edgeIndex(p - 2, n, mode) * stride;
      const b2 = base + edgeIndex(p + 2, n, mode) * stride;
      for (let i = 0; i < m; i++) {
        acc[o + i] = c * data[src + i]! + w1 * (data[a1 + i]! + data[b1 + i]!) + w2 * (data[a2 + i]! + data[b2 + i]!);
      }
      t = 3;
    } else {
      for (let i = 0; i < m; i++) acc[o + i] = c * data[src + i]!;
    }
    for (; t + 1 <= r; t += 2) {
      const wa = w[r + t]!;
      const wb = w[r + t + 1]!;
      const a1 = base + edgeIndex(p - t, n, mode) * stride;
      const b1 = base + edgeIndex(p + t, n, mode) * stride;
      const a2 = base + edgeIndex(p - t - 1, n, mode) * stride;
      const b2 = base + edgeIndex(p + t + 1, n, mode) * stride;
      for (let i = 0; i < m; i++) {
        acc[o + i]! += wa * (data[a1 + i]! + data[b1 + i]!) + wb * (data[a2 + i]! + data[b2 + i]!);
      }
    }
    for (; t <= r; t++) {
      const wt = w[r + t]!;
      const a = base + edgeIndex(p - t, n, mode) * stride;
      const b = base + edgeIndex(p + t, n, mode) * stride;
      for (let i = 0; i < m; i++) acc[o + i]! += wt * (data[a + i]! + data[b + i]!);
    }
  }
  for (let p = 0; p < n; p++) {
    const o = p * m;
    const dst = base + p * stride;
    for (let i = 0; i < m; i++) data[dst + i] = acc[o + i]!;
  }
}

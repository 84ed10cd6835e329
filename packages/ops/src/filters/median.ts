/**
 * Median filter over a box of (2r+1) voxels per axis (radius in voxels, per axis or one for
 * all), edges by repeating the edge voxel ('nearest'), like scipy.ndimage.median_filter with
 * size = 2r+1 and mode 'nearest'. The output has the input's voxel type (a median is one of the
 * input values).
 *
 * 8- and 16-bit integer images use a sliding histogram along each row (Huang's method with
 * the median tracked incrementally), so the cost per voxel grows with the window's face, not
 * its volume; other types select the median of each window with quickselect.
 */
import {
  type Grid,
  progressReporter,
  type RunOptions,
  S2SError,
  type Volume,
  type VoxelArray,
  voxelCount,
} from '@slice2solid/core';
import { allocUint8, isShareable, type ParallelOptions, splitRange, useRunner } from '../parallel/runner.js';
import { checkMask, perAxis } from './internal.js';

export interface MedianOptions extends RunOptions, ParallelOptions {
  /** Half-width of the box in voxels (1 = 3x3x3), one value or one per axis (i, j, k). */
  readonly radius?: number | readonly [number, number, number];
}

export const MEDIAN_DEFAULTS = { radius: 1 } as const satisfies MedianOptions;

/** Median-filtered copy of a volume (every frame and component filtered separately). */
export function median(volume: Volume, options: MedianOptions = {}): Volume {
  const n = voxelCount(volume.grid);
  const channels = volume.components * volume.frames;
  const out = new (volume.data.constructor as new (n: number) => VoxelArray)(volume.data.length);
  if (channels === 1) {
    medianData(volume.data, volume.grid, options, out);
    return { ...volume, data: out };
  }
  const nc = volume.components;
  const ctor = volume.data.constructor as new (n: number) => VoxelArray;
  const src = ctor === Float64Array ? new Float64Array(n) : new ctor(n);
  const dst = new ctor(n);
  for (let ch = 0; ch < channels; ch++) {
    const base = Math.floor(ch / nc) * n * nc + (ch % nc);
    for (let p = 0; p < n; p++) src[p] = volume.data[base + p * nc]!;
    medianData(src, volume.grid, options, dst);
    for (let p = 0; p < n; p++) out[base + p * nc] = dst[p]!;
  }
  return { ...volume, data: out };
}

/** Median filter of one channel into `out` (same length and, for exact results, same type). */
export function medianData<T extends VoxelArray>(data: T, grid: Grid, options: MedianOptions = {}, out?: T): T {
  checkMask(data, grid, 'image');
  const radius = perAxis(options.radius ?? MEDIAN_DEFAULTS.radius, 'radius');
  for (const r of radius) {
    if (!Number.isInteger(r) || r < 0 || r > 50) {
      throw new S2SError('INVALID_ARGUMENT', `median radius must be a whole number of voxels from 0 to 50, got ${r}`, {
        hint: 'radius 1 is a 3x3x3 box',
      });
    }
  }
  const dst = out ?? (new (data.constructor as new (n: number) => T)(data.length) as T);
  const bins =
    data instanceof Uint8Array || data instanceof Int8Array
      ? 256
      : data instanceof Uint16Array || data instanceof Int16Array
        ? 65536
        : 0;
  const runner = useRunner(options.parallel) ? options.parallel : undefined;
  const tick = progressReporter('median', grid.size[2], options);
  if (!runner) {
    // slice by slice (the same kernel as the slabs of the parallel path)
    const args: MedianArgs = { data, out: dst, size: grid.size, radius, bins };
    for (let k = 0; k < grid.size[2]; k++) {
      medianSlices(args, k, k + 1);
      tick(k + 1);
    }
    return dst;
  }
  // the threads read a shared copy of the input and write a shared output
  const ctor = data.constructor as new (buffer: ArrayBuffer) => T;
  const share = (a: T): T => {
    if (isShareable(a, runner)) return a;
    const copy = new ctor(allocUint8(a.byteLength, runner).buffer as ArrayBuffer);
    copy.set(a as never);
    return copy;
  };
  const src = share(data);
  const target = isShareable(dst, runner) ? dst : new ctor(allocUint8(dst.byteLength, runner).buffer as ArrayBuffer);
  runner.runSlabs(
    'median.slices',
    { data: src, out: target, size: grid.size, radius, bins },
    splitRange(grid.size[2], runner),
  );
  if (target !== dst) dst.set(target as never);
  tick(grid.size[2]);
  return dst;
}

/** Arguments of 'median.slices': median of the output slices [start, end). */
export interface MedianArgs {
  readonly data: VoxelArray;
  readonly out: VoxelArray;
  readonly size: readonly [number, number, number];
  readonly radius: readonly [number, number, number];
  /** Histogram bins (256 or 65536 for 8- and 16-bit data), 0 for selection. */
  readonly bins: number;
}

export function medianSlices(args: MedianArgs, start: number, end: number): void {
  if (args.bins > 0) histogramMedian(args.data, args.size, args.radius, args.bins, args.out, start, end);
  else selectMedian(args.data, args.size, args.radius, args.out, start, end);
}

function clampI(x: number, n: number): number {
  return x < 0 ? 0 : x >= n ? n - 1 : x;
}

function histogramMedian(
  data: VoxelArray,
  size: readonly [number, number, number],
  radius: readonly [number, number, number],
  bins: number,
  out: VoxelArray,
  k0: number,
  k1: number,
): void {
  const [nx, ny, nz] = size;
  const [rx, ry, rz] = radius;
  const nxy = nx * ny;
  const offset = data instanceof Int8Array ? 128 : data instanceof Int16Array ? 32768 : 0;
  const colLen = (2 * ry + 1) * (2 * rz + 1);
  const win = (2 * rx + 1) * colLen;
  // 16-bit counts when the window fits (half the cache footprint of the histogram)
  const hist = win < 65536 ? new Uint16Array(bins) : new Int32Array(bins);
  const m = (win - 1) >> 1; // 0-based rank of the median
  const rows = new Int32Array(colLen); // start of each row of the current window column
  const binOf = data; // bin = value + offset
  // (the walk to each row's median starts from the previous one: any start gives the same median)
  let med = 0;
  for (let k = k0; k < k1; k++) {
    for (let j = 0; j < ny; j++) {
      let c = 0;
      for (let dk = -rz; dk <= rz; dk++) {
        const kk = clampI(k + dk, nz);
        for (let dj = -ry; dj <= ry; dj++) rows[c++] = kk * nxy + clampI(j + dj, ny) * nx;
      }
      // initial window around i = 0
      for (let di = -rx; di <= rx; di++) {
        const x = clampI(di, nx);
        for (let q = 0; q < colLen; q++) hist[binOf[rows[q]! + x]! + offset]!++;
      }
      // count below the median of the previous row, then walk to the new median
      let lt = 0;
      for (let di = -rx; di <= rx; di++) {
        const x = clampI(di, nx);
        for (let q = 0; q < colLen; q++) if (binOf[rows[q]! + x]! + offset < med) lt++;
      }
      const rowOut = k * nxy + j * nx;
      for (let i = 0; ; i++) {
        while (lt > m) {
          med--;
          lt -= hist[med]!;
        }
        while (lt + hist[med]! <= m) {
          lt += hist[med]!;
          med++;
        }
        out[rowOut + i] = med - offset;
        if (i === nx - 1) break;
        // slide: drop column i - rx, add column i + 1 + rx
        const xo = clampI(i - rx, nx);
        const xi = clampI(i + 1 + rx, nx);
        for (let q = 0; q < colLen; q++) {
          const bo = binOf[rows[q]! + xo]! + offset;
          hist[bo]!--;
          if (bo < med) lt--;
          const bi = binOf[rows[q]! + xi]! + offset;
          hist[bi]!++;
          if (bi < med) lt++;
        }
      }
      // empty the histogram: remove the last window
      for (let di = -rx; di <= rx; di++) {
        const x = clampI(nx - 1 + di, nx);
        for (let q = 0; q < colLen; q++) hist[binOf[rows[q]! + x]! + offset]!--;
      }
    }
  }
}

function selectMedian(
  data: VoxelArray,
  size: readonly [number, number, number],
  radius: readonly [number, number, number],
  out: VoxelArray,
  k0: number,
  k1: number,
): void {
  const [nx, ny, nz] = size;
  const [rx, ry, rz] = radius;
  const nxy = nx * ny;
  const win = (2 * rx + 1) * (2 * ry + 1) * (2 * rz + 1);
  const m = (win - 1) >> 1;
  const buf = new Float64Array(win);
  const rows = new Int32Array((2 * ry + 1) * (2 * rz + 1));
  const cols = new Int32Array(2 * rx + 1);
  for (let k = k0; k < k1; k++) {
    for (let j = 0; j < ny; j++) {
      let c = 0;
      for (let dk = -rz; dk <= rz; dk++) {
        const kk = clampI(k + dk, nz);
        for (let dj = -ry; dj <= ry; dj++) rows[c++] = kk * nxy + clampI(j + dj, ny) * nx;
      }
      for (let i = 0; i < nx; i++) {
        for (let di = -rx; di <= rx; di++) cols[di + rx] = clampI(i + di, nx);
        let b = 0;
        for (let q = 0; q < rows.length; q++) {
          const row = rows[q]!;
          for (let x = 0; x < cols.length; x++) buf[b++] = data[row + cols[x]!]!;
        }
        out[k * nxy + j * nx + i] = quickselect(buf, win, m);
      }
    }
  }
}

/** The m-th smallest of buf[0..n) (reorders buf). NaN sorts last. */
function quickselect(buf: Float64Array, n: number, m: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    // median of three pivot
    const mid = (lo + hi) >> 1;
    const a = buf[lo]!;
    const b = buf[mid]!;
    const c = buf[hi]!;
    const pivot = a < b ? (b < c ? b : Math.max(a, c)) : a < c ? a : Math.max(b, c);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (buf[i]! < pivot) i++;
      while (buf[j]! > pivot) j--;
      if (i <= j) {
        const t = buf[i]!;
        buf[i] = buf[j]!;
        buf[j] = t;
        i++;
        j--;
      }
    }
    if (m <= j) hi = j;
    else if (m >= i) lo = i;
    else return buf[m]!;
  }
  return buf[m]!;
}

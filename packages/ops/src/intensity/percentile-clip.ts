/**
 * Percentile clipping: values below the `lower` percentile or above the `upper` percentile are
 * set to those percentiles (numpy's default 'linear' percentile definition). Integer images keep
 * their type, with the limits rounded to the nearest integer; the record holds the limits used
 * and how many voxels were clipped (their original values cannot be restored).
 */
import { S2SError, type Volume, type VoxelArray } from '@slice2solid/core';
import { type IntensityRecord, selectValues } from './record.js';

export interface PercentileClipOptions {
  /** Lower percentile, 0..100. */
  readonly lower?: number;
  /** Upper percentile, 0..100. */
  readonly upper?: number;
  /** Measure the percentiles only where this mask (one value per voxel) is non-zero; all voxels are clipped. */
  readonly mask?: ArrayLike<number>;
}

export const PERCENTILE_CLIP_DEFAULTS = { lower: 0.5, upper: 99.5 } as const satisfies PercentileClipOptions;

/** numpy.percentile(values, q) with the default 'linear' method, for several q at once. */
export function percentiles(values: ArrayLike<number>, qs: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) throw new S2SError('INVALID_ARGUMENT', 'no values to take percentiles of (empty image or mask)');
  const ranks = qs.map((q) => (q / 100) * (n - 1));
  const isSmallInt =
    values instanceof Uint8Array ||
    values instanceof Int8Array ||
    values instanceof Uint16Array ||
    values instanceof Int16Array;
  if (isSmallInt) {
    const off = values instanceof Int8Array ? 128 : values instanceof Int16Array ? 32768 : 0;
    const hist = new Float64Array(values instanceof Uint8Array || values instanceof Int8Array ? 256 : 65536);
    for (let p = 0; p < n; p++) hist[values[p]! + off]!++;
    // value of the r-th smallest (0-based)
    const nth = (r: number): number => {
      let acc = 0;
      for (let b = 0; b < hist.length; b++) {
        acc += hist[b]!;
        if (acc > r) return b - off;
      }
      return hist.length - 1 - off;
    };
    return ranks.map((pos) => {
      const lo = Math.floor(pos);
      const a = nth(lo);
      const b = lo + 1 < n ? nth(lo + 1) : a;
      return a + (b - a) * (pos - lo);
    });
  }
  const sorted = Float64Array.from(values).sort();
  return ranks.map((pos) => {
    const lo = Math.floor(pos);
    const a = sorted[lo]!;
    const b = lo + 1 < n ? sorted[lo + 1]! : a;
    return a + (b - a) * (pos - lo);
  });
}

export function percentileClip(
  volume: Volume,
  options: PercentileClipOptions = {},
): { volume: Volume; record: IntensityRecord } {
  const lower = options.lower ?? PERCENTILE_CLIP_DEFAULTS.lower;
  const upper = options.upper ?? PERCENTILE_CLIP_DEFAULTS.upper;
  if (!(lower >= 0 && upper <= 100 && lower <= upper)) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `percentiles must satisfy 0 <= lower <= upper <= 100, got ${lower} and ${upper}`,
      {
        hint: 'e.g. lower 0.5 and upper 99.5',
      },
    );
  }
  const data = volume.data;
  const values = selectValues(volume, options.mask);
  let [lo, hi] = percentiles(values, [lower, upper]) as [number, number];
  const isInt = !(data instanceof Float32Array || data instanceof Float64Array);
  if (isInt) {
    lo = Math.round(lo);
    hi = Math.round(hi);
  }
  const out = new (data.constructor as new (n: number) => VoxelArray)(data.length);
  let nLow = 0;
  let nHigh = 0;
  for (let p = 0; p < data.length; p++) {
    const v = data[p]!;
    if (v < lo) {
      out[p] = lo;
      nLow++;
    } else if (v > hi) {
      out[p] = hi;
      nHigh++;
    } else out[p] = v;
  }
  return {
    volume: { ...volume, data: out },
    record: {
      operation: 'percentile-clip',
      parameters: { lower, upper, low: lo, high: hi },
      inverse: { scale: 1, offset: 0 },
      clipped: { low: nLow, high: nHigh },
      units: volume.units,
    },
  };
}

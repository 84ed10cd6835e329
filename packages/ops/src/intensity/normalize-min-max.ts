/** Linear rescaling of intensities so that the minimum maps to range[0] and the maximum to range[1]. */
import { S2SError, type Volume } from '@slice2solid/core';
import { type IntensityRecord, selectValues } from './record.js';

export interface NormalizeMinMaxOptions {
  /** Output range [low, high]. */
  readonly range?: readonly [number, number];
  /** Measure min and max only where this mask (one value per voxel) is non-zero; all voxels are mapped. */
  readonly mask?: ArrayLike<number>;
}

export const NORMALIZE_MIN_MAX_DEFAULTS = { range: [0, 1] } as const satisfies NormalizeMinMaxOptions;

export function normalizeMinMax(
  volume: Volume,
  options: NormalizeMinMaxOptions = {},
): { volume: Volume; record: IntensityRecord } {
  const [lo, hi] = options.range ?? NORMALIZE_MIN_MAX_DEFAULTS.range;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
    throw new S2SError('INVALID_ARGUMENT', `output range must be two finite numbers, low < high, got [${lo}, ${hi}]`);
  }
  let min = Infinity;
  let max = -Infinity;
  const values = selectValues(volume, options.mask);
  for (let p = 0; p < values.length; p++) {
    const v = values[p]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    throw new S2SError('INVALID_ARGUMENT', 'no finite values to normalise (empty mask or non-finite data)', {
      hint: 'check the mask and the image values',
    });
  }
  // y = x * a + b; a constant image maps to `lo`
  const a = max > min ? (hi - lo) / (max - min) : 0;
  const b = lo - min * a;
  const out = new Float32Array(volume.data.length);
  const d = volume.data;
  for (let p = 0; p < out.length; p++) out[p] = d[p]! * a + b;
  return {
    volume: { ...volume, data: out, units: 'normalized' },
    record: {
      operation: 'normalize-min-max',
      parameters: { min, max, low: lo, high: hi },
      inverse: max > min ? { scale: 1 / a, offset: min - lo / a } : { scale: 0, offset: min },
      clipped: { low: 0, high: 0 },
      units: volume.units,
    },
  };
}

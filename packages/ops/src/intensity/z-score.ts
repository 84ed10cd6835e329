/** Standardisation: (x - mean) / standard deviation (population sd, over all voxels or a mask). */
import { S2SError, type Volume } from '@slice2solid/core';
import { type IntensityRecord, selectValues } from './record.js';

export interface ZScoreOptions {
  /** Measure mean and sd only where this mask (one value per voxel) is non-zero; all voxels are mapped. */
  readonly mask?: ArrayLike<number>;
}

export const Z_SCORE_DEFAULTS = {} as const satisfies ZScoreOptions;

export function zScore(volume: Volume, options: ZScoreOptions = {}): { volume: Volume; record: IntensityRecord } {
  // two passes (mean, then squared deviations) for accuracy on large volumes
  const values = selectValues(volume, options.mask);
  const n = values.length;
  let sum = 0;
  for (let p = 0; p < n; p++) sum += values[p]!;
  const mean = sum / n;
  let ss = 0;
  for (let p = 0; p < n; p++) {
    const d = values[p]! - mean;
    ss += d * d;
  }
  const sd = Math.sqrt(ss / n);
  if (!(n > 0) || !Number.isFinite(mean)) {
    throw new S2SError('INVALID_ARGUMENT', 'no finite values for the z-score (empty mask or non-finite data)', {
      hint: 'check the mask and the image values',
    });
  }
  if (!(sd > 0)) {
    throw new S2SError('INVALID_ARGUMENT', 'the image (within the mask) is constant, so its z-score is undefined', {
      hint: 'use a mask over varying tissue, or skip the z-score',
    });
  }
  const out = new Float32Array(volume.data.length);
  const d = volume.data;
  for (let p = 0; p < out.length; p++) out[p] = (d[p]! - mean) / sd;
  return {
    volume: { ...volume, data: out, units: 'normalized' },
    record: {
      operation: 'z-score',
      parameters: { mean, sd, count: n },
      inverse: { scale: sd, offset: mean },
      clipped: { low: 0, high: 0 },
      units: volume.units,
    },
  };
}

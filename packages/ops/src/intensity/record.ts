/** What an intensity operation did, so that it can be recorded (e.g. in a provenance log) and undone. */
import { S2SError, type Volume } from '@slice2solid/core';

export interface IntensityRecord {
  readonly operation: 'normalize-min-max' | 'z-score' | 'percentile-clip' | 'window-level';
  /** The parameters the operation used, including the statistics it measured. */
  readonly parameters: Readonly<Record<string, number>>;
  /** original = output * scale + offset, exact (up to float32 rounding) for voxels that were not clipped. */
  readonly inverse: { readonly scale: number; readonly offset: number };
  /** Voxels set to the low / high limit: their original values are lost (0 and 0 for linear maps). */
  readonly clipped: { readonly low: number; readonly high: number };
  /** Original units of the volume (restored by invertIntensity). */
  readonly units: string;
}

/**
 * Undoes an intensity operation: applies the record's inverse linear map (float32 output,
 * original units). Clipped voxels come back at the clip limits, not their lost original values.
 */
export function invertIntensity(volume: Volume, record: IntensityRecord): Volume {
  const { scale, offset } = record.inverse;
  if (!Number.isFinite(scale) || !Number.isFinite(offset)) {
    throw new S2SError('INVALID_ARGUMENT', 'the intensity record has no finite inverse', {
      hint: 'pass the record returned by the operation you want to undo',
    });
  }
  const out = new Float32Array(volume.data.length);
  for (let p = 0; p < out.length; p++) out[p] = volume.data[p]! * scale + offset;
  return { ...volume, data: out, units: record.units };
}

/**
 * The values to measure statistics on: the volume's own data, or a compact copy of the values of
 * voxels where `mask` is non-zero (one mask value per voxel, applied to every frame and component).
 */
export function selectValues(volume: Volume, mask: ArrayLike<number> | undefined): ArrayLike<number> {
  const data = volume.data;
  if (!mask) return data;
  const nvox = mask.length;
  const nc = volume.components;
  const per = nc * volume.frames;
  if (nvox * per !== data.length) {
    throw new S2SError('INVALID_ARGUMENT', `mask has ${nvox} values but the volume has ${data.length / per} voxels`, {
      hint: 'pass a mask made on the same grid as the volume',
    });
  }
  let inside = 0;
  for (let p = 0; p < nvox; p++) if (mask[p] !== 0) inside++;
  const out = new Float64Array(inside * per);
  let o = 0;
  for (let t = 0; t < volume.frames; t++) {
    for (let p = 0; p < nvox; p++) {
      if (mask[p] === 0) continue;
      const base = (t * nvox + p) * nc;
      for (let c = 0; c < nc; c++) out[o++] = data[base + c]!;
    }
  }
  return out;
}

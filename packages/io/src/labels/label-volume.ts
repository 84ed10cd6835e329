/**
 * LabelMap <-> Volume: label files are images whose voxel values are label values. Reading checks
 * that the values are whole numbers >= 0 (a label map resampled with linear interpolation or
 * saved as float with fractions is refused, not silently rounded).
 */
import {
  frameOf,
  type LabelMap,
  makeLabelMap,
  makeVolume,
  S2SError,
  type Segment,
  type Volume,
} from '@slice2solid/core';
import { defaultLabelColor } from './label-colors.js';

export interface LabelsFromVolumeOptions {
  /** Segment table (e.g. from the sidecar); values in the data without an entry get defaults. */
  readonly segments?: readonly Segment[];
  /** Frame of a 4D label file. */
  readonly frame?: number;
}

/** A LabelMap from an integer-valued, single-component volume. */
export function labelMapFromVolume(volume: Volume, options: LabelsFromVolumeOptions = {}): LabelMap {
  if (volume.components !== 1) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `a label map has one value per voxel, this image has ${volume.components} components`,
      {
        hint: 'give a label image (one integer per voxel)',
      },
    );
  }
  const frame = options.frame ?? 0;
  if (volume.frames > 1 && options.frame === undefined) {
    throw new S2SError('INVALID_ARGUMENT', `the label image has ${volume.frames} frames`, {
      hint: 'choose one frame, or split the 4D file into one label map per frame',
    });
  }
  const v = volume.frames === 1 && frame === 0 ? volume : frameOf(volume, frame);
  const src = v.data;
  let max = 0;
  for (let p = 0; p < src.length; p++) {
    const x = src[p]!;
    if (x === 0) continue;
    if (!(x > 0) || !Number.isInteger(x)) {
      throw new S2SError('INVALID_ARGUMENT', `voxel ${p} holds ${x}; label values must be whole numbers >= 0`, {
        hint: 'this looks like an intensity image, not a label map (or labels were resampled with interpolation)',
      });
    }
    if (x > max) max = x;
  }
  if (max > 2147483647) throw new S2SError('INVALID_ARGUMENT', `label value ${max} does not fit in 32 bits`);
  let data: Uint8Array | Uint16Array | Int32Array;
  if (src instanceof Uint8Array || src instanceof Uint16Array || src instanceof Int32Array) data = src;
  else {
    data =
      max <= 255 ? new Uint8Array(src.length) : max <= 65535 ? new Uint16Array(src.length) : new Int32Array(src.length);
    for (let p = 0; p < src.length; p++) data[p] = src[p]!;
  }
  return makeLabelMap({ grid: v.grid, data, segments: completeTable(data, options.segments ?? []) });
}

/** The table entries plus a default segment for every present value without one, by value. */
export function completeTable(data: ArrayLike<number>, segments: readonly Segment[]): Segment[] {
  const byValue = new Map(segments.map((s) => [s.value, s]));
  let last = 0;
  for (let p = 0; p < data.length; p++) {
    const v = data[p]!;
    if (v === 0 || v === last) continue;
    last = v;
    if (!byValue.has(v)) byValue.set(v, { value: v, name: `label ${v}`, color: defaultLabelColor(v) });
  }
  return [...byValue.values()].sort((a, b) => a.value - b.value);
}

/** The label map as a volume (units 'label') for the image writers. Shares the data array. */
export function volumeFromLabelMap(labels: LabelMap): Volume {
  return makeVolume({ grid: labels.grid, data: labels.data, units: 'label' });
}

/**
 * Label maps as NIfTI (.nii / .nii.gz). NIfTI has no standard place for segment names and
 * colours, so they travel in the sidecar `<name>.segments.json` (see segment-table.ts); the
 * caller reads / writes that file next to the image (file access is the CLI's job).
 */
import { type LabelMap, S2SError, type Segment } from '@slice2solid/core';
import { readNifti, writeNifti } from '../nifti.js';
import { labelMapFromVolume, volumeFromLabelMap } from './label-volume.js';
import { segmentsFromJson, segmentsToJson } from './segment-table.js';

export interface LabelReadOptions {
  /** Text of the `<name>.segments.json` sidecar, if there is one. */
  readonly segmentsJson?: string;
  /** A segment table given directly (wins over segmentsJson). */
  readonly segments?: readonly Segment[];
  /** Frame of a 4D label file. */
  readonly frame?: number;
  /** A name for messages. */
  readonly name?: string;
}

export interface LabelWriteOptions {
  /** Compress (.nii.gz / NRRD gzip encoding). Default true. */
  readonly gzip?: boolean;
}

export const LABEL_WRITE_DEFAULTS = { gzip: true } as const;

/** A written label file: the image bytes and the sidecar JSON text. */
export interface LabelFileOutput {
  readonly image: Uint8Array;
  readonly segmentsJson: string;
}

export function tableFromOptions(options: LabelReadOptions): readonly Segment[] | undefined {
  if (options.segments) return options.segments;
  if (options.segmentsJson !== undefined) return segmentsFromJson(options.segmentsJson, options.name);
  return undefined;
}

/** Reads a NIfTI label image into a LabelMap (values must be whole numbers >= 0). */
export function readNiftiLabels(bytes: Uint8Array, options: LabelReadOptions = {}): LabelMap {
  const segments = tableFromOptions(options);
  const volume = readNifti(bytes, options.name ? { name: options.name } : {});
  try {
    return labelMapFromVolume(volume, {
      ...(segments ? { segments } : {}),
      ...(options.frame !== undefined ? { frame: options.frame } : {}),
    });
  } catch (e) {
    if (e instanceof S2SError && options.name) throw e.withFile(options.name);
    throw e;
  }
}

/** Writes a LabelMap as NIfTI (the voxel type of its data: uint8, uint16 or int32) plus the sidecar JSON. */
export function writeNiftiLabels(labels: LabelMap, options: LabelWriteOptions = {}): LabelFileOutput {
  const gzip = options.gzip ?? LABEL_WRITE_DEFAULTS.gzip;
  const image = writeNifti(volumeFromLabelMap(labels), { gzip, description: 'slice2solid labels' });
  return { image, segmentsJson: segmentsToJson(labels.segments) };
}

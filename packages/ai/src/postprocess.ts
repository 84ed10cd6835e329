/**
 * Postprocessing: puts a prediction made on the model grid back on the source image's grid by
 * undoing what preprocessing recorded (like nnU-Net's export step): resample from the model
 * grid to the reoriented grid (same direction, so a per-axis map), then invert the lossless
 * axis permutation/flip. Every voxel of the result lies exactly on the source grid, so the
 * label map can be written next to the source image or meshed in its world coordinates.
 *
 * Two routes:
 *  - labelsToSource: nearest-neighbour resampling of the label volume (fast, exact when the
 *    model spacing equals the source spacing);
 *  - probabilitiesToSource: linear resampling of each channel's (uint8) probabilities, then an
 *    arg-max on the source grid (smoother boundaries when the model grid is coarser; nnU-Net
 *    resamples probabilities the same way). One channel is resampled at a time, so memory stays
 *    at a few source-sized arrays whatever the number of classes.
 *
 * Both fold the inverse reorientation into the indexing (model-region.ts) and compute only the
 * source voxels that can receive a label: with nearest neighbour, those whose nearest model voxel
 * lies in the box of the labelled model voxels; with probabilities, those whose taps reach the
 * model grid (or, in look-first, its inferred box). Every other voxel is background, exactly as
 * resampling the whole grid would make it.
 */
import {
  type Grid,
  type LabelMap,
  makeLabelMap,
  type RunOptions,
  S2SError,
  type Segment,
  throwIfAborted,
  voxelCount,
} from '@slice2solid/core';
import type { ModelCard } from './model-card.js';
import { fullBox, labelsOntoSource, probabilitiesOntoSource } from './model-region.js';
import type { PreprocessRecord } from './preprocess.js';
import type { Activation } from './sliding-window.js';

export interface ProbabilitiesToSourceOptions extends RunOptions {
  /** How the channels were produced; for sigmoid (or one channel) a voxel is labelled only where p > 0.5. */
  readonly activation?: Activation;
}

export const PROBABILITIES_TO_SOURCE_DEFAULTS = {
  activation: 'softmax',
} as const satisfies ProbabilitiesToSourceOptions;

/** The segments (value > 0) a card's labels describe. */
export function segmentsFromCard(card: ModelCard): Segment[] {
  return card.output.labels
    .filter((l) => l.value > 0)
    .sort((a, b) => a.value - b.value)
    .map((l) => ({
      value: l.value,
      name: l.name,
      color: l.color ?? [255, 255, 255],
      ...(l.code ? { code: l.code } : {}),
    }));
}

/** Maps a label volume on `record.modelGrid` back onto `record.sourceGrid` (nearest neighbour). */
export function labelsToSource(
  labels: Uint8Array | Uint16Array,
  record: PreprocessRecord,
  segments: readonly Segment[] = [],
  options: RunOptions = {},
): LabelMap {
  checkLength(labels.length, record.modelGrid, 'label volume');
  throwIfAborted(options.signal);
  const out = new (labels.constructor as new (n: number) => Uint8Array | Uint16Array)(voxelCount(record.sourceGrid));
  labelsOntoSource(labels, fullBox(record.modelGrid), record.modelGrid, record, out);
  return makeLabelMap({ grid: record.sourceGrid, data: out, segments });
}

/**
 * Maps per-channel probabilities (uint8, 255 = 1, on `record.modelGrid`) back onto the source
 * grid with linear interpolation and takes the arg-max there. `labelValues[c]` is the label of
 * channel c.
 */
export function probabilitiesToSource(
  probabilities: readonly Uint8Array[],
  labelValues: readonly number[],
  record: PreprocessRecord,
  segments: readonly Segment[] = [],
  options: ProbabilitiesToSourceOptions = {},
): LabelMap {
  if (probabilities.length === 0 || labelValues.length !== probabilities.length) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `got ${probabilities.length} probability channels and ${labelValues.length} label values`,
      { hint: 'give one label value per channel' },
    );
  }
  probabilities.forEach((p, c) => {
    checkLength(p.length, record.modelGrid, `probability channel ${c}`);
  });
  const n = voxelCount(record.sourceGrid);
  const out = Math.max(...labelValues) > 255 ? new Uint16Array(n) : new Uint8Array(n);
  probabilitiesOntoSource(probabilities, labelValues, fullBox(record.modelGrid), record.modelGrid, record, out, {
    ...options,
    activation: options.activation ?? PROBABILITIES_TO_SOURCE_DEFAULTS.activation,
  });
  return makeLabelMap({ grid: record.sourceGrid, data: out, segments });
}

function checkLength(len: number, grid: Grid, what: string): void {
  const n = voxelCount(grid);
  if (len !== n) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the ${what} has ${len} values but the model grid ${grid.size.join('x')} needs ${n}`,
      {
        hint: 'pass the prediction made on the preprocessed input of this record',
      },
    );
  }
}

/** Inverse of the recorded reorientation: data on record.reorientedGrid -> data on record.sourceGrid. */
export function undoReorient<T extends Uint8Array | Uint16Array | Int32Array | Float32Array>(
  data: T,
  record: Pick<PreprocessRecord, 'sourceGrid' | 'reorientedGrid' | 'reorient'>,
): T {
  const { perm, flip } = record.reorient;
  const src = record.sourceGrid.size;
  const re = record.reorientedGrid.size;
  const reStride = [1, re[0], re[0] * re[1]];
  // for source axis a: the reoriented stride of one step along it, and the offset of source index 0
  const step = [0, 0, 0];
  let base = 0;
  for (let b = 0; b < 3; b++) {
    const a = perm[b]!;
    if (re[b] !== src[a]) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        'the preprocessing record is inconsistent (grid sizes do not match its reorientation)',
      );
    }
    if (flip[b]) {
      step[a] = -reStride[b]!;
      base += (src[a]! - 1) * reStride[b]!;
    } else step[a] = reStride[b]!;
  }
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const [nx, ny, nz] = src;
  const [sx, sy, sz] = step as [number, number, number];
  let o = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++) {
      let s = base + j * sy + k * sz;
      for (let i = 0; i < nx; i++, s += sx) out[o++] = data[s]!;
    }
  return out;
}

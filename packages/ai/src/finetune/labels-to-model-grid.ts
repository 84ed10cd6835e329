/**
 * Reference labels on the model grid, as class (output channel) indices: the labels go through
 * the same lossless reorientation as the image (preprocessForModel) and are then resampled onto
 * the model grid by nearest neighbour, so every model-grid voxel gets the class of the source
 * voxel it lies in.
 *
 * Label values are matched to the card's output labels by segment name when the label map names
 * its segments like the card does, otherwise by value; 0 is the background.
 */
import {
  gridsMatch,
  type LabelMap,
  makeVolume,
  type RunOptions,
  reorientVolume,
  S2SError,
  voxelCount,
} from '@slice2solid/core';
import { resampleOnto } from '@slice2solid/ops';
import type { ModelCard } from '../model-card.js';
import type { PreprocessRecord } from '../preprocess.js';

/** Throws unless the card describes a softmax model with a background channel (what head fine-tuning trains). */
export function assertFineTunable(card: ModelCard): void {
  if (
    card.output.activation !== 'softmax' ||
    card.output.channels < 2 ||
    !card.output.labels.some((l) => l.value === 0)
  ) {
    throw new S2SError(
      'NOT_IMPLEMENTED',
      `fine-tuning needs a softmax model with a background channel; "${card.name}" has ${card.output.activation} activation with ${card.output.channels} channel(s)`,
      { hint: 'use a multi-class softmax model (slice2solid train exports one)' },
    );
  }
}

/** Label value -> class index of a label map for a card. */
export function classLookup(labels: LabelMap, card: ModelCard): Map<number, number> {
  assertFineTunable(card);
  const lut = new Map<number, number>();
  for (const l of card.output.labels) {
    const seg = labels.segments.find((s) => s.name.toLowerCase() === l.name.toLowerCase());
    lut.set(seg && l.value !== 0 ? seg.value : l.value, l.channel);
  }
  return lut;
}

/** Class index per voxel of `record.modelGrid` for the reference `labels` (on the source image's grid). */
export function labelClassesOnModelGrid(
  labels: LabelMap,
  record: PreprocessRecord,
  card: ModelCard,
  options: RunOptions = {},
): Uint8Array {
  if (!gridsMatch(labels.grid, record.sourceGrid, 1e-4)) {
    throw new S2SError(
      'GEOMETRY_MISMATCH',
      `the label map (${labels.grid.size.join('x')}) does not lie on the image's grid (${record.sourceGrid.size.join('x')})`,
      { hint: 'each label map must share the geometry of its image (resample it onto the image first)' },
    );
  }
  const lut = classLookup(labels, card);
  const n = voxelCount(labels.grid);
  const classes = new Uint8Array(n);
  const unknown = new Set<number>();
  for (let p = 0; p < n; p++) {
    const c = lut.get(labels.data[p]!);
    if (c === undefined) unknown.add(labels.data[p]!);
    else classes[p] = c;
  }
  if (unknown.size > 0) {
    const known = card.output.labels.map((l) => `${l.value} ${l.name}`).join(', ');
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the label map holds value(s) ${[...unknown].slice(0, 10).join(', ')} that the model "${card.name}" has no output for`,
      { hint: `the model's labels are: ${known}; relabel the data or name its segments like the model's labels` },
    );
  }
  const vol = reorientVolume(makeVolume({ grid: labels.grid, data: classes, units: 'label' }), card.input.orientation);
  if (gridsMatch(vol.grid, record.modelGrid, 1e-6)) return vol.data as Uint8Array;
  return resampleOnto(vol, record.modelGrid, {
    interpolation: 'nearest',
    ...(options.signal ? { signal: options.signal } : {}),
  }).data as Uint8Array;
}

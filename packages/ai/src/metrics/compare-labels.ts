/**
 * Per-structure comparison of a predicted label volume with a reference on the same grid:
 * Dice, IoU, HD95, Hausdorff, ASSD and surface Dice for each label value, plus the volumes.
 * See overlap.ts and surface-distance.ts for the definitions.
 */
import { type Grid, type RunOptions, S2SError, voxelCount } from '@slice2solid/core';
import { diceFromCounts, iouFromCounts, overlapCounts } from './overlap.js';
import { SURFACE_DISTANCE_DEFAULTS, type SurfaceDistances, surfaceDistances } from './surface-distance.js';

export interface CompareLabelsOptions extends RunOptions {
  /** Label values to compare (default: every non-zero value found in either volume). */
  readonly labels?: readonly number[];
  readonly toleranceMm?: number;
  readonly percentile?: number;
  /** Skip the surface distances (much faster): only Dice, IoU and volumes. */
  readonly overlapOnly?: boolean;
}

export const COMPARE_LABELS_DEFAULTS = {
  toleranceMm: SURFACE_DISTANCE_DEFAULTS.toleranceMm,
  percentile: SURFACE_DISTANCE_DEFAULTS.percentile,
  overlapOnly: false,
} as const satisfies CompareLabelsOptions;

export interface LabelComparison {
  readonly label: number;
  readonly dice: number;
  readonly iou: number;
  /** Volumes in mm^3 (voxel count x voxel volume) of the prediction and the reference. */
  readonly predictedMm3: number;
  readonly referenceMm3: number;
  readonly surface?: SurfaceDistances;
}

export function compareLabels(
  predicted: ArrayLike<number>,
  reference: ArrayLike<number>,
  grid: Grid,
  options: CompareLabelsOptions = {},
): LabelComparison[] {
  const n = voxelCount(grid);
  if (predicted.length !== n || reference.length !== n) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the label volumes have ${predicted.length} and ${reference.length} voxels but the grid ${grid.size.join('x')} needs ${n}`,
      { hint: 'resample the prediction onto the reference grid first' },
    );
  }
  let labels = options.labels;
  if (!labels) {
    const seen = new Set<number>();
    for (let p = 0; p < n; p++) {
      if (predicted[p] !== 0) seen.add(predicted[p]!);
      if (reference[p] !== 0) seen.add(reference[p]!);
    }
    labels = [...seen].sort((x, y) => x - y);
  }
  const [a, b, c] = grid.direction;
  const det = Math.abs(
    a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) + a[2] * (b[0] * c[1] - b[1] * c[0]),
  );
  const voxelMm3 = grid.spacing[0] * grid.spacing[1] * grid.spacing[2] * det;
  const out: LabelComparison[] = [];
  const pa = new Uint8Array(n);
  const pb = new Uint8Array(n);
  labels.forEach((label, idx) => {
    for (let p = 0; p < n; p++) {
      pa[p] = predicted[p] === label ? 1 : 0;
      pb[p] = reference[p] === label ? 1 : 0;
    }
    const counts = overlapCounts(pa, pb);
    const r: LabelComparison = {
      label,
      dice: diceFromCounts(counts),
      iou: iouFromCounts(counts),
      predictedMm3: counts.a * voxelMm3,
      referenceMm3: counts.b * voxelMm3,
      ...(options.overlapOnly
        ? {}
        : {
            surface: surfaceDistances(pa, pb, grid, {
              toleranceMm: options.toleranceMm ?? COMPARE_LABELS_DEFAULTS.toleranceMm,
              percentile: options.percentile ?? COMPARE_LABELS_DEFAULTS.percentile,
              ...(options.signal ? { signal: options.signal } : {}),
            }),
          }),
    };
    out.push(r);
    options.onProgress?.({ stage: 'compare labels', done: idx + 1, total: labels.length });
  });
  return out;
}

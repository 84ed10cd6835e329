/**
 * Volume overlap between two binary masks (non-zero = inside): Dice = 2|A∩B| / (|A| + |B|),
 * IoU (Jaccard) = |A∩B| / |A∪B|. Two empty masks agree perfectly (both 1).
 */
import { S2SError } from '@slice2solid/core';

export interface OverlapCounts {
  /** Voxels in A, in B, and in both. */
  readonly a: number;
  readonly b: number;
  readonly both: number;
}

export function overlapCounts(a: ArrayLike<number>, b: ArrayLike<number>): OverlapCounts {
  if (a.length !== b.length) {
    throw new S2SError('INVALID_ARGUMENT', `the masks have ${a.length} and ${b.length} voxels`, {
      hint: 'compare masks on the same grid (resample the prediction onto the reference first)',
    });
  }
  let na = 0;
  let nb = 0;
  let both = 0;
  for (let p = 0; p < a.length; p++) {
    const x = a[p] !== 0;
    const y = b[p] !== 0;
    if (x) na++;
    if (y) nb++;
    if (x && y) both++;
  }
  return { a: na, b: nb, both };
}

export function diceFromCounts(c: OverlapCounts): number {
  return c.a + c.b === 0 ? 1 : (2 * c.both) / (c.a + c.b);
}

export function iouFromCounts(c: OverlapCounts): number {
  const union = c.a + c.b - c.both;
  return union === 0 ? 1 : c.both / union;
}

/** Dice coefficient of two binary masks (1 when both are empty). */
export function dice(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return diceFromCounts(overlapCounts(a, b));
}

/** Intersection over union (Jaccard index) of two binary masks (1 when both are empty). */
export function iou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return iouFromCounts(overlapCounts(a, b));
}

/** Index bounding box of a mask, optionally grown by a margin in mm and clamped to the grid. */
import { type Grid, S2SError, type Vec3 } from '@slice2solid/core';
import { checkMask, checkNumber, perAxis } from '../filters/internal.js';
import { nonZeroBox } from '../morphology/ball.js';

/** A box of voxel indices: start (inclusive) and end (exclusive) along i, j, k. */
export interface IndexBox {
  readonly start: Vec3;
  readonly end: Vec3;
}

export interface BoundingBoxOptions {
  /** Margin in mm added on every side (one value or one per index axis), rounded up to whole voxels. */
  readonly marginMm?: number | readonly [number, number, number];
}

export const BOUNDING_BOX_DEFAULTS = { marginMm: 0 } as const satisfies BoundingBoxOptions;

/** The smallest index box holding every non-zero voxel, grown by the margin; undefined for an empty mask. */
export function boundingBox(
  mask: ArrayLike<number>,
  grid: Grid,
  options: BoundingBoxOptions = {},
): IndexBox | undefined {
  checkMask(mask, grid);
  const margin = perAxis(options.marginMm ?? BOUNDING_BOX_DEFAULTS.marginMm, 'marginMm');
  for (let a = 0; a < 3; a++) checkNumber(margin[a], `marginMm[${a}]`, 0, 'give a margin in millimetres, 0 or more');
  const box = nonZeroBox(mask, grid);
  if (!box) return undefined;
  const start: number[] = [];
  const end: number[] = [];
  for (let a = 0; a < 3; a++) {
    // whole voxels covering the margin (a tiny slack so 2 mm at 0.5 mm spacing is exactly 4 voxels)
    const g = Math.ceil(margin[a]! / grid.spacing[a]! - 1e-9);
    start.push(Math.max(0, box.start[a]! - g));
    end.push(Math.min(grid.size[a]!, box.end[a]! + g));
  }
  return { start: start as unknown as Vec3, end: end as unknown as Vec3 };
}

export function checkIndexBox(box: IndexBox, grid: Grid): void {
  for (let a = 0; a < 3; a++) {
    const s = box.start[a]!;
    const e = box.end[a]!;
    if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > grid.size[a]! || e <= s) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `crop box [${box.start.join(', ')}] to [${box.end.join(', ')}] is not inside the ${grid.size.join('x')} grid with start < end`,
        { hint: 'give whole voxel indices: start inclusive, end exclusive, 0 <= start < end <= size' },
      );
    }
  }
}

/** Binary erosion by a ball of radius r mm (exact, through the Euclidean distance transform). */
import type { Grid, RunOptions } from '@slice2solid/core';
import type { ParallelOptions } from '../parallel/runner.js';
import { ballMorphology } from './ball.js';

export interface ErodeOptions extends RunOptions, ParallelOptions {
  /** Ball radius in mm: a voxel is cleared if some background voxel centre is within this distance (ties included). */
  readonly radiusMm?: number;
  /**
   * What lies outside the grid: 'foreground' (default; only zero voxels inside the image erode,
   * so a structure cut by the field of view is not eaten from the cut, as ITK's default) or
   * 'background' (the image edge erodes too, as scipy.ndimage.binary_erosion's default).
   */
  readonly outside?: 'foreground' | 'background';
}

export const ERODE_DEFAULTS = { radiusMm: 1, outside: 'foreground' } as const satisfies ErodeOptions;

/** 0/1 mask shrunk by a ball of `radiusMm` (voxel spacing honoured, any orthogonal orientation). */
export function erode(mask: ArrayLike<number>, grid: Grid, options: ErodeOptions = {}): Uint8Array {
  const outside = options.outside ?? ERODE_DEFAULTS.outside;
  return ballMorphology(
    mask,
    grid,
    options.radiusMm ?? ERODE_DEFAULTS.radiusMm,
    'erode',
    outside === 'background',
    options,
  );
}

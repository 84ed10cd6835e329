/** Binary dilation by a ball of radius r mm (exact, through the Euclidean distance transform). */
import type { Grid, RunOptions } from '@slice2solid/core';
import type { ParallelOptions } from '../parallel/runner.js';
import { ballMorphology } from './ball.js';

export interface DilateOptions extends RunOptions, ParallelOptions {
  /** Ball radius in mm: a voxel is set if some foreground voxel centre is within this distance (ties included). */
  readonly radiusMm?: number;
}

export const DILATE_DEFAULTS = { radiusMm: 1 } as const satisfies DilateOptions;

/** 0/1 mask grown by a ball of `radiusMm` (voxel spacing honoured, any orthogonal orientation). */
export function dilate(mask: ArrayLike<number>, grid: Grid, options: DilateOptions = {}): Uint8Array {
  return ballMorphology(mask, grid, options.radiusMm ?? DILATE_DEFAULTS.radiusMm, 'dilate', false, options);
}

/**
 * Morphological closing (dilate then erode) with a ball of radius r mm: fills gaps and
 * concavities narrower than the ball. The erosion treats the outside of the grid as
 * foreground, so the result always contains the input (closing is extensive) and a structure
 * touching the image edge is not eaten from the edge.
 */
import type { Grid, RunOptions } from '@slice2solid/core';
import type { ParallelOptions } from '../parallel/runner.js';
import { checkRadius } from './ball.js';
import { dilate } from './dilate.js';
import { erode } from './erode.js';

export interface CloseOptions extends RunOptions, ParallelOptions {
  readonly radiusMm?: number;
}

export const CLOSE_DEFAULTS = { radiusMm: 1 } as const satisfies CloseOptions;

export function close(mask: ArrayLike<number>, grid: Grid, options: CloseOptions = {}): Uint8Array {
  const radiusMm = checkRadius(options.radiusMm ?? CLOSE_DEFAULTS.radiusMm);
  const run = { signal: options.signal, onProgress: options.onProgress, parallel: options.parallel };
  const dilated = dilate(mask, grid, { ...run, radiusMm });
  return erode(dilated, grid, { ...run, radiusMm, outside: 'foreground' });
}

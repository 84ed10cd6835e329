/** Morphological opening (erode then dilate) with a ball of radius r mm: removes parts thinner than the ball. */
import type { Grid, RunOptions } from '@slice2solid/core';
import type { ParallelOptions } from '../parallel/runner.js';
import { checkRadius } from './ball.js';
import { dilate } from './dilate.js';
import { erode } from './erode.js';

export interface OpenOptions extends RunOptions, ParallelOptions {
  readonly radiusMm?: number;
  /** What lies outside the grid during the erosion (see ErodeOptions.outside). */
  readonly outside?: 'foreground' | 'background';
}

export const OPEN_DEFAULTS = { radiusMm: 1, outside: 'foreground' } as const satisfies OpenOptions;

export function open(mask: ArrayLike<number>, grid: Grid, options: OpenOptions = {}): Uint8Array {
  const radiusMm = checkRadius(options.radiusMm ?? OPEN_DEFAULTS.radiusMm);
  const run = { signal: options.signal, onProgress: options.onProgress, parallel: options.parallel };
  const eroded = erode(mask, grid, { ...run, radiusMm, outside: options.outside ?? OPEN_DEFAULTS.outside });
  return dilate(eroded, grid, { ...run, radiusMm });
}

/**
 * Hollowing for 3D printing: keeps a shell of the given wall thickness (mm) just inside the
 * structure's surface: the voxels whose centre is within thicknessMm of a voxel centre outside
 * the structure. The image edge counts as outside, so a structure cut by the field of view
 * gets a closed wall along the cut (a printable closed shell).
 */
import type { Grid, RunOptions } from '@slice2solid/core';
import { checkNumber } from '../filters/internal.js';
import { erode } from './erode.js';

export interface HollowOptions extends RunOptions {
  /** Wall thickness in mm (> 0). */
  readonly thicknessMm?: number;
  /** Whether the image edge closes the shell ('background', default) or leaves it open ('foreground'). */
  readonly outside?: 'foreground' | 'background';
}

export const HOLLOW_DEFAULTS = { thicknessMm: 2, outside: 'background' } as const satisfies HollowOptions;

export function hollow(mask: ArrayLike<number>, grid: Grid, options: HollowOptions = {}): Uint8Array {
  const t = checkNumber(
    options.thicknessMm ?? HOLLOW_DEFAULTS.thicknessMm,
    'thicknessMm',
    Number.MIN_VALUE,
    'give a wall thickness in millimetres, e.g. 2',
  );
  const core = erode(mask, grid, {
    signal: options.signal,
    onProgress: options.onProgress,
    radiusMm: t,
    outside: options.outside ?? HOLLOW_DEFAULTS.outside,
  });
  const out = new Uint8Array(core.length);
  for (let p = 0; p < out.length; p++) out[p] = mask[p] !== 0 && core[p] === 0 ? 1 : 0;
  return out;
}

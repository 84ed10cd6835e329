/** Removes connected components smaller than a volume in mm^3. */
import type { Grid, RunOptions } from '@slice2solid/core';
import { checkNumber, voxelVolumeMm3 } from '../filters/internal.js';
import { CONNECTED_COMPONENTS_DEFAULTS, type Connectivity, connectedComponents } from './connected-components.js';

export interface RemoveIslandsOptions extends RunOptions {
  /** Components with a volume (voxel count x voxel volume) below this are removed. */
  readonly minVolumeMm3?: number;
  readonly connectivity?: Connectivity;
}

export const REMOVE_ISLANDS_DEFAULTS = {
  minVolumeMm3: 10,
  connectivity: CONNECTED_COMPONENTS_DEFAULTS.connectivity,
} as const satisfies RemoveIslandsOptions;

/** A 0/1 mask without the components whose volume is below `minVolumeMm3`. */
export function removeIslands(mask: ArrayLike<number>, grid: Grid, options: RemoveIslandsOptions = {}): Uint8Array {
  const minVol = checkNumber(options.minVolumeMm3 ?? REMOVE_ISLANDS_DEFAULTS.minVolumeMm3, 'minVolumeMm3', 0);
  const { labels, count, sizes } = connectedComponents(mask, grid, {
    ...options,
    connectivity: options.connectivity ?? REMOVE_ISLANDS_DEFAULTS.connectivity,
  });
  const vox = voxelVolumeMm3(grid);
  const kept = new Uint8Array(count + 1);
  // relative tolerance so that a component of exactly minVolumeMm3 is kept despite rounding
  for (let l = 1; l <= count; l++) kept[l] = sizes[l]! * vox >= minVol * (1 - 1e-12) ? 1 : 0;
  const out = new Uint8Array(labels.length);
  for (let p = 0; p < labels.length; p++) out[p] = kept[labels[p]!]!;
  return out;
}

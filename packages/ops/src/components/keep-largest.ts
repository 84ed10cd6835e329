/** Keeps the N largest connected components of a mask. */
import { type Grid, type RunOptions, S2SError } from '@slice2solid/core';
import { CONNECTED_COMPONENTS_DEFAULTS, type Connectivity, connectedComponents } from './connected-components.js';

export interface KeepLargestOptions extends RunOptions {
  /** How many components to keep (the largest first; equal sizes: the one that comes first in scan order). */
  readonly count?: number;
  readonly connectivity?: Connectivity;
}

export const KEEP_LARGEST_DEFAULTS = {
  count: 1,
  connectivity: CONNECTED_COMPONENTS_DEFAULTS.connectivity,
} as const satisfies KeepLargestOptions;

/** A 0/1 mask holding only the `count` largest components of `mask` (all of them if there are fewer). */
export function keepLargest(mask: ArrayLike<number>, grid: Grid, options: KeepLargestOptions = {}): Uint8Array {
  const keep = options.count ?? KEEP_LARGEST_DEFAULTS.count;
  if (!Number.isInteger(keep) || keep < 1) {
    throw new S2SError('INVALID_ARGUMENT', `count must be a whole number >= 1, got ${keep}`, {
      hint: 'give how many of the largest components to keep, e.g. 1',
    });
  }
  const { labels, count, sizes } = connectedComponents(mask, grid, {
    ...options,
    connectivity: options.connectivity ?? KEEP_LARGEST_DEFAULTS.connectivity,
  });
  const order = Array.from({ length: count }, (_, i) => i + 1).sort((a, b) => sizes[b]! - sizes[a]! || a - b);
  const kept = new Uint8Array(count + 1);
  for (let r = 0; r < Math.min(keep, count); r++) kept[order[r]!] = 1;
  const out = new Uint8Array(labels.length);
  for (let p = 0; p < labels.length; p++) out[p] = kept[labels[p]!]!;
  return out;
}

/** Several structures into one label map. */
import {
  type Grid,
  gridsMatch,
  type LabelMap,
  makeLabelMap,
  S2SError,
  type Segment,
  voxelCount,
} from '@slice2solid/core';
import { labelArrayFor, makeSegment } from './make.js';

/** What to do where two structures claim the same voxel. */
export type OverlapPolicy = 'error' | 'first' | 'last';

export interface MergeOptions {
  readonly overlap?: OverlapPolicy;
  readonly gridToleranceMm?: number;
}

export const MERGE_DEFAULTS = { overlap: 'last' as OverlapPolicy, gridToleranceMm: 1e-3 } as const;

/** One structure to merge: a mask (non-zero = inside) and its segment. */
export interface MaskLayer {
  readonly mask: ArrayLike<number>;
  readonly segment: Partial<Segment> & { readonly value: number };
}

/** Merges masks on `grid` into one label map. Values must be distinct. */
export function mergeMasks(grid: Grid, layers: readonly MaskLayer[], options: MergeOptions = {}): LabelMap {
  const overlap = options.overlap ?? MERGE_DEFAULTS.overlap;
  const n = voxelCount(grid);
  const seen = new Set<number>();
  const segments: Segment[] = [];
  let maxValue = 0;
  for (const [idx, l] of layers.entries()) {
    if (l.mask.length !== n) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `structure ${idx + 1} has ${l.mask.length} voxels but the grid needs ${n}`,
      );
    }
    const seg = makeSegment(l.segment.value, l.segment);
    if (seen.has(seg.value)) {
      throw new S2SError('INVALID_ARGUMENT', `two structures use label value ${seg.value}`, {
        hint: 'give each structure its own value',
      });
    }
    seen.add(seg.value);
    segments.push(seg);
    maxValue = Math.max(maxValue, seg.value);
  }
  const data = labelArrayFor(maxValue, n);
  for (const [idx, l] of layers.entries()) {
    const v = segments[idx]!.value;
    const m = l.mask;
    for (let p = 0; p < n; p++) {
      if (!m[p]) continue;
      if (data[p] !== 0 && data[p] !== v) {
        if (overlap === 'error') {
          throw new S2SError('INVALID_ARGUMENT', `structures ${data[p]} and ${v} overlap`, {
            hint: 'choose which one wins (overlap "first" or "last"), or keep them in separate label maps',
          });
        }
        if (overlap === 'first') continue;
      }
      data[p] = v;
    }
  }
  return makeLabelMap({ grid, data, segments: segments.sort((a, b) => a.value - b.value) });
}

/**
 * Merges label maps on the same grid into one. Segment values must not collide unless
 * `renumber` is set, in which case later maps get values after the highest used so far.
 */
export function mergeLabelMaps(
  maps: readonly LabelMap[],
  options: MergeOptions & { readonly renumber?: boolean } = {},
): LabelMap {
  const first = maps[0];
  if (!first) throw new S2SError('INVALID_ARGUMENT', 'nothing to merge');
  const tol = options.gridToleranceMm ?? MERGE_DEFAULTS.gridToleranceMm;
  const layers: MaskLayer[] = [];
  let next = 1;
  for (const [idx, m] of maps.entries()) {
    if (!gridsMatch(m.grid, first.grid, tol)) {
      throw new S2SError('GEOMETRY_MISMATCH', `label map ${idx + 1} is not on the same grid as label map 1`, {
        hint: 'resample the label maps onto one grid first',
      });
    }
    const values = new Set<number>(m.segments.map((s) => s.value));
    for (let p = 0; p < m.data.length; p++) if (m.data[p] !== 0) values.add(m.data[p]!);
    for (const v of [...values].sort((a, b) => a - b)) {
      const seg = m.segments.find((s) => s.value === v) ?? makeSegment(v);
      const value = options.renumber ? next++ : v;
      const mask = new Uint8Array(m.data.length);
      for (let p = 0; p < mask.length; p++) if (m.data[p] === v) mask[p] = 1;
      layers.push({ mask, segment: { ...seg, value } });
    }
  }
  return mergeMasks(first.grid, layers, options);
}

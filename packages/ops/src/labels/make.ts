/** Label maps from masks and masks from label maps. */
import { type Grid, type LabelMap, makeLabelMap, S2SError, type Segment, voxelCount } from '@slice2solid/core';
import { defaultSegmentColor } from './colors.js';

/** A segment with defaults filled in: name `label N`, colour from the default table. */
export function makeSegment(value: number, init: Partial<Omit<Segment, 'value'>> = {}): Segment {
  if (!Number.isInteger(value) || value < 1) {
    throw new S2SError('INVALID_ARGUMENT', `segment value must be an integer >= 1, got ${value}`, {
      hint: '0 is the background',
    });
  }
  const seg: Segment = {
    value,
    name: init.name ?? `label ${value}`,
    color: init.color ?? defaultSegmentColor(value),
  };
  return init.code ? { ...seg, code: init.code } : seg;
}

/** The smallest label array type that holds `maxValue`. */
export function labelArrayFor(maxValue: number, n: number): Uint8Array | Uint16Array | Int32Array {
  if (maxValue <= 255) return new Uint8Array(n);
  if (maxValue <= 65535) return new Uint16Array(n);
  if (maxValue <= 2147483647) return new Int32Array(n);
  throw new S2SError('INVALID_ARGUMENT', `label value ${maxValue} does not fit in 32 bits`);
}

/** A label map holding one segment: voxels where mask != 0 get `segment.value`. */
export function labelMapFromMask(mask: ArrayLike<number>, grid: Grid, segment: Partial<Segment> = {}): LabelMap {
  const n = voxelCount(grid);
  if (mask.length !== n) {
    throw new S2SError('INVALID_ARGUMENT', `mask has ${mask.length} voxels but the grid needs ${n}`);
  }
  const seg = makeSegment(segment.value ?? 1, segment);
  const data = labelArrayFor(seg.value, n);
  for (let p = 0; p < n; p++) if (mask[p]) data[p] = seg.value;
  return makeLabelMap({ grid, data, segments: [seg] });
}

/** Mask (1 = voxel has label `value`) of one segment; `value` may also be a list of values. */
export function maskOfLabel(labels: LabelMap, value: number | readonly number[]): Uint8Array {
  const n = labels.data.length;
  const out = new Uint8Array(n);
  const d = labels.data;
  if (typeof value === 'number') {
    for (let p = 0; p < n; p++) if (d[p] === value) out[p] = 1;
  } else {
    const set = new Set(value);
    for (let p = 0; p < n; p++) if (d[p] !== 0 && set.has(d[p]!)) out[p] = 1;
  }
  return out;
}

/** The distinct non-zero values present in the data, ascending. */
export function labelValues(labels: Pick<LabelMap, 'data'>): number[] {
  const d = labels.data;
  const seen = new Set<number>();
  let last = 0;
  for (let p = 0; p < d.length; p++) {
    const v = d[p]!;
    if (v !== 0 && v !== last) {
      seen.add(v);
      last = v;
    }
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * The segment table completed for the values present: table entries are kept (even when
 * empty), values without an entry get a default segment.
 */
export function completeSegments(labels: Pick<LabelMap, 'data' | 'segments'>): Segment[] {
  const byValue = new Map(labels.segments.map((s) => [s.value, s]));
  for (const v of labelValues(labels)) {
    if (v < 0) throw new S2SError('INVALID_ARGUMENT', `label value ${v} is negative`, { hint: 'labels must be >= 0' });
    if (!byValue.has(v)) byValue.set(v, makeSegment(v));
  }
  return [...byValue.values()].sort((a, b) => a.value - b.value);
}

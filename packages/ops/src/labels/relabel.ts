/** Changing label values. */
import { type LabelMap, makeLabelMap, S2SError, type Segment } from '@slice2solid/core';
import { labelArrayFor, makeSegment } from './make.js';

/**
 * Maps label values: mapping[old] = new (0 deletes the structure); values not in the mapping are
 * kept. Two old values may map to the same new value (they merge; the first table entry names it).
 */
export function relabel(
  labels: LabelMap,
  mapping: ReadonlyMap<number, number> | Readonly<Record<number, number>>,
): LabelMap {
  const map: ReadonlyMap<number, number> =
    mapping instanceof Map
      ? mapping
      : new Map(Object.entries(mapping as Record<string, number>).map(([k, v]) => [Number(k), v] as const));
  for (const [from, to] of map) {
    if (!Number.isInteger(from) || !Number.isInteger(to) || to < 0) {
      throw new S2SError('INVALID_ARGUMENT', `cannot relabel ${from} -> ${to}: values must be integers >= 0`);
    }
  }
  const d = labels.data;
  let maxValue = 0;
  const cache = new Map<number, number>();
  const target = (v: number): number => {
    const c = cache.get(v);
    if (c !== undefined) return c;
    const t = map.get(v) ?? v;
    cache.set(v, t);
    return t;
  };
  for (let p = 0; p < d.length; p++) if (d[p] !== 0) maxValue = Math.max(maxValue, target(d[p]!));
  const out = labelArrayFor(maxValue, d.length);
  for (let p = 0; p < d.length; p++) if (d[p] !== 0) out[p] = target(d[p]!);
  const segments = new Map<number, Segment>();
  for (const s of labels.segments) {
    const to = target(s.value);
    if (to === 0 || segments.has(to)) continue;
    segments.set(to, { ...s, value: to });
  }
  return makeLabelMap({
    grid: labels.grid,
    data: out,
    segments: [...segments.values()].sort((a, b) => a.value - b.value),
  });
}

/** Renumbers the present labels to 1..n in ascending order of their old values (keeps names/colours). */
export function compactLabels(labels: LabelMap): LabelMap {
  const present = new Set<number>();
  for (let p = 0; p < labels.data.length; p++) if (labels.data[p] !== 0) present.add(labels.data[p]!);
  const sorted = [...present].sort((a, b) => a - b);
  const map = new Map(sorted.map((v, i) => [v, i + 1]));
  const out = relabel({ ...labels, segments: labels.segments.filter((s) => present.has(s.value)) }, map);
  // values without a table entry get defaults
  const have = new Set(out.segments.map((s) => s.value));
  const extra = sorted
    .map((_, i) => i + 1)
    .filter((v) => !have.has(v))
    .map((v) => makeSegment(v));
  return extra.length ? { ...out, segments: [...out.segments, ...extra].sort((a, b) => a.value - b.value) } : out;
}

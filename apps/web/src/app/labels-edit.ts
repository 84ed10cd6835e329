/**
 * Label map edits (no DOM): brush and eraser discs in a view plane, merging a step's mask into
 * one structure, and the structure table.
 */
import { defaultSegmentColor, type Segment, type Vec3 } from '@slice2solid/core';
import type { ViewGeometry } from './view-geometry.js';

/** Brush (paint `value`) or eraser (clear voxels holding `value`). */
export interface BrushStroke {
  readonly value: number;
  readonly erase: boolean;
  /** Disc radius in mm, in the view plane (voxel spacing honoured). */
  readonly radiusMm: number;
  /** Paint over other structures (default false: only background or the structure itself changes). */
  readonly overwrite?: boolean;
}

/**
 * Paints a disc centred on screen pixel (cx, cy) of `slice` into `labels` IN PLACE; returns the
 * changed voxels (offsets with old and new values) for undo.
 */
export function paintDisc(
  labels: Uint8Array,
  size: Vec3 | readonly number[],
  g: ViewGeometry,
  slice: number,
  cx: number,
  cy: number,
  stroke: BrushStroke,
): { index: Uint32Array; before: Uint8Array; after: Uint8Array } {
  const [ni, nj] = size as [number, number, number];
  const stride = [1, ni, ni * nj];
  const ru = stroke.radiusMm / g.u.spacing;
  const rv = stroke.radiusMm / g.v.spacing;
  const x0 = Math.max(0, Math.ceil(cx - ru));
  const x1 = Math.min(g.u.n - 1, Math.floor(cx + ru));
  const y0 = Math.max(0, Math.ceil(cy - rv));
  const y1 = Math.min(g.v.n - 1, Math.floor(cy + rv));
  const idx: number[] = [];
  const before: number[] = [];
  const newValue = stroke.erase ? 0 : stroke.value;
  const base = slice * stride[g.sliceAxis]!;
  for (let y = y0; y <= y1; y++) {
    const dy = (y - cy) / Math.max(rv, 1e-9);
    for (let x = x0; x <= x1; x++) {
      const dx = (x - cx) / Math.max(ru, 1e-9);
      // a radius below half a voxel still paints the voxel under the pointer
      if (dx * dx + dy * dy > 1 && !(x === Math.round(cx) && y === Math.round(cy))) continue;
      const a = g.u.flip ? g.u.n - 1 - x : x;
      const b = g.v.flip ? g.v.n - 1 - y : y;
      const q = base + a * stride[g.u.axis]! + b * stride[g.v.axis]!;
      const old = labels[q]!;
      if (old === newValue) continue;
      if (stroke.erase ? old !== stroke.value : old !== 0 && !stroke.overwrite) continue;
      idx.push(q);
      before.push(old);
      labels[q] = newValue;
    }
  }
  return {
    index: Uint32Array.from(idx),
    before: Uint8Array.from(before),
    after: new Uint8Array(idx.length).fill(newValue),
  };
}

/**
 * A new label array where structure `value` is exactly `mask`, except voxels of OTHER structures,
 * which are kept (a step never overwrites another structure). `labels` is not changed.
 */
export function replaceStructure(labels: Uint8Array, mask: Uint8Array, value: number): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let p = 0; p < labels.length; p++) {
    const l = labels[p]!;
    out[p] = l !== 0 && l !== value ? l : mask[p] ? value : 0;
  }
  return out;
}

/** 1 where labels == value. */
export function structureMask(labels: Uint8Array, value: number): Uint8Array {
  const m = new Uint8Array(labels.length);
  for (let p = 0; p < labels.length; p++) m[p] = labels[p] === value ? 1 : 0;
  return m;
}

/** Voxel count per label value (index = value). */
export function labelCounts(labels: Uint8Array): Float64Array {
  const c = new Float64Array(256);
  for (let p = 0; p < labels.length; p++) c[labels[p]!]!++;
  return c;
}

/** Adds a structure with the next free value (1..255); returns the new table and the segment. */
export function addStructure(
  segments: readonly Segment[],
  init: { name?: string; color?: Vec3 | readonly number[]; code?: Segment['code'] } = {},
): { segments: Segment[]; segment: Segment } {
  const used = new Set(segments.map((s) => s.value));
  let value = 1;
  while (used.has(value)) value++;
  if (value > 255) throw new Error('at most 255 structures');
  const c = init.color ?? defaultSegmentColor(value);
  const segment: Segment = {
    value,
    name: init.name?.trim() || `structure ${value}`,
    color: [c[0]!, c[1]!, c[2]!],
    ...(init.code ? { code: init.code } : {}),
  };
  return { segments: [...segments, segment], segment };
}

/** #rrggbb of an RGB triplet, and back. */
export function hexOf(c: readonly number[]): string {
  return `#${c
    .slice(0, 3)
    .map((x) =>
      Math.max(0, Math.min(255, Math.round(x)))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

export function rgbOf(hex: string): Vec3 {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex.trim());
  if (!m) throw new Error(`not a colour: ${hex}`);
  return [Number.parseInt(m[1]!, 16), Number.parseInt(m[2]!, 16), Number.parseInt(m[3]!, 16)];
}

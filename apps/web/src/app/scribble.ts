/**
 * The scribble assistant's strokes (no DOM): a Uint8Array beside the label map, one value per
 * voxel: 0 = not painted, 1 = "structure", 2 = "background". Strokes never touch the label map;
 * the compute worker learns from them (`scribbleSegment` of @slice2solid/ops) and its class-1
 * voxels become the active structure.
 */
import type { Vec3 } from '@slice2solid/core';
import { paintDisc } from './labels-edit.js';
import type { ViewGeometry } from './view-geometry.js';

export const SCRIBBLE_STRUCTURE = 1;
export const SCRIBBLE_BACKGROUND = 2;

/** What a scribble tool paints: a class, or 'erase' (both classes cleared). */
export type ScribbleInk = typeof SCRIBBLE_STRUCTURE | typeof SCRIBBLE_BACKGROUND | 'erase';

/** Overlay colours of the two stroke classes (RGB): green = structure, blue = background. */
export const SCRIBBLE_COLORS: Readonly<Record<1 | 2, readonly [number, number, number]>> = {
  1: [40, 220, 90],
  2: [60, 140, 255],
};

/**
 * Paints a stroke disc (radius in mm, in the view plane) into `scribbles` IN PLACE; a class
 * paints over the other class, 'erase' clears both. Returns how many voxels changed.
 */
export function paintScribble(
  scribbles: Uint8Array,
  size: Vec3 | readonly number[],
  g: ViewGeometry,
  slice: number,
  cx: number,
  cy: number,
  ink: ScribbleInk,
  radiusMm: number,
): number {
  if (ink === 'erase') {
    let n = 0;
    for (const value of [SCRIBBLE_STRUCTURE, SCRIBBLE_BACKGROUND]) {
      n += paintDisc(scribbles, size, g, slice, cx, cy, { value, erase: true, radiusMm }).index.length;
    }
    return n;
  }
  return paintDisc(scribbles, size, g, slice, cx, cy, { value: ink, erase: false, radiusMm, overwrite: true }).index
    .length;
}

/** Painted voxels per class. */
export function scribbleCounts(scribbles: Uint8Array): { structure: number; background: number } {
  let structure = 0;
  let background = 0;
  for (let p = 0; p < scribbles.length; p++) {
    const v = scribbles[p]!;
    if (v === SCRIBBLE_STRUCTURE) structure++;
    else if (v === SCRIBBLE_BACKGROUND) background++;
  }
  return { structure, background };
}

/** Why "Learn from strokes" cannot run yet, or undefined when both classes are painted. */
export function scribbleProblem(counts: { structure: number; background: number }): string | undefined {
  if (counts.structure === 0 && counts.background === 0) {
    return 'no strokes yet: paint some "structure" strokes on the part you want and some "background" strokes around it';
  }
  if (counts.structure === 0) return 'paint some "structure" strokes too (on the part you want)';
  if (counts.background === 0) return 'paint some "background" strokes too (on what is not the structure)';
  return undefined;
}

/** Mask (0/1) of the voxels the scribble result gives to the structure class. */
export function structureFromScribbleLabels(result: Uint8Array): Uint8Array {
  const m = new Uint8Array(result.length);
  for (let p = 0; p < result.length; p++) m[p] = result[p] === SCRIBBLE_STRUCTURE ? 1 : 0;
  return m;
}

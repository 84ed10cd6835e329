/**
 * Default segment colours, the one table shared by io (label files that carry no colour) and ops
 * (new segments). Presets carry their own colour (see ops segment/threshold.ts); other segments get
 * a colour from this table by value, so the same label value always gets the same colour. The first entries follow 3D Slicer's GenericAnatomyColors (tissue, bone, skin...).
 */
import type { Vec3 } from './grid.js';

export const DEFAULT_SEGMENT_COLORS: readonly Vec3[] = [
  [128, 174, 128],
  [241, 214, 145],
  [177, 122, 101],
  [111, 184, 210],
  [216, 101, 79],
  [221, 130, 101],
  [144, 238, 144],
  [192, 104, 88],
  [220, 245, 20],
  [78, 63, 0],
  [255, 250, 220],
  [230, 220, 70],
  [200, 200, 235],
  [250, 250, 210],
  [244, 214, 49],
  [0, 151, 206],
  [216, 101, 79],
  [183, 156, 220],
  [183, 214, 211],
  [152, 189, 207],
];

/** The default colour of label value `value` (> 0): table entries repeat with a shifted hue. */
export function defaultSegmentColor(value: number): Vec3 {
  const n = DEFAULT_SEGMENT_COLORS.length;
  const idx = (((Math.round(value) - 1) % n) + n) % n;
  const base = DEFAULT_SEGMENT_COLORS[idx]!;
  const round = Math.floor((Math.round(value) - 1) / n);
  if (round <= 0) return base;
  // rotate channels and darken a little for later rounds so repeats stay distinguishable
  const f = 1 - 0.15 * (round % 4);
  const r = round % 3;
  const c = [base[r % 3]!, base[(r + 1) % 3]!, base[(r + 2) % 3]!];
  return [Math.round(c[0]! * f), Math.round(c[1]! * f), Math.round(c[2]! * f)];
}

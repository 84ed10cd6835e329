import { describe, expect, it } from 'vitest';
import { DEFAULT_SEGMENT_COLORS, defaultSegmentColor } from '../src/segment-colors.js';

describe('default segment colours', () => {
  it('label values 1..n take the table entries in order (3D Slicer GenericAnatomyColors first)', () => {
    expect(defaultSegmentColor(1)).toEqual([128, 174, 128]);
    expect(defaultSegmentColor(2)).toEqual([241, 214, 145]);
    for (const [i, c] of DEFAULT_SEGMENT_COLORS.entries()) expect(defaultSegmentColor(i + 1)).toEqual(c);
  });

  it('later rounds rotate the channels and darken, stay valid RGB, and are deterministic', () => {
    const n = DEFAULT_SEGMENT_COLORS.length;
    // value n+1: round 1 -> channels rotated by one, scaled by 0.85
    const [r, g, b] = DEFAULT_SEGMENT_COLORS[0]!;
    expect(defaultSegmentColor(n + 1)).toEqual([Math.round(g * 0.85), Math.round(b * 0.85), Math.round(r * 0.85)]);
    expect(defaultSegmentColor(n + 1)).not.toEqual(defaultSegmentColor(1));
    for (const v of [1, 7, n, n + 1, 2 * n + 3, 1000, 70000]) {
      const c = defaultSegmentColor(v);
      expect(c).toEqual(defaultSegmentColor(v));
      for (const x of c) expect(Number.isInteger(x) && x >= 0 && x <= 255).toBe(true);
    }
  });
});

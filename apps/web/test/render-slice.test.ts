import { describe, expect, it } from 'vitest';
import { intensityStats, labelLut, presetWindow, renderSlice } from '../src/app/render-slice.js';

describe('renderSlice', () => {
  it('maps values through the window and blends labels and the threshold preview', () => {
    const data = Int16Array.of(-1000, 0, 40, 240, 1000);
    const idx = Uint32Array.of(0, 1, 2, 3, 4);
    const wl = presetWindow('soft-tissue', { min: 0, max: 0, p1: 0, p99: 0 }); // W 400 L 40
    const plain = renderSlice(data, idx, wl);
    const grey = [0, 1, 2, 3, 4].map((p) => plain[4 * p]!);
    expect(grey[0]).toBe(0);
    expect(Math.abs(grey[2]! - 127.5)).toBeLessThanOrEqual(0.5); // the level is mid grey
    expect(grey[3]).toBe(255);
    expect(grey[1]!).toBeCloseTo(((0 - -160) * 255) / 400, 0);
    const labels = Uint8Array.of(0, 0, 1, 0, 0);
    const lut = labelLut([{ value: 1, name: 'a', color: [255, 0, 0] }]);
    const out = renderSlice(data, idx, wl, {
      labels,
      lut,
      opacity: 0.5,
      preview: { lower: 200, upper: 2000, color: [0, 0, 255] },
    });
    const mid = (40 + 160) * (255 / 400);
    expect(Math.abs(out[8]! - (mid * 0.5 + 127.5))).toBeLessThanOrEqual(0.5);
    expect(Math.abs(out[9]! - mid * 0.5)).toBeLessThanOrEqual(0.5);
    expect(out[10]).toBe(out[9]);
    expect(out[4 * 4 + 2]!).toBeGreaterThan(out[4 * 4]!); // 1000 is in the preview range: tinted blue
    expect(out[4 * 1 + 2]).toBe(out[4 * 1]); // 0 is not
    const hidden = renderSlice(data, idx, wl, { labels, lut, hidden: new Set([1]) });
    expect(hidden[8]).toBe(hidden[9]);
  });

  it('automatic windows come from percentiles of the data', () => {
    const data = new Float32Array(10001);
    for (let n = 0; n < data.length; n++) data[n] = n;
    const s = intensityStats(data);
    expect(s.min).toBe(0);
    expect(s.max).toBe(10000);
    expect(s.p1).toBeCloseTo(100, 0);
    expect(s.p99).toBeCloseTo(9900, 0);
    const w = presetWindow('auto', s);
    expect(w.center).toBeCloseTo(5000, 0);
    expect(w.width).toBeCloseTo(9800, 0);
    expect(presetWindow('full', s).width).toBe(10000);
  });
});

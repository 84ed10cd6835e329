import { describe, expect, it } from 'vitest';
import {
  frameOf,
  makeGrid,
  makeLabelMap,
  makeVolume,
  progressReporter,
  S2SError,
  throwIfAborted,
  valueRange,
} from '../src/index.js';

describe('Volume and LabelMap', () => {
  const grid = makeGrid({ size: [2, 3, 4] });
  it('checks the data length against the grid', () => {
    expect(() => makeVolume({ grid, data: new Int16Array(23) })).toThrow(/needs 24/);
    expect(() => makeLabelMap({ grid, data: new Uint8Array(25) })).toThrow(S2SError);
    expect(makeVolume({ grid, data: new Int16Array(48), frames: 2 }).frames).toBe(2);
  });
  it('frameOf views one 3D frame', () => {
    const v = makeVolume({ grid, data: new Int16Array(48).map((_, i) => i), frames: 2 });
    expect(Array.from(frameOf(v, 1).data.slice(0, 3))).toEqual([24, 25, 26]);
    expect(() => frameOf(v, 2)).toThrow(/frame 2 does not exist/);
  });
  it('valueRange', () => {
    expect(valueRange(new Float32Array([3, -2, 7.5]))).toEqual([-2, 7.5]);
  });
});

describe('progress and cancellation', () => {
  it('reports progress and stops on abort', () => {
    const seen: number[] = [];
    const ac = new AbortController();
    const tick = progressReporter('x', 10, { signal: ac.signal, onProgress: (p) => seen.push(p.done) }, 5);
    tick(0);
    tick(3);
    tick(5);
    ac.abort();
    expect(() => tick(10)).toThrow(S2SError);
    expect(seen).toEqual([0, 5]);
    expect(() => throwIfAborted(ac.signal)).toThrow(/cancelled/);
  });
});

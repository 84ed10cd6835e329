import { makeGrid, makeVolume, S2SError } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { normalizeMinMax } from '../../src/intensity/normalize-min-max.js';
import { percentileClip, percentiles } from '../../src/intensity/percentile-clip.js';
import { invertIntensity } from '../../src/intensity/record.js';
import { windowLevel } from '../../src/intensity/window-level.js';
import { zScore } from '../../src/intensity/z-score.js';
import { describeScipy, rng, runScipy } from '../filters/helpers.js';

const grid = makeGrid({ size: [5, 4, 3] });
const ct = () => {
  const r = rng(8);
  const d = new Int16Array(60);
  for (let p = 0; p < 60; p++) d[p] = Math.round(r() * 3000 - 1024);
  return makeVolume({ grid, data: d, units: 'HU' });
};

describe('normalizeMinMax', () => {
  it('maps min to 0 and max to 1 and records how to undo it', () => {
    const v = makeVolume({ grid: makeGrid({ size: [3, 1, 1] }), data: Int16Array.from([-1000, 0, 1000]), units: 'HU' });
    const { volume, record } = normalizeMinMax(v);
    expect(Array.from(volume.data)).toEqual([0, 0.5, 1]);
    expect(record).toMatchObject({
      operation: 'normalize-min-max',
      parameters: { min: -1000, max: 1000 },
      units: 'HU',
    });
    expect(volume.units).toBe('normalized');
    const back = invertIntensity(volume, record);
    expect(Array.from(back.data)).toEqual([-1000, 0, 1000]);
    expect(back.units).toBe('HU');
  });
  it('round-trips a random CT within float32 precision, also to another range and with a mask', () => {
    const v = ct();
    const mask = new Uint8Array(60).fill(1, 0, 30);
    for (const opts of [{}, { range: [-1, 1] as const }, { mask }]) {
      const { volume, record } = normalizeMinMax(v, opts);
      const back = invertIntensity(volume, record);
      for (let p = 0; p < 60; p++) expect(Math.abs(back.data[p]! - v.data[p]!)).toBeLessThan(1e-3);
    }
  });
  it('a constant image maps to the low end and still undoes exactly', () => {
    const v = makeVolume({ grid, data: new Float32Array(60).fill(5) });
    const { volume, record } = normalizeMinMax(v);
    expect(volume.data[0]).toBe(0);
    expect(invertIntensity(volume, record).data[7]).toBe(5);
  });
});

describe('zScore', () => {
  it('gives mean 0 and sd 1, and undoes', () => {
    const v = ct();
    const { volume, record } = zScore(v);
    let s = 0;
    let ss = 0;
    for (const x of volume.data) {
      s += x;
      ss += x * x;
    }
    expect(s / 60).toBeCloseTo(0, 5);
    expect(Math.sqrt(ss / 60)).toBeCloseTo(1, 5);
    const back = invertIntensity(volume, record);
    for (let p = 0; p < 60; p++) expect(Math.abs(back.data[p]! - v.data[p]!)).toBeLessThan(1e-3);
  });
  it('statistics within a mask', () => {
    const v = makeVolume({ grid: makeGrid({ size: [4, 1, 1] }), data: Float32Array.from([1, 3, 100, -100]) });
    const { record, volume } = zScore(v, { mask: [1, 1, 0, 0] });
    expect(record.parameters).toMatchObject({ mean: 2, sd: 1, count: 2 });
    expect(Array.from(volume.data)).toEqual([-1, 1, 98, -102]);
  });
  it('refuses a constant image', () => {
    expect(() => zScore(makeVolume({ grid, data: new Int16Array(60) }))).toThrow(S2SError);
  });
});

describe('percentileClip', () => {
  it('uses numpy linear percentiles (1..100: p10 = 10.9, p90 = 90.1)', () => {
    const vals = Float32Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentiles(vals, [10, 90, 0, 100, 50])).toEqual(
      [10.9, 90.1, 1, 100, 50.5].map((x) => expect.closeTo(x, 10)),
    );
    const g = makeGrid({ size: [100, 1, 1] });
    const { volume, record } = percentileClip(makeVolume({ grid: g, data: vals }), { lower: 10, upper: 90 });
    expect(volume.data[0]).toBeCloseTo(10.9, 5);
    expect(volume.data[99]).toBeCloseTo(90.1, 5);
    expect(volume.data[50]).toBe(51);
    expect(record.clipped).toEqual({ low: 10, high: 10 });
  });
  it('keeps integer types with rounded limits', () => {
    const d = Int16Array.from({ length: 100 }, (_, i) => i + 1);
    const { volume, record } = percentileClip(makeVolume({ grid: makeGrid({ size: [100, 1, 1] }), data: d }), {
      lower: 10,
      upper: 90,
    });
    expect(volume.data).toBeInstanceOf(Int16Array);
    expect(record.parameters).toMatchObject({ low: 11, high: 90 });
    expect(volume.data[0]).toBe(11);
  });
  it('refuses lower > upper', () => {
    expect(() => percentileClip(ct(), { lower: 60, upper: 40 })).toThrow(S2SError);
  });
});

describeScipy('percentiles: same input as numpy.percentile', () => {
  it('int16 (histogram path) and float32 (sort path) agree with numpy', () => {
    const r = rng(21);
    const size = [23, 17, 11] as const;
    const i16 = new Int16Array(23 * 17 * 11);
    const f32 = new Float32Array(i16.length);
    for (let p = 0; p < i16.length; p++) {
      i16[p] = Math.round(r() * 4000 - 1024);
      f32[p] = r() * 7 - 3;
    }
    const q = [0.5, 2, 50, 97.3, 99.5];
    const ref = runScipy(
      `out('a', np.percentile(a, ${JSON.stringify(q)}))\nout('b', np.percentile(b, ${JSON.stringify(q)}))`,
      { a: i16, b: f32 },
      size,
    );
    percentiles(i16, q).forEach((v, t) => {
      expect(v).toBeCloseTo(ref.a![t]!, 6);
    });
    percentiles(f32, q).forEach((v, t) => {
      expect(v).toBeCloseTo(ref.b![t]!, 6);
    });
  });
});

describe('windowLevel (DICOM linear VOI function)', () => {
  it.each([
    [-161, 0],
    [-160, 0],
    [39.5, 0.5],
    [239, (239 - 39.5) / 399 + 0.5],
    [239.5, 1],
    [3000, 1],
  ])('centre 40, width 400: %f HU -> %f', (x, y) => {
    const v = makeVolume({ grid: makeGrid({ size: [1, 1, 1] }), data: Float32Array.from([x]) });
    expect(windowLevel(v, { center: 40, width: 400 }).volume.data[0]).toBeCloseTo(y, 6);
  });
  it('records clipping and undoes the linear part; presets and output range', () => {
    const v = ct();
    const { volume, record } = windowLevel(v, { preset: 'bone', range: [0, 255] });
    expect(record.parameters).toMatchObject({ center: 400, width: 1800, low: 0, high: 255 });
    const back = invertIntensity(volume, record);
    let inside = 0;
    for (let p = 0; p < 60; p++) {
      const x = v.data[p]!;
      if (x > -500 && x <= 1299) {
        inside++;
        expect(Math.abs(back.data[p]! - x)).toBeLessThan(1e-3);
      }
    }
    expect(inside).toBeGreaterThan(20);
    expect(record.clipped.low + record.clipped.high + inside).toBe(60);
  });
  it('refuses width < 1 and unknown presets', () => {
    expect(() => windowLevel(ct(), { width: 0 })).toThrow(S2SError);
    expect(() => windowLevel(ct(), { preset: 'liver' as 'bone' })).toThrow(/preset/);
  });
});

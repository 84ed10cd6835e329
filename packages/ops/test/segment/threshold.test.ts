import { makeGrid, makeVolume, S2SError } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import {
  looksLikeHounsfield,
  THRESHOLD_DEFAULTS,
  THRESHOLD_PRESET_NAMES,
  THRESHOLD_PRESETS,
  threshold,
  thresholdPreset,
} from '../../src/segment/threshold.js';

const values = [-1024, -1000, -600, -500, -190, -100, -30, -5, 0, 40, 135, 150, 226, 500, 1200, 3071, 3500, Number.NaN];
const grid = makeGrid({ size: [values.length, 1, 1] });
const ct = makeVolume({ grid, data: new Float32Array(values), units: 'HU' });

describe('threshold', () => {
  it.each([
    ['bone', [226, 500, 1200, 3071]],
    ['skin', [-500, -190, -100, -30, -5, 0, 40, 135, 150, 226, 500, 1200, 3071, 3500]],
    ['soft-tissue', [-5, 0, 40, 135]],
    ['fat', [-190, -100, -30]],
    ['lung', [-1024, -1000, -600, -500]],
    ['vessels', [150, 226, 500]],
  ] as const)('preset %s keeps exactly the values in its range', (name, inside) => {
    const p = THRESHOLD_PRESETS[name];
    const m = threshold(ct, { lower: p.lower, upper: p.upper });
    const kept = values.filter((_, idx) => m[idx] === 1);
    expect(kept).toEqual(inside);
  });

  it('bounds are inclusive and NaN is outside', () => {
    const m = threshold(ct, { lower: 0, upper: 135 });
    expect([...m]).toEqual(values.map((v) => (v >= 0 && v <= 135 ? 1 : 0)));
    expect(m[values.length - 1]).toBe(0);
  });

  it('defaults keep every finite voxel', () => {
    expect(THRESHOLD_DEFAULTS.lower).toBe(-Infinity);
    const m = threshold(ct);
    expect(m.reduce((a, b) => a + b, 0)).toBe(values.length - 1);
  });

  it('works on integer arrays and selects a frame of a 4D volume', () => {
    const g = makeGrid({ size: [2, 2, 1] });
    const v = makeVolume({ grid: g, data: new Int16Array([0, 5, 10, 15, 100, 105, 110, 115]), frames: 2 });
    expect([...threshold(v, { lower: 5, upper: 10 })]).toEqual([0, 1, 1, 0]);
    expect([...threshold(v, { lower: 105, upper: 110, frame: 1 })]).toEqual([0, 1, 1, 0]);
  });

  it('refuses bad input with clear errors', () => {
    expect(() => threshold(ct, { lower: 10, upper: 0 })).toThrow(/above the upper bound/);
    expect(() => threshold(ct, { lower: Number.NaN })).toThrow(S2SError);
    const rgb = makeVolume({ grid: makeGrid({ size: [1, 1, 1] }), data: new Uint8Array(3), components: 3 });
    expect(() => threshold(rgb, { lower: 0 })).toThrow(/grey-scale/);
    expect(() => thresholdPreset('bones')).toThrow(/unknown threshold preset "bones".*bone, skin/);
  });

  it('every preset is a sane HU range with a name, colour and SNOMED code', () => {
    for (const name of THRESHOLD_PRESET_NAMES) {
      const p = thresholdPreset(name);
      expect(p.lower).toBeLessThan(p.upper);
      expect(p.lower).toBeGreaterThanOrEqual(-1024);
      expect(p.segment.color.every((c) => c >= 0 && c <= 255)).toBe(true);
      expect(p.segment.code?.scheme).toBe('SCT');
    }
  });

  it('tells HU images from uncalibrated ones', () => {
    expect(looksLikeHounsfield(ct)).toBe(true);
    const mr = makeVolume({ grid, data: new Float32Array(values.length).fill(300) });
    expect(looksLikeHounsfield(mr)).toBe(false);
    const ctNoUnits = makeVolume({ grid, data: new Float32Array(values) });
    expect(looksLikeHounsfield(ctNoUnits)).toBe(true);
    const other = makeVolume({ grid, data: new Float32Array(values), units: 'Hz' });
    expect(looksLikeHounsfield(other)).toBe(false);
  });
});

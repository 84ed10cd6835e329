import { lpsFromIjk, makeVolume } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { SEGMENT_DEFAULTS, segmentVolume, segmentVolumeDetailed } from '../../src/segment/segment.js';
import { THRESHOLD_PRESETS } from '../../src/segment/threshold.js';
import { fillByLps, obliqueGrid, sum } from './phantoms.js';

/** HU phantom on an oblique grid: air outside, a body (40 HU) ball, inside it a hollow bone shell and a bone speck. */
function ctPhantom() {
  const grid = obliqueGrid([48, 44, 32]);
  const c = lpsFromIjk(grid, [24, 22, 16]);
  const speck = lpsFromIjk(grid, [5, 22, 16]);
  const data = fillByLps(grid, (x, y, z) => {
    const r = Math.hypot(x - c[0], y - c[1], z - c[2]);
    if (Math.hypot(x - speck[0], y - speck[1], z - speck[2]) <= 1.2) return 900;
    if (r >= 8 && r <= 11) return 1000; // bone shell, hollow
    if (r <= 19) return 40;
    return -1000;
  });
  return { volume: makeVolume({ grid, data, units: 'HU' }), c };
}

describe('segment pipeline', () => {
  const { volume } = ctPhantom();
  const vox = 0.9 * 1.1 * 1.6;

  it('preset bone gives a segment named, coloured and coded from the preset', () => {
    const r = segmentVolumeDetailed(volume, { preset: 'bone' });
    expect(r.lower).toBe(226);
    expect(r.upper).toBe(3071);
    expect(r.labels.segments).toEqual([{ value: 1, ...THRESHOLD_PRESETS.bone.segment }]);
    expect(r.labels.grid).toBe(volume.grid);
  });

  it('min-island drops the speck, keep-largest too, fill-holes fills the shell cavity', () => {
    const base = sum(segmentVolume(volume, { preset: 'bone' }).data);
    const noSpeck = sum(segmentVolume(volume, { preset: 'bone', minIsland: 50 }).data);
    const largest = sum(segmentVolume(volume, { preset: 'bone', keepLargest: true }).data);
    expect(noSpeck).toBeLessThan(base);
    expect(noSpeck).toBe(largest);
    const speckVoxels = base - noSpeck;
    expect(speckVoxels * vox).toBeGreaterThan(3); // the speck's volume: 4/3 pi 1.2^3 = 7.2 mm^3, voxelised
    expect(speckVoxels * vox).toBeLessThan(15);
    const filled = segmentVolumeDetailed(volume, { preset: 'bone', keepLargest: true, fillHoles: true });
    const solid = (4 / 3) * Math.PI * 11 ** 3;
    expect(Math.abs(sum(filled.labels.data) * vox - solid) / solid).toBeLessThan(0.03);
    expect(filled.steps.map((s) => s.step)).toEqual(['threshold', 'keep-largest', 'fill-holes']);
  });

  it('close bridges a gap narrower than the ball', () => {
    const { grid } = volume;
    const c = lpsFromIjk(grid, [24, 22, 16]);
    // two bone blocks 3 mm apart along LPS x
    const data = fillByLps(grid, (x, y, z) =>
      Math.abs(y - c[1]) < 5 && Math.abs(z - c[2]) < 5 && Math.abs(x - c[0]) < 8 && Math.abs(x - c[0]) > 1.5
        ? 1000
        : -1000,
    );
    const v = makeVolume({ grid, data, units: 'HU' });
    const open = segmentVolume(v, { preset: 'bone', keepLargest: true });
    const closed = segmentVolume(v, { preset: 'bone', close: 2.5, keepLargest: true });
    expect(sum(closed.data)).toBeGreaterThan(1.8 * sum(open.data));
  });

  it('explicit range, Otsu, names and values', () => {
    const r = segmentVolumeDetailed(volume, { lower: 0, upper: 100, name: 'body', value: 3, color: [1, 2, 3] });
    expect(r.labels.segments).toEqual([{ value: 3, name: 'body', color: [1, 2, 3] }]);
    expect(new Set(r.labels.data)).toEqual(new Set([0, 3]));
    const o = segmentVolumeDetailed(volume, { otsu: true, otsuClasses: 3, otsuKeep: 1 });
    expect(o.lower).toBeGreaterThan(40);
    expect(o.lower).toBeLessThan(900);
    expect(sum(o.labels.data)).toBe(sum(segmentVolume(volume, { preset: 'bone' }).data));
  });

  it('refuses HU presets on non-HU images unless forced, and nonsense options', () => {
    const mr = makeVolume({ grid: volume.grid, data: volume.data.map((x) => x + 1000) as Float32Array });
    expect(() => segmentVolume(mr, { preset: 'bone' })).toThrow(/Hounsfield units/);
    expect(sum(segmentVolume(mr, { preset: 'bone', force: true }).data)).toBeGreaterThan(0);
    expect(() => segmentVolume(volume, {})).toThrow(/nothing to segment with/);
    expect(() => segmentVolume(volume, { preset: 'bone', close: -1 })).toThrow(/close radius/);
    expect(() => segmentVolume(volume, { preset: 'bone', otsu: true })).toThrow(/either a preset or Otsu/);
    expect(SEGMENT_DEFAULTS.keepLargest).toBe(false);
  });
});

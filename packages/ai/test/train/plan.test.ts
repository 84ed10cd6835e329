import { makeGrid, makeLabelMap, makeVolume, orientationCode } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { datasetReport, summarizeCase } from '../../src/train/checks.js';
import { caseFingerprint, datasetFingerprint } from '../../src/train/fingerprint.js';
import { choosePatchSize, makePlan, padTo, preprocessCase, TRAINING_DEFAULTS } from '../../src/train/plan.js';
import { syntheticCase } from '../../src/train/synthetic.js';

describe('fingerprint and plan on synthetic cases', () => {
  const cases = [1, 2, 3].map((seed) =>
    syntheticCase(seed, { size: [24, 24, 20], spacing: [1.5, 1.5, seed === 3 ? 3 : 2] }),
  );
  const fps = cases.map((c, n) => caseFingerprint(`c${n}`, c.image, c.labels));
  const fp = datasetFingerprint(fps);

  it('takes the median spacing and size and the foreground intensity statistics', () => {
    expect(fp.medianSpacing).toEqual([1.5, 1.5, 2]);
    expect(fp.medianSize).toEqual([24, 24, 20]);
    expect(fp.modality).toBe(cases[0]!.image.units === 'HU' ? 'CT' : 'unknown');
    // reference statistics computed directly from every foreground voxel
    const fg: number[] = [];
    for (const c of cases)
      for (let p = 0; p < c.labels.data.length; p++) if (c.labels.data[p]) fg.push(c.image.data[p]!);
    const mean = fg.reduce((a, b) => a + b, 0) / fg.length;
    const std = Math.sqrt(fg.reduce((a, b) => a + (b - mean) ** 2, 0) / fg.length);
    expect(fp.foreground.samples).toBe(fg.length); // fewer voxels than samplesPerCase: all kept
    expect(fp.foreground.mean).toBeCloseTo(mean, 2);
    expect(fp.foreground.std).toBeCloseTo(std, 2);
    fg.sort((a, b) => a - b);
    expect(fp.foreground.percentile00_5).toBeGreaterThanOrEqual(fg[0]!);
    expect(fp.foreground.percentile00_5).toBeLessThanOrEqual(fg[Math.ceil(0.005 * fg.length)]!);
    expect(fp.foreground.percentile99_5).toBeLessThanOrEqual(fg[fg.length - 1]!);
    // a sub-sample of a case stays close
    const third = Math.floor(fps[0]!.foregroundVoxels / 3);
    const sub = caseFingerprint('c0', cases[0]!.image, cases[0]!.labels, { samplesPerCase: third });
    expect(sub.samples.length).toBe(third);
    const subMean = sub.samples.reduce((a, b) => a + b, 0) / sub.samples.length;
    const full = fps[0]!.samples; // every foreground voxel of case 0
    expect(full.length).toBe(fps[0]!.foregroundVoxels);
    const fullMean = full.reduce((a, b) => a + b, 0) / full.length;
    expect(Math.abs(subMean - fullMean)).toBeLessThan(0.1 * std);
  });

  it('plans CT normalisation, spacing and a patch that is a multiple of 2^(levels-1)', () => {
    const report = datasetReport(cases.map((c, n) => summarizeCase(`c${n}`, `p${n}`, c.image, c.labels)));
    const plan = makePlan({ ...fp, modality: 'CT' }, report, { training: { levels: 3 } });
    expect(plan.labels.map((l) => [l.value, l.name])).toEqual([
      [1, 'ellipsoid'],
      [2, 'tube'],
    ]);
    expect(plan.numClasses).toBe(3);
    expect(plan.spacing).toEqual([1.5, 1.5, 2]);
    expect(plan.patchSize).toEqual([24, 24, 20]);
    expect(plan.normalization).toEqual({
      type: 'ct',
      clip: [fp.foreground.percentile00_5, fp.foreground.percentile99_5],
      mean: fp.foreground.mean,
      std: fp.foreground.std,
    });
    expect(makePlan({ ...fp, modality: 'MR' }, report).normalization).toEqual({ type: 'zscore', region: 'all' });
    expect(() => makePlan(fp, report, { patchSize: [24, 24, 18] })).toThrow(/multiples of 4/);
  });

  it('chooses the patch from the median shape within the memory budget', () => {
    for (const [shape, levels, budget] of [
      [[512, 512, 300], 5, 2 ** 30],
      [[200, 160, 90], 4, 2 ** 28],
      [[30, 30, 30], 3, 2 ** 30],
    ] as const) {
      const p = choosePatchSize(shape, levels, 8, 2, budget);
      const m = 2 ** (levels - 1);
      for (let a = 0; a < 3; a++) {
        expect(p[a]! % m).toBe(0);
        expect(p[a]!).toBeLessThanOrEqual(Math.ceil(shape[a]! / m) * m);
      }
      expect(p[0] * p[1] * p[2] * 64 * 8 * 2).toBeLessThanOrEqual(budget);
    }
    expect(choosePatchSize([30, 30, 30], 3, 8, 2)).toEqual([32, 32, 32]);
  });
});

describe('preprocessCase', () => {
  it('reorients, resamples, maps values to class indices and pads to the patch', () => {
    // LPS-ordered 8x8x4 grid at 1 mm; labels 5 (left half, i < 4) and 9 (one slab k = 3)
    const grid = makeGrid({ size: [8, 8, 4], spacing: [1, 1, 1] });
    const img = new Float32Array(256);
    const lbl = new Uint8Array(256);
    for (let k = 0; k < 4; k++)
      for (let j = 0; j < 8; j++)
        for (let i = 0; i < 8; i++) {
          const p = (k * 8 + j) * 8 + i;
          img[p] = i * 10;
          lbl[p] = k === 3 ? 9 : i < 4 ? 5 : 0;
        }
    const image = makeVolume({ grid, data: img });
    const labels = makeLabelMap({ grid, data: lbl });
    const plan = {
      ...makePlan(
        datasetFingerprint([caseFingerprint('a', image, labels)]),
        datasetReport([summarizeCase('a', 'a', image, labels)]),
        { spacing: [2, 2, 1], patchSize: [8, 4, 4], modality: 'MR', training: { ...TRAINING_DEFAULTS, levels: 2 } },
      ),
    };
    expect(orientationCode(grid)).toBe('LPS');
    expect(plan.orientation).toBe('RAS');
    const out = preprocessCase('a', image, labels, plan);
    // RAS: i reversed (i' = 7 - i before resampling), j reversed; 2 mm in i/j -> 4x4x4, then padded to 8 along i
    expect(out.size).toEqual([8, 4, 4]);
    const at = (i: number, j: number, k: number) => (k * 4 + j) * 8 + i;
    // padding: 2 columns each side along i, labels 0, image at its minimum
    expect(out.labels[at(0, 0, 0)]).toBe(0);
    expect(out.image[at(0, 0, 0)]).toBe(Math.min(...out.image));
    // inner columns 2..5 = resampled RAS columns 0..3; RAS column 0,1 = LPS i 7..4 (no label), 2,3 = LPS i 3..0 (label 5 -> class 1)
    expect([2, 3, 4, 5].map((i) => out.labels[at(i, 1, 0)])).toEqual([0, 0, 1, 1]);
    expect([2, 3, 4, 5].map((i) => out.labels[at(i, 1, 3)])).toEqual([2, 2, 2, 2]);
    // image decreasing along RAS i (LPS i reversed) and z-scored (mean 0 over the unpadded voxels)
    expect(out.image[at(2, 0, 0)]!).toBeGreaterThan(out.image[at(5, 0, 0)]!);
    let s = 0;
    for (let k = 0; k < 4; k++) for (let j = 0; j < 4; j++) for (let i = 2; i < 6; i++) s += out.image[at(i, j, k)]!;
    expect(Math.abs(s / 64)).toBeLessThan(1e-5);
  });

  it('padTo keeps data that already fills the patch', () => {
    const img = new Float32Array(8).fill(1);
    const lbl = new Uint8Array(8);
    const r = padTo(img, lbl, [2, 2, 2], [2, 2, 2]);
    expect(r.image).toBe(img);
  });
});

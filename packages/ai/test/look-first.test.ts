import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferenceSessionLike } from '../src/backend.js';
import { LOOK_FIRST_DEFAULTS } from '../src/look-first.js';
import { onnxRuntimeNodeBackend } from '../src/node/onnxruntime-node.js';
import { segmentWithModel } from '../src/segment-with-model.js';
import { ball, phantom, rasGrid, thresholdCard, thresholdOnnx } from './helpers/threshold-model.js';

let session: InferenceSessionLike;
beforeAll(async () => {
  session = await onnxRuntimeNodeBackend({ intraOpNumThreads: 1 }).createSession(thresholdOnnx());
});
afterAll(async () => {
  await session.dispose();
});

const card = thresholdCard();

describe('look-first (coarse pass, then only the box that matters)', () => {
  it('gives the same labels as full inference on a phantom with one blob, inferring far fewer voxels', async () => {
    // a ball (label 1) and, far from it, a dense cube (label 2) that is not asked for. (The cube is
    // label 2 in the middle, but its rim, averaged with the background on the coarse grid, looks
    // like label 1 to a threshold model: the test asks for 'ball' on the phantom without the cube.)
    const cube = (i: number, j: number, k: number) => (i < 8 && j > 44 && k > 36 ? 900 : undefined);
    const v = phantom(rasGrid([64, 56, 48]), ball([44, 20, 22], 6));
    const both = phantom(rasGrid([64, 56, 48]), (i, j, k) => ball([44, 20, 22], 6)(i, j, k) ?? cube(i, j, k));
    const full = await segmentWithModel(v, card, session, { structures: ['ball'] });
    const look = await segmentWithModel(v, card, session, {
      structures: ['ball'],
      roiFirst: { compareWithFull: true },
    });
    expect(Array.from(look.labels.data)).toEqual(Array.from(full.labels.data));
    expect(look.report.structures[0]!.voxels).toBeGreaterThan(800);
    const lf = look.report.lookFirst!;
    expect(lf.found).toBe(true);
    expect(lf.growSteps).toBe(0);
    expect(lf.touching).toBe(false);
    expect(lf.factor).toBe(LOOK_FIRST_DEFAULTS.factor);
    expect(lf.coarseGrid.size).toEqual([32, 28, 24]);
    // the box: the ball (diameter 13 voxels) plus 10 voxels (15 mm) on each side, clamped
    for (let a = 0; a < 3; a++) expect(lf.box!.end[a]! - lf.box!.start[a]!).toBeLessThanOrEqual(13 + 20 + 2);
    expect(lf.voxelsInferred).toBeLessThan(lf.fullVoxels / 2.5);
    expect(lf.voxelSpeedup).toBeGreaterThan(2.5);
    expect(lf.finePatches).toBeLessThan(lf.fullPatches / 3);
    expect(lf.estimatedFullSeconds).toBeGreaterThan(0);
    expect(lf.measuredFullSeconds).toBeGreaterThan(0);
    expect(lf.agreement).toEqual([{ value: 1, dice: 1 }]);
    expect(look.report.voxelsInferred).toBe(lf.voxelsInferred);
    expect(look.report.stages.map((s) => s.stage)).toContain('inference (look-first)');

    // without `structures` the box holds all foreground: both structures, still the same labels
    const fullAll = await segmentWithModel(both, card, session);
    const lookAll = await segmentWithModel(both, card, session, { roiFirst: true });
    expect(fullAll.report.structures.map((s) => s.voxels > 0)).toEqual([true, true]);
    expect(Array.from(lookAll.labels.data)).toEqual(Array.from(fullAll.labels.data));
    expect(lookAll.report.lookFirst!.box!.start[0]).toBe(0);
  });

  it('grows the box when the prediction touches a face that is not the volume border', async () => {
    // a rod along i from 12 (even) to 51 (odd): at factor 2 the coarse samples fall between fine
    // voxels, so with no margin the box ends exactly on the rod's last voxels and the fine
    // prediction touches both i faces
    const rod = (i: number, j: number, k: number) =>
      i >= 12 && i <= 51 && j >= 20 && j <= 23 && k >= 18 && k <= 21 ? 200 : undefined;
    const v = phantom(rasGrid([64, 48, 40]), rod);
    const full = await segmentWithModel(v, card, session);
    const grown = await segmentWithModel(v, card, session, { roiFirst: { marginMm: 0, growMm: 6 } });
    const lf = grown.report.lookFirst!;
    expect(lf.growSteps).toBe(1);
    expect(lf.touching).toBe(false);
    expect(lf.box!.start[0]).toBe(12 - 4);
    expect(lf.box!.end[0]).toBe(52 + 4);
    expect(Array.from(grown.labels.data)).toEqual(Array.from(full.labels.data));
    expect(grown.report.warnings.filter((w) => w.startsWith('look-first'))).toEqual([]);

    // with growth switched off the touch is reported as a warning
    const stuck = await segmentWithModel(v, card, session, { roiFirst: { marginMm: 0, maxGrowSteps: 0 } });
    expect(stuck.report.lookFirst!.touching).toBe(true);
    expect(stuck.report.warnings.join(' ')).toMatch(/still touches/);
  });

  it('falls back to full inference with a warning when the coarse pass finds nothing', async () => {
    // one bright voxel: averaged with its 7 neighbours on the coarse grid it drops below the threshold
    const v = phantom(rasGrid([32, 32, 32]), (i, j, k) => (i === 16 && j === 16 && k === 16 ? 200 : undefined));
    const full = await segmentWithModel(v, card, session);
    expect(full.report.structures[0]!.voxels).toBe(1);
    const look = await segmentWithModel(v, card, session, { roiFirst: true });
    expect(look.report.lookFirst!.found).toBe(false);
    expect(look.report.warnings.join(' ')).toMatch(/found no foreground; the whole volume was inferred/);
    expect(Array.from(look.labels.data)).toEqual(Array.from(full.labels.data));
    // the coarse pass counts in the fallback too (it was left out of the patch count)
    const lf = look.report.lookFirst!;
    expect(look.report.patches).toBe(full.report.patches + lf.coarsePatches);
    expect(look.report.voxelsInferred).toBe(full.report.voxelsInferred + lf.coarseGrid.size.reduce((a, b) => a * b, 1));
  });

  it('rejects bad options', async () => {
    const v = phantom(rasGrid([16, 16, 16]), () => undefined);
    await expect(segmentWithModel(v, card, session, { roiFirst: { factor: 0.5 } })).rejects.toThrow(/factor/);
    await expect(segmentWithModel(v, card, session, { roiFirst: { marginMm: -2 } })).rejects.toThrow(/marginMm/);
  });
});

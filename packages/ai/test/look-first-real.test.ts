// Look-first against full inference with the shipped CT model (models/ct-torso-small) on the
// TotalSegmentator example CT. Skips while the model package is not in the repository.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readVolume } from '@slice2solid/io';
import { expect, it } from 'vitest';
import { dataPath, describeData, itData, REPO_ROOT } from '../../../test-utils/shared-data.js';
import { dice } from '../src/metrics/overlap.js';
import { resolveModel } from '../src/node/model-store.js';
import { onnxRuntimeNodeBackend } from '../src/node/onnxruntime-node.js';
import { segmentWithModel } from '../src/segment-with-model.js';

const MODEL = 'ct-torso-small';
const HAVE_MODEL = existsSync(join(REPO_ROOT, 'models', MODEL, 'model.json'));
const run: typeof it = HAVE_MODEL
  ? itData
  : (((name: string, fn: () => unknown) =>
      it.skip(
        `${name} [skipped: models/${MODEL}/model.json is absent; the shipped model is added later]`,
        fn,
      )) as typeof it);

describeData(`look-first with the shipped model ${MODEL} (TotalSegmentator example CT)`, () => {
  run(
    'agrees with full inference within Dice 0.99 per structure, and reports the measured speed-up',
    async () => {
      const model = resolveModel(MODEL);
      const ct = await readVolume([
        {
          name: 'example_ct.nii.gz',
          bytes: new Uint8Array(readFileSync(dataPath('totalsegmentator-ct-mr', 'example_ct.nii.gz'))),
        },
      ]);
      const session = await onnxRuntimeNodeBackend().createSession(model.onnx);
      try {
        const full = await segmentWithModel(ct, model.card, session);
        const structures = model.card.output.labels.filter((l) => l.value > 0);
        const look = await segmentWithModel(ct, model.card, session, { roiFirst: true });
        for (const s of structures) {
          const a = Uint8Array.from(full.labels.data, (v) => (v === s.value ? 1 : 0));
          const b = Uint8Array.from(look.labels.data, (v) => (v === s.value ? 1 : 0));
          expect(dice(a, b), s.name).toBeGreaterThanOrEqual(0.99);
        }
        // one organ: the speed-up look-first is for
        const organ = structures[0]!;
        const fullSeconds = full.report.stages.find((x) => x.stage === 'inference')!.seconds;
        const one = await segmentWithModel(ct, model.card, session, { structures: [organ.name], roiFirst: true });
        const oneSeconds = one.report.stages.find((x) => x.stage === 'inference (look-first)')!.seconds;
        const a = Uint8Array.from(full.labels.data, (v) => (v === organ.value ? 1 : 0));
        const b = Uint8Array.from(one.labels.data, (v) => (v === organ.value ? 1 : 0));
        const organDice = dice(a, b);
        expect(organDice, organ.name).toBeGreaterThanOrEqual(0.99);
        const lf = one.report.lookFirst!;
        console.log(
          `look-first ${organ.name}: Dice ${organDice.toFixed(4)} vs full; inference ${oneSeconds.toFixed(2)} s vs ${fullSeconds.toFixed(2)} s full (${(fullSeconds / oneSeconds).toFixed(1)}x measured), ${lf.voxelSpeedup.toFixed(1)}x fewer voxels, ${lf.growSteps} growth step(s); all structures: ${(fullSeconds / look.report.stages.find((x) => x.stage === 'inference (look-first)')!.seconds).toFixed(1)}x`,
        );
        // a saving is only possible when the coarse pass found a box smaller than the volume (with
        // the first shipped model it finds liver all over the 6 mm grid: the box is the whole grid)
        const size = one.report.modelGrid.size;
        const whole =
          lf.box !== undefined && [0, 1, 2].every((x) => lf.box!.start[x] === 0 && lf.box!.end[x] === size[x]);
        if (!lf.found || whole) {
          console.warn(`look-first ${organ.name}: the box is the whole model grid, so nothing is saved on this image`);
        } else {
          expect(lf.voxelsInferred).toBeLessThan(lf.fullVoxels);
          // the input is made for the coarse grid and the box only
          expect(one.report.sourceVoxelsRead).toBeLessThan(full.report.sourceVoxelsRead);
        }
        const st = (r: typeof one) => r.report.stages.map((x) => `${x.stage} ${x.seconds.toFixed(2)} s`).join(', ');
        console.log(`full: ${st(full)}\nlook-first ${organ.name}: ${st(one)}`);
      } finally {
        await session.dispose();
      }
    },
    300_000,
  );
});

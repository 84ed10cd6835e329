// Real labels (TotalSegmentator's example CT segmentation, RAS NIfTI at 3 mm) through the
// model-grid round trip, scored with the metrics module.
import { readFileSync } from 'node:fs';
import { applyAffine, type Grid, gridsMatch, ijkFromLpsMatrix, lpsFromIjkMatrix, voxelCount } from '@slice2solid/core';
import { readVolume } from '@slice2solid/io';
import { expect } from 'vitest';
import { dataPath, describeData, itData } from '../../../test-utils/shared-data.js';
import { compareLabels } from '../src/metrics/compare-labels.js';
import { parseModelCard } from '../src/model-card.js';
import { labelsToSource } from '../src/postprocess.js';
import { preprocessForModel } from '../src/preprocess.js';
import { testCard } from './helpers/cards.js';

const DIR = 'totalsegmentator-ct-mr';
async function load(name: string) {
  return readVolume([{ name, bytes: new Uint8Array(readFileSync(dataPath(DIR, name))) }]);
}

/** A perfect model: the source label nearest to each model voxel centre (world -> source index). */
function perfectPrediction(labels: ArrayLike<number>, source: Grid, model: Grid): Uint8Array {
  const toSrc = ijkFromLpsMatrix(source);
  const fromModel = lpsFromIjkMatrix(model);
  const [mx, my, mz] = model.size;
  const [sx, sy, sz] = source.size;
  const out = new Uint8Array(voxelCount(model));
  let o = 0;
  for (let k = 0; k < mz; k++)
    for (let j = 0; j < my; j++)
      for (let i = 0; i < mx; i++, o++) {
        const s = applyAffine(toSrc, applyAffine(fromModel, [i, j, k])).map((x) => Math.round(x));
        if (s[0]! < 0 || s[1]! < 0 || s[2]! < 0 || s[0]! >= sx || s[1]! >= sy || s[2]! >= sz) continue;
        out[o] = labels[(s[2]! * sy + s[1]!) * sx + s[0]!]!;
      }
  return out;
}

const LIVER = 5;
const SPLEEN = 1;
const STOMACH = 6;
const KIDNEY_R = 2;

describeData('real labels through the model grid and back (TotalSegmentator example)', () => {
  itData(
    'upsampling to 1.5 mm LPS and back is exact; a coarse oblique-free 4 mm LPS grid keeps organs in place',
    async () => {
      const ct = await load('example_ct_sm.nii.gz');
      const seg = await load('example_seg.nii.gz');
      expect(gridsMatch(ct.grid, seg.grid, 1e-3)).toBe(true);
      const ref = seg.data as Uint8Array;
      const base = testCard().input as Record<string, unknown>;

      // 1) model in LPS at half the spacing: the round trip is exact for every voxel
      const fine = parseModelCard(testCard({ input: { ...base, orientation: 'LPS', spacing: [1.5, 1.5, 1.5] } }));
      const a = preprocessForModel(ct, fine);
      expect(a.record.reorient.flip.slice(0, 2)).toEqual([true, true]); // RAS -> LPS flips i and j
      const backA = labelsToSource(perfectPrediction(ref, seg.grid, a.record.modelGrid), a.record);
      let diff = 0;
      for (let p = 0; p < ref.length; p++) if (backA.data[p] !== ref[p]) diff++;
      expect(diff).toBe(0);

      // 2) a coarser, anisotropic model grid: organs stay in place within the model's resolution
      const coarse = parseModelCard(testCard({ input: { ...base, orientation: 'LPS', spacing: [4, 4.5, 5] } }));
      const b = preprocessForModel(ct, coarse);
      const backB = labelsToSource(perfectPrediction(ref, seg.grid, b.record.modelGrid), b.record);
      const scores = compareLabels(backB.data, ref, seg.grid, {
        labels: [LIVER, SPLEEN, STOMACH, KIDNEY_R],
        toleranceMm: 3,
      });
      const halfDiagonal = Math.hypot(4, 4.5, 5) / 2;
      for (const s of scores) {
        expect(s.dice, `label ${s.label}`).toBeGreaterThan(s.label === LIVER ? 0.95 : 0.85);
        expect(s.surface!.hd95, `label ${s.label}`).toBeLessThanOrEqual(halfDiagonal + 3);
        expect(Math.abs(s.predictedMm3 - s.referenceMm3) / s.referenceMm3, `label ${s.label}`).toBeLessThan(0.15);
      }
      // a mirrored prediction (the classic bug) would be caught: flip the coarse prediction left-right
      const mirrored = Uint8Array.from(backB.data);
      const [nx, ny, nz] = seg.grid.size;
      for (let k = 0; k < nz; k++)
        for (let j = 0; j < ny; j++)
          for (let i = 0; i < nx; i++) mirrored[(k * ny + j) * nx + i] = backB.data[(k * ny + j) * nx + (nx - 1 - i)]!;
      const bad = compareLabels(mirrored, ref, seg.grid, { labels: [LIVER, SPLEEN], overlapOnly: true });
      expect(Math.max(...bad.map((s) => s.dice))).toBeLessThan(0.5);
    },
  );
});

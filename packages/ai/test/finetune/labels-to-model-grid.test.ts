import { ijkFromLps, lpsFromIjk } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { labelClassesOnModelGrid } from '../../src/finetune/labels-to-model-grid.js';
import { parseModelCard } from '../../src/model-card.js';
import { preprocessForModel } from '../../src/preprocess.js';
import { syntheticCase } from '../../src/train/synthetic.js';
import { headModelCard } from '../helpers/head-model.js';

describe('labelClassesOnModelGrid', () => {
  it('gives every model-grid voxel the class of the source voxel it lies in (reoriented and resampled)', () => {
    const c = syntheticCase(8, { size: [30, 26, 22] });
    // the card wants LPS at 2.1 mm: a flip of i and j and a coarser grid
    const base = headModelCard();
    const card = parseModelCard({
      ...base,
      input: { ...(base.input as object), orientation: 'LPS', spacing: [2.1, 2.1, 2.1] },
      // channels permuted: tube is channel 1, ellipsoid channel 2
      output: {
        ...(base.output as object),
        labels: [
          { channel: 0, value: 0, name: 'background' },
          { channel: 2, value: 1, name: 'ellipsoid', color: [1, 2, 3] },
          { channel: 1, value: 2, name: 'tube', color: [4, 5, 6] },
        ],
      },
    });
    const { record } = preprocessForModel(c.image, card);
    const cls = labelClassesOnModelGrid(c.labels, record, card);
    const g = record.modelGrid;
    expect(cls.length).toBe(g.size[0] * g.size[1] * g.size[2]);
    const channelOf = [0, 2, 1];
    let mismatches = 0;
    let fg = 0;
    for (let k = 0; k < g.size[2]; k++)
      for (let j = 0; j < g.size[1]; j++)
        for (let i = 0; i < g.size[0]; i++) {
          const x = ijkFromLps(c.labels.grid, lpsFromIjk(g, [i, j, k]));
          const [a, b, d] = x.map(Math.round) as [number, number, number];
          const tie = x.some((v) => Math.abs(Math.abs(v - Math.floor(v)) - 0.5) < 1e-6);
          const s = c.labels.grid.size;
          const inside = a >= 0 && b >= 0 && d >= 0 && a < s[0] && b < s[1] && d < s[2];
          const want = inside ? channelOf[c.labels.data[(d * s[1] + b) * s[0] + a]!]! : 0;
          const got = cls[(k * g.size[1] + j) * g.size[0] + i]!;
          if (got !== want && !tie) mismatches++;
          if (got !== 0) fg++;
        }
    expect(fg).toBeGreaterThan(100);
    // exact rounding ties (a model voxel centre halfway between two source centres) may go either way
    expect(mismatches).toBe(0);
  });

  it('refuses labels on another grid', () => {
    const c = syntheticCase(8, { size: [20, 20, 20] });
    const other = syntheticCase(8, { size: [20, 20, 21] });
    const card = parseModelCard(headModelCard());
    const { record } = preprocessForModel(c.image, card);
    expect(() => labelClassesOnModelGrid(other.labels, record, card)).toThrow(/does not lie on the image's grid/);
  });
});

import { makeGrid, makeVolume } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { parseModelCard } from '../src/model-card.js';
import { normalizationParameters, preprocessForModel } from '../src/preprocess.js';
import { testCard } from './helpers/cards.js';

// values and expected statistics computed with numpy (np.percentile, np.clip, mean, std)
const X = Int16Array.from([0, 0, 0, 5, 10, 20, 40, 80, 160, 1000]);

describe('intensity normalisation from the card (numpy reference values)', () => {
  it('each kind gives the clip limits and linear map numpy gives', () => {
    const cases: [object, { low: number; high: number; offset: number; scale: number }][] = [
      [
        { type: 'ct', clip: [-100, 300], mean: 50, std: 25 },
        { low: -100, high: 300, offset: 50, scale: 1 / 25 },
      ],
      [{ type: 'zscore' }, { low: -Infinity, high: Infinity, offset: 131.5, scale: 1 / 293.46251890147744 }],
      [
        { type: 'zscore', region: 'nonzero' },
        { low: -Infinity, high: Infinity, offset: 187.85714285714286, scale: 1 / 335.323480738665 },
      ],
      [
        { type: 'percentile', lower: 10, upper: 90, map: 'unit' },
        { low: 0, high: 244, offset: 0, scale: 1 / 244 },
      ],
      [
        { type: 'percentile', lower: 10, upper: 90, map: 'zscore' },
        { low: 0, high: 244, offset: 55.9, scale: 1 / 79.00183542171656 },
      ],
      [
        { type: 'linear', offset: -1024, scale: 0.001 },
        { low: -Infinity, high: Infinity, offset: -1024, scale: 0.001 },
      ],
      [{ type: 'none' }, { low: -Infinity, high: Infinity, offset: 0, scale: 1 }],
    ];
    for (const [norm, want] of cases) {
      const card = parseModelCard(
        testCard({
          input: { ...(testCard().input as object), channels: [{ name: 'x', modality: 'MR', normalization: norm }] },
        }),
      );
      const got = normalizationParameters(X, card.input.channels[0]!.normalization);
      expect(got.low).toBeCloseTo(want.low, 9);
      expect(got.high).toBeCloseTo(want.high, 9);
      expect(got.offset).toBeCloseTo(want.offset, 9);
      expect(got.scale).toBeCloseTo(want.scale, 12);
    }
  });

  it('applies clip then map to every voxel, per channel, and keeps the grid when the spacing already fits', () => {
    const grid = makeGrid({
      size: [5, 2, 1],
      spacing: [1.5, 1.5, 1.5],
      direction: [
        [-1, 0, 0],
        [0, -1, 0],
        [0, 0, 1],
      ],
    });
    // two channels interleaved: channel 0 = X, channel 1 = 10 * index
    const data = new Int16Array(20);
    for (let p = 0; p < 10; p++) {
      data[2 * p] = X[p]!;
      data[2 * p + 1] = 10 * p;
    }
    const card = parseModelCard(
      testCard({
        input: {
          ...(testCard().input as object),
          channels: [
            { name: 'CT', modality: 'CT', normalization: { type: 'ct', clip: [0, 100], mean: 50, std: 50 } },
            { name: 'aux', modality: 'OT', normalization: { type: 'linear', offset: 10, scale: 0.5 } },
          ],
        },
      }),
    );
    const { input, record } = preprocessForModel(makeVolume({ grid, data, components: 2 }), card);
    expect(record.modelGrid).toEqual(grid); // already RAS at 1.5 mm: nothing resampled
    expect(input.components).toBe(2);
    const ch0 = Array.from({ length: 10 }, (_, p) => input.data[2 * p]!);
    const ch1 = Array.from({ length: 10 }, (_, p) => input.data[2 * p + 1]!);
    expect(ch0).toEqual([-1, -1, -1, -0.9, -0.8, -0.6, -0.2, 0.6, 1, 1].map((v) => Math.fround(v)));
    expect(ch1).toEqual(Array.from({ length: 10 }, (_, p) => (10 * p - 10) * 0.5));
  });
});

// A tiny "intensity threshold" network and matching card, and phantoms for it: the model is a
// 1x1x1 convolution on CT normalised as HU / 100 with logits [0, 4x - 2, 8x - 26], so its arg-max
// is 'ball' (1) for 50 < HU <= 600, 'box' (2) for HU > 600 and background otherwise. Being
// pointwise, its exact answer on any grid is known, which makes the inference tests exact.
import { type Grid, makeGrid, makeVolume, type Vec3, type Volume } from '@slice2solid/core';
import { type ModelCard, parseModelCard } from '../../src/model-card.js';
import { testCard } from './cards.js';
import { conv3dModel } from './onnx-builder.js';

export function thresholdOnnx(): Uint8Array {
  return conv3dModel({
    inChannels: 1,
    outChannels: 3,
    kernelSize: [1, 1, 1],
    weights: new Float32Array([0, 4, 8]),
    bias: new Float32Array([0, -2, -26]),
  });
}

/** The expected label of one HU value. */
export function thresholdLabel(hu: number): number {
  const x = Math.min(Math.max(hu, -1000), 1000) / 100;
  const l = [0, 4 * x - 2, 8 * x - 26];
  let best = 0;
  for (let c = 1; c < 3; c++) if (l[c]! > l[best]!) best = c;
  return best;
}

/** The card of the threshold model (RAS, 1.5 mm, 16^3 patches, no mirroring); `overrides` replace top-level fields. */
export function thresholdCardJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base = testCard();
  return {
    ...base,
    name: 'tiny-threshold',
    inference: { overlap: 0.5, mirrorAxes: [], gaussianSigmaScale: 0.125 },
    ...overrides,
  };
}

export function thresholdCard(overrides: Record<string, unknown> = {}): ModelCard {
  return parseModelCard(thresholdCardJson(overrides));
}

/** A grid whose index axes already point R, A, S (so the card's RAS reorientation is the identity). */
export function rasGrid(size: Vec3, spacing: Vec3 = [1.5, 1.5, 1.5]): Grid {
  return makeGrid({
    size,
    spacing,
    origin: [10, -20, 30],
    direction: [
      [-1, 0, 0],
      [0, -1, 0],
      [0, 0, 1],
    ],
  });
}

/** A CT-like phantom: -50 HU (+ a deterministic ripple) with shapes painted by `paint(i, j, k)` (HU or undefined). */
export function phantom(grid: Grid, paint: (i: number, j: number, k: number) => number | undefined): Volume {
  const [nx, ny, nz] = grid.size;
  const data = new Float32Array(nx * ny * nz);
  let p = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, p++) data[p] = paint(i, j, k) ?? -50 + 10 * Math.sin(0.7 * i + 1.3 * j + 0.4 * k);
  return makeVolume({ grid, data, units: 'HU' });
}

/** A ball of `radius` voxels at `centre` (index space). */
export function ball(centre: Vec3, radius: number, hu = 200): (i: number, j: number, k: number) => number | undefined {
  return (i, j, k) =>
    (i - centre[0]) ** 2 + (j - centre[1]) ** 2 + (k - centre[2]) ** 2 <= radius * radius ? hu : undefined;
}

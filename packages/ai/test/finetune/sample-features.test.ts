import { makeGrid, makeVolume } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { sampleFeatures } from '../../src/finetune/sample-features.js';
import { onnxRuntimeNodeBackend } from '../../src/node/onnxruntime-node.js';
import { slidingWindowInference } from '../../src/sliding-window.js';
import { headModel, referenceFeatures } from '../helpers/head-model.js';
import { buildOnnxModel, seededRandom } from '../helpers/onnx-builder.js';

const backend = onnxRuntimeNodeBackend({ intraOpNumThreads: 1 });
const thresholds = [-0.5, 0, 0.7];
const size = [21, 18, 13] as const; // not multiples of the patch: partial and padded patches
const n = size[0] * size[1] * size[2];
const rnd = seededRandom(5);
const x = Float32Array.from({ length: n }, () => rnd() * 2);
const grid = makeGrid({ size, spacing: [1, 1, 1] });
const input = makeVolume({ grid, data: x });
const classes = Uint8Array.from({ length: n }, (_, p) => (p % 7 === 0 ? 2 : p % 3 === 0 ? 1 : 0));
const ref = referenceFeatures(x, size, thresholds);

describe('sampleFeatures', () => {
  it("'central': the whole-volume features at the sampled voxels (patch layout invisible), balanced per class", async () => {
    const session = await backend.createSession(headModel({ thresholds, classes: 3 }));
    const opts = { patchSize: [8, 8, 8] as const, count: 150, seed: 4, averaging: 'central' as const };
    const s = await sampleFeatures(session, input, classes, 3, opts);
    expect(s.featureChannels).toBe(3);
    expect(s.count).toBe(450);
    const perClass = [0, 0, 0];
    for (let m = 0; m < s.count; m++) {
      perClass[s.targets[m]!]!++;
      expect(s.targets[m]).toBe(classes[s.voxels[m]!]);
    }
    expect(perClass).toEqual([150, 150, 150]);
    expect(new Set(s.voxels).size).toBe(s.count); // no voxel twice
    let worst = 0;
    for (let m = 0; m < s.count; m++)
      for (let f = 0; f < 3; f++)
        worst = Math.max(worst, Math.abs(s.features[m * 3 + f]! - ref[f * n + s.voxels[m]!]!));
    expect(worst).toBeLessThan(1e-5);
    expect(s.patchesRun).toBeGreaterThan(1);
    // deterministic for a seed, different for another
    const again = await sampleFeatures(session, input, classes, 3, opts);
    expect(Array.from(again.voxels)).toEqual(Array.from(s.voxels));
    expect(Array.from(again.features)).toEqual(Array.from(s.features));
    const other = await sampleFeatures(session, input, classes, 3, { ...opts, seed: 5 });
    expect(Array.from(other.voxels)).not.toEqual(Array.from(s.voxels));
    await session.dispose();
  });

  it("'gaussian': the head applied to the features gives exactly the sliding-window logits, even for patch-dependent features", async () => {
    // InstanceNormalization makes every patch's features depend on the whole patch
    const F = 3;
    const model = buildOnnxModel({
      inputs: [{ name: 'image', dims: ['N', 1, 'D', 'H', 'W'] }],
      outputs: [
        { name: 'logits', dims: ['N', 2, 'D', 'H', 'W'] },
        { name: 'features', dims: ['N', F, 'D', 'H', 'W'] },
      ],
      initializers: [
        { name: 'c.weight', dims: [F, 1, 3, 3, 3], data: Float32Array.from({ length: F * 27 }, () => rnd()) },
        { name: 'n.scale', dims: [F], data: new Float32Array([1, 0.5, 2]) },
        { name: 'n.bias', dims: [F], data: new Float32Array([0.1, -0.2, 0.3]) },
        { name: 'head.weight', dims: [2, F, 1, 1, 1], data: new Float32Array([1, -2, 0.5, -1, 0.25, 1.5]) },
        { name: 'head.bias', dims: [2], data: new Float32Array([0.2, -0.1]) },
      ],
      nodes: [
        {
          op: 'Conv',
          inputs: ['image', 'c.weight'],
          outputs: ['c'],
          attrs: { kernel_shape: [3, 3, 3], pads: [1, 1, 1, 1, 1, 1] },
        },
        {
          op: 'InstanceNormalization',
          inputs: ['c', 'n.scale', 'n.bias'],
          outputs: ['n'],
          attrs: { epsilon: { float: 1e-5 } },
        },
        { op: 'Relu', inputs: ['n'], outputs: ['features'] },
        {
          op: 'Conv',
          inputs: ['features', 'head.weight', 'head.bias'],
          outputs: ['logits'],
          attrs: { kernel_shape: [1, 1, 1] },
        },
      ],
    });
    const session = await backend.createSession(model);
    const two = Uint8Array.from(classes, (c) => (c === 2 ? 1 : 0));
    const s = await sampleFeatures(session, input, two, 2, {
      patchSize: [8, 8, 8],
      count: 300,
      seed: 3,
      gaussianSigmaScale: 0.2,
    });
    const sw = await slidingWindowInference(session, input, {
      patchSize: [8, 8, 8],
      outputName: 'logits',
      gaussianSigmaScale: 0.2,
      returnLogits: true,
    });
    const W = [1, -2, 0.5, -1, 0.25, 1.5];
    const b = [0.2, -0.1];
    let worst = 0;
    let scale = 0;
    for (let m = 0; m < s.count; m++)
      for (let c = 0; c < 2; c++) {
        let z = b[c]!;
        for (let f = 0; f < F; f++) z += W[c * F + f]! * s.features[m * F + f]!;
        const ref = sw.logits![c * n + s.voxels[m]!]!;
        worst = Math.max(worst, Math.abs(z - ref));
        scale = Math.max(scale, Math.abs(ref));
      }
    expect(scale).toBeGreaterThan(0.5);
    expect(worst).toBeLessThan(1e-4 * scale);
    // and the central-patch features are measurably different (the averaging matters here)
    const c = await sampleFeatures(session, input, two, 2, {
      patchSize: [8, 8, 8],
      count: 300,
      seed: 3,
      averaging: 'central',
    });
    let diff = 0;
    for (let q = 0; q < c.features.length; q++) diff = Math.max(diff, Math.abs(c.features[q]! - s.features[q]!));
    expect(diff).toBeGreaterThan(0.01);
    await session.dispose();
  });

  it('takes every voxel of a rare class, samples uniformly in "uniform" mode, and pads volumes smaller than a patch', async () => {
    const session = await backend.createSession(headModel({ thresholds, classes: 3 }));
    const rare = new Uint8Array(n);
    rare[17] = 1;
    rare[400] = 1;
    const s = await sampleFeatures(session, input, rare, 3, { patchSize: [32, 32, 16], count: 100, seed: 1 });
    expect(s.count).toBe(102); // 100 background + both class-1 voxels, no class 2
    expect(s.patchesRun).toBe(1);
    let worst = 0;
    for (let m = 0; m < s.count; m++)
      for (let f = 0; f < 3; f++)
        worst = Math.max(worst, Math.abs(s.features[m * 3 + f]! - ref[f * n + s.voxels[m]!]!));
    expect(worst).toBeLessThan(1e-5);
    const u = await sampleFeatures(session, input, classes, 3, {
      patchSize: [8, 8, 8],
      count: 2000,
      mode: 'uniform',
      seed: 2,
    });
    const frac2 = Array.from(u.targets).filter((t) => t === 2).length / u.count;
    expect(u.count).toBe(2000);
    expect(frac2).toBeGreaterThan(1 / 7 - 0.03);
    expect(frac2).toBeLessThan(1 / 7 + 0.03);
    await session.dispose();
  });

  it('says what is wrong when the model has no features output', async () => {
    const session = await backend.createSession(headModel({ thresholds, classes: 3 }));
    await expect(
      sampleFeatures(session, input, classes, 3, { patchSize: [8, 8, 8], featuresName: 'feats' }),
    ).rejects.toThrow(/no output "feats".*logits, features/);
    await session.dispose();
  });
});

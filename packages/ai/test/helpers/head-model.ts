// Test models for head fine-tuning: a fixed "backbone" (a small 3D smoothing convolution, then
// a bank of ramp detectors relu(x - t) with thresholds t) whose output is "features", followed by
// a 1x1x1 convolution head with initializers "head.weight" [C, F, 1, 1, 1] and "head.bias" [C]
// whose output is "logits": the layout slice2solid's exported models have (contract 4).
import { buildOnnxModel } from './onnx-builder.js';

/** A 3x3x3 kernel: `centre` at the centre, the rest shared equally by the 6 face neighbours. */
export function smoothingKernel(centre: number): Float32Array {
  const k = new Float32Array(27);
  k[13] = centre;
  for (const q of [4, 10, 12, 14, 16, 22]) k[q] = (1 - centre) / 6;
  return k;
}

export interface HeadModelSpec {
  /** Ramp thresholds (normalised intensity units): one feature channel each. */
  readonly thresholds: readonly number[];
  readonly classes: number;
  /** [C * F]; default zeros. */
  readonly headWeight?: Float32Array;
  readonly headBias?: Float32Array;
  /** Centre weight of the smoothing kernel (1 = no smoothing). */
  readonly smoothCentre?: number;
  readonly inputName?: string;
}

export function headModel(s: HeadModelSpec): Uint8Array {
  const F = s.thresholds.length;
  const C = s.classes;
  return buildOnnxModel({
    inputs: [{ name: s.inputName ?? 'image', dims: ['N', 1, 'D', 'H', 'W'] }],
    outputs: [
      { name: 'logits', dims: ['N', C, 'D', 'H', 'W'] },
      { name: 'features', dims: ['N', F, 'D', 'H', 'W'] },
    ],
    initializers: [
      { name: 'smooth.weight', dims: [1, 1, 3, 3, 3], data: smoothingKernel(s.smoothCentre ?? 0.5) },
      { name: 'ramp.weight', dims: [F, 1, 1, 1, 1], data: new Float32Array(F).fill(1) },
      { name: 'ramp.bias', dims: [F], data: Float32Array.from(s.thresholds, (t) => -t) },
      { name: 'head.weight', dims: [C, F, 1, 1, 1], data: s.headWeight ?? new Float32Array(C * F) },
      { name: 'head.bias', dims: [C], data: s.headBias ?? new Float32Array(C) },
    ],
    nodes: [
      {
        op: 'Conv',
        inputs: [s.inputName ?? 'image', 'smooth.weight'],
        outputs: ['smooth'],
        attrs: { kernel_shape: [3, 3, 3], pads: [1, 1, 1, 1, 1, 1] },
      },
      {
        op: 'Conv',
        inputs: ['smooth', 'ramp.weight', 'ramp.bias'],
        outputs: ['ramp'],
        attrs: { kernel_shape: [1, 1, 1] },
      },
      { op: 'Relu', inputs: ['ramp'], outputs: ['features'] },
      {
        op: 'Conv',
        inputs: ['features', 'head.weight', 'head.bias'],
        outputs: ['logits'],
        attrs: { kernel_shape: [1, 1, 1] },
      },
    ],
  });
}

/** Reference features of the head model on a [nz][ny][nx] volume (zero padding), channel-major [F][voxels]. */
export function referenceFeatures(
  x: Float32Array,
  size: readonly [number, number, number],
  thresholds: readonly number[],
  smoothCentre = 0.5,
): Float32Array {
  const [nx, ny, nz] = size;
  const n = nx * ny * nz;
  const k = smoothingKernel(smoothCentre);
  const out = new Float32Array(thresholds.length * n);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let i = 0; i < nx; i++) {
        let s = 0;
        for (let dz = -1; dz <= 1; dz++)
          for (let dy = -1; dy <= 1; dy++)
            for (let dx = -1; dx <= 1; dx++) {
              const w = k[(dz + 1) * 9 + (dy + 1) * 3 + dx + 1]!;
              const zz = z + dz;
              const yy = y + dy;
              const xx = i + dx;
              if (w === 0 || zz < 0 || zz >= nz || yy < 0 || yy >= ny || xx < 0 || xx >= nx) continue;
              s += w * x[(zz * ny + yy) * nx + xx]!;
            }
        const p = (z * ny + y) * nx + i;
        thresholds.forEach((t, f) => {
          out[f * n + p] = Math.max(0, s - t);
        });
      }
  return out;
}

/** A model card for the head model on synthetic cases (CT normalisation (HU - 100) / 100). */
export function headModelCard(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schema: 'slice2solid-model-card/1',
    name: 'test-ramp-head',
    version: '1.0.0',
    description: 'A fixed ramp-detector backbone with a 1x1x1 head; for tests only.',
    file: 'model.onnx',
    input: {
      name: 'image',
      channels: [{ name: 'CT', modality: 'CT', normalization: { type: 'ct', clip: [-400, 700], mean: 100, std: 100 } }],
      orientation: 'RAS',
      spacing: [1.5, 1.5, 1.5],
      patchSize: [16, 16, 16],
      interpolation: 'linear',
    },
    output: {
      name: 'logits',
      activation: 'softmax',
      channels: 3,
      labels: [
        { channel: 0, value: 0, name: 'background' },
        { channel: 1, value: 1, name: 'ellipsoid', color: [241, 214, 145] },
        { channel: 2, value: 2, name: 'tube', color: [216, 101, 79] },
      ],
    },
    inference: { overlap: 0.5, mirrorAxes: [], gaussianSigmaScale: 0.125 },
    license: { spdx: 'Apache-2.0' },
    training: { summary: 'Head fitted on synthetic cases in the tests.', datasets: [{ name: 'synthetic', cases: 0 }] },
    validation: { summary: 'None.', cases: 0, metrics: [] },
    intendedUse: 'Unit tests.',
    limitations: 'Synthetic data only.',
    ...overrides,
  };
}

/** Ramp thresholds used by the tests (normalised units). */
export const TEST_THRESHOLDS = [-3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4] as const;

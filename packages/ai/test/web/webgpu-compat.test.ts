import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isS2SError } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../../test-utils/shared-data.js';
import { onnxOperatorTypes, WEBGPU_UNFRIENDLY_OPS, webGpuUnfriendlyOps } from '../../src/web/webgpu-compat.js';
import { buildOnnxModel, conv3dModel } from '../helpers/onnx-builder.js';
import { unetOpsModel } from '../helpers/unet-ops-model.js';

function convTransposeModel(): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'x', dims: [1, 1, 2, 2, 2] }],
    outputs: [{ name: 'y', dims: [1, 1, 4, 4, 4] }],
    initializers: [{ name: 'w', dims: [1, 1, 2, 2, 2], data: new Float32Array(8).fill(1) }],
    nodes: [
      {
        op: 'ConvTranspose',
        inputs: ['x', 'w'],
        outputs: ['u'],
        attrs: { kernel_shape: [2, 2, 2], strides: [2, 2, 2] },
      },
      { op: 'Relu', inputs: ['u'], outputs: ['y'] },
    ],
  });
}

function* onnxFiles(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* onnxFiles(p);
    else if (name.endsWith('.onnx')) yield p;
  }
}

describe('ONNX operator scan (WebGPU compatibility)', () => {
  it('lists the operators of a model, and flags ConvTranspose', () => {
    expect(WEBGPU_UNFRIENDLY_OPS).toContain('ConvTranspose');
    const relu = conv3dModel({
      inChannels: 1,
      outChannels: 1,
      kernelSize: [3, 3, 3],
      weights: new Float32Array(27),
      relu: true,
    });
    expect(onnxOperatorTypes(relu)).toEqual(['Conv', 'Relu']);
    expect(webGpuUnfriendlyOps(relu)).toEqual([]);
    expect(onnxOperatorTypes(unetOpsModel())).toEqual([
      'Concat',
      'Conv',
      'Identity',
      'InstanceNormalization',
      'LeakyRelu',
      'MaxPool',
      'Resize',
    ]);
    expect(webGpuUnfriendlyOps(unetOpsModel())).toEqual([]);
    expect(onnxOperatorTypes(convTransposeModel())).toEqual(['ConvTranspose', 'Relu']);
    expect(webGpuUnfriendlyOps(convTransposeModel())).toEqual(['ConvTranspose']);
  });

  it('rejects files that are not ONNX models', () => {
    const full = unetOpsModel();
    for (const bad of [full.subarray(0, full.length - 100), new TextEncoder().encode('version https://git-lfs\n')]) {
      expect(() => onnxOperatorTypes(bad)).toThrow(
        expect.objectContaining({ code: 'MALFORMED_FILE' }) as unknown as Error,
      );
    }
    try {
      onnxOperatorTypes(new Uint8Array(0));
      expect.unreachable();
    } catch (e) {
      expect(isS2SError(e) && e.code === 'INVALID_ARGUMENT').toBe(true);
    }
  });

  it('no ONNX model shipped in models/ or the test fixtures uses an operator WebGPU cannot run well', () => {
    const files = [
      ...onnxFiles(join(REPO_ROOT, 'models')),
      ...onnxFiles(join(REPO_ROOT, 'packages', 'ai', 'test', 'fixtures')),
    ];
    const offenders: string[] = [];
    for (const f of files) {
      const ops = onnxOperatorTypes(new Uint8Array(readFileSync(f)));
      expect(ops.length, relative(REPO_ROOT, f)).toBeGreaterThan(0);
      const bad = ops.filter((op) => WEBGPU_UNFRIENDLY_OPS.includes(op));
      if (bad.length > 0) offenders.push(`${relative(REPO_ROOT, f)} uses ${bad.join(', ')} (use Resize + Conv)`);
    }
    expect(offenders).toEqual([]);
  });
});

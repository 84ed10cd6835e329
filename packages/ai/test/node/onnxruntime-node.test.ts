import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isS2SError } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { makeTensor } from '../../src/backend.js';
import { onnxRuntimeNodeBackend, onnxRuntimeNodeVersion } from '../../src/node/onnxruntime-node.js';
import { buildOnnxModel, conv3dModel, referenceConv3d, seededRandom } from '../helpers/onnx-builder.js';

const backend = onnxRuntimeNodeBackend({ intraOpNumThreads: 1 });

describe('onnxruntime-node backend', () => {
  it('loads the runtime on the CPU', async () => {
    expect(await onnxRuntimeNodeVersion()).toMatch(/^\d+\.\d+/);
  });

  it('runs a hand-encoded ONNX graph (Add + Mul) with named inputs', async () => {
    const model = buildOnnxModel({
      inputs: [
        { name: 'a', dims: [2, 3] },
        { name: 'b', dims: [2, 3] },
      ],
      outputs: [{ name: 'y', dims: [2, 3] }],
      initializers: [{ name: 'two', dims: [1], data: new Float32Array([2]) }],
      nodes: [
        { op: 'Add', inputs: ['a', 'b'], outputs: ['s'] },
        { op: 'Mul', inputs: ['s', 'two'], outputs: ['y'] },
      ],
    });
    const session = await backend.createSession(model);
    expect(session.inputNames).toEqual(['a', 'b']);
    expect(session.outputNames).toEqual(['y']);
    const a = makeTensor(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    const b = makeTensor(new Float32Array([10, 20, 30, 40, 50, 60]), [2, 3]);
    const { y } = await session.run({ a, b });
    expect(y!.dims).toEqual([2, 3]);
    expect(Array.from(y!.data)).toEqual([22, 44, 66, 88, 110, 132]);
    await session.dispose();
  });

  it('runs a 3D convolution exactly like a reference convolution (axis order k, j, i)', async () => {
    const rnd = seededRandom(7);
    // anisotropic kernel so that any transposition of axes would show
    const spec = {
      inChannels: 2,
      outChannels: 3,
      kernelSize: [3, 1, 5] as [number, number, number],
      weights: Float32Array.from({ length: 3 * 2 * 3 * 1 * 5 }, rnd),
      bias: new Float32Array([0.5, -1, 2]),
    };
    const size: [number, number, number] = [7, 5, 6];
    const n = size[0] * size[1] * size[2];
    const input = Float32Array.from({ length: 2 * n }, rnd);
    const session = await backend.createSession(conv3dModel(spec));
    const { logits } = await session.run({ input: makeTensor(input, [1, 2, size[2], size[1], size[0]]) });
    expect(logits!.dims).toEqual([1, 3, 6, 5, 7]);
    const ref = referenceConv3d(input, size, spec);
    let worst = 0;
    for (let p = 0; p < ref.length; p++) worst = Math.max(worst, Math.abs(ref[p]! - logits!.data[p]!));
    expect(worst).toBeLessThan(1e-5);
    await session.dispose();
  });

  it('reports bad model bytes, unknown inputs and wrong shapes as S2SError', async () => {
    await expect(backend.createSession(new Uint8Array([1, 2, 3, 4]))).rejects.toSatisfy(
      (e: unknown) => isS2SError(e) && e.code === 'MALFORMED_FILE',
    );
    await expect(backend.createSession(new Uint8Array(0))).rejects.toSatisfy(
      (e: unknown) => isS2SError(e) && e.code === 'INVALID_ARGUMENT',
    );
    const session = await backend.createSession(
      conv3dModel({ inChannels: 1, outChannels: 1, kernelSize: [1, 1, 1], weights: new Float32Array([1]) }),
    );
    await expect(session.run({ nope: makeTensor(new Float32Array(1), [1, 1, 1, 1, 1]) })).rejects.toThrow(
      /no input "nope".*input/,
    );
    await expect(session.run({ input: makeTensor(new Float32Array(8), [1, 2, 2, 2, 1]) })).rejects.toSatisfy(
      (e: unknown) => isS2SError(e) && /failed to run/.test(e.message),
    );
    expect(() => makeTensor(new Float32Array(3), [2, 2])).toThrow(/3 values but dims \[2, 2\] need 4/);
    await session.dispose();
    await expect(session.run({ input: makeTensor(new Float32Array(1), [1, 1, 1, 1, 1]) })).rejects.toThrow(/disposed/);
  });

  it('falls back to the next execution provider when one cannot start (CUDA without its libraries)', async () => {
    const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
    const haveCuda = existsSync(join(ortDir, 'bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so'));
    const model = conv3dModel({ inChannels: 1, outChannels: 1, kernelSize: [1, 1, 1], weights: new Float32Array([2]) });
    const s = await onnxRuntimeNodeBackend().createSession(model, { executionProviders: ['cuda', 'cpu'] });
    expect(s.executionProvider).toBe(haveCuda ? 'cuda' : 'cpu');
    const { logits } = await s.run({ input: makeTensor(new Float32Array([1.5]), [1, 1, 1, 1, 1]) });
    expect(Array.from(logits!.data)).toEqual([3]);
    await s.dispose();
    if (!haveCuda) {
      await expect(onnxRuntimeNodeBackend().createSession(model, { executionProviders: ['cuda'] })).rejects.toSatisfy(
        (e: unknown) =>
          isS2SError(e) && e.code === 'NOT_IMPLEMENTED' && /ONNXRUNTIME_NODE_INSTALL=cuda12/.test(e.message),
      );
    }
    await expect(onnxRuntimeNodeBackend().createSession(model, { executionProviders: [] })).rejects.toThrow(
      /no execution provider/,
    );
  });
});

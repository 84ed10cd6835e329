// onnxruntime-web runs here on its WebAssembly provider (its Node build has no WebGPU): the same
// models must give the same numbers as onnxruntime-node, and the WebGPU -> wasm fallback must
// say which provider runs.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isS2SError } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../../test-utils/shared-data.js';
import { type InferenceSessionLike, makeTensor } from '../../src/backend.js';
import { onnxRuntimeNodeBackend } from '../../src/node/onnxruntime-node.js';
import { ONNX_RUNTIME_WEB_DEFAULTS, onnxRuntimeWebBackend } from '../../src/web/onnxruntime-web.js';
import { buildOnnxModel, conv3dModel, referenceConv3d, seededRandom } from '../helpers/onnx-builder.js';
import { unetOpsModel } from '../helpers/unet-ops-model.js';

const ortWebDist = `${dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'))}/`;
const web = onnxRuntimeWebBackend({ wasmPaths: ortWebDist, numThreads: 1 });
const node = onnxRuntimeNodeBackend({ intraOpNumThreads: 1 });

function worstDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let p = 0; p < a.length; p++) worst = Math.max(worst, Math.abs(a[p]! - b[p]!));
  return worst;
}

/** Runs `model` on both runtimes with the same input; returns the web session and the worst difference. */
async function compare(
  model: Uint8Array,
  feeds: Record<string, { data: Float32Array; dims: number[] }>,
): Promise<{ worst: number; scale: number; webSession: InferenceSessionLike; outputs: string[] }> {
  const ws = await web.createSession(model);
  const ns = await node.createSession(model);
  expect(ws.inputNames).toEqual(ns.inputNames);
  expect(ws.outputNames).toEqual(ns.outputNames);
  const tensors = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, makeTensor(v.data, v.dims)]));
  const wo = await ws.run(tensors);
  const no = await ns.run(tensors);
  let worst = 0;
  let scale = 0;
  for (const name of ns.outputNames) {
    expect(wo[name]!.dims).toEqual(no[name]!.dims);
    worst = Math.max(worst, worstDiff(wo[name]!.data, no[name]!.data));
    for (const v of no[name]!.data) scale = Math.max(scale, Math.abs(v));
  }
  await ns.dispose();
  return { worst, scale, webSession: ws, outputs: [...ns.outputNames] };
}

describe('onnxruntime-web backend (WebAssembly provider, in Node)', () => {
  it('falls back from WebGPU to WebAssembly and says so', async () => {
    expect(ONNX_RUNTIME_WEB_DEFAULTS.executionProviders).toEqual(['webgpu', 'wasm']);
    const model = conv3dModel({ inChannels: 1, outChannels: 1, kernelSize: [1, 1, 1], weights: new Float32Array([2]) });
    const s = await web.createSession(model);
    expect(s.executionProvider).toBe('wasm');
    const { logits } = await s.run({ input: makeTensor(new Float32Array([1.5, -4]), [1, 1, 1, 1, 2]) });
    expect(Array.from(logits!.data)).toEqual([3, -8]);
    await s.dispose();
    await expect(s.run({ input: makeTensor(new Float32Array(1), [1, 1, 1, 1, 1]) })).rejects.toThrow(/disposed/);
    // WebGPU alone cannot start without navigator.gpu
    await expect(web.createSession(model, { executionProviders: ['webgpu'] })).rejects.toSatisfy(
      (e: unknown) => isS2SError(e) && e.code === 'NOT_IMPLEMENTED' && /webgpu.*navigator\.gpu/.test(e.message),
    );
    await expect(web.createSession(model, { executionProviders: [] })).rejects.toThrow(/no execution provider/);
  });

  it('gives the same outputs as onnxruntime-node on a hand-encoded graph and a 3D convolution', async () => {
    const addMul = buildOnnxModel({
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
    const r1 = await compare(addMul, {
      a: { data: new Float32Array([1, 2, 3, 4, 5, 6]), dims: [2, 3] },
      b: { data: new Float32Array([10, 20, 30, 40, 50, 60]), dims: [2, 3] },
    });
    expect(r1.worst).toBe(0);
    await r1.webSession.dispose();

    const rnd = seededRandom(11);
    const spec = {
      inChannels: 2,
      outChannels: 3,
      kernelSize: [3, 1, 5] as [number, number, number],
      weights: Float32Array.from({ length: 3 * 2 * 3 * 1 * 5 }, rnd),
      bias: new Float32Array([0.5, -1, 2]),
      relu: true,
    };
    const size: [number, number, number] = [9, 6, 7];
    const input = Float32Array.from({ length: 2 * size[0] * size[1] * size[2] }, rnd);
    const r2 = await compare(conv3dModel(spec), { input: { data: input, dims: [1, 2, size[2], size[1], size[0]] } });
    expect(r2.scale).toBeGreaterThan(0.5);
    expect(r2.worst).toBeLessThan(1e-5);
    // and both agree with the plain-JS convolution (axis order k, j, i)
    const { logits } = await r2.webSession.run({ input: makeTensor(input, [1, 2, size[2], size[1], size[0]]) });
    expect(worstDiff(logits!.data, referenceConv3d(input, size, spec))).toBeLessThan(1e-5);
    await r2.webSession.dispose();
  });

  it('gives the same logits and features as onnxruntime-node on a U-Net with the trainer ops', async () => {
    const model = unetOpsModel({ seed: 5, base: 4, classes: 3 });
    const rnd = seededRandom(3);
    const [d, h, w] = [8, 12, 16];
    for (const batch of [1, 2]) {
      const input = Float32Array.from({ length: batch * d * h * w }, () => rnd() * 2);
      const r = await compare(model, { image: { data: input, dims: [batch, 1, d, h, w] } });
      expect(r.outputs).toEqual(['logits', 'features']);
      expect(r.scale).toBeGreaterThan(0.5); // a real signal went through, not zeros
      expect(r.worst).toBeLessThan(1e-5);
      const out = await r.webSession.run({ image: makeTensor(input, [batch, 1, d, h, w]) }, ['logits']);
      expect(Object.keys(out)).toEqual(['logits']);
      expect(out.logits!.dims).toEqual([batch, 3, d, h, w]);
      await r.webSession.dispose();
    }
  });

  const fixture = join(REPO_ROOT, 'packages', 'ai', 'test', 'fixtures', 'synthetic-unet');
  it.skipIf(!existsSync(join(fixture, 'model.onnx')))(
    "matches onnxruntime-node on the trainer's exported fixture model",
    async () => {
      const model = new Uint8Array(readFileSync(join(fixture, 'model.onnx')));
      const check = join(fixture, 'export_check.json');
      let data: Float32Array;
      let dims: number[];
      if (existsSync(check)) {
        const c = JSON.parse(readFileSync(check, 'utf8')) as { input: string; dims: number[] };
        const buf = readFileSync(join(fixture, c.input));
        data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
        dims = c.dims;
      } else {
        const rnd = seededRandom(9);
        dims = [1, 1, 16, 16, 16];
        data = Float32Array.from({ length: 16 ** 3 }, rnd);
      }
      const r = await compare(model, { image: { data, dims } });
      expect(r.worst).toBeLessThan(1e-5 * Math.max(1, r.scale));
      await r.webSession.dispose();
    },
  );

  it('reports bad models, foreign wasm locations and unknown inputs as S2SError', async () => {
    await expect(web.createSession(new Uint8Array([1, 2, 3, 4]))).rejects.toSatisfy(
      (e: unknown) => isS2SError(e) && e.code === 'MALFORMED_FILE',
    );
    await expect(web.createSession(new Uint8Array(0))).rejects.toSatisfy(
      (e: unknown) => isS2SError(e) && e.code === 'INVALID_ARGUMENT',
    );
    expect(() => onnxRuntimeWebBackend({ wasmPaths: 'https://cdn.jsdelivr.net/npm/onnxruntime-web/dist/' })).toThrow(
      /not on this app's origin.*never downloads/,
    );
    expect(() => onnxRuntimeWebBackend({ wasmPaths: { wasm: 'http://example.org/ort.wasm' } })).toThrow(/origin/);
    expect(() => onnxRuntimeWebBackend({ wasmPaths: '/ort/' })).not.toThrow();
    expect(() => onnxRuntimeWebBackend({ numThreads: -1 })).toThrow(/numThreads/);
    expect(() => onnxRuntimeWebBackend({ ort: {} })).not.toThrow(); // checked when loading
    await expect(onnxRuntimeWebBackend({ ort: {} }).createSession(new Uint8Array([1]))).rejects.toThrow(
      /not an onnxruntime-web module/,
    );
    const s = await web.createSession(
      conv3dModel({ inChannels: 1, outChannels: 1, kernelSize: [1, 1, 1], weights: new Float32Array([1]) }),
    );
    await expect(s.run({ nope: makeTensor(new Float32Array(1), [1, 1, 1, 1, 1]) })).rejects.toThrow(
      /no input "nope".*input/,
    );
    await expect(s.run({ input: makeTensor(new Float32Array(1), [1, 1, 1, 1, 1]) }, ['nope'])).rejects.toThrow(
      /no output "nope"/,
    );
    await expect(s.run({ input: makeTensor(new Float32Array(8), [1, 2, 2, 2, 1]) })).rejects.toSatisfy(
      (e: unknown) => isS2SError(e) && /failed to run/.test(e.message),
    );
    await s.dispose();
  });
});

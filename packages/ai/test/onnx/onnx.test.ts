import { isS2SError } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { makeTensor } from '../../src/backend.js';
import { onnxRuntimeNodeBackend } from '../../src/node/onnxruntime-node.js';
import { readFloatInitializer, readOnnxModel } from '../../src/onnx/read-onnx.js';
import { replaceInitializers } from '../../src/onnx/replace-initializers.js';
import { headModel, referenceFeatures } from '../helpers/head-model.js';
import { seededRandom } from '../helpers/onnx-builder.js';

const thresholds = [-1, 0, 0.5, 2];
const W0 = Float32Array.from({ length: 3 * 4 }, (_, q) => (q % 5) - 2);
const B0 = new Float32Array([0.5, -0.25, 1]);
const model = headModel({ thresholds, classes: 3, headWeight: W0, headBias: B0 });

/** A tiny protobuf encoder for hand-made malformed or unusual models. */
function enc(field: number, wire: number, payload: number | Uint8Array): number[] {
  const varint = (v: number): number[] => {
    const out: number[] = [];
    do {
      let b = v & 0x7f;
      v = Math.floor(v / 128);
      if (v) b |= 0x80;
      out.push(b);
    } while (v);
    return out;
  };
  const key = varint(field * 8 + wire);
  if (typeof payload === 'number') return [...key, ...varint(payload)];
  return [...key, ...varint(payload.length), ...payload];
}
const str = (s: string) => new TextEncoder().encode(s);
function modelWithTensor(tensor: number[]): Uint8Array {
  const graph = enc(5, 2, Uint8Array.from(tensor));
  return Uint8Array.from([...enc(1, 0, 8), ...enc(7, 2, Uint8Array.from(graph))]);
}

function expectS2S(f: () => unknown, code: string, message: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(isS2SError(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    expect((e as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected an S2SError');
}

describe('readOnnxModel', () => {
  it('lists inputs, outputs, initializers (with raw_data ranges) and op types', () => {
    const info = readOnnxModel(model);
    expect(info.irVersion).toBe(8);
    expect(info.opsets).toEqual([{ domain: '', version: 17 }]);
    expect(info.inputs.map((i) => [i.name, i.dims])).toEqual([['image', ['N', 1, 'D', 'H', 'W']]]);
    expect(info.outputs.map((i) => [i.name, i.elemType, i.dims])).toEqual([
      ['logits', 1, ['N', 3, 'D', 'H', 'W']],
      ['features', 1, ['N', 4, 'D', 'H', 'W']],
    ]);
    expect(info.opTypes).toEqual(['Conv', 'Relu']);
    expect(info.nodes.map((n) => n.outputs[0])).toEqual(['smooth', 'ramp', 'features', 'logits']);
    const byName = Object.fromEntries(info.initializers.map((t) => [t.name, t]));
    expect(Object.keys(byName)).toEqual(['smooth.weight', 'ramp.weight', 'ramp.bias', 'head.weight', 'head.bias']);
    expect(byName['head.weight']!.dims).toEqual([3, 4, 1, 1, 1]);
    expect(byName['head.weight']!.dataTypeName).toBe('float32');
    expect(byName['head.weight']!.storage).toBe('raw_data');
    expect(byName['head.weight']!.rawData!.length).toBe(48);
    // the recorded range really holds the little-endian floats
    const r = byName['head.bias']!.rawData!;
    expect(Array.from(new Float32Array(model.slice(r.offset, r.offset + r.length).buffer))).toEqual(Array.from(B0));
  });

  it('reads float32 initializers exactly', () => {
    expect(Array.from(readFloatInitializer(model, 'head.weight'))).toEqual(Array.from(W0));
    expect(Array.from(readFloatInitializer(model, 'ramp.bias'))).toEqual(thresholds.map((t) => -t));
  });

  it('reads float_data tensors and refuses to patch them', () => {
    const floats = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    const m = modelWithTensor([...enc(1, 0, 2), ...enc(2, 0, 1), ...enc(4, 2, floats), ...enc(8, 2, str('w'))]);
    const t = readOnnxModel(m).initializers[0]!;
    expect(t.storage).toBe('typed_data');
    expect(Array.from(readFloatInitializer(m, 'w'))).toEqual([1.5, -2]);
    expectS2S(() => replaceInitializers(m, { w: new Float32Array(2) }), 'INVALID_ARGUMENT', /not raw_data/);
  });

  it('rejects non-float32 initializers, missing names and truncated files with clear errors', () => {
    const i64 = modelWithTensor([
      ...enc(1, 0, 2),
      ...enc(2, 0, 7),
      ...enc(8, 2, str('shape')),
      ...enc(9, 2, new Uint8Array(16)),
    ]);
    expect(readOnnxModel(i64).initializers[0]!.dataTypeName).toBe('int64');
    expectS2S(() => replaceInitializers(i64, { shape: new Float32Array(2) }), 'INVALID_ARGUMENT', /int64, not float32/);
    expectS2S(
      () => replaceInitializers(model, { 'head.weights': W0 }),
      'INVALID_ARGUMENT',
      /no initializer named "head.weights"/,
    );
    expectS2S(
      () => readOnnxModel(model.subarray(0, model.length - 7)),
      'MALFORMED_FILE',
      /not valid protobuf|no graph/,
    );
    expectS2S(() => readOnnxModel(new Uint8Array(0)), 'INVALID_ARGUMENT', /empty/);
  });
});

describe('replaceInitializers', () => {
  it('changes only the replaced raw bytes and refuses a size change', () => {
    const W1 = Float32Array.from(W0, (w) => w * -3 + 0.125);
    const out = replaceInitializers(model, { 'head.weight': W1 });
    expect(out.length).toBe(model.length);
    const r = readOnnxModel(model).initializers.find((t) => t.name === 'head.weight')!.rawData!;
    for (let q = 0; q < model.length; q++) {
      if (q < r.offset || q >= r.offset + r.length) {
        if (out[q] !== model[q]) throw new Error(`byte ${q} outside head.weight changed`);
      }
    }
    expect(Array.from(readFloatInitializer(out, 'head.weight'))).toEqual(Array.from(W1));
    expect(Array.from(readFloatInitializer(model, 'head.weight'))).toEqual(Array.from(W0)); // input untouched
    expectS2S(() => replaceInitializers(model, { 'head.bias': new Float32Array(4) }), 'INVALID_ARGUMENT', /3 values/);
    expectS2S(
      () => replaceInitializers(model, { 'head.bias': new Float32Array([1, Number.NaN, 0]) }),
      'INVALID_ARGUMENT',
      /not finite/,
    );
  });

  it('round trip: onnxruntime-node runs the patched model with the new head', async () => {
    const rnd = seededRandom(3);
    const size = [6, 5, 4] as const;
    const n = size[0] * size[1] * size[2];
    const x = Float32Array.from({ length: n }, () => rnd() * 3);
    const W1 = Float32Array.from({ length: 12 }, () => rnd());
    const B1 = Float32Array.from({ length: 3 }, () => rnd());
    const patched = replaceInitializers(model, { 'head.weight': W1, 'head.bias': B1 });
    const backend = onnxRuntimeNodeBackend({ intraOpNumThreads: 1 });
    const run = async (m: Uint8Array) => {
      const s = await backend.createSession(m);
      const out = await s.run({ image: makeTensor(x, [1, 1, size[2], size[1], size[0]]) });
      await s.dispose();
      return out;
    };
    const a = await run(model);
    const b = await run(patched);
    const feats = referenceFeatures(x, size, thresholds);
    // the backbone is unchanged, the logits follow the new head
    let worstF = 0;
    for (let q = 0; q < feats.length; q++) worstF = Math.max(worstF, Math.abs(b.features!.data[q]! - feats[q]!));
    expect(worstF).toBeLessThan(1e-5);
    expect(Array.from(b.features!.data)).toEqual(Array.from(a.features!.data));
    let worst = 0;
    let changed = 0;
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < n; p++) {
        let z = B1[c]!;
        for (let f = 0; f < 4; f++) z += W1[c * 4 + f]! * feats[f * n + p]!;
        worst = Math.max(worst, Math.abs(b.logits!.data[c * n + p]! - z));
        changed = Math.max(changed, Math.abs(a.logits!.data[c * n + p]! - z));
      }
    expect(worst).toBeLessThan(1e-4);
    expect(changed).toBeGreaterThan(0.1);
  });
});

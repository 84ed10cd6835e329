/**
 * Rewrites the values of float32 initializers of an ONNX model in place: the new model is a
 * byte-for-byte copy of the old one except inside the replaced tensors' raw_data, so the graph,
 * metadata and every other weight are untouched and no protobuf re-encoding is needed (the
 * lengths do not change). Used to ship a fine-tuned head inside the original model.
 */
import { S2SError } from '@slice2solid/core';
import { elementCount, findInitializer, type OnnxModelInfo, readOnnxModel } from './read-onnx.js';

/** Returns new model bytes with each named initializer's raw_data replaced by `values[name]`. */
export function replaceInitializers(
  model: Uint8Array,
  values: Readonly<Record<string, Float32Array>>,
  info: OnnxModelInfo = readOnnxModel(model),
): Uint8Array {
  const out = model.slice();
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const [name, data] of Object.entries(values)) {
    const t = findInitializer(info, name);
    if (t.dataType !== 1) {
      throw new S2SError('INVALID_ARGUMENT', `initializer "${name}" is ${t.dataTypeName}, not float32`, {
        hint: 'only float32 weights can be replaced',
      });
    }
    if (!t.rawData) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `initializer "${name}" is stored as ${t.storage}, not raw_data, so it cannot be replaced in place`,
        { hint: 'export the model with its weights as raw_data inside the .onnx file (PyTorch does by default)' },
      );
    }
    const n = elementCount(t.dims);
    if (!(data instanceof Float32Array) || data.length !== n || t.rawData.length !== n * 4) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `initializer "${name}" has shape [${t.dims.join(', ')}] (${n} values) but ${data instanceof Float32Array ? data.length : 'a non-float32 array of'} values were given`,
        { hint: 'give a Float32Array of exactly the same size (the graph cannot change shape)' },
      );
    }
    for (let q = 0; q < n; q++) {
      const v = data[q]!;
      if (!Number.isFinite(v)) {
        throw new S2SError('INVALID_ARGUMENT', `the new value ${q} of "${name}" is not finite (${v})`, {
          hint: 'the fine-tuning diverged; lower the learning rate',
        });
      }
      view.setFloat32(t.rawData.offset + q * 4, v, true);
    }
  }
  return out;
}

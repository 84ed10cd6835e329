/**
 * Lists what an ONNX model holds without an ONNX runtime: the main graph's inputs and outputs
 * (with their shapes), its initializers (name, dims, data type and where their raw bytes lie in
 * the file) and its nodes' op types; and reads float32 initializers as arrays. Field numbers
 * are those of onnx/onnx.proto (ModelProto, GraphProto, NodeProto, TensorProto,
 * ValueInfoProto). Only the top-level graph is listed (not subgraphs of If/Loop nodes).
 */
import { S2SError } from '@slice2solid/core';
import { fieldInts, fieldString, type ProtoField, readFields, WIRE } from './protobuf.js';

/** ONNX TensorProto.DataType names by number. */
export const ONNX_DATA_TYPES: Readonly<Record<number, string>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};

/** Where an initializer's values are stored in the file. */
export type InitializerStorage = 'raw_data' | 'typed_data' | 'external' | 'empty';

export interface OnnxInitializerInfo {
  readonly name: string;
  readonly dims: readonly number[];
  /** TensorProto.DataType number (1 = float32). */
  readonly dataType: number;
  /** Its name ('float32', 'int64'...). */
  readonly dataTypeName: string;
  readonly storage: InitializerStorage;
  /** Byte range of raw_data in the model file (storage 'raw_data'). */
  readonly rawData?: { readonly offset: number; readonly length: number };
  /** Byte range of the packed float_data field (float32 stored as typed_data). */
  readonly floatData?: { readonly offset: number; readonly length: number };
}

export interface OnnxValueInfo {
  readonly name: string;
  /** TensorProto.DataType of the tensor (0 when not given). */
  readonly elemType: number;
  /** Each dimension: a size, a symbolic name, or null when unknown. */
  readonly dims: readonly (number | string | null)[] | null;
}

export interface OnnxNodeInfo {
  readonly opType: string;
  readonly domain: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export interface OnnxModelInfo {
  readonly irVersion: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly opsets: readonly { readonly domain: string; readonly version: number }[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly initializers: readonly OnnxInitializerInfo[];
  readonly nodes: readonly OnnxNodeInfo[];
  /** Distinct op types, in order of first use (domain-qualified when not the default domain). */
  readonly opTypes: readonly string[];
}

/** Reads the structure of an ONNX model (no weights are copied). */
export function readOnnxModel(model: Uint8Array): OnnxModelInfo {
  if (!(model instanceof Uint8Array) || model.length === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'the ONNX model is empty', { hint: 'pass the bytes of a .onnx file' });
  }
  let irVersion = 0;
  let producerName = '';
  let producerVersion = '';
  const opsets: { domain: string; version: number }[] = [];
  let graph: ProtoField | undefined;
  for (const f of readFields(model)) {
    if (f.field === 1 && f.wire === WIRE.varint) irVersion = Number(f.value);
    else if (f.field === 2 && f.wire === WIRE.bytes) producerName = fieldString(model, f);
    else if (f.field === 3 && f.wire === WIRE.bytes) producerVersion = fieldString(model, f);
    else if (f.field === 7 && f.wire === WIRE.bytes) graph = f;
    else if (f.field === 8 && f.wire === WIRE.bytes) {
      let domain = '';
      let version = 0;
      for (const g of readFields(model, f.start, f.end)) {
        if (g.field === 1 && g.wire === WIRE.bytes) domain = fieldString(model, g);
        else if (g.field === 2 && g.wire === WIRE.varint) version = Number(g.value);
      }
      opsets.push({ domain, version });
    }
  }
  if (!graph) {
    throw new S2SError('MALFORMED_FILE', 'the ONNX model has no graph', {
      hint: 'check that the file is an ONNX model (ModelProto), not some other protobuf',
    });
  }
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  const initializers: OnnxInitializerInfo[] = [];
  const nodes: OnnxNodeInfo[] = [];
  for (const f of readFields(model, graph.start, graph.end)) {
    if (f.wire !== WIRE.bytes) continue;
    if (f.field === 1) nodes.push(readNode(model, f));
    else if (f.field === 5) initializers.push(readTensorInfo(model, f));
    else if (f.field === 11) inputs.push(readValueInfo(model, f));
    else if (f.field === 12) outputs.push(readValueInfo(model, f));
  }
  // graph inputs that are initializers (older exporters list them) are not real inputs
  const initNames = new Set(initializers.map((t) => t.name));
  const opTypes: string[] = [];
  for (const n of nodes) {
    const t = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    if (!opTypes.includes(t)) opTypes.push(t);
  }
  return {
    irVersion,
    producerName,
    producerVersion,
    opsets,
    inputs: inputs.filter((i) => !initNames.has(i.name)),
    outputs,
    initializers,
    nodes,
    opTypes,
  };
}

function readNode(buf: Uint8Array, m: ProtoField): OnnxNodeInfo {
  const inputs: string[] = [];
  const outputs: string[] = [];
  let name = '';
  let opType = '';
  let domain = '';
  for (const f of readFields(buf, m.start, m.end)) {
    if (f.wire !== WIRE.bytes) continue;
    if (f.field === 1) inputs.push(fieldString(buf, f));
    else if (f.field === 2) outputs.push(fieldString(buf, f));
    else if (f.field === 3) name = fieldString(buf, f);
    else if (f.field === 4) opType = fieldString(buf, f);
    else if (f.field === 7) domain = fieldString(buf, f);
  }
  return { opType, domain, name, inputs, outputs };
}

function readTensorInfo(buf: Uint8Array, m: ProtoField): OnnxInitializerInfo {
  const dims: number[] = [];
  let dataType = 0;
  let name = '';
  let raw: ProtoField | undefined;
  let floatData: ProtoField | undefined;
  let typed = false;
  let external = false;
  for (const f of readFields(buf, m.start, m.end)) {
    switch (f.field) {
      case 1:
        dims.push(...fieldInts(buf, f));
        break;
      case 2:
        if (f.wire === WIRE.varint) dataType = Number(f.value);
        break;
      case 8:
        if (f.wire === WIRE.bytes) name = fieldString(buf, f);
        break;
      case 9:
        if (f.wire === WIRE.bytes) raw = f;
        break;
      case 4:
        typed = true;
        if (f.wire === WIRE.bytes) floatData = f;
        break;
      case 5:
      case 6:
      case 7:
      case 10:
      case 11:
        typed = true;
        break;
      case 13:
        external = true;
        break;
      case 14:
        if (f.wire === WIRE.varint && f.value === 1n) external = true;
        break;
    }
  }
  const storage: InitializerStorage = external ? 'external' : raw ? 'raw_data' : typed ? 'typed_data' : 'empty';
  return {
    name,
    dims,
    dataType,
    dataTypeName: ONNX_DATA_TYPES[dataType] ?? `type ${dataType}`,
    storage,
    ...(raw && !external ? { rawData: { offset: raw.start, length: raw.end - raw.start } } : {}),
    ...(floatData && !raw && !external
      ? { floatData: { offset: floatData.start, length: floatData.end - floatData.start } }
      : {}),
  };
}

function readValueInfo(buf: Uint8Array, m: ProtoField): OnnxValueInfo {
  let name = '';
  let elemType = 0;
  let dims: (number | string | null)[] | null = null;
  for (const f of readFields(buf, m.start, m.end)) {
    if (f.field === 1 && f.wire === WIRE.bytes) name = fieldString(buf, f);
    if (f.field !== 2 || f.wire !== WIRE.bytes) continue;
    // TypeProto.tensor_type (1) -> elem_type (1), shape (2) -> dim (1) -> dim_value (1) | dim_param (2)
    for (const t of readFields(buf, f.start, f.end)) {
      if (t.field !== 1 || t.wire !== WIRE.bytes) continue;
      for (const tt of readFields(buf, t.start, t.end)) {
        if (tt.field === 1 && tt.wire === WIRE.varint) elemType = Number(tt.value);
        if (tt.field === 2 && tt.wire === WIRE.bytes) {
          dims = [];
          for (const d of readFields(buf, tt.start, tt.end)) {
            if (d.field !== 1 || d.wire !== WIRE.bytes) continue;
            let dim: number | string | null = null;
            for (const dv of readFields(buf, d.start, d.end)) {
              if (dv.field === 1 && dv.wire === WIRE.varint) dim = Number(BigInt.asIntN(64, dv.value!));
              else if (dv.field === 2 && dv.wire === WIRE.bytes) dim = fieldString(buf, dv);
            }
            dims.push(dim);
          }
        }
      }
    }
  }
  return { name, elemType, dims };
}

/** The initializer called `name`, or an S2SError listing the ones the model has. */
export function findInitializer(info: OnnxModelInfo, name: string): OnnxInitializerInfo {
  const t = info.initializers.find((x) => x.name === name);
  if (!t) {
    const names = info.initializers.map((x) => x.name);
    const shown = names.length > 20 ? `${names.slice(0, 20).join(', ')}... (${names.length} in all)` : names.join(', ');
    throw new S2SError('INVALID_ARGUMENT', `the ONNX model has no initializer named "${name}"`, {
      hint: names.length
        ? `its initializers are: ${shown}`
        : 'the model has no initializers (weights may be stored as Constant nodes; re-export it)',
    });
  }
  return t;
}

/** Number of elements of a tensor with these dims (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** A copy of a float32 initializer's values (raw_data or float_data, little-endian). */
export function readFloatInitializer(model: Uint8Array, name: string, info = readOnnxModel(model)): Float32Array {
  const t = findInitializer(info, name);
  if (t.dataType !== 1) {
    throw new S2SError('INVALID_ARGUMENT', `initializer "${name}" is ${t.dataTypeName}, not float32`, {
      hint: 'only float32 weights can be read and fine-tuned',
    });
  }
  const n = elementCount(t.dims);
  const range = t.rawData ?? t.floatData;
  if (!range) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `initializer "${name}" is stored as ${t.storage}, which cannot be read here`,
      {
        hint: 'export the model with its weights inside the .onnx file (no external data)',
      },
    );
  }
  if (range.length !== n * 4) {
    throw new S2SError(
      'MALFORMED_FILE',
      `initializer "${name}" [${t.dims.join(', ')}] needs ${n * 4} bytes but holds ${range.length}`,
      { hint: 'the model file is damaged; export it again' },
    );
  }
  const view = new DataView(model.buffer, model.byteOffset + range.offset, range.length);
  const out = new Float32Array(n);
  for (let q = 0; q < n; q++) out[q] = view.getFloat32(q * 4, true);
  return out;
}

// A minimal ONNX (protobuf) reader for tests: the graph's nodes (op types) and initializers
// (name, dims, data type, whether stored as raw_data, float32 values). Field numbers from
// onnx/onnx.proto: ModelProto.graph = 7, opset_import = 8 (OperatorSetIdProto.version = 2);
// GraphProto.node = 1, initializer = 5; NodeProto.op_type = 4; TensorProto.dims = 1,
// data_type = 2, float_data = 4, name = 8, raw_data = 9.

interface Field {
  no: number;
  wire: number;
  int?: bigint;
  bytes?: Uint8Array;
}

function* fields(buf: Uint8Array): Generator<Field> {
  let p = 0;
  const varint = (): bigint => {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      const b = buf[p++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (p < buf.length) {
    const key = Number(varint());
    const no = key >> 3;
    const wire = key & 7;
    if (wire === 0) yield { no, wire, int: varint() };
    else if (wire === 1) {
      p += 8;
      yield { no, wire };
    } else if (wire === 2) {
      const len = Number(varint());
      yield { no, wire, bytes: buf.subarray(p, p + len) };
      p += len;
    } else if (wire === 5) {
      yield { no, wire, bytes: buf.subarray(p, p + 4) };
      p += 4;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

function packedVarints(b: Uint8Array): number[] {
  const out: number[] = [];
  let p = 0;
  while (p < b.length) {
    let shift = 0;
    let v = 0;
    for (;;) {
      const x = b[p++]!;
      v += (x & 0x7f) * 2 ** shift;
      if (!(x & 0x80)) break;
      shift += 7;
    }
    out.push(v);
  }
  return out;
}

export interface OnnxInitializer {
  name: string;
  dims: number[];
  dataType: number;
  raw: boolean;
  values: Float32Array;
}

export interface OnnxSummary {
  opset: number[];
  ops: string[];
  initializers: Map<string, OnnxInitializer>;
}

export function readOnnx(model: Uint8Array): OnnxSummary {
  const dec = new TextDecoder();
  const ops: string[] = [];
  const opset: number[] = [];
  const initializers = new Map<string, OnnxInitializer>();
  for (const f of fields(model)) {
    if (f.no === 8 && f.bytes) {
      for (const g of fields(f.bytes)) if (g.no === 2 && g.int !== undefined) opset.push(Number(g.int));
    }
    if (f.no !== 7 || !f.bytes) continue;
    for (const g of fields(f.bytes)) {
      if (g.no === 1 && g.bytes) {
        for (const h of fields(g.bytes)) if (h.no === 4 && h.bytes) ops.push(dec.decode(h.bytes));
      } else if (g.no === 5 && g.bytes) {
        const t: OnnxInitializer = { name: '', dims: [], dataType: 0, raw: false, values: new Float32Array(0) };
        const floats: number[] = [];
        for (const h of fields(g.bytes)) {
          if (h.no === 1 && h.int !== undefined) t.dims.push(Number(h.int));
          else if (h.no === 1 && h.bytes) t.dims.push(...packedVarints(h.bytes));
          else if (h.no === 2 && h.int !== undefined) t.dataType = Number(h.int);
          else if (h.no === 8 && h.bytes) t.name = dec.decode(h.bytes);
          else if (h.no === 9 && h.bytes) {
            t.raw = true;
            const copy = h.bytes.slice();
            t.values = new Float32Array(copy.buffer, 0, copy.length >> 2);
          } else if (h.no === 4 && h.bytes && h.wire === 2) {
            const copy = h.bytes.slice();
            floats.push(...new Float32Array(copy.buffer, 0, copy.length >> 2));
          } else if (h.no === 4 && h.bytes && h.wire === 5) {
            floats.push(new Float32Array(h.bytes.slice().buffer)[0]!);
          }
        }
        if (!t.raw && floats.length) t.values = Float32Array.from(floats);
        initializers.set(t.name, t);
      }
    }
  }
  return { opset, ops, initializers };
}

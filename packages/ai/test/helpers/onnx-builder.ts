// A minimal ONNX (protobuf) writer for test models: ModelProto, GraphProto, NodeProto,
// TensorProto, ValueInfoProto and AttributeProto, with the field numbers of onnx/onnx.proto.
// Only what tiny test graphs need: float32 tensors, int/ints/float/string attributes.

class Writer {
  private readonly parts: number[] = [];
  varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      this.parts.push(b);
    } while (x !== 0n);
  }
  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }
  int(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }
  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    for (const x of b) this.parts.push(x);
  }
  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }
  message(field: number, m: Writer): void {
    this.bytes(field, m.finish());
  }
  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(new Float32Array([v]).buffer);
    for (const x of b) this.parts.push(x);
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const FLOAT = 1;

export type AttrValue = number | readonly number[] | string | { float: number };

export interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs?: Readonly<Record<string, AttrValue>>;
}

export interface TensorSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

export interface ValueSpec {
  readonly name: string;
  /** number: fixed size; string: a symbolic dimension. */
  readonly dims: readonly (number | string)[];
}

export interface GraphSpec {
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly initializers?: readonly TensorSpec[];
  readonly nodes: readonly NodeSpec[];
  readonly opset?: number;
}

function tensorProto(t: TensorSpec): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d); // dims
  w.int(2, FLOAT); // data_type
  w.string(8, t.name); // name
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)); // raw_data (little endian)
  return w;
}

function valueInfo(v: ValueSpec): Writer {
  const shape = new Writer();
  for (const d of v.dims) {
    const dim = new Writer();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new Writer();
  tensorType.int(1, FLOAT); // elem_type
  tensorType.message(2, shape); // shape
  const type = new Writer();
  type.message(1, tensorType); // tensor_type
  const w = new Writer();
  w.string(1, v.name);
  w.message(2, type);
  return w;
}

function attribute(name: string, v: AttrValue): Writer {
  const w = new Writer();
  w.string(1, name);
  if (typeof v === 'number') {
    w.int(3, v); // i
    w.int(20, 2); // INT
  } else if (typeof v === 'string') {
    w.bytes(4, new TextEncoder().encode(v)); // s
    w.int(20, 3); // STRING
  } else if ('float' in v) {
    w.float(2, v.float); // f
    w.int(20, 1); // FLOAT
  } else {
    for (const x of v) w.int(8, x); // ints (unpacked is valid proto2/3 wire form)
    w.int(20, 7); // INTS
  }
  return w;
}

/** Serialises a one-graph ONNX model (IR version 8, default-domain opset 17 unless given). */
export function buildOnnxModel(g: GraphSpec): Uint8Array {
  const graph = new Writer();
  g.nodes.forEach((n, idx) => {
    const node = new Writer();
    for (const i of n.inputs) node.string(1, i);
    for (const o of n.outputs) node.string(2, o);
    node.string(3, `${n.op}_${idx}`);
    node.string(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) node.message(5, attribute(k, v));
    graph.message(1, node);
  });
  graph.string(2, 'test-graph');
  for (const t of g.initializers ?? []) graph.message(5, tensorProto(t));
  for (const v of g.inputs) graph.message(11, valueInfo(v));
  for (const v of g.outputs) graph.message(12, valueInfo(v));
  const opset = new Writer();
  opset.string(1, '');
  opset.int(2, g.opset ?? 17);
  const model = new Writer();
  model.int(1, 8); // ir_version
  model.string(2, 'slice2solid-tests'); // producer_name
  model.message(7, graph);
  model.message(8, opset);
  return model.finish();
}

export interface Conv3dSpec {
  readonly inChannels: number;
  readonly outChannels: number;
  /** Kernel extent along (k, j, i) = ONNX (D, H, W); odd sizes. */
  readonly kernelSize: readonly [number, number, number];
  /** Weights in ONNX order [out, in, kd, kh, kw]. */
  readonly weights: Float32Array;
  readonly bias?: Float32Array;
  /** Append a Relu after the convolution (still translation invariant). */
  readonly relu?: boolean;
}

/**
 * A 3D convolution with "same" zero padding: input "input" [N, C, D, H, W] (symbolic sizes),
 * output "logits" [N, outChannels, D, H, W]. Translation invariant away from the borders.
 */
export function conv3dModel(s: Conv3dSpec): Uint8Array {
  const [kd, kh, kw] = s.kernelSize;
  const pads = [(kd - 1) / 2, (kh - 1) / 2, (kw - 1) / 2];
  const inputs = ['input', 'W'];
  const initializers: TensorSpec[] = [{ name: 'W', dims: [s.outChannels, s.inChannels, kd, kh, kw], data: s.weights }];
  if (s.bias) {
    inputs.push('B');
    initializers.push({ name: 'B', dims: [s.outChannels], data: s.bias });
  }
  const nodes: NodeSpec[] = [
    {
      op: 'Conv',
      inputs,
      outputs: [s.relu ? 'conv' : 'logits'],
      attrs: { kernel_shape: [kd, kh, kw], pads: [...pads, ...pads], strides: [1, 1, 1] },
    },
  ];
  if (s.relu) nodes.push({ op: 'Relu', inputs: ['conv'], outputs: ['logits'] });
  return buildOnnxModel({
    inputs: [{ name: 'input', dims: ['N', s.inChannels, 'D', 'H', 'W'] }],
    outputs: [{ name: 'logits', dims: ['N', s.outChannels, 'D', 'H', 'W'] }],
    initializers,
    nodes,
  });
}

/** Deterministic pseudo-random numbers in [-1, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/**
 * Reference 3D convolution in plain JS (zero padding, "same" output), on a [C, nz, ny, nx]
 * array: the ground truth the ONNX runs are checked against.
 */
export function referenceConv3d(
  input: Float32Array,
  size: readonly [number, number, number],
  s: Conv3dSpec,
): Float32Array {
  const [nx, ny, nz] = size;
  const [kd, kh, kw] = s.kernelSize;
  const n = nx * ny * nz;
  const out = new Float32Array(n * s.outChannels);
  for (let o = 0; o < s.outChannels; o++) {
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          let acc = s.bias ? s.bias[o]! : 0;
          for (let c = 0; c < s.inChannels; c++)
            for (let dk = 0; dk < kd; dk++) {
              const kk = k + dk - (kd - 1) / 2;
              if (kk < 0 || kk >= nz) continue;
              for (let dj = 0; dj < kh; dj++) {
                const jj = j + dj - (kh - 1) / 2;
                if (jj < 0 || jj >= ny) continue;
                for (let di = 0; di < kw; di++) {
                  const ii = i + di - (kw - 1) / 2;
                  if (ii < 0 || ii >= nx) continue;
                  const w = s.weights[(((o * s.inChannels + c) * kd + dk) * kh + dj) * kw + di]!;
                  acc += w * input[c * n + (kk * ny + jj) * nx + ii]!;
                }
              }
            }
          out[o * n + (k * ny + j) * nx + i] = s.relu ? Math.max(0, acc) : acc;
        }
  }
  return out;
}

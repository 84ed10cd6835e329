/**
 * Which operators an ONNX model uses, and which of them onnxruntime-web's WebGPU provider cannot
 * run well. A minimal protobuf walk over ModelProto -> GraphProto -> NodeProto (and subgraphs in
 * attributes, and model-local functions); tensor data is skipped by length, so a model of many
 * megabytes is read in milliseconds.
 */
import { S2SError } from '@slice2solid/core';

/**
 * Operators that make a model slow or unusable on WebGPU: 3D ConvTranspose has no WebGPU kernel
 * in onnxruntime-web and falls back to the CPU with a GPU<->CPU copy per call. slice2solid's
 * trainer upsamples with Resize + Conv instead.
 */
export const WEBGPU_UNFRIENDLY_OPS: readonly string[] = ['ConvTranspose'];

class Reader {
  pos = 0;
  constructor(
    readonly b: Uint8Array,
    readonly end = b.length,
  ) {}
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw truncated();
      const byte = this.b[this.pos++]!;
      result += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) return result;
      mul *= 128;
    }
    throw truncated();
  }
  /** Calls `f(field, sub)` for each length-delimited field; skips the other wire types. */
  each(f: (field: number, sub: Reader) => void): void {
    while (this.pos < this.end) {
      const key = this.varint();
      const field = Math.floor(key / 8);
      const wire = key & 7;
      if (wire === 0) this.varint();
      else if (wire === 1) this.pos += 8;
      else if (wire === 5) this.pos += 4;
      else if (wire === 2) {
        const len = this.varint();
        const stop = this.pos + len;
        if (stop > this.end) throw truncated();
        f(field, new Reader(this.b, stop).at(this.pos));
        this.pos = stop;
      } else throw new S2SError('MALFORMED_FILE', `not an ONNX model (protobuf wire type ${wire})`);
      if (this.pos > this.end) throw truncated();
    }
  }
  at(p: number): this {
    this.pos = p;
    return this;
  }
  string(): string {
    return new TextDecoder().decode(this.b.subarray(this.pos, this.end));
  }
}

function truncated(): S2SError {
  return new S2SError('MALFORMED_FILE', 'the ONNX model is truncated or not an ONNX file', {
    hint: 'check that the whole .onnx file was copied',
  });
}

function graphOps(g: Reader, ops: Set<string>): void {
  g.each((field, sub) => {
    if (field === 1) nodeOps(sub, ops); // GraphProto.node
  });
}

function nodeOps(n: Reader, ops: Set<string>): void {
  n.each((field, sub) => {
    if (field === 4)
      ops.add(sub.string()); // NodeProto.op_type
    else if (field === 5) {
      // AttributeProto: g = 6, graphs = 11 (If/Loop/Scan bodies)
      sub.each((af, asub) => {
        if (af === 6 || af === 11) graphOps(asub, ops);
      });
    }
  });
}

/** The operator types (op_type) an ONNX model uses, sorted. */
export function onnxOperatorTypes(model: Uint8Array): string[] {
  if (!(model instanceof Uint8Array) || model.length === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'the ONNX model is empty', { hint: 'pass the bytes of a .onnx file' });
  }
  const ops = new Set<string>();
  let sawGraph = false;
  new Reader(model).each((field, sub) => {
    if (field === 7) {
      sawGraph = true;
      graphOps(sub, ops); // ModelProto.graph
    } else if (field === 25) {
      // FunctionProto.node = 7
      sub.each((ff, fsub) => {
        if (ff === 7) nodeOps(fsub, ops);
      });
    }
  });
  if (!sawGraph) {
    throw new S2SError('MALFORMED_FILE', 'not an ONNX model (no graph found)', {
      hint: 'pass the bytes of a .onnx file',
    });
  }
  return [...ops].sort();
}

/** The operators of `model` that WebGPU cannot run well (empty: fine for WebGPU). */
export function webGpuUnfriendlyOps(model: Uint8Array): string[] {
  return onnxOperatorTypes(model).filter((op) => WEBGPU_UNFRIENDLY_OPS.includes(op));
}

/**
 * A minimal protobuf wire-format reader (varints, length-delimited fields, fixed 32/64-bit
 * fields), enough to walk an ONNX file's messages and remember where each field lies.
 *
 * Why our own and not an npm protobuf runtime with the generated ONNX schema: fine-tuning needs
 * only to list a model's graph (initializer names, shapes, types, outputs, op types) and to
 * rewrite the raw bytes of a few initializers in place. That is a few hundred lines with no
 * dependency, runs unchanged in browsers, workers and Node, and never re-encodes the model (the
 * patched file keeps every byte it does not change).
 */
import { S2SError } from '@slice2solid/core';

/** Protobuf wire types. */
export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

/** One field of a message: its number, wire type, and where its value lies in the buffer. */
export interface ProtoField {
  readonly field: number;
  readonly wire: number;
  /** Varint value (wire 0), else undefined. */
  readonly value?: bigint;
  /** Start and end (exclusive) of the payload: the bytes of a length-delimited field, or the 4/8 bytes of a fixed field. */
  readonly start: number;
  readonly end: number;
}

function malformed(what: string, at: number): never {
  throw new S2SError('MALFORMED_FILE', `the ONNX model is not valid protobuf: ${what} at byte ${at}`, {
    hint: 'check that the file is a complete .onnx model (not truncated, not an external-data file)',
  });
}

/** Reads a varint at `pos`; returns its value and the position after it. */
export function readVarint(buf: Uint8Array, pos: number, end: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  const start = pos;
  for (;;) {
    if (pos >= end) malformed('truncated varint', start);
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7n;
    if (shift > 63n) malformed('varint longer than 10 bytes', start);
  }
  return [BigInt.asUintN(64, result), pos];
}

/** The fields of the message occupying buf[start, end), in file order. */
export function readFields(buf: Uint8Array, start = 0, end = buf.length): ProtoField[] {
  const out: ProtoField[] = [];
  let pos = start;
  while (pos < end) {
    const at = pos;
    const [key, p1] = readVarint(buf, pos, end);
    pos = p1;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) malformed('field number 0', at);
    switch (wire) {
      case WIRE.varint: {
        const [v, p2] = readVarint(buf, pos, end);
        out.push({ field, wire, value: v, start: pos, end: p2 });
        pos = p2;
        break;
      }
      case WIRE.fixed64:
        if (pos + 8 > end) malformed('truncated 64-bit field', at);
        out.push({ field, wire, start: pos, end: pos + 8 });
        pos += 8;
        break;
      case WIRE.fixed32:
        if (pos + 4 > end) malformed('truncated 32-bit field', at);
        out.push({ field, wire, start: pos, end: pos + 4 });
        pos += 4;
        break;
      case WIRE.bytes: {
        const [len, p2] = readVarint(buf, pos, end);
        const s = p2;
        const e = s + Number(len);
        if (len > BigInt(end - s)) malformed(`field ${field} longer than its message`, at);
        out.push({ field, wire, start: s, end: e });
        pos = e;
        break;
      }
      default:
        malformed(`unsupported wire type ${wire} (field ${field})`, at);
    }
  }
  return out;
}

const decoder = new TextDecoder();

/** The UTF-8 text of a length-delimited field. */
export function fieldString(buf: Uint8Array, f: ProtoField): string {
  return decoder.decode(buf.subarray(f.start, f.end));
}

/** The integers of a repeated int64/int32 field: one varint (unpacked) or a packed run. */
export function fieldInts(buf: Uint8Array, f: ProtoField): number[] {
  if (f.wire === WIRE.varint) return [Number(BigInt.asIntN(64, f.value!))];
  if (f.wire !== WIRE.bytes) malformed(`field ${f.field} is not an integer`, f.start);
  const out: number[] = [];
  let pos = f.start;
  while (pos < f.end) {
    const [v, p] = readVarint(buf, pos, f.end);
    out.push(Number(BigInt.asIntN(64, v)));
    pos = p;
  }
  return out;
}

/**
 * TensorBoard event files without TensorFlow: TFRecord framing (uint64 length, masked CRC-32C of
 * the length, the record, masked CRC-32C of the record; all little-endian) around hand-encoded
 * `tensorflow.Event` protocol buffers:
 *
 *   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 *   Summary { repeated Value value = 1; }
 *   Value   { string tag = 1; float simple_value = 2; }
 *
 * A file starts with an Event carrying file_version "brain.Event:2"; each scalar is one Event.
 * The decoder reads back what the encoder writes (and what TensorBoard writes for scalars).
 */
import { S2SError } from '@slice2solid/core';

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli), as used by TFRecord. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let p = 0; p < bytes.length; p++) c = CRC32C_TABLE[(c ^ bytes[p]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: ((crc >>> 15) | (crc << 17)) + 0xa282ead8, mod 2^32. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length, masked CRC of the length, data, masked CRC of the data. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(data.length), true);
  dv.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  dv.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** The records of a TFRecord byte stream; throws on a bad CRC or a cut record. */
export function readTfRecords(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  while (p < bytes.length) {
    if (p + 12 > bytes.length) throw new S2SError('TRUNCATED_FILE', `event file cut short at byte ${p}`);
    const len = Number(dv.getBigUint64(p, true));
    if (dv.getUint32(p + 8, true) !== maskedCrc32c(bytes.subarray(p, p + 8))) {
      throw new S2SError('MALFORMED_FILE', `bad length CRC at byte ${p}`);
    }
    if (p + 16 + len > bytes.length) throw new S2SError('TRUNCATED_FILE', `event file cut short at byte ${p}`);
    const data = bytes.subarray(p + 12, p + 12 + len);
    if (dv.getUint32(p + 12 + len, true) !== maskedCrc32c(data)) {
      throw new S2SError('MALFORMED_FILE', `bad data CRC in the record at byte ${p}`);
    }
    out.push(data);
    p += 16 + len;
  }
  return out;
}

class ProtoWriter {
  private readonly parts: number[] = [];
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.parts.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.parts.push(Number(x));
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  double(field: number, v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.tag(field, 1);
    this.parts.push(...b);
    return this;
  }
  float(field: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.tag(field, 5);
    this.parts.push(...b);
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export interface ScalarEvent {
  readonly wallTime: number;
  readonly step: number;
  readonly tag: string;
  readonly value: number;
}

/** The encoded Event for a file's first record. */
export function fileVersionEvent(wallTime: number): Uint8Array {
  return new ProtoWriter().double(1, wallTime).string(3, 'brain.Event:2').finish();
}

/** The encoded Event holding scalar summaries (several tags at one step share one event). */
export function scalarEvent(
  wallTime: number,
  step: number,
  values: readonly { tag: string; value: number }[],
): Uint8Array {
  const summary = new ProtoWriter();
  for (const v of values) summary.bytes(1, new ProtoWriter().string(1, v.tag).float(2, v.value).finish());
  return new ProtoWriter().double(1, wallTime).tag(2, 0).varint(step).bytes(5, summary.finish()).finish();
}

/** Decoded Event: wall time, step, file version and scalar values. */
export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  values: { tag: string; value: number }[];
}

function readVarint(b: Uint8Array, at: { p: number }): bigint {
  let x = 0n;
  let shift = 0n;
  for (;;) {
    if (at.p >= b.length) throw new S2SError('MALFORMED_FILE', 'varint runs past the end of the event');
    const byte = b[at.p++]!;
    x |= BigInt(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return x;
    shift += 7n;
  }
}

function fields(b: Uint8Array, on: (field: number, wire: number, at: { p: number }) => void): void {
  const at = { p: 0 };
  while (at.p < b.length) {
    const key = Number(readVarint(b, at));
    const field = key >>> 3;
    const wire = key & 7;
    const start = at.p;
    on(field, wire, at);
    if (at.p === start) {
      // skip an unknown field
      if (wire === 0) readVarint(b, at);
      else if (wire === 1) at.p += 8;
      else if (wire === 5) at.p += 4;
      else if (wire === 2) at.p += Number(readVarint(b, at));
      else throw new S2SError('MALFORMED_FILE', `unsupported protobuf wire type ${wire}`);
    }
  }
}

function lengthDelimited(b: Uint8Array, at: { p: number }): Uint8Array {
  const n = Number(readVarint(b, at));
  const out = b.subarray(at.p, at.p + n);
  at.p += n;
  return out;
}

/** Decodes one Event record (scalar summaries only; other summary kinds are skipped). */
export function decodeEvent(b: Uint8Array): DecodedEvent {
  const ev: DecodedEvent = { wallTime: 0, step: 0, values: [] };
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  fields(b, (field, wire, at) => {
    if (field === 1 && wire === 1) {
      ev.wallTime = dv.getFloat64(at.p, true);
      at.p += 8;
    } else if (field === 2 && wire === 0) ev.step = Number(BigInt.asIntN(64, readVarint(b, at)));
    else if (field === 3 && wire === 2) ev.fileVersion = new TextDecoder().decode(lengthDelimited(b, at));
    else if (field === 5 && wire === 2) {
      const summary = lengthDelimited(b, at);
      fields(summary, (f, w, a) => {
        if (f !== 1 || w !== 2) return;
        const value = lengthDelimited(summary, a);
        const vdv = new DataView(value.buffer, value.byteOffset, value.byteLength);
        let tag = '';
        let v = Number.NaN;
        fields(value, (vf, vw, va) => {
          if (vf === 1 && vw === 2) tag = new TextDecoder().decode(lengthDelimited(value, va));
          else if (vf === 2 && vw === 5) {
            v = vdv.getFloat32(va.p, true);
            va.p += 4;
          }
        });
        ev.values.push({ tag, value: v });
      });
    }
  });
  return ev;
}

/** Builds the bytes of an event file incrementally: `start()` once, then `scalars()` per step. */
export class TfEventsEncoder {
  /** The first record (file version). */
  start(wallTime: number): Uint8Array {
    return tfRecord(fileVersionEvent(wallTime));
  }
  scalars(wallTime: number, step: number, values: readonly { tag: string; value: number }[]): Uint8Array {
    return tfRecord(scalarEvent(wallTime, step, values));
  }
}

/** Event file name as TensorBoard expects it: events.out.tfevents.<seconds>.<host>. */
export function tfEventsFileName(wallTimeSeconds: number, host: string): string {
  return `events.out.tfevents.${Math.floor(wallTimeSeconds)}.${host.replace(/[^A-Za-z0-9._-]/g, '_') || 'localhost'}`;
}

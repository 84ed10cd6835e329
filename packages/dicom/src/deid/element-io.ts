/**
 * Byte-level DICOM element reader and writer for the de-identifier.
 *
 * The reader records, for every element, where its bytes are; the writer copies untouched
 * elements verbatim (so Pixel Data, encapsulated fragments and every attribute we do not change
 * stay bit-identical) and re-encodes only what was changed, in the file's own transfer syntax
 * (implicit/explicit VR, little/big endian). Sequences are re-emitted with their original length
 * style (defined or undefined) and recomputed lengths.
 */
import { S2SError } from '@slice2solid/core';
import { dictionaryVR, tagString } from './dictionary.js';

export interface Encoding {
  readonly explicit: boolean;
  readonly little: boolean;
}

export const EXPLICIT_LE: Encoding = { explicit: true, little: true };
export const IMPLICIT_LE: Encoding = { explicit: false, little: true };

export interface DItem {
  readonly undefinedLength: boolean;
  elements: DElement[];
}

export interface DElement {
  readonly tag: number;
  vr: string;
  /** The bytes of the whole element as read (header + value), or undefined for new elements. */
  readonly raw?: Uint8Array;
  /** The value bytes (for sequences and encapsulated data: everything between header and end). */
  value: Uint8Array;
  readonly undefinedLength: boolean;
  /** Items, for sequences (SQ, or UN that holds an implicit VR LE sequence). */
  items?: DItem[];
  /** Encoding of the items' content (differs from the dataset for UN sequences). */
  itemEncoding?: Encoding;
  /** Pixel Data with encapsulated fragments. */
  readonly encapsulated?: boolean;
  /** Set when the value or items were changed: the writer re-encodes this element. */
  dirty?: boolean;
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
/** Every two-letter VR code (A-Z, A-Z) as one string each, by (c1 - 65) * 26 + (c2 - 65): no string per element. */
const VR_CODES: readonly string[] = Array.from({ length: 26 * 26 }, (_, i) =>
  String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26)),
);
const LONG_VR_CODES: readonly boolean[] = VR_CODES.map((vr) => LONG_VRS.has(vr));
const ITEM = 0xfffee000;
const ITEM_DELIM = 0xfffee00d;
const SEQ_DELIM = 0xfffee0dd;
const MAX_DEPTH = 64;

class Reader {
  readonly dv: DataView;
  constructor(
    readonly buf: Uint8Array,
    readonly name: string | undefined,
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(code: 'MALFORMED_FILE' | 'TRUNCATED_FILE', message: string): never {
    throw new S2SError(code, message, {
      hint:
        code === 'TRUNCATED_FILE'
          ? 'the file is cut short; copy it again from the source'
          : 'the file is not valid DICOM; check it with dcmdump or re-export it',
      ...(this.name ? { file: this.name } : {}),
    });
  }

  need(pos: number, n: number, end: number, what: string): void {
    if (pos + n > end) this.fail('TRUNCATED_FILE', `the data ends inside ${what} at byte ${pos}`);
  }

  u16(pos: number, little: boolean): number {
    return this.dv.getUint16(pos, little);
  }
  u32(pos: number, little: boolean): number {
    return this.dv.getUint32(pos, little);
  }
  tag(pos: number, little: boolean): number {
    return ((this.u16(pos, little) << 16) | this.u16(pos + 2, little)) >>> 0;
  }

  /** Reads elements from pos until end (or until an item delimiter when stopAtDelimiter). */
  readElements(
    pos: number,
    end: number,
    enc: Encoding,
    depth: number,
    stopAtDelimiter: boolean,
  ): { elements: DElement[]; pos: number } {
    if (depth > MAX_DEPTH) this.fail('MALFORMED_FILE', 'sequences are nested too deeply');
    const elements: DElement[] = [];
    while (pos < end) {
      this.need(pos, 8, end, 'an element header');
      const tag = this.tag(pos, enc.little);
      if (tag === ITEM_DELIM) {
        if (!stopAtDelimiter) this.fail('MALFORMED_FILE', `unexpected item delimiter at byte ${pos}`);
        return { elements, pos: pos + 8 };
      }
      if (tag === ITEM || tag === SEQ_DELIM) {
        // Stray delimiters/padding: some writers leave a sequence delimiter at the top level.
        if (!stopAtDelimiter && tag === SEQ_DELIM && depth === 0) {
          pos += 8;
          continue;
        }
        this.fail('MALFORMED_FILE', `unexpected item tag ${tagString(tag)} at byte ${pos}`);
      }
      const { element, next } = this.readElement(pos, end, enc, depth, tag);
      elements.push(element);
      pos = next;
    }
    if (stopAtDelimiter) this.fail('TRUNCATED_FILE', 'the data ends inside an item of undefined length');
    return { elements, pos };
  }

  readElement(
    start: number,
    end: number,
    enc: Encoding,
    depth: number,
    tag: number,
  ): { element: DElement; next: number } {
    let vr: string;
    let length: number;
    let valueStart: number;
    if (enc.explicit) {
      const c1 = (this.buf[start + 4] ?? 0) - 65;
      const c2 = (this.buf[start + 5] ?? 0) - 65;
      if (c1 < 0 || c1 > 25 || c2 < 0 || c2 > 25) {
        this.fail('MALFORMED_FILE', `element ${tagString(tag)} at byte ${start} has an invalid VR`);
      }
      vr = VR_CODES[c1 * 26 + c2]!;
      if (LONG_VR_CODES[c1 * 26 + c2]) {
        this.need(start, 12, end, `element ${tagString(tag)}`);
        length = this.u32(start + 8, enc.little);
        valueStart = start + 12;
      } else {
        length = this.u16(start + 6, enc.little);
        valueStart = start + 8;
      }
    } else {
      vr = dictionaryVR(tag);
      length = this.u32(start + 4, enc.little);
      valueStart = start + 8;
    }
    const undefinedLength = length === 0xffffffff;
    if (undefinedLength) {
      if (tag === 0x7fe00010) {
        const stop = this.skipFragments(valueStart, end, enc);
        return {
          element: {
            tag,
            vr,
            raw: this.buf.subarray(start, stop),
            value: this.buf.subarray(valueStart, stop),
            undefinedLength,
            encapsulated: true,
          },
          next: stop,
        };
      }
      // Undefined length: a sequence (SQ, UN holding an implicit VR LE sequence, or unknown implicit).
      const itemEnc = vr === 'SQ' ? enc : IMPLICIT_LE;
      if (vr !== 'SQ' && vr !== 'UN') {
        this.fail('MALFORMED_FILE', `element ${tagString(tag)} (${vr}) has an undefined length`);
      }
      const { items, pos } = this.readItems(valueStart, end, itemEnc, depth + 1, true);
      return {
        element: {
          tag,
          vr,
          raw: this.buf.subarray(start, pos),
          value: this.buf.subarray(valueStart, pos),
          undefinedLength,
          items,
          itemEncoding: itemEnc,
        },
        next: pos,
      };
    }
    const valueEnd = valueStart + length;
    if (valueEnd > end) {
      this.fail(
        'TRUNCATED_FILE',
        `element ${tagString(tag)} at byte ${start} claims ${length} bytes but only ${end - valueStart} remain`,
      );
    }
    const element: DElement = {
      tag,
      vr,
      raw: this.buf.subarray(start, valueEnd),
      value: this.buf.subarray(valueStart, valueEnd),
      undefinedLength,
    };
    if (vr === 'SQ') {
      element.items = this.readItems(valueStart, valueEnd, enc, depth + 1, false).items;
      element.itemEncoding = enc;
    } else if ((vr === 'UN' && length >= 8 && (dictionaryVR(tag) === 'SQ' || !enc.explicit)) || false) {
      // A sequence stored as UN (or an unknown implicit element): parse its items as implicit VR LE
      // when they look like items, so nested identifiers are still found.
      const itemEnc = enc.explicit ? IMPLICIT_LE : enc;
      if (this.tag(valueStart, itemEnc.little) === ITEM) {
        try {
          element.items = this.readItems(valueStart, valueEnd, itemEnc, depth + 1, false).items;
          element.itemEncoding = itemEnc;
        } catch {
          element.items = undefined;
        }
      }
    }
    return { element, next: valueEnd };
  }

  readItems(
    pos: number,
    end: number,
    enc: Encoding,
    depth: number,
    undefinedSeq: boolean,
  ): { items: DItem[]; pos: number } {
    const items: DItem[] = [];
    while (pos < end) {
      this.need(pos, 8, end, 'a sequence item');
      const tag = this.tag(pos, enc.little);
      const length = this.u32(pos + 4, enc.little);
      if (tag === SEQ_DELIM) {
        if (!undefinedSeq) this.fail('MALFORMED_FILE', `unexpected sequence delimiter at byte ${pos}`);
        return { items, pos: pos + 8 };
      }
      if (tag !== ITEM) this.fail('MALFORMED_FILE', `expected a sequence item at byte ${pos}, found ${tagString(tag)}`);
      if (length === 0xffffffff) {
        const r = this.readElements(pos + 8, end, enc, depth, true);
        items.push({ undefinedLength: true, elements: r.elements });
        pos = r.pos;
      } else {
        const itemEnd = pos + 8 + length;
        if (itemEnd > end) this.fail('TRUNCATED_FILE', `a sequence item at byte ${pos} runs past its sequence`);
        items.push({
          undefinedLength: false,
          elements: this.readElements(pos + 8, itemEnd, enc, depth, false).elements,
        });
        pos = itemEnd;
      }
    }
    if (undefinedSeq) this.fail('TRUNCATED_FILE', 'the data ends inside a sequence of undefined length');
    return { items, pos };
  }

  skipFragments(pos: number, end: number, enc: Encoding): number {
    while (true) {
      this.need(pos, 8, end, 'the encapsulated pixel data');
      const tag = this.tag(pos, enc.little);
      const length = this.u32(pos + 4, enc.little);
      if (tag === SEQ_DELIM) return pos + 8;
      if (tag !== ITEM) this.fail('MALFORMED_FILE', `bad fragment tag ${tagString(tag)} in the pixel data`);
      if (pos + 8 + length > end) this.fail('TRUNCATED_FILE', 'a pixel data fragment runs past the end of the file');
      pos += 8 + length;
    }
  }
}

/** Parses a dataset (no meta group) in the given encoding. */
export function readDataset(bytes: Uint8Array, enc: Encoding, name?: string): DElement[] {
  return new Reader(bytes, name).readElements(0, bytes.length, enc, 0, false).elements;
}

/** Parses the file meta group (explicit VR LE) starting at `pos`; returns the elements and the dataset offset. */
export function readMetaGroup(bytes: Uint8Array, pos: number, name?: string): { elements: DElement[]; end: number } {
  const r = new Reader(bytes, name);
  const elements: DElement[] = [];
  while (pos + 8 <= bytes.length && r.u16(pos, true) === 0x0002) {
    const tag = r.tag(pos, true);
    const { element, next } = r.readElement(pos, bytes.length, EXPLICIT_LE, 0, tag);
    elements.push(element);
    pos = next;
  }
  return { elements, end: pos };
}

// ---------------------------------------------------------------------------------------------
// Writer

function headerSize(vr: string, enc: Encoding): number {
  return enc.explicit && !LONG_VRS.has(vr) ? 8 : enc.explicit ? 12 : 8;
}

/** Size in bytes of an encoded element. */
function elementSize(e: DElement, enc: Encoding): number {
  if (!e.dirty && e.raw) return e.raw.length;
  if (e.items) {
    const inner = e.itemEncoding ?? enc;
    let n = headerSize(e.vr, enc);
    for (let i = 0; i < e.items.length; i++) n += itemSize(e.items[i]!, inner);
    if (e.undefinedLength) n += 8;
    return n;
  }
  return headerSize(e.vr, enc) + e.value.length;
}

function itemSize(item: DItem, enc: Encoding): number {
  let n = 8;
  for (let i = 0; i < item.elements.length; i++) n += elementSize(item.elements[i]!, enc);
  if (item.undefinedLength) n += 8;
  return n;
}

class Writer {
  pos = 0;
  readonly out: Uint8Array;
  readonly dv: DataView;
  constructor(size: number) {
    this.out = new Uint8Array(size);
    this.dv = new DataView(this.out.buffer);
  }
  tag(tag: number, little: boolean): void {
    this.dv.setUint16(this.pos, tag >>> 16, little);
    this.dv.setUint16(this.pos + 2, tag & 0xffff, little);
    this.pos += 4;
  }
  header(tag: number, vr: string, length: number, enc: Encoding): void {
    this.tag(tag, enc.little);
    if (enc.explicit) {
      this.out[this.pos] = vr.charCodeAt(0);
      this.out[this.pos + 1] = vr.charCodeAt(1);
      if (LONG_VRS.has(vr)) {
        this.dv.setUint16(this.pos + 2, 0, enc.little);
        this.dv.setUint32(this.pos + 4, length, enc.little);
        this.pos += 8;
      } else {
        if (length > 0xffff)
          throw new S2SError('INVALID_ARGUMENT', `value of ${tagString(tag)} is too long for VR ${vr}`);
        this.dv.setUint16(this.pos + 2, length, enc.little);
        this.pos += 4;
      }
    } else {
      this.dv.setUint32(this.pos, length, enc.little);
      this.pos += 4;
    }
  }
  bytes(b: Uint8Array): void {
    this.out.set(b, this.pos);
    this.pos += b.length;
  }
  element(e: DElement, enc: Encoding): void {
    if (!e.dirty && e.raw) {
      this.bytes(e.raw);
      return;
    }
    if (e.items) {
      const inner = e.itemEncoding ?? enc;
      let len = 0;
      const items = e.items;
      for (let i = 0; i < items.length; i++) len += itemSize(items[i]!, inner);
      this.header(e.tag, e.vr, e.undefinedLength ? 0xffffffff : len, enc);
      for (let i = 0; i < items.length; i++) {
        const it = items[i]!;
        this.tag(ITEM, inner.little);
        const il = itemSize(it, inner) - 8 - (it.undefinedLength ? 8 : 0);
        this.dv.setUint32(this.pos, it.undefinedLength ? 0xffffffff : il, inner.little);
        this.pos += 4;
        for (let k = 0; k < it.elements.length; k++) this.element(it.elements[k]!, inner);
        if (it.undefinedLength) {
          this.tag(ITEM_DELIM, inner.little);
          this.dv.setUint32(this.pos, 0, inner.little);
          this.pos += 4;
        }
      }
      if (e.undefinedLength) {
        this.tag(SEQ_DELIM, enc.little);
        this.dv.setUint32(this.pos, 0, enc.little);
        this.pos += 4;
      }
      return;
    }
    this.header(e.tag, e.vr, e.value.length, enc);
    this.bytes(e.value);
  }
}

/** Encodes elements in the given encoding, after `reserve` leading bytes left for the caller (one copy). */
export function writeElements(elements: readonly DElement[], enc: Encoding, reserve = 0): Uint8Array {
  let size = reserve;
  for (let i = 0; i < elements.length; i++) size += elementSize(elements[i]!, enc);
  const w = new Writer(size);
  w.pos = reserve;
  for (let i = 0; i < elements.length; i++) w.element(elements[i]!, enc);
  return w.out;
}

/** Unchanged elements at least this long are passed through as views, not copied. */
export const SHARED_ELEMENT_MIN_BYTES = 4096;

/**
 * writeElements as a list of chunks whose concatenation is exactly what writeElements returns:
 * unchanged top-level elements of at least `minShared` bytes (Pixel Data) are passed as views of
 * the input bytes (no copy), everything else is encoded into fresh chunks. The first chunk starts
 * with `reserve` bytes left for the caller (it is always a fresh buffer, even when empty).
 */
export function writeElementParts(
  elements: readonly DElement[],
  enc: Encoding,
  reserve = 0,
  minShared = SHARED_ELEMENT_MIN_BYTES,
): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let pending: DElement[] = [];
  let first = true;
  const flush = (): void => {
    if (pending.length === 0 && !first) return;
    parts.push(writeElements(pending, enc, first ? reserve : 0));
    first = false;
    pending = [];
  };
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i]!;
    if (!e.dirty && e.raw && e.raw.length >= minShared) {
      flush();
      parts.push(e.raw);
    } else pending.push(e);
  }
  flush();
  return parts;
}

/** The chunks joined into one buffer (returns the only chunk itself when there is one). */
export function concatParts(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Values

const STRING_VRS = new Set([
  'AE',
  'AS',
  'CS',
  'DA',
  'DS',
  'DT',
  'IS',
  'LO',
  'LT',
  'PN',
  'SH',
  'ST',
  'TM',
  'UC',
  'UI',
  'UR',
  'UT',
]);
export function isStringVR(vr: string): boolean {
  return STRING_VRS.has(vr);
}

const latin1 = new TextDecoder('latin1');
/** The raw string value (bytes as latin1, trailing NUL/space padding removed). */
export function stringValue(e: DElement): string {
  const v = e.value;
  if (v.length <= 256) {
    // short ASCII values (nearly all): the same string without a decoder call
    let end = v.length;
    while (end > 0 && (v[end - 1] === 0 || v[end - 1] === 0x20)) end--;
    let ascii = true;
    for (let i = 0; i < end; i++) {
      if (v[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii)
      return String.fromCharCode.apply(null, (end === v.length ? v : v.subarray(0, end)) as unknown as number[]);
  }
  return latin1.decode(v).replace(/[\0 ]+$/, '');
}

/** Encodes an ASCII string value padded to even length (NUL for UI, space otherwise). */
export function encodeString(s: string, vr: string): Uint8Array {
  const n = s.length + (s.length & 1);
  const out = new Uint8Array(n);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  if (s.length & 1) out[s.length] = vr === 'UI' ? 0 : 0x20;
  return out;
}

export function setString(e: DElement, s: string): void {
  e.value = encodeString(s, e.vr);
  e.items = undefined;
  e.dirty = true;
}

export function makeElement(tag: number, vr: string, value: Uint8Array | string, items?: DItem[]): DElement {
  const e: DElement = {
    tag,
    vr,
    value: typeof value === 'string' ? encodeString(value, vr) : value,
    undefinedLength: false,
    dirty: true,
  };
  if (items) e.items = items;
  return e;
}

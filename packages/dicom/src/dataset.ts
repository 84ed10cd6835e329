/**
 * Small typed accessors over a dicom-parser DataSet. They never throw: a missing, empty or
 * unparseable value reads as undefined, so callers decide what is required.
 * Implicit VR files carry no VR, so each accessor is chosen by the tag's dictionary VR.
 */
import type { DataSet, Element } from 'dicom-parser';
import * as dicomParserNs from 'dicom-parser';

/** dicom-parser is a UMD bundle: under Node ESM its API sits on `default`, under bundlers on the namespace. */
export const dicomParser: typeof dicomParserNs =
  (dicomParserNs as unknown as { default?: typeof dicomParserNs }).default ?? dicomParserNs;

export type { DataSet, Element };

/** dicom-parser's tag key 'xggggeeee' for (group, element). */
export function tag(group: number, element: number): string {
  return `x${group.toString(16).padStart(4, '0')}${element.toString(16).padStart(4, '0')}`;
}

function elementOf(ds: DataSet, t: string): Element | undefined {
  const e = ds.elements[t];
  if (!e || e.length === 0 || e.length === 0xffffffff) return undefined;
  // A value that claims to run past the end of the buffer is not readable.
  if (e.dataOffset + e.length > ds.byteArray.length) return undefined;
  return e;
}

/** The whole text value (backslashes kept), trimmed of padding; undefined if empty. */
export function text(ds: DataSet, t: string): string | undefined {
  const e = elementOf(ds, t);
  if (!e) return undefined;
  let s = '';
  const b = ds.byteArray;
  for (let n = 0; n < e.length; n++) {
    const c = b[e.dataOffset + n]!;
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  s = s.trim();
  return s === '' ? undefined : s;
}

/** Multi-valued text (split on backslash, each value trimmed). */
export function texts(ds: DataSet, t: string): string[] {
  const s = text(ds, t);
  return s === undefined ? [] : s.split('\\').map((v) => v.trim());
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Decimal String (DS) or Integer String (IS) values; undefined where a value is not a number. */
export function decimals(ds: DataSet, t: string): (number | undefined)[] {
  return texts(ds, t).map((v) => (DECIMAL.test(v) ? Number(v) : undefined));
}

export function decimal(ds: DataSet, t: string, index = 0): number | undefined {
  return decimals(ds, t)[index];
}

/** An Integer String value, or undefined if missing or not an integer. */
export function integerString(ds: DataSet, t: string, index = 0): number | undefined {
  const v = decimals(ds, t)[index];
  return v !== undefined && Number.isInteger(v) ? v : undefined;
}

/** Binary numeric values (US, SS, UL, SL, FL, FD); all values of the element. */
export function binaries(ds: DataSet, t: string, kind: 'u16' | 's16' | 'u32' | 's32' | 'f32' | 'f64'): number[] {
  const e = elementOf(ds, t);
  if (!e) return [];
  const size = kind === 'u16' || kind === 's16' ? 2 : kind === 'f64' ? 8 : 4;
  const n = Math.floor(e.length / size);
  const out: number[] = [];
  const p = ds.byteArrayParser;
  const b = ds.byteArray;
  for (let k = 0; k < n; k++) {
    const at = e.dataOffset + k * size;
    switch (kind) {
      case 'u16':
        out.push(p.readUint16(b, at));
        break;
      case 's16':
        out.push(p.readInt16(b, at));
        break;
      case 'u32':
        out.push(p.readUint32(b, at));
        break;
      case 's32':
        out.push(p.readInt32(b, at));
        break;
      case 'f32':
        out.push(p.readFloat(b, at));
        break;
      case 'f64':
        out.push(p.readDouble(b, at));
        break;
    }
  }
  return out;
}

export function u16(ds: DataSet, t: string, index = 0): number | undefined {
  return binaries(ds, t, 'u16')[index];
}

/** The data sets of a sequence's items (empty if absent or not a sequence). */
export function items(ds: DataSet, t: string): DataSet[] {
  const e = ds.elements[t];
  if (!e?.items) return [];
  const out: DataSet[] = [];
  for (const it of e.items) if (it.dataSet) out.push(it.dataSet);
  return out;
}

/** First item of a sequence. */
export function item(ds: DataSet | undefined, t: string): DataSet | undefined {
  return ds ? items(ds, t)[0] : undefined;
}

/**
 * The element block a private creator reserved in `group`: e.g. creator 'SIEMENS CSA HEADER'
 * at (0029,0010) reserves (0029,1000-10FF). Returns the tag of (group, block<<8 | offset), or
 * `fallback` if no creator matches (files written without creators).
 */
export function privateTag(ds: DataSet, group: number, creator: string, offset: number, fallbackBlock = 0x10): string {
  for (let block = 0x10; block <= 0xff; block++) {
    const c = text(ds, tag(group, block));
    if (c === undefined) continue;
    if (c.toUpperCase() === creator.toUpperCase()) return tag(group, (block << 8) | offset);
  }
  return tag(group, (fallbackBlock << 8) | offset);
}

/** Raw bytes of an element (a view, not a copy), or undefined. */
export function bytesOf(ds: DataSet, t: string): Uint8Array | undefined {
  const e = elementOf(ds, t);
  if (!e) return undefined;
  return ds.byteArray.subarray(e.dataOffset, e.dataOffset + e.length);
}

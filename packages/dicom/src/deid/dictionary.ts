/**
 * VR and keyword lookup for standard attributes (PS3.6), from a table generated from dcmjs's data
 * dictionary (dictionary.generated.ts, scripts/deid-table/generate-dictionary.mjs): importing
 * dcmjs itself costs ~40 ms of start-up for what is a table lookup.
 * Needed because implicit VR files carry no VR: the de-identifier must still know which elements
 * are sequences (to recurse), UIDs (to replace) and dates (to shift).
 */
import { DICTIONARY_RANGES, DICTIONARY_TEXT } from './dictionary.generated.js';

interface DictEntry {
  readonly vr: string;
  readonly name: string;
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/** "(GGGG,EEEE)" for a 32-bit tag. */
export function tagString(tag: number): string {
  return `(${hex4(tag >>> 16)},${hex4(tag & 0xffff)})`;
}

/**
 * The exact entry of a tag: a binary search over the lines of DICTIONARY_TEXT, which are sorted by
 * tag (a test checks it), so the ~5000 lines are never parsed as a whole (that cost several
 * milliseconds of start-up, most of it before the JIT warms up).
 */
function exactEntry(tag: number): DictEntry | undefined {
  const text = DICTIONARY_TEXT;
  let lo = 0; // a line start
  let hi = text.length; // a line start, or the end
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = text.lastIndexOf('\n', mid - 1) + 1; // the start of the line holding mid (>= lo)
    const t = Number.parseInt(text.slice(at, at + 8), 16);
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    if (t === tag) {
      const sp = text.indexOf(' ', at + 9);
      return { vr: text.slice(at + 9, sp), name: text.slice(sp + 1, end) };
    }
    if (t < tag) lo = end + 1;
    else hi = at;
  }
  return undefined;
}

/** dcmjs's lookup of a "(GGGG,EEEE)" key: the exact entry, else the first repeating-group range that holds it. */
function dictionaryEntry(group: number, element: number): DictEntry | undefined {
  const e = exactEntry(((group << 16) | element) >>> 0);
  if (e) return e;
  for (const r of DICTIONARY_RANGES) {
    if (group >= r[0] && group <= r[1] && element === r[2]) return { vr: r[3], name: r[4] };
  }
  return undefined;
}

const entries = new Map<number, DictEntry | null>();

function lookup(tag: number): DictEntry | undefined {
  let hit = entries.get(tag);
  if (hit === undefined) {
    hit = lookupUncached(tag) ?? null;
    entries.set(tag, hit);
  }
  return hit ?? undefined;
}

function lookupUncached(tag: number): DictEntry | undefined {
  const group = tag >>> 16;
  const element = tag & 0xffff;
  let e = dictionaryEntry(group, element);
  // Kept from the dcmjs-based lookup, which also asked for "(60xx,EEEE)" / "(50xx,EEEE)" keys: dcmjs
  // reads those as groups 0x0060 / 0x0050 (parseInt stops at the "x"), so elements of a repeating
  // group that no range lists fall back to that group's attribute. Same behaviour, same output.
  if (!e && (group & 0xff01) === 0x6000) e = dictionaryEntry(0x0060, element);
  if (!e && (group & 0xff01) === 0x5000) e = dictionaryEntry(0x0050, element);
  return e;
}

const cache = new Map<number, string>();

/** The dictionary VR of a tag ('UN' when unknown; ambiguous VRs resolved the way implicit VR LE needs). */
export function dictionaryVR(tag: number): string {
  const hit = cache.get(tag);
  if (hit) return hit;
  const group = tag >>> 16;
  let vr = 'UN';
  if ((group & 1) === 0) {
    if ((group & 0xff01) === 0x6000 && (tag & 0xffff) === 0x3000) vr = 'OW';
    else {
      const raw = lookup(tag)?.vr ?? 'UN';
      const upper = raw.toUpperCase();
      if (upper === 'OX' || raw === 'lt') vr = 'OW';
      else if (upper === 'XS') vr = 'US';
      else if (upper.includes('OB') && upper.includes('OW')) vr = 'OW';
      else if (upper.includes('US') && upper.includes('SS')) vr = 'US';
      else if (/^[A-Z]{2}$/.test(upper)) vr = upper;
      else vr = 'UN';
    }
  }
  if (tag === 0x7fe00010) vr = 'OW';
  cache.set(tag, vr);
  return vr;
}

/** The attribute keyword (e.g. 'PatientName'), or undefined for private and unknown tags. */
export function keywordOf(tag: number): string | undefined {
  if (((tag >>> 16) & 1) === 1) return undefined;
  return lookup(tag)?.name;
}

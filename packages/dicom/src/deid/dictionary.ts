/**
 * VR and keyword lookup for standard attributes, from dcmjs's data dictionary (PS3.6).
 * Needed because implicit VR files carry no VR: the de-identifier must still know which elements
 * are sequences (to recurse), UIDs (to replace) and dates (to shift).
 */
// dcmjs ships no TypeScript types; we only use its dictionary object.
// @ts-expect-error -- untyped module
import * as dcmjsNs from 'dcmjs';

interface DictEntry {
  readonly vr?: string;
  readonly name?: string;
}
const dcmjs = ((dcmjsNs as { default?: unknown }).default ?? dcmjsNs) as {
  data: { DicomMetaDictionary: { dictionary: Record<string, DictEntry | undefined> } };
};
const DICT = dcmjs.data.DicomMetaDictionary.dictionary;

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/** "(GGGG,EEEE)" for a 32-bit tag. */
export function tagString(tag: number): string {
  return `(${hex4(tag >>> 16)},${hex4(tag & 0xffff)})`;
}

function lookup(tag: number): DictEntry | undefined {
  const group = tag >>> 16;
  const element = tag & 0xffff;
  let e = DICT[tagString(tag)];
  if (!e && (group & 0xff01) === 0x6000) e = DICT[`(60xx,${hex4(element)})`];
  if (!e && (group & 0xff01) === 0x5000) e = DICT[`(50xx,${hex4(element)})`];
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

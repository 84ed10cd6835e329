import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
// @ts-expect-error -- dcmjs ships no TypeScript types; only its dictionary Proxy is used here
import * as dcmjsNs from 'dcmjs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test-utils/shared-data.js';
import { DICTIONARY_RANGES, DICTIONARY_SOURCE, DICTIONARY_TEXT } from '../src/deid/dictionary.generated.js';
import { dictionaryVR, keywordOf, tagString } from '../src/deid/dictionary.js';

// The reference: the de-identifier's former lookup, straight through dcmjs's dictionary Proxy.
const dcmjs = ((dcmjsNs as { default?: unknown }).default ?? dcmjsNs) as {
  data: { DicomMetaDictionary: { dictionary: Record<string, { vr?: string; name?: string } | undefined> } };
};
const DICT = dcmjs.data.DicomMetaDictionary.dictionary;
const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');

function refLookup(tag: number) {
  const group = tag >>> 16;
  const element = tag & 0xffff;
  let e = DICT[tagString(tag)];
  if (!e && (group & 0xff01) === 0x6000) e = DICT[`(60xx,${hex4(element)})`];
  if (!e && (group & 0xff01) === 0x5000) e = DICT[`(50xx,${hex4(element)})`];
  return e;
}

function refVR(tag: number): string {
  const group = tag >>> 16;
  let vr = 'UN';
  if ((group & 1) === 0) {
    if ((group & 0xff01) === 0x6000 && (tag & 0xffff) === 0x3000) vr = 'OW';
    else {
      const raw = refLookup(tag)?.vr ?? 'UN';
      const upper = raw.toUpperCase();
      if (upper === 'OX' || raw === 'lt') vr = 'OW';
      else if (upper === 'XS') vr = 'US';
      else if (upper.includes('OB') && upper.includes('OW')) vr = 'OW';
      else if (upper.includes('US') && upper.includes('SS')) vr = 'US';
      else if (/^[A-Z]{2}$/.test(upper)) vr = upper;
      else vr = 'UN';
    }
  }
  return tag === 0x7fe00010 ? 'OW' : vr;
}

const refKeyword = (tag: number) => (((tag >>> 16) & 1) === 1 ? undefined : refLookup(tag)?.name);

describe('attribute dictionary (generated from dcmjs)', () => {
  it('is up to date with the installed dcmjs (generator runs offline)', () => {
    const out = execFileSync(
      process.execPath,
      [join(REPO_ROOT, 'scripts/deid-table/generate-dictionary.mjs'), '--check'],
      { encoding: 'utf8' },
    );
    expect(out).toContain('up to date');
    expect(DICTIONARY_SOURCE).toMatch(/^dcmjs \d+\.\d+\.\d+$/);
  });

  it('lists each tag once, in increasing order (the lookup is a binary search over the lines)', () => {
    const tags = DICTIONARY_TEXT.split('\n').map((line) => {
      expect(line).toMatch(/^[0-9A-F]{8} \S+ \S+$/);
      return Number.parseInt(line.slice(0, 8), 16);
    });
    for (let i = 1; i < tags.length; i++)
      expect(tags[i]!, DICTIONARY_TEXT.split('\n')[i]).toBeGreaterThan(tags[i - 1]!);
    // the first and last lines are found too
    expect(keywordOf(tags[0]!)).toBe(DICTIONARY_TEXT.split('\n')[0]!.split(' ')[2]);
    expect(keywordOf(tags.at(-1)!)).toBe(DICTIONARY_TEXT.split('\n').at(-1)!.split(' ')[2]);
  });

  it('gives the same VR and keyword as dcmjs for every tag it lists, its neighbours and repeating groups', () => {
    const tags = new Set<number>();
    for (const line of DICTIONARY_TEXT.split('\n')) {
      const t = Number.parseInt(line.slice(0, 8), 16);
      for (const d of [-1, 0, 1]) tags.add((t + d) >>> 0);
    }
    expect(tags.size).toBeGreaterThan(8_000);
    // repeating groups: every listed range element and every element of groups 0050/0060 (the
    // "(50xx,EEEE)" fallback), in even and odd groups across each range
    const elements = new Set<number>(DICTIONARY_RANGES.map((r) => r[2]));
    for (const t of tags) if (t >>> 16 === 0x0050 || t >>> 16 === 0x0060) elements.add(t & 0xffff);
    for (const base of [0x5000, 0x6000, 0x7f00]) {
      for (const g of [0, 1, 2, 0x1e, 0x41, 0xfe, 0xff, 0x100])
        for (const el of elements) tags.add(((base + g) << 16) | el);
    }
    // and random tags (fixed seed)
    let s = 12345;
    for (let i = 0; i < 20_000; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      tags.add(i % 2 ? s : (s & 0x00ffffff) >>> 0);
    }
    let checked = 0;
    for (const t of tags) {
      if (dictionaryVR(t) !== refVR(t) || keywordOf(t) !== refKeyword(t)) {
        expect({ tag: tagString(t), vr: dictionaryVR(t), keyword: keywordOf(t) }).toEqual({
          tag: tagString(t),
          vr: refVR(t),
          keyword: refKeyword(t),
        });
      }
      checked++;
    }
    expect(checked).toBe(tags.size);
    expect(keywordOf(0x00100010)).toBe('PatientName');
    expect(dictionaryVR(0x00080020)).toBe('DA');
    expect(dictionaryVR(0x60023000)).toBe('OW');
    expect(dictionaryVR(0x00091010)).toBe('UN');
  });
});

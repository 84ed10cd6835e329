/**
 * The de-identifier's element reader fast paths give what the plain code gave: string values
 * (decoded in JS when ASCII) and VR codes (from a table instead of a string per element).
 */
import { describe, expect, it } from 'vitest';
import { EXPLICIT_LE, makeElement, readDataset, stringValue, writeElements } from '../src/deid/element-io.js';

const latin1 = new TextDecoder('latin1');
const reference = (b: Uint8Array) => latin1.decode(b).replace(/[\0 ]+$/, '');

describe('deid element-io fast paths', () => {
  it('stringValue equals the latin1 decoder with trailing NUL/space removed, for ASCII and other bytes', () => {
    let seed = 99;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    const cases: Uint8Array[] = [
      new Uint8Array(0),
      new Uint8Array([0]),
      new Uint8Array([0x20, 0x20]),
      new Uint8Array([0x41, 0, 0x42, 0x20, 0]),
      new Uint8Array([0x80, 0x9f, 0xe9, 0x20]),
      new Uint8Array(300).fill(0x31),
      new Uint8Array(257).fill(0x20),
    ];
    for (let n = 0; n < 2000; n++) {
      const len = n % 70;
      const b = new Uint8Array(len);
      // mostly ASCII, some high bytes, padding at the end
      for (let i = 0; i < len; i++) b[i] = n % 5 === 0 ? rnd() : 0x20 + (rnd() % 95);
      if (len > 2 && n % 3 === 0) b[len - 1] = n % 2 ? 0 : 0x20;
      cases.push(b);
    }
    for (const b of cases) {
      const e = { tag: 0x00100010, vr: 'LO', value: b, undefinedLength: false };
      expect(stringValue(e), Array.from(b).join(',')).toBe(reference(b));
    }
  });

  it('reads every VR code back as the same string, and refuses codes that are not two capital letters', () => {
    for (let a = 65; a <= 90; a++) {
      for (let b = 65; b <= 90; b++) {
        const vr = String.fromCharCode(a, b);
        const long = ['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV'].includes(vr);
        if (vr === 'SQ') continue; // needs items
        const bytes = writeElements([makeElement(0x00091010, vr, new Uint8Array([1, 2]))], EXPLICIT_LE);
        const [e] = readDataset(bytes, EXPLICIT_LE);
        expect(e!.vr).toBe(vr);
        expect(e!.raw!.length).toBe(long ? 14 : 10);
        expect(Array.from(e!.value)).toEqual([1, 2]);
      }
    }
    for (const bad of [
      [0x40, 0x41],
      [0x41, 0x5b],
      [0x61, 0x62],
      [0x20, 0x20],
    ]) {
      const bytes = new Uint8Array([0x09, 0, 0x10, 0x10, bad[0]!, bad[1]!, 2, 0, 1, 2]);
      expect(() => readDataset(bytes, EXPLICIT_LE)).toThrow(/invalid VR/);
    }
  });
});

/**
 * Reader for the Siemens CSA header ((0029,xx10) image / (0029,xx20) series info), the private
 * binary blob that carries NumberOfImagesInMosaic and SliceNormalVector for mosaics.
 * Layouts as documented by nibabel (nicom/csareader.py) and dcm2niix: "SV10" (CSA2) or bare (CSA1).
 * Every read is bounds-checked; a malformed header yields whatever tags were read before the damage.
 */

export type CsaTags = Map<string, string[]>;

const MAX_TAGS = 1000;
const MAX_ITEMS = 1000;

export function readCsa(b: Uint8Array): CsaTags {
  const out: CsaTags = new Map();
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const has = (at: number, n: number) => at >= 0 && at + n <= b.length;
  let p = 0;
  let csa2 = false;
  if (has(0, 4) && b[0] === 0x53 && b[1] === 0x56 && b[2] === 0x31 && b[3] === 0x30) {
    csa2 = true;
    p = 8;
  }
  if (!has(p, 8)) return out;
  const nTags = dv.getUint32(p, true);
  p += 8;
  if (nTags < 1 || nTags > MAX_TAGS) return out;
  for (let t = 0; t < nTags; t++) {
    if (!has(p, 84)) return out;
    let name = '';
    for (let k = 0; k < 64 && b[p + k] !== 0; k++) name += String.fromCharCode(b[p + k]!);
    const nItems = dv.getInt32(p + 76, true);
    p += 84;
    if (nItems < 0 || nItems > MAX_ITEMS) return out;
    const values: string[] = [];
    for (let i = 0; i < nItems; i++) {
      if (!has(p, 16)) return out;
      // CSA2 stores the item length in the second word; CSA1 headers written by the same
      // software store it in the first word as well, so fall back to it when the second is 0.
      let len = dv.getInt32(p + 4, true);
      if (!csa2 && len <= 0) len = dv.getInt32(p, true);
      p += 16;
      if (len < 0 || !has(p, len)) return out;
      if (len > 0) {
        let s = '';
        for (let k = 0; k < len && b[p + k] !== 0; k++) s += String.fromCharCode(b[p + k]!);
        values.push(s.trim());
      }
      p += len + ((4 - (len % 4)) % 4);
    }
    out.set(name, values);
  }
  return out;
}

/** The numeric values of a CSA tag (empty items dropped). */
export function csaNumbers(tags: CsaTags, name: string): number[] {
  const v = tags.get(name) ?? [];
  return v.filter((s) => s !== '' && Number.isFinite(Number(s))).map(Number);
}

import { S2SError } from '@slice2solid/core';

const TYPE_SIZE: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
};
/** Tags whose values utif2 follows as pointers to further IFDs. */
const SUB_IFD_TAGS = new Set([330, 34665, 34853, 50740, 61440]);

/**
 * Walks the IFD structure of a classic TIFF the way utif2 will, and refuses anything that would
 * make utif2 loop forever (IFD cycles), recurse without end, or build arrays from counts larger
 * than the file (which exhausts memory). utif2 has no such guards, so every TIFF goes through here
 * first. Throws MALFORMED_FILE / UNSUPPORTED_FORMAT; returns the number of top-level IFDs.
 */
export function checkTiffStructure(b: Uint8Array, file: string): number {
  const bad = (m: string) =>
    new S2SError('MALFORMED_FILE', `corrupt TIFF: ${m}`, { hint: 'the file is damaged; export it again', file });
  if (b.length < 8) throw bad('shorter than a TIFF header');
  const le = b[0] === 0x49;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u16 = (o: number) => dv.getUint16(o, le);
  const u32 = (o: number) => dv.getUint32(o, le);
  if (u16(2) === 43) {
    throw new S2SError('UNSUPPORTED_FORMAT', 'BigTIFF is not supported', {
      hint: 'save as a classic TIFF or PNG',
      file,
    });
  }
  const visited = new Set<number>();
  const walk = (offset: number, depth: number): number => {
    if (depth > 4) throw bad('sub-IFDs nested too deeply');
    if (visited.has(offset)) throw bad('an IFD refers back to an earlier one (cycle)');
    visited.add(offset);
    if (visited.size > 100000) throw bad('too many IFDs');
    if (offset < 8 || offset + 2 > b.length) throw bad(`IFD offset ${offset} is outside the file`);
    const cnt = u16(offset);
    const end = offset + 2 + cnt * 12;
    if (end + 4 > b.length) throw bad('an IFD runs past the end of the file');
    for (let i = 0; i < cnt; i++) {
      const e = offset + 2 + i * 12;
      const tag = u16(e);
      const type = u16(e + 2);
      const num = u32(e + 4);
      const size = TYPE_SIZE[type];
      if (size === undefined) {
        if (num !== 0 && i === 0) throw bad(`unknown field type ${type}`);
        continue;
      }
      const bytes = num * size;
      if (bytes > 4) {
        const voff = u32(e + 8);
        if (voff + bytes > b.length) throw bad(`tag ${tag} has ${num} values that run past the end of the file`);
      }
      if (SUB_IFD_TAGS.has(tag) && num > 0) {
        if (type !== 4 && type !== 13) throw bad(`tag ${tag} is not an IFD pointer`);
        if (num > 64) throw bad(`tag ${tag} points to ${num} sub-IFDs`);
        const at = bytes > 4 ? u32(e + 8) : e + 8;
        const ptrs = tag === 50740 ? 1 : num;
        for (let k = 0; k < ptrs; k++) walk(u32(at + 4 * k), depth + 1);
      }
    }
    return u32(end);
  };
  let next = u32(4);
  let pages = 0;
  try {
    while (next !== 0) {
      if (next + 6 > b.length) throw bad(`IFD offset ${next} is outside the file`);
      // utif2 stops at an IFD whose first field type is invalid; mirror that
      const cnt = u16(next);
      const typ = u16(next + 4);
      if (cnt !== 0 && (typ < 1 || typ > 13)) break;
      next = walk(next, 0);
      pages++;
    }
  } catch (e) {
    if (e instanceof RangeError) throw bad('a directory points outside the file');
    throw e;
  }
  if (pages === 0) throw bad('no image directory');
  return pages;
}

/**
 * Splits encapsulated pixel data (PS3.5 A.4) into per-frame byte streams: fragments with or
 * without a Basic Offset Table, several fragments per frame, or an Extended Offset Table.
 */
import { S2SError } from '@slice2solid/core';
import type { PixelCodec } from '../transfer-syntax.js';

export interface Fragment {
  /** Offset of the fragment's item tag from the first fragment's item tag (the BOT's unit). */
  readonly offset: number;
  /** The fragment's bytes (a view). */
  readonly bytes: Uint8Array;
}

/** True if `b` begins with the marker a new frame of this codec starts with. */
function startsFrame(b: Uint8Array, codec: PixelCodec): boolean {
  if (b.length < 2) return false;
  switch (codec) {
    case 'jpeg-baseline':
    case 'jpeg-extended':
    case 'jpeg-lossless':
    case 'jpeg-ls':
      return b[0] === 0xff && b[1] === 0xd8; // SOI
    case 'jpeg2000':
    case 'htj2k':
      // SOC of a raw codestream, or a JP2 file signature box.
      return (b[0] === 0xff && b[1] === 0x4f) || (b.length >= 8 && b[4] === 0x6a && b[5] === 0x50);
    default:
      return false;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
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

/**
 * Groups fragments into frames. Returns, for each frame, the list of fragment indices.
 * Order of evidence: Extended Offset Table, Basic Offset Table, one fragment per frame,
 * single frame = all fragments, codec start markers.
 */
export function groupFragments(
  fragments: readonly Fragment[],
  numberOfFrames: number,
  codec: PixelCodec,
  basicOffsetTable: readonly number[],
  extendedOffsets: readonly number[] | undefined,
  name: string,
): number[][] {
  const byOffsets = (offsets: readonly number[]): number[][] | undefined => {
    if (offsets.length !== numberOfFrames) return undefined;
    const frames: number[][] = [];
    for (let f = 0; f < numberOfFrames; f++) {
      const lo = offsets[f]!;
      const hi = f + 1 < numberOfFrames ? offsets[f + 1]! : Number.POSITIVE_INFINITY;
      if (hi < lo) return undefined;
      const list: number[] = [];
      fragments.forEach((fr, k) => {
        if (fr.offset >= lo && fr.offset < hi) list.push(k);
      });
      if (list.length === 0) return undefined;
      frames.push(list);
    }
    return frames;
  };
  if (extendedOffsets) {
    const g = byOffsets(extendedOffsets);
    if (g) return g;
  }
  if (basicOffsetTable.length > 0) {
    const g = byOffsets(basicOffsetTable);
    if (g) return g;
  }
  if (fragments.length === numberOfFrames) return fragments.map((_, k) => [k]);
  if (numberOfFrames === 1) return [fragments.map((_, k) => k)];
  // No usable offset table: a new frame starts at each fragment that begins with the codec's start marker.
  const frames: number[][] = [];
  fragments.forEach((fr, k) => {
    if (frames.length === 0 || startsFrame(fr.bytes, codec)) frames.push([k]);
    else frames[frames.length - 1]!.push(k);
  });
  if (frames.length !== numberOfFrames) {
    throw new S2SError(
      'MALFORMED_FILE',
      `cannot split ${fragments.length} pixel data fragments into ${numberOfFrames} frames (found ${frames.length} frame starts and no usable offset table)`,
      { hint: 'the encapsulated pixel data is damaged or NumberOfFrames is wrong; re-export the image', file: name },
    );
  }
  return frames;
}

/** The bytes of one frame: its fragments concatenated. */
export function frameBytes(fragments: readonly Fragment[], groups: readonly number[][], index: number): Uint8Array {
  const g = groups[index] ?? [];
  return concat(g.map((k) => fragments[k]!.bytes));
}

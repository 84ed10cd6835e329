/**
 * decodeFrame: one frame of pixel data -> stored values, for every supported transfer syntax.
 */
import { S2SError } from '@slice2solid/core';
import type { TransferSyntaxInfo } from '../transfer-syntax.js';
import type { DecodedFrame } from '../types.js';
import { decodeWithCodec } from './codecs.js';
import { type Fragment, frameBytes } from './frames.js';
import { finishFrame, nativeGreyInto, type PixelLayout, unpackNative } from './pixels.js';
import { decodeRle } from './rle.js';

export type PixelSource =
  | {
      readonly kind: 'native';
      /** The Pixel Data value (possibly shorter than declared if the file is truncated). */
      readonly bytes: Uint8Array;
      readonly bigEndian: boolean;
      /** 8-bit samples stored as OW in a big-endian file: bytes are swapped in pairs. */
      readonly swapPairs: boolean;
    }
  | {
      readonly kind: 'encapsulated';
      readonly fragments: readonly Fragment[];
      /** Fragment indices of each frame. */
      readonly groups: readonly number[][];
    };

function swapPairs(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let k = 0; k + 1 < b.length; k += 2) {
    out[k] = b[k + 1]!;
    out[k + 1] = b[k]!;
  }
  if (b.length % 2) out[b.length - 1] = b[b.length - 1]!;
  return out;
}

export function decodeFrameFrom(src: PixelSource, l: PixelLayout, ts: TransferSyntaxInfo, index: number): DecodedFrame {
  if (!Number.isInteger(index) || index < 0 || index >= l.numberOfFrames) {
    throw new S2SError('INVALID_ARGUMENT', `frame ${index} does not exist; the file has ${l.numberOfFrames} frame(s)`, {
      file: l.name,
    });
  }
  if (src.kind === 'native') {
    const bytes = src.swapPairs ? swapPairs(src.bytes) : src.bytes;
    const raw = unpackNative(bytes, l, index, src.bigEndian);
    const pi = l.photometricInterpretation.toUpperCase();
    const shift = l.bitsAllocated === 1 ? 0 : Math.max(0, l.highBit + 1 - l.bitsStored);
    return finishFrame(raw, l, {
      shift,
      planar: l.samplesPerPixel > 1 && l.planarConfiguration === 1 && pi !== 'YBR_FULL_422',
      colourDone: false,
    });
  }
  const frame = frameBytes(src.fragments, src.groups, index);
  if (frame.length === 0) {
    throw new S2SError('TRUNCATED_FILE', `frame ${index} has no compressed data`, {
      hint: 'the encapsulated pixel data ends early; the file is incomplete',
      file: l.name,
    });
  }
  if (ts.codec === 'rle') {
    // RLE segments are always planar (one per sample byte plane), whatever PlanarConfiguration says.
    const shift = Math.max(0, l.highBit + 1 - l.bitsStored);
    return finishFrame(decodeRle(frame, l), l, { shift, planar: true, colourDone: false });
  }
  const decoded = decodeWithCodec(ts, frame, l);
  return finishFrame(decoded.values, l, { shift: 0, planar: decoded.planar, colourDone: decoded.colourDone });
}

/**
 * Fast path of decodeFrameFrom + rescale for native grey frames: writes `stored * slope + intercept`
 * of frame `index` straight into `target` at `offset` (see nativeGreyInto) and widens `range`.
 * Returns false, writing nothing, when the frame needs the general path (compressed, colour,
 * big-endian 16-bit, non-integer rescale...).
 */
export function decodeFrameIntoFrom(
  src: PixelSource,
  l: PixelLayout,
  index: number,
  target: Int16Array | Float32Array,
  offset: number,
  slope: number,
  intercept: number,
  range: [number, number],
): boolean {
  if (src.kind !== 'native' || src.swapPairs) return false;
  if (!Number.isInteger(index) || index < 0 || index >= l.numberOfFrames) return false;
  const shift = Math.max(0, l.highBit + 1 - l.bitsStored);
  return nativeGreyInto(src.bytes, l, index, src.bigEndian, shift, target, offset, slope, intercept, range);
}

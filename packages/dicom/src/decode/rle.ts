/**
 * DICOM RLE Lossless (PS3.5 Annex G) decoder.
 *
 * Written here rather than taken from a library because it is tiny (one header + PackBits per
 * byte plane), follows the standard's text exactly, needs no WASM or Node APIs (so it runs the
 * same in browsers and Node), and lets every malformed input become a clear S2SError.
 */
import { S2SError } from '@slice2solid/core';
import type { PixelLayout } from './pixels.js';

/** PackBits-decodes `src[start, end)` into exactly `out.length` bytes; returns bytes produced. */
function unpackBits(src: Uint8Array, start: number, end: number, out: Uint8Array): number {
  let p = start;
  let o = 0;
  const n = out.length;
  while (p < end && o < n) {
    const h = src[p++]!;
    if (h < 128) {
      // literal run of h + 1 bytes
      const len = Math.min(h + 1, n - o, end - p);
      out.set(src.subarray(p, p + len), o);
      o += len;
      p += h + 1;
    } else if (h > 128) {
      // replicate next byte 257 - h times
      if (p >= end) break;
      const v = src[p++]!;
      const len = Math.min(257 - h, n - o);
      out.fill(v, o, o + len);
      o += len;
    }
    // h === 128 is a no-op
  }
  return o;
}

/**
 * Decodes one RLE frame to raw container values in PLANAR order (all of sample 0, then sample 1...).
 */
export function decodeRle(frame: Uint8Array, l: PixelLayout): Uint8Array | Uint16Array | Uint32Array {
  const fail = (why: string) =>
    new S2SError('DECODE_FAILED', `RLE frame is damaged: ${why}`, {
      hint: 'the RLE Lossless pixel data does not follow PS3.5 Annex G; re-export the image uncompressed',
      file: l.name,
    });
  if (frame.length < 64) throw fail(`the frame has ${frame.length} bytes, less than its 64-byte header`);
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const nSeg = dv.getUint32(0, true);
  const bytesPerSample = Math.ceil(l.bitsAllocated / 8);
  const expected = l.samplesPerPixel * bytesPerSample;
  if (l.bitsAllocated !== 8 && l.bitsAllocated !== 16 && l.bitsAllocated !== 32) {
    throw fail(`BitsAllocated ${l.bitsAllocated} cannot be RLE-coded`);
  }
  if (nSeg !== expected) throw fail(`it has ${nSeg} segments but ${expected} are needed`);
  const pixels = l.rows * l.columns;
  const n = pixels * l.samplesPerPixel;
  const out = bytesPerSample === 1 ? new Uint8Array(n) : bytesPerSample === 2 ? new Uint16Array(n) : new Uint32Array(n);
  const plane = new Uint8Array(pixels);
  for (let s = 0; s < nSeg; s++) {
    const start = dv.getUint32(4 + 4 * s, true);
    const end = s + 1 < nSeg ? dv.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || start > frame.length || end < start) throw fail(`segment ${s + 1} has a bad offset`);
    plane.fill(0);
    const got = unpackBits(frame, start, Math.min(end, frame.length), plane);
    if (got < pixels) throw fail(`segment ${s + 1} decodes to ${got} bytes, ${pixels} expected (truncated?)`);
    const sample = Math.floor(s / bytesPerSample);
    // Segments of one sample go from the most significant byte to the least.
    const byteShift = 8 * (bytesPerSample - 1 - (s % bytesPerSample));
    const base = sample * pixels;
    if (bytesPerSample === 1) out.set(plane, base);
    else for (let p = 0; p < pixels; p++) out[base + p] = (out[base + p]! + plane[p]! * 2 ** byteShift) >>> 0;
  }
  return out;
}

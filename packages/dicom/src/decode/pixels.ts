/**
 * Native (uncompressed) pixel unpacking and the steps shared by every codec: bit masking and
 * sign extension (BitsStored / HighBit / PixelRepresentation), planar -> interleaved, YBR -> RGB
 * and palette colour -> RGB.
 */
import { S2SError, type VoxelArray } from '@slice2solid/core';
import type { DecodedFrame } from '../types.js';

/** Palette colour lookup table (PS3.3 C.7.6.3.1.5). */
export interface PaletteLut {
  /** Stored value mapped to entry 0. */
  readonly firstMapped: number;
  /** 8 or 16. */
  readonly bits: number;
  readonly red: ArrayLike<number>;
  readonly green: ArrayLike<number>;
  readonly blue: ArrayLike<number>;
}

/** The pixel description decode needs (a subset of DicomFile). */
export interface PixelLayout {
  readonly name: string;
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly highBit: number;
  readonly pixelRepresentation: number;
  readonly photometricInterpretation: string;
  readonly planarConfiguration: number;
  readonly numberOfFrames: number;
  readonly palette?: PaletteLut | undefined;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Integer typed array just wide enough for `bits` (signed or not). */
export function integerArray(
  bits: number,
  signed: boolean,
  n: number,
): Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array {
  if (bits <= 8) return signed ? new Int8Array(n) : new Uint8Array(n);
  if (bits <= 16) return signed ? new Int16Array(n) : new Uint16Array(n);
  return signed ? new Int32Array(n) : new Uint32Array(n);
}

/** Bytes one native frame occupies (bitsAllocated 1 frames are bit-packed, possibly not byte aligned). */
export function nativeFrameBits(l: PixelLayout): number {
  return l.rows * l.columns * l.samplesPerPixel * l.bitsAllocated;
}

/**
 * Unpacks native frame `index` from the Pixel Data value `bytes` into raw container values
 * (unsigned, in file sample order). `swap16` for OW data in big-endian files with 8-bit samples.
 */
export function unpackNative(
  bytes: Uint8Array,
  l: PixelLayout,
  index: number,
  bigEndian: boolean,
): Uint8Array | Uint16Array | Uint32Array {
  const n = l.rows * l.columns * l.samplesPerPixel;
  const frameBits = nativeFrameBits(l);
  const startBit = frameBits * index;
  const endByte = Math.ceil((startBit + frameBits) / 8);
  if (endByte > bytes.length) {
    throw new S2SError(
      'TRUNCATED_FILE',
      `pixel data holds ${bytes.length} bytes but frame ${index} needs bytes up to ${endByte}`,
      { hint: 'the file was cut short (incomplete copy or transfer); copy it again from the source', file: l.name },
    );
  }
  switch (l.bitsAllocated) {
    case 1: {
      const out = new Uint8Array(n);
      for (let k = 0; k < n; k++) {
        const bit = startBit + k;
        out[k] = (bytes[bit >> 3]! >> (bit & 7)) & 1; // PS3.5 8.1.1: little-endian bit order within a byte
      }
      return out;
    }
    case 8:
      return bytes.slice(startBit / 8, startBit / 8 + n);
    case 16: {
      const at = bytes.byteOffset + startBit / 8;
      // Little-endian host and data, aligned: a view, no copy (storedValues copies once).
      if (!bigEndian && at % 2 === 0 && LITTLE_ENDIAN_HOST) return new Uint16Array(bytes.buffer, at, n);
      const out = new Uint16Array(n);
      const dv = new DataView(bytes.buffer, bytes.byteOffset + startBit / 8, n * 2);
      const le = !bigEndian;
      for (let k = 0; k < n; k++) out[k] = dv.getUint16(k * 2, le);
      return out;
    }
    case 32: {
      const out = new Uint32Array(n);
      const dv = new DataView(bytes.buffer, bytes.byteOffset + startBit / 8, n * 4);
      const le = !bigEndian;
      for (let k = 0; k < n; k++) out[k] = dv.getUint32(k * 4, le);
      return out;
    }
    default:
      throw new S2SError('UNSUPPORTED_FORMAT', `BitsAllocated ${l.bitsAllocated} is not supported`, {
        hint: 'only 1, 8, 16 and 32 bits per sample are defined for native pixel data',
        file: l.name,
      });
  }
}

/**
 * Stored values from raw container values: drop bits outside BitsStored (shifted down by
 * HighBit + 1 - BitsStored for native data) and sign-extend two's complement values.
 * Returns the smallest exact typed array for BitsStored and PixelRepresentation.
 */
export function storedValues(raw: ArrayLike<number>, l: PixelLayout, shift: number): VoxelArray {
  const bits = Math.min(Math.max(l.bitsStored, 1), 32);
  const signed = l.pixelRepresentation === 1;
  const out = integerArray(bits, signed, raw.length);
  const n = raw.length;
  if (bits === 32) {
    for (let k = 0; k < n; k++) out[k] = raw[k]! >>> shift; // the typed array wraps to signed if needed
    return out;
  }
  // Values may arrive as unsigned container values or already signed (codecs): `>>>` and the
  // mask reduce both to the low `bits` bits; the shift pair sign-extends.
  // Fast paths: the container is exactly BitsStored wide, nothing to mask.
  if (shift === 0 && bits === 16 && raw instanceof Uint16Array) {
    const copy = raw.slice();
    return signed ? new Int16Array(copy.buffer) : copy;
  }
  if (shift === 0 && bits === 8 && raw instanceof Uint8Array) {
    const copy = raw.slice();
    return signed ? new Int8Array(copy.buffer) : copy;
  }
  const mask = 2 ** bits - 1;
  const up = 32 - bits;
  if (raw instanceof Uint16Array) {
    // the usual case (e.g. 12 bits stored in 16): a monomorphic loop, the hot path of CT loads
    if (signed) for (let k = 0; k < n; k++) out[k] = (((raw[k]! >>> shift) & mask) << up) >> up;
    else for (let k = 0; k < n; k++) out[k] = (raw[k]! >>> shift) & mask;
    return out;
  }
  if (signed) for (let k = 0; k < n; k++) out[k] = (((raw[k]! >>> shift) & mask) << up) >> up;
  else for (let k = 0; k < n; k++) out[k] = (raw[k]! >>> shift) & mask;
  return out;
}

/**
 * The fused fast path of `unpackNative` + `storedValues` + rescale for the usual grey native frame
 * (16 or 8 bits allocated, little-endian host and data, 1 sample, not palette colour): reads the
 * container values in place (no copy), keeps BitsStored (shifted down by `shift`, sign-extended when
 * PixelRepresentation is 1), writes `stored * slope + intercept` to `target[offset ..]` and widens
 * `range` ([min, max]) by the values written. Only integer slope and intercept are taken, so every
 * value is an integer (exact in float64; a Float32 store rounds it exactly like the generic path's
 * store). The caller guarantees that the values fit `target` (for Int16: a rescaled range within
 * int16).
 *
 * Returns false, writing nothing, when the frame is not of that kind; then use `unpackNative` +
 * `finishFrame`. Throws TRUNCATED_FILE like `unpackNative` when the frame runs past the data.
 */
export function nativeGreyInto(
  bytes: Uint8Array,
  l: PixelLayout,
  index: number,
  bigEndian: boolean,
  shift: number,
  target: Int16Array | Float32Array,
  offset: number,
  slope: number,
  intercept: number,
  range: [number, number],
): boolean {
  if (l.samplesPerPixel !== 1 || (l.bitsAllocated !== 16 && l.bitsAllocated !== 8)) return false;
  if (l.photometricInterpretation.toUpperCase() === 'PALETTE COLOR') return false;
  if (bigEndian && l.bitsAllocated === 16) return false;
  if (!LITTLE_ENDIAN_HOST) return false;
  if (!Number.isInteger(slope) || !Number.isInteger(intercept)) return false;
  const n = l.rows * l.columns;
  if (!Number.isInteger(offset) || offset < 0 || offset + n > target.length) return false;
  const frameBytes = (n * l.bitsAllocated) / 8;
  const start = frameBytes * index;
  if (start + frameBytes > bytes.length) {
    throw new S2SError(
      'TRUNCATED_FILE',
      `pixel data holds ${bytes.length} bytes but frame ${index} needs bytes up to ${start + frameBytes}`,
      { hint: 'the file was cut short (incomplete copy or transfer); copy it again from the source', file: l.name },
    );
  }
  const at = bytes.byteOffset + start;
  if (l.bitsAllocated === 16 && at % 2 !== 0) return false;
  const bits = Math.min(Math.max(l.bitsStored, 1), l.bitsAllocated);
  const signed = l.pixelRepresentation === 1;
  const k: Kernel = { shift, mask: 2 ** bits - 1, up: 32 - bits, slope, intercept, lo: 0, hi: 0 };
  const t = target.subarray(offset, offset + n);
  if (l.bitsAllocated === 16 && target instanceof Int16Array && slope === 1) {
    // the CT case: two pixels per 32-bit word when aligned, integer arithmetic throughout
    if (at % 4 === 0 && t.byteOffset % 4 === 0 && n % 2 === 0) {
      const r32 = new Uint32Array(bytes.buffer, at, n / 2);
      const t32 = new Int32Array(t.buffer, t.byteOffset, n / 2);
      if (signed) pairsSigned(r32, t32, k);
      else pairsUnsigned(r32, t32, k);
    } else {
      const raw = new Uint16Array(bytes.buffer, at, n);
      if (signed) addSigned(raw, t as Int16Array, k);
      else addUnsigned(raw, t as Int16Array, k);
    }
  } else {
    const raw = l.bitsAllocated === 16 ? new Uint16Array(bytes.buffer, at, n) : bytes.subarray(start, start + n);
    generic(raw, t, signed, k);
  }
  if (k.lo < range[0]) range[0] = k.lo;
  if (k.hi > range[1]) range[1] = k.hi;
  return true;
}

/** Parameters and result (lo, hi: min and max written) of the kernels below. */
interface Kernel {
  readonly shift: number;
  readonly mask: number;
  readonly up: number;
  readonly slope: number;
  readonly intercept: number;
  lo: number;
  hi: number;
}

// The kernels are small monomorphic functions (one array type each) so V8 optimizes their loops;
// n >= 1 always (rows, columns >= 1), so min/max start from the first value.

function pairsSigned(r32: Uint32Array, t32: Int32Array, k: Kernel): void {
  const { shift, mask, up, intercept } = k;
  const shift2 = shift + 16;
  let lo = ((((r32[0]! >>> shift) & mask) << up) >> up) + intercept;
  let hi = lo;
  for (let q = 0; q < r32.length; q++) {
    const w = r32[q]!;
    const a = ((((w >>> shift) & mask) << up) >> up) + intercept;
    const b = ((((w >>> shift2) & mask) << up) >> up) + intercept;
    t32[q] = (a & 0xffff) | (b << 16);
    // biome-ignore lint/complexity/useMathMinMax: the ternary is faster in this hot loop (V8 20)
    const mn = a < b ? a : b;
    // biome-ignore lint/complexity/useMathMinMax: as above
    const mx = a < b ? b : a;
    if (mn < lo) lo = mn;
    if (mx > hi) hi = mx;
  }
  k.lo = lo;
  k.hi = hi;
}

function pairsUnsigned(r32: Uint32Array, t32: Int32Array, k: Kernel): void {
  const { shift, mask, intercept } = k;
  const shift2 = shift + 16;
  let lo = ((r32[0]! >>> shift) & mask) + intercept;
  let hi = lo;
  for (let q = 0; q < r32.length; q++) {
    const w = r32[q]!;
    const a = ((w >>> shift) & mask) + intercept;
    const b = ((w >>> shift2) & mask) + intercept;
    t32[q] = (a & 0xffff) | (b << 16);
    // biome-ignore lint/complexity/useMathMinMax: the ternary is faster in this hot loop (V8 20)
    const mn = a < b ? a : b;
    // biome-ignore lint/complexity/useMathMinMax: as above
    const mx = a < b ? b : a;
    if (mn < lo) lo = mn;
    if (mx > hi) hi = mx;
  }
  k.lo = lo;
  k.hi = hi;
}

function addSigned(raw: Uint16Array, t: Int16Array, k: Kernel): void {
  const { shift, mask, up, intercept } = k;
  let lo = ((((raw[0]! >>> shift) & mask) << up) >> up) + intercept;
  let hi = lo;
  for (let q = 0; q < raw.length; q++) {
    const v = ((((raw[q]! >>> shift) & mask) << up) >> up) + intercept;
    t[q] = v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  k.lo = lo;
  k.hi = hi;
}

function addUnsigned(raw: Uint16Array, t: Int16Array, k: Kernel): void {
  const { shift, mask, intercept } = k;
  let lo = ((raw[0]! >>> shift) & mask) + intercept;
  let hi = lo;
  for (let q = 0; q < raw.length; q++) {
    const v = ((raw[q]! >>> shift) & mask) + intercept;
    t[q] = v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  k.lo = lo;
  k.hi = hi;
}

function generic(raw: Uint16Array | Uint8Array, t: Int16Array | Float32Array, signed: boolean, k: Kernel): void {
  const { shift, mask, up, slope, intercept } = k;
  let lo = Infinity;
  let hi = -Infinity;
  for (let q = 0; q < raw.length; q++) {
    const s = signed ? (((raw[q]! >>> shift) & mask) << up) >> up : (raw[q]! >>> shift) & mask;
    t[q] = s * slope + intercept;
    const v = t[q]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  k.lo = lo;
  k.hi = hi;
}

/** Sample order planar (RRR..GGG..BBB) -> interleaved (RGBRGB). */
export function planarToInterleaved<T extends VoxelArray>(d: T, pixels: number, samples: number): T {
  const out = new (d.constructor as new (n: number) => T)(d.length);
  for (let s = 0; s < samples; s++) {
    for (let p = 0; p < pixels; p++) out[p * samples + s] = d[s * pixels + p]!;
  }
  return out;
}

function clamp8(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/** YBR_FULL (interleaved) -> RGB in place, PS3.3 C.7.6.3.1.2. Works for 8-bit samples. */
export function ybrFullToRgb(d: Uint8Array, maxValue = 255): void {
  const half = (maxValue + 1) / 2;
  for (let p = 0; p + 2 < d.length; p += 3) {
    const y = d[p]!;
    const cb = d[p + 1]! - half;
    const cr = d[p + 2]! - half;
    d[p] = clamp8(y + 1.402 * cr);
    d[p + 1] = clamp8(y - 0.344136 * cb - 0.714136 * cr);
    d[p + 2] = clamp8(y + 1.772 * cb);
  }
}

/** Native YBR_FULL_422 (Y1 Y2 Cb Cr per horizontal pixel pair) -> YBR_FULL interleaved. */
export function expand422(d: Uint8Array, rows: number, columns: number): Uint8Array {
  const out = new Uint8Array(rows * columns * 3);
  let src = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns; c += 2) {
      const y1 = d[src++] ?? 0;
      const y2 = d[src++] ?? 0;
      const cb = d[src++] ?? 0;
      const cr = d[src++] ?? 0;
      const o = (r * columns + c) * 3;
      out[o] = y1;
      out[o + 1] = cb;
      out[o + 2] = cr;
      if (c + 1 < columns) {
        out[o + 3] = y2;
        out[o + 4] = cb;
        out[o + 5] = cr;
      }
    }
  }
  return out;
}

/** Palette colour -> RGB (8-bit LUTs give Uint8, 16-bit LUTs Uint16). */
export function applyPalette(index: ArrayLike<number>, lut: PaletteLut): Uint8Array | Uint16Array {
  const n = index.length;
  const out = lut.bits <= 8 ? new Uint8Array(n * 3) : new Uint16Array(n * 3);
  const last = Math.min(lut.red.length, lut.green.length, lut.blue.length) - 1;
  if (last < 0) return out;
  for (let p = 0; p < n; p++) {
    let e = index[p]! - lut.firstMapped;
    e = e < 0 ? 0 : Math.min(e, last);
    out[p * 3] = lut.red[e]!;
    out[p * 3 + 1] = lut.green[e]!;
    out[p * 3 + 2] = lut.blue[e]!;
  }
  return out;
}

/**
 * From decoded container values (samples in file order) to the DecodedFrame contract.
 * `colourDone`: the codec already returned RGB (JPEG/J2K colour transforms), so YBR is not re-converted.
 * `planar`: the values are in planar order (native/RLE with PlanarConfiguration 1, RLE always).
 */
export function finishFrame(
  raw: ArrayLike<number>,
  l: PixelLayout,
  opts: { shift: number; planar: boolean; colourDone: boolean },
): DecodedFrame {
  const pixels = l.rows * l.columns;
  const pi = l.photometricInterpretation.toUpperCase();
  if (l.samplesPerPixel === 1) {
    const expected = pixels;
    if (raw.length < expected) {
      throw new S2SError('DECODE_FAILED', `decoded ${raw.length} values but ${l.rows}x${l.columns} needs ${expected}`, {
        hint: 'the compressed frame does not match the image size in the header; the file is damaged',
        file: l.name,
      });
    }
    const values = storedValues(
      raw.length === expected ? raw : Array.prototype.slice.call(raw, 0, expected),
      l,
      opts.shift,
    );
    if (pi === 'PALETTE COLOR') {
      if (!l.palette) {
        throw new S2SError('MALFORMED_FILE', 'PALETTE COLOR image without a usable palette lookup table', {
          hint: 'the Red/Green/Blue Palette Color Lookup Table Descriptor and Data (0028,1101-1203) are missing or damaged',
          file: l.name,
        });
      }
      return { data: applyPalette(values, l.palette), samples: 3 };
    }
    return { data: values, samples: 1 };
  }
  if (l.samplesPerPixel !== 3) {
    throw new S2SError('UNSUPPORTED_FORMAT', `SamplesPerPixel ${l.samplesPerPixel} is not supported`, {
      hint: 'slice2solid reads grey (1 sample) and colour (3 samples) images',
      file: l.name,
    });
  }
  const is422 = pi === 'YBR_FULL_422' && !opts.colourDone;
  const expected = is422 ? pixels * 2 : pixels * 3;
  if (raw.length < expected) {
    throw new S2SError(
      'DECODE_FAILED',
      `decoded ${raw.length} values but a ${l.rows}x${l.columns} colour image needs ${expected}`,
      {
        hint: 'the compressed frame does not match the image size in the header; the file is damaged',
        file: l.name,
      },
    );
  }
  let values = storedValues(
    raw.length === expected ? raw : Array.prototype.slice.call(raw, 0, expected),
    l,
    opts.shift,
  );
  if (opts.planar && !is422) values = planarToInterleaved(values, pixels, 3);
  if (!opts.colourDone && values instanceof Uint8Array) {
    if (is422) {
      values = expand422(values, l.rows, l.columns);
      ybrFullToRgb(values);
    } else if (pi === 'YBR_FULL') {
      ybrFullToRgb(values);
    }
  }
  return { data: values, samples: 3 };
}

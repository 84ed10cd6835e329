/**
 * Decodes and rescales the images of a sorted stack into one voxel array (layout: component
 * fastest, then i, j, k, frame). Rescale slope/intercept are applied per image, so per-frame
 * rescale (enhanced objects, Philips) is honoured. The output is Int16 when every rescaled value
 * is an integer that fits, Uint8 for 8-bit colour, otherwise Float32.
 */
import { progressReporter, type RunOptions, S2SError, type VoxelArray, valueRange } from '@slice2solid/core';
import type { DicomFile } from '../types.js';
import { extractTile, type MosaicLayout, mosaicLayout } from './expand.js';
import type { StackLayout } from './stack.js';

export interface AssembledStack {
  readonly data: VoxelArray;
  readonly components: number;
  readonly frames: number;
  readonly range: readonly [number, number];
  readonly rescale: { readonly slope: number; readonly intercept: number } | 'per-frame';
}

function storedRange(f: DicomFile): [number, number] {
  const bits = Math.min(Math.max(f.bitsStored || f.bitsAllocated || 16, 1), 32);
  if (f.pixelRepresentation === 1) return [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
  return [0, 2 ** bits - 1];
}

/**
 * Memory for the voxels: a SharedArrayBuffer under Node, so worker threads (the ParallelRunner of
 * @slice2solid/ops/node) read the volume without a copy; a plain ArrayBuffer elsewhere (browsers
 * offer SharedArrayBuffer only to cross-origin isolated pages and refuse it in transfer lists).
 */
function voxelBuffer(bytes: number): ArrayBuffer {
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
  if (typeof node === 'string' && typeof SharedArrayBuffer !== 'undefined') {
    return new SharedArrayBuffer(bytes) as unknown as ArrayBuffer;
  }
  return new ArrayBuffer(bytes);
}

export function assembleStack(layout: StackLayout, options: RunOptions = {}): AssembledStack {
  const nT = layout.slices.length;
  const nK = layout.positions.length;
  const comps = layout.samples;
  const slice = layout.columns * layout.rows * comps;
  const total = slice * nK * nT;
  const all = layout.slices.flat();
  const s0 = all[0]!;
  const perFrame = all.some((im) => im.slope !== s0.slope || im.intercept !== s0.intercept);
  const integerRescale = all.every((im) => Number.isInteger(im.slope) && Number.isInteger(im.intercept));
  // theoretical range after rescale
  let lo = Infinity;
  let hi = -Infinity;
  for (const im of all) {
    const [a, b] = storedRange(im.file);
    const x = a * im.slope + im.intercept;
    const y = b * im.slope + im.intercept;
    lo = Math.min(lo, x, y);
    hi = Math.max(hi, x, y);
  }
  const colour8 = comps > 1 && all.every((im) => im.file.bitsAllocated <= 8 && im.slope === 1 && im.intercept === 0);
  let out: VoxelArray;
  let mode: 'u8' | 'i16' | 'f32';
  if (colour8) {
    out = new Uint8Array(total);
    mode = 'u8';
  } else if (integerRescale && lo >= -32768 && hi <= 32767) {
    out = new Int16Array(voxelBuffer(2 * total));
    mode = 'i16';
  } else {
    out = new Float32Array(voxelBuffer(4 * total));
    mode = 'f32';
  }
  const tick = progressReporter('assemble', nT * nK, options);
  let vmin = Infinity;
  let vmax = -Infinity;
  let integral = true;
  const mosaics = new Map<DicomFile, MosaicLayout | undefined>();
  let cacheKey: unknown;
  let cacheFrame: { data: ArrayLike<number>; samples: number } | undefined;
  let done = 0;
  // running min/max of the Int16 output (filled by the i16 loops; other modes scan at the end)
  const i16Range: [number, number] = [Infinity, -Infinity];
  // min/max of what the fast path wrote into a Float32 output (the end scan still covers it)
  const f32Range: [number, number] = [Infinity, -Infinity];
  let i16Tracked = true;
  for (let t = 0; t < nT; t++) {
    for (let k = 0; k < nK; k++) {
      const im = layout.slices[t]![k]!;
      const file = im.file;
      let m = mosaics.get(file);
      if (!mosaics.has(file)) {
        m = mosaicLayout(file);
        mosaics.set(file, m);
      }
      const base = (t * nK + k) * slice;
      const a = im.slope;
      const b = im.intercept;
      // fast path: a native grey frame decoded and rescaled straight into the output (no copies)
      if (
        !m &&
        comps === 1 &&
        (mode === 'i16' || mode === 'f32') &&
        file.decodeFrameInto !== undefined &&
        file.samplesPerPixel === 1 &&
        file.rows === layout.rows &&
        file.columns === layout.columns
      ) {
        let used: boolean;
        try {
          used = file.decodeFrameInto(
            im.frameIndex,
            out as Int16Array | Float32Array,
            base,
            a,
            b,
            mode === 'i16' ? i16Range : f32Range,
          );
        } catch (e) {
          if (e instanceof S2SError) throw e.withFile(file.name);
          throw new S2SError('DECODE_FAILED', `frame ${im.frameIndex} could not be decoded: ${(e as Error).message}`, {
            file: file.name,
            cause: e,
          });
        }
        if (used) {
          tick(++done);
          continue;
        }
      }
      const key = `${im.fileOrder}:${im.frameIndex}`;
      if (key !== cacheKey || !cacheFrame) {
        try {
          cacheFrame = file.decodeFrame(im.frameIndex);
        } catch (e) {
          if (e instanceof S2SError) throw e.withFile(file.name);
          throw new S2SError('DECODE_FAILED', `frame ${im.frameIndex} could not be decoded: ${(e as Error).message}`, {
            file: file.name,
            cause: e,
          });
        }
        cacheKey = key;
      }
      const decoded = cacheFrame;
      if (decoded.samples !== comps) {
        throw new S2SError('INCONSISTENT_SERIES', `decoded ${decoded.samples} samples per pixel, expected ${comps}`, {
          file: file.name,
        });
      }
      if (mode === 'i16' && (decoded.data instanceof Float32Array || decoded.data instanceof Float64Array)) {
        // floating-point pixel data: keep full precision
        out = Float32Array.from(out);
        mode = 'f32';
        i16Tracked = false;
      }
      const src = extractTile(decoded.data, file, comps, im.tile, m);
      if (src.length < slice) {
        throw new S2SError('TRUNCATED_FILE', `frame ${im.frameIndex} has ${src.length} values, expected ${slice}`, {
          file: file.name,
          hint: 'the pixel data is shorter than rows x columns; the file is probably truncated',
        });
      }
      if (mode === 'u8') {
        for (let n = 0; n < slice; n++) out[base + n] = src[n]!;
      } else if (mode === 'i16') {
        if (a === 1 && b === 0 && src instanceof Int16Array) {
          // the common CT case (signed storage, intercept folded in by the writer): one block copy
          (out as Int16Array).set(src.subarray(0, slice), base);
          rangeInto(out as Int16Array, base, slice, i16Range);
        } else {
          rescaleInto(out as Int16Array, base, src, slice, a, b, i16Range);
        }
      } else {
        for (let n = 0; n < slice; n++) {
          const v = src[n]! * a + b;
          out[base + n] = v;
          if (integral && !Number.isInteger(v)) integral = false;
        }
      }
      tick(++done);
    }
  }
  if (mode === 'i16' && i16Tracked) [vmin, vmax] = out.length > 0 ? i16Range : [0, 0];
  else [vmin, vmax] = out.length > 0 ? valueRange(out) : [0, 0];
  if (mode === 'f32' && integral && vmin >= -32768 && vmax <= 32767) {
    out = Int16Array.from(out as Float32Array);
  }
  return {
    data: out,
    components: comps,
    frames: nT,
    range: [vmin, vmax],
    rescale: perFrame ? 'per-frame' : { slope: s0.slope, intercept: s0.intercept },
  };
}

/**
 * out[base + q] = src[q] * a + b for q < n, tracking the min/max of what was written in `acc`.
 * Monomorphic loops for the usual decoded array types: this is the hot path of every load.
 */
function rescaleInto(
  out: Int16Array,
  base: number,
  src: ArrayLike<number>,
  n: number,
  a: number,
  b: number,
  acc: [number, number],
): void {
  let lo = acc[0];
  let hi = acc[1];
  if (src instanceof Uint16Array) {
    for (let q = 0; q < n; q++) {
      const v = src[q]! * a + b;
      out[base + q] = v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  } else if (src instanceof Int16Array) {
    for (let q = 0; q < n; q++) {
      const v = src[q]! * a + b;
      out[base + q] = v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  } else {
    for (let q = 0; q < n; q++) {
      const v = src[q]! * a + b;
      out[base + q] = v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  acc[0] = lo;
  acc[1] = hi;
}

function rangeInto(out: Int16Array, base: number, n: number, acc: [number, number]): void {
  let lo = acc[0];
  let hi = acc[1];
  for (let q = base; q < base + n; q++) {
    const v = out[q]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  acc[0] = lo;
  acc[1] = hi;
}

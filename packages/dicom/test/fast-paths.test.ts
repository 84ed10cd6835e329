/**
 * The performance fast paths must give exactly what the general paths give:
 * - nativeGreyInto (decode + BitsStored/sign + rescale + min/max fused, written straight into the
 *   volume) against unpackNative + storedValues + rescale, over random layouts and alignments;
 * - loadDicomSeries with and without DicomFile.decodeFrameInto, on written CT series;
 * - anonymizeDicom's `parts` (pixel data passed through as a view) against one joined buffer.
 */
import { makeGrid, makeVolume, S2SError } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { nativeGreyInto, type PixelLayout, storedValues, unpackNative } from '../src/decode/pixels.js';
import { anonymizeDicom } from '../src/deid/anonymize.js';
import { concatParts, EXPLICIT_LE, readDataset, writeElementParts, writeElements } from '../src/deid/element-io.js';
import { loadDicomSeries } from '../src/load.js';
import { parseDicom, parseDicomDataSet } from '../src/parse.js';
import type { DicomFile } from '../src/types.js';
import { writeCtSeries } from '../src/write/ct-series.js';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function layout(p: Partial<PixelLayout>): PixelLayout {
  return {
    name: 'test',
    rows: 3,
    columns: 4,
    samplesPerPixel: 1,
    bitsAllocated: 16,
    bitsStored: 12,
    highBit: 11,
    pixelRepresentation: 0,
    photometricInterpretation: 'MONOCHROME2',
    planarConfiguration: 0,
    numberOfFrames: 1,
    ...p,
  };
}

/** The general path: unpack, keep BitsStored, rescale with the generic store. */
function reference(
  bytes: Uint8Array,
  l: PixelLayout,
  index: number,
  target: Int16Array | Float32Array,
  offset: number,
  slope: number,
  intercept: number,
): [number, number] {
  const shift = Math.max(0, l.highBit + 1 - l.bitsStored);
  const stored = storedValues(unpackNative(bytes, l, index, false), l, shift);
  let lo = Infinity;
  let hi = -Infinity;
  for (let q = 0; q < stored.length; q++) {
    target[offset + q] = stored[q]! * slope + intercept;
    const v = target[offset + q]!;
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [lo, hi];
}

describe('nativeGreyInto (fused native decode + rescale)', () => {
  it('equals unpackNative + storedValues + rescale for random layouts, alignments and targets', () => {
    const r = rng(20261122);
    let cases = 0;
    for (let trial = 0; trial < 400; trial++) {
      const bitsAllocated = r() < 0.75 ? 16 : 8;
      const bitsStored = 1 + Math.floor(r() * bitsAllocated);
      const highBit = bitsStored - 1 + Math.floor(r() * (bitsAllocated - bitsStored + 1));
      const signed = r() < 0.5 ? 1 : 0;
      const rows = 1 + Math.floor(r() * 5);
      const columns = 1 + Math.floor(r() * 6);
      const frames = 1 + Math.floor(r() * 3);
      const l = layout({
        rows,
        columns,
        bitsAllocated,
        bitsStored,
        highBit,
        pixelRepresentation: signed,
        numberOfFrames: frames,
      });
      const n = rows * columns;
      const frameBytes = (n * bitsAllocated) / 8;
      // the pixel data at a random byte offset inside a larger buffer (even offsets for 16 bits)
      const lead = bitsAllocated === 16 ? 2 * Math.floor(r() * 4) : Math.floor(r() * 4);
      const buf = new Uint8Array(lead + frameBytes * frames + 3);
      for (let k = 0; k < buf.length; k++) buf[k] = Math.floor(r() * 256); // random high (unused) bits too
      const bytes = buf.subarray(lead, lead + frameBytes * frames);
      const index = Math.floor(r() * frames);
      const slope = [1, 1, 2, -1, 3][Math.floor(r() * 5)]!;
      const intercept = [0, -1024, 7, 1000][Math.floor(r() * 4)]!;
      // Int16 only when every rescaled value fits (the caller's guarantee); else Float32
      const maxAbs = 2 ** bitsStored * Math.abs(slope) + Math.abs(intercept);
      const useI16 = maxAbs <= 32767 && r() < 0.8;
      const offset = Math.floor(r() * 3);
      const make = () => (useI16 ? new Int16Array(offset + n + 2) : new Float32Array(offset + n + 2));
      const ours = make();
      const theirs = make();
      const range: [number, number] = [Infinity, -Infinity];
      const shift = Math.max(0, highBit + 1 - bitsStored);
      expect(nativeGreyInto(bytes, l, index, false, shift, ours, offset, slope, intercept, range)).toBe(true);
      const expected = reference(bytes, l, index, theirs, offset, slope, intercept);
      expect(Array.from(ours)).toEqual(Array.from(theirs));
      expect(range).toEqual(expected);
      cases++;
    }
    expect(cases).toBe(400);
  });

  it('the aligned two-pixels-per-word CT path (512x512-like, 12 bits, both alignments) equals the general path', () => {
    const r = rng(7);
    for (const signed of [0, 1]) {
      for (const lead of [0, 2, 4, 6]) {
        const l = layout({ rows: 8, columns: 16, pixelRepresentation: signed });
        const n = 128;
        const buf = new Uint8Array(lead + 2 * n);
        for (let k = 0; k < buf.length; k++) buf[k] = Math.floor(r() * 256);
        const bytes = buf.subarray(lead);
        for (const offset of [0, 1, n]) {
          const ours = new Int16Array(2 * n + 2);
          const theirs = new Int16Array(2 * n + 2);
          const range: [number, number] = [5, 5]; // widened, not replaced
          nativeGreyInto(bytes, l, 0, false, 0, ours, offset, 1, -1024, range);
          const [lo, hi] = reference(bytes, l, 0, theirs, offset, 1, -1024);
          expect(Array.from(ours)).toEqual(Array.from(theirs));
          expect(range).toEqual([Math.min(5, lo), Math.max(5, hi)]);
        }
      }
    }
  });

  it('declines (returns false, writes nothing) what it does not handle', () => {
    const bytes = new Uint8Array(64).fill(0x11);
    const t = new Int16Array(32);
    const range: [number, number] = [Infinity, -Infinity];
    const cases: [string, PixelLayout, boolean, number][] = [
      ['big-endian 16-bit', layout({}), true, 1],
      ['colour', layout({ samplesPerPixel: 3, rows: 2, columns: 2 }), false, 1],
      ['palette', layout({ photometricInterpretation: 'PALETTE COLOR' }), false, 1],
      ['32 bits', layout({ bitsAllocated: 32, bitsStored: 32, highBit: 31, rows: 2, columns: 2 }), false, 1],
      ['1 bit', layout({ bitsAllocated: 1, bitsStored: 1, highBit: 0 }), false, 1],
      ['non-integer slope', layout({}), false, 0.5],
    ];
    for (const [what, l, be, slope] of cases) {
      expect(nativeGreyInto(bytes, l, 0, be, 0, t, 0, slope, 0, range), what).toBe(false);
    }
    // odd byte offset of 16-bit data
    expect(nativeGreyInto(new Uint8Array(64).subarray(1, 25), layout({}), 0, false, 0, t, 0, 1, 0, range)).toBe(false);
    // the target cannot hold the frame
    expect(nativeGreyInto(bytes, layout({}), 0, false, 0, new Int16Array(5), 0, 1, 0, range)).toBe(false);
    expect(Array.from(t).every((v) => v === 0)).toBe(true);
    expect(range).toEqual([Infinity, -Infinity]);
  });

  it('a frame past the end of the data is TRUNCATED_FILE, as on the general path', () => {
    const l = layout({ numberOfFrames: 2 });
    const bytes = new Uint8Array(24 + 10); // frame 1 is cut short
    const t = new Int16Array(12);
    const err = (() => {
      try {
        nativeGreyInto(bytes, l, 1, false, 0, t, 0, 1, 0, [0, 0]);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(S2SError);
    expect((err as S2SError).code).toBe('TRUNCATED_FILE');
  });
});

describe('loadDicomSeries: the decodeFrameInto fast path changes nothing', () => {
  function series(values: (i: number, j: number, k: number) => number, intercept: number, slope = 1) {
    const grid = makeGrid({ size: [7, 5, 4], spacing: [0.7, 0.8, 1.5], origin: [-3, 4, 10] });
    const data = new Float32Array(7 * 5 * 4);
    for (let k = 0; k < 4; k++)
      for (let j = 0; j < 5; j++) for (let i = 0; i < 7; i++) data[i + 7 * (j + 5 * k)] = values(i, j, k);
    return writeCtSeries(makeVolume({ grid, data }), { rescaleIntercept: intercept, rescaleSlope: slope });
  }
  const withoutFastPath = (f: DicomFile): DicomFile => ({ ...f, decodeFrameInto: undefined });

  const cases: [string, ReturnType<typeof series>][] = [
    ['CT HU, intercept -1024 (Int16)', series((i, j, k) => -1000 + 37 * i + 101 * j + 413 * k, -1024)],
    [
      '16 bits stored, intercept -20000 (Float32 assembly, back to Int16 as the values fit)',
      series((i, j, k) => -20000 + 6000 * i + 1000 * k + j, -20000),
    ],
    ['values beyond int16 (stays Float32)', series((i, j, k) => 60000 - 11 * i - j - k, 0)],
  ];
  for (const [what, files] of cases) {
    it(what, async () => {
      let used = 0;
      const parsed = files.map((f) => {
        const file = parseDicom(f.bytes, { name: f.name });
        const into = file.decodeFrameInto!;
        return {
          ...file,
          decodeFrameInto: (...a: Parameters<typeof into>) => {
            const ok = into(...a);
            if (ok) used++;
            return ok;
          },
        };
      });
      const fast = await loadDicomSeries(parsed);
      expect(used).toBe(files.length); // every slice took the fast path
      const slow = await loadDicomSeries(parsed.map(withoutFastPath));
      expect(fast.volume.data.constructor).toBe(slow.volume.data.constructor);
      expect(Array.from(fast.volume.data)).toEqual(Array.from(slow.volume.data));
      expect(fast.report.intensityRange).toEqual(slow.report.intensityRange);
      expect(fast.report.dataType).toBe(slow.report.dataType);
      expect(fast.volume.grid).toEqual(slow.volume.grid);
    });
  }
});

describe('anonymizeDicom parts', () => {
  const files = writeCtSeries(
    makeVolume({
      grid: makeGrid({ size: [64, 48, 2], spacing: [1, 1, 1], origin: [0, 0, 0] }),
      data: new Float32Array(64 * 48 * 2).map((_, n) => (n % 997) - 500),
    }),
  );
  const key = 'a-test-key-0123456789abcdef';

  it('joined parts are the file; Pixel Data is a view of the input, not a copy', () => {
    const input = files[0]!.bytes;
    const r = anonymizeDicom(input, { key });
    expect(r.parts.length).toBeGreaterThan(1);
    expect(concatParts(r.parts)).toEqual(r.bytes);
    const shared = r.parts.filter((p) => p.buffer === input.buffer);
    expect(shared.length).toBe(1);
    expect(shared[0]!.length).toBeGreaterThanOrEqual(64 * 48 * 2);
    // the output parses and holds the same pixels
    const a = parseDicom(input).decodeFrame(0).data;
    const b = parseDicom(r.bytes).decodeFrame(0).data;
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('writeElementParts joins to exactly writeElements, whatever the sharing threshold', () => {
    const { dataSet } = parseDicomDataSet(files[1]!.bytes);
    expect(dataSet).toBeDefined();
    const body = files[1]!.bytes.subarray(132);
    // skip the meta group: the data set starts at the first non-0002 element
    let at = 0;
    while (body[at] === 0x02 && body[at + 1] === 0x00) {
      const vr = String.fromCharCode(body[at + 4]!, body[at + 5]!);
      const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
      const len = long
        ? new DataView(body.buffer, body.byteOffset + at + 8, 4).getUint32(0, true) + 12
        : new DataView(body.buffer, body.byteOffset + at + 6, 2).getUint16(0, true) + 8;
      at += len;
    }
    const elements = readDataset(body.subarray(at), EXPLICIT_LE);
    for (const minShared of [1, 16, 4096, 1 << 30]) {
      for (const reserve of [0, 132]) {
        const parts = writeElementParts(elements, EXPLICIT_LE, reserve, minShared);
        expect(concatParts(parts)).toEqual(writeElements(elements, EXPLICIT_LE, reserve));
      }
    }
  });

  it('a shared uidCache gives the same files as none', () => {
    const cache = new Map<string, string>();
    for (const f of files) {
      const a = anonymizeDicom(f.bytes, { key, uidCache: cache }).bytes;
      const b = anonymizeDicom(f.bytes, { key }).bytes;
      expect(a).toEqual(b);
    }
    expect(cache.size).toBeGreaterThan(0);
  });
});

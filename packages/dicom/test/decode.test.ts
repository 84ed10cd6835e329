// Pixel decoding for every transfer syntax in the shared data, checked against the
// uncompressed original, GDCM/DCMTK decodes (reference-decoded-gdcm) and the CSV statistics.
import { readFileSync } from 'node:fs';
import { S2SError } from '@slice2solid/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataPath, describeData, itData } from '../../../test-utils/shared-data.js';
import { decodeJpegDct } from '../src/decode/jpeg-dct.js';
import { applyPalette, finishFrame, type PixelLayout, storedValues } from '../src/decode/pixels.js';
import { decodeRle } from '../src/decode/rle.js';
import { type DicomFile, initCodecs, parseDicom } from '../src/index.js';

beforeAll(async () => {
  await initCodecs();
});

function load(...parts: string[]): DicomFile {
  return parseDicom(new Uint8Array(readFileSync(dataPath(...parts))), { name: parts.join('/') });
}

function rescaled(f: DicomFile, frame = 0): Float64Array {
  const d = f.decodeFrame(frame).data;
  const { rescaleSlope: s, rescaleIntercept: b } = f.frames[frame]!;
  const out = new Float64Array(d.length);
  for (let k = 0; k < d.length; k++) out[k] = d[k]! * s + b;
  return out;
}

function stats(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number } {
  expect(a.length).toBe(b.length);
  let max = 0;
  let sum = 0;
  for (let k = 0; k < a.length; k++) {
    const d = Math.abs(a[k]! - b[k]!);
    if (d > max) max = d;
    sum += d;
  }
  return { max, mean: sum / a.length };
}

function expectSame(a: ArrayLike<number>, b: ArrayLike<number>): void {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let first = -1;
  for (let k = 0; k < a.length; k++) {
    if (a[k] !== b[k]) {
      diff++;
      if (first < 0) first = k;
    }
  }
  expect({ diff, first }).toEqual({ diff: 0, first: -1 });
}

function csvRows(): Map<string, Record<string, string>> {
  const text = readFileSync(dataPath('dicom-ct-transfer-syntaxes', 'decode_summary_gdcm_pydicom.csv'), 'utf8');
  const lines = text.trim().split(/\r?\n/);
  const split = (l: string) => l.match(/("[^"]*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, '').replace(/^"|"$/g, ''));
  const head = split(lines[0]!);
  const out = new Map<string, Record<string, string>>();
  for (const l of lines.slice(1)) {
    const cells = split(l);
    const row: Record<string, string> = {};
    head.forEach((h, i) => {
      row[h] = cells[i] ?? '';
    });
    out.set(row.file!, row);
  }
  return out;
}

const CT = 'dicom-ct-transfer-syntaxes';

describeData('dicom-ct-transfer-syntaxes: CTImage in 16 syntaxes', () => {
  const rows = csvRows();
  const reference = () => rescaled(load(CT, 'dicom', 'CTImage.dcm'));
  const files = [...rows.keys()].filter((f) => f.startsWith('CTImage.dcm_'));

  it('lists 15 encodings of CTImage', () => {
    expect(files.length).toBe(15);
  });

  for (const file of files) {
    itData(`${file.replace('CTImage.dcm_', '')}: matches the CSV's difference to CTImage.dcm`, () => {
      const row = rows.get(file)!;
      const f = load(CT, 'dicom', file);
      expect(f.transferSyntaxUID).toBe(row.TransferSyntaxUID);
      const ours = rescaled(f);
      const s = stats(ours, reference());
      const maxRef = Number(row.max_abs_diff_vs_CTImage_rescaled);
      const meanRef = Number(row.mean_abs_diff_vs_CTImage_rescaled);
      if (maxRef === 0) {
        expectSame(ours, reference());
        expect(f.lossyCompression).toBe(false);
      } else {
        expect(s.max).toBeCloseTo(maxRef, 3);
        expect(s.mean).toBeCloseTo(meanRef, 3);
        expect(f.lossyCompression).toBe(true);
      }
      let lo = Infinity;
      let hi = -Infinity;
      let sum = 0;
      for (const v of ours) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
        sum += v;
      }
      expect(lo).toBeCloseTo(Number(row.min_rescaled), 3);
      expect(hi).toBeCloseTo(Number(row.max_rescaled), 3);
      expect(sum / ours.length).toBeCloseTo(Number(row.mean_rescaled), 3);
    });
  }

  const gdcm = [
    'CTImage.dcm_JPEG2000TransferSyntax_1.2.840.10008.1.2.4.91.dcm',
    'CTImage.dcm_JPEGLSLossyTransferSyntax_1.2.840.10008.1.2.4.81.dcm',
    'CTImage.dcm_JPEGProcess10_12TransferSyntax_1.2.840.10008.1.2.4.55.dcm',
    'CTImage.dcm_JPEGProcess1TransferSyntax_1.2.840.10008.1.2.4.50.dcm',
    'CTImage.dcm_JPEGProcess2_4TransferSyntax_1.2.840.10008.1.2.4.51.dcm',
    'CTImage.dcm_JPEGProcess6_8TransferSyntax_1.2.840.10008.1.2.4.53.dcm',
    'CT1_J2KR',
    'CT2_J2KR',
    'CT0012.fragmented_no_bot_jpeg_baseline.51.dcm',
  ];
  for (const file of gdcm) {
    itData(`${file}: stored values equal the GDCM/DCMTK decode exactly, every frame`, () => {
      const f = load(CT, 'dicom', file);
      const ref = load(CT, 'reference-decoded-gdcm', `${file}.raw-evrle.dcm.gz`);
      expect(f.numberOfFrames).toBe(ref.numberOfFrames);
      expect([f.rows, f.columns]).toEqual([ref.rows, ref.columns]);
      for (let k = 0; k < f.numberOfFrames; k++) {
        const a = f.decodeFrame(k);
        const b = ref.decodeFrame(k);
        expect(a.data.constructor).toBe(b.data.constructor);
        expectSame(a.data, b.data);
      }
    });
  }

  itData('the 12-bit fragmented JPEG without offset table splits into its 2 frames', () => {
    const f = load(CT, 'dicom', 'CT0012.fragmented_no_bot_jpeg_baseline.51.dcm');
    expect(f.numberOfFrames).toBe(2);
    const a = f.decodeFrame(0).data;
    const b = f.decodeFrame(1).data;
    expect(stats(a, b).max).toBeGreaterThan(0); // two different frames, not one frame twice
  });
});

describeData('colour test patterns', () => {
  const P = [CT, 'color-testpatterns'] as const;
  itData('JPEG-LS lossless RGB and JPEG lossless RGB decode to the same image', () => {
    const a = load(...P, 'TestPattern_JPEG-LS-Lossless.dcm').decodeFrame(0);
    const b = load(...P, 'TestPattern_JPEG-Lossless_RGB.dcm').decodeFrame(0);
    expect(a.samples).toBe(3);
    expect(a.data).toBeInstanceOf(Uint8Array);
    expectSame(a.data, b.data);
  });
  itData('near-lossless JPEG-LS is within its NEAR bound of the lossless one', () => {
    const a = load(...P, 'TestPattern_JPEG-LS-Lossless.dcm').decodeFrame(0);
    const b = load(...P, 'TestPattern_JPEG-LS-NearLossless.dcm').decodeFrame(0);
    const s = stats(a.data, b.data);
    expect(s.max).toBeGreaterThan(0);
    expect(s.max).toBeLessThanOrEqual(10);
  });
  itData('JPEG baseline YBR_FULL and YBR_FULL_422 come out as RGB close to the lossless RGB', () => {
    const ref = load(...P, 'TestPattern_JPEG-Lossless_RGB.dcm').decodeFrame(0).data;
    for (const name of ['TestPattern_JPEG-Baseline_YBRFull.dcm', 'TestPattern_JPEG-Baseline_YBR422.dcm']) {
      const d = load(...P, name).decodeFrame(0);
      expect(d.samples).toBe(3);
      const s = stats(d.data, ref);
      // A lossy JPEG of a test pattern: small mean error; a missing or doubled YCbCr->RGB
      // conversion would give a mean error of tens of levels.
      expect(s.mean).toBeLessThan(3);
    }
  });
  itData('palette colour with 8- and 16-bit LUTs gives the same colours (16-bit = 8-bit x 257)', () => {
    const ref = load(...P, 'TestPattern_JPEG-Lossless_RGB.dcm').decodeFrame(0).data;
    const p8 = load(...P, 'TestPattern_Palette.dcm').decodeFrame(0);
    const p16 = load(...P, 'TestPattern_Palette_16.dcm').decodeFrame(0);
    expect(p8.data).toBeInstanceOf(Uint8Array);
    expect(p16.data).toBeInstanceOf(Uint16Array);
    const scaled = Array.from(p16.data, (v) => Math.round(v / 257));
    expect(stats(scaled, p8.data).max).toBeLessThanOrEqual(1);
    // The palette image is a quantised version of the same test pattern.
    expect(stats(p8.data, ref).mean).toBeLessThan(8);
  });
  itData('pixel values match DCMTK / pydicom at fixed positions (YBR_FULL_422 JPEG, palette)', () => {
    const ybr = load(...P, 'TestPattern_JPEG-Baseline_YBR422.dcm').decodeFrame(0).data;
    const pal = load(...P, 'TestPattern_Palette.dcm').decodeFrame(0).data;
    expect(REF_PIXELS.length).toBeGreaterThan(0);
    for (const { file, index, rgb } of REF_PIXELS) {
      const d = file === 'ybr422' ? ybr : pal;
      expect([d[index * 3], d[index * 3 + 1], d[index * 3 + 2]]).toEqual(rgb);
    }
  });
});

// index = row * columns + column.
// YBR_FULL_422: DCMTK 3.6.7 `dcmdjpeg` output (we match its whole image exactly); palette: pydicom
// 2.3.1 `apply_color_lut`.
const REF_PIXELS: { file: 'ybr422' | 'palette'; index: number; rgb: number[] }[] = [
  { file: 'ybr422', index: 0, rgb: [255, 255, 255] },
  { file: 'ybr422', index: 64100, rgb: [133, 135, 134] },
  { file: 'ybr422', index: 81444, rgb: [120, 128, 27] },
  { file: 'ybr422', index: 91229, rgb: [191, 0, 191] },
  { file: 'ybr422', index: 100900, rgb: [190, 0, 2] },
  { file: 'ybr422', index: 216032, rgb: [192, 192, 0] },
  { file: 'ybr422', index: 238402, rgb: [158, 160, 59] },
  { file: 'palette', index: 0, rgb: [255, 255, 255] },
  { file: 'palette', index: 64100, rgb: [132, 132, 132] },
  { file: 'palette', index: 81444, rgb: [175, 175, 23] },
  { file: 'palette', index: 91229, rgb: [191, 0, 191] },
  { file: 'palette', index: 238402, rgb: [155, 158, 74] },
];

describeData('dicom-mr-transfer-syntaxes: 9 syntaxes, identical pixels', () => {
  itData('all 9 decode to the pixels of 1.dcm', () => {
    const ref = load('dicom-mr-transfer-syntaxes', 'dicom', '1.dcm').decodeFrame(0).data;
    for (let n = 2; n <= 9; n++) {
      const d = load('dicom-mr-transfer-syntaxes', 'dicom', `${n}.dcm`).decodeFrame(0).data;
      expect(d.constructor).toBe(ref.constructor);
      expectSame(d, ref);
    }
  });
});

describeData('pydicom-data emri_small: 5 syntaxes, 10 frames, identical pixels', () => {
  itData('all frames of all 5 files are identical', () => {
    const E = 'dicom-enhanced-multiframe/pydicom-data';
    const ref = load(E, 'emri_small.dcm');
    expect(ref.numberOfFrames).toBe(10);
    for (const name of [
      'emri_small_RLE.dcm',
      'emri_small_big_endian.dcm',
      'emri_small_jpeg_2k_lossless.dcm',
      'emri_small_jpeg_ls_lossless.dcm',
    ]) {
      const f = load(E, name);
      expect(f.numberOfFrames).toBe(10);
      for (let k = 0; k < 10; k++) expectSame(f.decodeFrame(k).data, ref.decodeFrame(k).data);
    }
  });
  itData('frames differ from each other (the frame index is honoured)', () => {
    const f = load('dicom-enhanced-multiframe/pydicom-data', 'emri_small_jpeg_2k_lossless.dcm');
    expect(stats(f.decodeFrame(0).data, f.decodeFrame(9).data).max).toBeGreaterThan(0);
  });
});

describeData('pydicom MR_small in 7 encodings', () => {
  itData('implicit, big endian, RLE, J2K, JPEG-LS, gzip all equal MR_small.dcm', () => {
    const R = 'dicom-robustness/pydicom';
    const ref = load(R, 'MR_small.dcm').decodeFrame(0).data;
    for (const n of [
      'MR_small_implicit.dcm',
      'MR_small_bigendian.dcm',
      'MR_small_expb.dcm',
      'MR_small_RLE.dcm',
      'MR_small_jp2klossless.dcm',
      'MR_small_jpeg_ls_lossless.dcm',
      'zipMR.gz',
    ]) {
      expectSame(load(R, n).decodeFrame(0).data, ref);
    }
  });
  itData('odd-sized RGB in little and big endian agree', () => {
    const a = load('dicom-robustness/pydicom', 'SC_rgb_small_odd.dcm').decodeFrame(0);
    const b = load('dicom-robustness/pydicom', 'SC_rgb_small_odd_big_endian.dcm').decodeFrame(0);
    expect(a.samples).toBe(3);
    expect(a.data.length).toBe(27);
    expectSame(a.data, b.data);
  });
});

// ------------------------------------------------------------------------------------------
// Synthetic: bits, signs, planar configuration, YBR, palette, RLE

function layout(over: Partial<PixelLayout>): PixelLayout {
  return {
    name: 'synthetic',
    rows: 1,
    columns: 4,
    samplesPerPixel: 1,
    bitsAllocated: 16,
    bitsStored: 16,
    highBit: 15,
    pixelRepresentation: 0,
    photometricInterpretation: 'MONOCHROME2',
    planarConfiguration: 0,
    numberOfFrames: 1,
    ...over,
  };
}

describe('stored values: BitsStored / HighBit / PixelRepresentation', () => {
  const cases: { name: string; l: Partial<PixelLayout>; shift: number; raw: number[]; want: number[]; type: string }[] =
    [
      {
        name: '12-bit unsigned masks garbage high bits',
        l: { bitsStored: 12, highBit: 11 },
        shift: 0,
        raw: [0xf123, 0x0fff, 0, 0x1000],
        want: [0x123, 0xfff, 0, 0],
        type: 'Uint16Array',
      },
      {
        name: '12-bit signed sign-extends',
        l: { bitsStored: 12, highBit: 11, pixelRepresentation: 1 },
        shift: 0,
        raw: [0x0800, 0x0fff, 0x07ff, 0xf001],
        want: [-2048, -1, 2047, 1],
        type: 'Int16Array',
      },
      {
        name: 'HighBit 15 with BitsStored 12 shifts down',
        l: { bitsStored: 12, highBit: 15 },
        shift: 4,
        raw: [0xfff0, 0x0010, 0x000f, 0x8000],
        want: [0xfff, 1, 0, 0x800],
        type: 'Uint16Array',
      },
      {
        name: '16-bit signed',
        l: { pixelRepresentation: 1 },
        shift: 0,
        raw: [0x8000, 0xffff, 0x7fff, 0],
        want: [-32768, -1, 32767, 0],
        type: 'Int16Array',
      },
      {
        name: '8-bit stored in 16 fits Uint8',
        l: { bitsStored: 8, highBit: 7 },
        shift: 0,
        raw: [0x01ff, 0x80, 0, 0x0100],
        want: [255, 128, 0, 0],
        type: 'Uint8Array',
      },
      {
        name: 'codec output already signed',
        l: { bitsStored: 12, highBit: 11, pixelRepresentation: 1 },
        shift: 0,
        raw: [-2048, -1, 5, 2047],
        want: [-2048, -1, 5, 2047],
        type: 'Int16Array',
      },
      {
        name: '32-bit unsigned',
        l: { bitsAllocated: 32, bitsStored: 32, highBit: 31 },
        shift: 0,
        raw: [0xffffffff, 1, 0, 0x80000000],
        want: [0xffffffff, 1, 0, 0x80000000],
        type: 'Uint32Array',
      },
    ];
  for (const c of cases) {
    it(c.name, () => {
      const out = storedValues(c.raw, layout(c.l), c.shift);
      expect(out.constructor.name).toBe(c.type);
      expect(Array.from(out)).toEqual(c.want);
    });
  }
});

describe('colour conversions', () => {
  it('planar RGB becomes interleaved', () => {
    const l = layout({
      columns: 2,
      samplesPerPixel: 3,
      bitsAllocated: 8,
      bitsStored: 8,
      highBit: 7,
      photometricInterpretation: 'RGB',
      planarConfiguration: 1,
    });
    const f = finishFrame(new Uint8Array([1, 2, 10, 20, 100, 200]), l, { shift: 0, planar: true, colourDone: false });
    expect(Array.from(f.data)).toEqual([1, 10, 100, 2, 20, 200]);
  });
  it('YBR_FULL of grey and pure colours gives the PS3.3 C.7.6.3.1.2 RGB', () => {
    const l = layout({
      columns: 3,
      samplesPerPixel: 3,
      bitsAllocated: 8,
      bitsStored: 8,
      highBit: 7,
      photometricInterpretation: 'YBR_FULL',
    });
    // grey 128; red (255,0,0) = Y 76.245, Cb 84.972, Cr 255.5; approx integer encodings
    const f = finishFrame(new Uint8Array([128, 128, 128, 76, 85, 255, 29, 255, 107]), l, {
      shift: 0,
      planar: false,
      colourDone: false,
    });
    const d = Array.from(f.data);
    expect(d.slice(0, 3)).toEqual([128, 128, 128]);
    expect(Math.abs(d[3]! - 254)).toBeLessThanOrEqual(1);
    expect(d[4]!).toBeLessThanOrEqual(1);
    expect(d[5]!).toBeLessThanOrEqual(1);
    expect(d[8]!).toBeGreaterThanOrEqual(253);
  });
  it('native YBR_FULL_422 pairs share chroma', () => {
    const l = layout({
      columns: 2,
      samplesPerPixel: 3,
      bitsAllocated: 8,
      bitsStored: 8,
      highBit: 7,
      photometricInterpretation: 'YBR_FULL_422',
    });
    const f = finishFrame(new Uint8Array([50, 200, 128, 128]), l, { shift: 0, planar: false, colourDone: false });
    expect(Array.from(f.data)).toEqual([50, 50, 50, 200, 200, 200]);
  });
  it('palette lookup clamps below first-mapped and above the last entry', () => {
    const lut = { firstMapped: 10, bits: 8, red: [1, 2, 3], green: [4, 5, 6], blue: [7, 8, 9] };
    expect(Array.from(applyPalette([0, 10, 11, 12, 99], lut))).toEqual([1, 4, 7, 1, 4, 7, 2, 5, 8, 3, 6, 9, 3, 6, 9]);
  });
});

describe('RLE (PS3.5 Annex G)', () => {
  function rleFrame(segments: number[][]): Uint8Array {
    const header = new Uint8Array(64);
    const dv = new DataView(header.buffer);
    dv.setUint32(0, segments.length, true);
    let at = 64;
    segments.forEach((s, k) => {
      dv.setUint32(4 + 4 * k, at, true);
      at += s.length;
    });
    const out = new Uint8Array(at);
    out.set(header);
    let p = 64;
    for (const s of segments) {
      out.set(s, p);
      p += s.length;
    }
    return out;
  }
  it('decodes literal and replicate runs, most significant byte segment first', () => {
    // 4 pixels of 16 bits: high bytes [1,1,1,2] (replicate 3 x 1, literal 2); low bytes literal [0x10,0x20,0x30,0x40]
    const f = rleFrame([
      [0xfe, 1, 0x00, 2],
      [0x03, 0x10, 0x20, 0x30, 0x40],
    ]);
    expect(Array.from(decodeRle(f, layout({})))).toEqual([0x0110, 0x0120, 0x0130, 0x0240]);
  });
  it('a frame with too few segments is DECODE_FAILED, not garbage', () => {
    const f = rleFrame([[0x03, 1, 2, 3, 4]]);
    expect(() => decodeRle(f, layout({}))).toThrow(S2SError);
  });
  it('a segment that decodes short is DECODE_FAILED', () => {
    const f = rleFrame([
      [0x01, 1, 2],
      [0x03, 1, 2, 3, 4],
    ]);
    expect(() => decodeRle(f, layout({}))).toThrowError(/RLE frame is damaged/);
  });
});

describe('DCT JPEG decoder', () => {
  it('rejects a non-JPEG stream with DECODE_FAILED', () => {
    expect(() => decodeJpegDct(new Uint8Array([1, 2, 3, 4, 5]), 'x')).toThrow(S2SError);
  });
});

// ------------------------------------------------------------------------------------------
// Synthetic encapsulated files: HTJ2K (no sample data exists), several fragments per frame with
// a Basic Offset Table, and an Extended Offset Table.

function el(group: number, element: number, vr: string, value: Uint8Array): Uint8Array {
  const long = ['OB', 'OW', 'SQ', 'UN', 'OV'].includes(vr);
  const v = value.length % 2 ? new Uint8Array([...value, vr === 'UI' ? 0 : 0x20]) : value;
  const head = new Uint8Array(long ? 12 : 8);
  const dv = new DataView(head.buffer);
  dv.setUint16(0, group, true);
  dv.setUint16(2, element, true);
  head[4] = vr.charCodeAt(0);
  head[5] = vr.charCodeAt(1);
  if (long) dv.setUint32(8, v.length, true);
  else dv.setUint16(6, v.length, true);
  return new Uint8Array([...head, ...v]);
}
const us = (n: number) => new Uint8Array(new Uint16Array([n]).buffer);
const str = (s: string) => new TextEncoder().encode(s);
function item(tag: number, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(8);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, 0xfffe, true);
  dv.setUint16(2, tag, true);
  dv.setUint32(4, payload.length, true);
  return new Uint8Array([...h, ...payload]);
}

/** A minimal Part 10 file with encapsulated pixel data: `frames` = fragments of each frame. */
function encapsulatedFile(
  ts: string,
  l: { rows: number; columns: number; bits: number; signed: boolean; frames: Uint8Array[][] },
  opts: { bot?: boolean; eot?: boolean } = {},
): Uint8Array {
  const meta = el(0x0002, 0x0010, 'UI', str(ts));
  const fragments: Uint8Array[] = [];
  const frameOffsets: number[] = [];
  let offset = 0;
  for (const frame of l.frames) {
    frameOffsets.push(offset);
    for (const f of frame) {
      const it = item(0xe000, f.length % 2 ? new Uint8Array([...f, 0]) : f);
      fragments.push(it);
      offset += it.length;
    }
  }
  const bot = opts.bot ? new Uint8Array(new Uint32Array(frameOffsets).buffer) : new Uint8Array(0);
  const pixel = new Uint8Array([
    ...new Uint8Array([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]),
    ...item(0xe000, bot),
    ...fragments.flatMap((f) => [...f]),
    ...item(0xe0dd, new Uint8Array(0)),
  ]);
  const parts = [
    el(0x0028, 0x0002, 'US', us(1)),
    el(0x0028, 0x0004, 'CS', str('MONOCHROME2')),
    el(0x0028, 0x0008, 'IS', str(String(l.frames.length))),
    el(0x0028, 0x0010, 'US', us(l.rows)),
    el(0x0028, 0x0011, 'US', us(l.columns)),
    el(0x0028, 0x0100, 'US', us(16)),
    el(0x0028, 0x0101, 'US', us(l.bits)),
    el(0x0028, 0x0102, 'US', us(l.bits - 1)),
    el(0x0028, 0x0103, 'US', us(l.signed ? 1 : 0)),
  ];
  if (opts.eot) {
    parts.push(el(0x7fe0, 0x0001, 'OV', new Uint8Array(new BigUint64Array(frameOffsets.map(BigInt)).buffer)));
  }
  const body = [...parts.flatMap((p) => [...p]), ...pixel];
  const out = new Uint8Array(132 + meta.length + body.length);
  out.set(str('DICM'), 128);
  out.set(meta, 132);
  out.set(body, 132 + meta.length);
  return out;
}

/** RLE frame of 16-bit values (two literal-run segments). */
function rle16(values: Uint16Array): Uint8Array {
  const seg = (bytes: number[]) => {
    const out: number[] = [];
    for (let k = 0; k < bytes.length; k += 128) {
      const run = bytes.slice(k, k + 128);
      out.push(run.length - 1, ...run);
    }
    return out;
  };
  const hi = seg(Array.from(values, (v) => v >> 8));
  const lo = seg(Array.from(values, (v) => v & 0xff));
  const header = new Uint8Array(64);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, 2, true);
  dv.setUint32(4, 64, true);
  dv.setUint32(8, 64 + hi.length, true);
  return new Uint8Array([...header, ...hi, ...lo]);
}

describe('encapsulated pixel data layouts (synthetic)', () => {
  const a = Uint16Array.from({ length: 64 }, (_, k) => k * 1000);
  const b = Uint16Array.from({ length: 64 }, (_, k) => 65535 - k * 7);
  const split = (f: Uint8Array): Uint8Array[] => [f.slice(0, 40), f.slice(40, 90), f.slice(90)];

  it('several fragments per frame, located by the Basic Offset Table', () => {
    const file = encapsulatedFile(
      '1.2.840.10008.1.2.5',
      { rows: 8, columns: 8, bits: 16, signed: false, frames: [split(rle16(a)), split(rle16(b))] },
      { bot: true },
    );
    const f = parseDicom(file);
    expect(Array.from(f.decodeFrame(0).data)).toEqual(Array.from(a));
    expect(Array.from(f.decodeFrame(1).data)).toEqual(Array.from(b));
  });

  it('several fragments per frame, located by the Extended Offset Table (empty BOT; regression: its VR OV is unknown to dicom-parser 1.8)', () => {
    const file = encapsulatedFile(
      '1.2.840.10008.1.2.5',
      { rows: 8, columns: 8, bits: 16, signed: false, frames: [split(rle16(b)), split(rle16(a))] },
      { eot: true },
    );
    const f = parseDicom(file);
    expect(Array.from(f.decodeFrame(0).data)).toEqual(Array.from(b));
    expect(Array.from(f.decodeFrame(1).data)).toEqual(Array.from(a));
  });

  it('fragments that cannot be assigned to frames are MALFORMED_FILE, not a wrong image', () => {
    const file = encapsulatedFile('1.2.840.10008.1.2.5', {
      rows: 8,
      columns: 8,
      bits: 16,
      signed: false,
      frames: [split(rle16(a)), split(rle16(b))],
    });
    expect(() => parseDicom(file)).toThrowError(/cannot split 6 pixel data fragments into 2 frames/);
  });

  itData('HTJ2K (.201, .203): MR_small encoded with OpenJPH decodes back exactly', async () => {
    const mr = parseDicom(new Uint8Array(readFileSync(dataPath('dicom-robustness', 'pydicom', 'MR_small.dcm'))));
    const pixels = mr.decodeFrame(0).data as Int16Array;
    interface Encoder {
      getDecodedBuffer(info: object): Uint8Array;
      getEncodedBuffer(): Uint8Array;
      encode(): void;
      delete(): void;
    }
    const factory = (await import('@cornerstonejs/codec-openjph/wasmjs')).default as unknown as () => Promise<
      Record<string, new () => Encoder>
    >;
    const m = await factory();
    const enc = new m.HTJ2KEncoder!();
    enc
      .getDecodedBuffer({
        width: 64,
        height: 64,
        bitsPerSample: 16,
        componentCount: 1,
        isSigned: true,
        isUsingColorTransform: false,
      })
      .set(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength));
    enc.encode();
    const codestream = (enc.getEncodedBuffer() as Uint8Array).slice();
    enc.delete();
    for (const ts of ['1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.203']) {
      const f = parseDicom(
        encapsulatedFile(ts, { rows: 64, columns: 64, bits: 16, signed: true, frames: [[codestream]] }),
      );
      const d = f.decodeFrame(0).data;
      expect(d).toBeInstanceOf(Int16Array);
      expectSame(d, pixels);
    }
  });
});

describeData('regressions', () => {
  itData(
    'JPEG lossless: last pixel is decoded (jpeg-lossless-decoder-js stopped at EOI look-ahead and left it 0)',
    () => {
      const f = load(CT, 'dicom', 'CTImage.dcm_JPEGProcess14SV1TransferSyntax_1.2.840.10008.1.2.4.70.dcm');
      const ref = load(CT, 'dicom', 'CTImage.dcm').decodeFrame(0).data;
      const d = f.decodeFrame(0).data;
      expect(d[d.length - 1]).toBe(ref[ref.length - 1]);
      expect(d[d.length - 1]).not.toBe(0);
    },
  );
});

/**
 * parseDicom: bytes of one DICOM file -> DicomFile (header facts + lazy frame decoder).
 *
 * Accepts Part 10 files, files without preamble or without File Meta Information (the
 * transfer syntax is then guessed from the first data element), gzip-wrapped files, Deflated
 * Explicit VR Little Endian and Explicit VR Big Endian. The element tree comes from dicom-parser.
 * No patient identifiers (names, IDs, dates) are copied into the result.
 */
import { S2SError, type Vec3 } from '@slice2solid/core';
import { gunzipSync, inflateSync } from 'fflate';
import { csaNumbers, readCsa } from './csa.js';
import {
  binaries,
  bytesOf,
  type DataSet,
  decimal,
  decimals,
  dicomParser,
  type Element,
  integerString,
  item,
  items,
  privateTag,
  tag,
  text,
  texts,
  u16,
} from './dataset.js';
import { decodeFrameFrom, decodeFrameIntoFrom, type PixelSource } from './decode/decode-frame.js';
import { type Fragment, groupFragments } from './decode/frames.js';
import type { PaletteLut, PixelLayout } from './decode/pixels.js';
import {
  EXPLICIT_VR_BE,
  EXPLICIT_VR_LE,
  IMPLICIT_VR_LE,
  type TransferSyntaxInfo,
  transferSyntaxInfo,
} from './transfer-syntax.js';
import type { DicomFile, FrameInfo } from './types.js';

export interface ParseDicomOptions {
  /** Name shown in messages (file name or path). */
  name?: string;
}

export const PARSE_DICOM_DEFAULTS: Required<ParseDicomOptions> = { name: 'DICOM file' };

/** A parsed file plus the element tree, for code in this package that needs more than DicomFile. */
export interface ParsedDicom {
  readonly file: DicomFile;
  readonly dataSet: DataSet;
}

const NOT_DICOM_HINT = 'the file is not DICOM (no DICM marker and no recognisable data elements); check the file type';

// ---------------------------------------------------------------------------------------------
// File Meta Information and transfer syntax detection

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const ALL_VRS = new Set([
  ...LONG_VRS,
  'AE',
  'AS',
  'AT',
  'CS',
  'DA',
  'DS',
  'DT',
  'FD',
  'FL',
  'IS',
  'LO',
  'LT',
  'PN',
  'SH',
  'SL',
  'SS',
  'ST',
  'TM',
  'UI',
  'UL',
  'US',
]);

function ascii(b: Uint8Array, at: number, n: number): string {
  let s = '';
  for (let k = 0; k < n && at + k < b.length; k++) s += String.fromCharCode(b[at + k]!);
  return s;
}

interface MetaInfo {
  /** Offset of the first data set element after preamble and meta group. */
  readonly start: number;
  readonly transferSyntax?: string;
  readonly hasPreamble: boolean;
  readonly hasMeta: boolean;
}

function readMeta(b: Uint8Array, name: string): MetaInfo {
  let pos = 0;
  let hasPreamble = false;
  if (b.length >= 132 && ascii(b, 128, 4) === 'DICM') {
    pos = 132;
    hasPreamble = true;
  } else if (ascii(b, 0, 4) === 'DICM') {
    pos = 4;
    hasPreamble = true;
  }
  let ts: string | undefined;
  let hasMeta = false;
  while (pos + 8 <= b.length) {
    const group = b[pos]! | (b[pos + 1]! << 8);
    if (group !== 0x0002) break;
    hasMeta = true;
    const element = b[pos + 2]! | (b[pos + 3]! << 8);
    const vr = ascii(b, pos + 4, 2);
    let len: number;
    let header: number;
    if (ALL_VRS.has(vr)) {
      if (LONG_VRS.has(vr)) {
        if (pos + 12 > b.length) break;
        len = (b[pos + 8]! | (b[pos + 9]! << 8) | (b[pos + 10]! << 16) | (b[pos + 11]! << 24)) >>> 0;
        header = 12;
      } else {
        len = b[pos + 6]! | (b[pos + 7]! << 8);
        header = 8;
      }
    } else {
      // Non-conformant implicit-VR meta group.
      len = (b[pos + 4]! | (b[pos + 5]! << 8) | (b[pos + 6]! << 16) | (b[pos + 7]! << 24)) >>> 0;
      header = 8;
    }
    if (len === 0xffffffff) {
      throw new S2SError('MALFORMED_FILE', 'the File Meta Information has an element of undefined length', {
        hint: 'the DICOM header is damaged; re-export the file',
        file: name,
      });
    }
    if (pos + header + len > b.length) {
      throw new S2SError('TRUNCATED_FILE', 'the file ends inside its File Meta Information header', {
        hint: 'the file was cut short; copy it again from the source',
        file: name,
      });
    }
    if (element === 0x0010)
      ts = ascii(b, pos + header, len)
        .replace(/[\0 ]+$/g, '')
        .trim();
    pos += header + len;
  }
  return { start: pos, transferSyntax: ts || undefined, hasPreamble, hasMeta };
}

/** Guesses the data set encoding from its first element (files without a transfer syntax). */
function guessTransferSyntax(b: Uint8Array, pos: number, name: string): string {
  if (pos + 8 > b.length) {
    throw new S2SError('UNSUPPORTED_FORMAT', 'the file is too short to hold a DICOM data set', {
      hint: NOT_DICOM_HINT,
      file: name,
    });
  }
  const gLE = b[pos]! | (b[pos + 1]! << 8);
  const gBE = (b[pos]! << 8) | b[pos + 1]!;
  const plausible = (g: number) => g >= 0x0001 && g <= 0x7fe0;
  const vr = ascii(b, pos + 4, 2);
  if (ALL_VRS.has(vr)) {
    if (plausible(gLE) && (gLE <= gBE || !plausible(gBE))) return EXPLICIT_VR_LE;
    if (plausible(gBE)) return EXPLICIT_VR_BE;
  }
  const len = (b[pos + 4]! | (b[pos + 5]! << 8) | (b[pos + 6]! << 16) | (b[pos + 7]! << 24)) >>> 0;
  if (plausible(gLE) && (len === 0xffffffff || pos + 8 + len <= b.length)) return IMPLICIT_VR_LE;
  throw new S2SError('UNSUPPORTED_FORMAT', 'no DICOM data elements found', { hint: NOT_DICOM_HINT, file: name });
}

// ---------------------------------------------------------------------------------------------
// Element tree

function errorText(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'exception' in e) return errorText((e as { exception: unknown }).exception);
  return String(e);
}

function inflater(name: string) {
  return (bytes: Uint8Array, position: number | undefined): Uint8Array => {
    const at = position ?? 0;
    let inflated: Uint8Array;
    try {
      inflated = inflateSync(bytes.subarray(at));
    } catch (cause) {
      throw new S2SError('MALFORMED_FILE', 'the deflated data set cannot be inflated', {
        hint: 'the Deflated Explicit VR Little Endian stream is damaged or truncated; re-export the file',
        file: name,
        cause,
      });
    }
    const out = new Uint8Array(at + inflated.length);
    out.set(bytes.subarray(0, at), 0);
    out.set(inflated, at);
    return out;
  };
}

/**
 * dicom-parser 1.8 does not know the VRs added in 2019 (OV, SV, UV: 64-bit values with a 4-byte
 * length, e.g. the Extended Offset Table (7FE0,0001) is OV) and misreads their length. This walks
 * the explicit-VR element structure (following sequences and items, skipping values) and returns a
 * copy in which those VR codes are replaced by OD (same 4-byte length layout). Values are untouched.
 * Returns the input unchanged if there is nothing to patch or the structure cannot be walked.
 */
function patchNewVrs(body: Uint8Array, bigEndian: boolean): Uint8Array {
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const le = !bigEndian;
  const patches: number[] = [];
  const walk = (start: number, end: number, depth: number): number => {
    let p = start;
    while (p + 8 <= end) {
      const group = dv.getUint16(p, le);
      const element = dv.getUint16(p + 2, le);
      if (group === 0xfffe) {
        const len = dv.getUint32(p + 4, le);
        if (element === 0xe00d || element === 0xe0dd) return p + 8; // item / sequence delimiter
        if (element !== 0xe000) return -1;
        if (len === 0xffffffff) {
          const q = walk(p + 8, end, depth + 1);
          if (q < 0) return -1;
          p = q;
        } else {
          if (walk(p + 8, Math.min(end, p + 8 + len), depth + 1) < 0) return -1;
          p += 8 + len;
        }
        continue;
      }
      const vr = ascii(body, p + 4, 2);
      if (!ALL_VRS.has(vr)) return -1;
      let len: number;
      let header: number;
      if (LONG_VRS.has(vr)) {
        if (p + 12 > end) return -1;
        len = dv.getUint32(p + 8, le);
        header = 12;
        if (vr === 'OV' || vr === 'SV' || vr === 'UV') patches.push(p + 4);
      } else {
        len = dv.getUint16(p + 6, le);
        header = 8;
      }
      if (len === 0xffffffff) {
        // Encapsulated pixel data ends the walk (everything we patch comes before it).
        if (group === 0x7fe0 && element === 0x0010) return end;
        // Otherwise only a sequence may have an undefined length here: walk its items.
        if (vr !== 'SQ' || depth > 64) return -1;
        const q = walk(p + header, end, depth + 1);
        if (q < 0) return -1;
        p = q;
      } else {
        if (vr === 'SQ' && walk(p + header, Math.min(end, p + header + len), depth + 1) < 0) return -1;
        p += header + len;
      }
      if (group === 0x7fe0 && element === 0x0010) break;
    }
    return Math.min(p, end);
  };
  // The walk reads element headers only (it stops at Pixel Data), so it costs microseconds; a byte
  // scan for the VR codes instead would read every pixel (regression: 90 ms per 300-file CT series).
  try {
    if (walk(0, body.length, 0) < 0 || patches.length === 0) return body;
  } catch {
    return body;
  }
  const out = body.slice();
  for (const at of patches) {
    out[at] = 0x4f; // 'O'
    out[at + 1] = 0x44; // 'D'
  }
  return out;
}

function parseTree(b: Uint8Array, meta: MetaInfo, ts: string, name: string, info: TransferSyntaxInfo): DataSet {
  const raw = b.subarray(meta.start);
  const body = info.explicitVR && !info.deflated ? patchNewVrs(raw, info.bigEndian) : raw;
  try {
    // With TransferSyntaxUID given and no DICM at 128, dicom-parser reads `body` as a raw data set.
    return dicomParser.parseDicom(body, { TransferSyntaxUID: ts, inflater: inflater(name) } as never);
  } catch (e) {
    if (e instanceof S2SError) throw e;
    const msg = errorText(e);
    const truncated = /past end|end of buffer|overrun|beyond|exceed|eof|outside|maxPosition/i.test(msg);
    throw new S2SError(
      truncated ? 'TRUNCATED_FILE' : 'MALFORMED_FILE',
      truncated ? `the file ends in the middle of a data element (${msg})` : `the data set cannot be read (${msg})`,
      {
        hint: truncated
          ? 'the file was cut short (incomplete copy or transfer); copy it again from the source'
          : 'the file is damaged or not valid DICOM; re-export it from the scanner or PACS',
        file: name,
        cause: e,
      },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Per-frame facts

const T = {
  imageType: tag(0x0008, 0x0008),
  sopClass: tag(0x0008, 0x0016),
  sopInstance: tag(0x0008, 0x0018),
  modality: tag(0x0008, 0x0060),
  manufacturer: tag(0x0008, 0x0070),
  seriesDescription: tag(0x0008, 0x103e),
  frameType: tag(0x0008, 0x9007),
  sliceThickness: tag(0x0018, 0x0050),
  spacingBetweenSlices: tag(0x0018, 0x0088),
  echoNumbers: tag(0x0018, 0x0086),
  gantryTilt: tag(0x0018, 0x1120),
  mrFrameType: tag(0x0018, 0x9226),
  ctFrameType: tag(0x0018, 0x9329),
  studyUid: tag(0x0020, 0x000d),
  seriesUid: tag(0x0020, 0x000e),
  seriesNumber: tag(0x0020, 0x0011),
  acquisitionNumber: tag(0x0020, 0x0012),
  instanceNumber: tag(0x0020, 0x0013),
  ipp: tag(0x0020, 0x0032),
  iop: tag(0x0020, 0x0037),
  frameOfReference: tag(0x0020, 0x0052),
  stackId: tag(0x0020, 0x9056),
  inStackPosition: tag(0x0020, 0x9057),
  frameContent: tag(0x0020, 0x9111),
  planePosition: tag(0x0020, 0x9113),
  planeOrientation: tag(0x0020, 0x9116),
  temporalPositionIndex: tag(0x0020, 0x9128),
  frameAcquisitionNumber: tag(0x0020, 0x9156),
  dimensionIndexValues: tag(0x0020, 0x9157),
  samplesPerPixel: tag(0x0028, 0x0002),
  photometric: tag(0x0028, 0x0004),
  planarConfiguration: tag(0x0028, 0x0006),
  numberOfFrames: tag(0x0028, 0x0008),
  rows: tag(0x0028, 0x0010),
  columns: tag(0x0028, 0x0011),
  pixelSpacing: tag(0x0028, 0x0030),
  bitsAllocated: tag(0x0028, 0x0100),
  bitsStored: tag(0x0028, 0x0101),
  highBit: tag(0x0028, 0x0102),
  pixelRepresentation: tag(0x0028, 0x0103),
  burnedInAnnotation: tag(0x0028, 0x0301),
  rescaleIntercept: tag(0x0028, 0x1052),
  rescaleSlope: tag(0x0028, 0x1053),
  lossy: tag(0x0028, 0x2110),
  pixelMeasures: tag(0x0028, 0x9110),
  pixelValueTransformation: tag(0x0028, 0x9145),
  realWorldValueMapping: tag(0x0040, 0x9096),
  rwvIntercept: tag(0x0040, 0x9224),
  rwvSlope: tag(0x0040, 0x9225),
  sharedGroups: tag(0x5200, 0x9229),
  perFrameGroups: tag(0x5200, 0x9230),
  extendedOffsetTable: tag(0x7fe0, 0x0001),
  pixelData: tag(0x7fe0, 0x0010),
  floatPixelData: tag(0x7fe0, 0x0008),
  doublePixelData: tag(0x7fe0, 0x0009),
} as const;

function vec3(v: readonly (number | undefined)[], at = 0): Vec3 | undefined {
  const x = v[at];
  const y = v[at + 1];
  const z = v[at + 2];
  if (x === undefined || y === undefined || z === undefined) return undefined;
  return [x, y, z];
}

function geometryFrom(ds: DataSet | undefined): {
  position?: Vec3;
  orientation?: readonly [Vec3, Vec3];
  pixelSpacing?: readonly [number, number];
  sliceThickness?: number;
} {
  if (!ds) return {};
  const out: ReturnType<typeof geometryFrom> = {};
  const p = vec3(decimals(ds, T.ipp));
  if (p) out.position = p;
  const o = decimals(ds, T.iop);
  const r = vec3(o, 0);
  const c = vec3(o, 3);
  if (r && c) out.orientation = [r, c];
  const s = decimals(ds, T.pixelSpacing);
  // DICOM PixelSpacing is [row spacing (between rows, j), column spacing (between columns, i)].
  if (s[0] !== undefined && s[1] !== undefined && s[0] > 0 && s[1] > 0) out.pixelSpacing = [s[1], s[0]];
  const t = decimal(ds, T.sliceThickness);
  if (t !== undefined) out.sliceThickness = t;
  return out;
}

function rescaleFrom(ds: DataSet | undefined): { slope: number; intercept: number } | undefined {
  if (!ds) return undefined;
  const slope = decimal(ds, T.rescaleSlope);
  const intercept = decimal(ds, T.rescaleIntercept);
  if (slope === undefined && intercept === undefined) return undefined;
  return { slope: slope === undefined || slope === 0 ? 1 : slope, intercept: intercept ?? 0 };
}

function realWorldFrom(ds: DataSet | undefined): { slope: number; intercept: number } | undefined {
  const m = item(ds, T.realWorldValueMapping);
  if (!m) return undefined;
  const slope = binaries(m, T.rwvSlope, 'f64')[0];
  const intercept = binaries(m, T.rwvIntercept, 'f64')[0];
  if (slope === undefined || !Number.isFinite(slope) || slope === 0) return undefined;
  return { slope, intercept: intercept !== undefined && Number.isFinite(intercept) ? intercept : 0 };
}

/** Units of a Real World Value Mapping (its MeasurementUnitsCodeSequence code value, e.g. 'Hz'). */
function unitsFrom(ds: DataSet | undefined): string | undefined {
  const m = item(ds, T.realWorldValueMapping);
  const code = m ? item(m, tag(0x0040, 0x08ea)) : undefined;
  const v = code ? text(code, tag(0x0008, 0x0100)) : undefined;
  return v && v !== '1' && v !== '{no units}' ? v : undefined;
}

function frameTypeFrom(ds: DataSet | undefined): string | undefined {
  const ft = item(ds, T.mrFrameType) ?? item(ds, T.ctFrameType);
  if (!ft) return undefined;
  const v = texts(ft, T.frameType);
  return v.length ? v.join('\\') : undefined;
}

function optional<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

function enhancedFrames(ds: DataSet, n: number, top: { slope: number; intercept: number } | undefined): FrameInfo[] {
  const shared = item(ds, T.sharedGroups);
  const perFrame = items(ds, T.perFrameGroups);
  const philipsCreator = 'Philips MR Imaging DD 005';
  const frames: FrameInfo[] = [];
  for (let f = 0; f < n; f++) {
    const pf = perFrame[f];
    const pick = (seq: string) => item(pf, seq) ?? item(shared, seq);
    const pos = geometryFrom(pick(T.planePosition)).position;
    const orientation = geometryFrom(pick(T.planeOrientation)).orientation;
    const measures = geometryFrom(pick(T.pixelMeasures));
    const rescale =
      rescaleFrom(pick(T.pixelValueTransformation)) ?? top ?? realWorldFrom(pf) ?? realWorldFrom(shared) ?? undefined;
    const content = item(pf, T.frameContent);
    const dim = content ? binaries(content, T.dimensionIndexValues, 'u32') : [];
    const stackId = content ? text(content, T.stackId) : undefined;
    const inStack = content ? binaries(content, T.inStackPosition, 'u32')[0] : undefined;
    const temporal = content ? binaries(content, T.temporalPositionIndex, 'u32')[0] : undefined;
    const acq = content ? u16(content, T.frameAcquisitionNumber) : undefined;
    // Philips keeps per-frame classic attributes (echo number, image type) in a private sequence.
    const philips = pf ? item(pf, privateTag(pf, 0x2005, philipsCreator, 0x0f, 0x14)) : undefined;
    const echo = philips ? integerString(philips, T.echoNumbers) : undefined;
    const philipsType = philips ? texts(philips, T.imageType) : [];
    // ...and the private scale slope (2005,100E) of each frame, reported (not applied) by the loader.
    const ssRaw = philips
      ? binaries(philips, privateTag(philips, 0x2005, 'Philips MR Imaging DD 001', 0x0e), 'f32')[0]
      : undefined;
    const philipsScaleSlope = ssRaw !== undefined && Number.isFinite(ssRaw) && ssRaw !== 0 ? ssRaw : undefined;
    const units = unitsFrom(pf) ?? unitsFrom(shared);
    const imageType =
      frameTypeFrom(pf) ?? (philipsType.length ? philipsType.join('\\') : undefined) ?? frameTypeFrom(shared);
    frames.push({
      frameIndex: f,
      ...optional('position', pos),
      ...optional('orientation', orientation),
      ...optional('pixelSpacing', measures.pixelSpacing),
      ...optional('sliceThickness', measures.sliceThickness),
      rescaleSlope: rescale?.slope ?? 1,
      rescaleIntercept: rescale?.intercept ?? 0,
      ...optional('dimensionIndex', dim.length ? dim : undefined),
      ...optional('stackId', stackId),
      ...optional('inStackPosition', inStack),
      ...optional('temporalPosition', temporal),
      ...optional('echoNumber', echo),
      ...optional('acquisitionNumber', acq),
      ...optional('imageType', imageType),
      ...optional('philipsScaleSlope', philipsScaleSlope),
      ...optional('units', units),
    });
  }
  return frames;
}

// ---------------------------------------------------------------------------------------------
// Pixel data

function paletteFrom(ds: DataSet, name: string): PaletteLut | undefined {
  const desc = (e: number) => binaries(ds, tag(0x0028, e), 'u16');
  const r = desc(0x1101);
  const g = desc(0x1102);
  const b = desc(0x1103);
  if (r.length < 3 || g.length < 3 || b.length < 3) return undefined;
  const entries = r[0] === 0 ? 65536 : r[0]!;
  // The first-mapped value is US or SS depending on PixelRepresentation; read it as the pixels are.
  const pixelRep = u16(ds, T.pixelRepresentation) ?? 0;
  const first = pixelRep === 1 && r[1]! >= 32768 ? r[1]! - 65536 : r[1]!;
  const bits = r[2] === 8 ? 8 : 16;
  const data = (e: number): number[] | undefined => {
    const bytes = bytesOf(ds, tag(0x0028, e));
    if (!bytes) return undefined;
    if (bits === 8 && bytes.length === entries) return Array.from(bytes);
    const words = binaries(ds, tag(0x0028, e), 'u16');
    // 8-bit entries stored one per 16-bit word (PS3.3 C.7.6.3.1.6): the value sits in the low byte.
    return bits === 8 ? words.map((w) => w & 0xff) : words;
  };
  const red = data(0x1201);
  const green = data(0x1202);
  const blue = data(0x1203);
  if (!red || !green || !blue) {
    if (bytesOf(ds, tag(0x0028, 0x1221))) {
      throw new S2SError('UNSUPPORTED_FORMAT', 'segmented palette colour lookup tables are not supported', {
        hint: 'convert the image to RGB (e.g. gdcmconv --raw) before loading',
        file: name,
      });
    }
    return undefined;
  }
  return { firstMapped: first, bits, red, green, blue };
}

function pixelSourceFrom(
  ds: DataSet,
  el: Element,
  info: TransferSyntaxInfo,
  layout: PixelLayout,
  name: string,
): PixelSource {
  const buf = ds.byteArray;
  if (!info.encapsulated || !el.encapsulatedPixelData) {
    if (info.encapsulated && el.length !== 0xffffffff) {
      // Some writers store native pixel data under an encapsulated syntax; only the JPEG/J2K family
      // would be wrong to read natively, so refuse.
      throw new S2SError(
        'MALFORMED_FILE',
        `${info.name} requires encapsulated pixel data but the file stores it natively`,
        {
          hint: 'the transfer syntax in the header does not match the pixel data; re-export the image',
          file: name,
        },
      );
    }
    const end = Math.min(buf.length, el.dataOffset + el.length);
    const bytes = buf.subarray(el.dataOffset, Math.max(el.dataOffset, end));
    const needBits =
      layout.rows * layout.columns * layout.samplesPerPixel * layout.bitsAllocated * layout.numberOfFrames;
    if (bytes.length * 8 < needBits) {
      throw new S2SError(
        'TRUNCATED_FILE',
        `pixel data holds ${bytes.length} bytes but ${layout.numberOfFrames} frame(s) of ${layout.rows}x${layout.columns}x${layout.samplesPerPixel} at ${layout.bitsAllocated} bits need ${Math.ceil(needBits / 8)}`,
        { hint: 'the file was cut short (incomplete copy or transfer); copy it again from the source', file: name },
      );
    }
    return {
      kind: 'native',
      bytes,
      bigEndian: info.bigEndian,
      swapPairs: info.bigEndian && layout.bitsAllocated === 8 && el.vr === 'OW',
    };
  }
  const fragments: Fragment[] = [];
  for (const fr of el.fragments ?? []) {
    if (fr.position + fr.length > buf.length) {
      throw new S2SError('TRUNCATED_FILE', 'the compressed pixel data ends before its last fragment does', {
        hint: 'the file was cut short (incomplete copy or transfer); copy it again from the source',
        file: name,
      });
    }
    fragments.push({ offset: fr.offset, bytes: buf.subarray(fr.position, fr.position + fr.length) });
  }
  if (fragments.length === 0) {
    throw new S2SError('TRUNCATED_FILE', 'the encapsulated pixel data has no fragments', {
      hint: 'the file holds no compressed image data; it is incomplete or damaged',
      file: name,
    });
  }
  const eot = bytesOf(ds, T.extendedOffsetTable);
  let extended: number[] | undefined;
  if (eot && eot.length % 8 === 0) {
    const dv = new DataView(eot.buffer, eot.byteOffset, eot.byteLength);
    extended = [];
    for (let k = 0; k < eot.length; k += 8) extended.push(Number(dv.getBigUint64(k, true)));
  }
  const groups = groupFragments(
    fragments,
    layout.numberOfFrames,
    info.codec,
    el.basicOffsetTable ?? [],
    extended,
    name,
  );
  return { kind: 'encapsulated', fragments, groups };
}

// ---------------------------------------------------------------------------------------------

function required(ds: DataSet, t: string, what: string, name: string): number {
  const v = u16(ds, t);
  if (v === undefined) {
    throw new S2SError('MALFORMED_FILE', `${what} ${t.replace(/^x(....)(....)$/, '($1,$2)')} is missing`, {
      hint: 'the image pixel module is incomplete; the file cannot be displayed by any viewer',
      file: name,
    });
  }
  return v;
}

/**
 * Parses one DICOM file. Throws S2SError: UNSUPPORTED_FORMAT (not DICOM), TRUNCATED_FILE,
 * MALFORMED_FILE, UNSUPPORTED_TRANSFER_SYNTAX or NO_PIXEL_DATA (e.g. SR, RTPLAN, DICOMDIR).
 */
export function parseDicom(bytes: Uint8Array, options: ParseDicomOptions = {}): DicomFile {
  return parseDicomDataSet(bytes, options).file;
}

/** parseDicom, also returning dicom-parser's element tree (for other modules of this package). */
export function parseDicomDataSet(bytes: Uint8Array, options: ParseDicomOptions = {}): ParsedDicom {
  const name = options.name ?? PARSE_DICOM_DEFAULTS.name;
  if (!(bytes instanceof Uint8Array)) {
    throw new S2SError('INVALID_ARGUMENT', 'parseDicom needs the file bytes as a Uint8Array', { file: name });
  }
  let b = bytes;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) {
    try {
      b = gunzipSync(b);
    } catch (cause) {
      throw new S2SError('TRUNCATED_FILE', 'the gzip-compressed file cannot be decompressed', {
        hint: 'the .gz file is damaged or incomplete; download or copy it again',
        file: name,
        cause,
      });
    }
  }
  const meta = readMeta(b, name);
  const tsUid = meta.transferSyntax ?? guessTransferSyntax(b, meta.start, name);
  const info = transferSyntaxInfo(tsUid);
  if (!info) {
    throw new S2SError('UNSUPPORTED_TRANSFER_SYNTAX', `transfer syntax ${tsUid} is not supported`, {
      hint: 'convert the file to an uncompressed syntax first, e.g. `gdcmconv --raw in.dcm out.dcm` or `dcmdjpeg`',
      file: name,
    });
  }
  const ds = parseTree(b, meta, tsUid, name, info);
  if (!meta.hasPreamble && !meta.hasMeta) {
    const groups = Object.keys(ds.elements).filter((k) => /^x(0008|0010|0018|0020|0028|7fe0)/.test(k));
    if (groups.length === 0)
      throw new S2SError('UNSUPPORTED_FORMAT', 'no DICOM data elements found', { hint: NOT_DICOM_HINT, file: name });
  }
  return { file: buildFile(ds, info, name), dataSet: ds };
}

function buildFile(ds: DataSet, info: TransferSyntaxInfo, name: string): DicomFile {
  const pixelEl = ds.elements[T.pixelData];
  if (!pixelEl || pixelEl.length === 0) {
    if (ds.elements[T.floatPixelData] || ds.elements[T.doublePixelData]) {
      throw new S2SError('UNSUPPORTED_FORMAT', 'float pixel data (7FE0,0008/0009) is not supported', {
        hint: 'only integer Pixel Data (7FE0,0010) can be loaded',
        file: name,
      });
    }
    const what = text(ds, T.modality);
    throw new S2SError(
      'NO_PIXEL_DATA',
      `the file holds no image (no Pixel Data element${what ? `; modality ${what}` : ''})`,
      {
        hint: 'it is probably a report, plan, structure set or directory; leave it out of the image series',
        file: name,
      },
    );
  }
  const rows = required(ds, T.rows, 'Rows', name);
  const columns = required(ds, T.columns, 'Columns', name);
  const bitsAllocated = required(ds, T.bitsAllocated, 'BitsAllocated', name);
  const samplesPerPixel = u16(ds, T.samplesPerPixel) ?? 1;
  const bitsStored = u16(ds, T.bitsStored) ?? bitsAllocated;
  const highBit = u16(ds, T.highBit) ?? bitsStored - 1;
  const pixelRepresentation = u16(ds, T.pixelRepresentation) ?? 0;
  const photometricInterpretation = text(ds, T.photometric) ?? (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2');
  const planarConfiguration = u16(ds, T.planarConfiguration) ?? 0;
  const framesText = text(ds, T.numberOfFrames);
  const numberOfFrames = framesText === undefined ? 1 : integerString(ds, T.numberOfFrames);
  const bad = (what: string) =>
    new S2SError('MALFORMED_FILE', what, {
      hint: 'the image pixel module is invalid; re-export the image',
      file: name,
    });
  if (numberOfFrames === undefined || numberOfFrames < 1)
    throw bad(`NumberOfFrames (0028,0008) '${framesText}' is not a positive integer`);
  if (rows < 1 || columns < 1) throw bad(`the image size ${rows}x${columns} is empty`);
  if (![1, 8, 16, 32].includes(bitsAllocated)) throw bad(`BitsAllocated ${bitsAllocated} is not 1, 8, 16 or 32`);
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    throw bad(`BitsStored ${bitsStored} / HighBit ${highBit} do not fit in BitsAllocated ${bitsAllocated}`);
  }
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) throw bad(`SamplesPerPixel ${samplesPerPixel} is not 1 or 3`);
  if (pixelRepresentation !== 0 && pixelRepresentation !== 1)
    throw bad(`PixelRepresentation ${pixelRepresentation} is not 0 or 1`);
  const pi = photometricInterpretation.toUpperCase();
  const palette = pi === 'PALETTE COLOR' ? paletteFrom(ds, name) : undefined;
  const layout: PixelLayout = {
    name,
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation,
    photometricInterpretation,
    planarConfiguration,
    numberOfFrames,
    palette,
  };
  const source = pixelSourceFrom(ds, pixelEl, info, layout, name);

  const top = rescaleFrom(ds);
  const enhanced = ds.elements[T.perFrameGroups] !== undefined || ds.elements[T.sharedGroups] !== undefined;
  let frames: FrameInfo[];
  if (enhanced) {
    frames = enhancedFrames(ds, numberOfFrames, top);
  } else {
    const g = geometryFrom(ds);
    const rescale = top ?? { slope: 1, intercept: 0 };
    frames = [];
    for (let f = 0; f < numberOfFrames; f++) {
      frames.push({
        frameIndex: f,
        // A classic multi-frame file has one ImagePositionPatient: it locates frame 0 only.
        ...optional('position', f === 0 ? g.position : undefined),
        ...optional('orientation', g.orientation),
        ...optional('pixelSpacing', g.pixelSpacing),
        ...optional('sliceThickness', g.sliceThickness),
        rescaleSlope: rescale.slope,
        rescaleIntercept: rescale.intercept,
      });
    }
  }

  // Siemens mosaic
  const imageTypeValues = texts(ds, T.imageType);
  let mosaicSlices: number | undefined;
  let mosaicNormal: Vec3 | undefined;
  const csaBytes = bytesOf(ds, privateTag(ds, 0x0029, 'SIEMENS CSA HEADER', 0x10));
  const csa = csaBytes ? readCsa(csaBytes) : undefined;
  if (imageTypeValues.some((v) => v.toUpperCase() === 'MOSAIC')) {
    const fromPrivate = u16(ds, privateTag(ds, 0x0019, 'SIEMENS MR HEADER', 0x0a));
    const fromCsa = csa ? csaNumbers(csa, 'NumberOfImagesInMosaic')[0] : undefined;
    mosaicSlices = fromCsa ?? fromPrivate;
  }
  if (csa) {
    const n = csaNumbers(csa, 'SliceNormalVector');
    if (n.length >= 3) mosaicNormal = [n[0]!, n[1]!, n[2]!];
  }
  const philipsSlope = binaries(ds, privateTag(ds, 0x2005, 'Philips MR Imaging DD 001', 0x0e), 'f32')[0];
  const lossyFlag = text(ds, T.lossy);
  const gantryTilt = decimal(ds, T.gantryTilt);

  const file: DicomFile = {
    name,
    transferSyntaxUID: info.uid,
    ...optional('sopClassUID', text(ds, T.sopClass)),
    ...optional('sopInstanceUID', text(ds, T.sopInstance)),
    ...optional('studyInstanceUID', text(ds, T.studyUid)),
    ...optional('seriesInstanceUID', text(ds, T.seriesUid)),
    ...optional('frameOfReferenceUID', text(ds, T.frameOfReference)),
    ...optional('seriesNumber', integerString(ds, T.seriesNumber)),
    ...optional('seriesDescription', text(ds, T.seriesDescription)),
    ...optional('instanceNumber', integerString(ds, T.instanceNumber)),
    ...optional('acquisitionNumber', integerString(ds, T.acquisitionNumber)),
    ...optional('echoNumber', integerString(ds, T.echoNumbers)),
    ...optional('modality', text(ds, T.modality)),
    ...optional('manufacturer', text(ds, T.manufacturer)),
    ...optional('imageType', imageTypeValues.length ? imageTypeValues.join('\\') : undefined),
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit,
    pixelRepresentation,
    photometricInterpretation,
    planarConfiguration,
    numberOfFrames,
    frames,
    ...optional('gantryTilt', gantryTilt),
    ...optional(
      'philipsScaleSlope',
      philipsSlope !== undefined && Number.isFinite(philipsSlope) ? philipsSlope : undefined,
    ),
    ...optional('mosaicSlices', mosaicSlices),
    ...optional('mosaicNormal', mosaicNormal),
    ...optional('spacingBetweenSlices', decimal(ds, T.spacingBetweenSlices)),
    lossyCompression: lossyFlag === '01' || info.lossy,
    ...optional('burnedInAnnotation', text(ds, T.burnedInAnnotation)),
    decodeFrame: (index: number) => decodeFrameFrom(source, layout, info, index),
    decodeFrameInto: (index, target, offset, slope, intercept, range) =>
      decodeFrameIntoFrom(source, layout, index, target, offset, slope, intercept, range),
  };
  return file;
}

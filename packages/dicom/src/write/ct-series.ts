/**
 * Writes a 3D volume in HU as a classic DICOM CT series: CT Image Storage, one file per slice,
 * Explicit VR Little Endian, 16-bit stored values with RescaleSlope/Intercept.
 *
 * Geometry: slice k of the volume becomes one file with
 *   ImagePositionPatient    = lpsFromIjk(grid, [0, 0, k])   (centre of the first pixel of the slice)
 *   ImageOrientationPatient = direction[0] (row direction: along i / columns), direction[1] (along j / rows)
 *   PixelSpacing            = [spacing[1], spacing[0]]      (DICOM order: between ROWS, then between COLUMNS)
 *   Rows = size[1], Columns = size[0]
 * so readers that sort by position along the normal row x column rebuild the same voxel centres.
 *
 * Identity: the files carry NO patient identity. PatientName/PatientID are fixed synthetic values
 * ('Phantom^Head' / 'PHANTOM' by default), dates, times and other type-2 attributes are empty, and
 * PatientIdentityRemoved is YES. UIDs are derived deterministically from `seed` under the 2.25 root
 * (so the same call writes byte-identical files).
 *
 * Why our own small encoder and not dcmjs: this is a fixed set of about 50 attributes in one
 * transfer syntax; the encoder is ~100 lines, fully typed (dcmjs ships no TypeScript types),
 * browser-safe, and makes exact control of DS formatting (16-character limit) and
 * byte-for-byte determinism easy. The output is checked in tests with independent readers
 * (dcmjs, our parser, pydicom/dcm2niix when available).
 */
import {
  cross,
  dot,
  type Grid,
  lpsFromIjk,
  progressReporter,
  type RunOptions,
  S2SError,
  type Vec3,
  type Volume,
} from '@slice2solid/core';

export interface WriteCtSeriesOptions extends RunOptions {
  /** Seed for the deterministic UIDs (study, series, frame of reference, instances). */
  readonly seed?: string | number;
  /**
   * Order of InstanceNumber (and file names) relative to slice POSITION along the normal
   * (row direction x column direction): 'ascending' numbers the lowest position 1,
   * 'descending' the highest.
   */
  readonly sliceOrder?: 'ascending' | 'descending';
  /** 'instance': IM0001.dcm follows InstanceNumber. 'shuffled': names are a seeded permutation (tests sorting). */
  readonly fileNames?: 'instance' | 'shuffled';
  readonly seriesNumber?: number;
  readonly seriesDescription?: string;
  /** Synthetic patient name. Never put a real person's name here. */
  readonly patientName?: string;
  /** Synthetic patient ID. */
  readonly patientId?: string;
  /** Stored value = round((HU - rescaleIntercept) / rescaleSlope), written unsigned 16-bit. */
  readonly rescaleIntercept?: number;
  readonly rescaleSlope?: number;
  readonly windowCenter?: number;
  readonly windowWidth?: number;
  /** SliceThickness in mm; default the distance between slice planes. */
  readonly sliceThickness?: number;
  /** Allow values that are not exactly representable (they are rounded); default false (throws). */
  readonly allowQuantization?: boolean;
}

export const WRITE_CT_SERIES_DEFAULTS = {
  seed: 'slice2solid',
  sliceOrder: 'ascending' as 'ascending' | 'descending',
  fileNames: 'instance' as 'instance' | 'shuffled',
  seriesNumber: 1,
  seriesDescription: 'slice2solid synthetic CT',
  patientName: 'Phantom^Head',
  patientId: 'PHANTOM',
  rescaleIntercept: -1024,
  rescaleSlope: 1,
  windowCenter: 40,
  windowWidth: 400,
  allowQuantization: false,
} as const;

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/** Implementation Class UID of slice2solid's writer (a fixed 2.25 UID). */
export const SLICE2SOLID_IMPLEMENTATION_UID = uidFromSeed('slice2solid implementation class');

export interface DicomFileOut {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Writes `volume` (one frame, one component, values in HU) as one DICOM CT file per slice. */
export function writeCtSeries(volume: Volume, options: WriteCtSeriesOptions = {}): DicomFileOut[] {
  const o = { ...WRITE_CT_SERIES_DEFAULTS, ...stripUndefined(options) };
  if (volume.components !== 1 || volume.frames !== 1) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `a CT series holds one grey 3D volume; this one has ${volume.components} component(s) and ${volume.frames} frame(s)`,
      { hint: 'write each frame separately (frameOf) or convert colour to grey first' },
    );
  }
  if (o.sliceOrder !== 'ascending' && o.sliceOrder !== 'descending') {
    throw new S2SError('INVALID_ARGUMENT', `sliceOrder must be 'ascending' or 'descending', got "${o.sliceOrder}"`);
  }
  if (!(o.rescaleSlope > 0) || !Number.isFinite(o.rescaleSlope) || !Number.isFinite(o.rescaleIntercept)) {
    throw new S2SError('INVALID_ARGUMENT', 'rescaleSlope must be > 0 and rescaleIntercept finite');
  }
  const { grid } = volume;
  const [nx, ny, nz] = grid.size;
  if (nx > 65535 || ny > 65535) {
    throw new S2SError('INVALID_ARGUMENT', `a DICOM image has at most 65535 rows and columns; got ${nx}x${ny}`);
  }
  const [row, col, slice] = grid.direction;
  if (Math.abs(dot(row, col)) > 1e-6) {
    throw new S2SError('INVALID_ARGUMENT', 'the grid i and j axes are not perpendicular, which DICOM cannot express', {
      hint: 'resample the volume onto a grid with perpendicular in-plane axes',
    });
  }
  const normal = cross(row, col);
  // distance between neighbouring slice planes (equals spacing[2] for an unsheared grid)
  const planeStep = Math.abs(dot(slice, normal)) * grid.spacing[2];
  if (nz > 1 && planeStep < 1e-6) {
    throw new S2SError('INVALID_ARGUMENT', 'the grid k axis lies in the slice plane');
  }

  // values -> stored unsigned 16-bit
  const stored = new Uint16Array(nx * ny * nz);
  let maxStored = 0;
  for (let v = 0; v < stored.length; v++) {
    const hu = volume.data[v]!;
    const s = (hu - o.rescaleIntercept) / o.rescaleSlope;
    const r = Math.round(s);
    if (!(r >= 0 && r <= 65535)) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `value ${hu} cannot be stored with RescaleSlope ${o.rescaleSlope} and RescaleIntercept ${o.rescaleIntercept} in 16 unsigned bits`,
        { hint: 'choose rescaleIntercept/rescaleSlope so every value maps into 0..65535' },
      );
    }
    if (r !== s && !o.allowQuantization && Math.abs(r - s) > 1e-6) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `value ${hu} is not a multiple of RescaleSlope ${o.rescaleSlope} from RescaleIntercept ${o.rescaleIntercept}; writing it would change it`,
        { hint: 'pass allowQuantization: true to round, or choose a finer rescaleSlope' },
      );
    }
    stored[v] = r;
    if (r > maxStored) maxStored = r;
  }
  const bitsStored = Math.max(12, Math.ceil(Math.log2(maxStored + 1)));

  const seed = String(o.seed);
  const studyUid = uidFromSeed(`${seed}/study`);
  const seriesUid = uidFromSeed(`${seed}/series/${o.seriesNumber}`);
  const frameUid = uidFromSeed(`${seed}/frame-of-reference`);
  const sliceThickness = o.sliceThickness ?? (nz > 1 ? planeStep : grid.spacing[2]);

  // InstanceNumber by position along the normal
  const pos = (k: number): Vec3 => lpsFromIjk(grid, [0, 0, k]);
  const ks = Array.from({ length: nz }, (_, k) => k).sort((a, b) => dot(pos(a), normal) - dot(pos(b), normal));
  if (o.sliceOrder === 'descending') ks.reverse();
  const instanceOf = new Int32Array(nz);
  ks.forEach((k, n) => {
    instanceOf[k] = n + 1;
  });
  const names = Array.from({ length: nz }, (_, n) => n + 1);
  if (o.fileNames === 'shuffled') shuffle(names, hash32(`${seed}/names`));

  const report = progressReporter('write DICOM', nz, options);
  const files: DicomFileOut[] = [];
  const sliceBytes = nx * ny * 2;
  for (let k = 0; k < nz; k++) {
    report(k);
    const instance = instanceOf[k]!;
    const sopUid = uidFromSeed(`${seed}/series/${o.seriesNumber}/instance/${instance}`);
    const ipp = pos(k);
    const pixels = new Uint8Array(sliceBytes);
    const view = new DataView(pixels.buffer);
    const base = k * nx * ny;
    for (let p = 0; p < nx * ny; p++) view.setUint16(p * 2, stored[base + p]!, true);
    const elements: Element[] = [
      str(0x00080008, 'CS', 'DERIVED\\SECONDARY\\AXIAL'),
      str(0x00080016, 'UI', CT_IMAGE_STORAGE),
      str(0x00080018, 'UI', sopUid),
      str(0x00080020, 'DA', ''),
      str(0x00080030, 'TM', ''),
      str(0x00080050, 'SH', ''),
      str(0x00080060, 'CS', 'CT'),
      str(0x00080070, 'LO', 'slice2solid'),
      str(0x00080090, 'PN', ''),
      str(0x0008103e, 'LO', o.seriesDescription),
      str(0x00100010, 'PN', o.patientName),
      str(0x00100020, 'LO', o.patientId),
      str(0x00100030, 'DA', ''),
      str(0x00100040, 'CS', ''),
      str(0x00120062, 'CS', 'YES'),
      str(0x00120063, 'LO', 'synthetic data, no patient'),
      str(0x00180050, 'DS', ds(sliceThickness)),
      str(0x00180060, 'DS', ''),
      str(0x00185100, 'CS', 'HFS'),
      str(0x0020000d, 'UI', studyUid),
      str(0x0020000e, 'UI', seriesUid),
      str(0x00200010, 'SH', ''),
      str(0x00200011, 'IS', String(o.seriesNumber)),
      str(0x00200012, 'IS', '1'),
      str(0x00200013, 'IS', String(instance)),
      str(0x00200020, 'CS', ''),
      str(0x00200032, 'DS', ipp.map(ds).join('\\')),
      str(0x00200037, 'DS', [...row, ...col].map(ds).join('\\')),
      str(0x00200052, 'UI', frameUid),
      str(0x00201040, 'LO', ''),
      str(0x00201041, 'DS', ds(dot(ipp, normal))),
      us(0x00280002, 1),
      str(0x00280004, 'CS', 'MONOCHROME2'),
      us(0x00280010, ny),
      us(0x00280011, nx),
      str(0x00280030, 'DS', `${ds(grid.spacing[1])}\\${ds(grid.spacing[0])}`),
      us(0x00280100, 16),
      us(0x00280101, bitsStored),
      us(0x00280102, bitsStored - 1),
      us(0x00280103, 0),
      str(0x00281050, 'DS', ds(o.windowCenter)),
      str(0x00281051, 'DS', ds(o.windowWidth)),
      str(0x00281052, 'DS', ds(o.rescaleIntercept)),
      str(0x00281053, 'DS', ds(o.rescaleSlope)),
      str(0x00281054, 'LO', 'HU'),
      { tag: 0x7fe00010, vr: 'OW', value: pixels },
    ];
    const meta: Element[] = [
      { tag: 0x00020001, vr: 'OB', value: new Uint8Array([0, 1]) },
      str(0x00020002, 'UI', CT_IMAGE_STORAGE),
      str(0x00020003, 'UI', sopUid),
      str(0x00020010, 'UI', EXPLICIT_VR_LITTLE_ENDIAN),
      str(0x00020012, 'UI', SLICE2SOLID_IMPLEMENTATION_UID),
      str(0x00020013, 'SH', 'SLICE2SOLID_0_1'),
    ];
    const name = `IM${String(names[instance - 1]).padStart(4, '0')}.dcm`;
    files.push({ name, bytes: encodeFile(meta, elements) });
  }
  report(nz);
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return files;
}

/** The distance (mm) between neighbouring slice planes the writer would record for `grid`. */
export function ctSeriesPlaneStep(grid: Grid): number {
  return Math.abs(dot(grid.direction[2], cross(grid.direction[0], grid.direction[1]))) * grid.spacing[2];
}

// ---------------------------------------------------------------------------------------------
// A tiny Explicit VR Little Endian encoder
// ---------------------------------------------------------------------------------------------

interface Element {
  readonly tag: number;
  readonly vr: string;
  readonly value: Uint8Array;
}

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT']);

function str(tag: number, vr: string, text: string): Element {
  const bytes = new Uint8Array(text.length + (text.length % 2));
  for (let n = 0; n < text.length; n++) {
    const c = text.charCodeAt(n);
    if (c > 0x7e || c < 0x20) {
      throw new S2SError('INVALID_ARGUMENT', `DICOM text for tag ${tagString(tag)} must be printable ASCII`);
    }
    bytes[n] = c;
  }
  if (text.length % 2) bytes[text.length] = vr === 'UI' ? 0 : 0x20;
  return { tag, vr, value: bytes };
}

function us(tag: number, value: number): Element {
  return { tag, vr: 'US', value: new Uint8Array([value & 0xff, (value >> 8) & 0xff]) };
}

function encodeFile(meta: Element[], elements: Element[]): Uint8Array {
  const metaBody = encodeElements(meta);
  const groupLength = encodeElements([{ tag: 0x00020000, vr: 'UL', value: u32(metaBody.length) }]);
  const body = encodeElements(elements);
  const out = new Uint8Array(132 + groupLength.length + metaBody.length + body.length);
  out.set([0x44, 0x49, 0x43, 0x4d], 128); // "DICM"
  out.set(groupLength, 132);
  out.set(metaBody, 132 + groupLength.length);
  out.set(body, 132 + groupLength.length + metaBody.length);
  return out;
}

function encodeElements(elements: Element[]): Uint8Array {
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  let total = 0;
  for (const e of sorted) total += (LONG_VRS.has(e.vr) ? 12 : 8) + e.value.length;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let p = 0;
  for (const e of sorted) {
    if (e.value.length % 2) throw new S2SError('INVALID_ARGUMENT', `odd value length for ${tagString(e.tag)}`);
    dv.setUint16(p, e.tag >>> 16, true);
    dv.setUint16(p + 2, e.tag & 0xffff, true);
    out[p + 4] = e.vr.charCodeAt(0);
    out[p + 5] = e.vr.charCodeAt(1);
    if (LONG_VRS.has(e.vr)) {
      dv.setUint32(p + 8, e.value.length, true);
      p += 12;
    } else {
      if (e.value.length > 0xffff) throw new S2SError('INVALID_ARGUMENT', `value too long for ${tagString(e.tag)}`);
      dv.setUint16(p + 6, e.value.length, true);
      p += 8;
    }
    out.set(e.value, p);
    p += e.value.length;
  }
  return out;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function tagString(tag: number): string {
  const h = tag.toString(16).toUpperCase().padStart(8, '0');
  return `(${h.slice(0, 4)},${h.slice(4)})`;
}

/** A Decimal String of at most 16 characters, as exact as that allows. */
export function formatDecimalString(x: number): string {
  return ds(x);
}

function ds(x: number): string {
  if (!Number.isFinite(x)) throw new S2SError('INVALID_ARGUMENT', `cannot write ${x} as a DICOM decimal string`);
  if (Object.is(x, -0) || Math.abs(x) < 1e-300) return '0';
  let s = String(x);
  if (s.length <= 16) return s;
  for (let p = 16; p >= 1; p--) {
    s = String(Number(x.toPrecision(p)));
    if (s.length <= 16) return s;
    s = x.toExponential(p - 1).replace('e+', 'e');
    if (s.length <= 16) return s;
  }
  throw new S2SError('INVALID_ARGUMENT', `cannot write ${x} in 16 characters`);
}

// ---------------------------------------------------------------------------------------------
// Deterministic UIDs and shuffling
// ---------------------------------------------------------------------------------------------

/** A UID under the 2.25 root (ISO/IEC 9834-8 UUID form), derived deterministically from `text`. */
export function uidFromSeed(text: string): string {
  let v = 0n;
  for (let n = 0; n < 4; n++) v = (v << 32n) | BigInt(hash32(`${n}:${text}`));
  // mark it as a version-8 (custom) UUID with the RFC 4122 variant, as a random UUID would be
  v = (v & ~(0xfn << 76n)) | (0x8n << 76n);
  v = (v & ~(0x3n << 62n)) | (0x2n << 62n);
  return `2.25.${v.toString()}`;
}

/** 32-bit FNV-1a followed by a murmur3 finaliser. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let n = 0; n < text.length; n++) {
    h ^= text.charCodeAt(n);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function shuffle(a: number[], seed: number): void {
  let s = seed >>> 0;
  for (let n = a.length - 1; n > 0; n--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const m = s % (n + 1);
    const t = a[n]!;
    a[n] = a[m]!;
    a[m] = t;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o))
    if (v !== undefined && typeof v !== 'function') (out as Record<string, unknown>)[k] = v;
  return out;
}

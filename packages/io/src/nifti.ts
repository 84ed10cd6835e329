/**
 * NIfTI-1 and NIfTI-2 reader and writer (`.nii`, `.nii.gz`, and `.hdr`/`.img` pairs on read).
 *
 * Written from the NIfTI-1 standard (nifti1.h) and NIfTI-2 (nifti2.h) rather than with
 * nifti-reader-js: the format is small, and we need full control of the affine (sform/qform
 * precedence, qfac, units, the RAS<->LPS step, degenerate matrices) plus strict bounds checks.
 *
 * Coordinates: NIfTI world space is RAS+ (+x towards the patient's Right, +y Anterior,
 * +z Superior); slice2solid works in DICOM LPS (+x Left, +y Posterior, +z Superior). Hence
 * lps = diag(-1, -1, 1) * ras. That flip happens ONLY in `lpsFromRas` / `rasFromLps` in this file.
 */
import {
  type Grid,
  makeVolume,
  type RunOptions,
  S2SError,
  throwIfAborted,
  type Vec3,
  type Volume,
  type VoxelArray,
  type VoxelType,
  voxelCount,
  voxelTypeOf,
} from '@slice2solid/core';
import {
  applyLinearScale,
  BYTES_PER_SAMPLE,
  decodeInt64,
  decodeSamples,
  encodeSamples,
  gunzip,
  gzip,
  isGzip,
  readCString,
  writeCString,
} from './common/binary.js';
import { gridColumns, gridFromColumns } from './common/geometry.js';
import { withWarnings } from './common/meta.js';

// ---------------------------------------------------------------------------------------------
// Header

/** The NIfTI header fields slice2solid uses, decoded (NIfTI-1 and NIfTI-2 alike). */
export interface NiftiHeader {
  readonly version: 1 | 2;
  /** 'n+1'/'n+2' single file, 'ni1'/'ni2' header of a .hdr/.img pair, '' for ANALYZE 7.5. */
  readonly magic: string;
  readonly littleEndian: boolean;
  /** dim[0..7]: dim[0] = number of dimensions, dim[1..] = sizes. */
  readonly dim: readonly number[];
  readonly datatype: number;
  readonly bitpix: number;
  /** pixdim[0] = qfac, pixdim[1..3] = voxel size, pixdim[4] = TR. */
  readonly pixdim: readonly number[];
  readonly voxOffset: number;
  readonly sclSlope: number;
  readonly sclInter: number;
  readonly calMin: number;
  readonly calMax: number;
  /** Raw xyzt_units: bits 0-2 space (1 m, 2 mm, 3 um), bits 3-5 time. */
  readonly xyztUnits: number;
  readonly intentCode: number;
  readonly intentName: string;
  readonly qformCode: number;
  readonly sformCode: number;
  /** quatern_b, quatern_c, quatern_d. */
  readonly quatern: Vec3;
  readonly qoffset: Vec3;
  /** srow_x, srow_y, srow_z: 12 numbers, row-major, RAS. */
  readonly srow: readonly number[];
  readonly descrip: string;
  readonly auxFile: string;
  /** True when bytes 348..351 (NIfTI-1) / 540..543 (NIfTI-2) flag header extensions. */
  readonly hasExtensions: boolean;
}

export const NIFTI_DATATYPE = {
  uint8: 2,
  int16: 4,
  int32: 8,
  float32: 16,
  complex64: 32,
  float64: 64,
  rgb24: 128,
  int8: 256,
  uint16: 512,
  uint32: 768,
  int64: 1024,
  uint64: 1280,
  float128: 1536,
  complex128: 1792,
  complex256: 2048,
  rgba32: 2304,
} as const;

const TYPE_OF_CODE: Record<number, VoxelType> = {
  2: 'uint8',
  4: 'int16',
  8: 'int32',
  16: 'float32',
  64: 'float64',
  256: 'int8',
  512: 'uint16',
  768: 'uint32',
};

const CODE_OF_TYPE: Record<VoxelType, number> = {
  uint8: 2,
  int16: 4,
  int32: 8,
  float32: 16,
  float64: 64,
  int8: 256,
  uint16: 512,
  uint32: 768,
};

function malformed(message: string, hint: string): S2SError {
  return new S2SError('MALFORMED_FILE', message, { hint });
}

/** True if these (possibly gzipped) bytes start with a NIfTI-1/2 or ANALYZE header. */
export function looksLikeNifti(head: Uint8Array): boolean {
  if (head.length < 4) return false;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const le = dv.getInt32(0, true);
  const be = dv.getInt32(0, false);
  if ((le === 348 || be === 348) && head.length >= 348) {
    const m = readCString(head, 344, 4);
    return m === 'n+1' || m === 'ni1';
  }
  if ((le === 540 || be === 540) && head.length >= 8) {
    const m = readCString(head, 4, 4);
    return m === 'n+2' || m === 'ni2';
  }
  return false;
}

/**
 * Decodes a NIfTI-1 / NIfTI-2 (or ANALYZE 7.5) header. Accepts gzipped bytes. Throws MALFORMED_FILE
 * for anything that is not a NIfTI header and TRUNCATED_FILE when the bytes stop inside it.
 */
export function readNiftiHeader(bytes: Uint8Array): NiftiHeader {
  const b = isGzip(bytes) ? gunzip(bytes) : bytes;
  return parseHeader(b);
}

function parseHeader(b: Uint8Array): NiftiHeader {
  if (b.length < 4) {
    throw new S2SError('TRUNCATED_FILE', `the file is only ${b.length} bytes long, too short for a NIfTI header`, {
      hint: 'the file is empty or was cut short; copy it again',
    });
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let version: 1 | 2;
  let le: boolean;
  const s = dv.getInt32(0, true);
  const sb = dv.getInt32(0, false);
  if (s === 348) [version, le] = [1, true];
  else if (sb === 348) [version, le] = [1, false];
  else if (s === 540) [version, le] = [2, true];
  else if (sb === 540) [version, le] = [2, false];
  else {
    throw malformed(
      `not a NIfTI file: the header size field is ${s}, not 348 (NIfTI-1) or 540 (NIfTI-2)`,
      'check that this is a .nii / .nii.gz file; other formats need their own reader',
    );
  }
  const hdrSize = version === 1 ? 348 : 540;
  if (b.length < hdrSize) {
    throw new S2SError(
      'TRUNCATED_FILE',
      `the NIfTI-${version} header needs ${hdrSize} bytes but the file has only ${b.length}`,
      { hint: 'the file was cut short; copy it again' },
    );
  }
  const i16 = (o: number) => dv.getInt16(o, le);
  const i32 = (o: number) => dv.getInt32(o, le);
  const f32 = (o: number) => dv.getFloat32(o, le);
  const f64 = (o: number) => dv.getFloat64(o, le);
  const i64 = (o: number) => {
    const v = dv.getBigInt64(o, le);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw malformed(`a NIfTI-2 size field holds an absurd value (${v})`, 'the header is corrupt');
    }
    return Number(v);
  };
  const extFlag = b.length >= hdrSize + 4 ? b[hdrSize]! !== 0 : false;
  if (version === 1) {
    const magic = readCString(b, 344, 4);
    if (magic !== 'n+1' && magic !== 'ni1' && magic !== '') {
      throw malformed(`unknown NIfTI-1 magic "${magic}"`, 'the header is corrupt or not NIfTI');
    }
    return {
      version,
      magic,
      littleEndian: le,
      dim: Array.from({ length: 8 }, (_, k) => i16(40 + 2 * k)),
      datatype: i16(70),
      bitpix: i16(72),
      pixdim: Array.from({ length: 8 }, (_, k) => f32(76 + 4 * k)),
      voxOffset: f32(108),
      sclSlope: f32(112),
      sclInter: f32(116),
      xyztUnits: b[123]!,
      calMax: f32(124),
      calMin: f32(128),
      descrip: readCString(b, 148, 80),
      auxFile: readCString(b, 228, 24),
      qformCode: i16(252),
      sformCode: i16(254),
      quatern: [f32(256), f32(260), f32(264)],
      qoffset: [f32(268), f32(272), f32(276)],
      srow: Array.from({ length: 12 }, (_, k) => f32(280 + 4 * k)),
      intentCode: i16(68),
      intentName: readCString(b, 328, 16),
      hasExtensions: extFlag,
    };
  }
  const magic = readCString(b, 4, 4);
  if (magic !== 'n+2' && magic !== 'ni2') {
    throw malformed(`unknown NIfTI-2 magic "${magic}"`, 'the header is corrupt or not NIfTI');
  }
  return {
    version,
    magic,
    littleEndian: le,
    datatype: i16(12),
    bitpix: i16(14),
    dim: Array.from({ length: 8 }, (_, k) => i64(16 + 8 * k)),
    pixdim: Array.from({ length: 8 }, (_, k) => f64(104 + 8 * k)),
    voxOffset: i64(168),
    sclSlope: f64(176),
    sclInter: f64(184),
    calMax: f64(192),
    calMin: f64(200),
    descrip: readCString(b, 240, 80),
    auxFile: readCString(b, 320, 24),
    qformCode: i32(344),
    sformCode: i32(348),
    quatern: [f64(352), f64(360), f64(368)],
    qoffset: [f64(376), f64(384), f64(392)],
    srow: Array.from({ length: 12 }, (_, k) => f64(400 + 8 * k)),
    xyztUnits: i32(500),
    intentCode: i32(504),
    intentName: readCString(b, 508, 16),
    hasExtensions: extFlag,
  };
}

// ---------------------------------------------------------------------------------------------
// Geometry

/** lps = diag(-1,-1,1) * ras: the one place RAS becomes LPS (for a 3x4 row-major affine). */
function lpsFromRas(ras: readonly number[]): number[] {
  const m = [...ras];
  for (let c = 0; c < 4; c++) {
    m[c] = -ras[c]!;
    m[4 + c] = -ras[4 + c]!;
  }
  return m;
}

/** ras = diag(-1,-1,1) * lps (its own inverse). */
const rasFromLps = lpsFromRas;

/** The qform affine (RAS, 3x4 row-major) from quaternion, qfac, pixdim and offset, as nifti1_io does. */
export function qformAffine(h: Pick<NiftiHeader, 'quatern' | 'qoffset' | 'pixdim'>): number[] {
  let [b, c, d] = h.quatern;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // the quaternion is not unit length: renormalise (a 180-degree rotation), as nifti1_io does
    const s = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= s;
    c *= s;
    d *= s;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const px = h.pixdim[1]! > 0 ? h.pixdim[1]! : 1;
  const py = h.pixdim[2]! > 0 ? h.pixdim[2]! : 1;
  let pz = h.pixdim[3]! > 0 ? h.pixdim[3]! : 1;
  const qfac = h.pixdim[0]! < 0 ? -1 : 1;
  pz *= qfac;
  const [ox, oy, oz] = h.qoffset;
  return [
    (a * a + b * b - c * c - d * d) * px,
    2 * (b * c - a * d) * py,
    2 * (b * d + a * c) * pz,
    ox,
    2 * (b * c + a * d) * px,
    (a * a + c * c - b * b - d * d) * py,
    2 * (c * d - a * b) * pz,
    oy,
    2 * (b * d - a * c) * px,
    2 * (c * d + a * b) * py,
    (a * a + d * d - c * c - b * b) * pz,
    oz,
  ];
}

/** Millimetres per unit of the header's spatial unit code (0 unknown -> assumed mm). */
function mmPerSpaceUnit(xyztUnits: number): number {
  switch (xyztUnits & 7) {
    case 1:
      return 1000; // metre
    case 3:
      return 0.001; // micron
    default:
      return 1; // 2 = mm, 0 = unknown (assumed mm)
  }
}

/** Which transform the grid was taken from. */
export type NiftiGeometrySource = 'sform' | 'qform' | 'pixdim';

/**
 * The LPS grid a header describes: sform if sform_code > 0, else qform if qform_code > 0, else the
 * ANALYZE method (pixdim only, origin 0; a warning is added). A degenerate sform falls back to the
 * qform with a warning.
 */
export function niftiGrid(h: NiftiHeader, warnings: string[] = []): { grid: Grid; source: NiftiGeometrySource } {
  const size = [1, 2, 3].map((k) => (k <= h.dim[0]! ? h.dim[k]! : 1));
  const unit = mmPerSpaceUnit(h.xyztUnits);
  if (unit !== 1)
    warnings.push(`the header's spatial unit is ${unit === 1000 ? 'metres' : 'microns'}; converted to mm`);
  const pix = [1, 2, 3].map((k) => Math.abs(h.pixdim[k]!) * unit);
  const fromRas = (ras: readonly number[]): Grid => {
    const lps = lpsFromRas(ras).map((x) => x * unit);
    const cols = [0, 1, 2].map((c) => [lps[c]!, lps[4 + c]!, lps[8 + c]!]);
    return gridFromColumns(cols, [lps[3]!, lps[7]!, lps[11]!], size, warnings, pix);
  };
  if (h.sformCode > 0) {
    try {
      return { grid: fromRas(h.srow), source: 'sform' };
    } catch (e) {
      if (!(e instanceof S2SError) || h.qformCode <= 0) throw e;
      warnings.push(`the sform is degenerate (${e.message}); used the qform instead`);
    }
  }
  if (h.qformCode > 0) return { grid: fromRas(qformAffine(h)), source: 'qform' };
  warnings.push(
    'the header has no sform or qform (both codes are 0): orientation is UNKNOWN; used the old ANALYZE method (voxel size only, origin 0, axes assumed to be RAS)',
  );
  const ras = [pix[0]! || 1, 0, 0, 0, 0, pix[1]! || 1, 0, 0, 0, 0, pix[2]! || 1, 0].map((x) => x / unit);
  return { grid: fromRas(ras), source: 'pixdim' };
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface NiftiReadOptions extends RunOptions {
  /** Apply scl_slope / scl_inter (default true). When false the stored values are returned. */
  applyScaling?: boolean;
  /** For a `.hdr` + `.img` pair (magic ni1/ni2 or ANALYZE): the bytes of the `.img` file. */
  imageBytes?: Uint8Array;
  /** A name for messages (e.g. the file name). */
  name?: string;
}

export const NIFTI_READ_DEFAULTS = {
  applyScaling: true,
} as const satisfies Partial<NiftiReadOptions>;

/**
 * Reads a NIfTI-1 or NIfTI-2 file (gzipped or not, either byte order) into an LPS Volume.
 * - Geometry: see `niftiGrid`. Spatial units metres/microns are converted to mm.
 * - Values: scl_slope/scl_inter are applied when slope != 0 and (slope, inter) != (1, 0); see
 *   `applyLinearScale` for the output type.
 * - dim[4..7] > 1 become frames (their product); RGB24 -> 3 uint8 components, RGBA32 -> 4.
 * - int64/uint64 are accepted when every value fits int32/uint32, otherwise an error.
 * meta: { format: 'nifti1' | 'nifti2', geometry: 'sform' | 'qform' | 'pixdim', warnings? }.
 */
export function readNifti(bytes: Uint8Array, options: NiftiReadOptions = {}): Volume {
  const opts = { ...NIFTI_READ_DEFAULTS, ...options };
  try {
    return readNiftiInner(bytes, opts);
  } catch (e) {
    if (e instanceof S2SError && opts.name) throw e.withFile(opts.name);
    throw e;
  }
}

function readNiftiInner(bytes: Uint8Array, opts: NiftiReadOptions & { applyScaling: boolean }): Volume {
  throwIfAborted(opts.signal);
  const b = isGzip(bytes) ? gunzip(bytes) : bytes;
  throwIfAborted(opts.signal);
  const h = parseHeader(b);
  const warnings: string[] = [];
  const ndim = h.dim[0]!;
  if (!Number.isInteger(ndim) || ndim < 1 || ndim > 7) {
    throw malformed(`dim[0] is ${ndim}; it must be the number of dimensions, 1 to 7`, 'the header is corrupt');
  }
  for (let k = 1; k <= ndim; k++) {
    if (!(h.dim[k]! >= 1)) {
      throw malformed(`dim[${k}] is ${h.dim[k]}; every used dimension must be at least 1`, 'the header is corrupt');
    }
  }
  const size: Vec3 = [h.dim[1]!, ndim >= 2 ? h.dim[2]! : 1, ndim >= 3 ? h.dim[3]! : 1];
  let frames = 1;
  for (let k = 4; k <= ndim; k++) frames *= h.dim[k]!;
  if (ndim >= 5 && h.dim.slice(5, ndim + 1).some((n) => n > 1)) {
    warnings.push(`dimensions 5..${ndim} were folded into frames (${frames} frames in all)`);
  }

  // sample layout
  let components = 1;
  let stored: VoxelType | 'int64' | 'uint64';
  let sampleBytes: number;
  const dt = h.datatype;
  if (dt === NIFTI_DATATYPE.rgb24 || dt === NIFTI_DATATYPE.rgba32) {
    stored = 'uint8';
    components = dt === NIFTI_DATATYPE.rgb24 ? 3 : 4;
    sampleBytes = 1;
  } else if (dt === NIFTI_DATATYPE.int64 || dt === NIFTI_DATATYPE.uint64) {
    stored = dt === NIFTI_DATATYPE.int64 ? 'int64' : 'uint64';
    sampleBytes = 8;
  } else if (TYPE_OF_CODE[dt]) {
    stored = TYPE_OF_CODE[dt]!;
    sampleBytes = BYTES_PER_SAMPLE[stored];
  } else {
    const name = Object.entries(NIFTI_DATATYPE).find(([, v]) => v === dt)?.[0];
    throw new S2SError('UNSUPPORTED_FORMAT', `NIfTI datatype ${dt}${name ? ` (${name})` : ''} is not supported`, {
      hint: 'convert the image to an integer or float32/float64 type (complex and float128 data cannot be meshed)',
    });
  }

  const nvox = size[0] * size[1] * size[2];
  const nSamples = nvox * frames * components;
  const nBytes = nSamples * sampleBytes;
  if (!Number.isSafeInteger(nBytes)) {
    throw malformed(
      `the header's dimensions (${h.dim.slice(1, ndim + 1).join('x')}) are absurd`,
      'the header is corrupt',
    );
  }

  // where the data lives
  let data: Uint8Array;
  let offset: number;
  if (h.magic === 'n+1' || h.magic === 'n+2') {
    data = b;
    offset = Math.round(h.voxOffset);
    const minOffset = h.version === 1 ? 352 : 544;
    if (offset === 0) offset = minOffset;
    if (!(offset >= (h.version === 1 ? 348 : 540))) {
      throw malformed(`vox_offset is ${h.voxOffset}, inside the header`, 'the header is corrupt');
    }
  } else {
    if (!opts.imageBytes) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `this is the header of a two-file ${h.magic ? 'NIfTI' : 'ANALYZE 7.5'} pair; the voxel data is in a separate .img file`,
        { hint: 'give the .img file too (readNifti(hdr, { imageBytes })), or convert the pair to a single .nii' },
      );
    }
    data = isGzip(opts.imageBytes) ? gunzip(opts.imageBytes) : opts.imageBytes;
    offset = Math.max(0, Math.round(h.voxOffset));
    if (!h.magic) warnings.push('ANALYZE 7.5 header: orientation is not stored in this format');
  }
  if (offset + nBytes > data.length) {
    throw new S2SError(
      'TRUNCATED_FILE',
      `the header describes ${size.join('x')}${frames > 1 ? `x${frames}` : ''} voxels (${nBytes} bytes from byte ${offset}) but only ${Math.max(0, data.length - offset)} bytes of voxel data are present`,
      { hint: 'the file was cut short (or its header is wrong); copy or export it again' },
    );
  }
  throwIfAborted(opts.signal);

  let values: VoxelArray;
  if (stored === 'int64' || stored === 'uint64') {
    values = decodeInt64(data, offset, nSamples, stored === 'int64', h.littleEndian);
  } else {
    values = decodeSamples(data, offset, nSamples, stored, h.littleEndian);
  }

  // value scaling
  const slope = h.sclSlope;
  const inter = h.sclInter;
  let scaled = false;
  if (opts.applyScaling && components === 1 && Number.isFinite(slope) && slope !== 0 && !(slope === 1 && inter === 0)) {
    if (!Number.isFinite(inter)) throw malformed(`scl_inter is ${inter}`, 'the header is corrupt');
    values = applyLinearScale(values, slope, inter);
    scaled = true;
  }

  const { grid, source } = niftiGrid(h, warnings);
  const meta: Record<string, string | number | boolean> = {
    format: h.version === 1 ? 'nifti1' : 'nifti2',
    geometry: source,
  };
  if (scaled) {
    meta.sclSlope = slope;
    meta.sclInter = inter;
  }
  if (h.intentCode) meta.intentCode = h.intentCode;
  return makeVolume({ grid, data: values, components, frames, units: 'arbitrary', meta: withWarnings(meta, warnings) });
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface NiftiWriteOptions {
  /** gzip the whole file (.nii.gz). Default false. */
  gzip?: boolean;
  /** gzip level 0..9 (default 6). */
  gzipLevel?: number;
  /** 1 (default; automatically 2 when a size exceeds 32767) or 2. */
  version?: 1 | 2;
  /**
   * Text for the `descrip` field (max 79 ASCII characters; default 'slice2solid').
   * NOT for identifiers: never put patient names, IDs, dates or UIDs here.
   */
  description?: string;
  /**
   * sform_code and qform_code to write: 1 = NIFTI_XFORM_SCANNER_ANAT (the coordinates are the
   * scanner's patient coordinates, as for anything that came from DICOM; default), 2 =
   * NIFTI_XFORM_ALIGNED_ANAT (aligned to another image).
   */
  xformCode?: 1 | 2;
}

export const NIFTI_WRITE_DEFAULTS = {
  gzip: false,
  gzipLevel: 6,
  description: 'slice2solid',
  xformCode: 1,
} as const satisfies NiftiWriteOptions;

/** Largest |cos| between grid axes for which a qform is still written (about 0.006 degrees). */
export const NIFTI_QFORM_MAX_SKEW = 1e-4;

/**
 * Writes a Volume as NIfTI-1 (or NIfTI-2), little-endian, single file (vox_offset 352 / 544, no
 * extensions), xyzt_units = mm + seconds.
 * - Geometry: the exact LPS affine is converted to RAS and written to the sform (sform_code =
 *   xformCode). The qform holds the same transform as a quaternion (qform_code = xformCode) when the
 *   grid is orthogonal; a non-orthogonal (sheared, e.g. gantry-tilted) grid cannot be expressed as a
 *   quaternion, so qform_code is 0 and only the sform carries it.
 * - NIfTI-1 stores the affine as float32 (about 7 significant digits: ~1e-5 mm at 100 mm); use
 *   version 2 for float64.
 * - Values are written as stored, scl_slope = 1, scl_inter = 0. 3 uint8 components -> RGB24, 4 ->
 *   RGBA32; other multi-component volumes are refused (NIfTI stores vectors component-slowest).
 * - descrip = options.description (default 'slice2solid'); aux_file and intent_name stay empty.
 */
export function writeNifti(volume: Volume, options: NiftiWriteOptions = {}): Uint8Array {
  const opts = { ...NIFTI_WRITE_DEFAULTS, ...options };
  const type = voxelTypeOf(volume.data);
  const { grid, components, frames } = volume;
  let datatype: number;
  let bitpix: number;
  if (components === 1) {
    datatype = CODE_OF_TYPE[type];
    bitpix = BYTES_PER_SAMPLE[type] * 8;
  } else if (type === 'uint8' && (components === 3 || components === 4)) {
    datatype = components === 3 ? NIFTI_DATATYPE.rgb24 : NIFTI_DATATYPE.rgba32;
    bitpix = components * 8;
  } else {
    throw new S2SError('INVALID_ARGUMENT', `NIfTI cannot hold ${components} ${type} components per voxel here`, {
      hint: 'only 1 component, or 3/4 uint8 (RGB/RGBA) components, can be written to NIfTI; use NRRD or MetaImage',
    });
  }
  if (voxelCount(grid) * components * frames !== volume.data.length) {
    throw new S2SError('INVALID_ARGUMENT', 'volume data length does not match its grid');
  }
  const dims = [grid.size[0], grid.size[1], grid.size[2], frames];
  const version = opts.version ?? (dims.some((d) => d > 32767) ? 2 : 1);
  if (version === 1 && dims.some((d) => d > 32767)) {
    throw new S2SError('INVALID_ARGUMENT', `a size in ${dims.join('x')} exceeds NIfTI-1's limit of 32767`, {
      hint: 'write NIfTI-2 (version: 2)',
    });
  }
  const ndim = frames > 1 ? 4 : 3;
  const hdrSize = version === 1 ? 348 : 540;
  const voxOffset = version === 1 ? 352 : 544;
  const body = encodeSamples(volume.data, true);
  const out = new Uint8Array(voxOffset + body.length);
  const dv = new DataView(out.buffer);

  // geometry
  const cols = gridColumns(grid);
  // biome-ignore format: a 3x4 matrix reads best as rows
  const lps = [
    cols[0][0], cols[1][0], cols[2][0], grid.origin[0],
    cols[0][1], cols[1][1], cols[2][1], grid.origin[1],
    cols[0][2], cols[1][2], cols[2][2], grid.origin[2],
  ];
  const srow = rasFromLps(lps);
  const q = quaternionOf(grid);
  const qformCode = q ? opts.xformCode : 0;
  const pixdim = [q ? q.qfac : 1, grid.spacing[0], grid.spacing[1], grid.spacing[2], 1, 1, 1, 1];
  const desc = (opts.description ?? 'slice2solid').slice(0, 79);

  if (version === 1) {
    dv.setInt32(0, 348, true);
    out[38] = 'r'.charCodeAt(0); // regular
    for (let k = 0; k < 8; k++) dv.setInt16(40 + 2 * k, k === 0 ? ndim : k <= 4 ? dims[k - 1]! : 1, true);
    dv.setInt16(70, datatype, true);
    dv.setInt16(72, bitpix, true);
    for (let k = 0; k < 8; k++) dv.setFloat32(76 + 4 * k, pixdim[k]!, true);
    dv.setFloat32(108, voxOffset, true);
    dv.setFloat32(112, 1, true);
    dv.setFloat32(116, 0, true);
    out[123] = 2 | 8; // mm, seconds
    writeCString(out, 148, 80, desc);
    dv.setInt16(252, qformCode, true);
    dv.setInt16(254, opts.xformCode, true);
    if (q) {
      dv.setFloat32(256, q.b, true);
      dv.setFloat32(260, q.c, true);
      dv.setFloat32(264, q.d, true);
    }
    dv.setFloat32(268, srow[3]!, true);
    dv.setFloat32(272, srow[7]!, true);
    dv.setFloat32(276, srow[11]!, true);
    for (let k = 0; k < 12; k++) dv.setFloat32(280 + 4 * k, srow[k]!, true);
    writeCString(out, 344, 4, 'n+1');
  } else {
    dv.setInt32(0, 540, true);
    out.set([0x6e, 0x2b, 0x32, 0x00, 0x0d, 0x0a, 0x1a, 0x0a], 4); // "n+2\0\r\n\032\n"
    dv.setInt16(12, datatype, true);
    dv.setInt16(14, bitpix, true);
    for (let k = 0; k < 8; k++) dv.setBigInt64(16 + 8 * k, BigInt(k === 0 ? ndim : k <= 4 ? dims[k - 1]! : 1), true);
    for (let k = 0; k < 8; k++) dv.setFloat64(104 + 8 * k, pixdim[k]!, true);
    dv.setBigInt64(168, BigInt(voxOffset), true);
    dv.setFloat64(176, 1, true);
    dv.setFloat64(184, 0, true);
    writeCString(out, 240, 80, desc);
    dv.setInt32(344, qformCode, true);
    dv.setInt32(348, opts.xformCode, true);
    if (q) {
      dv.setFloat64(352, q.b, true);
      dv.setFloat64(360, q.c, true);
      dv.setFloat64(368, q.d, true);
    }
    dv.setFloat64(376, srow[3]!, true);
    dv.setFloat64(384, srow[7]!, true);
    dv.setFloat64(392, srow[11]!, true);
    for (let k = 0; k < 12; k++) dv.setFloat64(400 + 8 * k, srow[k]!, true);
    dv.setInt32(500, 2 | 8, true);
  }
  // bytes hdrSize..hdrSize+3: extension flag, all zero (no extensions)
  void hdrSize;
  out.set(body, voxOffset);
  return opts.gzip ? gzip(out, opts.gzipLevel) : out;
}

/**
 * The NIfTI quaternion (RAS) of an orthogonal grid, with qfac; undefined when the axes are
 * sheared by more than NIFTI_QFORM_MAX_SKEW. Nearly-orthogonal axes are orthonormalised first.
 */
function quaternionOf(grid: Grid): { b: number; c: number; d: number; qfac: number } | undefined {
  const [d0, d1, d2] = grid.direction.map((d) => [-d[0], -d[1], d[2]] as Vec3) as [Vec3, Vec3, Vec3];
  const dotp = (a: Vec3, b: Vec3) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  if (Math.max(Math.abs(dotp(d0, d1)), Math.abs(dotp(d0, d2)), Math.abs(dotp(d1, d2))) > NIFTI_QFORM_MAX_SKEW) {
    return undefined;
  }
  // Gram-Schmidt (the columns are already orthogonal to ~1e-4)
  const norm = (a: Vec3): Vec3 => {
    const n = Math.hypot(...a);
    return [a[0] / n, a[1] / n, a[2] / n];
  };
  const sub = (a: Vec3, b: Vec3, s: number): Vec3 => [a[0] - b[0] * s, a[1] - b[1] * s, a[2] - b[2] * s];
  const c0 = norm(d0);
  const c1 = norm(sub(d1, c0, dotp(d1, c0)));
  let c2 = norm(sub(sub(d2, c0, dotp(d2, c0)), c1, dotp(d2, c1)));
  const crossp: Vec3 = [c0[1] * c1[2] - c0[2] * c1[1], c0[2] * c1[0] - c0[0] * c1[2], c0[0] * c1[1] - c0[1] * c1[0]];
  let qfac = 1;
  if (dotp(crossp, c2) < 0) {
    qfac = -1;
    c2 = [-c2[0], -c2[1], -c2[2]];
  }
  // r[row][col]
  const [r11, r21, r31] = c0;
  const [r12, r22, r32] = c1;
  const [r13, r23, r33] = c2;
  let a = r11 + r22 + r33 + 1;
  let b: number;
  let c: number;
  let d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12 + r21)) / b;
      d = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12 + r21)) / c;
      d = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13 + r31)) / d;
      c = (0.25 * (r23 + r32)) / d;
      a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { b, c, d, qfac };
}

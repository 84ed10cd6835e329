/**
 * MetaImage (ITK MetaIO) reader and writer: `.mha` (header + data in one file) and `.mhd` with
 * detached `.raw` / `.zraw` data (ElementDataFile = name | LIST [subdim] | pattern "f%03d.raw 1 9 1").
 *
 * Geometry (verified against ITK's itkMetaImageIO.cxx, ReadImageInformation): ITK world space is
 * LPS, like ours, so no flip is needed. `TransformMatrix` (synonyms `Rotation`, `Orientation`) holds
 * N*N numbers; ITK reads numbers [a*N .. a*N+N-1] as the direction of index axis a
 * (`SetDirection(a, ...)`), i.e. the direction matrix is written column after column. `Offset`
 * (synonyms `Position`, `Origin`) is the LPS centre of the first voxel, `ElementSpacing` the spacing
 * (`ElementSize` is ignored). `AnatomicalOrientation` is informational (ITK ignores it on read too);
 * its letters name where each axis comes FROM (identity = "RAI"), and a disagreement with the
 * matrix gives a warning. The matrix is stored as unit columns with full double precision, so a
 * sheared (non-orthogonal) grid round-trips exactly through our reader and writer (ITK itself
 * accepts any non-singular direction matrix).
 *
 * Data: ElementType MET_CHAR..MET_DOUBLE (MET_LONG/ULONG are 4 bytes, LONG_LONG 8 bytes and only
 * accepted when the values fit 32 bits), ElementNumberOfChannels -> components, NDims 4 -> frames,
 * ElementByteOrderMSB / BinaryDataByteOrderMSB, CompressedData (zlib), HeaderSize (-1 = data at the
 * end of the file), BinaryData = False (ASCII values).
 */
import {
  allocateVoxels,
  makeVolume,
  orientationCode,
  type RunOptions,
  S2SError,
  throwIfAborted,
  type Volume,
  type VoxelArray,
  type VoxelType,
  voxelCount,
  voxelTypeOf,
} from '@slice2solid/core';
import {
  asciiBytes,
  BYTES_PER_SAMPLE,
  concatBytes,
  decodeInt64,
  decodeSamples,
  encodeSamples,
  inflateAny,
  latin1,
  zlib,
} from './common/binary.js';
import { gridFromColumns } from './common/geometry.js';
import { withWarnings } from './common/meta.js';
import { expandFilePattern } from './common/pattern.js';
import type { ReadFileFn } from './nrrd.js';

export interface MetaImageReadOptions extends RunOptions {
  /** Supplies detached data files (`.raw`, `.zraw`) by the name the header gives. */
  readFile?: ReadFileFn;
  /** A name for messages. */
  name?: string;
}

export const METAIMAGE_READ_DEFAULTS = {} as const satisfies Partial<MetaImageReadOptions>;

export interface MetaImageHeader {
  /** Field name as written -> value text (the first occurrence of each). */
  readonly fields: Readonly<Record<string, string>>;
  /** Byte offset of inline data (ElementDataFile = LOCAL), else -1. */
  readonly dataOffset: number;
  /** Detached data file names, in order (empty for LOCAL). */
  readonly dataFiles: readonly string[];
}

const MET_TYPES: Record<string, VoxelType | 'int64' | 'uint64'> = {
  MET_CHAR: 'int8',
  MET_UCHAR: 'uint8',
  MET_SHORT: 'int16',
  MET_USHORT: 'uint16',
  MET_INT: 'int32',
  MET_UINT: 'uint32',
  MET_LONG: 'int32',
  MET_ULONG: 'uint32',
  MET_LONG_LONG: 'int64',
  MET_ULONG_LONG: 'uint64',
  MET_FLOAT: 'float32',
  MET_DOUBLE: 'float64',
};

const MET_NAME: Record<VoxelType, string> = {
  int8: 'MET_CHAR',
  uint8: 'MET_UCHAR',
  int16: 'MET_SHORT',
  uint16: 'MET_USHORT',
  int32: 'MET_INT',
  uint32: 'MET_UINT',
  float32: 'MET_FLOAT',
  float64: 'MET_DOUBLE',
};

function malformed(message: string, hint = 'the MetaImage header is malformed'): S2SError {
  return new S2SError('MALFORMED_FILE', message, { hint });
}

const KNOWN_FIRST = /^(ObjectType|NDims|Comment|ObjectSubType|TransformType|DimSize|ElementType|HeaderSize)\s*=/;

/** True if the bytes look like a MetaImage header (a `Key = Value` line with a MetaIO key first). */
export function looksLikeMetaImage(head: Uint8Array): boolean {
  const text = latin1(head, 0, Math.min(head.length, 64));
  return KNOWN_FIRST.test(text);
}

/** Parses a MetaImage header (the text up to and including the ElementDataFile line). */
export function readMetaImageHeader(bytes: Uint8Array): MetaImageHeader {
  const fields: Record<string, string> = {};
  let pos = 0;
  const n = bytes.length;
  let lineNo = 0;
  while (pos < n) {
    let end = pos;
    while (end < n && bytes[end] !== 0x0a) end++;
    let lineEnd = end;
    if (lineEnd > pos && bytes[lineEnd - 1] === 0x0d) lineEnd--;
    const line = latin1(bytes, pos, Math.min(lineEnd, pos + 100000));
    pos = Math.min(n, end + 1);
    lineNo++;
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw malformed(`line ${lineNo} is not "Key = Value": "${line.slice(0, 60)}"`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (!/^[A-Za-z_][\w]*$/.test(key)) throw malformed(`line ${lineNo} has an invalid key "${key.slice(0, 40)}"`);
    if (!(key in fields)) fields[key] = value;
    if (key === 'ElementDataFile') {
      const parts = value.split(/\s+/);
      if (value.toUpperCase() === 'LOCAL') return { fields, dataOffset: pos, dataFiles: [] };
      if (parts[0] === 'LIST') {
        const rest = latin1(bytes, pos)
          .split(/\r?\n/)
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
        return { fields, dataOffset: -1, dataFiles: rest };
      }
      if (parts.length >= 4 && /%/.test(parts[0]!)) {
        return {
          fields,
          dataOffset: -1,
          dataFiles: expandFilePattern(parts[0]!, parts[1]!, parts[2]!, parts[3]!, 'ElementDataFile'),
        };
      }
      return { fields, dataOffset: -1, dataFiles: [value] };
    }
    if (lineNo > 10000) break;
  }
  if (Object.keys(fields).length === 0 || !('NDims' in fields || 'DimSize' in fields)) {
    throw malformed('not a MetaImage header (no NDims / DimSize)', 'check the file type');
  }
  throw new S2SError('TRUNCATED_FILE', 'the MetaImage header has no ElementDataFile line', {
    hint: 'the header is incomplete; MetaImage headers must end with "ElementDataFile = ..."',
  });
}

const isTrue = (s: string | undefined) => s !== undefined && /^(true|1|yes)$/i.test(s.trim());
const nums = (s: string | undefined) => (s === undefined ? undefined : s.trim().split(/\s+/).map(Number));
const field = (f: Readonly<Record<string, string>>, ...names: string[]) => {
  for (const n of names) if (f[n] !== undefined) return f[n];
  return undefined;
};

/** Reads a MetaImage `.mha` / `.mhd`; detached data comes through `options.readFile`. */
export async function readMetaImage(bytes: Uint8Array, options: MetaImageReadOptions = {}): Promise<Volume> {
  try {
    const h = readMetaImageHeader(bytes);
    const payloads: Uint8Array[] = [];
    if (h.dataFiles.length === 0) payloads.push(bytes.subarray(h.dataOffset));
    else {
      const read = needReader(h, options);
      for (const name of h.dataFiles) {
        throwIfAborted(options.signal);
        payloads.push(await readOne(read, name));
      }
    }
    return assemble(h, payloads, options);
  } catch (e) {
    if (e instanceof S2SError && options.name) throw e.withFile(options.name);
    throw e;
  }
}

/** Synchronous `readMetaImage` (`readFile`, if needed, must return bytes). */
export function readMetaImageSync(bytes: Uint8Array, options: MetaImageReadOptions = {}): Volume {
  try {
    const h = readMetaImageHeader(bytes);
    const payloads =
      h.dataFiles.length === 0
        ? [bytes.subarray(h.dataOffset)]
        : h.dataFiles.map((name) => {
            const r = needReader(h, options)(name);
            if (r instanceof Promise) {
              throw new S2SError('INVALID_ARGUMENT', 'readFile returned a promise in readMetaImageSync', {
                hint: 'use readMetaImage (async)',
              });
            }
            return r;
          });
    return assemble(h, payloads, options);
  } catch (e) {
    if (e instanceof S2SError && options.name) throw e.withFile(options.name);
    throw e;
  }
}

function needReader(h: MetaImageHeader, options: MetaImageReadOptions): ReadFileFn {
  if (!options.readFile) {
    throw new S2SError('INVALID_ARGUMENT', `the MetaImage data is in a separate file ("${h.dataFiles[0]}")`, {
      hint: 'give the data file too (readFile option, or pass it alongside the header)',
    });
  }
  return options.readFile;
}

async function readOne(read: ReadFileFn, name: string): Promise<Uint8Array> {
  try {
    return await read(name);
  } catch (e) {
    if (e instanceof S2SError) throw e;
    throw new S2SError('IO_ERROR', `cannot read the data file "${name}" named in the header`, {
      hint: 'keep the data file next to the header, with the name the header gives',
      cause: e,
    });
  }
}

function assemble(h: MetaImageHeader, payloads: Uint8Array[], options: MetaImageReadOptions): Volume {
  const f = h.fields;
  const warnings: string[] = [];
  if (f.ObjectType !== undefined && f.ObjectType.toLowerCase() !== 'image') {
    throw new S2SError('UNSUPPORTED_FORMAT', `MetaIO ObjectType "${f.ObjectType}" is not an image`);
  }
  const dimSize = nums(f.DimSize);
  const ndims = f.NDims !== undefined ? Number(f.NDims) : dimSize?.length;
  if (ndims === undefined || !Number.isInteger(ndims) || ndims < 1 || ndims > 4) {
    throw malformed(`NDims is ${f.NDims ?? 'missing'}; 1 to 4 dimensions are supported`);
  }
  if (!dimSize || dimSize.length !== ndims || dimSize.some((d) => !Number.isInteger(d) || d < 1)) {
    throw malformed(`DimSize (${f.DimSize ?? 'missing'}) must be ${ndims} positive integers`);
  }
  const typeName = (f.ElementType ?? '').replace(/_ARRAY$/, '');
  const stored = MET_TYPES[typeName];
  if (!stored) throw malformed(`ElementType "${f.ElementType ?? ''}" is not supported`, 'use MET_UCHAR ... MET_DOUBLE');
  const channels = f.ElementNumberOfChannels !== undefined ? Number(f.ElementNumberOfChannels) : 1;
  if (!Number.isInteger(channels) || channels < 1 || channels > 64)
    throw malformed(`ElementNumberOfChannels is ${f.ElementNumberOfChannels}`);
  const msb = isTrue(field(f, 'ElementByteOrderMSB', 'BinaryDataByteOrderMSB'));
  const binary = f.BinaryData === undefined || isTrue(f.BinaryData);
  const compressed = isTrue(f.CompressedData);
  const headerSize = f.HeaderSize !== undefined ? Number(f.HeaderSize) : 0;
  if (!Number.isInteger(headerSize) || headerSize < -1) throw malformed(`HeaderSize is ${f.HeaderSize}`);

  const size = [dimSize[0]!, dimSize[1] ?? 1, dimSize[2] ?? 1];
  const frames = dimSize[3] ?? 1;
  const sampleBytes = stored === 'int64' || stored === 'uint64' ? 8 : BYTES_PER_SAMPLE[stored];
  const nSamples = size[0]! * size[1]! * size[2]! * frames * channels;
  const nBytes = nSamples * sampleBytes;
  if (!Number.isSafeInteger(nBytes)) throw malformed(`DimSize ${dimSize.join(' ')} is absurd`);

  let values: VoxelArray;
  if (!binary) {
    const text = latin1(concatBytes(payloads.map((p) => p.subarray(Math.max(0, headerSize)))));
    const toks = text.split(/\s+/).filter((t) => t.length > 0);
    if (toks.length < nSamples) {
      throw new S2SError('TRUNCATED_FILE', `the ASCII data has ${toks.length} values, the header says ${nSamples}`, {
        hint: 'the file was cut short; copy it again',
      });
    }
    values = allocateVoxels(stored === 'int64' || stored === 'uint64' ? 'float64' : stored, nSamples);
    for (let i = 0; i < nSamples; i++) {
      const v = Number(toks[i]);
      if (Number.isNaN(v) && !/nan/i.test(toks[i]!))
        throw malformed(`ASCII data has a non-number "${toks[i]!.slice(0, 20)}"`);
      values[i] = v;
    }
  } else {
    const perFile = nBytes / payloads.length;
    if (!Number.isInteger(perFile)) throw malformed(`${payloads.length} data files cannot evenly hold ${nBytes} bytes`);
    const pieces: Uint8Array[] = [];
    for (const [i, p0] of payloads.entries()) {
      throwIfAborted(options.signal);
      const name = h.dataFiles[i] ?? options.name ?? 'inline data';
      let p = p0;
      if (compressed) {
        p = inflateAny(headerSize > 0 ? p.subarray(headerSize) : p, name);
      } else if (headerSize === -1) {
        if (p.length < perFile) throw truncated(name, perFile, p.length);
        p = p.subarray(p.length - perFile);
      } else {
        p = p.subarray(Math.min(p.length, headerSize));
      }
      if (p.length < perFile) throw truncated(name, perFile, p.length);
      pieces.push(p.subarray(0, perFile));
    }
    const all = concatBytes(pieces);
    values =
      stored === 'int64' || stored === 'uint64'
        ? decodeInt64(all, 0, nSamples, stored === 'int64', !msb)
        : decodeSamples(all, 0, nSamples, stored, !msb);
  }

  // geometry
  const spacing = nums(f.ElementSpacing) ?? [];
  const offset = nums(field(f, 'Offset', 'Position', 'Origin')) ?? [];
  const matrix = nums(field(f, 'TransformMatrix', 'Rotation', 'Orientation'));
  if (f.ElementSpacing === undefined) warnings.push('the header has no ElementSpacing; assumed 1 mm');
  const n = Math.min(ndims, 3);
  const columns: number[][] = [];
  for (let a = 0; a < 3; a++) {
    const s = a < n ? (spacing[a] ?? 1) : 1;
    if (!(s > 0) || !Number.isFinite(s))
      throw malformed(`ElementSpacing ${f.ElementSpacing} has a value that is not > 0`);
    let d = [0, 0, 0];
    if (a < n) {
      if (matrix) {
        if (matrix.length !== ndims * ndims || matrix.some((x) => !Number.isFinite(x))) {
          throw malformed(`TransformMatrix has ${matrix.length} numbers; NDims ${ndims} needs ${ndims * ndims}`);
        }
        for (let r = 0; r < n; r++) d[r] = matrix[a * ndims + r]!;
      } else {
        d[a] = 1;
      }
    } else {
      d = [0, 0, 0]; // completed by gridFromColumns
    }
    const len = Math.hypot(d[0]!, d[1]!, d[2]!);
    columns.push(len > 0 ? d.map((x) => (x / len) * s) : d);
  }
  const origin = [0, 1, 2].map((a) => (a < n ? (offset[a] ?? 0) : 0));
  if (offset.some((x) => !Number.isFinite(x)))
    throw malformed(`Offset "${field(f, 'Offset', 'Position', 'Origin')}" is not numeric`);
  // a 2D image's third axis is completed perpendicular to the others (no warning: it has one slice)
  const grid = gridFromColumns(columns, origin, size, []);
  const ao = f.AnatomicalOrientation?.toUpperCase();
  if (ao && /^[RLAPSI]{3}$/.test(ao) && ndims >= 3) {
    const ours = orientationCode(grid);
    const fromAo = [...ao].map((ch) => ({ R: 'L', L: 'R', A: 'P', P: 'A', S: 'I', I: 'S' })[ch]).join('');
    if (fromAo !== ours) {
      warnings.push(
        `AnatomicalOrientation ${ao} disagrees with the TransformMatrix (which gives ${ours} in "towards" letters); the matrix was used, as ITK does`,
      );
    }
  }
  const meta: Record<string, string | number | boolean> = { format: 'metaimage' };
  return makeVolume({
    grid,
    data: values,
    components: channels,
    frames,
    units: 'arbitrary',
    meta: withWarnings(meta, warnings),
  });
}

function truncated(file: string, want: number, have: number): S2SError {
  return new S2SError('TRUNCATED_FILE', `${file}: needs ${want} bytes of voxel data but has only ${have}`, {
    hint: 'the data file was cut short, or the header DimSize/ElementType are wrong',
  });
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface MetaImageWriteOptions {
  /** zlib-compress the data (CompressedData = True). Default false. */
  compress?: boolean;
  /** zlib level 0..9 (default 6). */
  compressionLevel?: number;
}

export const METAIMAGE_WRITE_DEFAULTS = {
  compress: false,
  compressionLevel: 6,
} as const satisfies MetaImageWriteOptions;

function fmt(x: number): string {
  return Object.is(x, -0) ? '0' : String(x);
}

function headerLines(
  volume: Volume,
  opts: Required<MetaImageWriteOptions>,
  dataFile: string,
  dataBytes: number,
): string {
  const { grid, frames, components } = volume;
  const nd = frames > 1 ? 4 : 3;
  const m: number[] = [];
  for (let a = 0; a < nd; a++)
    for (let r = 0; r < nd; r++) m.push(a < 3 && r < 3 ? grid.direction[a]![r]! : a === r ? 1 : 0);
  const ao = [...orientationCode(grid)].map((ch) => ({ R: 'L', L: 'R', A: 'P', P: 'A', S: 'I', I: 'S' })[ch]).join('');
  const type = voxelTypeOf(volume.data);
  const lines = [
    'ObjectType = Image',
    `NDims = ${nd}`,
    'BinaryData = True',
    'BinaryDataByteOrderMSB = False',
    `CompressedData = ${opts.compress ? 'True' : 'False'}`,
    ...(opts.compress ? [`CompressedDataSize = ${dataBytes}`] : []),
    `TransformMatrix = ${m.map(fmt).join(' ')}`,
    `Offset = ${[...grid.origin, ...(nd === 4 ? [0] : [])].map(fmt).join(' ')}`,
    `CenterOfRotation = ${nd === 4 ? '0 0 0 0' : '0 0 0'}`,
    `AnatomicalOrientation = ${ao}`,
    `ElementSpacing = ${[...grid.spacing, ...(nd === 4 ? [1] : [])].map(fmt).join(' ')}`,
    `DimSize = ${[...grid.size, ...(nd === 4 ? [frames] : [])].join(' ')}`,
    ...(components > 1 ? [`ElementNumberOfChannels = ${components}`] : []),
    `ElementType = ${MET_NAME[type]}`,
    `ElementDataFile = ${dataFile}`,
  ];
  return `${lines.join('\n')}\n`;
}

function encodeData(volume: Volume, opts: Required<MetaImageWriteOptions>): Uint8Array {
  if (voxelCount(volume.grid) * volume.components * volume.frames !== volume.data.length) {
    throw new S2SError('INVALID_ARGUMENT', 'volume data length does not match its grid');
  }
  const raw = encodeSamples(volume.data, true);
  return opts.compress ? zlib(raw, opts.compressionLevel) : raw;
}

/**
 * Writes a single-file `.mha` (ElementDataFile = LOCAL), little-endian, with exact TransformMatrix
 * (direction columns, LPS), Offset and ElementSpacing; frames as a 4th dimension.
 */
export function writeMetaImage(volume: Volume, options: MetaImageWriteOptions = {}): Uint8Array {
  const opts = { ...METAIMAGE_WRITE_DEFAULTS, ...options } as Required<MetaImageWriteOptions>;
  const data = encodeData(volume, opts);
  return concatBytes([asciiBytes(headerLines(volume, opts, 'LOCAL', data.length)), data]);
}

/** Writes a `.mhd` header naming `dataFileName` plus the data bytes (`.raw`, or `.zraw` when compressed). */
export function writeMetaImageDetached(
  volume: Volume,
  dataFileName: string,
  options: MetaImageWriteOptions = {},
): { header: Uint8Array; data: Uint8Array } {
  const opts = { ...METAIMAGE_WRITE_DEFAULTS, ...options } as Required<MetaImageWriteOptions>;
  if (/[\r\n]/.test(dataFileName) || dataFileName.trim() === '' || /^(LOCAL|LIST)\b/i.test(dataFileName)) {
    throw new S2SError('INVALID_ARGUMENT', `"${dataFileName}" cannot be used as a MetaImage data file name`);
  }
  const data = encodeData(volume, opts);
  return { header: asciiBytes(headerLines(volume, opts, dataFileName, data.length)), data };
}

/**
 * NRRD reader and writer (teem.sourceforge.net/nrrd/format.html), attached `.nrrd` and detached
 * `.nhdr` headers.
 *
 * Read: encodings raw, gzip, ascii/text, hex (bzip2 is refused with a hint); every scalar type
 * (64-bit integers only when the values fit 32 bits); `endian`; `line skip` (on the file) and
 * `byte skip` (on the decoded stream for gzip; -1 = "data is at the end of the file", raw only);
 * `data file:` single name, `LIST [subdim]`, and the printf pattern form `name.%d min max step`.
 * Detached data comes through `readFile(name)`, called with the names exactly as the header gives
 * them (relative to the header's folder): functions take bytes, not paths.
 *
 * Geometry: `space` left-posterior-superior (LPS), right-anterior-superior (RAS),
 * left-anterior-superior (LAS) and their -time variants are converted to LPS; scanner-xyz and
 * 3D-right/left-handed have no patient orientation, so their coordinates are taken as LPS numbers
 * with a warning. Without `space`, `spacings` (default 1 mm + warning) and identity directions are
 * used, origin 0. `space origin` is the centre of the first sample (as in core's Grid).
 *
 * Axes: up to 3 spatial axes (fewer -> size 1 and a completed direction); a leading non-spatial axis
 * (kinds vector, RGB-color, 3-vector, ...) becomes components, a leading `list`/`time` axis becomes
 * frames (transposed), a trailing non-spatial axis becomes frames.
 */
import {
  allocateVoxels,
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
  asciiBytes,
  BYTES_PER_SAMPLE,
  concatBytes,
  decodeInt64,
  decodeSamples,
  encodeSamples,
  gunzip,
  gunzipAsync,
  gzip,
  latin1,
} from './common/binary.js';
import { gridColumns, gridFromColumns } from './common/geometry.js';
import { withWarnings } from './common/meta.js';
import { expandFilePattern } from './common/pattern.js';

/** Reads a detached data file named in a header (name as written in the header). */
export type ReadFileFn = (name: string) => Uint8Array | Promise<Uint8Array>;

export interface NrrdReadOptions extends RunOptions {
  /** Supplies the bytes of detached data files (`.nhdr`). Not needed for attached `.nrrd`. */
  readFile?: ReadFileFn;
  /** A name for messages (e.g. the file name). */
  name?: string;
}

export const NRRD_READ_DEFAULTS = {} as const satisfies Partial<NrrdReadOptions>;

/** The parsed header of a NRRD file: fields (lower-case keys) and key/value pairs. */
export interface NrrdHeader {
  readonly version: string;
  /** Field name (lower case, single spaces) -> raw description text. */
  readonly fields: Readonly<Record<string, string>>;
  /** `key:=value` pairs. */
  readonly keyValues: Readonly<Record<string, string>>;
  /** Byte offset of the data in the file that holds the header (attached data), or -1 for detached. */
  readonly dataOffset: number;
  /** Names of the detached data files in order (empty for attached data). */
  readonly dataFiles: readonly string[];
}

function malformed(
  message: string,
  hint = 'the NRRD header is malformed; check it against the NRRD format specification',
): S2SError {
  return new S2SError('MALFORMED_FILE', message, { hint });
}

/** True if the bytes start with the NRRD magic. */
export function looksLikeNrrd(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x4e && head[1] === 0x52 && head[2] === 0x52 && head[3] === 0x44;
}

/** Parses the text header of an attached or detached NRRD file. */
export function readNrrdHeader(bytes: Uint8Array): NrrdHeader {
  if (!looksLikeNrrd(bytes)) {
    throw malformed(
      'not a NRRD file: it does not start with "NRRD"',
      'check the file type; NRRD files begin with NRRD000x',
    );
  }
  // find the end of the header: the first empty line (or EOF for a detached header)
  let pos = 0;
  const lines: string[] = [];
  let dataOffset = -1;
  const n = bytes.length;
  while (pos < n) {
    let end = pos;
    while (end < n && bytes[end] !== 0x0a) end++;
    let lineEnd = end;
    if (lineEnd > pos && bytes[lineEnd - 1] === 0x0d) lineEnd--;
    const line = latin1(bytes, pos, lineEnd);
    pos = end + 1;
    if (line.length === 0) {
      dataOffset = Math.min(pos, n);
      break;
    }
    lines.push(line);
    if (lines.length > 100000) throw malformed('the NRRD header has no end (no empty line within 100000 lines)');
  }
  const magic = lines[0] ?? '';
  if (!/^NRRD\d{4}$/.test(magic) && magic !== 'NRRD00.01') {
    throw malformed(`unknown NRRD magic "${magic.slice(0, 20)}"`);
  }
  const fields: Record<string, string> = {};
  const keyValues: Record<string, string> = {};
  let dataFiles: string[] = [];
  for (let li = 1; li < lines.length; li++) {
    const line = lines[li]!;
    if (line.startsWith('#')) continue;
    const kv = line.indexOf(':=');
    const colon = line.indexOf(': ');
    if (kv >= 0 && (colon < 0 || kv < colon)) {
      keyValues[line.slice(0, kv)] = line.slice(kv + 2);
      continue;
    }
    if (colon < 0) {
      // a bare "field:" at the end of a line is allowed by some writers
      if (line.endsWith(':')) {
        fields[normKey(line.slice(0, -1))] = '';
        continue;
      }
      throw malformed(`cannot parse NRRD header line ${li + 1}: "${line.slice(0, 60)}"`);
    }
    const key = normKey(line.slice(0, colon));
    const value = line.slice(colon + 2).trim();
    fields[key] = value;
    if (key === 'data file') {
      const parts = value.split(/\s+/);
      if (parts[0] === 'LIST') {
        // all remaining header lines are file names
        dataFiles = lines.slice(li + 1).filter((l) => l.length > 0);
        li = lines.length;
      } else if (parts.length >= 4 && /%/.test(parts[0]!)) {
        dataFiles = expandFilePattern(parts[0]!, parts[1]!, parts[2]!, parts[3]!, 'data file');
      } else {
        dataFiles = [value];
      }
    }
  }
  const detached = dataFiles.length > 0;
  return {
    version: magic,
    fields,
    keyValues,
    dataOffset: detached ? -1 : dataOffset < 0 ? n : dataOffset,
    dataFiles,
  };
}

function normKey(k: string): string {
  return k.trim().toLowerCase().replace(/\s+/g, ' ');
}

const NRRD_TYPES: Record<string, VoxelType | 'int64' | 'uint64'> = {};
for (const [t, names] of Object.entries({
  int8: ['signed char', 'int8', 'int8_t'],
  uint8: ['uchar', 'unsigned char', 'uint8', 'uint8_t'],
  int16: ['short', 'short int', 'signed short', 'signed short int', 'int16', 'int16_t'],
  uint16: ['ushort', 'unsigned short', 'unsigned short int', 'uint16', 'uint16_t'],
  int32: ['int', 'signed int', 'int32', 'int32_t'],
  uint32: ['uint', 'unsigned int', 'uint32', 'uint32_t'],
  int64: ['longlong', 'long long', 'long long int', 'signed long long', 'signed long long int', 'int64', 'int64_t'],
  uint64: ['ulonglong', 'unsigned long long', 'unsigned long long int', 'uint64', 'uint64_t'],
  float32: ['float'],
  float64: ['double'],
})) {
  for (const n of names) NRRD_TYPES[n] = t as VoxelType | 'int64' | 'uint64';
}

/** LPS sign per world axis for each NRRD space with a patient orientation; null = no orientation. */
const SPACES: Record<string, { lps: Vec3 | null; dim: number }> = {
  'right-anterior-superior': { lps: [-1, -1, 1], dim: 3 },
  ras: { lps: [-1, -1, 1], dim: 3 },
  'left-anterior-superior': { lps: [1, -1, 1], dim: 3 },
  las: { lps: [1, -1, 1], dim: 3 },
  'left-posterior-superior': { lps: [1, 1, 1], dim: 3 },
  lps: { lps: [1, 1, 1], dim: 3 },
  'right-anterior-superior-time': { lps: [-1, -1, 1], dim: 4 },
  rast: { lps: [-1, -1, 1], dim: 4 },
  'left-anterior-superior-time': { lps: [1, -1, 1], dim: 4 },
  last: { lps: [1, -1, 1], dim: 4 },
  'left-posterior-superior-time': { lps: [1, 1, 1], dim: 4 },
  lpst: { lps: [1, 1, 1], dim: 4 },
  'scanner-xyz': { lps: null, dim: 3 },
  'scanner-xyz-time': { lps: null, dim: 4 },
  '3d-right-handed': { lps: null, dim: 3 },
  '3d-left-handed': { lps: null, dim: 3 },
  '3d-right-handed-time': { lps: null, dim: 4 },
  '3d-left-handed-time': { lps: null, dim: 4 },
};

const UNIT_MM: Record<string, number> = {
  mm: 1,
  millimeter: 1,
  millimeters: 1,
  m: 1000,
  meter: 1000,
  cm: 10,
  um: 0.001,
  micron: 0.001,
  '': 1,
};

/** Kinds that make a leading axis the frame axis instead of components. */
const FRAME_KINDS = new Set(['list', 'time']);
const SPATIAL_KINDS = new Set(['domain', 'space']);

function parseVector(s: string): number[] | null {
  if (s === 'none') return null;
  const m = /^\(([^)]*)\)$/.exec(s);
  if (!m) throw malformed(`cannot parse the vector "${s}"`);
  const v = m[1]!.split(',').map((x) => Number(x.trim()));
  if (v.some((x) => !Number.isFinite(x))) throw malformed(`the vector "${s}" has a non-number`);
  return v;
}

function splitVectors(s: string): string[] {
  return s.match(/\([^)]*\)|none/g) ?? [];
}

function splitWords(s: string): string[] {
  // per-axis fields may quote items: "mm" "mm" "mm"
  return s.match(/"[^"]*"|\S+/g)?.map((w) => w.replace(/^"|"$/g, '')) ?? [];
}

/**
 * Reads a NRRD file. For a detached header (`data file:`), `options.readFile` supplies the data
 * files. meta: { format: 'nrrd', space?, warnings? }.
 */
export async function readNrrd(bytes: Uint8Array, options: NrrdReadOptions = {}): Promise<Volume> {
  try {
    const header = readNrrdHeader(bytes);
    const payloads = await fetchPayloads(header, bytes, options);
    // gzip: inflate natively where the platform can (line skip applies to the compressed file)
    let inflated: Uint8Array[] | undefined;
    const encoding = (header.fields.encoding ?? '').toLowerCase();
    if (encoding === 'gzip' || encoding === 'gz') {
      const lineSkip = Number(header.fields['line skip'] ?? header.fields.lineskip ?? 0);
      if (Number.isInteger(lineSkip) && lineSkip >= 0) {
        inflated = [];
        for (const [i, p] of payloads.entries()) {
          throwIfAborted(options.signal);
          const name = header.dataFiles[i] ?? options.name ?? 'attached data';
          inflated.push(await gunzipAsync(skipLines(p, lineSkip, name), name));
        }
      }
    }
    return assembleNrrd(header, payloads, options, inflated);
  } catch (e) {
    if (e instanceof S2SError && options.name) throw e.withFile(options.name);
    throw e;
  }
}

/** Synchronous `readNrrd`: `readFile` (if needed) must return bytes, not a promise. */
export function readNrrdSync(bytes: Uint8Array, options: NrrdReadOptions = {}): Volume {
  try {
    const header = readNrrdHeader(bytes);
    const payloads = fetchPayloadsSync(header, bytes, options);
    return assembleNrrd(header, payloads, options);
  } catch (e) {
    if (e instanceof S2SError && options.name) throw e.withFile(options.name);
    throw e;
  }
}

function needReader(header: NrrdHeader, options: NrrdReadOptions): ReadFileFn {
  if (!options.readFile) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `this is a detached NRRD header; its data is in ${header.dataFiles.length === 1 ? `"${header.dataFiles[0]}"` : `${header.dataFiles.length} files ("${header.dataFiles[0]}", ...)`}`,
      { hint: 'give the data file(s) too (readFile option, or pass them alongside the .nhdr)' },
    );
  }
  return options.readFile;
}

async function fetchPayloads(header: NrrdHeader, bytes: Uint8Array, options: NrrdReadOptions): Promise<Uint8Array[]> {
  if (header.dataFiles.length === 0) return [bytes.subarray(header.dataOffset)];
  const read = needReader(header, options);
  const out: Uint8Array[] = [];
  for (const name of header.dataFiles) {
    throwIfAborted(options.signal);
    out.push(await readOne(read, name));
  }
  return out;
}

function fetchPayloadsSync(header: NrrdHeader, bytes: Uint8Array, options: NrrdReadOptions): Uint8Array[] {
  if (header.dataFiles.length === 0) return [bytes.subarray(header.dataOffset)];
  const read = needReader(header, options);
  return header.dataFiles.map((name) => {
    const r = read(name);
    if (r instanceof Promise) {
      throw new S2SError('INVALID_ARGUMENT', 'readFile returned a promise in readNrrdSync', {
        hint: 'use readNrrd (async)',
      });
    }
    return r;
  });
}

async function readOne(read: ReadFileFn, name: string): Promise<Uint8Array> {
  try {
    return await read(name);
  } catch (e) {
    if (e instanceof S2SError) throw e;
    throw new S2SError('IO_ERROR', `cannot read the data file "${name}" named in the header`, {
      hint: 'keep the data files next to the header, with the names the header gives',
      cause: e,
    });
  }
}

function assembleNrrd(
  header: NrrdHeader,
  payloads: Uint8Array[],
  options: NrrdReadOptions,
  inflated?: readonly Uint8Array[],
): Volume {
  const f = header.fields;
  const warnings: string[] = [];
  const dimension = Number(f.dimension);
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 16) {
    throw malformed(`"dimension" is ${f.dimension === undefined ? 'missing' : `"${f.dimension}"`}`);
  }
  const typeName = (f.type ?? '').toLowerCase().replace(/\s+/g, ' ');
  const stored = NRRD_TYPES[typeName];
  if (!stored) {
    if (typeName === 'block')
      throw new S2SError('UNSUPPORTED_FORMAT', 'NRRD type "block" is not supported', {
        hint: 'convert to a numeric type',
      });
    throw malformed(`"type" is ${f.type === undefined ? 'missing' : `"${f.type}", not a NRRD type`}`);
  }
  const sizes = splitWords(f.sizes ?? '').map(Number);
  if (sizes.length !== dimension || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw malformed(`"sizes" (${f.sizes ?? 'missing'}) must be ${dimension} positive integers`);
  }
  const encoding = (f.encoding ?? '').toLowerCase();
  const sampleBytes = stored === 'int64' || stored === 'uint64' ? 8 : BYTES_PER_SAMPLE[stored];
  let littleEndian = true;
  if (f.endian !== undefined) {
    const e = f.endian.toLowerCase();
    if (e !== 'little' && e !== 'big') throw malformed(`"endian" is "${f.endian}"`);
    littleEndian = e === 'little';
  } else if (sampleBytes > 1 && !['ascii', 'text', 'txt'].includes(encoding)) {
    warnings.push('the header has no "endian" field; assumed little-endian');
  }

  // --- axes
  const kinds = f.kinds !== undefined ? splitWords(f.kinds).map((k) => k.toLowerCase()) : undefined;
  if (kinds && kinds.length !== dimension) throw malformed(`"kinds" has ${kinds.length} entries for ${dimension} axes`);
  const spaceName = f.space?.toLowerCase();
  let space = spaceName !== undefined ? SPACES[spaceName] : undefined;
  if (spaceName !== undefined && !space) throw malformed(`unknown NRRD space "${f.space}"`);
  if (!space && f['space dimension'] !== undefined) {
    const sd = Number(f['space dimension']);
    if (sd !== 3)
      throw new S2SError('UNSUPPORTED_FORMAT', `NRRD space dimension ${sd} is not supported`, {
        hint: 'only 3D spaces can be loaded',
      });
    space = { lps: null, dim: 3 };
  }
  let directions: (number[] | null)[] | undefined;
  if (f['space directions'] !== undefined) {
    const vs = splitVectors(f['space directions']);
    if (vs.length !== dimension) throw malformed(`"space directions" has ${vs.length} entries for ${dimension} axes`);
    directions = vs.map(parseVector);
    const sd = space?.dim ?? 3;
    for (const d of directions)
      if (d && d.length !== sd) throw malformed(`a space direction has ${d.length} components, the space has ${sd}`);
  }
  let spatial: boolean[];
  if (directions) spatial = directions.map((d) => d !== null);
  else if (kinds) spatial = kinds.map((k) => SPATIAL_KINDS.has(k) || ((k === '???' || k === 'none') && dimension <= 3));
  else spatial = sizes.map((_, a) => a < 3);
  if (!directions && !kinds && dimension === 4)
    warnings.push('4D NRRD without kinds: the 4th axis was taken as frames');
  const spatialIdx = spatial.flatMap((s, a) => (s ? [a] : []));
  if (spatialIdx.length === 0 || spatialIdx.length > 3) {
    throw new S2SError('UNSUPPORTED_FORMAT', `the NRRD has ${spatialIdx.length} spatial axes; 1 to 3 are supported`, {
      hint: 'check "kinds" / "space directions"',
    });
  }
  const first = spatialIdx[0]!;
  const last = spatialIdx[spatialIdx.length - 1]!;
  if (last - first + 1 !== spatialIdx.length || first > 1 || dimension - 1 - last > 1) {
    throw new S2SError(
      'UNSUPPORTED_FORMAT',
      `unsupported NRRD axis layout (kinds: ${kinds?.join(' ') ?? 'none'}): at most one non-spatial axis before and one after the spatial axes`,
      { hint: 'reorder the axes (e.g. with unu permute) so that vector components come first and time last' },
    );
  }
  const leadingSize = first === 1 ? sizes[0]! : 1;
  const leadingKind = first === 1 ? (kinds?.[0] ?? 'vector') : '';
  const trailingSize = last === dimension - 2 ? sizes[dimension - 1]! : 1;
  let components = leadingSize;
  let frames = trailingSize;
  let transposeLeading = false;
  if (first === 1 && FRAME_KINDS.has(leadingKind)) {
    if (trailingSize > 1) {
      throw new S2SError('UNSUPPORTED_FORMAT', 'the NRRD has a leading list/time axis and a trailing one', {
        hint: 'merge or permute the non-spatial axes',
      });
    }
    transposeLeading = true;
    components = 1;
    frames = leadingSize;
  }
  const size = [1, 1, 1];
  spatialIdx.forEach((a, s) => {
    size[s] = sizes[a]!;
  });

  // --- data
  const nSamples = sizes.reduce((a, b) => a * b, 1);
  const nBytes = nSamples * sampleBytes;
  if (!Number.isSafeInteger(nBytes)) throw malformed(`the sizes ${sizes.join(' ')} are absurd`);
  const lineSkip = f['line skip'] ?? f.lineskip;
  const byteSkipS = f['byte skip'] ?? f.byteskip;
  const lineSkipN = lineSkip === undefined ? 0 : Number(lineSkip);
  const byteSkip = byteSkipS === undefined ? 0 : Number(byteSkipS);
  if (!Number.isInteger(lineSkipN) || lineSkipN < 0) throw malformed(`"line skip" is "${lineSkip}"`);
  if (!Number.isInteger(byteSkip) || byteSkip < -1) throw malformed(`"byte skip" is "${byteSkipS}"`);
  const nFiles = payloads.length;
  if (nBytes % nFiles !== 0 && ['raw', 'gzip', 'gz', ''].includes(encoding)) {
    throw malformed(`${nFiles} data files cannot evenly hold ${nSamples} samples`);
  }
  const perFile = nBytes / nFiles;
  const pieces: Uint8Array[] = [];
  let asciiValues: number[] | undefined;
  const fileName = (i: number) => header.dataFiles[i] ?? options.name ?? 'attached data';
  for (let i = 0; i < nFiles; i++) {
    throwIfAborted(options.signal);
    let p = inflated?.[i] ?? skipLines(payloads[i]!, lineSkipN, fileName(i));
    switch (encoding) {
      case 'raw': {
        if (byteSkip === -1) {
          if (p.length < perFile) throw truncated(fileName(i), perFile, p.length);
          p = p.subarray(p.length - perFile);
        } else {
          p = p.subarray(Math.min(p.length, byteSkip));
          if (p.length < perFile) throw truncated(fileName(i), perFile, p.length);
          p = p.subarray(0, perFile);
        }
        pieces.push(p);
        break;
      }
      case 'gzip':
      case 'gz': {
        if (byteSkip === -1) throw malformed('"byte skip: -1" is only allowed with raw encoding');
        let d = inflated?.[i] ?? gunzip(p, fileName(i));
        d = d.subarray(Math.min(d.length, byteSkip));
        if (d.length < perFile) throw truncated(fileName(i), perFile, d.length);
        pieces.push(d.subarray(0, perFile));
        break;
      }
      case 'ascii':
      case 'text':
      case 'txt': {
        asciiValues ??= [];
        const text = latin1(p);
        for (const tok of text.split(/[\s,]+/)) {
          if (tok === '') continue;
          const v = Number(tok);
          if (!Number.isFinite(v) && !/^[-+]?(inf|nan)/i.test(tok))
            throw malformed(`ASCII data has a non-number "${tok.slice(0, 20)}"`);
          asciiValues.push(v);
          if (asciiValues.length > nSamples) break;
        }
        break;
      }
      case 'hex': {
        const text = latin1(p).replace(/\s+/g, '');
        if (!/^[0-9a-fA-F]*$/.test(text)) throw malformed('hex data has a non-hex character');
        const want = perFile * 2;
        if (text.length < want) throw truncated(fileName(i), perFile, text.length >> 1);
        const d = new Uint8Array(perFile);
        for (let k = 0; k < perFile; k++) d[k] = Number.parseInt(text.substr(k * 2, 2), 16);
        pieces.push(d);
        break;
      }
      case 'bzip2':
      case 'bz2':
        throw new S2SError('UNSUPPORTED_FORMAT', 'NRRD bzip2 encoding is not supported', {
          hint: 're-save the file with gzip or raw encoding (e.g. unu save -e gzip)',
        });
      default:
        throw malformed(
          `"encoding" is ${f.encoding === undefined ? 'missing' : `"${f.encoding}", not a NRRD encoding`}`,
        );
    }
  }
  let values: VoxelArray;
  if (asciiValues) {
    if (asciiValues.length < nSamples) {
      throw new S2SError(
        'TRUNCATED_FILE',
        `the ASCII data has ${asciiValues.length} values, the header says ${nSamples}`,
        {
          hint: 'the file was cut short; copy it again',
        },
      );
    }
    const t: VoxelType = stored === 'int64' ? 'float64' : stored === 'uint64' ? 'float64' : stored;
    values = allocateVoxels(t, nSamples);
    for (let k = 0; k < nSamples; k++) values[k] = asciiValues[k]!;
  } else {
    const all = concatBytes(pieces);
    values =
      stored === 'int64' || stored === 'uint64'
        ? decodeInt64(all, 0, nSamples, stored === 'int64', littleEndian)
        : decodeSamples(all, 0, nSamples, stored, littleEndian);
  }
  if (transposeLeading) values = leadingToFrames(values, frames, nSamples / frames);

  // --- geometry
  const grid = nrrdGrid(f, { directions, spatialIdx, space, size, sizes, warnings });
  const meta: Record<string, string | number | boolean> = { format: 'nrrd' };
  if (f.space) meta.space = f.space;
  return makeVolume({ grid, data: values, components, frames, units: 'arbitrary', meta: withWarnings(meta, warnings) });
}

function truncated(file: string, want: number, have: number): S2SError {
  return new S2SError('TRUNCATED_FILE', `${file}: needs ${want} bytes of data but has only ${have}`, {
    hint: 'the data file was cut short, or the header sizes/type are wrong',
  });
}

function skipLines(b: Uint8Array, n: number, file: string): Uint8Array {
  let p = 0;
  for (let i = 0; i < n; i++) {
    while (p < b.length && b[p] !== 0x0a) p++;
    if (p >= b.length) throw malformed(`${file}: "line skip: ${n}" skips past the end of the file`);
    p++;
  }
  return p ? b.subarray(p) : b;
}

/** [c fastest, then voxels] -> [voxels fastest, then c as frames]. */
function leadingToFrames(v: VoxelArray, frames: number, nvox: number): VoxelArray {
  const out = allocateVoxels(voxelTypeOf(v), v.length);
  for (let x = 0; x < nvox; x++) for (let t = 0; t < frames; t++) out[t * nvox + x] = v[x * frames + t]!;
  return out;
}

function nrrdGrid(
  f: Readonly<Record<string, string>>,
  ctx: {
    directions: (number[] | null)[] | undefined;
    spatialIdx: number[];
    space: { lps: Vec3 | null; dim: number } | undefined;
    size: number[];
    sizes: number[];
    warnings: string[];
  },
): Grid {
  const { directions, spatialIdx, space, size, warnings } = ctx;
  let unit = 1;
  if (f['space units'] !== undefined) {
    const units = splitWords(f['space units']).map((u) => u.toLowerCase());
    const scales = units.map((u) => UNIT_MM[u]);
    if (scales.some((s) => s === undefined) || new Set(scales).size > 1) {
      warnings.push(`unrecognised "space units" (${units.join(' ')}); assumed mm`);
    } else if (scales[0] !== 1) {
      unit = scales[0]!;
      warnings.push(`space units are ${units[0]}; converted to mm`);
    }
  }
  const sign = space?.lps ?? [1, 1, 1];
  if (space && !space.lps) {
    warnings.push(
      `NRRD space "${f.space ?? 'unnamed'}" has no patient orientation: coordinates were taken as LPS; orientation is assumed`,
    );
  }
  const toLps = (v: readonly number[]): number[] => [
    v[0]! * sign[0] * unit,
    v[1]! * sign[1] * unit,
    v[2]! * sign[2] * unit,
  ];
  const columns: number[][] = [];
  let origin: number[] = [0, 0, 0];
  if (directions) {
    for (let s = 0; s < 3; s++) {
      const a = spatialIdx[s];
      columns.push(a === undefined ? [0, 0, 0] : toLps(directions[a]!));
    }
    if (f['space origin'] !== undefined) {
      const o = parseVector(f['space origin'].trim());
      if (!o || o.length !== (space?.dim ?? 3)) throw malformed(`"space origin" is "${f['space origin']}"`);
      origin = toLps(o);
    } else {
      warnings.push('the header has "space directions" but no "space origin"; origin set to 0');
    }
    if (!space) warnings.push('the header has "space directions" but no "space"; coordinates were taken as LPS');
  } else {
    const sp = f.spacings !== undefined ? splitWords(f.spacings).map(Number) : [];
    let defaulted = false;
    for (let s = 0; s < 3; s++) {
      const a = spatialIdx[s];
      let v = a === undefined ? 1 : sp[a];
      if (v === undefined || !Number.isFinite(v) || v === 0) {
        if (a !== undefined) defaulted = true;
        v = 1;
      }
      const col = [0, 0, 0];
      col[s] = Math.abs(v) * unit * (v < 0 ? -1 : 1);
      columns.push(col);
    }
    if (defaulted) warnings.push('the header gives no spacing for some axes; assumed 1 mm');
    if (!space)
      warnings.push('the header has no "space": orientation is UNKNOWN; axes were taken as L, P, S from origin 0');
  }
  return gridFromColumns(columns, origin, size, warnings);
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface NrrdWriteOptions {
  /** 'gzip' (default) or 'raw'. */
  encoding?: 'raw' | 'gzip';
  /** gzip level 0..9 (default 6). */
  gzipLevel?: number;
  /** Byte order of the data (default 'little'). */
  endian?: 'little' | 'big';
}

export const NRRD_WRITE_DEFAULTS = {
  encoding: 'gzip',
  gzipLevel: 6,
  endian: 'little',
} as const satisfies NrrdWriteOptions;

const TYPE_NAME: Record<VoxelType, string> = {
  int8: 'int8',
  uint8: 'uint8',
  int16: 'int16',
  uint16: 'uint16',
  int32: 'int32',
  uint32: 'uint32',
  float32: 'float',
  float64: 'double',
};

function fmt(x: number): string {
  return Object.is(x, -0) ? '0' : String(x);
}

/** The text header (ending with the blank line for attached data) describing `volume`. */
function nrrdHeaderText(volume: Volume, opts: Required<NrrdWriteOptions>, dataFile?: string): string {
  const { grid, components, frames } = volume;
  const type = voxelTypeOf(volume.data);
  const sizes: number[] = [];
  const dirs: string[] = [];
  const kinds: string[] = [];
  if (components > 1) {
    sizes.push(components);
    dirs.push('none');
    kinds.push(
      components === 3 && type === 'uint8'
        ? 'RGB-color'
        : components === 4 && type === 'uint8'
          ? 'RGBA-color'
          : 'vector',
    );
  }
  const cols = gridColumns(grid);
  for (let a = 0; a < 3; a++) {
    sizes.push(grid.size[a]!);
    dirs.push(`(${cols[a]!.map(fmt).join(',')})`);
    kinds.push('domain');
  }
  if (frames > 1) {
    sizes.push(frames);
    dirs.push('none');
    kinds.push('list');
  }
  const lines = [
    'NRRD0004',
    '# Complete NRRD file format specification at:',
    '# http://teem.sourceforge.net/nrrd/format.html',
    `type: ${TYPE_NAME[type]}`,
    `dimension: ${sizes.length}`,
    'space: left-posterior-superior',
    `sizes: ${sizes.join(' ')}`,
    `space directions: ${dirs.join(' ')}`,
    `kinds: ${kinds.join(' ')}`,
    ...(BYTES_PER_SAMPLE[type] > 1 ? [`endian: ${opts.endian}`] : []),
    `encoding: ${opts.encoding}`,
    `space origin: (${grid.origin.map(fmt).join(',')})`,
    ...(dataFile !== undefined ? [`data file: ${dataFile}`] : []),
  ];
  return `${lines.join('\n')}\n${dataFile === undefined ? '\n' : ''}`;
}

function nrrdData(volume: Volume, opts: Required<NrrdWriteOptions>): Uint8Array {
  if (voxelCount(volume.grid) * volume.components * volume.frames !== volume.data.length) {
    throw new S2SError('INVALID_ARGUMENT', 'volume data length does not match its grid');
  }
  const raw = encodeSamples(volume.data, opts.endian === 'little');
  return opts.encoding === 'gzip' ? gzip(raw, opts.gzipLevel) : raw;
}

/**
 * Writes an attached `.nrrd`: space left-posterior-superior, exact `space directions` and
 * `space origin` (shortest round-trip decimal, so any grid, sheared or left-handed, is kept exactly),
 * components as a leading axis (RGB-color / RGBA-color / vector), frames as a trailing `list` axis.
 */
export function writeNrrd(volume: Volume, options: NrrdWriteOptions = {}): Uint8Array {
  const opts = { ...NRRD_WRITE_DEFAULTS, ...options } as Required<NrrdWriteOptions>;
  const head = asciiBytes(nrrdHeaderText(volume, opts));
  return concatBytes([head, nrrdData(volume, opts)]);
}

/**
 * Writes a detached pair: the `.nhdr` header text naming `dataFileName` (relative to the header),
 * and the data file's bytes (raw, or gzip -> name it `.raw.gz`).
 */
export function writeNrrdDetached(
  volume: Volume,
  dataFileName: string,
  options: NrrdWriteOptions = {},
): { header: Uint8Array; data: Uint8Array } {
  const opts = { ...NRRD_WRITE_DEFAULTS, ...options } as Required<NrrdWriteOptions>;
  if (
    /[\r\n]/.test(dataFileName) ||
    dataFileName.trim() !== dataFileName ||
    dataFileName === '' ||
    dataFileName.startsWith('LIST')
  ) {
    throw new S2SError('INVALID_ARGUMENT', `"${dataFileName}" cannot be used as a NRRD data file name`);
  }
  return { header: asciiBytes(nrrdHeaderText(volume, opts, dataFileName)), data: nrrdData(volume, opts) };
}

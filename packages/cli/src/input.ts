/**
 * Node-only input handling: turns a path (file, folder or .zip) into bytes and routes them to the
 * right reader: DICOM files -> @slice2solid/dicom's loadDicomSeries, NIfTI/NRRD -> @slice2solid/io.
 *
 * DICOM is recognised by CONTENT, not by extension ("DICM" at offset 128, or else the DICOM parser
 * is given the file and reports it as skipped if it cannot read it). DICOMDIR, hidden files and
 * obvious non-image files (text, JSON, licences, ...) are skipped without being parsed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { type RunOptions, S2SError, type Vec3, type Volume } from '@slice2solid/core';
import { type LoadReport, loadDicomSeries, type SeriesSummary } from '@slice2solid/dicom';
import { looksLikeNifti, looksLikeNrrd, readNifti, readNrrd, volumeWarnings } from '@slice2solid/io';
import { Gunzip, unzipSync } from 'fflate';

export interface InputFile {
  /** Path relative to the input root (or the entry name inside a zip). */
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface LoadInputOptions extends RunOptions {
  /** DICOM: which series (id, UID, SeriesNumber or list index). */
  readonly series?: string | undefined;
  /** DICOM: keep tilted / unevenly spaced stacks as stored instead of resampling them. */
  readonly rawGeometry?: boolean | undefined;
  /** 2D image stacks: voxel spacing in mm. */
  readonly spacing?: Vec3 | undefined;
  /** 2D image stacks: accept 1 mm spacing when none is given or stored. */
  readonly acceptDefaultSpacing?: boolean | undefined;
}

export type InputKind = 'dicom' | 'nifti' | 'nrrd' | 'metaimage' | 'image-stack';

export interface LoadedInput {
  readonly kind: InputKind;
  /** 'file', 'folder' or 'zip'. */
  readonly container: 'file' | 'folder' | 'zip';
  readonly volume: Volume;
  /** Number of files considered (after skipping obvious non-image files). */
  readonly fileCount: number;
  /** Files left out, with the reason. */
  readonly skipped: readonly { readonly name: string; readonly reason: string }[];
  /** Human-readable warnings (for DICOM: the load report's warnings). */
  readonly warnings: readonly string[];
  /** DICOM only: the load report and every series found. */
  readonly dicom?: { readonly report: LoadReport; readonly series: readonly SeriesSummary[] };
}

/** File names that are never image data. */
const SKIP_NAME = /^(dicomdir|license.*|licence.*|readme.*|copyright.*|copying.*|manifest.*|thumbs\.db)$/i;
const SKIP_EXT = new Set([
  'txt',
  'json',
  'md',
  'csv',
  'tsv',
  'xml',
  'html',
  'htm',
  'pdf',
  'py',
  'sh',
  'bat',
  'cmd',
  'exe',
  'dll',
  'ini',
  'log',
  'js',
  'ts',
  'yml',
  'yaml',
  'doc',
  'docx',
  'xls',
  'xlsx',
  'bval',
  'bvec',
  'stl',
  'obj',
  'ply',
  'glb',
  'gltf',
  '3mf',
  'mz3',
]);

/** Why a file name is skipped without reading it, or undefined to read it. */
export function skipReason(name: string): string | undefined {
  const base = basename(name);
  if (base.startsWith('.')) return 'hidden file';
  if (SKIP_NAME.test(base))
    return base.toUpperCase() === 'DICOMDIR' ? 'DICOMDIR (an index, not an image)' : 'not an image file';
  const ext = base.includes('.') ? base.slice(base.lastIndexOf('.') + 1).toLowerCase() : '';
  if (SKIP_EXT.has(ext)) return `not an image file (.${ext})`;
  return undefined;
}

export function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
}
export function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}
export function hasDicmPreamble(b: Uint8Array): boolean {
  return b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;
}
function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
}
function isTiff(b: Uint8Array): boolean {
  return (
    b.length >= 4 &&
    ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 42 && b[3] === 0) ||
      (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 42))
  );
}
function isMetaImage(b: Uint8Array): boolean {
  const head = new TextDecoder('latin1').decode(b.subarray(0, 64));
  return /^\s*(ObjectType|NDims)\s*=/.test(head);
}

export type ContentKind = 'dicom' | 'nifti' | 'nrrd' | 'metaimage' | 'png' | 'tiff' | 'zip' | 'unknown';

/**
 * What a file holds, judged by its first bytes. 'unknown' files are offered to the DICOM parser
 * (a DICOM file without preamble has no magic number).
 */
export function contentKind(bytes: Uint8Array): ContentKind {
  if (isZip(bytes)) return 'zip';
  if (hasDicmPreamble(bytes)) return 'dicom';
  if (isPng(bytes)) return 'png';
  if (isTiff(bytes)) return 'tiff';
  if (looksLikeNrrd(bytes)) return 'nrrd';
  if (isMetaImage(bytes)) return 'metaimage';
  if (isGzip(bytes)) {
    // look inside: NIfTI and gzipped DICOM are both common
    const inner = gunzipHead(bytes);
    if (looksLikeNifti(inner)) return 'nifti';
    if (hasDicmPreamble(inner)) return 'dicom';
    return 'unknown';
  }
  if (looksLikeNifti(bytes)) return 'nifti';
  return 'unknown';
}

/** The first bytes (at least a few kB when there are that many) of a gzip stream, without inflating all of it. */
function gunzipHead(bytes: Uint8Array): Uint8Array {
  const chunks: Uint8Array[] = [];
  try {
    const g = new Gunzip();
    g.ondata = (chunk) => {
      chunks.push(chunk);
    };
    const head = bytes.subarray(0, 16384);
    g.push(head, head.length === bytes.length);
  } catch {
    // a truncated or corrupt stream: judge by what came out
  }
  const n = chunks.reduce((s, c) => s + c.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Reads every file under `dir` (recursively, sorted by path), skipping obvious non-image files. */
export function readFolder(dir: string): { files: InputFile[]; skipped: { name: string; reason: string }[] } {
  const files: InputFile[] = [];
  const skipped: { name: string; reason: string }[] = [];
  const walk = (d: string): void => {
    const entries = readdirSync(d, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const e of entries) {
      const full = join(d, e.name);
      const name = relative(dir, full);
      if (e.isDirectory()) {
        if (e.name.startsWith('.')) skipped.push({ name, reason: 'hidden folder' });
        else walk(full);
        continue;
      }
      if (!e.isFile() && !(e.isSymbolicLink() && statSync(full).isFile())) continue;
      const why = skipReason(e.name);
      if (why) {
        skipped.push({ name, reason: why });
        continue;
      }
      files.push({ name, bytes: new Uint8Array(readFileSync(full)) });
    }
  };
  walk(dir);
  return { files, skipped };
}

/** The entries of a .zip archive (folders and obvious non-image files skipped). */
export function readZip(
  bytes: Uint8Array,
  zipName: string,
): { files: InputFile[]; skipped: { name: string; reason: string }[] } {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new S2SError('MALFORMED_FILE', `the zip archive cannot be read: ${(e as Error).message}`, {
      file: zipName,
      hint: 'check that the download is complete, or unpack it and give the folder',
    });
  }
  const files: InputFile[] = [];
  const skipped: { name: string; reason: string }[] = [];
  for (const name of Object.keys(entries).sort()) {
    const b = entries[name]!;
    if (name.endsWith('/')) continue;
    if (name.startsWith('__MACOSX/')) {
      skipped.push({ name, reason: 'macOS metadata' });
      continue;
    }
    const why = skipReason(name);
    if (why) skipped.push({ name, reason: why });
    else files.push({ name, bytes: b });
  }
  return { files, skipped };
}

/** The volume format a file name promises (used only when the content is not recognised, for a clear error). */
function kindFromExtension(name: string): 'nifti' | 'nrrd' | 'metaimage' | undefined {
  const n = name.toLowerCase();
  if (n.endsWith('.nii') || n.endsWith('.nii.gz')) return 'nifti';
  if (n.endsWith('.nrrd') || n.endsWith('.nhdr')) return 'nrrd';
  if (n.endsWith('.mha') || n.endsWith('.mhd')) return 'metaimage';
  return undefined;
}

function resolvePath(path: string, cwd: string): string {
  return resolve(cwd, path);
}

/**
 * Loads the image in `path` (a file, a folder or a .zip). A folder or zip is read as a DICOM
 * series (or a 2D image stack when it holds no DICOM); a single file by its content.
 */
export async function loadInput(
  path: string,
  options: LoadInputOptions = {},
  cwd = process.cwd(),
): Promise<LoadedInput> {
  const full = resolvePath(path, cwd);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(full);
  } catch {
    throw new S2SError('IO_ERROR', `"${path}" does not exist`, { hint: 'give the path of a file, a folder or a .zip' });
  }
  if (st.isDirectory()) {
    const { files, skipped } = readFolder(full);
    return loadFiles(files, skipped, 'folder', options, path);
  }
  const bytes = new Uint8Array(readFileSync(full));
  const name = basename(full);
  const kind = contentKind(bytes) === 'unknown' ? (kindFromExtension(name) ?? 'unknown') : contentKind(bytes);
  if (kind === 'zip') {
    const { files, skipped } = readZip(bytes, name);
    return loadFiles(files, skipped, 'zip', options, path);
  }
  if (kind === 'nifti' || kind === 'nrrd' || kind === 'metaimage') {
    const readSibling = (sibling: string): Uint8Array => {
      const p = resolve(dirname(full), sibling);
      try {
        return new Uint8Array(readFileSync(p));
      } catch {
        throw new S2SError('IO_ERROR', `the data file "${sibling}" named in the header cannot be read`, {
          file: name,
          hint: 'keep the header and its data file together in one folder',
        });
      }
    };
    const volume = await readVolumeFile(kind, name, bytes, readSibling, options);
    return { kind, container: 'file', volume, fileCount: 1, skipped: [], warnings: volumeWarnings(volume) };
  }
  if (kind === 'png' || kind === 'tiff') {
    return loadImageStack([{ name, bytes }], [], 'file', options);
  }
  // DICOM (with preamble, gzip-wrapped, or without preamble: let the parser decide)
  return loadDicom([{ name, bytes }], [], 'file', options);
}

async function loadFiles(
  files: InputFile[],
  skipped: { name: string; reason: string }[],
  container: 'folder' | 'zip',
  options: LoadInputOptions,
  path: string,
): Promise<LoadedInput> {
  const kinds = files.map((f) => contentKind(f.bytes));
  const dicom = files.filter((_, n) => kinds[n] === 'dicom' || kinds[n] === 'unknown');
  const images = files.filter((_, n) => kinds[n] === 'png' || kinds[n] === 'tiff');
  const volumes = files.filter((_, n) => kinds[n] === 'nifti' || kinds[n] === 'nrrd' || kinds[n] === 'metaimage');
  const definiteDicom = kinds.some((k) => k === 'dicom');
  if (definiteDicom || (dicom.length > 0 && images.length === 0)) {
    const others = files.filter((f) => !dicom.includes(f));
    for (const f of others) skipped.push({ name: f.name, reason: 'not DICOM (a folder is read as one DICOM series)' });
    return loadDicom(dicom, skipped, container, options);
  }
  if (images.length > 0) {
    for (const f of files) if (!images.includes(f)) skipped.push({ name: f.name, reason: 'not a PNG/TIFF slice' });
    return loadImageStack(images, skipped, container, options);
  }
  if (volumes.length > 0) {
    throw new S2SError('INVALID_ARGUMENT', `the ${container} holds volume files (NIfTI/NRRD/MetaImage), not a series`, {
      hint: `give one of the files directly, e.g. ${join(path, volumes[0]!.name)}`,
    });
  }
  throw new S2SError('NO_SERIES', `no image files were found in the ${container}`, {
    hint:
      skipped.length > 0
        ? `${skipped.length} file(s) were skipped (e.g. ${skipped[0]!.name}: ${skipped[0]!.reason})`
        : 'give a folder of DICOM files, a .zip, or an image file',
  });
}

async function loadDicom(
  files: InputFile[],
  skipped: { name: string; reason: string }[],
  container: 'file' | 'folder' | 'zip',
  options: LoadInputOptions,
): Promise<LoadedInput> {
  const result = await loadDicomSeries(files, {
    series: options.series,
    geometry: options.rawGeometry ? 'raw' : 'regularize',
    signal: options.signal,
    onProgress: options.onProgress,
  });
  const allSkipped = [...skipped, ...result.report.skippedFiles];
  return {
    kind: 'dicom',
    container,
    volume: result.volume,
    fileCount: files.length,
    skipped: allSkipped,
    warnings: result.report.warnings.map((w) => w.message),
    dicom: { report: result.report, series: result.series },
  };
}

async function readVolumeFile(
  kind: 'nifti' | 'nrrd' | 'metaimage',
  name: string,
  bytes: Uint8Array,
  readSibling: (name: string) => Uint8Array,
  options: LoadInputOptions,
): Promise<Volume> {
  const run = { signal: options.signal, onProgress: options.onProgress };
  switch (kind) {
    case 'nifti':
      return readNifti(bytes, { ...run, name });
    case 'nrrd':
      return readNrrd(bytes, { ...run, name, readFile: readSibling });
    case 'metaimage':
      throw new S2SError('NOT_IMPLEMENTED', 'MetaImage (.mha/.mhd) reading is not available yet', {
        file: name,
        hint: 'convert it to NIfTI or NRRD first',
      });
  }
}

async function loadImageStack(
  _files: InputFile[],
  _skipped: { name: string; reason: string }[],
  _container: 'file' | 'folder' | 'zip',
  _options: LoadInputOptions,
): Promise<LoadedInput> {
  throw new S2SError('NOT_IMPLEMENTED', 'PNG/TIFF slice stacks are not available yet', {
    hint: 'convert the stack to NIfTI first',
  });
}

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
import type { LoadReport, SeriesSummary } from '@slice2solid/dicom';
import {
  type ContentKind,
  companionFileNames,
  contentKind,
  readVolume,
  skipReasonForBaseName,
  volumeWarnings,
} from '@slice2solid/io';
import { unzipSync } from 'fflate';
import { readFileBytes } from './read-file.js';

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

/** Why a file name is skipped without reading it, or undefined to read it. */
export function skipReason(name: string): string | undefined {
  return skipReasonForBaseName(basename(name));
}

/** A Uint8Array view of a Node Buffer (no copy; the file's own memory). */
function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

export { type ContentKind, contentKind, isZip } from '@slice2solid/io';

const VOLUME_KINDS: readonly ContentKind[] = ['nifti', 'nifti-pair', 'nrrd', 'metaimage'];

/** Reads every file under `dir` (recursively, sorted by path), skipping obvious non-image files. */
export function readFolder(dir: string): { files: InputFile[]; skipped: { name: string; reason: string }[] } {
  const { paths, skipped } = listFolder(dir);
  return { files: paths.map((p) => ({ name: p.name, bytes: view(readFileSync(p.full)) })), skipped };
}

export const READ_FOLDER_DEFAULTS = {
  /** Files read at the same time (the reads run on libuv's thread pool, overlapping each other). */
  concurrency: 8,
} as const;

/**
 * readFolder with the files read concurrently (same files, same order). The files are read into one
 * buffer sized from their stat sizes (one allocation instead of hundreds: far less garbage
 * collection); a file whose size changed since is read into its own buffer.
 */
export async function readFolderAsync(
  dir: string,
  options: { concurrency?: number } & RunOptions = {},
): Promise<{ files: InputFile[]; skipped: { name: string; reason: string }[] }> {
  const { paths, skipped } = listFolder(dir);
  const sizes = paths.map((p) => {
    try {
      return statSync(p.full).size;
    } catch {
      return 0;
    }
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  const slab = new Uint8Array(total);
  const files: InputFile[] = new Array(paths.length);
  const workers = Math.max(1, Math.min(options.concurrency ?? READ_FOLDER_DEFAULTS.concurrency, paths.length));
  let next = 0;
  let done = 0;
  let at = 0;
  const slots = sizes.map((n) => {
    const slot = slab.subarray(at, at + n);
    at += n;
    return slot;
  });
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      if (options.signal?.aborted) throw new S2SError('ABORTED', 'the operation was cancelled');
      const k = next++;
      const p = paths[k]!;
      const slot = slots[k]!;
      files[k] = {
        name: p.name,
        bytes: await readFileBytes(p.full, (size) => (size === slot.length ? slot : new Uint8Array(size))),
      };
      options.onProgress?.({ stage: 'read', done: ++done, total: paths.length });
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return { files, skipped };
}

/** The files under `dir` to read (recursively, sorted by path) and those skipped by name. */
function listFolder(dir: string): {
  paths: { name: string; full: string }[];
  skipped: { name: string; reason: string }[];
} {
  const paths: { name: string; full: string }[] = [];
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
      paths.push({ name, full });
    }
  };
  walk(dir);
  return { paths, skipped };
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
    const { files, skipped } = await readFolderAsync(full, { signal: options.signal });
    return loadFiles(files, skipped, 'folder', options, path);
  }
  const bytes = view(readFileSync(full));
  const name = basename(full);
  const kind = contentKind(name, bytes);
  if (kind === 'zip') {
    const { files, skipped } = readZip(bytes, name);
    return loadFiles(files, skipped, 'zip', options, path);
  }
  if (VOLUME_KINDS.includes(kind)) {
    // a header may name data files (.nhdr, .mhd, .hdr/.img): read them from beside it
    const companions = companionFileNames(name, bytes).map((c) => {
      try {
        return { name: c, bytes: view(readFileSync(resolve(dirname(full), c))) };
      } catch {
        throw new S2SError('IO_ERROR', `the data file "${c}" named in the header cannot be read`, {
          file: name,
          hint: 'keep the header and its data file together in one folder',
        });
      }
    });
    const volume = await readVolume([{ name, bytes }, ...companions], volumeOptions(options));
    return {
      kind: volumeKind(kind),
      container: 'file',
      volume,
      fileCount: 1,
      skipped: [],
      warnings: volumeWarnings(volume),
    };
  }
  if (kind === 'png' || kind === 'tiff') {
    return loadImageStack([{ name, bytes }], [], 'file', options);
  }
  // DICOM (with preamble, gzip-wrapped, or without preamble: the parser decides)
  return loadDicom([{ name, bytes }], [], 'file', options);
}

function volumeKind(kind: ContentKind): InputKind {
  return kind === 'nrrd' ? 'nrrd' : kind === 'metaimage' ? 'metaimage' : 'nifti';
}

function volumeOptions(options: LoadInputOptions) {
  return {
    signal: options.signal,
    onProgress: options.onProgress,
    ...(options.spacing ? { spacing: options.spacing } : {}),
    ...(options.acceptDefaultSpacing ? { acceptDefaultSpacing: true } : {}),
  };
}

async function loadFiles(
  files: InputFile[],
  skipped: { name: string; reason: string }[],
  container: 'folder' | 'zip',
  options: LoadInputOptions,
  path: string,
): Promise<LoadedInput> {
  const kinds = files.map((f) => contentKind(f.name, f.bytes));
  const pick = (want: readonly ContentKind[]) => files.filter((_, n) => want.includes(kinds[n]!));
  const dicom = pick(['dicom', 'unknown']);
  const images = pick(['png', 'tiff']);
  const headers = pick(VOLUME_KINDS);
  const leftOut = (kept: InputFile[], reason: string) => {
    for (const f of files) if (!kept.includes(f)) skipped.push({ name: f.name, reason });
  };
  if (kinds.includes('dicom') || (dicom.length > 0 && images.length === 0 && headers.length === 0)) {
    leftOut(dicom, 'not DICOM (a folder is read as one DICOM series)');
    return loadDicom(dicom, skipped, container, options);
  }
  if (images.length > 0) {
    leftOut(images, 'not a PNG/TIFF slice');
    return loadImageStack(images, skipped, container, options);
  }
  if (headers.length === 1) {
    // one volume file (with its data files, if it names any)
    const volume = await readVolume(files, volumeOptions(options));
    return {
      kind: volumeKind(kinds[files.indexOf(headers[0]!)]!),
      container,
      volume,
      fileCount: files.length,
      skipped,
      warnings: volumeWarnings(volume),
    };
  }
  if (headers.length > 1) {
    throw new S2SError('INVALID_ARGUMENT', `the ${container} holds ${headers.length} volume files, not one series`, {
      hint: `give one of them directly, e.g. ${join(path, headers[0]!.name)}`,
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
  const { loadDicomSeries } = await import('@slice2solid/dicom');
  const result = await loadDicomSeries(files, {
    series: options.series,
    geometry: options.rawGeometry ? 'raw' : 'regularize',
    signal: options.signal,
    onProgress: options.onProgress,
  });
  return {
    kind: 'dicom',
    container,
    volume: result.volume,
    fileCount: files.length,
    skipped: [...skipped, ...result.report.skippedFiles],
    warnings: result.report.warnings.map((w) => w.message),
    dicom: { report: result.report, series: result.series },
  };
}

async function loadImageStack(
  files: InputFile[],
  skipped: { name: string; reason: string }[],
  container: 'file' | 'folder' | 'zip',
  options: LoadInputOptions,
): Promise<LoadedInput> {
  const volume = await readVolume(files, volumeOptions(options));
  return {
    kind: 'image-stack',
    container,
    volume,
    fileCount: files.length,
    skipped,
    warnings: volumeWarnings(volume),
  };
}

/**
 * Format detection (by content; the name only breaks ties) and the generic entry points
 * `readVolume` / `writeVolume` / `writeVolumeFiles`. DICOM is recognised here but read by
 * @slice2solid/dicom (the CLI decides which loader to call).
 */
import { type RunOptions, S2SError, type Volume } from '@slice2solid/core';
import { Gunzip } from 'fflate';
import { gunzipAsync, isGzip, latin1 } from './common/binary.js';
import { type ImageStackOptions, isPng, isTiff, type NamedBytes, readImageStack } from './image-stack.js';
import {
  looksLikeMetaImage,
  readMetaImage,
  readMetaImageHeader,
  writeMetaImage,
  writeMetaImageDetached,
} from './metaimage.js';
import { looksLikeNifti, type NiftiWriteOptions, readNifti, writeNifti } from './nifti.js';
import { looksLikeNrrd, readNrrd, readNrrdHeader, writeNrrd, writeNrrdDetached } from './nrrd.js';

export type VolumeFormat =
  | 'nifti'
  /** Header of a NIfTI/ANALYZE .hdr + .img pair. */
  | 'nifti-pair'
  | 'nrrd'
  | 'metaimage'
  | 'png'
  | 'tiff'
  | 'dicom'
  | 'unknown';

/** First bytes of a gzip stream, decompressed (up to `want` bytes; empty if it cannot be inflated). */
function peekGunzip(head: Uint8Array, want: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let have = 0;
  try {
    const g = new Gunzip((c) => {
      if (have < want) {
        chunks.push(c);
        have += c.length;
      }
    });
    g.push(head, false);
  } catch {
    // partial or corrupt head: use what came out
  }
  const out = new Uint8Array(Math.min(want, have));
  let o = 0;
  for (const c of chunks) {
    if (o >= out.length) break;
    const take = Math.min(c.length, out.length - o);
    out.set(c.subarray(0, take), o);
    o += take;
  }
  return out;
}

function looksLikeDicom(head: Uint8Array): boolean {
  if (head.length >= 132 && latin1(head, 128, 132) === 'DICM') return true;
  // no preamble: a little-endian group 0002 or 0008 element at byte 0
  if (head.length >= 8) {
    const group = head[0]! | (head[1]! << 8);
    return (group === 0x0002 || group === 0x0008) && head[3]! === 0x00;
  }
  return false;
}

/**
 * The format of a file, decided by its first bytes (give at least 1 KiB; the whole file is fine).
 * Gzipped files are peeked into. The name is only used where content cannot decide (a
 * header-only ANALYZE `.hdr`, a DICOM file without preamble).
 */
export function detectFormat(name: string, headBytes: Uint8Array): VolumeFormat {
  let head = headBytes;
  if (isGzip(head)) head = peekGunzip(head, 1024);
  if (head.length >= 4) {
    if (looksLikeNifti(head)) {
      const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
      const v1 = dv.getInt32(0, true) === 348 || dv.getInt32(0, false) === 348;
      const magic = latin1(head, v1 ? 344 : 4, v1 ? 347 : 7);
      return magic === 'ni1' || magic === 'ni2' ? 'nifti-pair' : 'nifti';
    }
    if (head.length >= 348 && /\.hdr(\.gz)?$/i.test(name)) {
      const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
      if (dv.getInt32(0, true) === 348 || dv.getInt32(0, false) === 348) return 'nifti-pair'; // ANALYZE 7.5
    }
    if (looksLikeNrrd(head)) return 'nrrd';
    if (isPng(head)) return 'png';
    if (isTiff(head)) return 'tiff';
    if (looksLikeMetaImage(head)) return 'metaimage';
    if (looksLikeDicom(head) || (/\.dcm$/i.test(name) && head.length >= 8)) return 'dicom';
  }
  return 'unknown';
}

export interface ReadVolumeOptions extends ImageStackOptions, RunOptions {
  /** NIfTI: apply scl_slope / scl_inter (default true). */
  applyScaling?: boolean;
}

export const READ_VOLUME_DEFAULTS = {} as const satisfies Partial<ReadVolumeOptions>;

function normName(n: string): string {
  return n.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}

function baseName(n: string): string {
  const s = normName(n);
  return s.slice(s.lastIndexOf('/') + 1);
}

/** Finds a companion file by the name a header gives (exact path, then same tail path, then basename). */
function companionFinder(files: readonly NamedBytes[], header: NamedBytes): (name: string) => Uint8Array {
  const headerDir = normName(header.name).includes('/')
    ? normName(header.name).slice(0, normName(header.name).lastIndexOf('/') + 1)
    : '';
  return (wanted: string) => {
    const w = normName(wanted);
    const full = headerDir + w;
    const exact = files.find((f) => normName(f.name) === full) ?? files.find((f) => normName(f.name) === w);
    if (exact) return exact.bytes;
    const tail = files.filter((f) => normName(f.name).endsWith(`/${w}`));
    if (tail.length === 1) return tail[0]!.bytes;
    const base = files.filter((f) => baseName(f.name) === baseName(w));
    if (base.length === 1) return base[0]!.bytes;
    throw new S2SError(
      'IO_ERROR',
      base.length > 1
        ? `several given files are called "${baseName(w)}"`
        : `the header names a data file "${wanted}" that was not given`,
      { hint: 'give the header together with its data file(s), keeping their names', file: header.name },
    );
  };
}

/**
 * Reads one volume from the given files: a single NIfTI (.nii/.nii.gz), NRRD (.nrrd, or .nhdr with
 * its data files among `files`), MetaImage (.mha, or .mhd with its .raw/.zraw), a NIfTI/ANALYZE
 * .hdr + .img pair, or a stack of PNG/TIFF slices. DICOM is refused with a pointer to the DICOM
 * loader.
 */
export async function readVolume(files: readonly NamedBytes[], options: ReadVolumeOptions = {}): Promise<Volume> {
  if (files.length === 0) throw new S2SError('INVALID_ARGUMENT', 'no files were given', { hint: 'give a volume file' });
  const kinds = files.map((f) => ({ f, kind: detectFormat(f.name, f.bytes.subarray(0, 4096)) }));
  const dicom = kinds.filter((k) => k.kind === 'dicom');
  if (dicom.length > 0 && dicom.length === files.length) {
    throw new S2SError(
      'UNSUPPORTED_FORMAT',
      'these are DICOM files; packages/io reads NIfTI, NRRD, MetaImage and PNG/TIFF',
      {
        hint: 'load DICOM with the DICOM loader (@slice2solid/dicom), which the CLI picks automatically',
        file: dicom[0]!.f.name,
      },
    );
  }
  if (kinds.every((k) => k.kind === 'png' || k.kind === 'tiff')) return readImageStack(files, options);
  const headers = kinds.filter((k) => ['nifti', 'nifti-pair', 'nrrd', 'metaimage'].includes(k.kind));
  if (headers.length === 0) {
    const odd = kinds.find((k) => k.kind === 'unknown') ?? kinds[0]!;
    throw new S2SError('UNSUPPORTED_FORMAT', 'the file is not a recognised volume format (checked by content)', {
      hint: 'supported: .nii, .nii.gz, .nrrd, .nhdr, .mha, .mhd, PNG/TIFF stacks; DICOM through the DICOM loader',
      file: odd.f.name,
    });
  }
  // a NIfTI pair's .img has no header, a detached NRRD/MHD's data files are raw: one header is expected
  if (headers.length > 1) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `${headers.length} volume headers were given (${headers.map((h) => h.f.name).join(', ')}); give one volume at a time`,
      {
        hint: 'load each volume separately',
      },
    );
  }
  const { f, kind } = headers[0]!;
  const find = companionFinder(files, f);
  const run = { signal: options.signal, onProgress: options.onProgress, name: f.name };
  switch (kind) {
    case 'nifti': {
      // inflate natively where the platform can (much faster than the JavaScript inflater)
      const bytes = isGzip(f.bytes) ? await gunzipAsync(f.bytes, f.name) : f.bytes;
      return readNifti(bytes, { ...run, applyScaling: options.applyScaling ?? true });
    }
    case 'nifti-pair': {
      const stem = normName(f.name).replace(/\.hdr(\.gz)?$/i, '');
      const img = files.find(
        (x) => x !== f && /\.img(\.gz)?$/i.test(x.name) && normName(x.name).replace(/\.img(\.gz)?$/i, '') === stem,
      );
      if (!img) {
        throw new S2SError('IO_ERROR', "the .img file that holds this header's voxels was not given", {
          hint: 'give the .hdr and .img files together',
          file: f.name,
        });
      }
      return readNifti(f.bytes, { ...run, imageBytes: img.bytes, applyScaling: options.applyScaling ?? true });
    }
    case 'nrrd':
      return readNrrd(f.bytes, { ...run, readFile: find });
    case 'metaimage':
      return readMetaImage(f.bytes, { ...run, readFile: find });
  }
  throw new S2SError('UNSUPPORTED_FORMAT', `cannot read ${kind}`, { file: f.name });
}

/** Names of the data files a header refers to (for callers that must fetch them first). */
export function companionFileNames(name: string, bytes: Uint8Array): string[] {
  const kind = detectFormat(name, bytes.subarray(0, 4096));
  if (kind === 'nrrd') return [...readNrrdHeader(bytes).dataFiles];
  if (kind === 'metaimage') return [...readMetaImageHeader(bytes).dataFiles];
  if (kind === 'nifti-pair') return [name.replace(/\.hdr(\.gz)?$/i, '.img$1')];
  return [];
}

export interface WriteVolumeOptions {
  /** gzip / zlib level 0..9 where the format compresses (default 6). */
  compressionLevel?: number;
  /** NIfTI descrip text: NOT for identifiers (default 'slice2solid'). */
  description?: NiftiWriteOptions['description'];
  /** NIfTI version (default 1; 2 when a size exceeds 32767). */
  niftiVersion?: 1 | 2;
}

export const WRITE_VOLUME_DEFAULTS = {
  compressionLevel: 6,
} as const satisfies WriteVolumeOptions;

/** The extensions `writeVolume` understands. */
export const WRITABLE_EXTENSIONS = ['.nii', '.nii.gz', '.nrrd', '.mha'] as const;

/**
 * Encodes a volume as one file chosen by the extension of `fileName`: .nii, .nii.gz (NIfTI),
 * .nrrd (attached, gzip), .mha (MetaImage, uncompressed). For .nhdr / .mhd (two files) use
 * `writeVolumeFiles`.
 */
export function writeVolume(volume: Volume, fileName: string, options: WriteVolumeOptions = {}): Uint8Array {
  const opts = { ...WRITE_VOLUME_DEFAULTS, ...options };
  const n = fileName.toLowerCase();
  if (n.endsWith('.nii.gz') || n.endsWith('.nii')) {
    return writeNifti(volume, {
      gzip: n.endsWith('.gz'),
      gzipLevel: opts.compressionLevel,
      ...(opts.description !== undefined ? { description: opts.description } : {}),
      ...(opts.niftiVersion !== undefined ? { version: opts.niftiVersion } : {}),
    });
  }
  if (n.endsWith('.nrrd')) return writeNrrd(volume, { encoding: 'gzip', gzipLevel: opts.compressionLevel });
  if (n.endsWith('.mha')) return writeMetaImage(volume);
  if (n.endsWith('.nhdr') || n.endsWith('.mhd')) {
    throw new S2SError('INVALID_ARGUMENT', `${fileName} is a header-only format that needs a second file`, {
      hint: 'use writeVolumeFiles for .nhdr/.mhd, or write .nrrd / .mha (single file)',
    });
  }
  throw new S2SError('INVALID_ARGUMENT', `cannot tell the volume format from the name "${fileName}"`, {
    hint: `use one of ${WRITABLE_EXTENSIONS.join(', ')} (or .nhdr / .mhd with writeVolumeFiles)`,
  });
}

/**
 * Like `writeVolume`, but also handles the two-file formats: `.nhdr` (+ `<stem>.raw.gz`) and
 * `.mhd` (+ `<stem>.raw`). Returned names are relative to the folder of `fileName` (base names).
 */
export function writeVolumeFiles(volume: Volume, fileName: string, options: WriteVolumeOptions = {}): NamedBytes[] {
  const opts = { ...WRITE_VOLUME_DEFAULTS, ...options };
  const base = baseName(fileName);
  const n = base.toLowerCase();
  if (n.endsWith('.nhdr')) {
    const data = `${base.slice(0, -5)}.raw.gz`;
    const w = writeNrrdDetached(volume, data, { encoding: 'gzip', gzipLevel: opts.compressionLevel });
    return [
      { name: base, bytes: w.header },
      { name: data, bytes: w.data },
    ];
  }
  if (n.endsWith('.mhd')) {
    const data = `${base.slice(0, -4)}.raw`;
    const w = writeMetaImageDetached(volume, data);
    return [
      { name: base, bytes: w.header },
      { name: data, bytes: w.data },
    ];
  }
  return [{ name: base, bytes: writeVolume(volume, fileName, opts) }];
}

// ---------------------------------------------------------------------------------------------
// Input routing shared by the CLI (paths) and the web app (dropped files): which files are skipped
// without reading them, and what a file holds.

const SKIP_NAME = /^(dicomdir|license.*|licence.*|readme.*|copyright.*|copying.*|manifest.*|thumbs\.db)$/i;
const SKIP_EXT = new Set(
  'txt json md csv tsv xml html htm pdf py sh bat cmd exe dll ini log js ts yml yaml doc docx xls xlsx bval bvec stl obj ply glb gltf 3mf mz3'.split(
    ' ',
  ),
);

/**
 * Why a file with this base name (no folder part) is skipped without being read — hidden files,
 * DICOMDIR, licences and read-mes, text, scripts, meshes — or undefined to read it.
 */
export function skipReasonForBaseName(base: string): string | undefined {
  if (base.startsWith('.')) return 'hidden file';
  if (SKIP_NAME.test(base))
    return base.toUpperCase() === 'DICOMDIR' ? 'DICOMDIR (an index, not an image)' : 'not an image file';
  const ext = base.includes('.') ? base.slice(base.lastIndexOf('.') + 1).toLowerCase() : '';
  if (SKIP_EXT.has(ext)) return `not an image file (.${ext})`;
  return undefined;
}

/** A zip archive (local file header magic). */
export function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
}

export type ContentKind = VolumeFormat | 'zip';

/**
 * What a file holds, judged by its first bytes (gzip is peeked into; see detectFormat). 'unknown'
 * files are offered to the DICOM parser: a DICOM file without preamble has no magic number, and
 * the parser reports the file as skipped if it is not DICOM.
 */
export function contentKind(name: string, bytes: Uint8Array): ContentKind {
  if (isZip(bytes)) return 'zip';
  return detectFormat(name, bytes.subarray(0, 4096));
}

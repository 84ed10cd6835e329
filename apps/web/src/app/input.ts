/**
 * Browser input handling: named bytes (from picked files, a dropped folder or a .zip) routed to
 * the right reader, exactly as the CLI's `packages/cli/src/input.ts` does for paths:
 * DICOM files -> @slice2solid/dicom's loadDicomSeries, NIfTI/NRRD/MetaImage -> @slice2solid/io,
 * PNG/TIFF slices -> readImageStack. DICOM is recognised by content, not by extension; DICOMDIR,
 * hidden files and obvious non-image files are skipped without being parsed.
 *
 * No DOM here (runs in the loader worker and in Node tests).
 */
import { type RunOptions, S2SError, type Vec3, type Volume } from '@slice2solid/core';
import type { LoadReport, SeriesSummary } from '@slice2solid/dicom';
import {
  type ContentKind,
  contentKind,
  isZip,
  readVolume,
  skipReasonForBaseName,
  volumeWarnings,
} from '@slice2solid/io';
import { unzipSync } from 'fflate';

export interface InputFile {
  /** Path relative to the dropped folder (or the entry name inside a zip). */
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface SkippedFile {
  readonly name: string;
  readonly reason: string;
}

export type InputKind = 'dicom' | 'nifti' | 'nrrd' | 'metaimage' | 'image-stack';

export interface LoadFilesOptions extends RunOptions {
  /** DICOM: which series (id, UID, SeriesNumber or list index). */
  readonly series?: string | undefined;
  /** DICOM: keep tilted / unevenly spaced stacks as stored instead of resampling them. */
  readonly rawGeometry?: boolean | undefined;
  /** 2D image stacks: voxel spacing in mm (default: accept 1 mm, with a warning). */
  readonly spacing?: Vec3 | undefined;
}

export interface LoadedInput {
  readonly kind: InputKind;
  readonly container: 'files' | 'zip';
  readonly volume: Volume;
  readonly fileCount: number;
  readonly skipped: readonly SkippedFile[];
  readonly warnings: readonly string[];
  readonly dicom?: { readonly report: LoadReport; readonly series: readonly SeriesSummary[] };
}

function baseName(name: string): string {
  return name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
}

/** Why a file name is skipped without reading it, or undefined to read it. */
export function skipReason(name: string): string | undefined {
  const parts = name.split(/[\\/]/);
  if (parts.slice(0, -1).some((p) => p.startsWith('.') && p !== '.' && p !== '..')) return 'hidden folder';
  return skipReasonForBaseName(baseName(name));
}

export { type ContentKind, contentKind, isZip } from '@slice2solid/io';

const VOLUME_KINDS: readonly ContentKind[] = ['nifti', 'nifti-pair', 'nrrd', 'metaimage'];

/**
 * Expands .zip files into their entries and drops files skipped by name. A zip inside the
 * selection is opened (its entries named `zip/entry`); nested zips are not.
 */
export function expandInputs(inputs: readonly InputFile[]): {
  files: InputFile[];
  skipped: SkippedFile[];
  zip: boolean;
} {
  const files: InputFile[] = [];
  const skipped: SkippedFile[] = [];
  let zip = false;
  for (const f of inputs) {
    const why = skipReason(f.name);
    if (why) {
      skipped.push({ name: f.name, reason: why });
      continue;
    }
    if (!isZip(f.bytes)) {
      files.push(f);
      continue;
    }
    zip = true;
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(f.bytes);
    } catch (e) {
      throw new S2SError('MALFORMED_FILE', `the zip archive cannot be read: ${(e as Error).message}`, {
        file: f.name,
        hint: 'check that the download is complete, or unpack it and drop the folder',
      });
    }
    const prefix = inputs.length > 1 ? `${f.name}/` : '';
    for (const name of Object.keys(entries).sort()) {
      if (name.endsWith('/')) continue;
      if (name.startsWith('__MACOSX/')) {
        skipped.push({ name: prefix + name, reason: 'macOS metadata' });
        continue;
      }
      const w = skipReason(name);
      if (w) skipped.push({ name: prefix + name, reason: w });
      else files.push({ name: prefix + name, bytes: entries[name]! });
    }
  }
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { files, skipped, zip };
}

function volumeKind(kind: ContentKind): InputKind {
  return kind === 'nrrd' ? 'nrrd' : kind === 'metaimage' ? 'metaimage' : 'nifti';
}

/**
 * Loads one image from the given files (a DICOM series, one volume file with its data files, or
 * a PNG/TIFF stack), like the CLI does for a folder.
 */
export async function loadFiles(inputs: readonly InputFile[], options: LoadFilesOptions = {}): Promise<LoadedInput> {
  if (inputs.length === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'no files were given', {
      hint: 'drop a DICOM folder, a .zip, a NIfTI / NRRD / MetaImage file or PNG/TIFF slices',
    });
  }
  const { files, skipped, zip } = expandInputs(inputs);
  const container = zip ? 'zip' : 'files';
  const kinds = files.map((f) => contentKind(f.name, f.bytes));
  const pick = (want: readonly ContentKind[]) => files.filter((_, n) => want.includes(kinds[n]!));
  const dicom = pick(['dicom', 'unknown']);
  const images = pick(['png', 'tiff']);
  const headers = pick(VOLUME_KINDS);
  const leftOut = (kept: InputFile[], reason: string) => {
    for (const f of files) if (!kept.includes(f)) skipped.push({ name: f.name, reason });
  };
  const run = { signal: options.signal, onProgress: options.onProgress };
  if (kinds.includes('dicom') || (dicom.length > 0 && images.length === 0 && headers.length === 0)) {
    leftOut(dicom, 'not DICOM (the files are read as one DICOM study)');
    const { loadDicomSeries } = await import('@slice2solid/dicom');
    const result = await loadDicomSeries(dicom, {
      series: options.series,
      geometry: options.rawGeometry ? 'raw' : 'regularize',
      ...run,
    });
    return {
      kind: 'dicom',
      container,
      volume: result.volume,
      fileCount: dicom.length,
      skipped: [...skipped, ...result.report.skippedFiles],
      warnings: result.report.warnings.map((w) => w.message),
      dicom: { report: result.report, series: result.series },
    };
  }
  if (images.length > 0) {
    leftOut(images, 'not a PNG/TIFF slice');
    const volume = await readVolume(images, {
      ...run,
      ...(options.spacing ? { spacing: options.spacing } : { acceptDefaultSpacing: true }),
    });
    return {
      kind: 'image-stack',
      container,
      volume,
      fileCount: images.length,
      skipped,
      warnings: volumeWarnings(volume),
    };
  }
  if (headers.length === 1) {
    const volume = await readVolume(files, run);
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
    throw new S2SError('INVALID_ARGUMENT', `${headers.length} volume files were given, not one series`, {
      hint: `open one of them on its own, e.g. ${headers[0]!.name}`,
    });
  }
  throw new S2SError('NO_SERIES', 'no image files were found', {
    hint:
      skipped.length > 0
        ? `${skipped.length} file(s) were skipped (e.g. ${skipped[0]!.name}: ${skipped[0]!.reason})`
        : 'drop a DICOM folder, a .zip, or an image file',
  });
}

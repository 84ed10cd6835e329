/**
 * Writes a volume to a file whose format is chosen by its extension.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { S2SError, type Volume } from '@slice2solid/core';
import { writeNifti, writeNrrd } from '@slice2solid/io';
import { UsageError } from './commands/types.js';

export const VOLUME_EXTENSIONS = ['.nii.gz', '.nii', '.nrrd', '.mha'] as const;

export type VolumeFormat = 'nifti-gz' | 'nifti' | 'nrrd' | 'metaimage';

export function volumeFormatOf(path: string): VolumeFormat {
  const p = path.toLowerCase();
  if (p.endsWith('.nii.gz')) return 'nifti-gz';
  if (p.endsWith('.nii')) return 'nifti';
  if (p.endsWith('.nrrd')) return 'nrrd';
  if (p.endsWith('.mha')) return 'metaimage';
  throw new UsageError(
    `cannot tell the output format from "${basename(path)}"`,
    `end the output name with one of ${VOLUME_EXTENSIONS.join(', ')}`,
  );
}

export function encodeVolume(volume: Volume, format: VolumeFormat): Uint8Array {
  switch (format) {
    case 'nifti-gz':
      return writeNifti(volume, { gzip: true });
    case 'nifti':
      return writeNifti(volume);
    case 'nrrd':
      return writeNrrd(volume);
    case 'metaimage':
      throw new S2SError('NOT_IMPLEMENTED', 'writing MetaImage (.mha) is not available yet', {
        hint: 'write .nii.gz or .nrrd instead',
      });
  }
}

/** Writes bytes atomically (temp file + rename), creating the folder if needed. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.partial-${process.pid}`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    throw new S2SError(
      'IO_ERROR',
      `cannot write ${basename(path)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      {
        hint: 'check that the folder exists and is writable and that the disk is not full',
        cause: e,
      },
    );
  }
}

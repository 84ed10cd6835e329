/**
 * Writes a volume to a file whose format is chosen by its extension (via @slice2solid/io).
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { S2SError, type Volume } from '@slice2solid/core';
import { WRITABLE_EXTENSIONS, writeVolume } from '@slice2solid/io';
import { UsageError } from './commands/types.js';

/** Throws a UsageError unless `path` ends with an extension we can write. */
export function checkVolumeExtension(path: string): void {
  const p = path.toLowerCase();
  if (!WRITABLE_EXTENSIONS.some((e) => p.endsWith(e))) {
    throw new UsageError(
      `cannot tell the output format from "${basename(path)}"`,
      `end the output name with one of ${WRITABLE_EXTENSIONS.join(', ')}`,
    );
  }
}

export function encodeVolume(volume: Volume, path: string): Uint8Array {
  checkVolumeExtension(path);
  return writeVolume(volume, basename(path));
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

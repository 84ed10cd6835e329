/**
 * Writes a volume to a file whose format is chosen by its extension (via @slice2solid/io).
 */
import { basename } from 'node:path';
import type { Volume } from '@slice2solid/core';
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

export { writeFileAtomic } from './write-atomic.js';

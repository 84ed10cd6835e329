/**
 * Atomic file writes (temp file + rename), with no dependency beyond Node and @slice2solid/core so
 * that commands which only write bytes (anonymize) do not load the format writers of output.ts.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { S2SError } from '@slice2solid/core';

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

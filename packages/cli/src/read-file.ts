/** Reading whole files asynchronously (on libuv's thread pool), into a buffer the caller may supply. */
import { open } from 'node:fs/promises';

/**
 * A file's bytes (its size at open time, as readFileSync reads), into `bufferFor(size)` (a buffer of
 * at least `size` bytes; default a new one); a file that shrank while read gives the bytes read.
 */
export async function readFileBytes(path: string, bufferFor?: (size: number) => Uint8Array): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const out = bufferFor ? bufferFor(size) : new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const { bytesRead } = await fh.read(out, at, size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return at === size && out.length === size ? out : out.subarray(0, at);
  } finally {
    await fh.close();
  }
}

/**
 * File I/O of `slice2solid anonymize` for folders: the copies of the bytes (read and writev, the
 * bulk of the kernel's work) run on libuv's thread pool (the fs callback API), so they overlap
 * with the de-identification on the main thread and with each other; the cheap calls (open,
 * close, rename) are made on the main thread, so a file costs two pool round trips, not seven.
 * No worker thread (a second V8 isolate costs tens of milliseconds to start) and no promise per
 * system call.
 *
 * - `ReadAhead` reads the inputs of a folder a bounded number ahead of the one being
 *   de-identified, into buffers (`BufferPool`) that are reused once their output is written.
 * - `AtomicWriter` writes each output as writeFileAtomic does (temp file, writev of the parts in
 *   order, close, rename; the temp file is removed on failure, so nothing half-written is left),
 *   with a bounded number of files in flight. The first failure is thrown by `room`/`check`/`drain`
 *   as the IO_ERROR a synchronous write would throw.
 */
import { closeSync, openSync, read, renameSync, rmSync, writev } from 'node:fs';
import { basename } from 'node:path';
import { S2SError } from '@slice2solid/core';

export const ANONYMIZE_IO_DEFAULTS = {
  /** Inputs read ahead of the one being de-identified... */
  readAhead: 8,
  /** ...and at most this many bytes of them (but always the next one), for series of big files. */
  readAheadBytes: 64 * 2 ** 20,
  /** Outputs handed to the writer and not yet written (bounds the memory held with readAhead)... */
  writesInFlight: 4,
  /** ...and at most this many bytes of them (but always one). */
  writeBytesInFlight: 64 * 2 ** 20,
  /** Buffers smaller than this are not kept for reuse. */
  minPooledBytes: 65536,
} as const;

/** Buffers for inputs, reused after their output is written (no zero-filling, no garbage). */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  constructor(private readonly keep: number) {}

  /** A view of `size` bytes: a pooled buffer that fits (not more than twice as big), else a new one. */
  acquire(size: number): Uint8Array {
    const k = this.free.findIndex(
      (b) => b.byteLength >= size && b.byteLength <= 2 * size + ANONYMIZE_IO_DEFAULTS.minPooledBytes,
    );
    if (k >= 0) {
      const b = this.free[k]!;
      this.free[k] = this.free[this.free.length - 1]!;
      this.free.pop();
      return new Uint8Array(b, 0, size);
    }
    // allocUnsafeSlow: its own ArrayBuffer, not zero-filled (every byte used is read from the file);
    // rounded up to 64 KiB so that the slightly larger files of a series fit it too
    const unit = ANONYMIZE_IO_DEFAULTS.minPooledBytes;
    const b = Buffer.allocUnsafeSlow(Math.max(unit, Math.ceil(size / unit) * unit));
    return new Uint8Array(b.buffer, b.byteOffset, size);
  }

  /** Gives back the buffer of a view from `acquire` (its bytes must no longer be needed). */
  release(view: Uint8Array): void {
    const b = view.buffer as ArrayBuffer;
    if (b.byteLength >= ANONYMIZE_IO_DEFAULTS.minPooledBytes && this.free.length < this.keep && !this.free.includes(b))
      this.free.push(b);
  }
}

export interface ReadAheadFile {
  readonly path: string;
  /** The size when the folder was listed: the bytes read (fewer if the file shrank since). */
  readonly size: number;
}

type ReadResult = { bytes: Uint8Array } | { error: unknown };

/**
 * Reads files in order, up to `ahead` beyond the last one asked for. `get(i)` must be called for
 * i = 0, 1, 2... in turn; each file's bytes are in a buffer of `pool`.
 */
export class ReadAhead {
  private readonly results: (ReadResult | undefined)[];
  private readonly waiting: (((r: ReadResult) => void) | undefined)[];
  private next = 0;
  private wanted = 0;
  /** Bytes of the files being read or read and not yet handed out. */
  private aheadBytes = 0;
  private stopped = false;

  constructor(
    private readonly files: readonly ReadAheadFile[],
    private readonly pool: BufferPool,
    private readonly ahead: number = ANONYMIZE_IO_DEFAULTS.readAhead,
    private readonly maxBytes: number = ANONYMIZE_IO_DEFAULTS.readAheadBytes,
  ) {
    this.results = new Array(files.length);
    this.waiting = new Array(files.length);
    this.fill();
  }

  private fill(): void {
    while (
      !this.stopped &&
      this.next < this.files.length &&
      this.next < this.wanted + this.ahead &&
      (this.aheadBytes === 0 || this.aheadBytes + this.files[this.next]!.size <= this.maxBytes)
    ) {
      this.aheadBytes += this.files[this.next]!.size;
      this.start(this.next++);
    }
  }

  private start(i: number): void {
    const { path, size } = this.files[i]!;
    const done = (r: ReadResult): void => {
      const w = this.waiting[i];
      if (w) {
        this.waiting[i] = undefined;
        w(r);
      } else this.results[i] = r;
    };
    // open and close here (cheap system calls), the copy of the bytes on the thread pool
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      done({ error });
      return;
    }
    const bytes = this.pool.acquire(size);
    let at = 0;
    const finish = (error: unknown): void => {
      try {
        closeSync(fd);
      } catch (closeError) {
        error ??= closeError;
      }
      if (error) {
        this.pool.release(bytes);
        done({ error });
      } else done({ bytes: at === size ? bytes : bytes.subarray(0, at) });
    };
    const more = (): void => {
      if (at >= size) {
        finish(undefined);
        return;
      }
      read(fd, bytes, at, size - at, at, (e, n) => {
        if (e) return finish(e);
        if (n === 0) return finish(undefined);
        at += n;
        more();
      });
    };
    more();
  }

  /** The bytes of file `i` (throws what reading it threw). */
  async get(i: number): Promise<Uint8Array> {
    this.wanted = i + 1;
    this.fill();
    let r = this.results[i];
    if (r) this.results[i] = undefined;
    else r = await new Promise<ReadResult>((resolve) => (this.waiting[i] = resolve));
    this.aheadBytes -= this.files[i]!.size;
    this.fill();
    if ('error' in r) throw r.error;
    return r.bytes;
  }

  /** Starts no further reads (those in flight complete; their buffers are dropped). */
  stop(): void {
    this.stopped = true;
  }
}

/** The IO_ERROR of a failed write of `path` (as writeFileAtomic throws it). */
export function writeError(path: string, e: unknown): S2SError {
  return new S2SError(
    'IO_ERROR',
    `cannot write ${basename(path)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    {
      hint: 'check that the folder exists and is writable and that the disk is not full',
      cause: e,
    },
  );
}

/** Atomic writes (temp file + rename) of files given as chunks, on the thread pool. */
export class AtomicWriter {
  private inFlight = 0;
  private bytesInFlight = 0;
  private waiting: (() => void)[] = [];
  private failure: S2SError | undefined;

  constructor(
    private readonly limit: number = ANONYMIZE_IO_DEFAULTS.writesInFlight,
    private readonly maxBytes: number = ANONYMIZE_IO_DEFAULTS.writeBytesInFlight,
  ) {}

  /**
   * Queues the file (its folder must exist). The parts must stay unchanged until `written` is
   * called (after the file is written or has failed).
   */
  write(path: string, parts: readonly Uint8Array[], written?: () => void): void {
    this.check();
    const tmp = `${path}.partial-${process.pid}`;
    let bytes = 0;
    for (const p of parts) bytes += p.length;
    const end = (error: unknown, fd?: number): void => {
      if (error !== undefined) {
        if (fd !== undefined) {
          try {
            closeSync(fd);
          } catch {}
        }
        try {
          rmSync(tmp, { force: true });
        } catch {}
        this.failure ??= writeError(path, error);
      }
      this.inFlight--;
      this.bytesInFlight -= bytes;
      written?.();
      const w = this.waiting;
      this.waiting = [];
      for (const f of w) f();
    };
    this.inFlight++;
    this.bytesInFlight += bytes;
    // open, close and rename here (cheap system calls), the copy of the bytes on the thread pool
    let fd: number;
    try {
      fd = openSync(tmp, 'w');
    } catch (e) {
      end(e);
      return;
    }
    let list = parts.filter((p) => p.length > 0);
    const more = (): void => {
      if (list.length === 0) {
        try {
          closeSync(fd);
        } catch (e) {
          end(e);
          return;
        }
        try {
          renameSync(tmp, path);
        } catch (e) {
          end(e);
          return;
        }
        end(undefined);
        return;
      }
      writev(fd, list.slice(0, 1024) as NodeJS.ArrayBufferView[], (e, n) => {
        if (e) return end(e, fd);
        // a short write: drop what was written and go on from there
        let k = 0;
        while (k < list.length && n >= list[k]!.length) n -= list[k++]!.length;
        list = list.slice(k);
        if (n > 0) list[0] = list[0]!.subarray(n);
        more();
      });
    };
    more();
  }

  /** Waits while `limit` files (or `maxBytes`) are in flight; then throws the first failure, if any. */
  async room(): Promise<void> {
    while ((this.inFlight >= this.limit || (this.inFlight > 0 && this.bytesInFlight >= this.maxBytes)) && !this.failure)
      await new Promise<void>((r) => this.waiting.push(r));
    this.check();
  }

  /** Throws the first write failure, if any. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  /** Waits until every queued file is written (or failed), then throws the first failure, if any. */
  async drain(): Promise<void> {
    while (this.inFlight > 0) await new Promise<void>((r) => this.waiting.push(r));
    this.check();
  }
}

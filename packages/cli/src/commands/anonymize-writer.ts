/**
 * A writer thread for `slice2solid anonymize`: the main thread reads and de-identifies file after
 * file while this thread writes the results (temp file + writev + rename, as writeFileAtomic), so
 * the two cores share the work. The input buffers travel to the writer and back (transferred, not
 * copied) and are reused for the next inputs. Files are written in the order given; the first
 * failure is reported by `check`/`drain` as the same IO_ERROR a synchronous write would throw.
 */
import { basename } from 'node:path';
import { Worker } from 'node:worker_threads';
import { S2SError } from '@slice2solid/core';

/** Plain JavaScript (no TypeScript loader needed, from sources or dist alike). */
const WRITER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { dirname } = require('node:path');
const made = new Set();
parentPort.on('message', (m) => {
  const tmp = m.path + '.partial-' + process.pid;
  let error;
  try {
    const dir = dirname(m.path);
    if (!made.has(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    const fd = fs.openSync(tmp, 'w');
    try {
      let list = m.parts.filter((p) => p.length > 0);
      while (list.length > 0) {
        let n = fs.writevSync(fd, list.slice(0, 1024));
        let k = 0;
        while (k < list.length && n >= list[k].length) n -= list[k++].length;
        list = list.slice(k);
        if (n > 0) list[0] = list[0].subarray(n);
      }
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, m.path);
  } catch (e) {
    try { fs.rmSync(tmp, { force: true }); } catch {}
    error = (e && (e.code || e.message)) || String(e);
  }
  const buffers = [...new Set(m.parts.map((p) => p.buffer))];
  parentPort.postMessage({ path: m.path, error, buffers }, buffers);
});
`;

export const ANONYMIZE_WRITER_DEFAULTS = {
  /** Files handed to the writer and not yet written (bounds the memory held: ~this many inputs). */
  inFlight: 12,
} as const;

export class PartsWriter {
  private readonly worker: Worker;
  private inFlight = 0;
  private waiting: (() => void)[] = [];
  private failure: S2SError | undefined;
  private readonly free: ArrayBuffer[] = [];
  private workerGone = false;
  private closed = false;

  constructor(private readonly limit: number = ANONYMIZE_WRITER_DEFAULTS.inFlight) {
    this.worker = new Worker(WRITER_SOURCE, { eval: true });
    this.worker.on('message', (m: { path: string; error?: string; buffers: ArrayBuffer[] }) => {
      this.inFlight--;
      if (m.error !== undefined) this.fail(m.path, m.error);
      for (const b of m.buffers) if (b.byteLength >= 65536 && this.free.length < this.limit + 2) this.free.push(b);
      this.wake();
    });
    this.worker.on('error', (e) => {
      this.fail('', e.message);
      this.workerGone = true;
      this.wake();
    });
  }

  private fail(path: string, code: string): void {
    this.failure ??= new S2SError('IO_ERROR', `cannot write ${basename(path)}: ${code}`, {
      hint: 'check that the folder exists and is writable and that the disk is not full',
    });
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f();
  }

  /** A buffer of `size` bytes for the next input: one the writer gave back when it fits, else a new one. */
  acquire(size: number): Uint8Array {
    const k = this.free.findIndex((b) => b.byteLength >= size && b.byteLength <= 2 * size + 65536);
    if (k < 0) return new Uint8Array(new ArrayBuffer(Math.max(size, 65536)), 0, size);
    const [b] = this.free.splice(k, 1);
    return new Uint8Array(b!, 0, size);
  }

  /** Gives back a buffer from `acquire` that was not handed over with a file. */
  release(input: Uint8Array): void {
    const b = input.buffer as ArrayBuffer;
    if (b.byteLength >= 65536 && this.free.length < this.limit + 2 && !this.free.includes(b)) this.free.push(b);
  }

  /**
   * Queues the file; `input` (from `acquire`) is handed over with it: views of it among the parts
   * travel without a copy, every other part is copied. Neither may be used afterwards.
   */
  async write(path: string, parts: readonly Uint8Array[], input: Uint8Array | undefined): Promise<void> {
    this.check();
    const own = input?.buffer;
    const send = parts.map((p) => (own !== undefined && p.buffer === own ? p : p.slice()));
    const transfer = [...new Set(send.map((p) => p.buffer as ArrayBuffer))];
    this.inFlight++;
    this.worker.postMessage({ path, parts: send }, transfer);
    while (this.inFlight >= this.limit && !this.failure && !this.workerGone)
      await new Promise<void>((r) => this.waiting.push(r));
    this.check();
  }

  /** Throws the first write failure, if any. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  /** Waits until every queued file is written (or failed). */
  async drain(): Promise<void> {
    while (this.inFlight > 0 && !this.workerGone) await new Promise<void>((r) => this.waiting.push(r));
  }

  /** Drains, stops the thread, then throws the first failure, if any (once: later calls do nothing). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.drain();
    } finally {
      this.workerGone = true;
      await this.worker.terminate();
    }
    this.check();
  }
}

/**
 * Page side of the protocol: one worker, calls as promises with progress, and cancel.
 *
 * Cancel terminates the worker: the operations are synchronous loops, so a message could not
 * reach them while they run; terminating stops them at once and frees their memory. The next call
 * starts a fresh worker (`onRestart` lets the owner send it its state again).
 */
import type { Progress } from '@slice2solid/core';
import type { ErrorInfo, Reply } from './protocol.js';

export class TaskError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = 'TaskError';
    this.code = info.code;
    this.hint = info.hint;
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  onProgress: ((p: Progress) => void) | undefined;
}

export class TaskWorker {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Bumped on every (re)start: owners compare it to know whether the worker still has their state. */
  generation = 0;

  constructor(private readonly create: () => Worker) {}

  /** A worker is running (it keeps what was sent to it until cancelled or disposed). */
  get alive(): boolean {
    return this.worker !== undefined;
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = this.create();
    this.generation++;
    w.onmessage = (e: MessageEvent<Reply>) => {
      const r = e.data;
      const p = this.pending.get(r.id);
      if (!p) return;
      if (r.type === 'progress') p.onProgress?.(r.progress);
      else {
        this.pending.delete(r.id);
        if (r.type === 'done') p.resolve(r.result);
        else p.reject(new TaskError(r.error));
      }
    };
    w.onerror = (e) => {
      e.preventDefault();
      this.fail({ code: 'WORKER_FAILED', message: `a background task failed: ${e.message || 'unknown error'}` });
    };
    this.worker = w;
    return w;
  }

  private fail(info: ErrorInfo): void {
    this.worker?.terminate();
    this.worker = undefined;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(new TaskError(info));
  }

  call<T>(op: string, payload: unknown, transfer: Transferable[] = [], onProgress?: (p: Progress) => void): Promise<T> {
    const w = this.ensure();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress });
      w.postMessage({ id, op, payload }, transfer);
    });
  }

  /** Stops whatever runs now (the pending calls reject with code ABORTED). */
  cancel(): void {
    this.fail({ code: 'ABORTED', message: 'cancelled' });
  }

  /** Frees the worker and whatever it holds. */
  dispose(): void {
    this.cancel();
  }
}

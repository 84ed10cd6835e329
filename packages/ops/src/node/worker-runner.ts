/// <reference types="node" />
/**
 * A ParallelRunner on Node worker threads sharing memory (SharedArrayBuffer): the calling
 * thread posts the task to every worker, works on ranges itself, then blocks with Atomics.wait
 * until the workers are done. Ranges are taken from a shared counter, so a busy core slows
 * nobody down more than it must, and the result does not depend on who ran which range.
 *
 *   const parallel = await createWorkerRunner();            // os.availableParallelism() threads
 *   const smooth = gaussian(volume, { sigmaMm: 1, parallel });
 *   await parallel.close();
 *
 * Workers run the compiled module (dist/node/worker.js). From TypeScript sources (tests, tsx)
 * the worker is started on worker.ts with tsx's loader and the 'source' export condition.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { S2SError } from '@slice2solid/core';
import type { KernelName } from '../parallel/kernels.js';
import type { ParallelRunner, SlabRange } from '../parallel/runner.js';
import { recordFailure, type WorkerTask, workOn } from './worker.js';

export interface WorkerRunnerOptions {
  /** Threads working at once, this one included (default: os.availableParallelism()). 1 starts no worker. */
  readonly threads?: number;
  /** Node options of the workers (default: tsx's loader and the 'source' condition when running from .ts sources, else none). */
  readonly execArgv?: readonly string[];
  /** Longest wait for the workers to start, in ms. */
  readonly startTimeoutMs?: number;
}

export const WORKER_RUNNER_DEFAULTS = { startTimeoutMs: 30_000 } as const satisfies WorkerRunnerOptions;

export interface WorkerRunner extends ParallelRunner {
  /** Stops the workers (the runner cannot be used afterwards). */
  close(): Promise<void>;
}

const MESSAGE_BYTES = 2048;

/** Starts threads - 1 workers and resolves once every one is ready. */
export async function createWorkerRunner(options: WorkerRunnerOptions = {}): Promise<WorkerRunner> {
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new S2SError('INVALID_ARGUMENT', `threads must be a whole number from 1 to 256, got ${threads}`, {
      hint: 'leave it out to use every core',
    });
  }
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(fromSource ? './worker.ts' : './worker.js', import.meta.url);
  // From sources, the worker registers tsx's loader first, then imports worker.ts (a worker's
  // entry module is loaded before --import hooks apply, so `--import tsx` alone fails on .ts).
  const entry: URL | string = fromSource
    ? `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`
    : url;
  const execArgv = options.execArgv ?? (fromSource ? ['--conditions=source'] : []);
  const timeout = options.startTimeoutMs ?? WORKER_RUNNER_DEFAULTS.startTimeoutMs;
  const workers: Worker[] = [];
  try {
    for (let w = 0; w < threads - 1; w++)
      workers.push(new Worker(entry, { eval: fromSource, execArgv: [...execArgv] }));
    await Promise.all(workers.map((worker) => whenReady(worker, timeout)));
  } catch (cause) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw new S2SError('IO_ERROR', `could not start the worker threads of the parallel runner: ${String(cause)}`, {
      hint: 'run without the parallel option, or check that @slice2solid/ops is built (dist/node/worker.js)',
      cause,
    });
  }
  for (const w of workers) w.unref();
  let closed = false;
  return {
    threads,
    shared: true,
    runSlabs(kernel: KernelName, args: object, ranges: readonly SlabRange[]): void {
      if (closed)
        throw new S2SError('INVALID_ARGUMENT', 'this parallel runner was closed', { hint: 'create a new one' });
      const control = new Int32Array(new SharedArrayBuffer(16));
      const message = new Uint8Array(new SharedArrayBuffer(MESSAGE_BYTES));
      const task: WorkerTask = { kernel, args, ranges, control, message };
      // only as many workers as there are ranges beyond the one this thread takes first
      const helpers = Math.min(workers.length, Math.max(0, ranges.length - 1));
      for (let w = 0; w < helpers; w++) workers[w]!.postMessage(task);
      try {
        workOn(task);
      } catch (error) {
        recordFailure(task, error);
      }
      for (;;) {
        const done = Atomics.load(control, 1);
        if (done >= helpers) break;
        Atomics.wait(control, 1, done);
      }
      if (Atomics.load(control, 2) !== 0) {
        const text = new TextDecoder().decode(message.slice(0, Atomics.load(control, 3)));
        throw new S2SError('INVALID_ARGUMENT', `parallel kernel '${kernel}' failed: ${text}`, {
          hint: 'run without the parallel option to see the failure on this thread',
        });
      }
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

function whenReady(worker: Worker, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`a worker did not start within ${timeoutMs} ms`)), timeoutMs);
    worker.once('message', (m) => {
      clearTimeout(timer);
      if (m === 'ready') resolve();
      else reject(new Error(`unexpected first message from a worker: ${String(m)}`));
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`a worker exited with code ${code} before it was ready`));
    });
  });
}

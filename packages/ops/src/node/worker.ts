/// <reference types="node" />
// Entry of a worker thread of the Node ParallelRunner (see worker-runner.ts). It waits for
// tasks, runs its share of the ranges (taking the next one from a shared counter) and reports
// through the shared control block, so the thread that called runSlabs can block on it.
import { parentPort } from 'node:worker_threads';
import { kernelFunction } from '../parallel/runner.js';

export interface WorkerTask {
  readonly kernel: string;
  readonly args: object;
  readonly ranges: readonly (readonly [number, number])[];
  /** [next range, workers done, failed flag, message length], then the message bytes. */
  readonly control: Int32Array;
  readonly message: Uint8Array;
}

/** Runs ranges from the shared counter until none is left (also used by the calling thread). */
export function workOn(task: WorkerTask): void {
  const { control, ranges } = task;
  const fn = kernelFunction(task.kernel);
  for (;;) {
    const q = Atomics.add(control, 0, 1);
    if (q >= ranges.length || Atomics.load(control, 2) !== 0) return;
    const [s, e] = ranges[q]!;
    fn(task.args, s, e);
  }
}

/** Records the first failure in the control block (message as UTF-8, cut to fit). */
export function recordFailure(task: WorkerTask, error: unknown): void {
  if (Atomics.compareExchange(task.control, 2, 0, 1) !== 0) return;
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const bytes = new TextEncoder().encode(text).subarray(0, task.message.length);
  task.message.set(bytes);
  Atomics.store(task.control, 3, bytes.length);
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (task: WorkerTask) => {
    try {
      workOn(task);
    } catch (error) {
      recordFailure(task, error);
    } finally {
      Atomics.add(task.control, 1, 1);
      Atomics.notify(task.control, 1);
    }
  });
  port.postMessage('ready');
}

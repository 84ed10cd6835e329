/**
 * Slab parallelism for the ops, independent of the platform.
 *
 * An operation that splits cleanly into independent slabs (ranges of slices or rows) names a
 * registered kernel (see kernels.ts) and hands the runner its arguments and the list of index
 * ranges; the runner calls `kernel(args, start, end)` once per range, on any of its threads
 * and in any order, and returns when every range is done. Kernels write disjoint parts of
 * their output, so the result is bit-identical whatever the number of threads or the order.
 *
 * `runSlabs` is synchronous (the ops are synchronous): the Node runner of
 * `@slice2solid/ops/node` blocks the calling thread with Atomics.wait while its worker threads
 * work. Browsers forbid Atomics.wait on their main thread, so a browser runner has to be used
 * from a worker. Typed arrays passed to a runner whose `shared` is true must live on a
 * SharedArrayBuffer (use `allocFloat32` and friends); other arguments are copied to the workers.
 */
import { S2SError } from '@slice2solid/core';
import { KERNELS, type KernelName } from './kernels.js';

/** [start, end) of one slab. */
export type SlabRange = readonly [number, number];

export interface ParallelRunner {
  /** Threads working at once, the calling thread included (1: no parallelism). */
  readonly threads: number;
  /** True when typed arrays in kernel arguments must be backed by a SharedArrayBuffer. */
  readonly shared: boolean;
  /** Runs KERNELS[kernel](args, start, end) for every range; returns when all are done, rethrows the first failure. */
  runSlabs(kernel: KernelName, args: object, ranges: readonly SlabRange[]): void;
}

/** Options of the ops that can use a ParallelRunner. */
export interface ParallelOptions {
  /** Splits the work over threads (e.g. createWorkerRunner() of '@slice2solid/ops/node'); results are identical without it. */
  readonly parallel?: ParallelRunner;
}

/** Runs every range on the calling thread (the default; also a reference for runner tests). */
export const serialRunner: ParallelRunner = {
  threads: 1,
  shared: false,
  runSlabs(kernel, args, ranges) {
    const fn = kernelFunction(kernel);
    for (const [s, e] of ranges) fn(args, s, e);
  },
};

/** The registered kernel function of a name (throws an S2SError for an unknown name). */
export function kernelFunction(kernel: string): (args: object, start: number, end: number) => void {
  const fn = (KERNELS as Record<string, ((args: never, start: number, end: number) => void) | undefined>)[kernel];
  if (!fn) {
    throw new S2SError('INVALID_ARGUMENT', `no parallel kernel is registered under the name '${kernel}'`, {
      hint: `known kernels: ${Object.keys(KERNELS).join(', ')}`,
    });
  }
  return fn as (args: object, start: number, end: number) => void;
}

/**
 * Splits [0, n) into contiguous ranges for `runner`: one range when there is no runner (or one
 * thread), otherwise about `perThread` ranges per thread (more ranges than threads balance the
 * load when a core is busy with something else), none shorter than `minSize`.
 */
export function splitRange(n: number, runner: ParallelRunner | undefined, perThread = 4, minSize = 1): SlabRange[] {
  if (n <= 0) return [];
  const threads = runner?.threads ?? 1;
  const parts = threads <= 1 ? 1 : Math.max(1, Math.min(threads * perThread, Math.floor(n / Math.max(1, minSize))));
  const ranges: SlabRange[] = [];
  for (let q = 0; q < parts; q++) {
    const s = Math.floor((q * n) / parts);
    const e = Math.floor(((q + 1) * n) / parts);
    if (e > s) ranges.push([s, e]);
  }
  return ranges;
}

/** True when work should go through the runner (more than one thread). */
export function useRunner(runner: ParallelRunner | undefined): runner is ParallelRunner {
  return runner !== undefined && runner.threads > 1;
}

function sharedBuffer(bytes: number, runner: ParallelRunner | undefined): ArrayBuffer {
  if (runner?.shared && runner.threads > 1) {
    if (typeof SharedArrayBuffer === 'undefined') {
      throw new S2SError(
        'NOT_IMPLEMENTED',
        'this runtime has no SharedArrayBuffer, so work cannot be shared between threads',
        {
          hint: 'run without the parallel option (in a browser, serve the page cross-origin isolated)',
        },
      );
    }
    return new SharedArrayBuffer(bytes) as unknown as ArrayBuffer;
  }
  return new ArrayBuffer(bytes);
}

/** A zeroed Float32Array that the runner's threads can all see (a plain one without a runner). */
export function allocFloat32(n: number, runner: ParallelRunner | undefined): Float32Array {
  return new Float32Array(sharedBuffer(n * 4, runner));
}

/** A zeroed Uint8Array that the runner's threads can all see (a plain one without a runner). */
export function allocUint8(n: number, runner: ParallelRunner | undefined): Uint8Array {
  return new Uint8Array(sharedBuffer(n, runner));
}

/** A zeroed Int32Array that the runner's threads can all see (a plain one without a runner). */
export function allocInt32(n: number, runner: ParallelRunner | undefined): Int32Array {
  return new Int32Array(sharedBuffer(n * 4, runner));
}

/** True when `a` can be handed to the runner's threads as it is. */
export function isShareable(a: ArrayBufferView, runner: ParallelRunner | undefined): boolean {
  if (!runner?.shared || runner.threads <= 1) return true;
  return typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
}

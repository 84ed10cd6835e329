import { S2SError } from './errors.js';

/** Progress of a long operation: `done` out of `total` units of `stage`. */
export interface Progress {
  readonly stage: string;
  readonly done: number;
  readonly total: number;
}

/** The part of the standard AbortSignal we use (the core has no DOM or Node typings). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
}

/** Options every long-running operation accepts. */
export interface RunOptions {
  readonly signal?: AbortSignalLike | undefined;
  readonly onProgress?: ((p: Progress) => void) | undefined;
}

/** Throws ABORTED if the signal has fired. Call it between chunks of work. */
export function throwIfAborted(signal: AbortSignalLike | undefined): void {
  if (signal?.aborted) {
    throw new S2SError('ABORTED', 'the operation was cancelled', { cause: signal.reason });
  }
}

/** Reports progress at most every `every` units (and always at the end). */
export function progressReporter(
  stage: string,
  total: number,
  options: RunOptions,
  every = Math.max(1, Math.floor(total / 100)),
): (done: number) => void {
  const on = options.onProgress;
  if (!on) return () => throwIfAborted(options.signal);
  let last = -every;
  return (done: number) => {
    throwIfAborted(options.signal);
    if (done - last >= every || done >= total) {
      last = done;
      on({ stage, done, total });
    }
  };
}

/**
 * The inference backend interface: the one seam between slice2solid's AI code and a neural
 * network runtime. `packages/ai` never imports a runtime itself; callers pass a backend:
 * `onnxRuntimeNodeBackend()` from `@slice2solid/ai/node` in Node (CPU, or CUDA where the
 * provider is installed), an onnxruntime-web backend in the browser (WebGPU, then WebAssembly).
 *
 * Tensors are dense float32 arrays in row-major (C) order with their dims, exactly as ONNX
 * expects. A 3D image patch with C channels is [N, C, D, H, W] = [batch, channel, k, j, i]:
 * because a slice2solid Volume stores i fastest, then j, then k, one channel of a volume is
 * already a valid [D, H, W] block with no transposition.
 */
import { S2SError } from '@slice2solid/core';

/** A dense float32 tensor in row-major order. */
export interface Float32Tensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface SessionOptions {
  /** Execution providers in order of preference, e.g. ['cuda', 'cpu']; backend-specific names. */
  readonly executionProviders?: readonly string[];
  /** Threads used inside one operator (0 or undefined: the runtime's default). */
  readonly intraOpNumThreads?: number;
}

/** A loaded model. */
export interface InferenceSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The execution provider the session runs on ('cpu', 'cuda', 'webgpu', 'wasm'...), where known. */
  readonly executionProvider?: string;
  /** Runs the model on named float32 inputs; resolves to the requested (default: all) outputs. */
  run(
    feeds: Readonly<Record<string, Float32Tensor>>,
    outputNames?: readonly string[],
  ): Promise<Record<string, Float32Tensor>>;
  /** Frees the native resources; the session cannot be used afterwards. */
  dispose(): Promise<void>;
}

/** Creates sessions from ONNX model bytes. */
export interface InferenceBackend {
  /** e.g. 'onnxruntime-node'. */
  readonly name: string;
  createSession(model: Uint8Array, options?: SessionOptions): Promise<InferenceSessionLike>;
}

/** Number of elements a tensor of these dims holds; throws on a bad shape. */
export function tensorSize(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) {
      throw new S2SError('INVALID_ARGUMENT', `tensor dims must be non-negative integers, got [${dims.join(', ')}]`);
    }
    n *= d;
  }
  return n;
}

/** Makes a tensor, checking that the data length matches the dims. */
export function makeTensor(data: Float32Array, dims: readonly number[]): Float32Tensor {
  const n = tensorSize(dims);
  if (data.length !== n) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `tensor data has ${data.length} values but dims [${dims.join(', ')}] need ${n}`,
      { hint: 'the data must be a dense row-major array of the given shape' },
    );
  }
  return { data, dims: [...dims] };
}

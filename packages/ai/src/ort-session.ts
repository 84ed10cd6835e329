/**
 * The one `InferenceSessionLike` over an ONNX Runtime session, shared by the Node
 * (onnxruntime-node) and browser (onnxruntime-web) backends: both runtimes have the same
 * onnxruntime-common session and tensor API, so feeds, output checks, errors and disposal are
 * written once. Structural types keep this file free of either runtime's import.
 */
import { S2SError } from '@slice2solid/core';
import { type Float32Tensor, type InferenceSessionLike, makeTensor } from './backend.js';

/** What we use of an onnxruntime-common tensor. */
interface OrtTensorLike {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
  readonly location?: string;
  getData?(releaseData?: boolean): Promise<unknown>;
}

/** What we use of an onnxruntime-common InferenceSession. */
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  // biome-ignore lint/suspicious/noExplicitAny: each runtime types its own feeds and results
  run(feeds: any, fetches: string[]): Promise<any>;
  release(): Promise<void>;
}

/** A message of at most 300 characters from anything thrown. */
export function errorText(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}

/**
 * Wraps `session`; `float32Tensor` makes the runtime's tensor (`new ort.Tensor('float32', data, dims)`),
 * `runtime` names it in errors. Outputs kept on a GPU are read back (and their buffer released).
 */
export function wrapOrtSession(
  session: OrtSessionLike,
  provider: string,
  float32Tensor: (data: Float32Array, dims: number[]) => unknown,
  runtime: string,
): InferenceSessionLike {
  let disposed = false;
  return {
    executionProvider: provider,
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    async run(feeds, outputNames) {
      if (disposed) throw new S2SError('INVALID_ARGUMENT', 'the inference session was disposed');
      const ortFeeds: Record<string, unknown> = {};
      for (const [name, t] of Object.entries(feeds)) {
        if (!session.inputNames.includes(name)) {
          throw new S2SError('INVALID_ARGUMENT', `the model has no input "${name}"`, {
            hint: `its inputs are: ${session.inputNames.join(', ')}`,
          });
        }
        const checked = makeTensor(t.data, t.dims);
        ortFeeds[name] = float32Tensor(checked.data, [...checked.dims]);
      }
      const wanted = outputNames ? [...outputNames] : [...session.outputNames];
      for (const name of wanted) {
        if (!session.outputNames.includes(name)) {
          throw new S2SError('INVALID_ARGUMENT', `the model has no output "${name}"`, {
            hint: `its outputs are: ${session.outputNames.join(', ')}`,
          });
        }
      }
      let results: Record<string, OrtTensorLike | undefined>;
      try {
        results = await session.run(ortFeeds, wanted);
      } catch (cause) {
        throw new S2SError('INVALID_ARGUMENT', `${runtime} failed to run the model: ${errorText(cause)}`, {
          hint: 'check the input shape (batch, channels, k, j, i) against the model card',
          cause,
        });
      }
      const out: Record<string, Float32Tensor> = {};
      for (const name of wanted) {
        const v = results[name];
        if (v?.type !== 'float32') {
          throw new S2SError('INVALID_ARGUMENT', `model output "${name}" is not a float32 tensor (${v?.type})`, {
            hint: 'export the model with float32 outputs',
          });
        }
        const data = v.location === undefined || v.location === 'cpu' ? v.data : await v.getData?.(true);
        if (!(data instanceof Float32Array)) {
          throw new S2SError('INVALID_ARGUMENT', `model output "${name}" has no float32 data`, {
            hint: 'export the model with float32 outputs',
          });
        }
        out[name] = { data, dims: [...v.dims] };
      }
      return out;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.release();
    },
  };
}

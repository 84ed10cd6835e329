/**
 * The Node inference backend over onnxruntime-node (CPU; the CUDA provider where it is
 * installed). The runtime is loaded lazily, on the first session, so importing this module
 * costs nothing and a missing native library becomes a clear S2SError, not a crash at import.
 */
import { S2SError } from '@slice2solid/core';
import type * as Ort from 'onnxruntime-node';
import type { InferenceBackend, InferenceSessionLike, SessionOptions } from '../backend.js';
import { errorText, wrapOrtSession } from '../ort-session.js';

export interface OnnxRuntimeNodeOptions extends SessionOptions {}

export const ONNX_RUNTIME_NODE_DEFAULTS = {
  executionProviders: ['cpu'],
  intraOpNumThreads: 0,
} as const satisfies OnnxRuntimeNodeOptions;

type OrtModule = typeof Ort;
let ortPromise: Promise<OrtModule> | undefined;

async function loadOrt(): Promise<OrtModule> {
  ortPromise ??= import('onnxruntime-node')
    .then((m) => ((m as unknown as { default?: OrtModule }).default ?? m) as OrtModule)
    .catch((cause: unknown) => {
      ortPromise = undefined;
      throw new S2SError('NOT_IMPLEMENTED', 'onnxruntime-node could not be loaded', {
        hint: 'install it with `npm install onnxruntime-node` (set ONNXRUNTIME_NODE_INSTALL=skip for CPU only)',
        cause,
      });
    });
  return ortPromise;
}

/** The ONNX Runtime version that will be used (loads the runtime). */
export async function onnxRuntimeNodeVersion(): Promise<string> {
  const ort = await loadOrt();
  return ort.env.versions.node ?? ort.env.versions.common ?? 'unknown';
}

/** An InferenceBackend over onnxruntime-node; `defaults` apply to every session it creates. */
export function onnxRuntimeNodeBackend(defaults: OnnxRuntimeNodeOptions = {}): InferenceBackend {
  return {
    name: 'onnxruntime-node',
    async createSession(model: Uint8Array, options: SessionOptions = {}): Promise<InferenceSessionLike> {
      if (!(model instanceof Uint8Array) || model.length === 0) {
        throw new S2SError('INVALID_ARGUMENT', 'the ONNX model is empty', { hint: 'pass the bytes of a .onnx file' });
      }
      const ort = await loadOrt();
      const eps =
        options.executionProviders ?? defaults.executionProviders ?? ONNX_RUNTIME_NODE_DEFAULTS.executionProviders;
      const threads =
        options.intraOpNumThreads ?? defaults.intraOpNumThreads ?? ONNX_RUNTIME_NODE_DEFAULTS.intraOpNumThreads;
      if (eps.length === 0) {
        throw new S2SError('INVALID_ARGUMENT', 'no execution provider was given', { hint: "e.g. ['cpu']" });
      }
      // Providers are tried in order: one whose libraries are missing (e.g. CUDA without its
      // provider files) is dropped and the next is tried; the session says which one it got.
      let remaining = [...eps];
      let lastProviderError: unknown;
      while (remaining.length > 0) {
        try {
          const session = await ort.InferenceSession.create(model, {
            executionProviders: remaining,
            ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
            graphOptimizationLevel: 'all',
          });
          return wrapOrtSession(
            session,
            remaining[0]!,
            (data, dims) => new ort.Tensor('float32', data, dims),
            'ONNX Runtime',
          );
        } catch (cause) {
          if (!/ExecutionProvider|provider/i.test(errorText(cause))) {
            throw new S2SError('MALFORMED_FILE', `ONNX Runtime could not load the model: ${errorText(cause)}`, {
              hint: 'check that the file is a valid ONNX model for an opset this runtime supports',
              cause,
            });
          }
          lastProviderError = cause;
          remaining = remaining.slice(1);
        }
      }
      throw new S2SError(
        'NOT_IMPLEMENTED',
        `none of the execution providers [${eps.join(', ')}] could be started: ${errorText(lastProviderError)}`,
        {
          hint: "add 'cpu' as the last provider; for CUDA, install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 on a machine with CUDA 12",
          cause: lastProviderError,
        },
      );
    },
  };
}

/**
 * The browser inference backend over onnxruntime-web: WebGPU first, then WebAssembly (the
 * session's `executionProvider` says which one runs). The runtime is loaded lazily, on the first
 * session, so importing this module costs nothing.
 *
 * Nothing is downloaded from outside the app: onnxruntime-web's WebAssembly files must be served
 * from the app's own origin. With Vite, either import them as assets:
 *
 * ```ts
 * import wasm from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
 * import mjs from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url';
 * onnxRuntimeWebBackend({ wasmPaths: { wasm, mjs } });
 * ```
 *
 * or copy `node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded*.{wasm,mjs}` into the app's
 * `public/ort/` folder at build time and pass `wasmPaths: '/ort/'`. (The `.jsep` pair is the one
 * the default `onnxruntime-web` import loads; `onnxruntime-web/webgpu` loads `.asyncify`,
 * `onnxruntime-web/wasm` the plain one.) A `wasmPaths` on another origin is refused. In Node (tests, benchmarks) onnxruntime-web resolves to its Node build,
 * which runs the WebAssembly provider only; point `wasmPaths` at the installed package's `dist/`.
 *
 * `wasmPaths` and `numThreads` are global ONNX Runtime settings (`ort.env.wasm`): they take
 * effect for the first session only, as the WebAssembly module is initialised once per page.
 * Multi-threading needs a cross-origin isolated page (COOP/COEP headers, SharedArrayBuffer).
 */
import { S2SError } from '@slice2solid/core';
import type * as Ort from 'onnxruntime-web';
import type { InferenceBackend, InferenceSessionLike, SessionOptions } from '../backend.js';
import { errorText, wrapOrtSession } from '../ort-session.js';

/** Where onnxruntime-web finds its `.wasm`/`.mjs` files: a folder URL or the two file URLs. */
export type OrtWasmPaths = string | { readonly wasm?: string; readonly mjs?: string };

export interface OnnxRuntimeWebOptions extends SessionOptions {
  /** 'webgpu' and 'wasm' (also 'webgl', 'webnn' where the ort build has them), tried in order. */
  readonly executionProviders?: readonly string[];
  /** Same-origin location of onnxruntime-web's WebAssembly files (see the module comment). */
  readonly wasmPaths?: OrtWasmPaths;
  /** WebAssembly threads (0: ONNX Runtime's default; 1: single-threaded, no SharedArrayBuffer). */
  readonly numThreads?: number;
  /**
   * An already imported onnxruntime-web module, e.g. `await import('onnxruntime-web/webgpu')`,
   * for apps that pick a smaller build; default: `import('onnxruntime-web')`.
   */
  readonly ort?: unknown;
}

export const ONNX_RUNTIME_WEB_DEFAULTS = {
  executionProviders: ['webgpu', 'wasm'],
  numThreads: 0,
} as const satisfies OnnxRuntimeWebOptions;

type OrtModule = typeof Ort;
let ortPromise: Promise<OrtModule> | undefined;

async function loadOrt(injected: unknown): Promise<OrtModule> {
  if (injected !== undefined) {
    const m = ((injected as { default?: OrtModule }).default ?? injected) as OrtModule;
    if (typeof m?.InferenceSession?.create !== 'function' || typeof m.env !== 'object') {
      throw new S2SError('INVALID_ARGUMENT', 'the `ort` option is not an onnxruntime-web module', {
        hint: "pass the module itself, e.g. `ort: await import('onnxruntime-web')`",
      });
    }
    return m;
  }
  ortPromise ??= import('onnxruntime-web')
    .then((m) => ((m as unknown as { default?: OrtModule }).default ?? m) as OrtModule)
    .catch((cause: unknown) => {
      ortPromise = undefined;
      throw new S2SError('NOT_IMPLEMENTED', 'onnxruntime-web could not be loaded', {
        hint: 'install it with `npm install onnxruntime-web` and let the bundler include it',
        cause,
      });
    });
  return ortPromise;
}

/** Refuses wasm locations on another origin (or a CDN): the runtime must come with the app. */
function checkWasmPaths(paths: OrtWasmPaths): void {
  const urls = typeof paths === 'string' ? [paths] : [paths.wasm, paths.mjs].filter((u) => u !== undefined);
  const here = (globalThis as { location?: { origin?: string } }).location?.origin;
  for (const u of urls) {
    if (typeof u !== 'string' || u.length === 0) {
      throw new S2SError('INVALID_ARGUMENT', 'wasmPaths must be a folder URL or { wasm, mjs } file URLs', {
        hint: "e.g. '/ort/' after copying node_modules/onnxruntime-web/dist/*.wasm there",
      });
    }
    const m = /^([a-z][a-z0-9+.-]*):\/\/[^/]*/i.exec(u);
    if (!m || m[1]!.toLowerCase() === 'file') continue; // relative path, or a local file (Node)
    if (here === undefined || m[0].toLowerCase() !== here.toLowerCase()) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `wasmPaths "${u}" is not on this app's origin${here ? ` (${here})` : ''}; slice2solid never downloads a runtime`,
        {
          hint: 'serve onnxruntime-web/dist/*.wasm from the app itself (Vite `?url` imports or a public/ folder)',
        },
      );
    }
  }
}

/** Whether this environment exposes WebGPU at all (a browser with navigator.gpu). */
export function webGpuAvailable(): boolean {
  return (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu !== undefined;
}

/** An InferenceBackend over onnxruntime-web; `defaults` apply to every session it creates. */
export function onnxRuntimeWebBackend(defaults: OnnxRuntimeWebOptions = {}): InferenceBackend {
  if (defaults.wasmPaths !== undefined) checkWasmPaths(defaults.wasmPaths);
  const numThreads = defaults.numThreads ?? ONNX_RUNTIME_WEB_DEFAULTS.numThreads;
  if (!Number.isInteger(numThreads) || numThreads < 0) {
    throw new S2SError('INVALID_ARGUMENT', `numThreads must be a non-negative integer, got ${numThreads}`, {
      hint: '0 lets ONNX Runtime choose; 1 runs without worker threads',
    });
  }
  return {
    name: 'onnxruntime-web',
    async createSession(model: Uint8Array, options: SessionOptions = {}): Promise<InferenceSessionLike> {
      if (!(model instanceof Uint8Array) || model.length === 0) {
        throw new S2SError('INVALID_ARGUMENT', 'the ONNX model is empty', { hint: 'pass the bytes of a .onnx file' });
      }
      const ort = await loadOrt(defaults.ort);
      if (defaults.wasmPaths !== undefined) {
        ort.env.wasm.wasmPaths = defaults.wasmPaths as Ort.Env.WasmPrefixOrFilePaths;
      }
      if (numThreads > 0) ort.env.wasm.numThreads = numThreads;
      const eps =
        options.executionProviders ?? defaults.executionProviders ?? ONNX_RUNTIME_WEB_DEFAULTS.executionProviders;
      if (eps.length === 0) {
        throw new S2SError('INVALID_ARGUMENT', 'no execution provider was given', { hint: "e.g. ['webgpu', 'wasm']" });
      }
      // One provider at a time, so that the session knows which one it got: a provider that
      // cannot start here (no navigator.gpu, a build without it) is skipped for the next one.
      const skipped: string[] = [];
      let lastCause: unknown;
      for (const ep of eps) {
        if (ep === 'webgpu' && !webGpuAvailable()) {
          skipped.push('webgpu: this environment has no WebGPU (navigator.gpu)');
          continue;
        }
        try {
          // ORT web may transfer or detach the buffer it is given: hand it a copy.
          const session = await ort.InferenceSession.create(model.slice(), {
            executionProviders: [ep as 'wasm'],
            graphOptimizationLevel: 'all',
          });
          return wrapOrtSession(session, ep, (data, dims) => new ort.Tensor('float32', data, dims), 'ONNX Runtime Web');
        } catch (cause) {
          const text = errorText(cause);
          // "no available backend found": this provider could not start here; try the next one.
          // Anything else is the runtime refusing the model itself.
          if (!/no available backend|backend not found/i.test(text)) {
            throw new S2SError('MALFORMED_FILE', `ONNX Runtime Web could not load the model (${ep}): ${text}`, {
              hint: 'check that the file is a valid ONNX model for an opset this runtime supports',
              cause,
            });
          }
          skipped.push(`${ep}: ${text}`);
          lastCause = cause;
        }
      }
      const missingFiles = skipped.some((s) => /ort-wasm|\.wasm|\.mjs|fetch|MODULE_NOT_FOUND/i.test(s));
      throw new S2SError(
        'NOT_IMPLEMENTED',
        `none of the execution providers could be started (${skipped.join('; ')})`,
        {
          hint: missingFiles
            ? "the WebAssembly files were not found: set wasmPaths to where the app serves onnxruntime-web's dist/*.wasm and *.mjs"
            : "add 'wasm' as the last provider",
          cause: lastCause,
        },
      );
    },
  };
}

/**
 * Compressed-frame codecs.
 *
 * - JPEG baseline 8-bit: libjpeg-turbo (WASM, @cornerstonejs/codec-libjpeg-turbo-8bit)
 * - JPEG extended 12-bit and progressive (.51/.53/.55): our own DCT decoder (./jpeg-dct.ts) — no
 *   maintained npm package decodes 12-bit DCT JPEG; cornerstone3D itself vendors a pdf.js-derived file.
 * - JPEG lossless (.57/.70): jpeg-lossless-decoder-js (pure JS)
 * - JPEG-LS (.80/.81): CharLS (WASM, @cornerstonejs/codec-charls)
 * - JPEG 2000 (.90/.91): OpenJPEG (WASM, @cornerstonejs/codec-openjpeg)
 * - HTJ2K (.201/.202/.203): OpenJPH (WASM, @cornerstonejs/codec-openjph)
 *
 * The WASM modules are Emscripten factories. They are instantiated once by `initCodecs()`, which
 * must be awaited before decoding compressed frames (decodeFrame itself is synchronous). In Node the
 * Emscripten glue finds its .wasm beside itself; in browsers pass `locateFile` (URL of each .wasm)
 * or `wasmBinaries` (the bytes) if your bundler does not serve the .wasm files next to the glue.
 */
import { S2SError } from '@slice2solid/core';
import { Decoder as LosslessDecoder } from 'jpeg-lossless-decoder-js';
import type { TransferSyntaxInfo } from '../transfer-syntax.js';
import { decodeJpegDct, jpegPrecision } from './jpeg-dct.js';
import type { PixelLayout } from './pixels.js';

export type WasmCodecName = 'libjpeg-turbo' | 'charls' | 'openjpeg' | 'openjph';

export interface InitCodecsOptions {
  /** Which WASM codecs to load (default: all). */
  codecs?: readonly WasmCodecName[];
  /** Emscripten `locateFile`: returns the URL of a .wasm file (browsers). */
  locateFile?: (path: string, prefix: string) => string;
  /** The .wasm bytes per codec (browsers without a server for the .wasm, or sandboxed runtimes). */
  wasmBinaries?: Partial<Record<WasmCodecName, ArrayBuffer | Uint8Array>>;
}

export const INIT_CODECS_DEFAULTS: Required<Pick<InitCodecsOptions, 'codecs'>> = {
  codecs: ['libjpeg-turbo', 'charls', 'openjpeg', 'openjph'],
};

type Module = Record<string, new () => S2SWasmDecoder>;
const modules: Partial<Record<WasmCodecName, Module>> = {};
const pending: Partial<Record<WasmCodecName, Promise<void>>> = {};

async function factoryFor(name: WasmCodecName): Promise<S2SWasmFactory> {
  // Literal specifiers so bundlers can see and bundle them.
  switch (name) {
    case 'libjpeg-turbo':
      return (await import('@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs')).default;
    case 'charls':
      return (await import('@cornerstonejs/codec-charls/decodewasmjs')).default;
    case 'openjpeg':
      return (await import('@cornerstonejs/codec-openjpeg/decodewasmjs')).default;
    case 'openjph':
      return (await import('@cornerstonejs/codec-openjph/wasmjs')).default;
  }
}

/**
 * Loads the WASM codecs. Await it once before decoding JPEG baseline, JPEG-LS, JPEG 2000 or HTJ2K
 * frames. Safe to call again (loads only what is missing, e.g. after a codec crashed on bad data).
 */
export async function initCodecs(options: InitCodecsOptions = {}): Promise<void> {
  const names = options.codecs ?? INIT_CODECS_DEFAULTS.codecs;
  await Promise.all(
    names.map((name) => {
      if (modules[name]) return Promise.resolve();
      pending[name] ??= (async () => {
        try {
          const factory = await factoryFor(name);
          const opts: S2SEmscriptenOptions = { print: () => {}, printErr: () => {} };
          if (options.locateFile) opts.locateFile = options.locateFile;
          const bin = options.wasmBinaries?.[name];
          if (bin) opts.wasmBinary = bin;
          modules[name] = await factory(opts);
        } catch (cause) {
          throw new S2SError('DECODE_FAILED', `the ${name} image codec could not be loaded`, {
            hint: 'in a browser, pass initCodecs({ locateFile }) or { wasmBinaries } so the .wasm files can be found',
            cause,
          });
        } finally {
          delete pending[name];
        }
      })();
      return pending[name];
    }),
  );
}

/** True if the WASM codec is loaded. */
export function codecReady(name: WasmCodecName): boolean {
  return modules[name] !== undefined;
}

export interface CodecOutput {
  readonly values: ArrayLike<number>;
  /** Samples are in planar order (RRR GGG BBB). */
  readonly planar: boolean;
  /** The codec already turned YBR into RGB. */
  readonly colourDone: boolean;
}

const CLASS: Record<WasmCodecName, string> = {
  'libjpeg-turbo': 'JPEGDecoder',
  charls: 'JpegLSDecoder',
  openjpeg: 'J2KDecoder',
  openjph: 'HTJ2KDecoder',
};

function runWasm(
  name: WasmCodecName,
  frame: Uint8Array,
  l: PixelLayout,
  what: string,
): { values: ArrayLike<number>; info: S2SWasmFrameInfo; interleave: number } {
  const mod = modules[name];
  if (!mod) {
    throw new S2SError('DECODE_FAILED', `the ${name} codec for ${what} is not loaded`, {
      hint: "call `await initCodecs()` (from '@slice2solid/dicom') once before decoding compressed frames",
      file: l.name,
    });
  }
  let decoder: S2SWasmDecoder | undefined;
  try {
    decoder = new mod[CLASS[name]]!();
    decoder.getEncodedBuffer(frame.length).set(frame);
    decoder.decode();
    const info = decoder.getFrameInfo();
    const interleave = decoder.getInterleaveMode ? decoder.getInterleaveMode() : 1;
    const raw = decoder.getDecodedBuffer();
    // Copy out of the WASM heap before anything else runs (the heap may grow and move).
    const bytes = raw.slice();
    const signed = info.isSigned === true;
    let values: ArrayLike<number>;
    if (info.bitsPerSample > 8) {
      const n = bytes.length >> 1;
      values = signed ? new Int16Array(bytes.buffer, 0, n) : new Uint16Array(bytes.buffer, 0, n);
    } else {
      values = signed ? new Int8Array(bytes.buffer) : bytes;
    }
    return { values, info, interleave };
  } catch (cause) {
    if (cause instanceof S2SError) throw cause;
    // An Emscripten abort leaves the module unusable: drop it so initCodecs() can load a fresh one.
    if (cause instanceof Error && /abort|unreachable|memory access/i.test(cause.message)) delete modules[name];
    throw new S2SError('DECODE_FAILED', `the ${what} frame could not be decoded (${errorText(cause)})`, {
      hint: 'the compressed pixel data is damaged or truncated; re-export the image',
      file: l.name,
      cause,
    });
  } finally {
    try {
      decoder?.delete();
    } catch {
      // the module may have aborted; nothing to free
    }
  }
}

/**
 * A copy of a JPEG lossless stream with two zero bytes inserted before its EOI marker.
 * jpeg-lossless-decoder-js looks ahead while decoding the last pixel; when that look-ahead meets
 * the EOI marker it stops and leaves the last pixel 0 (seen on CTImage .70, where GDCM decodes it).
 * Zero bits after the last coded pixel carry no data, so the padding cannot change any pixel.
 */
export function padBeforeEoi(frame: Uint8Array): Uint8Array {
  let eoi = frame.length - 2;
  while (eoi >= 0 && !(frame[eoi] === 0xff && frame[eoi + 1] === 0xd9)) eoi--;
  if (eoi < 0) eoi = frame.length;
  const out = new Uint8Array(eoi + 4);
  out.set(frame.subarray(0, eoi));
  out[eoi + 2] = 0xff;
  out[eoi + 3] = 0xd9;
  return out;
}

function errorText(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e instanceof Error) return e.message;
  if (typeof e === 'number') return `codec error ${e}`;
  return String(e);
}

function checkSize(info: S2SWasmFrameInfo, l: PixelLayout, what: string): void {
  if (info.width !== l.columns || info.height !== l.rows || info.componentCount !== l.samplesPerPixel) {
    throw new S2SError(
      'DECODE_FAILED',
      `the ${what} frame is ${info.width}x${info.height}x${info.componentCount} but the header says ${l.columns}x${l.rows}x${l.samplesPerPixel}`,
      { hint: 'the compressed pixel data does not belong to this header; the file is damaged', file: l.name },
    );
  }
}

/** Decodes one compressed frame to container values (sample order as flagged). */
export function decodeWithCodec(ts: TransferSyntaxInfo, frame: Uint8Array, l: PixelLayout): CodecOutput {
  switch (ts.codec) {
    case 'jpeg-baseline':
    case 'jpeg-extended': {
      const precision = jpegPrecision(frame);
      if (precision === 8 && codecReady('libjpeg-turbo')) {
        const r = runWasm('libjpeg-turbo', frame, l, 'JPEG');
        checkSize(r.info, l, 'JPEG');
        return { values: r.values, planar: false, colourDone: true };
      }
      const r = decodeJpegDct(frame, l.name);
      if (r.width !== l.columns || r.height !== l.rows || r.components !== l.samplesPerPixel) {
        checkSize(
          { width: r.width, height: r.height, componentCount: r.components, bitsPerSample: r.precision },
          l,
          'JPEG',
        );
      }
      return { values: r.data, planar: false, colourDone: r.components === 3 };
    }
    case 'jpeg-lossless': {
      let out: ArrayLike<number>;
      const decoder = new LosslessDecoder();
      try {
        const bytesPer = l.bitsAllocated <= 8 ? 1 : 2;
        const copy = padBeforeEoi(frame);
        out = decoder.decode(copy.buffer as ArrayBuffer, 0, copy.length, bytesPer) as unknown as ArrayLike<number>;
      } catch (cause) {
        throw new S2SError('DECODE_FAILED', `the JPEG lossless frame could not be decoded (${errorText(cause)})`, {
          hint: 'the compressed pixel data is damaged or truncated; re-export the image',
          file: l.name,
          cause,
        });
      }
      if (!out || out.length < l.rows * l.columns * l.samplesPerPixel) {
        throw new S2SError('DECODE_FAILED', 'the JPEG lossless frame decoded to fewer pixels than the header says', {
          hint: 'the compressed pixel data is damaged or truncated; re-export the image',
          file: l.name,
        });
      }
      return { values: out, planar: false, colourDone: true };
    }
    case 'jpeg-ls': {
      const r = runWasm('charls', frame, l, 'JPEG-LS');
      checkSize(r.info, l, 'JPEG-LS');
      // CharLS interleave mode 0 ("none") returns one plane per component.
      return { values: r.values, planar: l.samplesPerPixel > 1 && r.interleave === 0, colourDone: false };
    }
    case 'jpeg2000': {
      const r = runWasm('openjpeg', frame, l, 'JPEG 2000');
      checkSize(r.info, l, 'JPEG 2000');
      return { values: r.values, planar: false, colourDone: true };
    }
    case 'htj2k': {
      const r = runWasm('openjph', frame, l, 'HTJ2K');
      checkSize(r.info, l, 'HTJ2K');
      return { values: r.values, planar: false, colourDone: true };
    }
    default:
      throw new S2SError('UNSUPPORTED_TRANSFER_SYNTAX', `${ts.name} frames cannot be decoded here`, { file: l.name });
  }
}

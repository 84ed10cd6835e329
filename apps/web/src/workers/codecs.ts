/**
 * The DICOM image codecs (WASM) for the browser: Vite copies each .wasm into the build and gives
 * its URL; Emscripten's locateFile is pointed at them. All files are served by the page's own
 * origin (no CDN).
 */
import charlsWasm from '@cornerstonejs/codec-charls/decodewasm?url';
import libjpegWasm from '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm?url';
import openjpegWasm from '@cornerstonejs/codec-openjpeg/decodewasm?url';
import openjphWasm from '@cornerstonejs/codec-openjph/wasm?url';
import { initCodecs } from '@slice2solid/dicom';

const URLS: Record<string, string> = {
  'charlswasm_decode.wasm': charlsWasm,
  'libjpegturbowasm_decode.wasm': libjpegWasm,
  'openjpegwasm_decode.wasm': openjpegWasm,
  'openjphjs.wasm': openjphWasm,
};

let ready: Promise<void> | undefined;

/** Loads the codecs once (before loadDicomSeries, which then finds them loaded). */
export function initBrowserCodecs(): Promise<void> {
  ready ??= initCodecs({
    locateFile: (path, prefix) => URLS[path.replace(/^.*\//, '')] ?? prefix + path,
  }).catch((e) => {
    ready = undefined;
    throw e;
  });
  return ready;
}

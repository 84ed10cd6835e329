// Minimal typings for the untyped codec packages (Emscripten factories and the JPEG lossless decoder).
interface S2SEmscriptenOptions {
  locateFile?: (path: string, prefix: string) => string;
  wasmBinary?: ArrayBuffer | Uint8Array;
  print?: (s: string) => void;
  printErr?: (s: string) => void;
}
interface S2SWasmFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}
interface S2SWasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): S2SWasmFrameInfo;
  getInterleaveMode?(): number;
  getColorSpace?(): number;
  delete(): void;
}
type S2SWasmFactory = (options?: S2SEmscriptenOptions) => Promise<Record<string, new () => S2SWasmDecoder>>;

declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: S2SWasmFactory;
  export default factory;
}
declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  const factory: S2SWasmFactory;
  export default factory;
}
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  const factory: S2SWasmFactory;
  export default factory;
}
declare module '@cornerstonejs/codec-openjph/wasmjs' {
  const factory: S2SWasmFactory;
  export default factory;
}
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    decompress(buffer: ArrayBuffer, offset?: number, length?: number): ArrayBuffer;
    decode(buffer: ArrayBuffer, offset?: number, length?: number, numBytes?: number): ArrayBuffer;
    numComp: number;
    frame: { precision: number; numComp: number; dimX: number; dimY: number };
  }
}

// The 1D passes of the separable Gaussian through a WebAssembly SIMD (f32x4) kernel
// (internal; the API is gaussian.ts, the JS passes are gaussian-passes.ts). The kernel source is
// wasm/gaussian-fir.wat, compiled at build time by scripts/build-wasm.mjs into
// gaussian-simd.generated.ts, and instantiated synchronously once per thread. The wasm memory
// holds the tap tables, the padded row (i axis) or the ring of original rows (j, k axes) and one
// output row; rows move in and out with TypedArray.set. Each output value is computed in
// float32 lane by lane with the same operations in the same order whatever the slab or run
// length, so the threaded path gives the same bits as the single-threaded one.
import { edgeIndex, type GaussianColumnsArgs, type GaussianSlicesArgs } from './gaussian-passes.js';
import { GAUSSIAN_SIMD_WASM } from './gaussian-simd.generated.js';

type EdgeMode = GaussianSlicesArgs['mode'];

interface FirExports {
  readonly memory: WebAssembly.Memory;
  fir(tab: number, r: number, out: number, n: number): void;
}

/** Floats of slack after every row the kernel reads and after its output (it works 16 at a time). */
const SLACK = 16;
const TAP_BYTES = 32;
/** Floats of ring buffer to aim for in the k pass (as in the JS path). */
const RING_FLOATS = 1 << 15;

class Fir {
  readonly memory: WebAssembly.Memory;
  readonly fir: FirExports['fir'];
  f32: Float32Array;
  i32: Int32Array;
  constructor(ex: FirExports) {
    this.memory = ex.memory;
    this.fir = ex.fir;
    this.f32 = new Float32Array(ex.memory.buffer);
    this.i32 = new Int32Array(ex.memory.buffer);
  }
  /** Makes the memory at least `bytes` long (views are renewed when it grows). */
  reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (have < bytes) this.memory.grow(Math.ceil((bytes - have) / 65536));
    if (this.f32.buffer !== this.memory.buffer) {
      this.f32 = new Float32Array(this.memory.buffer);
      this.i32 = new Int32Array(this.memory.buffer);
    }
  }
  /** Writes the weights of the kernel w (length 2r+1) into the tap table at byte offset tab. */
  weights(tab: number, w: Float64Array): void {
    const r = (w.length - 1) >> 1;
    for (let t = 0; t <= r; t++) this.f32.fill(w[r + t]!, (tab + t * TAP_BYTES) >> 2, ((tab + t * TAP_BYTES) >> 2) + 4);
  }
}

let forcedOff = false;
let cached: Fir | null | undefined;

/** The SIMD kernel of this thread, or null where WebAssembly SIMD is unavailable (JS path). */
export function gaussianSimd(): Fir | null {
  if (forcedOff) return null;
  if (cached !== undefined) return cached;
  cached = null;
  try {
    if (typeof WebAssembly === 'object' && WebAssembly.validate(GAUSSIAN_SIMD_WASM)) {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(GAUSSIAN_SIMD_WASM), {});
      cached = new Fir(instance.exports as unknown as FirExports);
    }
  } catch {
    cached = null;
  }
  return cached;
}

/** For tests: turn the SIMD kernel off (JS path) or back on. */
export function setGaussianSimdEnabled(enabled: boolean): void {
  forcedOff = !enabled;
}

const align = (bytes: number) => (bytes + 15) & ~15;

export function gaussianSlicesSimd(k: Fir, args: GaussianSlicesArgs, start: number, end: number): void {
  const { data, size, wi, wj, mode } = args;
  const [nx, ny] = size;
  const nxy = nx * ny;
  const ri = (wi.length - 1) >> 1;
  const rj = (wj.length - 1) >> 1;
  const tabI = 0;
  const tabJ = align(tabI + (ri + 1) * TAP_BYTES);
  const line = align(tabJ + (rj + 1) * TAP_BYTES);
  const ring = align(line + (nx + 2 * ri + SLACK) * 4);
  const out = align(ring + ((2 * rj + 1) * nx + SLACK) * 4);
  k.reserve(out + (nx + SLACK) * 4);
  k.weights(tabI, wi);
  k.weights(tabJ, wj);
  const i32 = k.i32;
  for (let t = 0; t <= ri; t++) {
    i32[(tabI + t * TAP_BYTES + 16) >> 2] = line + (ri - t) * 4;
    i32[(tabI + t * TAP_BYTES + 20) >> 2] = line + (ri + t) * 4;
  }
  const f32 = k.f32;
  const l0 = (line >> 2) + ri;
  const o0 = out >> 2;
  for (let kk = start; kk < end; kk++) {
    const base = kk * nxy;
    if (ri > 0) {
      for (let j = 0; j < ny; j++) {
        const o = base + j * nx;
        f32.set(data.subarray(o, o + nx), l0);
        for (let x = 1; x <= ri; x++) {
          f32[l0 - x] = data[o + edgeIndex(-x, nx, mode)]!;
          f32[l0 + nx - 1 + x] = data[o + edgeIndex(nx - 1 + x, nx, mode)]!;
        }
        k.fir(tabI, ri, out, nx);
        data.set(f32.subarray(o0, o0 + nx), o);
      }
    }
    if (rj > 0) ringPassSimd(k, data, base, nx, nx, ny, rj, mode, tabJ, ring, out);
  }
}

export function gaussianColumnsSimd(k: Fir, args: GaussianColumnsArgs, start: number, end: number): void {
  const { data, size, wk, mode } = args;
  const [nx, ny, nz] = size;
  const nxy = nx * ny;
  const rk = (wk.length - 1) >> 1;
  if (rk === 0 || end <= start) return;
  const total = (end - start) * nx;
  const m = Math.min(total, Math.max(nx, Math.floor(RING_FLOATS / (2 * rk + 1))));
  const tab = 0;
  const ring = align(tab + (rk + 1) * TAP_BYTES);
  const out = align(ring + ((2 * rk + 1) * m + SLACK) * 4);
  k.reserve(out + (m + SLACK) * 4);
  k.weights(tab, wk);
  for (let s = start * nx; s < end * nx; s += m) {
    ringPassSimd(k, data, s, Math.min(m, end * nx - s), nxy, nz, rk, mode, tab, ring, out);
  }
}

/**
 * In place along a strided axis: the n rows data[base + p * stride .. + m) (p < n) are filtered
 * across p. The ring at byte offset `ring` ((2r+1) rows of m floats) keeps the original rows
 * still needed; the tap table at `tab` (weights already written) gets the row addresses.
 */
function ringPassSimd(
  k: Fir,
  data: Float32Array,
  base: number,
  m: number,
  stride: number,
  n: number,
  r: number,
  mode: EdgeMode,
  tab: number,
  ring: number,
  out: number,
): void {
  const L = 2 * r + 1;
  const f32 = k.f32;
  const i32 = k.i32;
  const r0 = ring >> 2;
  const o0 = out >> 2;
  for (let q = 0; q < r && q < n; q++)
    f32.set(data.subarray(base + q * stride, base + q * stride + m), r0 + (q % L) * m);
  for (let p = 0; p < n; p++) {
    const q = p + r;
    if (q < n) f32.set(data.subarray(base + q * stride, base + q * stride + m), r0 + (q % L) * m);
    // every row needed now (edges folded in by the mode) is among p - r .. p + r, so in the ring
    i32[(tab + 16) >> 2] = ring + (p % L) * m * 4;
    for (let t = 1; t <= r; t++) {
      i32[(tab + t * TAP_BYTES + 16) >> 2] = ring + (edgeIndex(p - t, n, mode) % L) * m * 4;
      i32[(tab + t * TAP_BYTES + 20) >> 2] = ring + (edgeIndex(p + t, n, mode) % L) * m * 4;
    }
    k.fir(tab, r, out, m);
    data.set(f32.subarray(o0, o0 + m), base + p * stride);
  }
}

// The 1D passes of the separable Gaussian (internal; the API is gaussian.ts). Every pass works
// in place on a float32 image through a small float32 copy of the original values still
// needed (copied with TypedArray.set, which is native): a padded copy of the row for the i axis,
// a ring of the 2r+1 rows around the current one for the j and k axes. The kernel is applied in
// symmetric pairs, w_t * (x[-t] + x[+t]), up to three pairs per sweep over a contiguous row
// (measured fastest in V8: more pairs per loop spill registers, fewer re-read the
// accumulator), summing in float64 (one accumulator row) and rounding to float32 once.
// Slices (i and j passes) and runs of rows within a slice (k pass) are independent, so the
// passes split into slabs for the ParallelRunner without changing a single bit of the result.
// Where WebAssembly SIMD is available (every current browser and Node >= 16) both passes hand
// over to gaussian-simd.ts (float32 f32x4 kernel, same structure); the loops below are the fallback.

import { gaussianColumnsSimd, gaussianSimd, gaussianSlicesSimd } from './gaussian-simd.js';

export type EdgeMode = 'nearest' | 'reflect';

/** Source index for position x (may be outside [0, n)) under the edge mode. */
export function edgeIndex(x: number, n: number, mode: EdgeMode): number {
  if (x >= 0 && x < n) return x;
  if (mode === 'nearest' || n === 1) return x < 0 ? 0 : n - 1;
  // reflect: period 2n, d c b a | a b c d | d c b a
  const period = 2 * n;
  let m = x % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

/** Arguments of the i+j pass over whole slices [start, end) (kernel 'gaussian.slices'). */
export interface GaussianSlicesArgs {
  readonly data: Float32Array;
  readonly size: readonly [number, number, number];
  /** Kernels (odd length 2r+1) of the i and j axes; length 1 skips the axis. */
  readonly wi: Float64Array;
  readonly wj: Float64Array;
  readonly mode: EdgeMode;
}

/** Arguments of the k pass over the rows [start, end) (index j) of every slice (kernel 'gaussian.columns'). */
export interface GaussianColumnsArgs {
  readonly data: Float32Array;
  readonly size: readonly [number, number, number];
  readonly wk: Float64Array;
  readonly mode: EdgeMode;
}

/** Floats of ring buffer to aim for in the k pass (rows of a slice are processed in runs that fit). */
const RING_FLOATS = 1 << 15;

export function gaussianSlices(args: GaussianSlicesArgs, start: number, end: number): void {
  const simd = gaussianSimd();
  if (simd) {
    gaussianSlicesSimd(simd, args, start, end);
    return;
  }
  const { data, size, wi, wj, mode } = args;
  const [nx, ny] = size;
  const nxy = nx * ny;
  const ri = (wi.length - 1) >> 1;
  const rj = (wj.length - 1) >> 1;
  const plan = ri > 0 ? makePlan(wi) : undefined;
  const planJ = rj > 0 ? makePlan(wj) : undefined;
  const line = ri > 0 ? new Float32Array(nx + 2 * ri) : undefined;
  const ring = rj > 0 ? new Float32Array((2 * rj + 1) * nx) : undefined;
  const acc = new Float64Array(nx);
  for (let k = start; k < end; k++) {
    const base = k * nxy;
    if (plan && line) {
      for (let j = 0; j < ny; j++) rowPass(data, base + j * nx, nx, ri, mode, plan, line, acc);
    }
    if (planJ && ring) ringPass(data, base, nx, nx, ny, rj, mode, planJ, ring, acc);
  }
}

export function gaussianColumns(args: GaussianColumnsArgs, start: number, end: number): void {
  const simd = gaussianSimd();
  if (simd) {
    gaussianColumnsSimd(simd, args, start, end);
    return;
  }
  const { data, size, wk, mode } = args;
  const [nx, ny, nz] = size;
  const nxy = nx * ny;
  const rk = (wk.length - 1) >> 1;
  if (rk === 0 || end <= start) return;
  const plan = makePlan(wk);
  const total = (end - start) * nx;
  const m = Math.min(total, Math.max(nx, Math.floor(RING_FLOATS / (2 * rk + 1))));
  const ring = new Float32Array((2 * rk + 1) * m);
  const acc = new Float64Array(m);
  for (let s = start * nx; s < end * nx; s += m) {
    ringPass(data, s, Math.min(m, end * nx - s), nxy, nz, rk, mode, plan, ring, acc);
  }
}

/** The kernel split into sweeps of up to three pairs: first tap t and count of each sweep. */
interface Plan {
  readonly c: number;
  readonly first: readonly number[];
  readonly count: readonly number[];
  /** w[t] = weight of taps -t and +t. */
  readonly w: Float64Array;
  /** Offsets of taps -t and +t in a padded row copy (b[r + i -/+ t]). */
  readonly lo: Int32Array;
  readonly hi: Int32Array;
}

function makePlan(w: Float64Array): Plan {
  const r = (w.length - 1) >> 1;
  const first: number[] = [];
  const count: number[] = [];
  for (let t = 1; t <= r; t += 3) {
    first.push(t);
    count.push(Math.min(3, r - t + 1));
  }
  const half = new Float64Array(r + 1);
  const lo = new Int32Array(r + 1);
  const hi = new Int32Array(r + 1);
  for (let t = 0; t <= r; t++) {
    half[t] = w[r + t]!;
    lo[t] = r - t;
    hi[t] = r + t;
  }
  return { c: w[r]!, first, count, w: half, lo, hi };
}

/** One row of n values at data[o..], filtered along itself, through the padded copy `b`. */
function rowPass(
  data: Float32Array,
  o: number,
  n: number,
  r: number,
  mode: EdgeMode,
  plan: Plan,
  b: Float32Array,
  acc: Float64Array,
): void {
  b.set(data.subarray(o, o + n), r);
  for (let x = 1; x <= r; x++) {
    b[r - x] = data[o + edgeIndex(-x, n, mode)]!;
    b[r + n - 1 + x] = data[o + edgeIndex(n - 1 + x, n, mode)]!;
  }
  // tap -/+t of output i sits at b[r + i -/+ t]
  applyPlan(plan, b, r, plan.lo, plan.hi, acc, data, o, n);
}

/**
 * In place along a strided axis: the n rows data[base + p * stride .. + m) (p < n) are
 * filtered across p. The ring `b` ((2r+1) * m floats) keeps the original rows still needed.
 */
function ringPass(
  data: Float32Array,
  base: number,
  m: number,
  stride: number,
  n: number,
  r: number,
  mode: EdgeMode,
  plan: Plan,
  b: Float32Array,
  acc: Float64Array,
): void {
  const L = 2 * r + 1;
  const lo = new Int32Array(r + 1);
  const hi = new Int32Array(r + 1);
  for (let q = 0; q < r && q < n; q++) b.set(data.subarray(base + q * stride, base + q * stride + m), (q % L) * m);
  for (let p = 0; p < n; p++) {
    const q = p + r;
    if (q < n) b.set(data.subarray(base + q * stride, base + q * stride + m), (q % L) * m);
    // every row needed now (edges folded in by the mode) is among p - r .. p + r, so in the ring
    for (let t = 1; t <= r; t++) {
      lo[t] = (edgeIndex(p - t, n, mode) % L) * m;
      hi[t] = (edgeIndex(p + t, n, mode) % L) * m;
    }
    applyPlan(plan, b, (p % L) * m, lo, hi, acc, data, base + p * stride, m);
  }
}

/** out[o + i] = c * b[s + i] + sum_t w[t] * (b[lo(t) + i] + b[hi(t) + i]) for i < m, in sweeps. */
function applyPlan(
  plan: Plan,
  b: Float32Array,
  s: number,
  lo: Int32Array,
  hi: Int32Array,
  acc: Float64Array,
  out: Float32Array,
  o: number,
  m: number,
): void {
  const sweeps = plan.first.length;
  const w = plan.w;
  for (let g = 0; g < sweeps; g++) {
    const t = plan.first[g]!;
    const cnt = plan.count[g]!;
    const w1 = w[t]!;
    const a1 = lo[t]!;
    const b1 = hi[t]!;
    const w2 = cnt > 1 ? w[t + 1]! : 0;
    const a2 = cnt > 1 ? lo[t + 1]! : 0;
    const b2 = cnt > 1 ? hi[t + 1]! : 0;
    const w3 = cnt > 2 ? w[t + 2]! : 0;
    const a3 = cnt > 2 ? lo[t + 2]! : 0;
    const b3 = cnt > 2 ? hi[t + 2]! : 0;
    const last = g === sweeps - 1;
    if (g === 0) {
      if (last) firstToOut(b, plan.c, s, cnt, w1, a1, b1, w2, a2, b2, w3, a3, b3, out, o, m);
      else firstToAcc(b, plan.c, s, cnt, w1, a1, b1, w2, a2, b2, w3, a3, b3, acc, m);
    } else if (last) accToOut(b, acc, cnt, w1, a1, b1, w2, a2, b2, w3, a3, b3, out, o, m);
    else accToAcc(b, acc, cnt, w1, a1, b1, w2, a2, b2, w3, a3, b3, m);
  }
}

// The four kinds of sweep, each with 1, 2 or 3 pairs (separate loops keep them monomorphic).

function firstToAcc(
  b: Float32Array,
  c: number,
  s: number,
  cnt: number,
  w1: number,
  a1: number,
  b1: number,
  w2: number,
  a2: number,
  b2: number,
  w3: number,
  a3: number,
  b3: number,
  acc: Float64Array,
  m: number,
): void {
  if (cnt === 3) {
    for (let i = 0; i < m; i++) {
      acc[i] =
        c * b[s + i]! +
        w1 * (b[a1 + i]! + b[b1 + i]!) +
        w2 * (b[a2 + i]! + b[b2 + i]!) +
        w3 * (b[a3 + i]! + b[b3 + i]!);
    }
  } else if (cnt === 2) {
    for (let i = 0; i < m; i++)
      acc[i] = c * b[s + i]! + w1 * (b[a1 + i]! + b[b1 + i]!) + w2 * (b[a2 + i]! + b[b2 + i]!);
  } else {
    for (let i = 0; i < m; i++) acc[i] = c * b[s + i]! + w1 * (b[a1 + i]! + b[b1 + i]!);
  }
}

function firstToOut(
  b: Float32Array,
  c: number,
  s: number,
  cnt: number,
  w1: number,
  a1: number,
  b1: number,
  w2: number,
  a2: number,
  b2: number,
  w3: number,
  a3: number,
  b3: number,
  out: Float32Array,
  o: number,
  m: number,
): void {
  if (cnt === 3) {
    for (let i = 0; i < m; i++) {
      out[o + i] =
        c * b[s + i]! +
        w1 * (b[a1 + i]! + b[b1 + i]!) +
        w2 * (b[a2 + i]! + b[b2 + i]!) +
        w3 * (b[a3 + i]! + b[b3 + i]!);
    }
  } else if (cnt === 2) {
    for (let i = 0; i < m; i++)
      out[o + i] = c * b[s + i]! + w1 * (b[a1 + i]! + b[b1 + i]!) + w2 * (b[a2 + i]! + b[b2 + i]!);
  } else {
    for (let i = 0; i < m; i++) out[o + i] = c * b[s + i]! + w1 * (b[a1 + i]! + b[b1 + i]!);
  }
}

function accToAcc(
  b: Float32Array,
  acc: Float64Array,
  cnt: number,
  w1: number,
  a1: number,
  b1: number,
  w2: number,
  a2: number,
  b2: number,
  w3: number,
  a3: number,
  b3: number,
  m: number,
): void {
  if (cnt === 3) {
    for (let i = 0; i < m; i++) {
      acc[i] =
        acc[i]! + w1 * (b[a1 + i]! + b[b1 + i]!) + w2 * (b[a2 + i]! + b[b2 + i]!) + w3 * (b[a3 + i]! + b[b3 + i]!);
    }
  } else if (cnt === 2) {
    for (let i = 0; i < m; i++) acc[i] = acc[i]! + w1 * (b[a1 + i]! + b[b1 + i]!) + w2 * (b[a2 + i]! + b[b2 + i]!);
  } else {
    for (let i = 0; i < m; i++) acc[i] = acc[i]! + w1 * (b[a1 + i]! + b[b1 + i]!);
  }
}

function accToOut(
  b: Float32Array,
  acc: Float64Array,
  cnt: number,
  w1: number,
  a1: number,
  b1: number,
  w2: number,
  a2: number,
  b2: number,
  w3: number,
  a3: number,
  b3: number,
  out: Float32Array,
  o: number,
  m: number,
): void {
  if (cnt === 3) {
    for (let i = 0; i < m; i++) {
      out[o + i] =
        acc[i]! + w1 * (b[a1 + i]! + b[b1 + i]!) + w2 * (b[a2 + i]! + b[b2 + i]!) + w3 * (b[a3 + i]! + b[b3 + i]!);
    }
  } else if (cnt === 2) {
    for (let i = 0; i < m; i++) out[o + i] = acc[i]! + w1 * (b[a1 + i]! + b[b1 + i]!) + w2 * (b[a2 + i]! + b[b2 + i]!);
  } else {
    for (let i = 0; i < m; i++) out[o + i] = acc[i]! + w1 * (b[a1 + i]! + b[b1 + i]!);
  }
}

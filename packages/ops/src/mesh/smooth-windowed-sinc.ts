/**
 * Windowed-sinc smoothing (Taubin, Zhang & Golub, "Optimal surface smoothing as filter design",
 * 1996; the algorithm of VTK's vtkWindowedSincPolyDataFilter): a low-pass filter on the mesh
 * signal, written as a Chebyshev polynomial of the umbrella operator (uniform weights) and
 * evaluated with the three-term recurrence. Frequencies below the pass band are kept, so it does
 * not shrink the way plain Laplacian smoothing does.
 *
 * The window defaults to Nuttall: the Hamming window of older VTK changes the overall size by up
 * to ~1% (VTK changed its default for that reason), which matters when volumes must hold to 1%.
 * The filter is linear and translation/scale invariant, so no coordinate normalisation is needed;
 * it runs in float64.
 */
import { check, type Mesh, progressReporter, type RunOptions } from '@slice2solid/core';
import { allocInt32, type ParallelOptions, splitRange, useRunner } from '../parallel/runner.js';
import { checkSmoothOptions, finishSmoothing, type SmoothCommonOptions, smoothGraph3 } from './smooth-common.js';
import { sincFirstPass, sincStepPass } from './smooth-kernels.js';

export interface WindowedSincOptions extends SmoothCommonOptions, RunOptions, ParallelOptions {
  /** Number of iterations = order of the polynomial (default 20). */
  iterations?: number;
  /** Pass band in (0, 2): lower is smoother (default 0.1, as VTK). */
  passBand?: number;
  window?: 'nuttall' | 'hamming' | 'blackman' | 'hanning';
}

export const WINDOWED_SINC_DEFAULTS = {
  iterations: 20,
  passBand: 0.1,
  window: 'nuttall',
  boundary: 'smooth',
} as const satisfies WindowedSincOptions;

/** The Chebyshev coefficients c[0..N] of the windowed-sinc filter (with VTK's sigma fit). */
export function windowedSincCoefficients(
  N: number,
  passBand: number,
  window: WindowedSincOptions['window'],
): Float64Array {
  const w = new Float64Array(N + 1);
  for (let i = 0; i <= N; i++) {
    const x = (i * Math.PI) / (N + 1);
    switch (window) {
      case 'hamming':
        w[i] = 0.54 + 0.46 * Math.cos(x);
        break;
      case 'hanning':
        w[i] = 0.5 + 0.5 * Math.cos(x);
        break;
      case 'blackman':
        w[i] = 0.42 + 0.5 * Math.cos(x) + 0.08 * Math.cos(2 * x);
        break;
      default:
        w[i] = 0.355768 + 0.487396 * Math.cos(x) + 0.144232 * Math.cos(2 * x) + 0.012604 * Math.cos(3 * x);
    }
  }
  const thetaPb = Math.acos(1 - 0.5 * passBand);
  const c = new Float64Array(N + 1);
  const cp = new Float64Array(N + 1);
  const evalAt = Array.from({ length: N + 1 }, (_, i) => Math.cos(i * thetaPb));
  let sigma = 0;
  const coeffs = () => {
    c[0] = (w[0]! * (thetaPb + sigma)) / Math.PI;
    for (let i = 1; i <= N; i++) c[i] = (2 * w[i]! * Math.sin(i * (thetaPb + sigma))) / (i * Math.PI);
  };
  coeffs();
  if (N > 1) {
    // Newton: find sigma with f(k_pb) = 1 (the pass band passes with unit gain)
    for (let it = 0; it < 500; it++) {
      coeffs();
      cp.fill(0);
      cp[N - 2] = 2 * (N - 1) * c[N - 1]!;
      for (let i = N - 3; i >= 0; i--) cp[i] = cp[i + 2]! + 2 * (i + 1) * c[i + 1]!;
      let f = 0;
      let fp = 0;
      for (let i = 0; i <= N; i++) {
        f += c[i]! * evalAt[i]!;
        fp += cp[i]! * evalAt[i]!;
      }
      if (Math.abs(f - 1) < 1e-3) break;
      sigma -= (f - 1) / fp;
    }
  }
  return c;
}

export function smoothWindowedSinc(mesh: Mesh, options: WindowedSincOptions = {}): Mesh {
  checkSmoothOptions(options);
  const N = options.iterations ?? WINDOWED_SINC_DEFAULTS.iterations;
  const passBand = options.passBand ?? WINDOWED_SINC_DEFAULTS.passBand;
  check(
    passBand > 0 && passBand < 2,
    `passBand must be in (0, 2), got ${passBand}`,
    'typical values are 0.001 (strong) to 0.1 (light)',
  );
  const window = options.window ?? WINDOWED_SINC_DEFAULTS.window;
  check(['nuttall', 'hamming', 'blackman', 'hanning'].includes(window), `unknown window '${window}'`);
  // with a runner, the per-vertex work goes to its threads in vertex ranges (shared buffers)
  const runner = useRunner(options.parallel) ? options.parallel : undefined;
  const g = smoothGraph3(mesh, options.boundary ?? WINDOWED_SINC_DEFAULTS.boundary, runner);
  if (N === 0) return finishSmoothing(mesh, Float64Array.from(mesh.positions), options.maxDisplacementMm);
  const c = windowedSincCoefficients(N, passBand, window);
  const n = mesh.positions.length;
  const nv = n / 3;
  const P = mesh.positions;
  // work relative to the centroid so the tiny DC-gain error of the window (|f(0) - 1| ~ 1e-6)
  // cannot scale the mesh about a far-away coordinate origin
  let cx = 0;
  let cy = 0;
  let cz = 0;
  for (let m = 0; m < n; m += 3) {
    cx += (3 * P[m]!) / n;
    cy += (3 * P[m + 1]!) / n;
    cz += (3 * P[m + 2]!) / n;
  }
  const f64 = (len: number) => new Float64Array(allocInt32(2 * len, runner).buffer);
  // three buffers only: x_{j-1} is overwritten by x_{j+1} in place, vertex by vertex
  let x0 = f64(n);
  let x1 = f64(n);
  const x3 = f64(n);
  for (let m = 0; m < n; m += 3) {
    x0[m] = P[m]! - cx;
    x0[m + 1] = P[m + 1]! - cy;
    x0[m + 2] = P[m + 2]! - cz;
  }
  const { off, nbr3 } = g;
  const ranges = runner ? splitRange(nv, runner, 16, 4096) : [];
  const report = progressReporter('windowed-sinc smoothing', N, options);
  // x1 = (I - K/2) x0 = (x0 + avg x0) / 2 ; x3 = c0 x0 + c1 x1
  const first = { off, nbr3, x0, x1, x3, c0: c[0]!, c1: c[1]! };
  if (runner) runner.runSlabs('sinc.first', first, ranges);
  else sincFirstPass(first, 0, nv);
  for (let j = 2; j <= N; j++) {
    report(j - 1);
    // x2 = 2 (I - K/2) x1 - x0 = avg(x1) + x1 - x0, written over x0; x3 += c_j x2
    const step = { off, nbr3, x0, x1, x3, cj: c[j]! };
    if (runner) runner.runSlabs('sinc.step', step, ranges);
    else sincStepPass(step, 0, nv);
    const t = x0;
    x0 = x1;
    x1 = t;
  }
  report(N);
  // fixed vertices: the recurrence keeps them constant (their average is themselves), and the
  // coefficients sum to f(0) = 1, so x3 = x0 there up to rounding; restore them exactly
  for (let v = 0; v < nv; v++) {
    const m = 3 * v;
    if (off[v] === off[v + 1]) {
      x3[m] = P[m]!;
      x3[m + 1] = P[m + 1]!;
      x3[m + 2] = P[m + 2]!;
    } else {
      x3[m]! += cx;
      x3[m + 1]! += cy;
      x3[m + 2]! += cz;
    }
  }
  return finishSmoothing(mesh, x3, options.maxDisplacementMm);
}

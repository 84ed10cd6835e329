/**
 * Taubin lambda|mu smoothing (Taubin 1995): alternating a shrinking step (lambda > 0) and an
 * inflating step (mu < -lambda), a simple low-pass filter with pass band k_pb = 1/lambda + 1/mu
 * that does not shrink like plain Laplacian smoothing.
 */
import { check, type Mesh, progressReporter, type RunOptions } from '@slice2solid/core';
import { checkSmoothOptions, finishSmoothing, type SmoothCommonOptions, smoothGraph } from './smooth-common.js';
import { umbrellaStep } from './smooth-laplacian.js';

export interface TaubinSmoothOptions extends SmoothCommonOptions, RunOptions {
  /** Number of lambda|mu pairs (default 20). */
  iterations?: number;
  /** Default 0.5. */
  lambda?: number;
  /** Default -0.53 (pass band 0.113). Must satisfy mu < -lambda. */
  mu?: number;
}

export const TAUBIN_SMOOTH_DEFAULTS = {
  iterations: 20,
  lambda: 0.5,
  mu: -0.53,
  boundary: 'smooth',
} as const satisfies TaubinSmoothOptions;

export function smoothTaubin(mesh: Mesh, options: TaubinSmoothOptions = {}): Mesh {
  checkSmoothOptions(options);
  const iterations = options.iterations ?? TAUBIN_SMOOTH_DEFAULTS.iterations;
  const lambda = options.lambda ?? TAUBIN_SMOOTH_DEFAULTS.lambda;
  const mu = options.mu ?? TAUBIN_SMOOTH_DEFAULTS.mu;
  check(lambda > 0 && lambda < 1, `lambda must be in (0, 1), got ${lambda}`);
  check(mu < -lambda && mu > -1, `mu must be in (-1, -lambda), got ${mu}`, 'the usual choice is mu = -(lambda + 0.03)');
  const g = smoothGraph(mesh, options.boundary ?? TAUBIN_SMOOTH_DEFAULTS.boundary);
  const x = Float64Array.from(mesh.positions);
  const avg = new Float64Array(x.length);
  const report = progressReporter('Taubin smoothing', iterations, options);
  for (let it = 0; it < iterations; it++) {
    report(it);
    umbrellaStep(g, x, avg, lambda);
    umbrellaStep(g, x, avg, mu);
  }
  report(iterations);
  return finishSmoothing(mesh, x, options.maxDisplacementMm);
}

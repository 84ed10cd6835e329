/**
 * Laplacian (umbrella) smoothing: each vertex moves `relaxation` of the way towards the average
 * of its neighbours, `iterations` times. Simple and strong, but it SHRINKS the surface; prefer
 * windowed-sinc or Taubin for models that must keep their size.
 */
import { check, type Mesh, progressReporter, type RunOptions } from '@slice2solid/core';
import {
  averageNeighbours,
  checkSmoothOptions,
  finishSmoothing,
  type SmoothCommonOptions,
  smoothGraph,
} from './smooth-common.js';

export interface LaplacianSmoothOptions extends SmoothCommonOptions, RunOptions {
  /** Default 10. */
  iterations?: number;
  /** Step towards the neighbour average per iteration, in (0, 1] (default 0.3). */
  relaxation?: number;
}

export const LAPLACIAN_SMOOTH_DEFAULTS = {
  iterations: 10,
  relaxation: 0.3,
  boundary: 'smooth',
} as const satisfies LaplacianSmoothOptions;

export function smoothLaplacian(mesh: Mesh, options: LaplacianSmoothOptions = {}): Mesh {
  checkSmoothOptions(options);
  const iterations = options.iterations ?? LAPLACIAN_SMOOTH_DEFAULTS.iterations;
  const lambda = options.relaxation ?? LAPLACIAN_SMOOTH_DEFAULTS.relaxation;
  check(lambda > 0 && lambda <= 1, `relaxation must be in (0, 1], got ${lambda}`);
  const g = smoothGraph(mesh, options.boundary ?? LAPLACIAN_SMOOTH_DEFAULTS.boundary);
  const x = Float64Array.from(mesh.positions);
  const avg = new Float64Array(x.length);
  const report = progressReporter('Laplacian smoothing', iterations, options);
  for (let it = 0; it < iterations; it++) {
    report(it);
    umbrellaStep(g, x, avg, lambda);
  }
  report(iterations);
  return finishSmoothing(mesh, x, options.maxDisplacementMm);
}

/** x += factor * (avg(x) - x), in place (fixed vertices have avg = x). */
export function umbrellaStep(
  g: ReturnType<typeof smoothGraph>,
  x: Float64Array,
  avg: Float64Array,
  factor: number,
): void {
  averageNeighbours(g, x, avg);
  for (let m = 0; m < x.length; m++) x[m]! += factor * (avg[m]! - x[m]!);
}

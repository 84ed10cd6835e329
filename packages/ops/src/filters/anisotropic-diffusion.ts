/**
 * Edge-preserving smoothing: Perona-Malik gradient anisotropic diffusion (explicit scheme,
 * 6-neighbour fluxes, spacing-aware, zero flux across the image edge).
 *
 *   I <- I + dt * sum over the 6 faces of g(|dI / h|) * dI / h^2
 *   g(x) = exp(-(x / K)^2)        ('exponential', favours high-contrast edges)
 *   g(x) = 1 / (1 + (x / K)^2)    ('quadratic', favours wide regions)
 *
 * dI is the difference to the neighbour and h the spacing along that axis (mm), so K is an
 * intensity gradient in units per mm. By default K = conductance x the mean gradient magnitude
 * of the input (as ITK's conductance parameter). Fluxes are antisymmetric, so the sum of the
 * image is preserved. Output is float32; geometry is unchanged.
 */
import { type Grid, progressReporter, type RunOptions, S2SError, type Volume } from '@slice2solid/core';
import { checkMask, checkNumber, mapChannels } from './internal.js';

export interface AnisotropicDiffusionOptions extends RunOptions {
  readonly iterations?: number;
  /** K as a multiple of the image's mean gradient magnitude (used when edgeGradient is not given). */
  readonly conductance?: number;
  /** K in intensity units per mm (overrides conductance). Gradients well above K are kept as edges. */
  readonly edgeGradient?: number;
  /** Time step in mm^2; default half the stability limit 1 / (2 sum 1/h^2). */
  readonly timeStep?: number;
  readonly conductanceFunction?: 'exponential' | 'quadratic';
}

export const ANISOTROPIC_DIFFUSION_DEFAULTS = {
  iterations: 5,
  conductance: 1,
  conductanceFunction: 'exponential',
} as const satisfies AnisotropicDiffusionOptions;

export function anisotropicDiffusion(volume: Volume, options: AnisotropicDiffusionOptions = {}): Volume {
  const out = new Float32Array(volume.data.length);
  mapChannels(volume, out, (ch) => anisotropicDiffusionData(ch, volume.grid, options));
  return { ...volume, data: out };
}

/** Stability limit of the explicit scheme for this spacing (mm^2). */
export function diffusionStableTimeStep(grid: Grid): number {
  const [hx, hy, hz] = grid.spacing;
  const [nx, ny, nz] = grid.size;
  const sum = (nx > 1 ? 1 / (hx * hx) : 0) + (ny > 1 ? 1 / (hy * hy) : 0) + (nz > 1 ? 1 / (hz * hz) : 0);
  return sum > 0 ? 1 / (2 * sum) : Infinity;
}

/** Diffuses one float32 channel; returns a new array (the input is not changed). */
export function anisotropicDiffusionData(
  data: Float32Array,
  grid: Grid,
  options: AnisotropicDiffusionOptions = {},
): Float32Array {
  checkMask(data, grid, 'image');
  const iterations = options.iterations ?? ANISOTROPIC_DIFFUSION_DEFAULTS.iterations;
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw new S2SError('INVALID_ARGUMENT', `iterations must be a whole number >= 0, got ${iterations}`);
  }
  const limit = diffusionStableTimeStep(grid);
  const dt = checkNumber(options.timeStep ?? limit / 2, 'timeStep', 0);
  if (dt > limit * (1 + 1e-9)) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `timeStep ${dt} mm^2 is above the stability limit ${limit.toPrecision(4)} mm^2 for this spacing`,
      {
        hint: 'use a smaller time step and more iterations',
      },
    );
  }
  const quadratic = (options.conductanceFunction ?? ANISOTROPIC_DIFFUSION_DEFAULTS.conductanceFunction) === 'quadratic';
  const [nx, ny, nz] = grid.size;
  const [hx, hy, hz] = grid.spacing;
  const nxy = nx * ny;
  let K = options.edgeGradient;
  if (K === undefined) {
    const c = checkNumber(options.conductance ?? ANISOTROPIC_DIFFUSION_DEFAULTS.conductance, 'conductance', 0);
    K = c * meanGradient(data, grid);
  }
  checkNumber(K, 'edgeGradient', 0);
  let cur = Float32Array.from(data);
  if (iterations === 0 || K === 0) return cur;
  let next = new Float32Array(data.length);
  const invK2 = 1 / (K * K);
  const sx = dt / (hx * hx);
  const sy = dt / (hy * hy);
  const sz = dt / (hz * hz);
  const gx = invK2 / (hx * hx); // (dI/h)^2 / K^2 = dI^2 * g
  const gy = invK2 / (hy * hy);
  const gz = invK2 / (hz * hz);
  const tick = progressReporter('anisotropic diffusion', iterations * nz, options);
  for (let it = 0; it < iterations; it++) {
    next.set(cur);
    // each face once: the flux from p to its + neighbour along each axis
    let p = 0;
    for (let k = 0; k < nz; k++) {
      const hasZ = k < nz - 1;
      for (let j = 0; j < ny; j++) {
        const hasY = j < ny - 1;
        for (let i = 0; i < nx; i++, p++) {
          const v = cur[p]!;
          if (i < nx - 1) {
            const d = cur[p + 1]! - v;
            const x = d * d * gx;
            const f = sx * d * (quadratic ? 1 / (1 + x) : Math.exp(-x));
            next[p]! += f;
            next[p + 1]! -= f;
          }
          if (hasY) {
            const d = cur[p + nx]! - v;
            const x = d * d * gy;
            const f = sy * d * (quadratic ? 1 / (1 + x) : Math.exp(-x));
            next[p]! += f;
            next[p + nx]! -= f;
          }
          if (hasZ) {
            const d = cur[p + nxy]! - v;
            const x = d * d * gz;
            const f = sz * d * (quadratic ? 1 / (1 + x) : Math.exp(-x));
            next[p]! += f;
            next[p + nxy]! -= f;
          }
        }
      }
      tick(it * nz + k + 1);
    }
    const t = cur;
    cur = next;
    next = t;
  }
  return cur;
}

/** Mean over voxels of |grad I| (forward differences, units per mm). */
function meanGradient(data: Float32Array, grid: Grid): number {
  const [nx, ny, nz] = grid.size;
  const [hx, hy, hz] = grid.spacing;
  const nxy = nx * ny;
  let sum = 0;
  let p = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        const v = data[p]!;
        const gx = i < nx - 1 ? (data[p + 1]! - v) / hx : 0;
        const gy = j < ny - 1 ? (data[p + nx]! - v) / hy : 0;
        const gz = k < nz - 1 ? (data[p + nxy]! - v) / hz : 0;
        sum += Math.sqrt(gx * gx + gy * gy + gz * gz);
      }
    }
  }
  return sum / data.length;
}

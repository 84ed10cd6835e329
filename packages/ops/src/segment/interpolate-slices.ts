/**
 * Fill between slices (shape-based interpolation, Raya & Udupa 1990; Herman et al. 1992).
 *
 * A user outlines a structure on a few slices. For each drawn slice we compute a signed distance
 * map in millimetres (in-plane spacing honoured): negative inside (minus the distance to the
 * nearest outside pixel centre), positive outside (the distance to the nearest inside pixel
 * centre). Between two consecutive drawn slices a and b, slice s gets
 *   sdf_s = (1 - t) * sdf_a + t * sdf_b,  t = (s - a) / (b - a)
 * and a pixel is inside when sdf_s < 0. Slices are equally spaced along an index axis, so t by
 * index is t by distance. The drawn slices are kept exactly; slices before the first or after the
 * last drawn slice are left as they are.
 *
 * Limitation (inherent to the method): a structure must overlap itself between two consecutive
 * drawn slices (seen along the axis); a shape that jumps sideways by more than its own width
 * thins out and vanishes in between. Draw more slices where it moves fast.
 */
import { type Grid, makeGrid, progressReporter, type RunOptions, S2SError, voxelCount } from '@slice2solid/core';
import { signedEdt } from '../distance/edt.js';

export interface InterpolateSlicesOptions extends RunOptions {
  /** Index axis across which the slices were drawn: 0 = i, 1 = j, 2 = k. */
  readonly axis?: 0 | 1 | 2;
  /**
   * Indices of the drawn slices along `axis`. Default: every slice that holds at least one
   * foreground voxel. Give it explicitly to mark a drawn-but-empty slice (the structure ends there).
   */
  readonly drawnSlices?: readonly number[];
}

export const INTERPOLATE_SLICES_DEFAULTS = { axis: 2 as 0 | 1 | 2 } as const;

/**
 * Signed distance (mm) of a 2D mask of nu x nv pixels with spacing hu, hv: < 0 inside, > 0
 * outside (distances between pixel centres, from the ops distance transform). An empty mask is
 * +Inf everywhere; a full one is minus the slice diagonal (finite, so that it interpolates).
 */
export function signedDistance2d(mask: Uint8Array, nu: number, nv: number, hu: number, hv: number): Float32Array {
  const grid = makeGrid({ size: [nu, nv, 1], spacing: [hu, hv, 1] });
  const out = signedEdt(mask, grid, { inside: 'negative' });
  const full = Math.hypot(nu * hu, nv * hv);
  for (let p = 0; p < out.length; p++) if (out[p]! < -full) out[p] = -full;
  return out;
}

/**
 * Fills the slices between drawn slices of `mask` (on `grid`) by shape-based interpolation.
 * Returns a new mask; the input is not changed.
 */
export function interpolateSlices(mask: Uint8Array, grid: Grid, options: InterpolateSlicesOptions = {}): Uint8Array {
  const axis = options.axis ?? INTERPOLATE_SLICES_DEFAULTS.axis;
  if (axis !== 0 && axis !== 1 && axis !== 2) {
    throw new S2SError('INVALID_ARGUMENT', `axis must be 0, 1 or 2, got ${axis}`);
  }
  const n = voxelCount(grid);
  if (mask.length !== n) {
    throw new S2SError('INVALID_ARGUMENT', `mask has ${mask.length} voxels but the grid needs ${n}`);
  }
  const size = grid.size;
  const ns = size[axis];
  // in-plane axes u (faster in memory) and v
  const [ua, va] = axis === 0 ? [1, 2] : axis === 1 ? [0, 2] : [0, 1];
  const nu = size[ua]!;
  const nv = size[va]!;
  const stride = [1, size[0], size[0] * size[1]];
  const su = stride[ua]!;
  const sv = stride[va]!;
  const ss = stride[axis]!;
  const hu = grid.spacing[ua]!;
  const hv = grid.spacing[va]!;
  const getSlice = (s: number): Uint8Array => {
    const out = new Uint8Array(nu * nv);
    for (let b = 0; b < nv; b++) for (let a = 0; a < nu; a++) out[a + nu * b] = mask[s * ss + a * su + b * sv]! ? 1 : 0;
    return out;
  };
  let drawn: number[];
  if (options.drawnSlices) {
    drawn = [...new Set(options.drawnSlices)].sort((x, y) => x - y);
    for (const s of drawn) {
      if (!Number.isInteger(s) || s < 0 || s >= ns) {
        throw new S2SError('INVALID_ARGUMENT', `drawn slice ${s} is outside 0..${ns - 1} along axis ${axis}`);
      }
    }
  } else {
    drawn = [];
    for (let s = 0; s < ns; s++) if (getSlice(s).some((x) => x !== 0)) drawn.push(s);
  }
  const out = new Uint8Array(n);
  for (let p = 0; p < n; p++) out[p] = mask[p] ? 1 : 0;
  if (drawn.length < 2) return out;
  const report = progressReporter('interpolate slices', drawn.length - 1, options, 1);
  const sdfs = new Map<number, Float32Array>();
  const sdfOf = (s: number): Float32Array => {
    let d = sdfs.get(s);
    if (!d) {
      d = signedDistance2d(getSlice(s), nu, nv, hu, hv);
      sdfs.set(s, d);
    }
    return d;
  };
  for (let g = 1; g < drawn.length; g++) {
    const a = drawn[g - 1]!;
    const b = drawn[g]!;
    if (b === a + 1) {
      report(g);
      continue;
    }
    let prev = sdfOf(a);
    let next = sdfOf(b);
    // An empty drawn slice (+Inf everywhere) ends the structure: it stands for a constant distance
    // equal to the deepest inside point of the other slice, so the shape shrinks and is gone halfway.
    if (prev[0] === Number.POSITIVE_INFINITY && next[0] === Number.POSITIVE_INFINITY) {
      report(g);
      continue;
    }
    if (prev[0] === Number.POSITIVE_INFINITY) prev = constantLike(next);
    else if (next[0] === Number.POSITIVE_INFINITY) next = constantLike(prev);
    sdfs.delete(a);
    for (let s = a + 1; s < b; s++) {
      const t = (s - a) / (b - a);
      for (let vb = 0; vb < nv; vb++) {
        for (let ua2 = 0; ua2 < nu; ua2++) {
          const q = ua2 + nu * vb;
          const sdf = (1 - t) * prev[q]! + t * next[q]!;
          out[s * ss + ua2 * su + vb * sv] = sdf < 0 ? 1 : 0;
        }
      }
    }
    report(g);
  }
  return out;
}

/** A map holding the deepest inside distance of `sdf` everywhere. */
function constantLike(sdf: Float32Array): Float32Array {
  let depth = 0;
  for (let p = 0; p < sdf.length; p++) if (-sdf[p]! > depth) depth = -sdf[p]!;
  return new Float32Array(sdf.length).fill(depth);
}

/**
 * Resampling to a new voxel spacing (or to isotropic voxels) on the SAME physical box and with
 * the same direction: the new grid covers the box of the old voxels (from the outer face of the
 * first voxel to the outer face of the last), centred exactly on the old box's centre.
 *
 * fit 'spacing' (default): the requested spacing is kept exactly and the number of voxels is
 *   round(extent / spacing), so the covered extent differs from the old one by less than one
 *   new voxel (half a voxel per side at most), centred.
 * fit 'extent': the number of voxels is the same, and the spacing is adjusted (by less than
 *   half a voxel over the whole extent) so the extent is kept exactly.
 *
 * Because the direction is kept, new index -> old index is a per-axis scale and shift (even on
 * sheared grids); it is derived from the core grid matrices and applied separably:
 * 'nearest' (labels, masks; keeps the voxel type), 'linear' (trilinear) and 'cubic' (Keys
 * cubic convolution, a = -0.5, i.e. Catmull-Rom: interpolating, exact on linear ramps).
 * Samples beyond the outermost voxel centres (within the last half voxel) repeat the edge.
 */
import {
  type Grid,
  ijkFromLpsMatrix,
  lpsFromIjkMatrix,
  makeGrid,
  multiplyAffine,
  progressReporter,
  type RunOptions,
  S2SError,
  type Vec3,
  type Volume,
  type VoxelArray,
  voxelCount,
} from '@slice2solid/core';
import { intRange, perAxis } from '../filters/internal.js';

export type Interpolation = 'nearest' | 'linear' | 'cubic';

export interface ResampleOptions extends RunOptions {
  /** Target spacing in mm: one value (isotropic) or one per index axis. Default: isotropic at the smallest current spacing. */
  readonly spacing?: number | readonly [number, number, number];
  readonly interpolation?: Interpolation;
  readonly fit?: 'spacing' | 'extent';
  /** For linear/cubic on integer data: round and clamp back to the input type instead of float32 output. */
  readonly keepType?: boolean;
}

export const RESAMPLE_DEFAULTS = {
  interpolation: 'linear',
  fit: 'spacing',
  keepType: false,
} as const satisfies ResampleOptions;

/** The grid a resampling produces (same physical box and direction; see the module doc). */
export function resampledGrid(
  grid: Grid,
  spacing: number | readonly number[] | undefined,
  fit: 'spacing' | 'extent' = 'spacing',
): Grid {
  const want =
    spacing === undefined
      ? perAxis(Math.min(...grid.spacing), 'spacing')
      : perAxis(spacing as number | readonly number[], 'spacing');
  for (const s of want) {
    if (!(s > 0) || !Number.isFinite(s)) {
      throw new S2SError('INVALID_ARGUMENT', `target spacing must be > 0 mm, got [${want.join(', ')}]`, {
        hint: 'e.g. 1 for 1 mm isotropic voxels',
      });
    }
  }
  const size: number[] = [];
  const sp: number[] = [];
  for (let a = 0; a < 3; a++) {
    const extent = grid.size[a]! * grid.spacing[a]!;
    const n = Math.max(1, Math.round(extent / want[a]! - 1e-9));
    size.push(n);
    sp.push(fit === 'extent' ? extent / n : want[a]!);
  }
  if (size[0]! * size[1]! * size[2]! > 2 ** 31) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `resampling to [${want.join(', ')}] mm would make ${size.join('x')} voxels`,
      {
        hint: 'choose a coarser spacing or crop first',
      },
    );
  }
  // same centre: old centre at index (n-1)/2 of the old grid, new centre at (m-1)/2 of the new one
  const m = lpsFromIjkMatrix(grid);
  const c = [0, 1, 2].map((a) => (grid.size[a]! - 1) / 2);
  const centre = [0, 1, 2].map(
    (r) => m[r * 4]! * c[0]! + m[r * 4 + 1]! * c[1]! + m[r * 4 + 2]! * c[2]! + m[r * 4 + 3]!,
  );
  const origin = [0, 1, 2].map(
    (r) => centre[r]! - [0, 1, 2].reduce((s, a) => s + grid.direction[a]![r]! * sp[a]! * ((size[a]! - 1) / 2), 0),
  );
  return makeGrid({ size, spacing: sp, origin, direction: grid.direction });
}

export function resample(volume: Volume, options: ResampleOptions = {}): Volume {
  const interp = options.interpolation ?? RESAMPLE_DEFAULTS.interpolation;
  if (interp !== 'nearest' && interp !== 'linear' && interp !== 'cubic') {
    throw new S2SError('INVALID_ARGUMENT', `interpolation must be nearest, linear or cubic, got ${String(interp)}`, {
      hint: 'use nearest for labels and masks',
    });
  }
  const fit = options.fit ?? RESAMPLE_DEFAULTS.fit;
  const src = volume.grid;
  const dst = resampledGrid(src, options.spacing, fit);
  return resampleOnto(volume, dst, { ...options, interpolation: interp });
}

/**
 * Resamples a volume onto a grid with the same direction as its own (e.g. from resampledGrid).
 * Throws GEOMETRY_MISMATCH when the directions differ.
 */
export function resampleOnto(volume: Volume, dst: Grid, options: ResampleOptions = {}): Volume {
  const interp = options.interpolation ?? RESAMPLE_DEFAULTS.interpolation;
  const src = volume.grid;
  // old continuous index = A * new index + b, with A diagonal when the directions agree
  const T = multiplyAffine(ijkFromLpsMatrix(src), lpsFromIjkMatrix(dst));
  const scale: number[] = [];
  const shift: number[] = [];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      if (r !== c && Math.abs(T[r * 4 + c]!) > 1e-6) {
        throw new S2SError(
          'GEOMETRY_MISMATCH',
          'resampleOnto needs a target grid with the same direction as the volume',
          {
            hint: 'use resample() to change spacing; reorientation is a separate step',
          },
        );
      }
    }
    scale.push(T[r * 5]!);
    shift.push(T[r * 4 + 3]!);
  }
  const tables = [0, 1, 2].map((a) => axisTable(dst.size[a]!, src.size[a]!, scale[a]!, shift[a]!, interp));
  const nIn = voxelCount(src);
  const nOut = voxelCount(dst);
  const channels = volume.components * volume.frames;
  const isFloatIn = volume.data instanceof Float32Array || volume.data instanceof Float64Array;
  const keep =
    interp === 'nearest' || (options.keepType ?? RESAMPLE_DEFAULTS.keepType) || volume.data instanceof Float64Array;
  const Out = (keep ? volume.data.constructor : Float32Array) as new (n: number) => VoxelArray;
  const out = new Out(nOut * channels);
  const range = !isFloatIn && keep ? intRange(volume.data) : undefined;
  const nc = volume.components;
  const tick = progressReporter('resample', channels * 3, options);
  // float32 intermediates unless the values need more than 24 bits
  const wide =
    volume.data instanceof Float64Array || volume.data instanceof Int32Array || volume.data instanceof Uint32Array;
  const Work = (wide ? Float64Array : Float32Array) as new (n: number) => Float32Array | Float64Array;
  for (let ch = 0; ch < channels; ch++) {
    const t = Math.floor(ch / nc);
    const c = ch % nc;
    // gather the channel, then three separable passes: i, then j, then k
    let cur = new Work(nIn);
    for (let p = 0; p < nIn; p++) cur[p] = volume.data[(t * nIn + p) * nc + c]!;
    let size: Vec3 = src.size;
    for (let a = 0; a < 3; a++) {
      const next = new Work((cur.length / size[a]!) * dst.size[a]!);
      applyAxis(cur, size, a, tables[a]!, next);
      size = [a === 0 ? dst.size[0] : size[0], a === 1 ? dst.size[1] : size[1], a === 2 ? dst.size[2] : size[2]];
      cur = next;
      tick(ch * 3 + a + 1);
    }
    for (let p = 0; p < nOut; p++) {
      let v = cur[p]!;
      if (range) {
        v = Math.round(v);
        if (v < range[0]) v = range[0];
        else if (v > range[1]) v = range[1];
      }
      out[(t * nOut + p) * nc + c] = v;
    }
  }
  return { ...volume, grid: dst, data: out };
}

/** One axis of a separable resampling: for each output position, its source taps and weights. */
export interface AxisTable {
  readonly taps: number;
  /** For each output position: taps source indices (clamped) and weights. */
  readonly index: Int32Array;
  readonly weight: Float64Array;
}

/**
 * The table of output positions o = 0..nOut-1 at source coordinate `scale * o + shift` (clamped to
 * 0..nIn-1): 1 tap for nearest, 2 for linear, 4 for cubic (Keys, a = -0.5). Shared by
 * `resampleOnto` and the AI package's region resampling, so both sample identically.
 */
export function axisTable(nOut: number, nIn: number, scale: number, shift: number, interp: Interpolation): AxisTable {
  const taps = interp === 'nearest' ? 1 : interp === 'linear' ? 2 : 4;
  const index = new Int32Array(nOut * taps);
  const weight = new Float64Array(nOut * taps);
  const clamp = (x: number) => (x < 0 ? 0 : x >= nIn ? nIn - 1 : x);
  for (let o = 0; o < nOut; o++) {
    // snap values within 1e-9 of an integer (exact grid coincidences)
    let x = scale * o + shift;
    const rx = Math.round(x);
    if (Math.abs(x - rx) < 1e-9) x = rx;
    const b = o * taps;
    if (interp === 'nearest') {
      index[b] = clamp(Math.floor(x + 0.5));
      weight[b] = 1;
    } else if (interp === 'linear') {
      const x0 = Math.floor(x);
      const f = x - x0;
      index[b] = clamp(x0);
      index[b + 1] = clamp(x0 + 1);
      weight[b] = 1 - f;
      weight[b + 1] = f;
    } else {
      const x0 = Math.floor(x);
      const f = x - x0;
      // Keys (a = -0.5) weights for offsets -1, 0, 1, 2
      const f2 = f * f;
      const f3 = f2 * f;
      weight[b] = -0.5 * f3 + f2 - 0.5 * f;
      weight[b + 1] = 1.5 * f3 - 2.5 * f2 + 1;
      weight[b + 2] = -1.5 * f3 + 2 * f2 + 0.5 * f;
      weight[b + 3] = 0.5 * f3 - 0.5 * f2;
      for (let t = 0; t < 4; t++) index[b + t] = clamp(x0 - 1 + t);
    }
  }
  return { taps, index, weight };
}

/** Resamples `src` (size) along axis a with the table into dst (size with axis a replaced). */
function applyAxis(
  src: ArrayLike<number>,
  size: Vec3,
  a: number,
  tab: AxisTable,
  dst: Float32Array | Float64Array,
): void {
  const [nx, ny, nz] = size;
  const { taps, index, weight } = tab;
  const nOut = index.length / taps;
  if (a === 0) {
    const rows = ny * nz;
    for (let r = 0; r < rows; r++) {
      const sb = r * nx;
      const db = r * nOut;
      for (let o = 0; o < nOut; o++) {
        let s = 0;
        for (let t = 0; t < taps; t++) s += weight[o * taps + t]! * src[sb + index[o * taps + t]!]!;
        dst[db + o] = s;
      }
    }
    return;
  }
  // axes 1 and 2: combine whole rows of nx values (contiguous inner loop)
  const inner = a === 1 ? nx : nx * ny; // stride of one step along the axis
  const outer = a === 1 ? nz : 1; // blocks
  const n = a === 1 ? ny : nz;
  const blockIn = inner * n;
  const blockOut = inner * nOut;
  for (let bIdx = 0; bIdx < outer; bIdx++) {
    const sb = bIdx * blockIn;
    const db = bIdx * blockOut;
    for (let o = 0; o < nOut; o++) {
      const d = db + o * inner;
      for (let e = 0; e < inner; e++) dst[d + e] = 0;
      for (let t = 0; t < taps; t++) {
        const w = weight[o * taps + t]!;
        if (w === 0) continue;
        const s = sb + index[o * taps + t]! * inner;
        for (let e = 0; e < inner; e++) dst[d + e]! += w * src[s + e]!;
      }
    }
  }
}

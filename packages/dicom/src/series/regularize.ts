/**
 * Stack geometry to `Grid`, and resampling of tilted / unevenly spaced stacks onto a regular
 * orthogonal grid with equidistant slices.
 *
 * Regularized grid (like 3D Slicer's acquisition-geometry regularization and dcm2niix's
 * `_Tilt_Eq` output): axes = the image row and column directions and the slice-plane normal;
 * in-plane sample positions are those of the first slice's pixel lattice, extended by whole
 * pixels to cover every slice (a tilted stack shifts sideways from slice to slice); slices are
 * equidistant along the normal from the first to the last slice. Each output voxel is
 * interpolated bilinearly in the two original slice planes that bracket it and linearly between
 * them (trilinear in world space along the slice normal). Voxels outside every original slice get
 * the smallest value of the data (as dcm2niix does), so no bright frame appears.
 */
import {
  cross,
  dot,
  type Grid,
  makeGrid,
  normalize,
  progressReporter,
  type RunOptions,
  type Vec3,
  type VoxelArray,
} from '@slice2solid/core';
import type { StackLayout } from './stack.js';

export interface RegularizeOptions {
  /** Never make more than this many times the original number of slices (dcm2niix uses 2). */
  readonly maxSliceFactor: number;
}

export const REGULARIZE_DEFAULTS: RegularizeOptions = { maxSliceFactor: 2 };

/** Grid of the stored stack: exact when evenly spaced; otherwise the mean step (raw mode). */
export function stackGrid(layout: StackLayout): Grid {
  const nK = layout.positions.length;
  const [si, sj] = layout.pixelSpacing;
  let dir2: Vec3 = layout.normal;
  let sk = sliceThicknessOf(layout) ?? Math.min(si, sj);
  const len = Math.hypot(...layout.step);
  if (nK >= 2 && len > 0) {
    dir2 = normalize(layout.step);
    sk = len;
  }
  return makeGrid({
    size: [layout.columns, layout.rows, nK],
    spacing: [si, sj, sk],
    origin: layout.positions[0]!,
    direction: [layout.rowDir, layout.colDir, dir2],
  });
}

function sliceThicknessOf(layout: StackLayout): number | undefined {
  const t = layout.slices[0]?.[0]?.frame.sliceThickness;
  return t !== undefined && t > 0 ? t : undefined;
}

export interface RegularPlan {
  readonly grid: Grid;
  /** First in-plane lattice index (relative to slice 0) covered by the output along i and j. */
  readonly i0: number;
  readonly j0: number;
  /** In-plane offsets (in pixels of the first slice's lattice) of each original slice. */
  readonly sliceU: readonly number[];
  readonly sliceV: readonly number[];
  /** Normal offsets (mm) of each original slice, ascending. */
  readonly sliceW: readonly number[];
  /** Output slice spacing along the normal. */
  readonly spacing: number;
}

/** The regular orthogonal grid for a stack (see the file comment). */
export function regularPlan(layout: StackLayout, options: RegularizeOptions = REGULARIZE_DEFAULTS): RegularPlan {
  const { rowDir, colDir, normal, positions } = layout;
  const [si, sj] = layout.pixelSpacing;
  const p0 = positions[0]!;
  // express each slice origin in the (row, col, normal) frame, exactly even if not orthonormal
  const inv = invert3([rowDir, colDir, normal]);
  const sliceU: number[] = [];
  const sliceV: number[] = [];
  const sliceW: number[] = [];
  for (const p of positions) {
    const d: Vec3 = [p[0] - p0[0], p[1] - p0[1], p[2] - p0[2]];
    const c = mulCols(inv, d);
    sliceU.push(c[0] / si);
    sliceV.push(c[1] / sj);
    sliceW.push(c[2]);
  }
  const eps = 1e-6;
  const i0 = Math.floor(Math.min(...sliceU) + eps);
  const i1 = Math.ceil(Math.max(...sliceU) - eps) + layout.columns - 1;
  const j0 = Math.floor(Math.min(...sliceV) + eps);
  const j1 = Math.ceil(Math.max(...sliceV) - eps) + layout.rows - 1;
  const nK = positions.length;
  const extent = sliceW[nK - 1]! - sliceW[0]!;
  let nz = nK;
  let spacing = nK > 1 ? extent / (nK - 1) : (sliceThicknessOf(layout) ?? Math.min(si, sj));
  if (!layout.evenlySpaced && nK > 1) {
    let gmin = Infinity;
    for (let k = 1; k < nK; k++) gmin = Math.min(gmin, sliceW[k]! - sliceW[k - 1]!);
    nz = Math.round(extent / gmin) + 1;
    const cap = Math.max(nK, Math.round(options.maxSliceFactor * nK));
    if (nz > cap) nz = cap;
    spacing = extent / (nz - 1);
  }
  const origin: Vec3 = [
    p0[0] + rowDir[0] * si * i0 + colDir[0] * sj * j0,
    p0[1] + rowDir[1] * si * i0 + colDir[1] * sj * j0,
    p0[2] + rowDir[2] * si * i0 + colDir[2] * sj * j0,
  ];
  const grid = makeGrid({
    size: [i1 - i0 + 1, j1 - j0 + 1, nz],
    spacing: [si, sj, spacing],
    origin,
    direction: [rowDir, colDir, normal],
  });
  return { grid, i0, j0, sliceU, sliceV, sliceW, spacing };
}

/** Resamples stored stack data (all frames) onto `plan.grid`. Int16 input stays Int16 (rounded). */
export function resampleStack(
  data: VoxelArray,
  components: number,
  frames: number,
  layout: StackLayout,
  plan: RegularPlan,
  options: RunOptions = {},
): { data: VoxelArray; fill: number } {
  const nx = layout.columns;
  const ny = layout.rows;
  const nK = layout.positions.length;
  const [ox, oy, oz] = plan.grid.size;
  const inSlice = nx * ny * components;
  const outSlice = ox * oy * components;
  let fill = Infinity;
  for (let n = 0; n < data.length; n++) if (data[n]! < fill) fill = data[n]!;
  if (!Number.isFinite(fill)) fill = 0;
  const Ctor = data.constructor as new (n: number) => VoxelArray;
  const round = !(data instanceof Float32Array || data instanceof Float64Array);
  const out = new Ctor(outSlice * oz * frames);
  const tick = progressReporter('regularize', frames * oz, options);
  const { sliceU, sliceV, sliceW } = plan;
  // per output slice: bracketing input slices and weight
  const lo: number[] = [];
  const wt: number[] = [];
  for (let z = 0; z < oz; z++) {
    const w = sliceW[0]! + z * plan.spacing;
    let k = 0;
    while (k < nK - 2 && sliceW[k + 1]! < w) k++;
    if (nK === 1) {
      lo.push(0);
      wt.push(0);
      continue;
    }
    const a = sliceW[k]!;
    const b = sliceW[k + 1]!;
    let f = b > a ? (w - a) / (b - a) : 0;
    if (Math.abs(f) < 1e-9) f = 0;
    if (Math.abs(f - 1) < 1e-9) f = 1;
    lo.push(k);
    wt.push(Math.min(1, Math.max(0, f)));
  }
  const sample = (t: number, k: number, x: number, y: number, c: number): number | undefined => {
    // bilinear in slice k at continuous in-slice index (x, y); undefined outside the slice
    if (x < -1e-6 || y < -1e-6 || x > nx - 1 + 1e-6 || y > ny - 1 + 1e-6) return undefined;
    const xi = Math.min(Math.max(Math.floor(x), 0), nx - 1);
    const yi = Math.min(Math.max(Math.floor(y), 0), ny - 1);
    const fx = Math.min(Math.max(x - xi, 0), 1);
    const fy = Math.min(Math.max(y - yi, 0), 1);
    const x1 = Math.min(xi + 1, nx - 1);
    const y1 = Math.min(yi + 1, ny - 1);
    const base = (t * nK + k) * inSlice;
    const v00 = data[base + (yi * nx + xi) * components + c]!;
    const v10 = data[base + (yi * nx + x1) * components + c]!;
    const v01 = data[base + (y1 * nx + xi) * components + c]!;
    const v11 = data[base + (y1 * nx + x1) * components + c]!;
    return (v00 * (1 - fx) + v10 * fx) * (1 - fy) + (v01 * (1 - fx) + v11 * fx) * fy;
  };
  let done = 0;
  for (let t = 0; t < frames; t++) {
    for (let z = 0; z < oz; z++) {
      const k = lo[z]!;
      const f = wt[z]!;
      const k1 = Math.min(k + 1, nK - 1);
      const base = (t * oz + z) * outSlice;
      for (let y = 0; y < oy; y++) {
        for (let x = 0; x < ox; x++) {
          const gx = x + plan.i0;
          const gy = y + plan.j0;
          for (let c = 0; c < components; c++) {
            const a = f < 1 ? sample(t, k, gx - sliceU[k]!, gy - sliceV[k]!, c) : undefined;
            const b = f > 0 ? sample(t, k1, gx - sliceU[k1]!, gy - sliceV[k1]!, c) : undefined;
            let v: number;
            if (f === 0) v = a ?? fill;
            else if (f === 1) v = b ?? fill;
            else if (a !== undefined && b !== undefined) v = a * (1 - f) + b * f;
            else v = fill;
            out[base + (y * ox + x) * components + c] = round ? Math.round(v) : v;
          }
        }
      }
      tick(++done);
    }
  }
  return { data: out, fill };
}

type M3 = readonly [Vec3, Vec3, Vec3];

/** Inverse of the matrix whose COLUMNS are a, b, c; returned as rows. */
function invert3(cols: M3): M3 {
  const [a, b, c] = cols;
  const bc = cross(b, c);
  const det = dot(a, bc);
  const r0 = bc.map((x) => x / det) as unknown as Vec3;
  const r1 = cross(c, a).map((x) => x / det) as unknown as Vec3;
  const r2 = cross(a, b).map((x) => x / det) as unknown as Vec3;
  return [r0, r1, r2];
}

function mulCols(rows: M3, v: Vec3): Vec3 {
  return [dot(rows[0], v), dot(rows[1], v), dot(rows[2], v)];
}

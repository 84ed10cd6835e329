/**
 * The geometry contract of slice2solid (see packages/core/README.md).
 *
 * World frame: DICOM patient coordinates, LPS, in millimetres
 *   +x towards the patient's Left, +y towards Posterior, +z towards Superior.
 * Index frame: (i, j, k) voxel indices, i fastest in memory; (0,0,0) is the CENTRE of the first voxel.
 *
 *   lps = origin + direction[0] * spacing[0] * i
 *                + direction[1] * spacing[1] * j
 *                + direction[2] * spacing[2] * k
 *
 * `direction[a]` is the unit vector (in LPS) along which index axis `a` increases, i.e. the
 * COLUMNS of the 3x3 direction matrix. Directions may be non-orthogonal (a raw gantry-tilted
 * stack is sheared) and may form a left-handed frame.
 *
 * Every voxel-to-world conversion goes through `lpsFromIjkMatrix` (or its wrappers `lpsFromIjk`
 * and `ijkFromLps`). Transforms are named destination-from-source.
 */
import { S2SError } from './errors.js';

export type Vec3 = readonly [number, number, number];

export interface Grid {
  /** Number of voxels along i, j, k. */
  readonly size: Vec3;
  /** Distance in mm between neighbouring voxel centres along i, j, k (all > 0). */
  readonly spacing: Vec3;
  /** LPS position in mm of the centre of voxel (0, 0, 0). */
  readonly origin: Vec3;
  /** direction[a] = unit LPS vector along which index axis a increases (columns of the direction matrix). */
  readonly direction: readonly [Vec3, Vec3, Vec3];
}

/** A 4x4 affine as 16 numbers in ROW-MAJOR order: m[r * 4 + c]. The last row is 0 0 0 1. */
export type Mat4 = Float64Array;

export const IDENTITY_DIRECTION: readonly [Vec3, Vec3, Vec3] = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

/** Makes a grid, checking every field; direction defaults to identity, origin to 0. */
export function makeGrid(init: {
  size: Vec3 | readonly number[];
  spacing?: Vec3 | readonly number[];
  origin?: Vec3 | readonly number[];
  direction?: readonly (Vec3 | readonly number[])[];
}): Grid {
  const v3 = (a: readonly number[] | undefined, d: Vec3, what: string): Vec3 => {
    if (a === undefined) return d;
    if (a.length !== 3 || !a.every((x) => Number.isFinite(x))) {
      throw new S2SError('INVALID_ARGUMENT', `grid ${what} must be 3 finite numbers, got [${a.join(', ')}]`);
    }
    return [a[0] as number, a[1] as number, a[2] as number];
  };
  const size = v3(init.size, [1, 1, 1], 'size');
  if (!size.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new S2SError('INVALID_ARGUMENT', `grid size must be positive integers, got [${size.join(', ')}]`);
  }
  const spacing = v3(init.spacing, [1, 1, 1], 'spacing');
  if (!spacing.every((s) => s > 0)) {
    throw new S2SError('INVALID_ARGUMENT', `grid spacing must be > 0 mm, got [${spacing.join(', ')}]`, {
      hint: 'give a positive spacing in millimetres',
    });
  }
  const origin = v3(init.origin, [0, 0, 0], 'origin');
  let direction = IDENTITY_DIRECTION;
  if (init.direction !== undefined) {
    if (init.direction.length !== 3) throw new S2SError('INVALID_ARGUMENT', 'grid direction must have 3 axes');
    const d = init.direction.map((a, idx) => normalize(v3(a, [0, 0, 0], `direction[${idx}]`)));
    direction = [d[0] as Vec3, d[1] as Vec3, d[2] as Vec3];
    if (Math.abs(det3(direction)) < 1e-6) {
      throw new S2SError('INVALID_ARGUMENT', 'grid direction axes are degenerate (parallel or zero)');
    }
  }
  return { size, spacing, origin, direction };
}

/** The affine that takes (i, j, k, 1) to (x, y, z, 1) in LPS mm. The only place the geometry formula lives. */
export function lpsFromIjkMatrix(grid: Grid): Mat4 {
  const m = new Float64Array(16);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      m[r * 4 + c] = (grid.direction[c] as Vec3)[r]! * grid.spacing[c]!;
    }
    m[r * 4 + 3] = grid.origin[r]!;
  }
  m[15] = 1;
  return m;
}

/** The inverse of `lpsFromIjkMatrix`: LPS mm to continuous voxel index. */
export function ijkFromLpsMatrix(grid: Grid): Mat4 {
  return invertAffine(lpsFromIjkMatrix(grid));
}

/** LPS position (mm) of a (possibly fractional) voxel index. */
export function lpsFromIjk(grid: Grid, ijk: readonly number[]): Vec3 {
  return applyAffine(lpsFromIjkMatrix(grid), ijk);
}

/** Continuous voxel index of an LPS position (mm). */
export function ijkFromLps(grid: Grid, lps: readonly number[]): Vec3 {
  return applyAffine(ijkFromLpsMatrix(grid), lps);
}

/** Makes a grid from an affine that maps index to LPS (columns = spacing * direction). */
export function gridFromLpsAffine(m: Mat4 | readonly number[], size: Vec3 | readonly number[]): Grid {
  const cols: Vec3[] = [];
  const spacing: number[] = [];
  for (let c = 0; c < 3; c++) {
    const col: Vec3 = [m[c]!, m[4 + c]!, m[8 + c]!];
    const n = Math.hypot(...col);
    if (!(n > 0) || !Number.isFinite(n)) {
      throw new S2SError('MISSING_GEOMETRY', `the affine's column ${c} has zero or invalid length`, {
        hint: 'the file has a broken orientation matrix; fix its header or give the spacing explicitly',
      });
    }
    spacing.push(n);
    cols.push([col[0] / n, col[1] / n, col[2] / n]);
  }
  return makeGrid({ size, spacing, origin: [m[3]!, m[7]!, m[11]!], direction: cols });
}

export function applyAffine(m: Mat4 | readonly number[], p: readonly number[]): Vec3 {
  const x = p[0] ?? 0;
  const y = p[1] ?? 0;
  const z = p[2] ?? 0;
  return [
    m[0]! * x + m[1]! * y + m[2]! * z + m[3]!,
    m[4]! * x + m[5]! * y + m[6]! * z + m[7]!,
    m[8]! * x + m[9]! * y + m[10]! * z + m[11]!,
  ];
}

/** Row-major 4x4 product a * b (apply b first, then a). */
export function multiplyAffine(a: Mat4 | readonly number[], b: Mat4 | readonly number[]): Mat4 {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[r * 4 + k]! * b[k * 4 + c]!;
      out[r * 4 + c] = s;
    }
  }
  return out;
}

/** Inverse of an affine 4x4 (last row 0 0 0 1). */
export function invertAffine(m: Mat4 | readonly number[]): Mat4 {
  const a = m[0]!,
    b = m[1]!,
    c = m[2]!,
    d = m[4]!,
    e = m[5]!,
    f = m[6]!,
    g = m[8]!,
    h = m[9]!,
    i = m[10]!;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-300) {
    throw new S2SError('INVALID_ARGUMENT', 'the affine is singular and cannot be inverted');
  }
  const inv = [
    A / det,
    -(b * i - c * h) / det,
    (b * f - c * e) / det,
    B / det,
    (a * i - c * g) / det,
    -(a * f - c * d) / det,
    C / det,
    -(a * h - b * g) / det,
    (a * e - b * d) / det,
  ] as const;
  const out = new Float64Array(16);
  const t = [m[3]!, m[7]!, m[11]!];
  for (let r = 0; r < 3; r++) {
    out[r * 4] = inv[r * 3]!;
    out[r * 4 + 1] = inv[r * 3 + 1]!;
    out[r * 4 + 2] = inv[r * 3 + 2]!;
    out[r * 4 + 3] = -(inv[r * 3]! * t[0]! + inv[r * 3 + 1]! * t[1]! + inv[r * 3 + 2]! * t[2]!);
  }
  out[15] = 1;
  return out;
}

export function voxelCount(grid: Grid): number {
  return grid.size[0] * grid.size[1] * grid.size[2];
}

/** Determinant of the direction matrix: +1 right-handed, -1 left-handed (for orthonormal directions). */
export function directionDeterminant(grid: Grid): number {
  return det3(grid.direction);
}

/** True if index space is a left-handed frame in LPS (meshes must flip winding there). */
export function isLeftHanded(grid: Grid): boolean {
  return directionDeterminant(grid) < 0;
}

/** Largest |cos| between two distinct direction axes (0 for orthogonal grids). */
export function directionSkew(grid: Grid): number {
  const [a, b, c] = grid.direction;
  return Math.max(Math.abs(dot(a, b)), Math.abs(dot(a, c)), Math.abs(dot(b, c)));
}

/**
 * The orientation code: for each index axis, the patient direction it points TOWARDS
 * (L/R, P/A, S/I). An identity LPS grid is "LPS"; a NIfTI in RAS+ order is "RAS".
 */
export function orientationCode(grid: Grid): string {
  const letters = [
    ['L', 'R'],
    ['P', 'A'],
    ['S', 'I'],
  ] as const;
  let code = '';
  for (const d of grid.direction) {
    let best = 0;
    for (let r = 1; r < 3; r++) if (Math.abs(d[r]!) > Math.abs(d[best]!)) best = r;
    code += letters[best]![d[best]! >= 0 ? 0 : 1];
  }
  return code;
}

/** Axis-aligned LPS bounding box of the voxel centres: [min, max]. */
export function worldBounds(grid: Grid): [Vec3, Vec3] {
  const m = lpsFromIjkMatrix(grid);
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (let n = 0; n < 8; n++) {
    const p = applyAffine(m, [
      n & 1 ? grid.size[0] - 1 : 0,
      n & 2 ? grid.size[1] - 1 : 0,
      n & 4 ? grid.size[2] - 1 : 0,
    ]);
    for (let r = 0; r < 3; r++) {
      lo[r] = Math.min(lo[r]!, p[r]!);
      hi[r] = Math.max(hi[r]!, p[r]!);
    }
  }
  return [lo as unknown as Vec3, hi as unknown as Vec3];
}

/** Same size and every voxel centre within `tolMm` (checks the 8 corners, exact for affine maps). */
export function gridsMatch(a: Grid, b: Grid, tolMm = 1e-3): boolean {
  if (a.size.some((n, i) => n !== b.size[i])) return false;
  return maxCornerDistance(a, b) <= tolMm;
}

/** Largest distance (mm) between corresponding corner voxel centres of two grids with equal size. */
export function maxCornerDistance(a: Grid, b: Grid): number {
  const ma = lpsFromIjkMatrix(a);
  const mb = lpsFromIjkMatrix(b);
  let worst = 0;
  for (let n = 0; n < 8; n++) {
    const ijk = [n & 1 ? a.size[0] - 1 : 0, n & 2 ? a.size[1] - 1 : 0, n & 4 ? a.size[2] - 1 : 0];
    const p = applyAffine(ma, ijk);
    const q = applyAffine(mb, ijk);
    worst = Math.max(worst, Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
  }
  return worst;
}

export function dot(a: readonly number[], b: readonly number[]): number {
  return a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
}

export function cross(a: readonly number[], b: readonly number[]): Vec3 {
  return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
}

export function normalize(a: readonly number[]): Vec3 {
  const n = Math.hypot(a[0]!, a[1]!, a[2]!);
  if (!(n > 0)) return [0, 0, 0];
  return [a[0]! / n, a[1]! / n, a[2]! / n];
}

function det3(d: readonly (readonly number[])[]): number {
  const [a, b, c] = d as [Vec3, Vec3, Vec3];
  return dot(a, cross(b, c));
}

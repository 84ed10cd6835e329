/**
 * Which voxels a slice view shows and how they map to the screen (no DOM).
 *
 * A view shows one INDEX plane of the grid (no resampling: every pixel is a stored voxel), the
 * plane whose normal is closest to the view's patient axis. Screen axes follow the radiological
 * convention in DICOM LPS (x = patient Left, y = Posterior, z = Superior):
 *   axial:    screen right = patient left (+x),      screen down = posterior (+y)
 *   coronal:  screen right = patient left (+x),      screen down = inferior (-z)
 *   sagittal: screen right = posterior (+y),         screen down = inferior (-z)
 * For an oblique grid the plane is the closest index plane, not an exact patient plane; the
 * crosshair position is always the exact LPS position of the voxel centre (lpsFromIjk).
 */
import type { Grid } from '@slice2solid/core';

export type ViewName = 'axial' | 'coronal' | 'sagittal';

export const VIEW_NAMES: readonly ViewName[] = ['axial', 'coronal', 'sagittal'];

/** One screen axis: the index axis it walks along and whether it walks backwards. */
export interface ScreenAxis {
  readonly axis: 0 | 1 | 2;
  readonly flip: boolean;
  readonly n: number;
  readonly spacing: number;
}

export interface ViewGeometry {
  readonly view: ViewName;
  /** Index axis across which the view slices (its slice number runs along it). */
  readonly sliceAxis: 0 | 1 | 2;
  readonly slices: number;
  /** Screen x (columns, left to right) and y (rows, top to bottom). */
  readonly u: ScreenAxis;
  readonly v: ScreenAxis;
}

const PERMS: readonly (readonly [0 | 1 | 2, 0 | 1 | 2, 0 | 1 | 2])[] = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
];

/**
 * patientAxisOf[a] = the LPS axis (0 = x, 1 = y, 2 = z) index axis a is closest to, chosen as the
 * one-to-one assignment with the largest total alignment (works for strongly oblique grids too).
 */
export function patientAxes(grid: Grid): { axisOf: [0 | 1 | 2, 0 | 1 | 2, 0 | 1 | 2]; sign: [number, number, number] } {
  let best = PERMS[0]!;
  let bestScore = -1;
  for (const p of PERMS) {
    const s = Math.abs(grid.direction[0][p[0]]) + Math.abs(grid.direction[1][p[1]]) + Math.abs(grid.direction[2][p[2]]);
    if (s > bestScore + 1e-12) {
      bestScore = s;
      best = p;
    }
  }
  const sign = [0, 1, 2].map((a) => (grid.direction[a as 0 | 1 | 2][best[a]!]! >= 0 ? 1 : -1)) as [
    number,
    number,
    number,
  ];
  return { axisOf: [best[0], best[1], best[2]], sign };
}

/** For each view: (slice patient axis, screen-x patient axis and direction, screen-y patient axis and direction). */
const VIEW_AXES: Record<ViewName, { normal: 0 | 1 | 2; u: [0 | 1 | 2, 1 | -1]; v: [0 | 1 | 2, 1 | -1] }> = {
  axial: { normal: 2, u: [0, 1], v: [1, 1] },
  coronal: { normal: 1, u: [0, 1], v: [2, -1] },
  sagittal: { normal: 0, u: [1, 1], v: [2, -1] },
};

export function viewGeometry(grid: Grid, view: ViewName): ViewGeometry {
  const { axisOf, sign } = patientAxes(grid);
  const indexFor = (patient: number) => axisOf.indexOf(patient as 0 | 1 | 2) as 0 | 1 | 2;
  const spec = VIEW_AXES[view];
  const screen = ([p, dir]: [0 | 1 | 2, 1 | -1]): ScreenAxis => {
    const axis = indexFor(p);
    return { axis, flip: sign[axis] * dir < 0, n: grid.size[axis], spacing: grid.spacing[axis] };
  };
  const sliceAxis = indexFor(spec.normal);
  return { view, sliceAxis, slices: grid.size[sliceAxis], u: screen(spec.u), v: screen(spec.v) };
}

/** The voxel (i, j, k) under screen pixel (x, y) of a view at `slice`. */
export function voxelAt(g: ViewGeometry, slice: number, x: number, y: number): [number, number, number] {
  const ijk: [number, number, number] = [0, 0, 0];
  ijk[g.sliceAxis] = slice;
  ijk[g.u.axis] = g.u.flip ? g.u.n - 1 - x : x;
  ijk[g.v.axis] = g.v.flip ? g.v.n - 1 - y : y;
  return ijk;
}

/** The screen pixel (x, y) of voxel ijk in a view (ignoring its slice). */
export function screenOf(g: ViewGeometry, ijk: readonly number[]): [number, number] {
  const a = ijk[g.u.axis]!;
  const b = ijk[g.v.axis]!;
  return [g.u.flip ? g.u.n - 1 - a : a, g.v.flip ? g.v.n - 1 - b : b];
}

/** Linear voxel offsets of the view's pixels, row by row: index[y * nu + x]. */
export function sliceIndices(grid: Grid, g: ViewGeometry, slice: number): Uint32Array {
  const [ni, nj] = grid.size;
  const stride = [1, ni, ni * nj];
  const nu = g.u.n;
  const nv = g.v.n;
  const out = new Uint32Array(nu * nv);
  const base = slice * stride[g.sliceAxis]!;
  const su = stride[g.u.axis]!;
  const sv = stride[g.v.axis]!;
  for (let y = 0; y < nv; y++) {
    const b = base + (g.v.flip ? nv - 1 - y : y) * sv;
    const row = y * nu;
    if (g.u.flip) for (let x = 0; x < nu; x++) out[row + x] = b + (nu - 1 - x) * su;
    else for (let x = 0; x < nu; x++) out[row + x] = b + x * su;
  }
  return out;
}

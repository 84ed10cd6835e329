// Analytic phantoms for the surface tests: signed-distance volumes (positive inside, mm) sampled
// on arbitrary grids, with the exact distance to the analytic surface for error checks.
import {
  type Grid,
  lpsFromIjkMatrix,
  type Mesh,
  makeGrid,
  makeVolume,
  type Vec3,
  type Volume,
} from '@slice2solid/core';

export interface Shape {
  readonly name: string;
  /** Signed distance in mm, positive inside. */
  sdf(x: number, y: number, z: number): number;
  /** Exact enclosed volume, mm³. */
  readonly volume: number;
  /** Exact Euler characteristic of the surface. */
  readonly euler: number;
  /** Components of the surface. */
  readonly parts: number;
}

export function sphere(c: Vec3, r: number): Shape {
  return {
    name: `sphere r=${r}`,
    sdf: (x, y, z) => r - Math.hypot(x - c[0], y - c[1], z - c[2]),
    volume: (4 / 3) * Math.PI * r ** 3,
    euler: 2,
    parts: 1,
  };
}

/** Torus around axis `n` (unit) through c: major radius R, minor radius r. */
export function torus(c: Vec3, R: number, r: number, n: Vec3 = [0, 0, 1]): Shape {
  return {
    name: `torus R=${R} r=${r}`,
    sdf: (x, y, z) => {
      const px = x - c[0];
      const py = y - c[1];
      const pz = z - c[2];
      const h = px * n[0] + py * n[1] + pz * n[2];
      const rho = Math.sqrt(Math.max(0, px * px + py * py + pz * pz - h * h));
      return r - Math.hypot(rho - R, h);
    },
    volume: 2 * Math.PI * Math.PI * R * r * r,
    euler: 0,
    parts: 1,
  };
}

/** Hollow spherical shell between r1 and r2 (two surfaces: outer outward, inner facing the cavity). */
export function shell(c: Vec3, r1: number, r2: number): Shape {
  return {
    name: `shell ${r1}..${r2}`,
    sdf: (x, y, z) => {
      const d = Math.hypot(x - c[0], y - c[1], z - c[2]);
      return Math.min(d - r1, r2 - d);
    },
    volume: (4 / 3) * Math.PI * (r2 ** 3 - r1 ** 3),
    euler: 4,
    parts: 2,
  };
}

/** Samples the SDF at every voxel centre (world position through the core's one matrix). */
export function sampleShape(shape: Shape, grid: Grid): Volume {
  const m = lpsFromIjkMatrix(grid);
  const [nx, ny, nz] = grid.size;
  const data = new Float32Array(nx * ny * nz);
  let n = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        const x = m[0]! * i + m[1]! * j + m[2]! * k + m[3]!;
        const y = m[4]! * i + m[5]! * j + m[6]! * k + m[7]!;
        const z = m[8]! * i + m[9]! * j + m[10]! * k + m[11]!;
        data[n++] = shape.sdf(x, y, z);
      }
  return makeVolume({ grid, data, units: 'mm' });
}

/** Binary mask (1 inside) of a shape. */
export function maskShape(shape: Shape, grid: Grid): Uint8Array {
  const v = sampleShape(shape, grid);
  return Uint8Array.from(v.data as Float32Array, (x) => (x >= 0 ? 1 : 0));
}

/** Largest |sdf| over the mesh vertices (mm): the distance to the analytic surface for these SDFs. */
export function maxSurfaceError(mesh: Mesh, shape: Shape): number {
  let worst = 0;
  const P = mesh.positions;
  for (let v = 0; v < P.length; v += 3) worst = Math.max(worst, Math.abs(shape.sdf(P[v]!, P[v + 1]!, P[v + 2]!)));
  return worst;
}

const C: Vec3 = [12.5, -30, 40];

/** Test grids around C: identity, anisotropic, oblique (rotated, right-handed), left-handed oblique. */
export function testGrids(extentMm: number, voxelMm: number): { name: string; grid: Grid }[] {
  const rot = (ax: Vec3, deg: number): [Vec3, Vec3, Vec3] => {
    const t = (deg * Math.PI) / 180;
    const [x, y, z] = ax;
    const n = Math.hypot(x, y, z);
    const u = [x / n, y / n, z / n] as const;
    const c = Math.cos(t);
    const s = Math.sin(t);
    // Rodrigues: R = cI + s[u]x + (1-c) u u^T
    const K = [
      [0, -u[2], u[1]],
      [u[2], 0, -u[0]],
      [-u[1], u[0], 0],
    ];
    const R = (i: number, j: number) => (i === j ? c : 0) + s * K[i]![j]! + (1 - c) * u[i]! * u[j]!;
    // columns of the rotation matrix = directions of the index axes
    return [0, 1, 2].map((col) => [R(0, col), R(1, col), R(2, col)] as Vec3) as [Vec3, Vec3, Vec3];
  };
  const build = (spacing: Vec3, direction: [Vec3, Vec3, Vec3]) => {
    const size = spacing.map((s) => Math.ceil((2 * extentMm) / s) + 1) as unknown as Vec3;
    // origin so that the grid centre is at C
    const half = size.map((n, a) => ((n - 1) / 2) * spacing[a]!);
    const origin = [0, 1, 2].map(
      (r) => C[r]! - direction.reduce((s, d, a) => s + d[r]! * half[a]!, 0),
    ) as unknown as Vec3;
    return makeGrid({ size, spacing, origin, direction });
  };
  const obl = rot([1, 2, 3], 27);
  const left: [Vec3, Vec3, Vec3] = [obl[0], obl[1], [-obl[2][0], -obl[2][1], -obl[2][2]]];
  return [
    {
      name: 'identity',
      grid: build(
        [voxelMm, voxelMm, voxelMm],
        [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
      ),
    },
    {
      name: 'anisotropic',
      grid: build(
        [voxelMm * 0.7, voxelMm * 0.9, voxelMm * 1.6],
        [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
      ),
    },
    { name: 'oblique', grid: build([voxelMm, voxelMm * 0.8, voxelMm * 1.25], obl) },
    { name: 'left-handed oblique', grid: build([voxelMm * 0.9, voxelMm, voxelMm * 1.2], left) },
  ];
}

export const CENTRE = C;

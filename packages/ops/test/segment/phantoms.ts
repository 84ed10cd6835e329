// Analytic phantoms for the segmentation tests: balls on oblique, anisotropic, left-handed grids.
import { type Grid, lpsFromIjkMatrix, makeGrid, makeVolume, type Vec3, type Volume } from '@slice2solid/core';

/** Rotation matrix columns for angles (radians) about z, then y, then x. */
export function rotatedDirections(az: number, ay: number, ax: number, leftHanded = false): Vec3[] {
  const cz = Math.cos(az);
  const sz = Math.sin(az);
  const cy = Math.cos(ay);
  const sy = Math.sin(ay);
  const cx = Math.cos(ax);
  const sx = Math.sin(ax);
  // R = Rx * Ry * Rz, rows
  const R = [
    [cy * cz, -cy * sz, sy],
    [sx * sy * cz + cx * sz, -sx * sy * sz + cx * cz, -sx * cy],
    [-cx * sy * cz + sx * sz, cx * sy * sz + sx * cz, cx * cy],
  ];
  const cols: Vec3[] = [0, 1, 2].map((c) => [R[0]![c]!, R[1]![c]!, R[2]![c]!] as Vec3);
  if (leftHanded) cols[2] = [-cols[2]![0], -cols[2]![1], -cols[2]![2]];
  return cols;
}

/** An oblique, anisotropic grid (0.9 x 1.1 x 1.6 mm) and optionally left-handed. */
export function obliqueGrid(size: Vec3, leftHanded = false): Grid {
  return makeGrid({
    size,
    spacing: [0.9, 1.1, 1.6],
    origin: [-20.5, 13.25, 101.75],
    direction: rotatedDirections(0.4, -0.3, 0.25, leftHanded),
  });
}

/** Fills a grid by a function of the LPS position of each voxel centre. */
export function fillByLps(grid: Grid, f: (x: number, y: number, z: number) => number): Float32Array {
  const m = lpsFromIjkMatrix(grid);
  const [nx, ny, nz] = grid.size;
  const out = new Float32Array(nx * ny * nz);
  let p = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, p++) {
        const x = m[0]! * i + m[1]! * j + m[2]! * k + m[3]!;
        const y = m[4]! * i + m[5]! * j + m[6]! * k + m[7]!;
        const z = m[8]! * i + m[9]! * j + m[10]! * k + m[11]!;
        out[p] = f(x, y, z);
      }
  return out;
}

/** A ball of value `inside` (radius r mm, centre c LPS) in a background `outside`. */
export function ballVolume(grid: Grid, c: Vec3, r: number, inside = 1000, outside = 0, units = 'HU'): Volume {
  const data = fillByLps(grid, (x, y, z) => (Math.hypot(x - c[0], y - c[1], z - c[2]) <= r ? inside : outside));
  return makeVolume({ grid, data, units });
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples from a uniform generator (Box-Muller). */
export function gaussian(u: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

export function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let p = 0; p < a.length; p++) s += a[p]!;
  return s;
}

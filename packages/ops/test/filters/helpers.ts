// Test helpers of the ops-filters tests: seeded random numbers, analytic phantoms on oblique,
// anisotropic and left-handed grids, and a bridge to scipy.ndimage for same-input comparisons.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Grid, lpsFromIjkMatrix, makeGrid, type Vec3, voxelCount } from '@slice2solid/core';
import { describe } from 'vitest';

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
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

export function randomMask(n: number, density: number, seed: number): Uint8Array {
  const r = rng(seed);
  const m = new Uint8Array(n);
  for (let p = 0; p < n; p++) m[p] = r() < density ? 1 : 0;
  return m;
}

/** Rotation by `deg` degrees about a unit axis (columns = rotated basis). */
function rotation(axis: Vec3, deg: number): [Vec3, Vec3, Vec3] {
  const [x, y, z] = axis;
  const n = Math.hypot(x, y, z);
  const [u, v, w] = [x / n, y / n, z / n];
  const c = Math.cos((deg * Math.PI) / 180);
  const s = Math.sin((deg * Math.PI) / 180);
  const t = 1 - c;
  const R = [
    [t * u * u + c, t * u * v - s * w, t * u * w + s * v],
    [t * u * v + s * w, t * v * v + c, t * v * w - s * u],
    [t * u * w - s * v, t * v * w + s * u, t * w * w + c],
  ];
  const col = (a: number): Vec3 => [R[0]![a]!, R[1]![a]!, R[2]![a]!];
  return [col(0), col(1), col(2)];
}

/** An oblique (rotated 30 deg about an odd axis), anisotropic and LEFT-handed grid. */
export function obliqueGrid(size: Vec3, spacing: Vec3 = [0.8, 1.1, 1.3], origin: Vec3 = [-12.5, 40, 7.25]): Grid {
  const [a, b, c] = rotation([1, 2, 3], 30);
  return makeGrid({ size, spacing, origin, direction: [a, b, [-c[0], -c[1], -c[2]]] });
}

/** Voxel centres (LPS) of a grid, as a callback per voxel index. */
export function forEachVoxelLps(grid: Grid, fn: (p: number, x: number, y: number, z: number) => void): void {
  const m = lpsFromIjkMatrix(grid);
  const [nx, ny, nz] = grid.size;
  let p = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, p++) {
        fn(
          p,
          m[0]! * i + m[1]! * j + m[2]! * k + m[3]!,
          m[4]! * i + m[5]! * j + m[6]! * k + m[7]!,
          m[8]! * i + m[9]! * j + m[10]! * k + m[11]!,
        );
      }
}

/** LPS centre of the grid's voxel box. */
export function gridCentre(grid: Grid): Vec3 {
  const m = lpsFromIjkMatrix(grid);
  const c = grid.size.map((s) => (s - 1) / 2);
  return [
    m[0]! * c[0]! + m[1]! * c[1]! + m[2]! * c[2]! + m[3]!,
    m[4]! * c[0]! + m[5]! * c[1]! + m[6]! * c[2]! + m[7]!,
    m[8]! * c[0]! + m[9]! * c[1]! + m[10]! * c[2]! + m[11]!,
  ];
}

/** Mask of voxel centres with rIn <= |x - c| <= rOut (a ball when rIn = 0). */
export function shellMask(grid: Grid, c: Vec3, rOut: number, rIn = 0): Uint8Array {
  const m = new Uint8Array(voxelCount(grid));
  forEachVoxelLps(grid, (p, x, y, z) => {
    const d = Math.hypot(x - c[0], y - c[1], z - c[2]);
    m[p] = d <= rOut && d >= rIn ? 1 : 0;
  });
  return m;
}

/** Torus with major radius R and tube radius r around centre c, its axis along unit vector `axis`. */
export function torusMask(grid: Grid, c: Vec3, R: number, r: number, axis: Vec3 = [0, 0, 1]): Uint8Array {
  const m = new Uint8Array(voxelCount(grid));
  forEachVoxelLps(grid, (p, x, y, z) => {
    const v = [x - c[0], y - c[1], z - c[2]];
    const h = v[0]! * axis[0] + v[1]! * axis[1] + v[2]! * axis[2];
    const rho = Math.sqrt(Math.max(0, v[0]! ** 2 + v[1]! ** 2 + v[2]! ** 2 - h * h));
    m[p] = (rho - R) ** 2 + h * h <= r * r ? 1 : 0;
  });
  return m;
}

export function count(mask: ArrayLike<number>): number {
  let s = 0;
  for (let p = 0; p < mask.length; p++) if (mask[p] !== 0) s++;
  return s;
}

export function ballVolume(r: number): number {
  return (4 / 3) * Math.PI * r ** 3;
}

// ---------------------------------------------------------------------------------------------
// scipy.ndimage bridge

export const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import numpy, scipy.ndimage'], { encoding: 'utf8' });
export const HAVE_SCIPY = probe.status === 0;
if (!HAVE_SCIPY && process.env.CI) {
  throw new Error(
    `CI run without scipy: ${PYTHON} cannot import numpy and scipy.ndimage (${probe.stderr ?? probe.error})`,
  );
}

/** describe() that is skipped, with the reason in its name, when /usr/bin/python3 lacks scipy (never in CI). */
export const describeScipy: typeof describe = ((name: string, fn: () => void) =>
  HAVE_SCIPY
    ? describe(name, fn)
    : describe.skip(`${name} [skipped: ${PYTHON} has no numpy/scipy]`, fn)) as typeof describe;

type Typed = Uint8Array | Int16Array | Int32Array | Float32Array | Float64Array;
const DTYPE: Record<string, string> = {
  Uint8Array: 'uint8',
  Int16Array: 'int16',
  Int32Array: 'int32',
  Float32Array: 'float32',
  Float64Array: 'float64',
};

/**
 * Runs `code` in python with numpy as np and scipy.ndimage as ndi. Each input is available as a
 * numpy array shaped [nz, ny, nx] (our memory order); `out(name, array)` saves a result, read
 * back as Float64Array.
 */
export function runScipy(code: string, inputs: Record<string, Typed>, size: Vec3): Record<string, Float64Array> {
  const dir = mkdtempSync(join(tmpdir(), 's2s-scipy-'));
  try {
    const loads: string[] = [];
    for (const [name, arr] of Object.entries(inputs)) {
      writeFileSync(join(dir, `${name}.raw`), new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
      loads.push(
        `${name} = np.fromfile(os.path.join(D, '${name}.raw'), dtype=np.${DTYPE[arr.constructor.name]}).reshape(${size[2]}, ${size[1]}, ${size[0]})`,
      );
    }
    const script = [
      'import os, json, numpy as np, scipy.ndimage as ndi',
      `D = ${JSON.stringify(dir)}`,
      'NAMES = []',
      'def out(name, a):',
      "    np.ascontiguousarray(a, dtype=np.float64).tofile(os.path.join(D, name + '.out'))",
      '    NAMES.append(name)',
      ...loads,
      code,
      "open(os.path.join(D, 'names.json'), 'w').write(json.dumps(NAMES))",
    ].join('\n');
    const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
    const names = JSON.parse(readFileSync(join(dir, 'names.json'), 'utf8')) as string[];
    const res: Record<string, Float64Array> = {};
    for (const n of names) {
      const b = readFileSync(join(dir, `${n}.out`));
      res[n] = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    }
    return res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

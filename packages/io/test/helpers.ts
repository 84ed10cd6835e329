// Shared test helpers for packages/io: a seeded PRNG and random volumes on awkward grids.
import { readFileSync } from 'node:fs';
import {
  allocateVoxels,
  type Grid,
  makeGrid,
  makeVolume,
  maxCornerDistance,
  type Vec3,
  type Volume,
  type VoxelType,
} from '@slice2solid/core';
import { expect } from 'vitest';

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const ALL_TYPES: VoxelType[] = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'];

const RANGES: Record<VoxelType, [number, number]> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  float32: [-1e6, 1e6],
  float64: [-1e12, 1e12],
};

export type GridKind = 'axis' | 'oblique' | 'left-handed' | 'sheared';

/** A random rotation (unit quaternion). */
function randomRotation(rand: () => number): [Vec3, Vec3, Vec3] {
  let q = [rand() - 0.5, rand() - 0.5, rand() - 0.5, rand() - 0.5];
  const n = Math.hypot(...q);
  q = q.map((x) => x / n);
  const [w, x, y, z] = q as [number, number, number, number];
  return [
    [1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y)],
    [2 * (x * y - w * z), 1 - 2 * (x * x + z * z), 2 * (y * z + w * x)],
    [2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)],
  ];
}

/** A random grid: anisotropic spacing, origin within +-`maxOrigin` mm. */
export function randomGrid(rand: () => number, kind: GridKind, size?: Vec3, maxOrigin = 150): Grid {
  const sz: Vec3 = size ?? [1 + Math.floor(rand() * 7), 1 + Math.floor(rand() * 6), 1 + Math.floor(rand() * 5)];
  const spacing: Vec3 = [0.2 + rand() * 3, 0.2 + rand() * 3, 0.5 + rand() * 5];
  const origin: Vec3 = [(rand() - 0.5) * 2 * maxOrigin, (rand() - 0.5) * 2 * maxOrigin, (rand() - 0.5) * 2 * maxOrigin];
  let dir: [Vec3, Vec3, Vec3] =
    kind === 'axis'
      ? [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ]
      : randomRotation(rand);
  if (kind === 'axis') {
    // random signed permutation, right-handed
    const perms = [
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 1],
    ];
    const p = perms[Math.floor(rand() * 3)]!;
    dir = p.map((a) => {
      const v: [number, number, number] = [0, 0, 0];
      v[a] = 1;
      return v;
    }) as unknown as [Vec3, Vec3, Vec3];
  }
  if (kind === 'left-handed') dir = [dir[0], dir[1], [-dir[2][0], -dir[2][1], -dir[2][2]]];
  if (kind === 'sheared') {
    // gantry-tilt-like shear: the slice axis leans towards the second axis by up to 30 degrees
    const t = (rand() - 0.5) * 1.0;
    const k = dir[2];
    const j = dir[1];
    dir = [dir[0], dir[1], [k[0] + t * j[0], k[1] + t * j[1], k[2] + t * j[2]]];
  }
  return makeGrid({ size: sz, spacing, origin, direction: dir });
}

/** Random values of `type` covering its range (including extremes). */
export function randomVolume(rand: () => number, type: VoxelType, grid: Grid, frames = 1, components = 1): Volume {
  const n = grid.size[0] * grid.size[1] * grid.size[2] * frames * components;
  const data = allocateVoxels(type, n);
  const [lo, hi] = RANGES[type];
  for (let i = 0; i < n; i++) {
    if (i === 0) data[i] = lo;
    else if (i === 1) data[i] = hi;
    else if (type === 'float32' || type === 'float64') data[i] = lo + rand() * (hi - lo);
    else data[i] = Math.floor(lo + rand() * (hi - lo + 1));
  }
  return makeVolume({ grid, data, frames, components });
}

export function expectSameGrid(a: Grid, b: Grid, tolMm: number): void {
  expect(b.size).toEqual(a.size);
  expect(maxCornerDistance(a, b)).toBeLessThanOrEqual(tolMm);
}

export function expectSameVolume(a: Volume, b: Volume, tolMm: number): void {
  expectSameGrid(a.grid, b.grid, tolMm);
  expect(b.frames).toBe(a.frames);
  expect(b.components).toBe(a.components);
  expect(b.data.constructor).toBe(a.data.constructor);
  expect(b.data.length).toBe(a.data.length);
  // element-wise equality without building huge diff messages
  let firstBad = -1;
  for (let i = 0; i < a.data.length; i++) {
    if (!Object.is(a.data[i], b.data[i])) {
      firstBad = i;
      break;
    }
  }
  expect(firstBad, firstBad >= 0 ? `value ${firstBad}: ${a.data[firstBad]} vs ${b.data[firstBad]}` : '').toBe(-1);
}

export function readBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

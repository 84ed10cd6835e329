/**
 * Pad a volume with voxels on each side. Existing voxels keep their exact world positions: the
 * new origin is the LPS centre of index (-before) of the old grid.
 */
import { type Grid, lpsFromIjk, makeGrid, S2SError, type Vec3, type Volume, type VoxelArray } from '@slice2solid/core';
import { checkMask, checkNumber, perAxis } from '../filters/internal.js';

export interface PadOptions {
  /** Voxels added before index 0 along i, j, k (one value or three). */
  readonly before?: number | readonly [number, number, number];
  /** Voxels added after the last index along i, j, k. */
  readonly after?: number | readonly [number, number, number];
  /** Instead of before/after: a margin in mm on every side, rounded up to whole voxels. */
  readonly marginMm?: number | readonly [number, number, number];
  /** Value of the new voxels: a number, 'min' (the smallest value in the data: air for CT, 0 for masks) or 'edge' (repeat the edge voxel). */
  readonly value?: number | 'min' | 'edge';
}

export const PAD_DEFAULTS = { before: 0, after: 0, value: 'min' } as const satisfies PadOptions;

function counts(x: number | readonly number[], name: string): Vec3 {
  const v = perAxis(x, name);
  for (const n of v) {
    if (!Number.isInteger(n) || n < 0) {
      throw new S2SError('INVALID_ARGUMENT', `${name} must be whole numbers of voxels >= 0, got [${v.join(', ')}]`);
    }
  }
  return v;
}

export function padGrid(grid: Grid, before: Vec3, after: Vec3): Grid {
  return makeGrid({
    size: [0, 1, 2].map((a) => grid.size[a]! + before[a]! + after[a]!),
    spacing: grid.spacing,
    origin: lpsFromIjk(grid, [-before[0], -before[1], -before[2]]),
    direction: grid.direction,
  });
}

export function padArray<T extends VoxelArray>(
  data: T,
  grid: Grid,
  options: PadOptions,
  components = 1,
  frames = 1,
): { data: T; grid: Grid } {
  checkMask({ length: data.length / (components * frames) }, grid, 'data');
  let before: Vec3;
  let after: Vec3;
  if (options.marginMm !== undefined) {
    const m = perAxis(options.marginMm, 'marginMm');
    for (let a = 0; a < 3; a++) checkNumber(m[a], `marginMm[${a}]`, 0);
    before = [0, 1, 2].map((a) => Math.ceil(m[a]! / grid.spacing[a]! - 1e-9)) as unknown as Vec3;
    after = before;
  } else {
    before = counts(options.before ?? PAD_DEFAULTS.before, 'before');
    after = counts(options.after ?? PAD_DEFAULTS.after, 'after');
  }
  const g = padGrid(grid, before, after);
  const value = options.value ?? PAD_DEFAULTS.value;
  const [nx, ny, nz] = grid.size;
  const [mx, my, mz] = g.size;
  const nc = components;
  const out = new (data.constructor as new (n: number) => T)(mx * my * mz * nc * frames);
  if (value !== 'edge') {
    let fill: number;
    if (value === 'min') {
      fill = Infinity;
      for (let p = 0; p < data.length; p++) if (data[p]! < fill) fill = data[p]!;
      if (fill === Infinity) fill = 0;
    } else fill = checkNumber(value, 'value');
    if (fill !== 0) out.fill(fill);
  }
  const clamp = (x: number, n: number) => (x < 0 ? 0 : x >= n ? n - 1 : x);
  for (let t = 0; t < frames; t++) {
    for (let k = 0; k < mz; k++) {
      const sk = k - before[2];
      const kIn = sk >= 0 && sk < nz;
      for (let j = 0; j < my; j++) {
        const sj = j - before[1];
        const dst = ((t * mz + k) * my + j) * mx * nc;
        if (kIn && sj >= 0 && sj < ny) {
          const src = ((t * nz + sk) * ny + sj) * nx * nc;
          out.set(data.subarray(src, src + nx * nc), dst + before[0] * nc);
          if (value !== 'edge') continue;
        } else if (value !== 'edge') continue;
        // edge mode: every voxel of the row from the clamped source
        const srcRow = ((t * nz + clamp(sk, nz)) * ny + clamp(sj, ny)) * nx * nc;
        for (let i = 0; i < mx; i++) {
          const s = srcRow + clamp(i - before[0], nx) * nc;
          for (let c = 0; c < nc; c++) out[dst + i * nc + c] = data[s + c]!;
        }
      }
    }
  }
  return { data: out, grid: g };
}

export function pad(volume: Volume, options: PadOptions = {}): Volume {
  const { data, grid } = padArray(volume.data, volume.grid, options, volume.components, volume.frames);
  return { ...volume, grid, data };
}

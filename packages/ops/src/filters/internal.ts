// Small shared helpers of the ops filters (not part of the public API).
import { type Grid, S2SError, type Volume, voxelCount } from '@slice2solid/core';

/** Volume of one voxel in mm^3 (spacing product times |det direction|, exact for sheared grids). */
export function voxelVolumeMm3(grid: Grid): number {
  const [a, b, c] = grid.direction;
  const det =
    a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) + a[2] * (b[0] * c[1] - b[1] * c[0]);
  return grid.spacing[0] * grid.spacing[1] * grid.spacing[2] * Math.abs(det);
}

/** Throws unless `mask` has exactly one value per voxel of `grid`. */
export function checkMask(mask: ArrayLike<number>, grid: Grid, what = 'mask'): void {
  const n = voxelCount(grid);
  if (mask.length !== n) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `${what} has ${mask.length} values but the grid ${grid.size.join('x')} needs ${n}`,
      {
        hint: `pass a ${what} made on the same grid as the image`,
      },
    );
  }
}

/** Throws unless `x` is a finite number >= min. */
export function checkNumber(x: unknown, name: string, min = -Infinity, hint?: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < min) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `${name} must be a finite number${min > -Infinity ? ` >= ${min}` : ''}, got ${String(x)}`,
      hint ? { hint } : {},
    );
  }
  return x;
}

/** Per-axis value: a number applies to all three axes. */
export function perAxis(x: number | readonly number[], name: string): [number, number, number] {
  if (typeof x === 'number') return [x, x, x];
  if (x.length !== 3)
    throw new S2SError('INVALID_ARGUMENT', `${name} must be one number or three (i, j, k), got ${x.length}`);
  return [x[0]!, x[1]!, x[2]!];
}

/** Largest |cos| between direction axes; the separable distance transform needs orthogonal axes. */
export function checkOrthogonal(grid: Grid, what: string): void {
  const [a, b, c] = grid.direction;
  const dot = (u: readonly number[], v: readonly number[]) => u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!;
  const skew = Math.max(Math.abs(dot(a, b)), Math.abs(dot(a, c)), Math.abs(dot(b, c)));
  if (skew > 1e-4) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `${what} needs orthogonal voxel axes, but this grid is sheared (|cos| = ${skew.toFixed(4)} between axes, e.g. a gantry-tilted stack)`,
      {
        hint: 'resample the image onto an orthogonal grid first (e.g. reorient/resample with the tilt removed)',
      },
    );
  }
}

/**
 * Calls fn once per (frame, component) channel with the channel copied into a Float32Array
 * (or the volume's own Float32Array when it has a single channel and `copy` is false);
 * fn returns the filtered channel, which is written into the output array.
 */
export function mapChannels<T extends ArrayLike<number> & { [n: number]: number }>(
  volume: Volume,
  out: T,
  fn: (channel: Float32Array, index: number) => ArrayLike<number>,
): T {
  const n = voxelCount(volume.grid);
  const nc = volume.components;
  const channels = nc * volume.frames;
  for (let ch = 0; ch < channels; ch++) {
    const t = Math.floor(ch / nc);
    const c = ch % nc;
    const buf = new Float32Array(n);
    const src = volume.data;
    const base = t * n * nc + c;
    for (let p = 0; p < n; p++) buf[p] = src[base + p * nc]!;
    const res = fn(buf, ch);
    for (let p = 0; p < n; p++) out[base + p * nc] = res[p]!;
  }
  return out;
}

/** Value range of an integer typed array type, or undefined for float types. */
export function intRange(data: ArrayLike<number>): [number, number] | undefined {
  if (data instanceof Uint8Array) return [0, 255];
  if (data instanceof Int8Array) return [-128, 127];
  if (data instanceof Uint16Array) return [0, 65535];
  if (data instanceof Int16Array) return [-32768, 32767];
  if (data instanceof Int32Array) return [-2147483648, 2147483647];
  if (data instanceof Uint32Array) return [0, 4294967295];
  return undefined;
}

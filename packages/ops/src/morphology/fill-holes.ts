/**
 * Hole filling: background voxels that cannot be reached from the image border through
 * background are set to foreground. '3d' fills enclosed cavities (6-connected background,
 * as scipy.ndimage.binary_fill_holes); 'slice' fills holes in every 2D slice across `axis`
 * (4-connected background within the slice), which also closes holes that are open along
 * that axis, e.g. a vessel lumen or the marrow canal of a long bone seen in axial slices.
 */
import { type Grid, progressReporter, type RunOptions, S2SError, voxelCount } from '@slice2solid/core';
import { checkMask } from '../filters/internal.js';

export interface FillHolesOptions extends RunOptions {
  readonly mode?: '3d' | 'slice';
  /** For mode 'slice': the index axis the slices are perpendicular to (2 = k, axial for most CT). */
  readonly axis?: 0 | 1 | 2;
}

export const FILL_HOLES_DEFAULTS = { mode: '3d', axis: 2 } as const satisfies FillHolesOptions;

export function fillHoles(mask: ArrayLike<number>, grid: Grid, options: FillHolesOptions = {}): Uint8Array {
  checkMask(mask, grid);
  const mode = options.mode ?? FILL_HOLES_DEFAULTS.mode;
  const axis = options.axis ?? FILL_HOLES_DEFAULTS.axis;
  if (mode !== '3d' && mode !== 'slice') {
    throw new S2SError('INVALID_ARGUMENT', `fill-holes mode must be '3d' or 'slice', got ${String(mode)}`);
  }
  if (axis !== 0 && axis !== 1 && axis !== 2) {
    throw new S2SError('INVALID_ARGUMENT', `fill-holes axis must be 0, 1 or 2, got ${String(axis)}`);
  }
  const [nx, ny, nz] = grid.size;
  const nxy = nx * ny;
  const n = voxelCount(grid);
  // which axes connect background (all three in 3D; the two in-plane axes per slice)
  const linked = [true, true, true];
  if (mode === 'slice') linked[axis] = false;
  const tick = progressReporter('fill holes', 2, options);
  // reached: 1 = background reachable from the border
  const reached = new Uint8Array(n);
  let queue = new Int32Array(1 << 16);
  let head = 0;
  let tail = 0; // ring buffer: [head, tail) modulo length
  let size = 0;
  const push = (p: number) => {
    if (size === queue.length) {
      const grown = new Int32Array(queue.length * 2);
      for (let t = 0; t < size; t++) grown[t] = queue[(head + t) % queue.length]!;
      queue = grown;
      head = 0;
      tail = size;
    }
    queue[tail] = p;
    tail = tail + 1 === queue.length ? 0 : tail + 1;
    size++;
  };
  // seeds: background voxels on a grid face along a linked axis
  let p = 0;
  for (let k = 0; k < nz; k++) {
    const kb = linked[2] && (k === 0 || k === nz - 1);
    for (let j = 0; j < ny; j++) {
      const jb = kb || (linked[1] && (j === 0 || j === ny - 1));
      for (let i = 0; i < nx; i++, p++) {
        if (mask[p] !== 0) continue;
        if (jb || (linked[0] && (i === 0 || i === nx - 1))) {
          reached[p] = 1;
          push(p);
        }
      }
    }
  }
  tick(1);
  let popped = 0;
  while (size > 0) {
    const q = queue[head]!;
    head = head + 1 === queue.length ? 0 : head + 1;
    size--;
    if ((++popped & 0xfffff) === 0) tick(1);
    const k = Math.floor(q / nxy);
    const rem = q - k * nxy;
    const j = Math.floor(rem / nx);
    const i = rem - j * nx;
    if (linked[0]) {
      if (i > 0 && reached[q - 1] === 0 && mask[q - 1] === 0) {
        reached[q - 1] = 1;
        push(q - 1);
      }
      if (i < nx - 1 && reached[q + 1] === 0 && mask[q + 1] === 0) {
        reached[q + 1] = 1;
        push(q + 1);
      }
    }
    if (linked[1]) {
      if (j > 0 && reached[q - nx] === 0 && mask[q - nx] === 0) {
        reached[q - nx] = 1;
        push(q - nx);
      }
      if (j < ny - 1 && reached[q + nx] === 0 && mask[q + nx] === 0) {
        reached[q + nx] = 1;
        push(q + nx);
      }
    }
    if (linked[2]) {
      if (k > 0 && reached[q - nxy] === 0 && mask[q - nxy] === 0) {
        reached[q - nxy] = 1;
        push(q - nxy);
      }
      if (k < nz - 1 && reached[q + nxy] === 0 && mask[q + nxy] === 0) {
        reached[q + nxy] = 1;
        push(q + nxy);
      }
    }
  }
  for (let t = 0; t < n; t++) reached[t] = reached[t] === 1 ? 0 : 1;
  tick(2);
  return reached;
}

/** Voxel-wise logical operations between masks on the same grid (non-zero = inside; result 0/1). */
import { type Grid, gridsMatch, maxCornerDistance, S2SError } from '@slice2solid/core';

export type LogicalOp = 'and' | 'or' | 'xor' | 'subtract' | 'not';

export interface LogicalOptions {
  /** Grids of a and b: when both are given they must match (same size, voxel centres within toleranceMm). */
  readonly gridA?: Grid;
  readonly gridB?: Grid;
  readonly toleranceMm?: number;
}

export const LOGICAL_DEFAULTS = { toleranceMm: 1e-3 } as const satisfies LogicalOptions;

/**
 * 'and' (intersection), 'or' (union), 'xor', 'subtract' (a and not b), 'not' (complement of a;
 * b is ignored).
 */
export function logical(
  op: LogicalOp,
  a: ArrayLike<number>,
  b?: ArrayLike<number>,
  options: LogicalOptions = {},
): Uint8Array {
  const n = a.length;
  const out = new Uint8Array(n);
  if (op === 'not') {
    for (let p = 0; p < n; p++) out[p] = a[p] === 0 ? 1 : 0;
    return out;
  }
  if (op !== 'and' && op !== 'or' && op !== 'xor' && op !== 'subtract') {
    throw new S2SError('INVALID_ARGUMENT', `unknown logical operation "${String(op)}"`, {
      hint: 'use and, or, xor, subtract or not',
    });
  }
  if (!b) throw new S2SError('INVALID_ARGUMENT', `logical ${op} needs two masks`);
  const tol = options.toleranceMm ?? LOGICAL_DEFAULTS.toleranceMm;
  if (options.gridA && options.gridB && !gridsMatch(options.gridA, options.gridB, tol)) {
    const sameSize = options.gridA.size.every((s, i) => s === options.gridB!.size[i]);
    throw new S2SError(
      'GEOMETRY_MISMATCH',
      sameSize
        ? `the two masks are on different grids (voxel centres up to ${maxCornerDistance(options.gridA, options.gridB).toFixed(3)} mm apart)`
        : `the two masks are on different grids (${options.gridA.size.join('x')} vs ${options.gridB.size.join('x')})`,
      { hint: 'resample one structure onto the grid of the other first' },
    );
  }
  if (b.length !== n) {
    throw new S2SError('GEOMETRY_MISMATCH', `the two masks have different voxel counts (${n} vs ${b.length})`, {
      hint: 'resample one structure onto the grid of the other first',
    });
  }
  switch (op) {
    case 'and':
      for (let p = 0; p < n; p++) out[p] = a[p] !== 0 && b[p] !== 0 ? 1 : 0;
      break;
    case 'or':
      for (let p = 0; p < n; p++) out[p] = a[p] !== 0 || b[p] !== 0 ? 1 : 0;
      break;
    case 'xor':
      for (let p = 0; p < n; p++) out[p] = (a[p] !== 0) !== (b[p] !== 0) ? 1 : 0;
      break;
    case 'subtract':
      for (let p = 0; p < n; p++) out[p] = a[p] !== 0 && b[p] === 0 ? 1 : 0;
      break;
  }
  return out;
}

/**
 * Geometry helpers shared by the format readers: turning a file's index->LPS affine into a core
 * Grid robustly (a zero column for a single-slice axis is completed instead of failing).
 */
import { cross, type Grid, makeGrid, normalize, S2SError, type Vec3 } from '@slice2solid/core';

/**
 * Grid from an LPS affine given as 3 columns (direction * spacing per index axis) and an origin.
 * A zero or non-finite column is replaced by the unit vector completing the other two (right-handed),
 * with `fallbackSpacing[a]` (or 1 mm) as its spacing, and a warning is pushed. Two or more broken
 * columns give MISSING_GEOMETRY.
 */
export function gridFromColumns(
  columns: readonly (readonly number[])[],
  origin: readonly number[],
  size: readonly number[],
  warnings: string[],
  fallbackSpacing?: readonly number[],
): Grid {
  const spacing: number[] = [];
  const dirs: (Vec3 | undefined)[] = [];
  for (let a = 0; a < 3; a++) {
    const c = columns[a]!;
    const n = Math.hypot(c[0]!, c[1]!, c[2]!);
    if (n > 0 && Number.isFinite(n)) {
      spacing.push(n);
      dirs.push([c[0]! / n, c[1]! / n, c[2]! / n]);
    } else {
      spacing.push(NaN);
      dirs.push(undefined);
    }
  }
  const broken = [0, 1, 2].filter((a) => dirs[a] === undefined);
  if (broken.length > 1) {
    throw new S2SError('MISSING_GEOMETRY', `the orientation matrix has ${broken.length} zero or invalid axes`, {
      hint: 'the header geometry is broken; fix the file or convert it with a tool that writes a valid affine',
    });
  }
  if (broken.length === 1) {
    const a = broken[0]!;
    const b = dirs[(a + 1) % 3]!;
    const c = dirs[(a + 2) % 3]!;
    dirs[a] = normalize(cross(b, c));
    const s = fallbackSpacing?.[a];
    spacing[a] = s !== undefined && s > 0 && Number.isFinite(s) ? s : 1;
    warnings.push(
      `index axis ${a} has no direction in the header; assumed perpendicular to the others with spacing ${spacing[a]} mm`,
    );
  }
  if (!origin.every((x) => Number.isFinite(x))) {
    throw new S2SError('MISSING_GEOMETRY', 'the origin in the header is not a finite number', {
      hint: 'the header geometry is broken; fix the file',
    });
  }
  try {
    return makeGrid({ size, spacing, origin, direction: dirs as Vec3[] });
  } catch (e) {
    if (e instanceof S2SError) {
      throw new S2SError('MISSING_GEOMETRY', `the header geometry is invalid: ${e.message}`, {
        hint: 'the orientation axes are degenerate; fix the file header',
        cause: e,
      });
    }
    throw e;
  }
}

/** Columns (direction * spacing) of a grid, in LPS. */
export function gridColumns(grid: Grid): [Vec3, Vec3, Vec3] {
  const col = (a: number): Vec3 => {
    const d = grid.direction[a]!;
    const s = grid.spacing[a]!;
    return [d[0] * s, d[1] * s, d[2] * s];
  };
  return [col(0), col(1), col(2)];
}

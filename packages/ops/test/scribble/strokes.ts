// Test helpers of the scribble assistant: Dice, and "strokes" drawn automatically from a
// reference mask on a few slices, the way a user paints: inside the structure away from its
// edge, and background around it (close to the boundary and further out).
import { seededRandom } from '../../src/scribble/random-forest.js';

/** Dice of two masks (non-zero = in), optionally only over voxels where `where` is non-zero. */
export function dice(a: ArrayLike<number>, b: ArrayLike<number>, where?: (p: number) => boolean): number {
  let inter = 0;
  let na = 0;
  let nb = 0;
  for (let p = 0; p < a.length; p++) {
    if (where && !where(p)) continue;
    const x = a[p] ? 1 : 0;
    const y = b[p] ? 1 : 0;
    inter += x & y;
    na += x;
    nb += y;
  }
  return na + nb === 0 ? 1 : (2 * inter) / (na + nb);
}

export interface StrokeOptions {
  /** Structure voxels painted per slice. */
  readonly inside: number;
  /** Background voxels painted per slice within `nearPx` pixels beyond the gap. */
  readonly near: number;
  /** Background voxels painted per slice anywhere else in the slice. */
  readonly far: number;
  /**
   * Margin (pixels, in-plane, chessboard distance) kept free of paint on both sides of the
   * boundary: structure voxels are painted only gapPx or more pixels inside it, background voxels
   * only more than gapPx pixels outside it.
   */
  readonly gapPx: number;
  readonly nearPx: number;
  readonly seed: number;
  /** If given, "far" background is only painted where this is true (e.g. inside the body, not in the air around it). */
  readonly farWhere?: (p: number) => boolean;
}

/**
 * Scribbles (0 = unpainted, 1 = structure, 2 = background) on the given axial slices k of a
 * nx x ny x nz reference mask: random pixels, seeded.
 */
export function strokesFromReference(
  ref: ArrayLike<number>,
  size: readonly [number, number, number],
  slices: readonly number[],
  o: StrokeOptions,
): Uint8Array {
  const [nx, ny, nz] = size;
  const nxy = nx * ny;
  const out = new Uint8Array(nxy * nz);
  const rand = seededRandom(o.seed);
  const pick = (cands: number[], count: number, value: number) => {
    for (let t = 0; t < count && cands.length > 0; t++) {
      const r = Math.floor(rand() * cands.length);
      out[cands[r]!] = value;
      cands[r] = cands[cands.length - 1]!;
      cands.pop();
    }
  };
  for (const k of slices) {
    // in-plane chessboard distance to the other side, by repeated 8-neighbour erosion/dilation
    const inside = new Uint8Array(nxy);
    for (let p = 0; p < nxy; p++) inside[p] = ref[k * nxy + p] ? 1 : 0;
    const grow = (m: Uint8Array, value: number, steps: number): Uint8Array => {
      let cur = m;
      for (let s = 0; s < steps; s++) {
        const next = cur.slice();
        for (let j = 0; j < ny; j++) {
          for (let i = 0; i < nx; i++) {
            if (cur[j * nx + i] === value) continue;
            for (let dj = -1; dj <= 1; dj++) {
              for (let di = -1; di <= 1; di++) {
                const a = i + di;
                const b = j + dj;
                if (a >= 0 && a < nx && b >= 0 && b < ny && cur[b * nx + a] === value) next[j * nx + i] = value;
              }
            }
          }
        }
        cur = next;
      }
      return cur;
    };
    const eroded = grow(inside, 0, o.gapPx);
    const gap = grow(inside, 1, o.gapPx);
    const near = grow(gap, 1, o.nearPx);
    const cin: number[] = [];
    const cnear: number[] = [];
    const cfar: number[] = [];
    for (let p = 0; p < nxy; p++) {
      if (eroded[p]) cin.push(k * nxy + p);
      else if (!gap[p] && near[p]) cnear.push(k * nxy + p);
      else if (!near[p] && (!o.farWhere || o.farWhere(k * nxy + p))) cfar.push(k * nxy + p);
    }
    if (cin.length === 0) for (let p = 0; p < nxy; p++) if (inside[p]) cin.push(k * nxy + p);
    pick(cin, o.inside, 1);
    pick(cnear, o.near, 2);
    pick(cfar, o.far, 2);
  }
  return out;
}

/**
 * A user's correction on slice k: paints up to `count` voxels of each kind of error of `result`
 * against `ref` (false structure as background, missed structure as structure), only where the
 * error is at least gapPx pixels away from the reference boundary in-plane (a user paints the
 * obvious part of a mistake, not its rim). Changes `strokes` in place; returns how many it painted.
 */
export function correctSlice(
  strokes: Uint8Array,
  result: ArrayLike<number>,
  ref: ArrayLike<number>,
  size: readonly [number, number, number],
  k: number,
  count: number,
  gapPx: number,
  seed: number,
): number {
  const [nx, ny] = size;
  const nxy = nx * ny;
  const inside = new Uint8Array(nxy);
  for (let p = 0; p < nxy; p++) inside[p] = ref[k * nxy + p] ? 1 : 0;
  // chessboard distance from the boundary, up to gapPx
  const far = new Uint8Array(nxy).fill(1);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const v = inside[j * nx + i];
      for (let dj = -gapPx; dj <= gapPx && far[j * nx + i]; dj++) {
        for (let di = -gapPx; di <= gapPx; di++) {
          const a = Math.min(nx - 1, Math.max(0, i + di));
          const b = Math.min(ny - 1, Math.max(0, j + dj));
          if (inside[b * nx + a] !== v) {
            far[j * nx + i] = 0;
            break;
          }
        }
      }
    }
  }
  const fp: number[] = [];
  const fn: number[] = [];
  for (let p = 0; p < nxy; p++) {
    if (!far[p]) continue;
    const q = k * nxy + p;
    const got = result[q] ? 1 : 0;
    if (got && !inside[p]) fp.push(q);
    if (!got && inside[p]) fn.push(q);
  }
  const rand = seededRandom(seed);
  let painted = 0;
  for (const [list, value] of [
    [fp, 2],
    [fn, 1],
  ] as const) {
    for (let t = 0; t < count && list.length > 0; t++) {
      const r = Math.floor(rand() * list.length);
      strokes[list[r]!] = value;
      list[r] = list[list.length - 1]!;
      list.pop();
      painted++;
    }
  }
  return painted;
}

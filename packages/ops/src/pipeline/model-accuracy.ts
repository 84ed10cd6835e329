/**
 * The accuracy report of a model against its segmentation, fast enough for a whole CT skeleton
 * (millions of boundary faces). Same definitions as mesh/accuracy.ts `meshAccuracy`:
 *
 * - Dice: the final mesh voxelized on the segmentation grid (`voxelizeMesh`) against the mask.
 * - Surface distance (mm), pooled both ways: mesh vertex -> nearest point of the mask's voxel-face
 *   surface, and boundary-face centre -> nearest point of the mesh.
 * - Volume change: final mesh vs a reference (the raw extraction) and vs the mask's voxel volume.
 *
 * What differs is how the distances are found:
 * - mesh -> mask: no index over the (huge) voxel-face surface; the faces are searched in a box of
 *   voxels around the point's continuous index, grown until the box provably holds the nearest
 *   face (the nearest found is closer than any point outside the box, using the smallest singular
 *   value bound of the index-to-LPS matrix, so oblique and anisotropic grids are exact too);
 * - both directions are computed on at most `maxSamples` evenly strided samples (the count used
 *   is reported); with fewer points than that, every point is used and the result is exact.
 */
import {
  check,
  type Grid,
  ijkFromLpsMatrix,
  lpsFromIjkMatrix,
  type Mesh,
  type RunOptions,
  S2SError,
  throwIfAborted,
  voxelCount,
} from '@slice2solid/core';
import { type AccuracyReport, accuracyReport, voxelDice } from '../mesh/accuracy.js';
import { MeshDistanceIndex, type MeshDistanceIndexParts, pointTriangleDistanceSq } from '../mesh/distance.js';
import { allocUint8, isShareable, type ParallelOptions, splitRange, useRunner } from '../parallel/runner.js';

export interface ModelAccuracyOptions extends RunOptions, ParallelOptions {
  /** The mesh before smoothing and decimation, for the volume change those steps caused. */
  readonly referenceMesh?: Mesh | undefined;
  /** Largest number of distance samples per direction (default 50000). */
  readonly maxSamples?: number;
}

export const MODEL_ACCURACY_DEFAULTS = { maxSamples: 50_000 } as const;

export interface ModelAccuracyReport extends AccuracyReport {
  /** Whether every point was used (false: strided samples). */
  readonly exhaustive: boolean;
}

export function modelAccuracy(
  mesh: Mesh,
  mask: Uint8Array,
  grid: Grid,
  options: ModelAccuracyOptions = {},
): ModelAccuracyReport {
  const n = voxelCount(grid);
  if (mask.length !== n) {
    throw new S2SError('INVALID_ARGUMENT', `the mask has ${mask.length} voxels but the grid needs ${n}`);
  }
  check(mesh.indices.length > 0, 'the mesh has no triangles');
  const maxSamples = options.maxSamples ?? MODEL_ACCURACY_DEFAULTS.maxSamples;
  check(Number.isInteger(maxSamples) && maxSamples >= 1, `maxSamples must be a positive integer, got ${maxSamples}`);
  const run = { signal: options.signal, onProgress: options.onProgress };
  // Dice
  const { dice, maskVoxels } = voxelDice(mesh, mask, grid, run);
  throwIfAborted(options.signal);

  const [nx, ny, nz] = grid.size;
  const M = lpsFromIjkMatrix(grid);
  const T = ijkFromLpsMatrix(grid);
  const inside = (i: number, j: number, k: number) =>
    i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz && mask[(k * ny + j) * nx + i] !== 0;

  // mask -> mesh: boundary face centres (strided) to the mesh. One scan (four voxels per read
  // where the mask is empty) counts the faces and marks the rows that hold inside voxels; the
  // sampling pass visits only those rows, in the same k, j, i order.
  let faces = 0;
  const rowHas = new Uint8Array(ny * nz);
  const plane = nx * ny;
  const countAt = (v: number): void => {
    const i = v % nx;
    const row = (v - i) / nx;
    const j = row % ny;
    const k = (row - j) / ny;
    rowHas[row] = 1;
    faces +=
      (i > 0 && mask[v - 1] !== 0 ? 0 : 1) +
      (i < nx - 1 && mask[v + 1] !== 0 ? 0 : 1) +
      (j > 0 && mask[v - nx] !== 0 ? 0 : 1) +
      (j < ny - 1 && mask[v + nx] !== 0 ? 0 : 1) +
      (k > 0 && mask[v - plane] !== 0 ? 0 : 1) +
      (k < nz - 1 && mask[v + plane] !== 0 ? 0 : 1);
  };
  let head = 0;
  if (mask.byteOffset % 4 === 0) {
    const words = new Uint32Array(mask.buffer, mask.byteOffset, n >> 2);
    for (let w = 0; w < words.length; w++) {
      if (words[w] === 0) continue;
      for (let v = 4 * w; v < 4 * w + 4; v++) if (mask[v] !== 0) countAt(v);
    }
    head = 4 * words.length;
  }
  for (let v = head; v < n; v++) if (mask[v] !== 0) countAt(v);
  const faceStride = Math.max(1, Math.ceil(faces / maxSamples));
  const pts: number[] = [];
  let f = 0;
  for (let k = 0; k < nz; k++) {
    throwIfAborted(options.signal);
    for (let j = 0; j < ny; j++) {
      if (rowHas[k * ny + j] === 0) continue;
      for (let i = 0; i < nx; i++) {
        if (!mask[(k * ny + j) * nx + i]) continue;
        for (let axis = 0; axis < 3; axis++)
          for (let s = -1; s <= 1; s += 2) {
            const di = axis === 0 ? s : 0;
            const dj = axis === 1 ? s : 0;
            const dk = axis === 2 ? s : 0;
            if (inside(i + di, j + dj, k + dk)) continue;
            if (f++ % faceStride !== 0) continue;
            const ci = i + di / 2;
            const cj = j + dj / 2;
            const ck = k + dk / 2;
            pts.push(
              M[0]! * ci + M[1]! * cj + M[2]! * ck + M[3]!,
              M[4]! * ci + M[5]! * cj + M[6]! * ck + M[7]!,
              M[8]! * ci + M[9]! * cj + M[10]! * ck + M[11]!,
            );
          }
      }
    }
  }

  // mesh -> mask: local search for the nearest boundary face (by sample ranges, on the runner's
  // threads when there is one; each sample's distance does not depend on the split)
  const P = mesh.positions;
  const nv = P.length / 3;
  const vStride = Math.max(1, Math.ceil(nv / maxSamples));
  const nSamples = Math.ceil(nv / vStride);
  const runner = useRunner(options.parallel) ? options.parallel : undefined;
  const share = <A extends Uint8Array | Float32Array>(a: A): A => {
    if (isShareable(a, runner)) return a;
    const c = new (a.constructor as new (b: ArrayBuffer) => A)(allocUint8(a.byteLength, runner).buffer as ArrayBuffer);
    c.set(a as never);
    return c;
  };
  const toMaskArgs: ToMaskArgs = {
    mask: share(mask),
    P: share(P),
    nx,
    ny,
    nz,
    M: Array.from(M),
    T: Array.from(T),
    sigmaMin: smallestSingularValueBound(T),
    vStride,
    out: new Float64Array(allocUint8(8 * nSamples, runner).buffer),
  };
  const chunks = splitRange(nSamples, runner, 8, 256);
  if (runner) runner.runSlabs('accuracy.toMask', toMaskArgs, chunks);
  else
    for (const [s0, s1] of pieces(0, nSamples, 4096)) {
      throwIfAborted(options.signal);
      accuracyToMask(toMaskArgs, s0, s1);
    }
  const toMask: number[] = [];
  for (let q = 0; q < nSamples; q++) if (!Number.isNaN(toMaskArgs.out[q]!)) toMask.push(toMaskArgs.out[q]!);
  // ... and the face centres' distances to the mesh (same split)
  const meshIdx = new MeshDistanceIndex(mesh);
  const nPts = pts.length / 3;
  const toMeshArgs: ToMeshArgs = {
    index: meshIdx.parts(runner),
    pts: new Float64Array(allocUint8(8 * pts.length, runner).buffer),
    out: new Float64Array(allocUint8(8 * nPts, runner).buffer),
  };
  toMeshArgs.pts.set(pts);
  if (runner) runner.runSlabs('accuracy.toMesh', toMeshArgs, splitRange(nPts, runner, 4, 1024));
  else accuracyToMesh(toMeshArgs, 0, nPts);
  const toMesh = toMeshArgs.out;
  return {
    ...accuracyReport(mesh, grid, dice, maskVoxels, Float64Array.from(toMask), toMesh, options.referenceMesh),
    exhaustive: faceStride === 1 && vStride === 1,
  };
}

/** Arguments of the 'accuracy.toMesh' kernel. */
export interface ToMeshArgs {
  readonly index: MeshDistanceIndexParts;
  /** Query points, x y z each. */
  readonly pts: Float64Array;
  /** Output: the distance (mm) of each point to the mesh. */
  readonly out: Float64Array;
}

/** Points [q0, q1): their distance to the mesh of the index. */
export function accuracyToMesh(args: ToMeshArgs, q0: number, q1: number): void {
  const idx = MeshDistanceIndex.fromParts(args.index);
  const { pts, out } = args;
  for (let q = q0; q < q1; q++) out[q] = idx.distance(pts[3 * q]!, pts[3 * q + 1]!, pts[3 * q + 2]!);
}

/** [s, e) cut into pieces of at most `size`. */
function pieces(s: number, e: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let p = s; p < e; p += size) out.push([p, Math.min(e, p + size)]);
  return out;
}

/** Arguments of the 'accuracy.toMask' kernel. */
export interface ToMaskArgs {
  readonly mask: Uint8Array;
  readonly P: Float32Array;
  readonly nx: number;
  readonly ny: number;
  readonly nz: number;
  /** Index-to-LPS and LPS-to-index matrices (row-major 3x4, as lpsFromIjkMatrix). */
  readonly M: readonly number[];
  readonly T: readonly number[];
  readonly sigmaMin: number;
  readonly vStride: number;
  /** Output: per sample q (vertex q * vStride), the distance in mm to the mask's voxel-face surface (NaN: none). */
  readonly out: Float64Array;
}

/**
 * Samples [q0, q1): the distance from mesh vertex q * vStride to the nearest boundary face of the
 * mask, by a local search in a box of voxels around it, grown until the box provably holds the
 * nearest face (see the file comment).
 */
export function accuracyToMask(args: ToMaskArgs, q0: number, q1: number): void {
  const { mask, P, nx, ny, nz, M, T, sigmaMin, vStride, out } = args;
  const quad = new Float64Array(12);
  // half voxel steps along each index axis, in LPS mm; a face's corners are centre +- H[u] +- H[w]
  const H = [0, 1, 2].map((c) => [0.5 * M[c]!, 0.5 * M[4 + c]!, 0.5 * M[8 + c]!]);
  const faceRadius = [0, 1, 2].map((axis) => {
    const u = H[(axis + 1) % 3]!;
    const w = H[(axis + 2) % 3]!;
    return (
      Math.hypot(u[0]! + w[0]!, u[1]! + w[1]!, u[2]! + w[2]!) + Math.hypot(u[0]! - w[0]!, u[1]! - w[1]!, u[2]! - w[2]!)
    );
  });
  /** Squared distance from p to the face of voxel (i, j, k) on side s of `axis`, or skip if it cannot beat `best`. */
  const faceDistance = (
    px: number,
    py: number,
    pz: number,
    i: number,
    j: number,
    k: number,
    axis: number,
    s: number,
    best: number,
  ): number => {
    const A = H[axis]!;
    const cx = M[0]! * i + M[1]! * j + M[2]! * k + M[3]! + s * A[0]!;
    const cy = M[4]! * i + M[5]! * j + M[6]! * k + M[7]! + s * A[1]!;
    const cz = M[8]! * i + M[9]! * j + M[10]! * k + M[11]! + s * A[2]!;
    const dc = Math.sqrt((px - cx) ** 2 + (py - cy) ** 2 + (pz - cz) ** 2) - faceRadius[axis]! / 2;
    if (dc > 0 && dc * dc >= best) return best;
    const u = H[(axis + 1) % 3]!;
    const w = H[(axis + 2) % 3]!;
    let o = 0;
    for (let q = 0; q < 4; q++) {
      const su = q === 0 || q === 3 ? -1 : 1;
      const sw = q < 2 ? -1 : 1;
      quad[o++] = cx + su * u[0]! + sw * w[0]!;
      quad[o++] = cy + su * u[1]! + sw * w[1]!;
      quad[o++] = cz + su * u[2]! + sw * w[2]!;
    }
    return Math.min(
      best,
      pointTriangleDistanceSq(px, py, pz, quad, 0, 1, 2),
      pointTriangleDistanceSq(px, py, pz, quad, 0, 2, 3),
    );
  };
  const maxR = Math.max(nx, ny, nz);
  for (let q = q0; q < q1; q++) {
    const v = q * vStride;
    const px = P[3 * v]!;
    const py = P[3 * v + 1]!;
    const pz = P[3 * v + 2]!;
    const qi = T[0]! * px + T[1]! * py + T[2]! * pz + T[3]!;
    const qj = T[4]! * px + T[5]! * py + T[6]! * pz + T[7]!;
    const qk = T[8]! * px + T[9]! * py + T[10]! * pz + T[11]!;
    const ri = Math.round(qi);
    const rj = Math.round(qj);
    const rk = Math.round(qk);
    let best = Number.POSITIVE_INFINITY;
    let done = -1; // radius already searched
    for (let r = 2; ; r = Math.min(2 * r + 1, maxR + 1)) {
      // search the shell not yet searched (whole box when done < 0)
      const k0 = Math.max(0, rk - r);
      const k1 = Math.min(nz - 1, rk + r);
      const j0 = Math.max(0, rj - r);
      const j1 = Math.min(ny - 1, rj + r);
      const i0 = Math.max(0, ri - r);
      const i1 = Math.min(nx - 1, ri + r);
      for (let k = k0; k <= k1; k++) {
        const kIn = done >= 0 && Math.abs(k - rk) <= done;
        for (let j = j0; j <= j1; j++) {
          const jkIn = kIn && Math.abs(j - rj) <= done;
          const row = (k * ny + j) * nx;
          for (let i = i0; i <= i1; i++) {
            if (jkIn && Math.abs(i - ri) <= done) continue;
            if (!mask[row + i]) continue;
            if (i === 0 || !mask[row + i - 1]) best = faceDistance(px, py, pz, i, j, k, 0, -1, best);
            if (i === nx - 1 || !mask[row + i + 1]) best = faceDistance(px, py, pz, i, j, k, 0, 1, best);
            if (j === 0 || !mask[row + i - nx]) best = faceDistance(px, py, pz, i, j, k, 1, -1, best);
            if (j === ny - 1 || !mask[row + i + nx]) best = faceDistance(px, py, pz, i, j, k, 1, 1, best);
            if (k === 0 || !mask[row + i - nx * ny]) best = faceDistance(px, py, pz, i, j, k, 2, -1, best);
            if (k === nz - 1 || !mask[row + i + nx * ny]) best = faceDistance(px, py, pz, i, j, k, 2, 1, best);
          }
        }
      }
      done = r;
      // every face outside the box lies beyond index distance (r + 0.5) - |q - round(q)| >= r
      // along some axis, hence beyond sigmaMin * r in mm
      const bound = sigmaMin * r;
      if (best <= bound * bound || r > maxR) break;
    }
    out[q] = Number.isFinite(best) ? Math.sqrt(best) : Number.NaN;
  }
}

/**
 * A lower bound of the smallest singular value of the index-to-LPS matrix from its inverse T:
 * 1 / ||T||_F (Frobenius norm >= spectral norm), so |A d| >= bound * |d|_2 >= bound * |d|_inf.
 */
function smallestSingularValueBound(T: Float64Array): number {
  let s = 0;
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) s += T[r * 4 + c]! ** 2;
  return 1 / Math.sqrt(s);
}

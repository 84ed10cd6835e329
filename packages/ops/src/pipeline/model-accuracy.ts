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
import { MeshDistanceIndex, pointTriangleDistanceSq } from '../mesh/distance.js';

export interface ModelAccuracyOptions extends RunOptions {
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

  // mask -> mesh: boundary face centres (strided) to the mesh
  let faces = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        if (!mask[(k * ny + j) * nx + i]) continue;
        faces +=
          (inside(i - 1, j, k) ? 0 : 1) +
          (inside(i + 1, j, k) ? 0 : 1) +
          (inside(i, j - 1, k) ? 0 : 1) +
          (inside(i, j + 1, k) ? 0 : 1) +
          (inside(i, j, k - 1) ? 0 : 1) +
          (inside(i, j, k + 1) ? 0 : 1);
      }
  const faceStride = Math.max(1, Math.ceil(faces / maxSamples));
  const meshIdx = new MeshDistanceIndex(mesh);
  const toMesh: number[] = [];
  let f = 0;
  for (let k = 0; k < nz; k++) {
    throwIfAborted(options.signal);
    for (let j = 0; j < ny; j++)
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
            toMesh.push(
              meshIdx.distance(
                M[0]! * ci + M[1]! * cj + M[2]! * ck + M[3]!,
                M[4]! * ci + M[5]! * cj + M[6]! * ck + M[7]!,
                M[8]! * ci + M[9]! * cj + M[10]! * ck + M[11]!,
              ),
            );
          }
      }
  }

  // mesh -> mask: local search for the nearest boundary face
  const sigmaMin = smallestSingularValueBound(T);
  const P = mesh.positions;
  const nv = P.length / 3;
  const vStride = Math.max(1, Math.ceil(nv / maxSamples));
  const toMask: number[] = [];
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
  for (let v = 0; v < nv; v += vStride) {
    if ((v & 0xfff) === 0) throwIfAborted(options.signal);
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
    if (Number.isFinite(best)) toMask.push(Math.sqrt(best));
  }
  return {
    ...accuracyReport(
      mesh,
      grid,
      dice,
      maskVoxels,
      Float64Array.from(toMask),
      Float64Array.from(toMesh),
      options.referenceMesh,
    ),
    exhaustive: faceStride === 1 && vStride === 1,
  };
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

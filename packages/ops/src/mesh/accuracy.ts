/**
 * Accuracy report of a model against the segmentation it was made from:
 *
 * - Dice: the final mesh is voxelized on the segmentation grid (ray parity along i, one ray per
 *   (j, k) row, in index space through the inverse of the core's index-to-LPS matrix) and compared
 *   with the mask.
 * - Surface distance (mm): between the mesh and the mask boundary, taken as the exact surface of
 *   the voxel set (the faces between inside and outside voxels, in LPS through the same matrix).
 *   mesh -> mask: every mesh vertex to the nearest point of that surface; mask -> mesh: the centre
 *   of every boundary face to the nearest point of the mesh. Exact point-to-triangle distances
 *   (uniform-grid index), so oblique and anisotropic grids need no approximation. Because the
 *   voxel surface is a staircase, even a perfect smooth surface shows a few tenths of a voxel here.
 * - Volume change (%): of the mesh against a reference mesh (e.g. the raw extraction before
 *   smoothing and decimation) when given, and always against the mask's voxel volume.
 */
import {
  check,
  type Grid,
  ijkFromLpsMatrix,
  lpsFromIjkMatrix,
  type Mesh,
  progressReporter,
  type RunOptions,
  S2SError,
  voxelCount,
} from '@slice2solid/core';
import { MeshDistanceIndex } from './distance.js';
import { signedVolume } from './metrics.js';
import { checkMesh } from './topology.js';

export interface DistanceStats {
  readonly meanMm: number;
  readonly p95Mm: number;
  readonly maxMm: number;
  readonly samples: number;
}

export interface AccuracyReport {
  readonly dice: number;
  /** Symmetric: both directions pooled. */
  readonly distance: DistanceStats;
  readonly meshToMask: DistanceStats;
  readonly maskToMesh: DistanceStats;
  readonly meshVolumeMm3: number;
  readonly maskVolumeMm3: number;
  /** (mesh - mask) / mask * 100. */
  readonly volumeChangeVsMaskPercent: number;
  /** (mesh - reference) / reference * 100, when a reference mesh was given. */
  readonly volumeChangePercent?: number;
}

export interface AccuracyOptions extends RunOptions {
  /** The mesh before smoothing / decimation, for the volume change those steps caused. */
  referenceMesh?: Mesh;
}

/** Voxelizes a closed mesh on a grid: 1 where the voxel centre is inside. */
export function voxelizeMesh(mesh: Mesh, grid: Grid, options: RunOptions = {}): Uint8Array {
  checkMesh(mesh);
  const [nx, ny, nz] = grid.size;
  const out = new Uint8Array(voxelCount(grid));
  const T = ijkFromLpsMatrix(grid);
  const P = mesh.positions;
  const nv = P.length / 3;
  const Q = new Float64Array(3 * nv);
  for (let v = 0; v < nv; v++) {
    const x = P[3 * v]!;
    const y = P[3 * v + 1]!;
    const z = P[3 * v + 2]!;
    Q[3 * v] = T[0]! * x + T[1]! * y + T[2]! * z + T[3]!;
    Q[3 * v + 1] = T[4]! * x + T[5]! * y + T[6]! * z + T[7]!;
    Q[3 * v + 2] = T[8]! * x + T[9]! * y + T[10]! * z + T[11]!;
  }
  // rays at (j + EJ, k + EK): a tiny generic offset keeps them off mesh edges and vertices that
  // lie exactly on grid lines (marching-cubes vertices do)
  const EJ = 1.3217e-6;
  const EK = 2.7183e-6;
  const rows = new Map<number, number[]>();
  const I = mesh.indices;
  const report = progressReporter('voxelizing mesh', I.length / 3, options);
  for (let t = 0; t < I.length; t += 3) {
    if (t % 30000 === 0) report(t / 3);
    const a = 3 * I[t]!;
    const b = 3 * I[t + 1]!;
    const c = 3 * I[t + 2]!;
    const ja = Q[a + 1]!;
    const ka = Q[a + 2]!;
    const jb = Q[b + 1]!;
    const kb = Q[b + 2]!;
    const jc = Q[c + 1]!;
    const kc = Q[c + 2]!;
    const j0 = Math.max(0, Math.ceil(Math.min(ja, jb, jc) - EJ));
    const j1 = Math.min(ny - 1, Math.floor(Math.max(ja, jb, jc) - EJ));
    const k0 = Math.max(0, Math.ceil(Math.min(ka, kb, kc) - EK));
    const k1 = Math.min(nz - 1, Math.floor(Math.max(ka, kb, kc) - EK));
    if (j0 > j1 || k0 > k1) continue;
    const area = (jb - ja) * (kc - ka) - (kb - ka) * (jc - ja);
    if (area === 0) continue;
    for (let k = k0; k <= k1; k++) {
      const pk = k + EK;
      for (let j = j0; j <= j1; j++) {
        const pj = j + EJ;
        const w0 = (jb - pj) * (kc - pk) - (kb - pk) * (jc - pj);
        const w1 = (jc - pj) * (ka - pk) - (kc - pk) * (ja - pj);
        const w2 = (ja - pj) * (kb - pk) - (ka - pk) * (jb - pj);
        if (!((w0 >= 0 && w1 >= 0 && w2 >= 0) || (w0 <= 0 && w1 <= 0 && w2 <= 0))) continue;
        const s = w0 + w1 + w2;
        const i = (w0 * Q[a]! + w1 * Q[b]! + w2 * Q[c]!) / s;
        const key = k * ny + j;
        let list = rows.get(key);
        if (!list) rows.set(key, (list = []));
        list.push(i);
      }
    }
  }
  for (const [key, list] of rows) {
    if (list.length % 2 !== 0) {
      throw new S2SError('INVALID_ARGUMENT', 'the mesh is not closed: a ray crossed it an odd number of times', {
        hint: 'voxelize only closed meshes (check with meshMetrics().closedManifold; extract with closeBoundary)',
      });
    }
    list.sort((x, y) => x - y);
    const base = key * nx;
    for (let m = 0; m < list.length; m += 2) {
      const i0 = Math.max(0, Math.ceil(list[m]!));
      const i1 = Math.min(nx - 1, Math.floor(list[m + 1]!));
      for (let i = i0; i <= i1; i++) out[base + i] = 1;
    }
  }
  report(I.length / 3);
  return out;
}

/** The surface of a voxel set (faces between inside and outside voxels) as an unwelded, outward triangle soup in LPS. */
export function maskBoundaryMesh(mask: Uint8Array, grid: Grid): Mesh & { faceCentres: Float32Array } {
  const [nx, ny, nz] = grid.size;
  const M = lpsFromIjkMatrix(grid);
  const pos: number[] = [];
  const cen: number[] = [];
  const w = (i: number, j: number, k: number) => {
    pos.push(
      M[0]! * i + M[1]! * j + M[2]! * k + M[3]!,
      M[4]! * i + M[5]! * j + M[6]! * k + M[7]!,
      M[8]! * i + M[9]! * j + M[10]! * k + M[11]!,
    );
  };
  const at = (i: number, j: number, k: number) =>
    i >= 0 && j >= 0 && k >= 0 && i < nx && j < ny && k < nz ? mask[(k * ny + j) * nx + i] !== 0 : false;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        if (!mask[(k * ny + j) * nx + i]) continue;
        for (let axis = 0; axis < 3; axis++) {
          for (const s of [-1, 1]) {
            const d = [0, 0, 0];
            d[axis] = s;
            if (at(i + d[0]!, j + d[1]!, k + d[2]!)) continue;
            const c = [i + d[0]! / 2, j + d[1]! / 2, k + d[2]! / 2];
            const u = (axis + 1) % 3;
            const v = (axis + 2) % 3;
            const corner = (du: number, dv: number) => {
              const p = c.slice();
              p[u]! += du;
              p[v]! += dv;
              w(p[0]!, p[1]!, p[2]!);
            };
            // counter-clockwise seen from outside: (u, v) order for a +axis face, reversed for -axis
            const q: [number, number][] = [
              [-0.5, -0.5],
              [0.5, -0.5],
              [0.5, 0.5],
              [-0.5, 0.5],
            ];
            if (s < 0) q.reverse();
            for (const n of [0, 1, 2, 0, 2, 3]) corner(q[n]![0], q[n]![1]);
            cen.push(
              M[0]! * c[0]! + M[1]! * c[1]! + M[2]! * c[2]! + M[3]!,
              M[4]! * c[0]! + M[5]! * c[1]! + M[6]! * c[2]! + M[7]!,
              M[8]! * c[0]! + M[9]! * c[1]! + M[10]! * c[2]! + M[11]!,
            );
          }
        }
      }
  const positions = Float32Array.from(pos);
  return {
    positions,
    indices: Uint32Array.from({ length: pos.length / 3 }, (_, n) => n),
    faceCentres: Float32Array.from(cen),
  };
}

export function distanceStats(d: Float64Array): DistanceStats {
  if (d.length === 0) return { meanMm: NaN, p95Mm: NaN, maxMm: NaN, samples: 0 };
  const s = Float64Array.from(d).sort();
  let sum = 0;
  for (let n = 0; n < s.length; n++) sum += s[n]!;
  return {
    meanMm: sum / s.length,
    p95Mm: s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)]!,
    maxMm: s[s.length - 1]!,
    samples: s.length,
  };
}

export function meshAccuracy(mesh: Mesh, mask: Uint8Array, grid: Grid, options: AccuracyOptions = {}): AccuracyReport {
  checkMesh(mesh);
  const n = voxelCount(grid);
  if (mask.length !== n)
    throw new S2SError('INVALID_ARGUMENT', `the mask has ${mask.length} voxels but the grid needs ${n}`);
  check(mesh.indices.length > 0, 'the mesh has no triangles');
  const { dice, maskVoxels } = voxelDice(mesh, mask, grid, options);
  const boundary = maskBoundaryMesh(mask, grid);
  let toMask = new Float64Array(0);
  if (boundary.indices.length > 0) {
    const idx = new MeshDistanceIndex(boundary);
    const P = mesh.positions;
    toMask = new Float64Array(P.length / 3);
    for (let v = 0; v < toMask.length; v++) toMask[v] = idx.distance(P[3 * v]!, P[3 * v + 1]!, P[3 * v + 2]!);
  }
  const meshIdx = new MeshDistanceIndex(mesh);
  const C = boundary.faceCentres;
  const toMesh = new Float64Array(C.length / 3);
  for (let f = 0; f < toMesh.length; f++) toMesh[f] = meshIdx.distance(C[3 * f]!, C[3 * f + 1]!, C[3 * f + 2]!);
  return accuracyReport(mesh, grid, dice, maskVoxels, toMask, toMesh, options.referenceMesh);
}

/** Dice between `mask` and the mesh voxelized on the same grid, and the mask's voxel count. */
export function voxelDice(
  mesh: Mesh,
  mask: Uint8Array,
  grid: Grid,
  run: RunOptions = {},
): { dice: number; maskVoxels: number } {
  const vox = voxelizeMesh(mesh, grid, run);
  let inter = 0;
  let a = 0;
  let b = 0;
  let head = 0;
  if (mask.byteOffset % 4 === 0 && vox.byteOffset % 4 === 0) {
    // four voxels per read where both are empty (most of a scan)
    const mw = new Uint32Array(mask.buffer, mask.byteOffset, mask.length >> 2);
    const vw = new Uint32Array(vox.buffer, vox.byteOffset, mask.length >> 2);
    for (let w = 0; w < mw.length; w++) {
      if ((mw[w]! | vw[w]!) === 0) continue;
      for (let v = 4 * w; v < 4 * w + 4; v++) {
        const m = mask[v] ? 1 : 0;
        a += m;
        b += vox[v]!;
        inter += m & vox[v]!;
      }
    }
    head = 4 * mw.length;
  }
  for (let v = head; v < mask.length; v++) {
    const m = mask[v] ? 1 : 0;
    a += m;
    b += vox[v]!;
    inter += m & vox[v]!;
  }
  return { dice: a + b === 0 ? 1 : (2 * inter) / (a + b), maskVoxels: a };
}

/**
 * The report from Dice and the two distance sets (mesh -> mask boundary, mask boundary -> mesh);
 * shared by `meshAccuracy` and the pipeline's sampled `modelAccuracy`.
 */
export function accuracyReport(
  mesh: Mesh,
  grid: Grid,
  dice: number,
  maskVoxels: number,
  toMask: Float64Array,
  toMesh: Float64Array,
  referenceMesh?: Mesh,
): AccuracyReport {
  const both = new Float64Array(toMask.length + toMesh.length);
  both.set(toMask);
  both.set(toMesh, toMask.length);
  const M = lpsFromIjkMatrix(grid);
  const voxelVolume = Math.abs(
    M[0]! * (M[5]! * M[10]! - M[6]! * M[9]!) -
      M[1]! * (M[4]! * M[10]! - M[6]! * M[8]!) +
      M[2]! * (M[4]! * M[9]! - M[5]! * M[8]!),
  );
  const meshVolumeMm3 = signedVolume(mesh);
  const maskVolumeMm3 = maskVoxels * voxelVolume;
  const ref = referenceMesh ? signedVolume(referenceMesh) : undefined;
  return {
    dice,
    distance: distanceStats(both),
    meshToMask: distanceStats(toMask),
    maskToMesh: distanceStats(toMesh),
    meshVolumeMm3,
    maskVolumeMm3,
    volumeChangeVsMaskPercent: maskVolumeMm3 > 0 ? ((meshVolumeMm3 - maskVolumeMm3) / maskVolumeMm3) * 100 : NaN,
    ...(ref !== undefined ? { volumeChangePercent: ((meshVolumeMm3 - ref) / ref) * 100 } : {}),
  };
}

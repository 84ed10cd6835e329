/**
 * Exact point-to-mesh distance (closest point on the triangles) with a uniform-grid index.
 * Used by the accuracy report and by tests that compare meshes.
 */
import { check, type Mesh } from '@slice2solid/core';
import { allocUint8, isShareable, type ParallelRunner } from '../parallel/runner.js';

/** Squared distance from p to triangle abc (Ericson, Real-Time Collision Detection, 5.1.5). */
export function pointTriangleDistanceSq(
  px: number,
  py: number,
  pz: number,
  P: ArrayLike<number>,
  ia: number,
  ib: number,
  ic: number,
): number {
  const ax = P[3 * ia]!;
  const ay = P[3 * ia + 1]!;
  const az = P[3 * ia + 2]!;
  const abx = P[3 * ib]! - ax;
  const aby = P[3 * ib + 1]! - ay;
  const abz = P[3 * ib + 2]! - az;
  const acx = P[3 * ic]! - ax;
  const acy = P[3 * ic + 1]! - ay;
  const acz = P[3 * ic + 2]! - az;
  const apx = px - ax;
  const apy = py - ay;
  const apz = pz - az;
  const d1 = abx * apx + aby * apy + abz * apz;
  const d2 = acx * apx + acy * apy + acz * apz;
  let qx: number;
  let qy: number;
  let qz: number;
  if (d1 <= 0 && d2 <= 0) {
    qx = ax;
    qy = ay;
    qz = az;
  } else {
    const bpx = apx - abx;
    const bpy = apy - aby;
    const bpz = apz - abz;
    const d3 = abx * bpx + aby * bpy + abz * bpz;
    const d4 = acx * bpx + acy * bpy + acz * bpz;
    const cpx = apx - acx;
    const cpy = apy - acy;
    const cpz = apz - acz;
    const d5 = abx * cpx + aby * cpy + abz * cpz;
    const d6 = acx * cpx + acy * cpy + acz * cpz;
    const vc = d1 * d4 - d3 * d2;
    const vb = d5 * d2 - d1 * d6;
    const va = d3 * d6 - d5 * d4;
    if (d3 >= 0 && d4 <= d3) {
      qx = ax + abx;
      qy = ay + aby;
      qz = az + abz;
    } else if (vc <= 0 && d1 >= 0 && d3 <= 0) {
      const v = d1 / (d1 - d3);
      qx = ax + v * abx;
      qy = ay + v * aby;
      qz = az + v * abz;
    } else if (d6 >= 0 && d5 <= d6) {
      qx = ax + acx;
      qy = ay + acy;
      qz = az + acz;
    } else if (vb <= 0 && d2 >= 0 && d6 <= 0) {
      const w = d2 / (d2 - d6);
      qx = ax + w * acx;
      qy = ay + w * acy;
      qz = az + w * acz;
    } else if (va <= 0 && d4 - d3 >= 0 && d5 - d6 >= 0) {
      const w = (d4 - d3) / (d4 - d3 + (d5 - d6));
      qx = ax + abx + w * (acx - abx);
      qy = ay + aby + w * (acy - aby);
      qz = az + abz + w * (acz - abz);
    } else {
      const denom = va + vb + vc;
      if (!(denom > 0)) {
        // degenerate triangle: distance to its vertices is a safe answer
        return Math.min(dist2(px, py, pz, P, ia), dist2(px, py, pz, P, ib), dist2(px, py, pz, P, ic));
      }
      const v = vb / denom;
      const w = vc / denom;
      qx = ax + abx * v + acx * w;
      qy = ay + aby * v + acy * w;
      qz = az + abz * v + acz * w;
    }
  }
  const dx = px - qx;
  const dy = py - qy;
  const dz = pz - qz;
  return dx * dx + dy * dy + dz * dz;
}

function dist2(px: number, py: number, pz: number, P: ArrayLike<number>, i: number): number {
  const dx = px - P[3 * i]!;
  const dy = py - P[3 * i + 1]!;
  const dz = pz - P[3 * i + 2]!;
  return dx * dx + dy * dy + dz * dz;
}

/** The arrays of a MeshDistanceIndex (see parts / fromParts). */
export interface MeshDistanceIndexParts {
  readonly P: Float32Array;
  readonly I: Uint32Array;
  readonly lo: readonly number[];
  readonly cell: number;
  readonly dims: readonly number[];
  readonly off: Uint32Array;
  readonly tris: Uint32Array;
}

/** Uniform-grid index over a mesh's triangles for nearest-distance queries. */
export class MeshDistanceIndex {
  private readonly P: Float32Array;
  private readonly I: Uint32Array;
  private readonly lo: [number, number, number];
  private readonly cell: number;
  private readonly dims: [number, number, number];
  private readonly off: Uint32Array;
  private readonly tris: Uint32Array;
  private readonly stamp: Uint32Array;
  private query = 0;

  /** cellMm: grid cell size; default about twice the mean edge length. */
  constructor(mesh: Mesh, cellMm?: number) {
    const P = mesh.positions;
    const I = mesh.indices;
    check(I.length > 0, 'cannot measure distances to a mesh without triangles');
    this.P = P;
    this.I = I;
    const lo: [number, number, number] = [Infinity, Infinity, Infinity];
    const hi = [-Infinity, -Infinity, -Infinity];
    let edgeSum = 0;
    for (let t = 0; t < I.length; t += 3) {
      for (let m = 0; m < 3; m++) {
        const v = I[t + m]!;
        for (let r = 0; r < 3; r++) {
          lo[r] = Math.min(lo[r]!, P[3 * v + r]!);
          hi[r] = Math.max(hi[r]!, P[3 * v + r]!);
        }
      }
      const a = I[t]!;
      const b = I[t + 1]!;
      edgeSum += Math.sqrt(dist2(P[3 * a]!, P[3 * a + 1]!, P[3 * a + 2]!, P, b));
    }
    const nt = I.length / 3;
    const ext = Math.max(hi[0]! - lo[0], hi[1]! - lo[1], hi[2]! - lo[2], 1e-6);
    let cell = cellMm ?? Math.max((2 * edgeSum) / nt, 1e-6);
    // keep the grid at most ~ 8 cells per triangle and 2^24 cells
    cell = Math.max(
      cell,
      ext / 256,
      Math.cbrt(((hi[0]! - lo[0] + 1e-9) * (hi[1]! - lo[1] + 1e-9) * (hi[2]! - lo[2] + 1e-9)) / (8 * nt)),
    );
    this.cell = cell;
    this.lo = lo;
    this.dims = [0, 1, 2].map((r) => Math.max(1, Math.floor((hi[r]! - lo[r]!) / cell) + 1)) as [number, number, number];
    const [dx, dy, dz] = this.dims;
    const ncell = dx * dy * dz;
    const off = new Uint32Array(ncell + 1);
    // each triangle's box of cells, once (then counted and filled in the same order)
    const box = new Int32Array(6 * nt);
    for (let t = 0; t < nt; t++) {
      const a = 3 * I[3 * t]!;
      const b = 3 * I[3 * t + 1]!;
      const c = 3 * I[3 * t + 2]!;
      for (let r = 0; r < 3; r++) {
        const pa = P[a + r]!;
        const pb = P[b + r]!;
        const pc = P[c + r]!;
        const mn = Math.min(pa, pb, pc);
        const mx = Math.max(pa, pb, pc);
        const d = this.dims[r]! - 1;
        box[6 * t + r] = Math.min(d, Math.floor((mn - lo[r]!) / cell));
        box[6 * t + 3 + r] = Math.min(d, Math.floor((mx - lo[r]!) / cell));
      }
    }
    for (let t = 0; t < nt; t++) {
      const o = 6 * t;
      for (let k = box[o + 2]!; k <= box[o + 5]!; k++)
        for (let j = box[o + 1]!; j <= box[o + 4]!; j++)
          for (let i = box[o]!; i <= box[o + 3]!; i++) off[(k * dy + j) * dx + i + 1]!++;
    }
    for (let c = 0; c < ncell; c++) off[c + 1]! += off[c]!;
    const tris = new Uint32Array(off[ncell]!);
    const fill = off.slice(0, ncell);
    for (let t = 0; t < nt; t++) {
      const o = 6 * t;
      for (let k = box[o + 2]!; k <= box[o + 5]!; k++)
        for (let j = box[o + 1]!; j <= box[o + 4]!; j++)
          for (let i = box[o]!; i <= box[o + 3]!; i++) tris[fill[(k * dy + j) * dx + i]!++] = t;
    }
    this.off = off;
    this.tris = tris;
    this.stamp = new Uint32Array(nt);
  }

  /** The index's arrays, on shared memory for the runner's threads (copies where they are not). */
  parts(runner?: ParallelRunner): MeshDistanceIndexParts {
    const share = <A extends Float32Array | Uint32Array>(a: A): A => {
      if (isShareable(a, runner)) return a;
      const c = new (a.constructor as new (b: ArrayBuffer) => A)(
        allocUint8(a.byteLength, runner).buffer as ArrayBuffer,
      );
      c.set(a as never);
      return c;
    };
    return {
      P: share(this.P),
      I: share(this.I),
      lo: [...this.lo],
      cell: this.cell,
      dims: [...this.dims],
      off: share(this.off),
      tris: share(this.tris),
    };
  }

  /** An index over the arrays of parts() (its own query stamps; the arrays are shared, read only). */
  static fromParts(p: MeshDistanceIndexParts): MeshDistanceIndex {
    const idx = Object.create(MeshDistanceIndex.prototype) as MeshDistanceIndex;
    Object.assign(idx, {
      P: p.P,
      I: p.I,
      lo: [...p.lo],
      cell: p.cell,
      dims: [...p.dims],
      off: p.off,
      tris: p.tris,
      stamp: new Uint32Array(p.I.length / 3),
      query: 0,
    });
    return idx;
  }

  /** Distance (mm) from (x, y, z) to the nearest point of the mesh. */
  distance(x: number, y: number, z: number): number {
    const { lo, cell, dims, off, tris, P, I, stamp } = this;
    const q = ++this.query;
    if (q === 0xffffffff) {
      stamp.fill(0);
      this.query = 1;
    }
    const qid = this.query;
    const c = [x, y, z].map((v, r) => Math.floor((v - lo[r]!) / cell));
    // distance from the point to the grid box, so the ring bound stays valid outside it
    let outside = 0;
    for (let r = 0; r < 3; r++) {
      const cl = Math.min(dims[r]! - 1, Math.max(0, c[r]!));
      outside = Math.max(outside, Math.abs(cl - c[r]!));
      c[r] = cl;
    }
    const rmax = Math.max(...[0, 1, 2].map((r) => Math.max(c[r]!, dims[r]! - 1 - c[r]!)));
    // distance from p to the nearest face of its own cell (>= 0 inside the box)
    let inCell = 0;
    if (outside === 0) {
      const fx = x - lo[0] - c[0]! * cell;
      const fy = y - lo[1] - c[1]! * cell;
      const fz = z - lo[2] - c[2]! * cell;
      inCell = Math.max(0, Math.min(fx, cell - fx, fy, cell - fy, fz, cell - fz));
    }
    let best = Infinity;
    for (let ring = 0; ring <= rmax; ring++) {
      const k0 = c[2]! - ring;
      const k1 = c[2]! + ring;
      for (let k = Math.max(0, k0); k <= Math.min(dims[2] - 1, k1); k++) {
        for (let j = Math.max(0, c[1]! - ring); j <= Math.min(dims[1] - 1, c[1]! + ring); j++) {
          const onShellJK = k === k0 || k === k1 || j === c[1]! - ring || j === c[1]! + ring;
          for (let i = Math.max(0, c[0]! - ring); i <= Math.min(dims[0] - 1, c[0]! + ring); i++) {
            if (!onShellJK && i !== c[0]! - ring && i !== c[0]! + ring) continue;
            const cc = (k * dims[1] + j) * dims[0] + i;
            for (let n = off[cc]!; n < off[cc + 1]!; n++) {
              const t = tris[n]!;
              if (stamp[t] === qid) continue;
              stamp[t] = qid;
              const d = pointTriangleDistanceSq(x, y, z, P, I[3 * t]!, I[3 * t + 1]!, I[3 * t + 2]!);
              if (d < best) best = d;
            }
          }
        }
      }
      // everything not yet visited is at least `ring` cells away (also when p is outside the box,
      // where it is even further); inside the box, plus p's distance to the faces of its own cell
      const bound = outside === 0 ? ring * cell + inCell : Math.max(ring, outside - 1) * cell;
      if (best <= bound * bound) break;
    }
    return Math.sqrt(best);
  }
}

/** Distances from each vertex of `from` to the surface of `to` (mm). */
export function vertexToMeshDistances(from: Mesh, to: Mesh | MeshDistanceIndex): Float64Array {
  const index = to instanceof MeshDistanceIndex ? to : new MeshDistanceIndex(to);
  const P = from.positions;
  const out = new Float64Array(P.length / 3);
  for (let v = 0; v < out.length; v++) out[v] = index.distance(P[3 * v]!, P[3 * v + 1]!, P[3 * v + 2]!);
  return out;
}

/**
 * Mesh cleanup: degenerate and duplicate triangles, consistent orientation (outward normals),
 * small components, and hole filling. Groups (structures) are cleaned one by one; vertices are
 * shared as before and unused ones are dropped at the end.
 *
 * Orientation: triangles are made consistent across manifold edges (flood fill); then for every
 * CLOSED component a ray is cast from one of its triangles along the normal and the crossings
 * with the rest of the mesh are counted: an odd count means the normal points inwards and the
 * component is flipped. This is right for nested surfaces too (a cavity's surface faces the
 * cavity, i.e. has negative signed volume of its own), which a "make every volume positive" rule
 * would get wrong.
 */
import { check, type Mesh, type MeshGroup } from '@slice2solid/core';
import { coincidentTriangleMask } from '../pipeline/clean-closed.js';
import { triangleArea } from './metrics.js';
import { buildEdgeTable, checkMesh } from './topology.js';

export interface CleanOptions {
  /** Remove triangles with a repeated vertex (default true). */
  removeDegenerate?: boolean;
  /**
   * Also remove triangles with three distinct vertices but zero area (default false: removing
   * them opens a closed mesh; weld first so coincident vertices merge and the triangle becomes a
   * repeated-vertex one, which is removed safely).
   */
  removeZeroArea?: boolean;
  /**
   * Remove coincident triangles (the same three vertices, default true): a same-winding copy of an
   * earlier triangle goes; an opposite-winding pair goes entirely (a zero-thickness sliver, e.g.
   * where two parts touch; removing only one of the two would open the surface).
   */
  removeDuplicates?: boolean;
  /** Make winding consistent and outward (default true). */
  orient?: boolean;
  /** Remove closed components enclosing less than this volume, mm³ (default 0: keep all). */
  minComponentVolumeMm3?: number;
  /** Close every simple boundary loop with a fan around its centroid (default false). */
  fillHoles?: boolean;
}

export const CLEAN_DEFAULTS = {
  removeDegenerate: true,
  removeZeroArea: false,
  removeDuplicates: true,
  orient: true,
  minComponentVolumeMm3: 0,
  fillHoles: false,
} as const;

export interface CleanReport {
  degenerateRemoved: number;
  duplicatesRemoved: number;
  trianglesFlipped: number;
  componentsRemoved: number;
  holesFilled: number;
}

export function cleanMesh(mesh: Mesh, options: CleanOptions = {}): { mesh: Mesh; report: CleanReport } {
  checkMesh(mesh);
  const o = { ...CLEAN_DEFAULTS, ...options };
  check(o.minComponentVolumeMm3 >= 0, `minComponentVolumeMm3 must be >= 0, got ${o.minComponentVolumeMm3}`);
  const report: CleanReport = {
    degenerateRemoved: 0,
    duplicatesRemoved: 0,
    trianglesFlipped: 0,
    componentsRemoved: 0,
    holesFilled: 0,
  };
  const pos: number[] = Array.from(mesh.positions);
  const groups: readonly MeshGroup[] = mesh.groups ?? [
    { name: 'mesh', color: [200, 200, 200], start: 0, count: mesh.indices.length / 3 },
  ];
  const outIdx: number[] = [];
  const outGroups: MeshGroup[] = [];
  for (const g of groups) {
    let tris = Array.from(mesh.indices.subarray(3 * g.start, 3 * (g.start + g.count)));
    tris = cleanPart(pos, tris, o, report);
    outGroups.push({ ...g, start: outIdx.length / 3, count: tris.length / 3 });
    for (const v of tris) outIdx.push(v);
  }
  // drop unused vertices
  const nv = pos.length / 3;
  const remap = new Int32Array(nv).fill(-1);
  let used = 0;
  const indices = new Uint32Array(outIdx.length);
  for (let n = 0; n < outIdx.length; n++) {
    const v = outIdx[n]!;
    if (remap[v]! < 0) remap[v] = used++;
    indices[n] = remap[v]!;
  }
  const positions = new Float32Array(3 * used);
  for (let v = 0; v < nv; v++) {
    const r = remap[v]!;
    if (r >= 0) for (let c = 0; c < 3; c++) positions[3 * r + c] = pos[3 * v + c]!;
  }
  const { normals: _n, colors: _c, groups: _g, ...rest } = mesh;
  return { mesh: { ...rest, positions, indices, ...(mesh.groups ? { groups: outGroups } : {}) }, report };
}

function cleanPart(pos: number[], tris: number[], o: Required<CleanOptions>, report: CleanReport): number[] {
  let out: number[] = [];
  // 1. degenerate
  for (let t = 0; t < tris.length; t += 3) {
    const a = tris[t]!;
    const b = tris[t + 1]!;
    const c = tris[t + 2]!;
    const repeated = a === b || b === c || a === c;
    if ((o.removeDegenerate && repeated) || (o.removeZeroArea && !repeated && triangleArea(pos, a, b, c) === 0)) {
      report.degenerateRemoved++;
      continue;
    }
    out.push(a, b, c);
  }
  // 2. coincident triangles (same vertex set), the implementation shared with cleanClosedMesh
  if (o.removeDuplicates && out.length > 0) {
    const drop = coincidentTriangleMask(Uint32Array.from(out), pos.length / 3);
    const kept: number[] = [];
    for (let t = 0; t < out.length / 3; t++) {
      if (drop[t]) report.duplicatesRemoved++;
      else kept.push(out[3 * t]!, out[3 * t + 1]!, out[3 * t + 2]!);
    }
    out = kept;
  }
  const nv = pos.length / 3;
  const nt = out.length / 3;
  if (nt === 0) return out;
  const idx = Uint32Array.from(out);
  const E = buildEdgeTable(idx, nv);
  // edge-connected components + consistent orientation by flood fill over manifold edges
  const triEdges: number[][] = Array.from({ length: nt }, () => []);
  for (let e = 0; e < E.count; e++) for (let h = E.first[e]!; h < E.first[e + 1]!; h++) triEdges[E.heTri[h]!]!.push(e);
  const comp = new Int32Array(nt).fill(-1);
  const flipped = new Uint8Array(nt);
  let ncomp = 0;
  for (let seed = 0; seed < nt; seed++) {
    if (comp[seed]! >= 0) continue;
    const stack = [seed];
    comp[seed] = ncomp;
    while (stack.length) {
      const t = stack.pop()!;
      for (const e of triEdges[t]!) {
        const h0 = E.first[e]!;
        const n = E.first[e + 1]! - h0;
        for (let h = h0; h < h0 + n; h++) {
          const u = E.heTri[h]!;
          if (u === t || comp[u]! >= 0) continue;
          comp[u] = ncomp;
          if (n === 2 && o.orient) {
            // direction of the edge in t (after t's own flip) vs in u: they must differ
            const ht = E.heTri[h0] === t ? h0 : h0 + 1;
            const dirT = E.heFwd[ht]! ^ flipped[t]!;
            const dirU = E.heFwd[h]!;
            if (dirT === dirU) flipped[u] = 1;
          }
          stack.push(u);
        }
      }
    }
    ncomp++;
  }
  for (let t = 0; t < nt; t++) {
    if (flipped[t]) {
      const b = idx[3 * t + 1]!;
      idx[3 * t + 1] = idx[3 * t + 2]!;
      idx[3 * t + 2] = b;
      report.trianglesFlipped++;
    }
  }
  // closed components: outward test and volume filter
  const closed = new Uint8Array(ncomp).fill(1);
  for (let e = 0; e < E.count; e++) {
    if (E.first[e + 1]! - E.first[e]! !== 2) closed[comp[E.heTri[E.first[e]!]!]!] = 0;
  }
  // signed volume and bounding box of every component in one pass (linear, not per component)
  const P = Float64Array.from(pos);
  const vol = new Float64Array(ncomp);
  const box = new Float64Array(6 * ncomp);
  for (let c = 0; c < ncomp; c++) box.set([Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity], 6 * c);
  const compTris: number[][] = Array.from({ length: ncomp }, () => []);
  for (let t = 0; t < nt; t++) {
    const c = comp[t]!;
    compTris[c]!.push(t);
    const a = 3 * idx[3 * t]!;
    const b = 3 * idx[3 * t + 1]!;
    const d = 3 * idx[3 * t + 2]!;
    vol[c]! +=
      (P[a]! * (P[b + 1]! * P[d + 2]! - P[b + 2]! * P[d + 1]!) +
        P[a + 1]! * (P[b + 2]! * P[d]! - P[b]! * P[d + 2]!) +
        P[a + 2]! * (P[b]! * P[d + 1]! - P[b + 1]! * P[d]!)) /
      6;
    for (const v of [a, b, d]) {
      for (let r = 0; r < 3; r++) {
        const x = P[v + r]!;
        if (x < box[6 * c + r]!) box[6 * c + r] = x;
        if (x > box[6 * c + 3 + r]!) box[6 * c + 3 + r] = x;
      }
    }
  }
  const drop = new Uint8Array(ncomp);
  for (let c = 0; c < ncomp; c++) {
    if (!closed[c]) continue;
    if (Math.abs(vol[c]!) < o.minComponentVolumeMm3) {
      drop[c] = 1;
      report.componentsRemoved++;
      continue;
    }
    if (o.orient && pointsInward(P, idx, compTris, compTris[c]!, box)) {
      for (const t of compTris[c]!) {
        const b = idx[3 * t + 1]!;
        idx[3 * t + 1] = idx[3 * t + 2]!;
        idx[3 * t + 2] = b;
        report.trianglesFlipped++;
      }
    }
  }
  const res: number[] = [];
  for (let t = 0; t < nt; t++) if (!drop[comp[t]!]) res.push(idx[3 * t]!, idx[3 * t + 1]!, idx[3 * t + 2]!);
  if (o.fillHoles) return fillHoles(pos, res, report);
  return res;
}

/**
 * Ray parity from the largest triangle of the component along its normal. Only the triangles of
 * components whose bounding box the ray meets are tested, so orienting many components costs
 * about linear time (testing every triangle for every component was quadratic: 275k triangles in
 * hundreds of components took minutes).
 */
function pointsInward(
  P: Float64Array,
  idx: Uint32Array,
  compTris: number[][],
  list: number[],
  box: Float64Array,
): boolean {
  let best = list[0]!;
  let bestA = -1;
  for (const t of list) {
    const a = triangleArea(P, idx[3 * t]!, idx[3 * t + 1]!, idx[3 * t + 2]!);
    if (a > bestA) {
      bestA = a;
      best = t;
    }
  }
  const a = 3 * idx[3 * best]!;
  const b = 3 * idx[3 * best + 1]!;
  const c = 3 * idx[3 * best + 2]!;
  const o = [0, 1, 2].map((r) => (P[a + r]! + P[b + r]! + P[c + r]!) / 3);
  const u = [0, 1, 2].map((r) => P[b + r]! - P[a + r]!);
  const v = [0, 1, 2].map((r) => P[c + r]! - P[a + r]!);
  const n = [u[1]! * v[2]! - u[2]! * v[1]!, u[2]! * v[0]! - u[0]! * v[2]!, u[0]! * v[1]! - u[1]! * v[0]!];
  let hits = 0;
  for (let k = 0; k < compTris.length; k++) {
    if (!rayMeetsBox(o, n, box, k)) continue;
    for (const t of compTris[k]!) {
      if (t === best) continue;
      if (rayHitsTriangle(o, n, P, idx[3 * t]!, idx[3 * t + 1]!, idx[3 * t + 2]!)) hits++;
    }
  }
  return hits % 2 === 1;
}

/** Slab test of the ray o + s d (s >= 0) against box k (min xyz, max xyz), padded a little. */
function rayMeetsBox(o: number[], d: number[], box: Float64Array, k: number): boolean {
  let lo = 0;
  let hi = Infinity;
  for (let r = 0; r < 3; r++) {
    const pad = 1e-6 * (1 + Math.abs(box[6 * k + r]!) + Math.abs(box[6 * k + 3 + r]!));
    const mn = box[6 * k + r]! - pad;
    const mx = box[6 * k + 3 + r]! + pad;
    const or = o[r]!;
    const dr = d[r]!;
    if (dr === 0) {
      if (or < mn || or > mx) return false;
      continue;
    }
    let s0 = (mn - or) / dr;
    let s1 = (mx - or) / dr;
    if (s0 > s1) [s0, s1] = [s1, s0];
    if (s0 > lo) lo = s0;
    if (s1 < hi) hi = s1;
    if (lo > hi) return false;
  }
  return true;
}

/** Möller–Trumbore, t > 0 (no allocations: called for many triangles). */
function rayHitsTriangle(o: number[], d: number[], P: Float64Array, ia: number, ib: number, ic: number): boolean {
  const a = 3 * ia;
  const b = 3 * ib;
  const c = 3 * ic;
  const e10 = P[b]! - P[a]!;
  const e11 = P[b + 1]! - P[a + 1]!;
  const e12 = P[b + 2]! - P[a + 2]!;
  const e20 = P[c]! - P[a]!;
  const e21 = P[c + 1]! - P[a + 1]!;
  const e22 = P[c + 2]! - P[a + 2]!;
  const d0 = d[0]!;
  const d1 = d[1]!;
  const d2 = d[2]!;
  const p0 = d1 * e22 - d2 * e21;
  const p1 = d2 * e20 - d0 * e22;
  const p2 = d0 * e21 - d1 * e20;
  const det = e10 * p0 + e11 * p1 + e12 * p2;
  if (Math.abs(det) < 1e-30) return false;
  const s0 = o[0]! - P[a]!;
  const s1 = o[1]! - P[a + 1]!;
  const s2 = o[2]! - P[a + 2]!;
  const uu = (s0 * p0 + s1 * p1 + s2 * p2) / det;
  if (uu < 0 || uu > 1) return false;
  const q0 = s1 * e12 - s2 * e11;
  const q1 = s2 * e10 - s0 * e12;
  const q2 = s0 * e11 - s1 * e10;
  const vv = (d0 * q0 + d1 * q1 + d2 * q2) / det;
  if (vv < 0 || uu + vv > 1) return false;
  const t = (e20 * q0 + e21 * q1 + e22 * q2) / det;
  return t > 1e-12;
}

/** Fills simple boundary loops with a fan around an added centroid vertex. */
function fillHoles(pos: number[], tris: number[], report: CleanReport): number[] {
  const nv = pos.length / 3;
  const E = buildEdgeTable(Uint32Array.from(tris), nv);
  // boundary half-edge a -> b (as in its triangle); the hole loop runs b -> a
  const next = new Map<number, number>();
  const bad = new Set<number>();
  for (let e = 0; e < E.count; e++) {
    if (E.first[e + 1]! - E.first[e]! !== 1) continue;
    const h = E.first[e]!;
    const [from, to] = E.heFwd[h] ? [E.a[e]!, E.b[e]!] : [E.b[e]!, E.a[e]!];
    // loop direction: to -> from
    if (next.has(to)) bad.add(to);
    next.set(to, from);
  }
  const out = tris.slice();
  const done = new Set<number>();
  for (const startV of next.keys()) {
    if (done.has(startV)) continue;
    const loop: number[] = [];
    let v = startV;
    let ok = true;
    while (!done.has(v)) {
      done.add(v);
      if (bad.has(v)) ok = false;
      loop.push(v);
      const w = next.get(v);
      if (w === undefined) {
        ok = false;
        break;
      }
      v = w;
    }
    if (!ok || v !== startV || loop.length < 3) continue;
    const c = pos.length / 3;
    for (let r = 0; r < 3; r++) pos.push(loop.reduce((s, u) => s + pos[3 * u + r]!, 0) / loop.length);
    for (let n = 0; n < loop.length; n++) out.push(loop[n]!, loop[(n + 1) % loop.length]!, c);
    report.holesFilled++;
  }
  return out;
}

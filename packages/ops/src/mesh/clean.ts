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
import { signedVolume, triangleArea } from './metrics.js';
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
  /** Remove triangles with the same three vertices as an earlier one, whatever the order (default true). */
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
  // 2. duplicates (same vertex set)
  if (o.removeDuplicates) {
    const seen = new Set<string>();
    const kept: number[] = [];
    for (let t = 0; t < out.length; t += 3) {
      const s = [out[t]!, out[t + 1]!, out[t + 2]!].sort((x, y) => x - y).join(',');
      if (seen.has(s)) {
        report.duplicatesRemoved++;
        continue;
      }
      seen.add(s);
      kept.push(out[t]!, out[t + 1]!, out[t + 2]!);
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
  const compTris: number[][] = Array.from({ length: ncomp }, () => []);
  for (let t = 0; t < nt; t++) compTris[comp[t]!]!.push(t);
  const drop = new Uint8Array(ncomp);
  const P = Float64Array.from(pos);
  for (let c = 0; c < ncomp; c++) {
    if (!closed[c]) continue;
    const list = compTris[c]!;
    const sub = new Uint32Array(list.length * 3);
    list.forEach((t, n) => {
      sub.set(idx.subarray(3 * t, 3 * t + 3), 3 * n);
    });
    const vol = signedVolume({ positions: Float32Array.from(P), indices: sub });
    if (Math.abs(vol) < o.minComponentVolumeMm3) {
      drop[c] = 1;
      report.componentsRemoved++;
      continue;
    }
    if (o.orient && pointsInward(P, idx, list, nt)) {
      for (const t of list) {
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

/** Ray parity from the largest triangle of the component along its normal. */
function pointsInward(P: Float64Array, idx: Uint32Array, list: number[], nt: number): boolean {
  let best = list[0]!;
  let bestA = -1;
  for (const t of list) {
    const a = triangleArea(P, idx[3 * t]!, idx[3 * t + 1]!, idx[3 * t + 2]!);
    if (a > bestA) {
      bestA = a;
      best = t;
    }
  }
  const [a, b, c] = [idx[3 * best]!, idx[3 * best + 1]!, idx[3 * best + 2]!];
  const o = [0, 1, 2].map((r) => (P[3 * a + r]! + P[3 * b + r]! + P[3 * c + r]!) / 3);
  const u = [0, 1, 2].map((r) => P[3 * b + r]! - P[3 * a + r]!);
  const v = [0, 1, 2].map((r) => P[3 * c + r]! - P[3 * a + r]!);
  const n = [u[1]! * v[2]! - u[2]! * v[1]!, u[2]! * v[0]! - u[0]! * v[2]!, u[0]! * v[1]! - u[1]! * v[0]!];
  let hits = 0;
  for (let t = 0; t < nt; t++) {
    if (t === best) continue;
    if (rayHitsTriangle(o, n, P, idx[3 * t]!, idx[3 * t + 1]!, idx[3 * t + 2]!)) hits++;
  }
  return hits % 2 === 1;
}

/** Möller–Trumbore, t > 0. */
function rayHitsTriangle(o: number[], d: number[], P: Float64Array, ia: number, ib: number, ic: number): boolean {
  const e1 = [0, 1, 2].map((r) => P[3 * ib + r]! - P[3 * ia + r]!);
  const e2 = [0, 1, 2].map((r) => P[3 * ic + r]! - P[3 * ia + r]!);
  const p = [d[1]! * e2[2]! - d[2]! * e2[1]!, d[2]! * e2[0]! - d[0]! * e2[2]!, d[0]! * e2[1]! - d[1]! * e2[0]!];
  const det = e1[0]! * p[0]! + e1[1]! * p[1]! + e1[2]! * p[2]!;
  if (Math.abs(det) < 1e-30) return false;
  const s = [0, 1, 2].map((r) => o[r]! - P[3 * ia + r]!);
  const uu = (s[0]! * p[0]! + s[1]! * p[1]! + s[2]! * p[2]!) / det;
  if (uu < 0 || uu > 1) return false;
  const q = [s[1]! * e1[2]! - s[2]! * e1[1]!, s[2]! * e1[0]! - s[0]! * e1[2]!, s[0]! * e1[1]! - s[1]! * e1[0]!];
  const vv = (d[0]! * q[0]! + d[1]! * q[1]! + d[2]! * q[2]!) / det;
  if (vv < 0 || uu + vv > 1) return false;
  const t = (e2[0]! * q[0]! + e2[1]! * q[1]! + e2[2]! * q[2]!) / det;
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

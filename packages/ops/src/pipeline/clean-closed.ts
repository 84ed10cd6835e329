/**
 * Clean-up of a closed surface that keeps it closed: repeated-vertex triangles and coincident
 * triangles (see removeCoincidentTriangles) go, edges shared by several sheets are cut by vertex
 * splitting (see splitNonManifold), and optionally closed pieces enclosing less than a volume go. Vertex numbering, winding and colours are kept; nothing is re-oriented (the surfaces of
 * this pipeline are outward by construction, and a flipped piece would show as an inconsistent
 * edge in the checks). Fast enough for millions of triangles (typed arrays only).
 */
import { check, type Mesh } from '@slice2solid/core';
import { buildEdgeTable, triangleComponents, UnionFind } from '../mesh/topology.js';

export interface CleanClosedOptions {
  /** Remove connected pieces whose enclosed volume (absolute) is below this, mm³ (0 = keep all). */
  readonly minComponentVolumeMm3?: number;
}

export const CLEAN_CLOSED_DEFAULTS = { minComponentVolumeMm3: 0 } as const;

export interface CleanClosedReport {
  readonly degenerateRemoved: number;
  readonly coincidentRemoved: number;
  /** Vertex copies made to cut non-manifold edges (see splitNonManifold). */
  readonly verticesSplit: number;
  readonly componentsRemoved: number;
  readonly componentsKept: number;
}

export function cleanClosedMesh(
  mesh: Mesh,
  options: CleanClosedOptions = {},
): { mesh: Mesh; report: CleanClosedReport } {
  const minVol = options.minComponentVolumeMm3 ?? CLEAN_CLOSED_DEFAULTS.minComponentVolumeMm3;
  check(Number.isFinite(minVol) && minVol >= 0, `minComponentVolumeMm3 must be >= 0, got ${minVol}`);
  const I0 = mesh.indices;
  const keep0: number[] = [];
  for (let t = 0; t < I0.length; t += 3) {
    const a = I0[t]!;
    const b = I0[t + 1]!;
    const c = I0[t + 2]!;
    if (a !== b && b !== c && a !== c) keep0.push(t);
  }
  const degenerateRemoved = I0.length / 3 - keep0.length;
  let m: Mesh = mesh;
  if (degenerateRemoved > 0) {
    const idx = new Uint32Array(3 * keep0.length);
    keep0.forEach((t, n) => {
      idx.set(I0.subarray(t, t + 3), 3 * n);
    });
    m = { ...mesh, indices: idx };
  }
  const co = removeCoincidentTriangles(m);
  m = co.mesh;
  const split = splitNonManifold(m);
  m = split.mesh;
  const nv = m.positions.length / 3;
  const I = m.indices;
  const { triComp, count } = triangleComponents(I, nv);
  let componentsRemoved = 0;
  if (minVol > 0 && count > 0) {
    const vol = new Float64Array(count);
    const P = m.positions;
    for (let t = 0; t < triComp.length; t++) {
      const a = 3 * I[3 * t]!;
      const b = 3 * I[3 * t + 1]!;
      const c = 3 * I[3 * t + 2]!;
      vol[triComp[t]!]! +=
        (P[a]! * (P[b + 1]! * P[c + 2]! - P[b + 2]! * P[c + 1]!) +
          P[a + 1]! * (P[b + 2]! * P[c]! - P[b]! * P[c + 2]!) +
          P[a + 2]! * (P[b]! * P[c + 1]! - P[b + 1]! * P[c]!)) /
        6;
    }
    const drop = new Uint8Array(count);
    for (let c = 0; c < count; c++) {
      if (Math.abs(vol[c]!) < minVol) {
        drop[c] = 1;
        componentsRemoved++;
      }
    }
    if (componentsRemoved > 0) {
      const kept: number[] = [];
      for (let t = 0; t < triComp.length; t++) if (!drop[triComp[t]!]) kept.push(t);
      const idx = new Uint32Array(3 * kept.length);
      kept.forEach((t, n) => {
        idx.set(I.subarray(3 * t, 3 * t + 3), 3 * n);
      });
      m = { ...m, indices: idx };
    }
  }
  const ntri = m.indices.length / 3;
  const groups = m.groups?.length === 1 ? [{ ...m.groups[0]!, start: 0, count: ntri }] : m.groups;
  return {
    mesh: compactMesh({ ...m, ...(groups ? { groups } : {}) }),
    report: {
      degenerateRemoved,
      coincidentRemoved: co.removed,
      verticesSplit: split.added,
      componentsRemoved,
      componentsKept: count - componentsRemoved,
    },
  };
}

/** Drops vertices no triangle uses (keeps colours). */
export function compactMesh(mesh: Mesh): Mesh {
  const nv = mesh.positions.length / 3;
  const I = mesh.indices;
  const remap = new Int32Array(nv).fill(-1);
  const indices = new Uint32Array(I.length);
  let used = 0;
  for (let n = 0; n < I.length; n++) {
    const v = I[n]!;
    if (remap[v]! < 0) remap[v] = used++;
    indices[n] = remap[v]!;
  }
  // (regression: when every vertex is used the renumbering is still a permutation, so the
  // positions must be reordered too; returning the old positions scrambled the mesh)
  let identity = used === nv;
  for (let v = 0; identity && v < nv; v++) if (remap[v] !== v) identity = false;
  if (identity) return mesh;
  const positions = new Float32Array(3 * used);
  const colors = mesh.colors ? new Uint8Array(3 * used) : undefined;
  for (let v = 0; v < nv; v++) {
    const r = remap[v]!;
    if (r < 0) continue;
    positions.set(mesh.positions.subarray(3 * v, 3 * v + 3), 3 * r);
    if (colors && mesh.colors) colors.set(mesh.colors.subarray(3 * v, 3 * v + 3), 3 * r);
  }
  const { normals: _n, ...rest } = mesh;
  return { ...rest, positions, indices, ...(colors ? { colors } : {}) };
}

/**
 * Marks coincident triangles (the same three vertices) for removal: both of an opposite-winding
 * pair (together a zero-thickness sliver; removing only one would open the surface), and every
 * same-winding copy but the first. Linear in the triangle count (edge table, no string keys).
 * Shared by cleanClosedMesh and cleanMesh.
 */
export function coincidentTriangleMask(I: Uint32Array, vertexCount: number): Uint8Array {
  const E = buildEdgeTable(I, vertexCount);
  const nt = I.length / 3;
  const drop = new Uint8Array(nt);
  const sameSet = (t: number, u: number) => {
    const a = I[3 * t]!;
    const b = I[3 * t + 1]!;
    const c = I[3 * t + 2]!;
    const x = I[3 * u]!;
    const y = I[3 * u + 1]!;
    const z = I[3 * u + 2]!;
    return (x === a || x === b || x === c) && (y === a || y === b || y === c) && (z === a || z === b || z === c);
  };
  const sameWinding = (t: number, u: number) => {
    // u is a rotation of t
    for (let r = 0; r < 3; r++) {
      if (I[3 * u] === I[3 * t + r] && I[3 * u + 1] === I[3 * t + ((r + 1) % 3)]) return true;
    }
    return false;
  };
  for (let e = 0; e < E.count; e++) {
    const f = E.first[e]!;
    const n = E.first[e + 1]! - f;
    if (n < 2) continue;
    for (let h = f; h < f + n; h++) {
      const t = E.heTri[h]!;
      if (drop[t]) continue;
      for (let g = h + 1; g < f + n; g++) {
        const u = E.heTri[g]!;
        if (drop[u] || u === t || !sameSet(t, u)) continue;
        if (sameWinding(t, u)) drop[u] = 1;
        else {
          drop[t] = 1;
          drop[u] = 1;
          break;
        }
      }
    }
  }
  return drop;
}

/**
 * Removes coincident triangles (the same three vertices): an opposite-winding pair entirely (it
 * encloses no volume; removing one of the two would open the surface), same-winding copies but
 * the first.
 */
export function removeCoincidentTriangles(mesh: Mesh): { mesh: Mesh; removed: number } {
  const I = mesh.indices;
  const nt = I.length / 3;
  const drop = coincidentTriangleMask(I, mesh.positions.length / 3);
  let removed = 0;
  for (let t = 0; t < nt; t++) removed += drop[t]!;
  if (removed === 0) return { mesh, removed };
  const indices = new Uint32Array(3 * (nt - removed));
  let o = 0;
  for (let t = 0; t < nt; t++) {
    if (drop[t]) continue;
    indices[o++] = I[3 * t]!;
    indices[o++] = I[3 * t + 1]!;
    indices[o++] = I[3 * t + 2]!;
  }
  const groups = mesh.groups?.length === 1 ? [{ ...mesh.groups[0]!, start: 0, count: indices.length / 3 }] : undefined;
  return { mesh: { ...mesh, indices, ...(groups ? { groups } : {}) }, removed };
}

/** How far (mm) a vertex copy made by splitNonManifold moves into its own solid. */
export const SPLIT_OFFSET_MM = 1e-3;

/**
 * Cuts non-manifold edges and vertices by vertex splitting: the corners of the triangles around
 * each vertex are joined across manifold edges (2 triangles, opposite directions) only; every fan
 * but the first gets a new copy of the vertex (same colour, moved SPLIT_OFFSET_MM into its own solid).
 */
export function splitNonManifold(mesh: Mesh): { mesh: Mesh; added: number; from: number[] } {
  // a pass can leave an edge pinched where both its ends were pinched too; the next pass sees
  // the fans the previous one made, so repeat while it helps
  const nv0 = mesh.positions.length / 3;
  let m = mesh;
  let from: number[] = [];
  for (let pass = 0; pass < 4; pass++) {
    const r = splitOnce(m);
    if (r.added === 0) break;
    from = [...from, ...r.from.map((v) => (v < nv0 ? v : from[v - nv0]!))];
    m = r.mesh;
  }
  return { mesh: m, added: from.length, from };
}

function splitOnce(mesh: Mesh): { mesh: Mesh; added: number; from: number[] } {
  const I = mesh.indices;
  const nv = mesh.positions.length / 3;
  const nt = I.length / 3;
  const E = buildEdgeTable(I, nv);
  const corner = (t: number, v: number) => (I[3 * t] === v ? 3 * t : I[3 * t + 1] === v ? 3 * t + 1 : 3 * t + 2);
  const uf = new UnionFind(3 * nt);
  const join = (t: number, u: number, a: number, b: number) => {
    uf.union(corner(t, a), corner(u, a));
    uf.union(corner(t, b), corner(u, b));
  };
  const nonManifold: number[] = [];
  for (let e = 0; e < E.count; e++) {
    const f = E.first[e]!;
    const n = E.first[e + 1]! - f;
    if (n === 2) {
      if (E.heFwd[f] !== E.heFwd[f + 1]) join(E.heTri[f]!, E.heTri[f + 1]!, E.a[e]!, E.b[e]!);
    } else if (n > 2) nonManifold.push(e);
  }
  // On an edge shared by several sheets, pair a triangle with an opposite-direction one of the
  // SAME sheet: one whose corner at either end vertex is already in the same fan. Joining them
  // can connect fans further along a chain of such edges, so repeat until nothing changes.
  const paired = new Uint8Array(E.heTri.length);
  for (let changed = true; changed; ) {
    changed = false;
    for (const e of nonManifold) {
      const f = E.first[e]!;
      const n = E.first[e + 1]! - f;
      const a = E.a[e]!;
      const b = E.b[e]!;
      for (let h = f; h < f + n; h++) {
        if (paired[h]) continue;
        const t = E.heTri[h]!;
        for (let g = f; g < f + n; g++) {
          if (g === h || paired[g] || E.heFwd[g] === E.heFwd[h]) continue;
          const u = E.heTri[g]!;
          if (uf.find(corner(t, a)) === uf.find(corner(u, a)) || uf.find(corner(t, b)) === uf.find(corner(u, b))) {
            join(t, u, a, b);
            paired[h] = paired[g] = 1;
            changed = true;
            break;
          }
        }
      }
    }
  }
  // what is left (both ends of the edge are themselves pinched): pair the remaining triangles of
  // opposite direction in turn, so no half-edge stays unmatched (an unmatched one would become a
  // boundary edge); such an edge may stay non-manifold, which the checks then report
  for (const e of nonManifold) {
    const f = E.first[e]!;
    const n = E.first[e + 1]! - f;
    for (let h = f; h < f + n; h++) {
      if (paired[h]) continue;
      for (let g = h + 1; g < f + n; g++) {
        if (paired[g] || E.heFwd[g] === E.heFwd[h]) continue;
        join(E.heTri[h]!, E.heTri[g]!, E.a[e]!, E.b[e]!);
        paired[h] = paired[g] = 1;
        break;
      }
    }
  }
  // first fan root seen for each vertex keeps it; other roots get new vertices
  const owner = new Int32Array(nv).fill(-1);
  const copyOf = new Map<number, number>();
  const extra: number[] = [];
  const indices = new Uint32Array(I.length);
  for (let c = 0; c < I.length; c++) {
    const v = I[c]!;
    const root = uf.find(c);
    if (owner[v]! < 0) owner[v] = root;
    if (owner[v] === root) {
      indices[c] = v;
      continue;
    }
    let w = copyOf.get(root);
    if (w === undefined) {
      w = nv + extra.length;
      extra.push(v);
      copyOf.set(root, w);
    }
    indices[c] = w;
  }
  if (extra.length === 0) return { mesh, added: 0, from: [] };
  const positions = new Float32Array(3 * (nv + extra.length));
  positions.set(mesh.positions);
  const colors = mesh.colors ? new Uint8Array(3 * (nv + extra.length)) : undefined;
  if (colors && mesh.colors) colors.set(mesh.colors);
  // each copy moves SPLIT_OFFSET_MM into its own solid (against its fan's normal), so the sheets
  // no longer touch: a reader that welds by position (STL) sees the same closed 2-manifold
  const normal = new Float64Array(3 * extra.length);
  const P = mesh.positions;
  for (let c = 0; c < indices.length; c++) {
    const w = indices[c]!;
    if (w < nv) continue;
    const t = c - (c % 3);
    const a = 3 * I[t]!;
    const b = 3 * I[t + 1]!;
    const d = 3 * I[t + 2]!;
    const ux = P[b]! - P[a]!;
    const uy = P[b + 1]! - P[a + 1]!;
    const uz = P[b + 2]! - P[a + 2]!;
    const vx = P[d]! - P[a]!;
    const vy = P[d + 1]! - P[a + 1]!;
    const vz = P[d + 2]! - P[a + 2]!;
    const o = 3 * (w - nv);
    normal[o]! += uy * vz - uz * vy;
    normal[o + 1]! += uz * vx - ux * vz;
    normal[o + 2]! += ux * vy - uy * vx;
  }
  extra.forEach((v, n) => {
    const l = Math.hypot(normal[3 * n]!, normal[3 * n + 1]!, normal[3 * n + 2]!);
    const s = l > 0 ? SPLIT_OFFSET_MM / l : 0;
    for (let r = 0; r < 3; r++) positions[3 * (nv + n) + r] = P[3 * v + r]! - s * normal[3 * n + r]!;
    if (colors && mesh.colors) colors.set(mesh.colors.subarray(3 * v, 3 * v + 3), 3 * (nv + n));
  });
  const { normals: _n, ...rest } = mesh;
  return { mesh: { ...rest, positions, indices, ...(colors ? { colors } : {}) }, added: extra.length, from: extra };
}

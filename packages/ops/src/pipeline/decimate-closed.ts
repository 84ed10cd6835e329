/**
 * Decimation that keeps closed surfaces closed.
 *
 * The quadric simplifier (meshoptimizer, see mesh/decimate.ts) does not promise to keep a closed
 * 2-manifold closed: on small or thin pieces an edge collapse can pinch the surface (a
 * non-manifold edge, two boundary edges) or fold it (inconsistent winding). A CT bone surface
 * has hundreds of tiny pieces (calcifications, trabeculae), so at 10% a few always break, and
 * one broken piece makes the whole model non-watertight and un-voxelizable.
 *
 * Repair, in order, each only when the previous left bad edges:
 * 1. coincident triangles (the same three vertices: a collapsed, zero-volume flap) are removed:
 *    a pair with opposite winding entirely (it encloses nothing), same-winding copies but one;
 * 2. non-manifold edges where two sheets touch (an edge used by 4 triangles, each sheet properly
 *    closed) are cut by vertex splitting: the triangles around every vertex are grouped into fans
 *    joined across manifold edges only, and each extra fan gets its own copy of the vertex. The
 *    geometry is unchanged; the topology becomes a closed 2-manifold whose sheets touch;
 * 3. each connected piece of the INPUT that still owns a bad edge is put back undecimated (its
 *    original triangles; pieces share no vertices), mapped through exact vertex positions (the
 *    simplifier only moves vertices onto existing ones).
 *
 * For meshes with several groups (multi-label nets, whose shared interfaces are non-manifold by
 * design) it is plain `decimate` (mesh/decimate.ts), which keeps the interfaces shared.
 */
import { check, type Mesh, S2SError, throwIfAborted } from '@slice2solid/core';
import { MeshoptSimplifier } from 'meshoptimizer/simplifier';
import { DECIMATE_DEFAULTS, type DecimateOptions, decimate } from '../mesh/decimate.js';
import { buildEdgeTable, checkMesh, triangleComponents, UnionFind } from '../mesh/topology.js';
import { weld } from '../mesh/weld.js';

export interface DecimateClosedOptions extends DecimateOptions {}

export const DECIMATE_CLOSED_DEFAULTS = {} as const;

export interface DecimateClosedResult {
  readonly mesh: Mesh;
  /** The simplifier's own estimate of the largest deviation, mm. */
  readonly errorMm: number;
  /** Coincident triangles removed (step 1). */
  readonly coincidentRemoved: number;
  /** Vertex copies made to cut non-manifold edges (step 2). */
  readonly verticesSplit: number;
  /** Input pieces put back undecimated because decimating them broke their surface (step 3). */
  readonly piecesRestored: number;
  readonly trianglesRestored: number;
}

/** Vertices that touch an edge used by other than 2 triangles, or by 2 with the same direction. */
function badVertices(mesh: Mesh): Uint8Array {
  const nv = mesh.positions.length / 3;
  const I = mesh.indices;
  const bad = new Uint8Array(nv);
  const E = buildEdgeTable(I, nv);
  for (let e = 0; e < E.count; e++) {
    const f = E.first[e]!;
    const n = E.first[e + 1]! - f;
    if (n !== 2 || E.heFwd[f] === E.heFwd[f + 1]) {
      bad[E.a[e]!] = 1;
      bad[E.b[e]!] = 1;
    }
  }
  for (let t = 0; t < I.length; t += 3) {
    const a = I[t]!;
    const b = I[t + 1]!;
    const c = I[t + 2]!;
    if (a === b || b === c || a === c) bad[a] = bad[b] = bad[c] = 1;
  }
  return bad;
}

/**
 * Quadric simplification of a single-structure mesh with meshoptimizer, keeping the INPUT vertex
 * numbering (output indices refer to input vertices; unused ones are dropped later). Same
 * settings as mesh/decimate.ts (absolute error, locked border); vertices at identical positions
 * are welded first only when there are any (a marching-cubes mesh has none, and welding millions
 * of vertices is slow).
 */
async function simplifyIndexed(
  input: Mesh,
  options: DecimateOptions,
): Promise<{ mesh: Mesh; errorMm: number; source: Mesh }> {
  checkMesh(input);
  const mesh = hasCoincidentVertices(input.positions) ? weld(input) : input;
  const ratio = options.targetRatio ?? (options.maxErrorMm === undefined ? DECIMATE_DEFAULTS.targetRatio : 0);
  check(ratio >= 0 && ratio <= 1, `targetRatio must be in (0, 1], got ${ratio}`, 'e.g. 0.1 keeps 10% of the triangles');
  if (options.maxErrorMm !== undefined) check(options.maxErrorMm >= 0, `maxErrorMm must be >= 0, got ${options.maxErrorMm}`);
  if (!MeshoptSimplifier.supported) {
    throw new S2SError('NOT_IMPLEMENTED', 'this JavaScript runtime cannot run the meshoptimizer WebAssembly module', {
      hint: 'use Node 20+ or a current browser',
    });
  }
  await MeshoptSimplifier.ready;
  throwIfAborted(options.signal);
  const flags: ('LockBorder' | 'ErrorAbsolute')[] = ['ErrorAbsolute'];
  if (options.lockBorder ?? DECIMATE_DEFAULTS.lockBorder) flags.push('LockBorder');
  const target = Math.floor((mesh.indices.length / 3) * ratio) * 3;
  const [indices, errorMm] = MeshoptSimplifier.simplify(
    mesh.indices,
    mesh.positions,
    3,
    target,
    options.maxErrorMm ?? 1e30,
    flags,
  );
  const groups = mesh.groups?.length === 1 ? [{ ...mesh.groups[0]!, start: 0, count: indices.length / 3 }] : undefined;
  return { mesh: { ...mesh, indices, ...(groups ? { groups } : {}) }, errorMm, source: mesh };
}

/** Whether two vertices share exactly the same position (hash on the float32 bit patterns). */
function hasCoincidentVertices(positions: Float32Array): boolean {
  const bits = new Uint32Array(positions.buffer, positions.byteOffset, positions.length);
  const nv = positions.length / 3;
  let size = 1;
  while (size < 2 * nv) size <<= 1;
  const mask = size - 1;
  const table = new Int32Array(size).fill(-1);
  for (let v = 0; v < nv; v++) {
    const x = bits[3 * v]!;
    const y = bits[3 * v + 1]!;
    const z = bits[3 * v + 2]!;
    let h = (Math.imul(x, 0x9e3779b1) ^ Math.imul(y, 0x85ebca77) ^ Math.imul(z, 0xc2b2ae3d)) & mask;
    for (;;) {
      const w = table[h]!;
      if (w < 0) {
        table[h] = v;
        break;
      }
      if (bits[3 * w] === x && bits[3 * w + 1] === y && bits[3 * w + 2] === z) return true;
      h = (h + 1) & mask;
    }
  }
  return false;
}

/** Removes coincident triangles: opposite-winding pairs entirely, same-winding copies but the first. */
export function removeCoincidentTriangles(mesh: Mesh): { mesh: Mesh; removed: number } {
  const I = mesh.indices;
  const nv = mesh.positions.length / 3;
  const E = buildEdgeTable(I, nv);
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
    if (n <= 2 && !(n === 2 && E.heFwd[f] === E.heFwd[f + 1])) continue;
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

/**
 * Cuts non-manifold edges and vertices by vertex splitting: the corners of the triangles around
 * each vertex are joined across manifold edges (2 triangles, opposite directions) only; every fan
 * but the first gets a new copy of the vertex (same position and colour).
 */
export function splitNonManifold(mesh: Mesh): { mesh: Mesh; added: number; from: number[] } {
  const I = mesh.indices;
  const nv = mesh.positions.length / 3;
  const nt = I.length / 3;
  const E = buildEdgeTable(I, nv);
  const corner = (t: number, v: number) => (I[3 * t] === v ? 3 * t : I[3 * t + 1] === v ? 3 * t + 1 : 3 * t + 2);
  const uf = new UnionFind(3 * nt);
  for (let e = 0; e < E.count; e++) {
    const f = E.first[e]!;
    if (E.first[e + 1]! - f !== 2 || E.heFwd[f] === E.heFwd[f + 1]) continue;
    const t = E.heTri[f]!;
    const u = E.heTri[f + 1]!;
    uf.union(corner(t, E.a[e]!), corner(u, E.a[e]!));
    uf.union(corner(t, E.b[e]!), corner(u, E.b[e]!));
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
  extra.forEach((v, n) => {
    positions.set(mesh.positions.subarray(3 * v, 3 * v + 3), 3 * (nv + n));
    if (colors && mesh.colors) colors.set(mesh.colors.subarray(3 * v, 3 * v + 3), 3 * (nv + n));
  });
  const { normals: _n, ...rest } = mesh;
  return { mesh: { ...rest, positions, indices, ...(colors ? { colors } : {}) }, added: extra.length, from: extra };
}

export async function decimateKeepingClosed(
  mesh: Mesh,
  options: DecimateClosedOptions = {},
): Promise<DecimateClosedResult> {
  if (mesh.groups && mesh.groups.length > 1) {
    const plain = await decimate(mesh, options);
    return { ...plain, coincidentRemoved: 0, verticesSplit: 0, piecesRestored: 0, trianglesRestored: 0 };
  }
  const res = await simplifyIndexed(mesh, options);
  const none = { mesh: res.mesh, errorMm: res.errorMm, coincidentRemoved: 0, verticesSplit: 0, piecesRestored: 0, trianglesRestored: 0 };
  if (!badVertices(res.mesh).includes(1)) return { ...none, mesh: compact(res.mesh) };
  const step1 = removeCoincidentTriangles(res.mesh);
  let bad = badVertices(step1.mesh);
  let out = step1.mesh;
  let added = 0;
  let splitFrom: readonly number[] = [];
  if (bad.includes(1)) {
    const step2 = splitNonManifold(step1.mesh);
    out = step2.mesh;
    added = step2.added;
    splitFrom = step2.from;
    bad = badVertices(out);
  }
  const fixed = {
    errorMm: res.errorMm,
    coincidentRemoved: step1.removed,
    verticesSplit: added,
    piecesRestored: 0,
    trianglesRestored: 0,
  };
  if (!bad.includes(1)) return { ...fixed, mesh: compact(out) };

  // pieces of the input (the welded input when it had to be welded: the output indexes that)
  const src = res.source;
  const nv = src.positions.length / 3;
  const { triComp, count } = triangleComponents(src.indices, nv);
  const vComp = new Int32Array(nv).fill(-1);
  for (let t = 0; t < triComp.length; t++) {
    for (let m = 0; m < 3; m++) vComp[src.indices[3 * t + m]!] = triComp[t]!;
  }
  // output vertices are input vertices, except the copies made by the split (mapped back here)
  const nvOut = out.positions.length / 3;
  const outComp = new Int32Array(nvOut);
  for (let v = 0; v < nvOut; v++) outComp[v] = v < nv ? vComp[v]! : vComp[splitFrom[v - nv]!]!;
  const broken = new Uint8Array(count);
  for (let v = 0; v < nvOut; v++) if (bad[v]) broken[outComp[v]!] = 1;

  // decimated triangles of intact pieces + original triangles of broken pieces
  const keepOut: number[] = [];
  const O = out.indices;
  for (let t = 0; t < O.length; t += 3) if (!broken[outComp[O[t]!]!]) keepOut.push(t);
  const restore: number[] = [];
  for (let t = 0; t < triComp.length; t++) if (broken[triComp[t]!]) restore.push(3 * t);
  let pieces = 0;
  for (let c = 0; c < count; c++) pieces += broken[c]!;

  const remapOut = new Int32Array(nvOut).fill(-1);
  const remapIn = new Int32Array(nv).fill(-1);
  const indices = new Uint32Array(3 * (keepOut.length + restore.length));
  let used = 0;
  let o = 0;
  for (const t of keepOut) {
    for (let m = 0; m < 3; m++) {
      const v = O[t + m]!;
      if (remapOut[v]! < 0) remapOut[v] = used++;
      indices[o++] = remapOut[v]!;
    }
  }
  for (const t of restore) {
    for (let m = 0; m < 3; m++) {
      const v = src.indices[t + m]!;
      if (remapIn[v]! < 0) remapIn[v] = used++;
      indices[o++] = remapIn[v]!;
    }
  }
  const positions = new Float32Array(3 * used);
  const hasColors = out.colors !== undefined && src.colors !== undefined;
  const colors = hasColors ? new Uint8Array(3 * used) : undefined;
  for (let v = 0; v < nvOut; v++) {
    const r = remapOut[v]!;
    if (r < 0) continue;
    positions.set(out.positions.subarray(3 * v, 3 * v + 3), 3 * r);
    if (colors) colors.set(out.colors!.subarray(3 * v, 3 * v + 3), 3 * r);
  }
  for (let v = 0; v < nv; v++) {
    const r = remapIn[v]!;
    if (r < 0) continue;
    positions.set(src.positions.subarray(3 * v, 3 * v + 3), 3 * r);
    if (colors) colors.set(src.colors!.subarray(3 * v, 3 * v + 3), 3 * r);
  }
  const ntri = indices.length / 3;
  const groups = src.groups?.length === 1 ? [{ ...src.groups[0]!, start: 0, count: ntri }] : undefined;
  return {
    ...fixed,
    mesh: { positions, indices, ...(colors ? { colors } : {}), ...(groups ? { groups } : {}) },
    piecesRestored: pieces,
    trianglesRestored: restore.length,
  };
}

/** Drops vertices no triangle uses. */
function compact(mesh: Mesh): Mesh {
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
  if (used === nv) return { ...mesh, indices };
  const positions = new Float32Array(3 * used);
  const colors = mesh.colors ? new Uint8Array(3 * used) : undefined;
  for (let v = 0; v < nv; v++) {
    const r = remap[v]!;
    if (r < 0) continue;
    positions.set(mesh.positions.subarray(3 * v, 3 * v + 3), 3 * r);
    if (colors && mesh.colors) colors.set(mesh.colors.subarray(3 * v, 3 * v + 3), 3 * r);
  }
  return { ...mesh, positions, indices, ...(colors ? { colors } : {}) };
}

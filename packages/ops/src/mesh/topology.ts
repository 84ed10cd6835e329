/**
 * Edge and connectivity tables shared by the mesh operations (no hashing of 64-bit keys, so it
 * works for any vertex count: half-edges are bucketed by their lower vertex, then sorted).
 */
import { type Mesh, S2SError } from '@slice2solid/core';

export interface EdgeTable {
  /** Number of distinct undirected edges. */
  readonly count: number;
  /** Lower and higher vertex of each edge. */
  readonly a: Uint32Array;
  readonly b: Uint32Array;
  /** Half-edges of edge e are he[first[e] .. first[e + 1]). */
  readonly first: Uint32Array;
  /** Triangle of each half-edge. */
  readonly heTri: Uint32Array;
  /** 1 where the half-edge runs a -> b (lower to higher vertex), 0 where it runs b -> a. */
  readonly heFwd: Uint8Array;
}

/** Checks that indices are in range and positions are finite. */
export function checkMesh(mesh: Mesh, what = 'mesh'): void {
  const nv = mesh.positions.length / 3;
  if (!Number.isInteger(nv)) {
    throw new S2SError('INVALID_ARGUMENT', `${what} positions length ${mesh.positions.length} is not a multiple of 3`);
  }
  if (mesh.indices.length % 3 !== 0) {
    throw new S2SError('INVALID_ARGUMENT', `${what} indices length ${mesh.indices.length} is not a multiple of 3`);
  }
  for (let n = 0; n < mesh.indices.length; n++) {
    if (mesh.indices[n]! >= nv) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `${what} triangle ${Math.floor(n / 3)} uses vertex ${mesh.indices[n]} but there are only ${nv}`,
      );
    }
  }
  for (let n = 0; n < mesh.positions.length; n++) {
    if (!Number.isFinite(mesh.positions[n]!)) {
      throw new S2SError('INVALID_ARGUMENT', `${what} vertex ${Math.floor(n / 3)} has a non-finite coordinate`, {
        hint: 'the mesh is corrupt; re-create it from the volume',
      });
    }
  }
}

/** Builds the undirected edge table of a triangle list (degenerate edges a === b are skipped). */
export function buildEdgeTable(indices: Uint32Array, vertexCount: number): EdgeTable {
  const nt = indices.length / 3;
  const off = new Uint32Array(vertexCount + 1);
  for (let t = 0; t < nt; t++) {
    for (let m = 0; m < 3; m++) {
      const u = indices[3 * t + m]!;
      const v = indices[3 * t + ((m + 1) % 3)]!;
      if (u !== v) off[Math.min(u, v) + 1]!++;
    }
  }
  for (let v = 0; v < vertexCount; v++) off[v + 1]! += off[v]!;
  const nh = off[vertexCount]!;
  const other = new Uint32Array(nh);
  const tri = new Uint32Array(nh);
  const fwd = new Uint8Array(nh);
  const fill = off.slice(0, vertexCount);
  for (let t = 0; t < nt; t++) {
    for (let m = 0; m < 3; m++) {
      const u = indices[3 * t + m]!;
      const v = indices[3 * t + ((m + 1) % 3)]!;
      if (u === v) continue;
      const lo = Math.min(u, v);
      const p = fill[lo]!++;
      other[p] = Math.max(u, v);
      tri[p] = t;
      fwd[p] = u < v ? 1 : 0;
    }
  }
  // sort each bucket by the other vertex (buckets are small: insertion sort)
  for (let v = 0; v < vertexCount; v++) {
    const s = off[v]!;
    const e = off[v + 1]!;
    for (let i = s + 1; i < e; i++) {
      const o = other[i]!;
      const tt = tri[i]!;
      const f = fwd[i]!;
      let j = i - 1;
      while (j >= s && other[j]! > o) {
        other[j + 1] = other[j]!;
        tri[j + 1] = tri[j]!;
        fwd[j + 1] = fwd[j]!;
        j--;
      }
      other[j + 1] = o;
      tri[j + 1] = tt;
      fwd[j + 1] = f;
    }
  }
  let count = 0;
  for (let v = 0; v < vertexCount; v++) {
    for (let i = off[v]!; i < off[v + 1]!; i++) if (i === off[v]! || other[i] !== other[i - 1]) count++;
  }
  const a = new Uint32Array(count);
  const b = new Uint32Array(count);
  const first = new Uint32Array(count + 1);
  let e = 0;
  for (let v = 0; v < vertexCount; v++) {
    for (let i = off[v]!; i < off[v + 1]!; i++) {
      if (i === off[v]! || other[i] !== other[i - 1]) {
        a[e] = v;
        b[e] = other[i]!;
        first[e] = i;
        e++;
      }
    }
  }
  first[count] = nh;
  return { count, a, b, first, heTri: tri, heFwd: fwd };
}

/** Union-find with path halving. */
export class UnionFind {
  readonly parent: Uint32Array;
  constructor(n: number) {
    this.parent = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.parent[i] = i;
  }
  find(x: number): number {
    const p = this.parent;
    while (p[x] !== x) {
      p[x] = p[p[x]!]!;
      x = p[x]!;
    }
    return x;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) {
      if (ra < rb) this.parent[rb] = ra;
      else this.parent[ra] = rb;
    }
  }
}

/**
 * Connected components of triangles (sharing a vertex). Returns the component id of each
 * triangle (0 .. count-1, in order of first appearance) and the count.
 */
export function triangleComponents(indices: Uint32Array, vertexCount: number): { triComp: Uint32Array; count: number } {
  const uf = new UnionFind(vertexCount);
  const nt = indices.length / 3;
  for (let t = 0; t < nt; t++) {
    uf.union(indices[3 * t]!, indices[3 * t + 1]!);
    uf.union(indices[3 * t]!, indices[3 * t + 2]!);
  }
  const id = new Int32Array(vertexCount).fill(-1);
  const triComp = new Uint32Array(nt);
  let count = 0;
  for (let t = 0; t < nt; t++) {
    const r = uf.find(indices[3 * t]!);
    if (id[r]! < 0) id[r] = count++;
    triComp[t] = id[r]!;
  }
  return { triComp, count };
}

/** Vertex neighbour lists (CSR) from the unique edges. */
export function vertexNeighbours(edges: EdgeTable, vertexCount: number): { off: Uint32Array; nbr: Uint32Array } {
  const off = new Uint32Array(vertexCount + 1);
  for (let e = 0; e < edges.count; e++) {
    off[edges.a[e]! + 1]!++;
    off[edges.b[e]! + 1]!++;
  }
  for (let v = 0; v < vertexCount; v++) off[v + 1]! += off[v]!;
  const nbr = new Uint32Array(off[vertexCount]!);
  const fill = off.slice(0, vertexCount);
  for (let e = 0; e < edges.count; e++) {
    const a = edges.a[e]!;
    const b = edges.b[e]!;
    nbr[fill[a]!++] = b;
    nbr[fill[b]!++] = a;
  }
  return { off, nbr };
}

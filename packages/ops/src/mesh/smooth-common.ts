/**
 * Shared machinery of the smoothing filters: who each vertex averages over, and the final
 * displacement clamp.
 *
 * Vertex classes (as VTK's smoothers):
 * - interior vertex: all its edges are used by exactly two triangles -> averages all neighbours;
 * - vertex on a boundary (1 triangle) or non-manifold (>= 3 triangles, e.g. where three labels
 *   meet) edge: with `boundary: 'smooth'` it averages only its 2 neighbours along such edges (the
 *   curve is smoothed as a curve, so neighbouring structures keep sharing it); with 'fixed', or
 *   when it is a corner of such curves (not exactly 2), it does not move;
 * - vertices used by no triangle do not move.
 */
import { check, type Mesh, S2SError } from '@slice2solid/core';
import { checkMesh } from './topology.js';

export interface SmoothCommonOptions {
  /** Boundary and non-manifold curves: smooth them as curves, or keep them fixed. */
  boundary?: 'smooth' | 'fixed';
  /** No vertex ends further than this (mm) from where it started. Default: no limit. */
  maxDisplacementMm?: number;
}

export interface SmoothGraph {
  /** Neighbours of v: nbr[off[v] .. off[v + 1]); an empty list means the vertex is fixed. */
  readonly off: Uint32Array;
  readonly nbr: Uint32Array;
}

export function smoothGraph(mesh: Mesh, boundary: 'smooth' | 'fixed'): SmoothGraph {
  checkMesh(mesh);
  if (boundary !== 'smooth' && boundary !== 'fixed') {
    throw new S2SError('INVALID_ARGUMENT', `boundary must be 'smooth' or 'fixed', got '${String(boundary)}'`);
  }
  const nv = mesh.positions.length / 3;
  const I = mesh.indices;
  const nt = I.length / 3;
  // 1. every half-edge u -> w (u !== w) puts w in u's list and u in w's list, so neighbour u
  //    appears in v's list once per triangle that uses the edge {u, v} (its multiplicity)
  const off = new Uint32Array(nv + 1);
  for (let t = 0; t < 3 * nt; t += 3) {
    const a = I[t]!;
    const b = I[t + 1]!;
    const c = I[t + 2]!;
    if (a !== b) {
      off[a + 1]!++;
      off[b + 1]!++;
    }
    if (b !== c) {
      off[b + 1]!++;
      off[c + 1]!++;
    }
    if (c !== a) {
      off[c + 1]!++;
      off[a + 1]!++;
    }
  }
  for (let v = 0; v < nv; v++) off[v + 1]! += off[v]!;
  const adj = new Uint32Array(off[nv]!);
  const fill = off.slice(0, nv);
  for (let t = 0; t < 3 * nt; t += 3) {
    const a = I[t]!;
    const b = I[t + 1]!;
    const c = I[t + 2]!;
    if (a !== b) {
      adj[fill[a]!++] = b;
      adj[fill[b]!++] = a;
    }
    if (b !== c) {
      adj[fill[b]!++] = c;
      adj[fill[c]!++] = b;
    }
    if (c !== a) {
      adj[fill[c]!++] = a;
      adj[fill[a]!++] = c;
    }
  }
  // 2. per vertex: its distinct neighbours (with their multiplicity, marked per vertex), sorted
  //    ascending (short lists: insertion sort); degree = how many, special = how many have an
  //    edge not used by exactly two triangles. Keep all of them (interior vertex), the two
  //    special ones (curve vertex) or none (fixed). Compacted in place: writes never pass reads.
  const smoothCurves = boundary === 'smooth';
  const mark = new Int32Array(nv).fill(-1);
  const mult = new Int32Array(nv);
  let w = 0;
  let s = 0;
  for (let v = 0; v < nv; v++) {
    const e = off[v + 1]!;
    let d = s;
    for (let i = s; i < e; i++) {
      const u = adj[i]!;
      if (mark[u] !== v) {
        mark[u] = v;
        mult[u] = 1;
        adj[d++] = u;
      } else mult[u]!++;
    }
    for (let i = s + 1; i < d; i++) {
      const x = adj[i]!;
      let j = i - 1;
      while (j >= s && adj[j]! > x) {
        adj[j + 1] = adj[j]!;
        j--;
      }
      adj[j + 1] = x;
    }
    let special = 0;
    for (let i = s; i < d; i++) if (mult[adj[i]!] !== 2) special++;
    off[v] = w;
    if (special === 0) {
      for (let i = s; i < d; i++) adj[w++] = adj[i]!;
    } else if (smoothCurves && special === 2) {
      for (let i = s; i < d; i++) {
        const u = adj[i]!;
        if (mult[u] !== 2) adj[w++] = u;
      }
    }
    s = e;
  }
  off[nv] = w;
  return { off, nbr: adj.slice(0, w) };
}

/** Writes avg(neighbours of v in src) into dst for every movable v; fixed vertices copy src. */
export function averageNeighbours(g: SmoothGraph, src: Float64Array, dst: Float64Array): void {
  const { off, nbr } = g;
  const nv = off.length - 1;
  for (let v = 0; v < nv; v++) {
    const s = off[v]!;
    const e = off[v + 1]!;
    if (s === e) {
      dst[3 * v] = src[3 * v]!;
      dst[3 * v + 1] = src[3 * v + 1]!;
      dst[3 * v + 2] = src[3 * v + 2]!;
      continue;
    }
    let x = 0;
    let y = 0;
    let z = 0;
    for (let n = s; n < e; n++) {
      const u = 3 * nbr[n]!;
      x += src[u]!;
      y += src[u + 1]!;
      z += src[u + 2]!;
    }
    const w = 1 / (e - s);
    dst[3 * v] = x * w;
    dst[3 * v + 1] = y * w;
    dst[3 * v + 2] = z * w;
  }
}

export function checkSmoothOptions(o: SmoothCommonOptions & { iterations?: number }): void {
  if (o.maxDisplacementMm !== undefined) {
    check(o.maxDisplacementMm >= 0, `maxDisplacementMm must be >= 0, got ${o.maxDisplacementMm}`);
  }
  if (o.iterations !== undefined) {
    check(
      Number.isInteger(o.iterations) && o.iterations >= 0 && o.iterations <= 10000,
      `iterations must be an integer 0..10000, got ${o.iterations}`,
    );
  }
}

/** Clamps every vertex to within maxMm of its original position and packs the result. */
export function finishSmoothing(mesh: Mesh, x: Float64Array, maxMm: number | undefined): Mesh {
  const P = mesh.positions;
  const out = new Float32Array(P.length);
  for (let n = 0; n < P.length; n += 3) {
    let dx = x[n]! - P[n]!;
    let dy = x[n + 1]! - P[n + 1]!;
    let dz = x[n + 2]! - P[n + 2]!;
    if (maxMm !== undefined) {
      const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
      if (d > maxMm) {
        const s = maxMm / d;
        dx *= s;
        dy *= s;
        dz *= s;
      }
    }
    out[n] = P[n]! + dx;
    out[n + 1] = P[n + 1]! + dy;
    out[n + 2] = P[n + 2]! + dz;
  }
  const { normals: _stale, ...rest } = mesh;
  return { ...rest, positions: out };
}

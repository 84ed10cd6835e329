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
import { allocInt32, isShareable, type ParallelRunner, splitRange, useRunner } from '../parallel/runner.js';
import { type SmoothPackArgs, type SmoothRawListsArgs, smoothListsPass } from './smooth-kernels.js';
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
  const g = smoothGraph3(mesh, boundary, undefined);
  const nbr = new Uint32Array(g.nbr3.length);
  for (let k = 0; k < nbr.length; k++) nbr[k] = g.nbr3[k]! / 3;
  return { off: Uint32Array.from(g.off), nbr };
}

/** smoothGraph with int32 lists of 3 * neighbour (coordinate offsets), on shared memory with a runner. */
export interface SmoothGraph3 {
  readonly off: Int32Array;
  readonly nbr3: Int32Array;
}

/** The same lists as smoothGraph, as SmoothGraph3; the per-vertex part runs on the runner's threads. */
export function smoothGraph3(
  mesh: Mesh,
  boundary: 'smooth' | 'fixed',
  runner: ParallelRunner | undefined,
): SmoothGraph3 {
  checkMesh(mesh);
  if (boundary !== 'smooth' && boundary !== 'fixed') {
    throw new S2SError('INVALID_ARGUMENT', `boundary must be 'smooth' or 'fixed', got '${String(boundary)}'`);
  }
  const nv = mesh.positions.length / 3;
  if (useRunner(runner)) return smoothGraph3Threads(mesh, nv, boundary, runner);
  const I = mesh.indices;
  const n3 = I.length;
  // 1. every half-edge u -> w (u !== w) puts w in u's list and u in w's list, so neighbour u
  //    appears in v's list once per triangle that uses the edge {u, v} (its multiplicity)
  const off = allocInt32(nv + 1, runner);
  for (let t = 0; t < n3; t += 3) {
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
  const adj = allocInt32(off[nv]!, runner);
  const fill = off.slice(0, nv);
  for (let t = 0; t < n3; t += 3) {
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
  // 2. per vertex (see smoothListsPass): the kept neighbours, in place at the start of its list
  const cnt = allocInt32(nv, runner);
  smoothListsPass({ off, adj, cnt, smoothCurves: boundary === 'smooth' ? 1 : 0 }, 0, nv);
  // 3. packed
  const out = allocInt32(nv + 1, runner);
  for (let v = 0; v < nv; v++) out[v + 1] = out[v]! + cnt[v]!;
  const nbr3 = allocInt32(out[nv]!, runner);
  for (let v = 0; v < nv; v++) {
    const s = off[v]!;
    const d = out[v]!;
    const k = cnt[v]!;
    for (let i = 0; i < k; i++) nbr3[d + i] = adj[s + i]!;
  }
  return { off: out, nbr3 };
}

/**
 * smoothGraph3 on the runner's threads, vertex range by vertex range: each range scans all
 * triangles for its own vertices' raw lists (so the lists hold the same entries, in the same
 * order, as on one thread), then sorts and packs them; the result is identical.
 */
function smoothGraph3Threads(
  mesh: Mesh,
  nv: number,
  boundary: 'smooth' | 'fixed',
  runner: ParallelRunner,
): SmoothGraph3 {
  let I = mesh.indices;
  if (!isShareable(I, runner)) {
    const c = new Uint32Array(allocInt32(I.length, runner).buffer);
    c.set(I);
    I = c;
  }
  // one range per thread for the two triangle scans (each range reads every triangle)
  const scan = splitRange(nv, runner, 1, 4096);
  const off = allocInt32(nv + 1, runner);
  const raw: SmoothRawListsArgs = { I, off, fill: off, adj: off };
  runner.runSlabs('smooth.count', raw, scan);
  for (let v = 0; v < nv; v++) off[v + 1]! += off[v]!;
  const adj = allocInt32(off[nv]!, runner);
  const fill = allocInt32(nv, runner);
  fill.set(off.subarray(0, nv));
  runner.runSlabs('smooth.fill', { I, off, fill, adj }, scan);
  const ranges = splitRange(nv, runner, 16, 4096);
  const cnt = allocInt32(nv, runner);
  runner.runSlabs('smooth.lists', { off, adj, cnt, smoothCurves: boundary === 'smooth' ? 1 : 0 }, ranges);
  const out = allocInt32(nv + 1, runner);
  for (let v = 0; v < nv; v++) out[v + 1] = out[v]! + cnt[v]!;
  const nbr3 = allocInt32(out[nv]!, runner);
  const pack: SmoothPackArgs = { off, adj, cnt, out, nbr3 };
  runner.runSlabs('smooth.pack', pack, ranges);
  return { off: out, nbr3 };
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

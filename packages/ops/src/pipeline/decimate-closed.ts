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
 *    joined across manifold edges only, and each extra fan gets its own copy of the vertex, moved
 *    1 micrometre into its own solid so the sheets no longer touch (also after welding by position,
 *    as STL readers do);
 * 3. the connected pieces of the INPUT that still own a bad edge are simplified again on their
 *    own with the defects and two rings of vertices around them locked (then steps 1-2 again);
 * 4. if that is still not closed, those pieces are put back undecimated (their original
 *    triangles; pieces share no vertices).
 *
 * For meshes with several groups (multi-label nets, whose shared interfaces are non-manifold by
 * design) it is plain `decimate` (mesh/decimate.ts), which keeps the interfaces shared.
 */
import { check, type Mesh, S2SError, throwIfAborted } from '@slice2solid/core';
import { MeshoptSimplifier } from 'meshoptimizer/simplifier';
import { DECIMATE_DEFAULTS, type DecimateOptions, decimate } from '../mesh/decimate.js';
import { buildEdgeTable, checkMesh, triangleComponents } from '../mesh/topology.js';
import { weld } from '../mesh/weld.js';
import {
  allocFloat32,
  allocInt32,
  allocUint8,
  isShareable,
  type ParallelOptions,
  useRunner,
} from '../parallel/runner.js';
import { compactMesh, removeCoincidentTriangles, splitNonManifold } from './clean-closed.js';

export interface DecimateClosedOptions extends DecimateOptions, ParallelOptions {
  /** Meshes from this many triangles on are simplified as SIMPLIFY_GROUPS groups of whole pieces (default SIMPLIFY_GROUPS_MIN_TRIANGLES). */
  readonly pieceGroupsFrom?: number;
}

export const DECIMATE_CLOSED_DEFAULTS = {} as const;

export interface DecimateClosedResult {
  readonly mesh: Mesh;
  /** The simplifier's own estimate of the largest deviation, mm. */
  readonly errorMm: number;
  /** Coincident triangles removed (step 1). */
  readonly coincidentRemoved: number;
  /** Vertex copies made to cut non-manifold edges (step 2). */
  readonly verticesSplit: number;
  /** A multi-structure mesh that decimation would have opened is returned undecimated. */
  readonly undecimated?: boolean;
  /** Input pieces simplified again with their defects locked (step 3). */
  readonly piecesResimplified: number;
  /** Input pieces put back undecimated because even that broke their surface (step 4). */
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

/** Meshes from this many triangles on are simplified as SIMPLIFY_GROUPS groups of whole pieces. */
export const SIMPLIFY_GROUPS_MIN_TRIANGLES = 1 << 19;
/** Groups of a large mesh (independent of the number of threads, so the result is too). */
export const SIMPLIFY_GROUPS = 4;

let meshoptReady = false;
void MeshoptSimplifier.ready?.then(() => {
  meshoptReady = true;
});

/** Arguments of the 'decimate.groups' kernel. */
export interface SimplifyGroupsArgs {
  readonly positions: Float32Array;
  /** The triangles of group g are indices[start[g] .. start[g + 1]) (input vertex numbers). */
  readonly indices: Uint32Array;
  readonly start: Int32Array;
  /** Output: group g's simplified triangles at out[start[g] ..], outCount[g] indices. */
  readonly out: Uint32Array;
  readonly outCount: Int32Array;
  readonly errors: Float32Array;
  readonly ratio: number;
  readonly maxError: number;
  readonly lockBorder: boolean;
}

/**
 * Simplifies groups [g0, g1) one at a time, each on its own compact vertex array (its pieces
 * share no vertex with other groups); results in input vertex numbers. Throws when
 * meshoptimizer's WebAssembly is not instantiated yet on this thread (the caller then runs the
 * groups on its own thread: the result is the same).
 */
export function simplifyGroups(args: SimplifyGroupsArgs, g0: number, g1: number): void {
  if (!meshoptReady) throw new Error('meshoptimizer is not ready on this thread');
  const { positions, indices, start, out, outCount, errors, ratio, maxError, lockBorder } = args;
  const flags: ('LockBorder' | 'ErrorAbsolute')[] = ['ErrorAbsolute'];
  if (lockBorder) flags.push('LockBorder');
  const local = new Int32Array(positions.length / 3).fill(-1);
  for (let g = g0; g < g1; g++) {
    const s = start[g]!;
    const e = start[g + 1]!;
    const idx = new Uint32Array(e - s);
    const back: number[] = [];
    for (let n = s; n < e; n++) {
      const v = indices[n]!;
      let l = local[v]!;
      if (l < 0) {
        l = back.length;
        local[v] = l;
        back.push(v);
      }
      idx[n - s] = l;
    }
    const P = new Float32Array(3 * back.length);
    for (let l = 0; l < back.length; l++) {
      const v = 3 * back[l]!;
      P[3 * l] = positions[v]!;
      P[3 * l + 1] = positions[v + 1]!;
      P[3 * l + 2] = positions[v + 2]!;
      local[back[l]!] = -1;
    }
    const target = Math.floor((idx.length / 3) * ratio) * 3;
    const [res, err] = MeshoptSimplifier.simplify(idx, P, 3, target, maxError, flags);
    for (let n = 0; n < res.length; n++) out[s + n] = back[res[n]!]!;
    outCount[g] = res.length;
    errors[g] = err;
  }
}

/**
 * The triangles of a mesh in `groups` groups of whole connected pieces of about equal size
 * (largest pieces first, each to the lightest group; ties by piece order), so the groups can be
 * simplified independently. Piece and triangle order are kept within a group.
 */
function pieceGroups(indices: Uint32Array, nv: number, groups: number): { order: Uint32Array; start: Int32Array } {
  const { triComp, count } = triangleComponents(indices, nv);
  const size = new Int32Array(count);
  for (let t = 0; t < triComp.length; t++) size[triComp[t]!]!++;
  const byCount = Array.from({ length: count }, (_, c) => c).sort((a, b) => size[b]! - size[a]! || a - b);
  const load = new Float64Array(groups);
  const groupOf = new Int32Array(count);
  for (const c of byCount) {
    let best = 0;
    for (let g = 1; g < groups; g++) if (load[g]! < load[best]!) best = g;
    groupOf[c] = best;
    load[best]! += size[c]!;
  }
  const start = new Int32Array(groups + 1);
  for (let g = 0; g < groups; g++) start[g + 1] = start[g]! + 3 * load[g]!;
  const fill = start.slice(0, groups);
  const order = new Uint32Array(indices.length);
  for (let t = 0; t < triComp.length; t++) {
    const o = fill[groupOf[triComp[t]!]!]!;
    order[o] = indices[3 * t]!;
    order[o + 1] = indices[3 * t + 1]!;
    order[o + 2] = indices[3 * t + 2]!;
    fill[groupOf[triComp[t]!]!]! += 3;
  }
  return { order, start };
}

/**
 * Quadric simplification of a single-structure mesh with meshoptimizer, keeping the INPUT vertex
 * numbering (output indices refer to input vertices; unused ones are dropped later). Same
 * settings as mesh/decimate.ts (absolute error, locked border); vertices at identical positions
 * are welded first only when there are any (a marching-cubes mesh has none, and welding millions
 * of vertices is slow). Large meshes (SIMPLIFY_GROUPS_MIN_TRIANGLES) are simplified as
 * SIMPLIFY_GROUPS groups of whole pieces, each to the target ratio, on the runner's threads when
 * there is one (the same groups and the same result without).
 */
async function simplifyIndexed(
  input: Mesh,
  options: DecimateClosedOptions,
): Promise<{ mesh: Mesh; errorMm: number; source: Mesh }> {
  checkMesh(input);
  const mesh = hasCoincidentVertices(input.positions) ? weld(input) : input;
  const ratio = options.targetRatio ?? (options.maxErrorMm === undefined ? DECIMATE_DEFAULTS.targetRatio : 0);
  check(ratio >= 0 && ratio <= 1, `targetRatio must be in (0, 1], got ${ratio}`, 'e.g. 0.1 keeps 10% of the triangles');
  if (options.maxErrorMm !== undefined)
    check(options.maxErrorMm >= 0, `maxErrorMm must be >= 0, got ${options.maxErrorMm}`);
  if (!MeshoptSimplifier.supported) {
    throw new S2SError('NOT_IMPLEMENTED', 'this JavaScript runtime cannot run the meshoptimizer WebAssembly module', {
      hint: 'use Node 20+ or a current browser',
    });
  }
  await MeshoptSimplifier.ready;
  meshoptReady = true;
  throwIfAborted(options.signal);
  const lockBorder = options.lockBorder ?? DECIMATE_DEFAULTS.lockBorder;
  const maxError = options.maxErrorMm ?? 1e30;
  const nt = mesh.indices.length / 3;
  let indices: Uint32Array;
  let errorMm: number;
  if (nt < (options.pieceGroupsFrom ?? SIMPLIFY_GROUPS_MIN_TRIANGLES)) {
    const flags: ('LockBorder' | 'ErrorAbsolute')[] = ['ErrorAbsolute'];
    if (lockBorder) flags.push('LockBorder');
    const target = Math.floor(nt * ratio) * 3;
    [indices, errorMm] = MeshoptSimplifier.simplify(mesh.indices, mesh.positions, 3, target, maxError, flags);
  } else {
    const runner = useRunner(options.parallel) ? options.parallel : undefined;
    const K = SIMPLIFY_GROUPS;
    const { order, start } = pieceGroups(mesh.indices, mesh.positions.length / 3, K);
    const shared = <T extends Float32Array | Uint32Array | Int32Array>(a: T): T => {
      if (isShareable(a, runner)) return a;
      const c = new (a.constructor as new (b: ArrayBuffer) => T)(
        allocUint8(a.byteLength, runner).buffer as ArrayBuffer,
      );
      c.set(a as never);
      return c;
    };
    const args: SimplifyGroupsArgs = {
      positions: shared(mesh.positions),
      indices: shared(order),
      start: shared(start),
      out: new Uint32Array(allocUint8(4 * order.length, runner).buffer),
      outCount: allocInt32(K, runner),
      errors: allocFloat32(K, runner),
      ratio,
      maxError,
      lockBorder,
    };
    const ranges = Array.from({ length: K }, (_, g) => [g, g + 1] as const);
    let done = false;
    if (runner) {
      try {
        runner.runSlabs('decimate.groups', args, ranges);
        done = true;
      } catch {
        // a worker without meshoptimizer yet: the same groups on this thread
      }
    }
    if (!done) simplifyGroups(args, 0, K);
    let total = 0;
    for (let g = 0; g < K; g++) total += args.outCount[g]!;
    indices = new Uint32Array(total);
    errorMm = 0;
    let o = 0;
    for (let g = 0; g < K; g++) {
      indices.set(args.out.subarray(start[g]!, start[g]! + args.outCount[g]!), o);
      o += args.outCount[g]!;
      errorMm = Math.max(errorMm, args.errors[g]!);
    }
  }
  const groups = mesh.groups?.length === 1 ? [{ ...mesh.groups[0]!, start: 0, count: indices.length / 3 }] : undefined;
  return { mesh: { ...mesh, indices, ...(groups ? { groups } : {}) }, errorMm, source: mesh };
}

/** compactMesh (vertices renumbered by first use, unused ones dropped) and the old number of each new vertex. */
function compactWithMap(mesh: Mesh): { mesh: Mesh; back: Uint32Array } {
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
  const back = new Uint32Array(used);
  const positions = new Float32Array(3 * used);
  const colors = mesh.colors ? new Uint8Array(3 * used) : undefined;
  for (let v = 0; v < nv; v++) {
    const r = remap[v]!;
    if (r < 0) continue;
    back[r] = v;
    positions[3 * r] = mesh.positions[3 * v]!;
    positions[3 * r + 1] = mesh.positions[3 * v + 1]!;
    positions[3 * r + 2] = mesh.positions[3 * v + 2]!;
    if (colors && mesh.colors) colors.set(mesh.colors.subarray(3 * v, 3 * v + 3), 3 * r);
  }
  const { normals: _n, ...rest } = mesh;
  return { mesh: { ...rest, positions, indices, ...(colors ? { colors } : {}) }, back };
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

export async function decimateKeepingClosed(
  mesh: Mesh,
  options: DecimateClosedOptions = {},
): Promise<DecimateClosedResult> {
  if (mesh.groups && mesh.groups.length > 1) {
    // several structures sharing interfaces (surface nets): mesh/decimate.ts simplifies each
    // group with the shared vertices locked. If that opens a structure that the repairs cannot
    // close, the model is kept undecimated (and the caller says so).
    const plain = await decimate(mesh, options);
    const zero = {
      coincidentRemoved: 0,
      verticesSplit: 0,
      piecesResimplified: 0,
      piecesRestored: 0,
      trianglesRestored: 0,
    };
    const opened = (plain.mesh.groups ?? []).some((g) => {
      const part = compactMesh(groupTriangles(plain.mesh, g.start, g.count));
      return badVertices(splitNonManifold(removeCoincidentTriangles(part).mesh).mesh).includes(1);
    });
    const wasClosed = (mesh.groups ?? []).every((g) => {
      const part = compactMesh(groupTriangles(mesh, g.start, g.count));
      return !badVertices(splitNonManifold(removeCoincidentTriangles(part).mesh).mesh).includes(1);
    });
    if (opened && wasClosed) return { mesh, errorMm: 0, ...zero, undecimated: true };
    return { ...plain, ...zero };
  }
  const res = await simplifyIndexed(mesh, options);
  // compacted first (vertex order = first use, as compactMesh): the checks and repairs below then
  // work on the vertices the decimated mesh uses (~ratio of the input's), not on all of them;
  // back[v] is the input vertex of compact vertex v
  const { mesh: small, back } = compactWithMap(res.mesh);
  const none = {
    mesh: small,
    errorMm: res.errorMm,
    coincidentRemoved: 0,
    verticesSplit: 0,
    piecesResimplified: 0,
    piecesRestored: 0,
    trianglesRestored: 0,
  };
  if (!badVertices(small).includes(1)) return none;
  const step1 = removeCoincidentTriangles(small);
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
    piecesResimplified: 0,
    piecesRestored: 0,
    trianglesRestored: 0,
  };
  if (!bad.includes(1)) return { ...fixed, mesh: compactMesh(out) };

  // pieces of the input (the welded input when it had to be welded: the output indexes that)
  const src = res.source;
  const nv = src.positions.length / 3;
  const { triComp, count } = triangleComponents(src.indices, nv);
  const vComp = new Int32Array(nv).fill(-1);
  for (let t = 0; t < triComp.length; t++) {
    for (let m = 0; m < 3; m++) vComp[src.indices[3 * t + m]!] = triComp[t]!;
  }
  // output vertices are (compacted) input vertices, except the copies made by the split (mapped back here)
  const nvOut = out.positions.length / 3;
  const nvSmall = small.positions.length / 3;
  const toInput = (v: number): number => back[v < nvSmall ? v : splitFrom[v - nvSmall]!]!;
  const outComp = new Int32Array(nvOut);
  for (let v = 0; v < nvOut; v++) outComp[v] = vComp[toInput(v)]!;
  const broken = new Uint8Array(count);
  for (let v = 0; v < nvOut; v++) if (bad[v]) broken[outComp[v]!] = 1;

  // decimated triangles of intact pieces
  const keepOut: number[] = [];
  const O = out.indices;
  for (let t = 0; t < O.length; t += 3) if (!broken[outComp[O[t]!]!]) keepOut.push(t);
  const restore: number[] = [];
  for (let t = 0; t < triComp.length; t++) if (broken[triComp[t]!]) restore.push(3 * t);
  let pieces = 0;
  for (let c = 0; c < count; c++) pieces += broken[c]!;

  // broken pieces: simplified again on their own with the defects and 2 rings around them locked;
  // if that is still not closed, their original triangles
  const lock = new Uint8Array(nv);
  for (let v = 0; v < nvOut; v++) if (bad[v]) lock[toInput(v)] = 1;
  for (let ring = 0; ring < 2; ring++) {
    const next = lock.slice();
    for (const t of restore) {
      const a = src.indices[t]!;
      const b = src.indices[t + 1]!;
      const c = src.indices[t + 2]!;
      if (lock[a] || lock[b] || lock[c]) next[a] = next[b] = next[c] = 1;
    }
    lock.set(next);
  }
  const pieceIdx = new Uint32Array(restore.length * 3);
  restore.forEach((t, n) => {
    pieceIdx.set(src.indices.subarray(t, t + 3), 3 * n);
  });
  const flags: ('LockBorder' | 'ErrorAbsolute')[] = ['ErrorAbsolute'];
  if (options.lockBorder ?? DECIMATE_DEFAULTS.lockBorder) flags.push('LockBorder');
  const ratio = options.targetRatio ?? (options.maxErrorMm === undefined ? DECIMATE_DEFAULTS.targetRatio : 0);
  const [again, err2] = MeshoptSimplifier.simplifyWithAttributes(
    pieceIdx,
    src.positions,
    3,
    new Float32Array(0),
    0,
    [],
    lock,
    Math.floor(restore.length * ratio) * 3,
    options.maxErrorMm ?? 1e30,
    flags,
  );
  let second: Mesh = removeCoincidentTriangles({ ...src, indices: again }).mesh;
  if (badVertices(second).includes(1)) second = splitNonManifold(second).mesh;
  let secondTris: number[];
  let restoredTriangles = 0;
  let restoredPieces = 0;
  if (!badVertices(second).includes(1)) {
    secondTris = Array.from({ length: second.indices.length / 3 }, (_, n) => 3 * n);
  } else {
    second = src;
    secondTris = restore;
    restoredTriangles = restore.length;
    restoredPieces = pieces;
  }

  const remapOut = new Int32Array(nvOut).fill(-1);
  const nvSecond = second.positions.length / 3;
  const remapIn = new Int32Array(nvSecond).fill(-1);
  const indices = new Uint32Array(3 * (keepOut.length + secondTris.length));
  let used = 0;
  let o = 0;
  for (const t of keepOut) {
    for (let m = 0; m < 3; m++) {
      const v = O[t + m]!;
      if (remapOut[v]! < 0) remapOut[v] = used++;
      indices[o++] = remapOut[v]!;
    }
  }
  for (const t of secondTris) {
    for (let m = 0; m < 3; m++) {
      const v = second.indices[t + m]!;
      if (remapIn[v]! < 0) remapIn[v] = used++;
      indices[o++] = remapIn[v]!;
    }
  }
  const positions = new Float32Array(3 * used);
  const hasColors = out.colors !== undefined && second.colors !== undefined;
  const colors = hasColors ? new Uint8Array(3 * used) : undefined;
  for (let v = 0; v < nvOut; v++) {
    const r = remapOut[v]!;
    if (r < 0) continue;
    positions.set(out.positions.subarray(3 * v, 3 * v + 3), 3 * r);
    if (colors) colors.set(out.colors!.subarray(3 * v, 3 * v + 3), 3 * r);
  }
  for (let v = 0; v < nvSecond; v++) {
    const r = remapIn[v]!;
    if (r < 0) continue;
    positions.set(second.positions.subarray(3 * v, 3 * v + 3), 3 * r);
    if (colors) colors.set(second.colors!.subarray(3 * v, 3 * v + 3), 3 * r);
  }
  const ntri = indices.length / 3;
  const groups = src.groups?.length === 1 ? [{ ...src.groups[0]!, start: 0, count: ntri }] : undefined;
  return {
    ...fixed,
    mesh: { positions, indices, ...(colors ? { colors } : {}), ...(groups ? { groups } : {}) },
    errorMm: Math.max(res.errorMm, restoredPieces > 0 ? 0 : err2),
    piecesResimplified: pieces,
    piecesRestored: restoredPieces,
    trianglesRestored: restoredTriangles,
  };
}

/** Triangles [start, start + count) with the whole vertex array (compact it afterwards). */
function groupTriangles(mesh: Mesh, start: number, count: number): Mesh {
  return { positions: mesh.positions, indices: mesh.indices.subarray(3 * start, 3 * (start + count)) };
}

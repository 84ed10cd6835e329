/**
 * Decimation by quadric error (meshoptimizer's simplifier, WASM): to a target triangle ratio, a
 * maximum geometric error in mm, or both (whichever stops first).
 *
 * - Errors are absolute (mm): meshoptimizer's 'ErrorAbsolute' mode, so `maxErrorMm` is a
 *   distance, not a fraction of the model size; the achieved error is returned too.
 * - Open borders are locked by default (a surface cut by the volume edge keeps its rim).
 * - Multi-structure meshes (groups): each group is simplified on its own and every vertex shared
 *   by two or more groups is locked, so interfaces between neighbouring structures stay
 *   identical in both (no gaps); interface regions are therefore not simplified.
 * - Vertices at identical positions are welded first (unless the mesh has per-vertex colours):
 *   the simplifier treats them as attribute seams and would open holes there.
 * - Unused vertices are removed afterwards; vertex order follows first use.
 */
import { check, type Mesh, type MeshGroup, type RunOptions, S2SError, throwIfAborted } from '@slice2solid/core';
import { MeshoptSimplifier } from 'meshoptimizer/simplifier';
import { checkMesh } from './topology.js';
import { weld } from './weld.js';

export interface DecimateOptions extends RunOptions {
  /** Fraction of triangles to keep, (0, 1]. Default 0.5 when maxErrorMm is not given. */
  targetRatio?: number;
  /** Largest allowed deviation in mm (quadric error metric). */
  maxErrorMm?: number;
  /** Keep open-border vertices in place (default true). */
  lockBorder?: boolean;
}

export const DECIMATE_DEFAULTS = {
  targetRatio: 0.5,
  lockBorder: true,
} as const;

export interface DecimateResult {
  readonly mesh: Mesh;
  /** The simplifier's own estimate of the largest deviation, mm. */
  readonly errorMm: number;
}

export async function decimate(input: Mesh, options: DecimateOptions = {}): Promise<DecimateResult> {
  checkMesh(input);
  // vertices at identical positions (marching cubes makes some where a voxel equals the iso-value)
  // look like attribute seams to the simplifier, which then opens holes there: merge them first
  const mesh = input.colors ? input : weld(input);
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
  throwIfAborted(options.signal);
  const lockBorder = options.lockBorder ?? DECIMATE_DEFAULTS.lockBorder;
  // huge error bound when only a ratio is asked for
  const maxError = options.maxErrorMm ?? 1e30;
  const P = mesh.positions;
  const nv = P.length / 3;
  const flags: ('LockBorder' | 'ErrorAbsolute')[] = ['ErrorAbsolute'];
  if (lockBorder) flags.push('LockBorder');
  const groups = mesh.groups && mesh.groups.length > 1 ? mesh.groups : null;
  const target = (n: number) => Math.floor((n / 3) * ratio) * 3;
  let errorMm = 0;
  const parts: Uint32Array[] = [];
  if (!groups) {
    const [out, err] = MeshoptSimplifier.simplify(mesh.indices, P, 3, target(mesh.indices.length), maxError, flags);
    parts.push(out);
    errorMm = err;
  } else {
    // lock vertices used by more than one group
    const owner = new Int32Array(nv).fill(-1);
    const lock = new Uint8Array(nv);
    groups.forEach((g, gi) => {
      for (let n = 3 * g.start; n < 3 * (g.start + g.count); n++) {
        const v = mesh.indices[n]!;
        if (owner[v] === -1) owner[v] = gi;
        else if (owner[v] !== gi) lock[v] = 1;
      }
    });
    const none = new Float32Array(0);
    for (const g of groups) {
      throwIfAborted(options.signal);
      const idx = mesh.indices.subarray(3 * g.start, 3 * (g.start + g.count));
      const [out, err] = MeshoptSimplifier.simplifyWithAttributes(
        idx,
        P,
        3,
        none,
        0,
        [],
        lock,
        target(idx.length),
        maxError,
        flags,
      );
      parts.push(out);
      errorMm = Math.max(errorMm, err);
    }
  }
  // compact
  const remap = new Int32Array(nv).fill(-1);
  let total = 0;
  for (const p of parts) total += p.length;
  const indices = new Uint32Array(total);
  let used = 0;
  let o = 0;
  const newGroups: MeshGroup[] = [];
  parts.forEach((p, gi) => {
    const start = o / 3;
    for (let n = 0; n < p.length; n++) {
      const v = p[n]!;
      if (remap[v]! < 0) remap[v] = used++;
      indices[o++] = remap[v]!;
    }
    if (groups) newGroups.push({ ...groups[gi]!, start, count: p.length / 3 });
  });
  const positions = new Float32Array(3 * used);
  const colors = mesh.colors ? new Uint8Array(3 * used) : undefined;
  for (let v = 0; v < nv; v++) {
    const r = remap[v]!;
    if (r < 0) continue;
    positions.set(P.subarray(3 * v, 3 * v + 3), 3 * r);
    if (colors && mesh.colors) colors.set(mesh.colors.subarray(3 * v, 3 * v + 3), 3 * r);
  }
  const out: Mesh = { positions, indices };
  return {
    mesh: {
      ...out,
      ...(colors ? { colors } : {}),
      ...(groups
        ? { groups: newGroups }
        : mesh.groups
          ? { groups: mesh.groups.map((g) => ({ ...g, start: 0, count: indices.length / 3 })) }
          : {}),
    },
    errorMm,
  };
}

/**
 * Welding: merges vertices closer than a tolerance (default: exactly equal positions), so a
 * triangle soup (e.g. read from STL) becomes an indexed mesh whose topology can be checked.
 * Triangles that collapse (two corners merged) are removed.
 */
import { check, type Mesh } from '@slice2solid/core';
import { checkMesh } from './topology.js';

export interface WeldOptions {
  /** Vertices closer than this (mm) are merged (default 0: identical positions only). */
  toleranceMm?: number;
}

export const WELD_DEFAULTS = { toleranceMm: 0 } as const;

export function weld(mesh: Mesh, options: WeldOptions = {}): Mesh {
  checkMesh(mesh);
  const tol = options.toleranceMm ?? WELD_DEFAULTS.toleranceMm;
  check(tol >= 0, `toleranceMm must be >= 0, got ${tol}`);
  const P = mesh.positions;
  const nv = P.length / 3;
  const map = new Map<string, number[]>();
  const remap = new Uint32Array(nv);
  const keep: number[] = [];
  const cell = tol > 0 ? tol : 1;
  for (let v = 0; v < nv; v++) {
    const x = P[3 * v]!;
    const y = P[3 * v + 1]!;
    const z = P[3 * v + 2]!;
    let found = -1;
    if (tol === 0) {
      const key = `${x},${y},${z}`;
      const hit = map.get(key);
      if (hit) found = hit[0]!;
      else map.set(key, [keep.length]);
    } else {
      const cx = Math.floor(x / cell);
      const cy = Math.floor(y / cell);
      const cz = Math.floor(z / cell);
      for (let dz = -1; dz <= 1 && found < 0; dz++)
        for (let dy = -1; dy <= 1 && found < 0; dy++)
          for (let dx = -1; dx <= 1 && found < 0; dx++) {
            const list = map.get(`${cx + dx},${cy + dy},${cz + dz}`);
            if (!list) continue;
            for (const w of list) {
              const u = keep[w]!;
              if (Math.hypot(P[3 * u]! - x, P[3 * u + 1]! - y, P[3 * u + 2]! - z) <= tol) {
                found = w;
                break;
              }
            }
          }
      if (found < 0) {
        const key = `${cx},${cy},${cz}`;
        const list = map.get(key);
        if (list) list.push(keep.length);
        else map.set(key, [keep.length]);
      }
    }
    if (found >= 0) remap[v] = found;
    else {
      remap[v] = keep.length;
      keep.push(v);
    }
  }
  const positions = new Float32Array(3 * keep.length);
  keep.forEach((v, n) => {
    positions.set(P.subarray(3 * v, 3 * v + 3), 3 * n);
  });
  const idx: number[] = [];
  const groups = mesh.groups?.map((g) => ({ ...g }));
  const I = mesh.indices;
  const triGroup = (t: number) => (groups ? groups.findIndex((g) => t >= g.start && t < g.start + g.count) : -1);
  const counts = groups ? groups.map(() => 0) : [];
  for (let t = 0; t < I.length / 3; t++) {
    const a = remap[I[3 * t]!]!;
    const b = remap[I[3 * t + 1]!]!;
    const c = remap[I[3 * t + 2]!]!;
    if (a === b || b === c || a === c) continue;
    idx.push(a, b, c);
    if (groups) counts[triGroup(t)]!++;
  }
  let start = 0;
  const outGroups = groups?.map((g, n) => {
    const r = { ...g, start, count: counts[n]! };
    start += counts[n]!;
    return r;
  });
  const { normals: _n, colors: _c, groups: _g, ...rest } = mesh;
  return { ...rest, positions, indices: Uint32Array.from(idx), ...(outGroups ? { groups: outGroups } : {}) };
}

/**
 * Mesh metrics: volume (divergence theorem), area, bounding box, components, Euler
 * characteristic, and the edge counts that decide whether a mesh is a closed, consistently
 * oriented 2-manifold.
 */
import type { Mesh, Vec3 } from '@slice2solid/core';
import { buildEdgeTable, checkMesh, triangleComponents } from './topology.js';

export interface MeshMetrics {
  /** Vertices referenced by at least one triangle. */
  readonly vertices: number;
  readonly triangles: number;
  /** Distinct undirected edges. */
  readonly edges: number;
  /** Signed enclosed volume in mm³ (positive when the normals point outwards). */
  readonly volumeMm3: number;
  /** The same in millilitres (cm³). */
  readonly volumeMl: number;
  readonly areaMm2: number;
  readonly bbox: { readonly min: Vec3; readonly max: Vec3 };
  /** Connected components (triangles sharing a vertex). */
  readonly components: number;
  /** V - E + F over referenced vertices (2 for a sphere, 0 for a torus, 2 per closed genus-0 part). */
  readonly eulerCharacteristic: number;
  /** Edges used by exactly one triangle. */
  readonly boundaryEdges: number;
  /** Edges used by three or more triangles. */
  readonly nonManifoldEdges: number;
  /** Edges used by two triangles that traverse it in the same direction (inconsistent winding). */
  readonly inconsistentEdges: number;
  /** Triangles with a repeated vertex or zero area. */
  readonly degenerateTriangles: number;
  /** Closed, edge-manifold and consistently oriented. */
  readonly closedManifold: boolean;
  /** Signed volume > 0 (only meaningful for a closed mesh). */
  readonly outward: boolean;
}

/** Signed volume (mm³) by the divergence theorem; positive for an outward-wound closed mesh. */
export function signedVolume(mesh: Mesh): number {
  const P = mesh.positions;
  const I = mesh.indices;
  // centre the coordinates on the first vertex for precision
  const cx = P[0] ?? 0;
  const cy = P[1] ?? 0;
  const cz = P[2] ?? 0;
  let s = 0;
  for (let t = 0; t < I.length; t += 3) {
    const a = 3 * I[t]!;
    const b = 3 * I[t + 1]!;
    const c = 3 * I[t + 2]!;
    const ax = P[a]! - cx;
    const ay = P[a + 1]! - cy;
    const az = P[a + 2]! - cz;
    const bx = P[b]! - cx;
    const by = P[b + 1]! - cy;
    const bz = P[b + 2]! - cz;
    const qx = P[c]! - cx;
    const qy = P[c + 1]! - cy;
    const qz = P[c + 2]! - cz;
    s += ax * (by * qz - bz * qy) - ay * (bx * qz - bz * qx) + az * (bx * qy - by * qx);
  }
  return s / 6;
}

export function surfaceArea(mesh: Mesh): number {
  const P = mesh.positions;
  const I = mesh.indices;
  let s = 0;
  for (let t = 0; t < I.length; t += 3) s += triangleArea(P, I[t]!, I[t + 1]!, I[t + 2]!);
  return s;
}

export function triangleArea(P: ArrayLike<number>, a: number, b: number, c: number): number {
  const ux = P[3 * b]! - P[3 * a]!;
  const uy = P[3 * b + 1]! - P[3 * a + 1]!;
  const uz = P[3 * b + 2]! - P[3 * a + 2]!;
  const vx = P[3 * c]! - P[3 * a]!;
  const vy = P[3 * c + 1]! - P[3 * a + 1]!;
  const vz = P[3 * c + 2]! - P[3 * a + 2]!;
  const x = uy * vz - uz * vy;
  const y = uz * vx - ux * vz;
  const z = ux * vy - uy * vx;
  return 0.5 * Math.sqrt(x * x + y * y + z * z);
}

/** Bounding box of the vertices used by triangles (or of all vertices when there are no triangles). */
export function meshBounds(mesh: Mesh): { min: Vec3; max: Vec3 } {
  const P = mesh.positions;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  const visit = (v: number) => {
    for (let r = 0; r < 3; r++) {
      const x = P[3 * v + r]!;
      if (x < lo[r]!) lo[r] = x;
      if (x > hi[r]!) hi[r] = x;
    }
  };
  if (mesh.indices.length > 0) for (let n = 0; n < mesh.indices.length; n++) visit(mesh.indices[n]!);
  else for (let v = 0; v < P.length / 3; v++) visit(v);
  return { min: lo as unknown as Vec3, max: hi as unknown as Vec3 };
}

export function meshMetrics(mesh: Mesh): MeshMetrics {
  checkMesh(mesh);
  const nv = mesh.positions.length / 3;
  const I = mesh.indices;
  const nt = I.length / 3;
  const used = new Uint8Array(nv);
  let vertices = 0;
  for (let n = 0; n < I.length; n++) {
    if (!used[I[n]!]) {
      used[I[n]!] = 1;
      vertices++;
    }
  }
  let degenerate = 0;
  for (let t = 0; t < nt; t++) {
    const a = I[3 * t]!;
    const b = I[3 * t + 1]!;
    const c = I[3 * t + 2]!;
    if (a === b || b === c || a === c || triangleArea(mesh.positions, a, b, c) === 0) degenerate++;
  }
  const E = buildEdgeTable(I, nv);
  let boundary = 0;
  let nonManifold = 0;
  let inconsistent = 0;
  for (let e = 0; e < E.count; e++) {
    const n = E.first[e + 1]! - E.first[e]!;
    if (n === 1) boundary++;
    else if (n > 2) nonManifold++;
    else if (E.heFwd[E.first[e]!] === E.heFwd[E.first[e]! + 1]) inconsistent++;
  }
  const volumeMm3 = signedVolume(mesh);
  const { count: components } = triangleComponents(I, nv);
  return {
    vertices,
    triangles: nt,
    edges: E.count,
    volumeMm3,
    volumeMl: volumeMm3 / 1000,
    areaMm2: surfaceArea(mesh),
    bbox: meshBounds(mesh),
    components,
    eulerCharacteristic: vertices - E.count + nt,
    boundaryEdges: boundary,
    nonManifoldEdges: nonManifold,
    inconsistentEdges: inconsistent,
    degenerateTriangles: degenerate,
    closedManifold: nt > 0 && boundary === 0 && nonManifold === 0 && inconsistent === 0,
    outward: volumeMm3 > 0,
  };
}

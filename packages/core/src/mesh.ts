import type { Vec3 } from './grid.js';

/** A named part of a mesh: triangles [start, start + count) of `indices / 3`. */
export interface MeshGroup {
  readonly name: string;
  readonly color: Vec3;
  /** First triangle of the group. */
  readonly start: number;
  /** Number of triangles. */
  readonly count: number;
  /** Segment value this group was made from, if any. */
  readonly label?: number;
}

/**
 * A triangle mesh in LPS millimetres. Triangles wind counter-clockwise seen from outside
 * (normals point outwards, positive signed volume).
 */
export interface Mesh {
  /** x, y, z per vertex (LPS mm). */
  readonly positions: Float32Array;
  /** Three vertex indices per triangle. */
  readonly indices: Uint32Array;
  /** Optional per-vertex normals (unit, LPS). */
  readonly normals?: Float32Array;
  /** Optional per-vertex colours, r, g, b (0..255). */
  readonly colors?: Uint8Array;
  /** Optional structure groups; absent means one group. */
  readonly groups?: readonly MeshGroup[];
}

export function vertexCount(mesh: Mesh): number {
  return mesh.positions.length / 3;
}

export function triangleCount(mesh: Mesh): number {
  return mesh.indices.length / 3;
}

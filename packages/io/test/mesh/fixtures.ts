// Small test meshes for the mesh writers, and readers of what three.js loaders give back.
import { lpsFromIjk, type Mesh, makeGrid, makeVolume, type Vec3 } from '@slice2solid/core';
import { marchingCubes } from '@slice2solid/ops';

/** Tetrahedron with legs a, b, c along +L, +P, +S from `o`, wound outward; volume abc/6. */
export function tetra(o: Vec3, a: number, b: number, c: number): { positions: number[]; indices: number[] } {
  const [x, y, z] = o;
  return {
    positions: [x, y, z, x + a, y, z, x, y + b, z, x, y, z + c],
    indices: [0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3],
  };
}

/** Axis-aligned box from `lo` to `hi`, 12 triangles wound outward. */
export function box(lo: Vec3, hi: Vec3): { positions: number[]; indices: number[] } {
  const positions: number[] = [];
  for (let k = 0; k < 8; k++) {
    positions.push(k & 1 ? hi[0] : lo[0], k & 2 ? hi[1] : lo[1], k & 4 ? hi[2] : lo[2]);
  }
  // quads (counter-clockwise seen from outside), split into two triangles each
  const quads = [
    [0, 2, 3, 1], // -z
    [4, 5, 7, 6], // +z
    [0, 1, 5, 4], // -y
    [2, 6, 7, 3], // +y
    [0, 4, 6, 2], // -x
    [1, 3, 7, 5], // +x
  ];
  const indices = quads.flatMap(([a, b, c, d]) => [a!, b!, c!, a!, c!, d!]);
  return { positions, indices };
}

/** The golden tetrahedron: awkward decimal coordinates, no groups, no colours. */
export function tetraMesh(): Mesh {
  const t = tetra([-12.5, 40.25, -100.125], 10.5, 20.25, 30.75);
  return { positions: Float32Array.from(t.positions), indices: Uint32Array.from(t.indices) };
}

export const TWO_GROUP_NAMES = ['bone', 'soft tissue'] as const;
export const TWO_GROUP_COLORS: readonly Vec3[] = [
  [241, 214, 145],
  [177, 122, 101],
];

/** Two structures: a tetrahedron ("bone") and a box ("soft tissue"), with group colours. */
export function twoGroupMesh(withVertexColors = false): Mesh {
  const t = tetra([1.5, -2.25, 3.125], 4, 5, 6);
  const b = box([20, -10, -5.5], [32.5, 0.1, 7.3]);
  const positions = Float32Array.from([...t.positions, ...b.positions]);
  const nt = t.positions.length / 3;
  const indices = Uint32Array.from([...t.indices, ...b.indices.map((i) => i + nt)]);
  const mesh: Mesh = {
    positions,
    indices,
    groups: [
      { name: TWO_GROUP_NAMES[0], color: TWO_GROUP_COLORS[0]!, start: 0, count: 4, label: 1 },
      { name: TWO_GROUP_NAMES[1], color: TWO_GROUP_COLORS[1]!, start: 4, count: 12, label: 2 },
    ],
  };
  if (!withVertexColors) return mesh;
  const colors = new Uint8Array(positions.length);
  for (let v = 0; v < colors.length / 3; v++)
    colors.set([(37 * v) % 256, (91 * v + 13) % 256, (151 * v + 7) % 256], 3 * v);
  return { ...mesh, colors };
}

/** Exact volumes of the fixtures (mm^3). */
export const TETRA_VOLUME = (10.5 * 20.25 * 30.75) / 6;
export const TWO_GROUP_VOLUMES = [(4 * 5 * 6) / 6, 12.5 * 10.1 * 12.8];

/**
 * A marching-cubes sphere (radius 9 mm) on an oblique, anisotropic grid away from the origin,
 * from the signed distance field, closed; with per-vertex normals from the gradient.
 */
export function sphereMesh(): Mesh {
  const c = Math.SQRT1_2;
  const grid = makeGrid({
    size: [28, 24, 22],
    spacing: [0.9, 1.1, 1.3],
    origin: [-60.5, 25.25, 110],
    direction: [
      [c, c, 0],
      [-c, c, 0],
      [0, 0, 1],
    ],
  });
  const centre = lpsFromIjk(grid, [13.5, 11.5, 10.5]);
  const [nx, ny, nz] = grid.size;
  const data = new Float32Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const p = lpsFromIjk(grid, [i, j, k]);
        data[i + nx * (j + ny * k)] = 9 - Math.hypot(p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]);
      }
    }
  }
  const mesh = marchingCubes(makeVolume({ grid, data }), { isoValue: 0, closeBoundary: true });
  // unit normals pointing away from the centre, to exercise normal output
  const P = mesh.positions;
  const normals = new Float32Array(P.length);
  for (let v = 0; v < P.length / 3; v++) {
    const d = [P[3 * v]! - centre[0], P[3 * v + 1]! - centre[1], P[3 * v + 2]! - centre[2]];
    const len = Math.hypot(d[0]!, d[1]!, d[2]!);
    normals.set([d[0]! / len, d[1]! / len, d[2]! / len], 3 * v);
  }
  return {
    positions: P,
    indices: mesh.indices,
    normals,
    groups: [{ name: 'sphere', color: [216, 101, 79], start: 0, count: mesh.indices.length / 3, label: 1 }],
  };
}

/** Signed volume of a triangle soup (positions, 3 vertices per triangle, or indexed). */
export function soupVolume(positions: ArrayLike<number>, indices?: ArrayLike<number>): number {
  const n = indices ? indices.length : positions.length / 3;
  const at = (k: number) => (indices ? indices[k]! : k);
  let s = 0;
  for (let t = 0; t < n; t += 3) {
    const a = 3 * at(t);
    const b = 3 * at(t + 1);
    const c = 3 * at(t + 2);
    const [ax, ay, az] = [positions[a]!, positions[a + 1]!, positions[a + 2]!];
    const [bx, by, bz] = [positions[b]!, positions[b + 1]!, positions[b + 2]!];
    const [cx, cy, cz] = [positions[c]!, positions[c + 1]!, positions[c + 2]!];
    s += ax * (by * cz - bz * cy) - ay * (bx * cz - bz * cx) + az * (bx * cy - by * cx);
  }
  return s / 6;
}

/** The triangles of a mesh as a soup of float32 vertex triples (what de-indexing loaders give). */
export function meshSoup(mesh: Mesh, start = 0, count = mesh.indices.length / 3): Float32Array {
  const out = new Float32Array(9 * count);
  for (let t = 0; t < count; t++) {
    for (let k = 0; k < 3; k++) {
      const v = mesh.indices[3 * (start + t) + k]!;
      out.set(mesh.positions.subarray(3 * v, 3 * v + 3), 9 * t + 3 * k);
    }
  }
  return out;
}

/** A soup of triangles with an index buffer expanded. */
export function expand(positions: ArrayLike<number>, indices: ArrayLike<number> | null | undefined): Float32Array {
  if (!indices) return Float32Array.from(positions);
  const out = new Float32Array(3 * indices.length);
  for (let k = 0; k < indices.length; k++) {
    const v = indices[k]!;
    out[3 * k] = positions[3 * v]!;
    out[3 * k + 1] = positions[3 * v + 1]!;
    out[3 * k + 2] = positions[3 * v + 2]!;
  }
  return out;
}

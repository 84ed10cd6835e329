/**
 * PLY writer (binary little endian 1.0). Coordinates as given (LPS millimetres, no axis change).
 *
 * Header: one fixed comment, `element vertex` with float x, y, z (+ float nx, ny, nz when the mesh
 * has normals) (+ uchar red, green, blue when there are colours), `element face` with
 * `list uchar uint vertex_indices`.
 *
 * Colours: the mesh's vertex colours when present; otherwise, when the mesh has groups, each
 * vertex gets the colour of the group (structure) whose triangles use it. A vertex used by groups
 * of different colours is written once per colour (same position), so every triangle shows its
 * group's colour. A mesh with neither has no colour properties.
 */
import { type Mesh, progressReporter, type RunOptions } from '@slice2solid/core';
import { DEFAULT_PART_COLOR, meshParts, PROGRESS_STEP, validateMesh } from './common.js';

export interface PlyOptions extends RunOptions {
  /** Write the mesh's vertex normals when it has them. */
  normals?: boolean;
  /** Write vertex colours (the mesh's own, else group colours). */
  colors?: boolean;
}

export const PLY_DEFAULTS = {
  normals: true,
  colors: true,
} as const;

export function writePly(mesh: Mesh, options: PlyOptions = {}): Uint8Array {
  validateMesh(mesh, 'PLY');
  const P = mesh.positions;
  const I = mesh.indices;
  const N = (options.normals ?? PLY_DEFAULTS.normals) ? mesh.normals : undefined;
  const wantColors = options.colors ?? PLY_DEFAULTS.colors;
  const nt = I.length / 3;

  // vertex table: `src[k]` = mesh vertex written as output vertex k; `faces` = output indices
  let src: Uint32Array | undefined;
  let faces = I;
  let colors: Uint8Array | undefined;
  if (wantColors && mesh.colors) {
    colors = mesh.colors;
  } else if (wantColors && mesh.groups && mesh.groups.length > 0) {
    ({ src, faces, colors } = splitByGroupColor(mesh));
  }
  const nOut = src ? src.length : P.length / 3;

  const header = [
    'ply',
    'format binary_little_endian 1.0',
    'comment slice2solid, LPS millimetres',
    `element vertex ${nOut}`,
    'property float x',
    'property float y',
    'property float z',
    ...(N ? ['property float nx', 'property float ny', 'property float nz'] : []),
    ...(colors ? ['property uchar red', 'property uchar green', 'property uchar blue'] : []),
    `element face ${nt}`,
    'property list uchar uint vertex_indices',
    'end_header',
    '',
  ].join('\n');
  const headBytes = new TextEncoder().encode(header);
  const vSize = 12 + (N ? 12 : 0) + (colors ? 3 : 0);
  const out = new Uint8Array(headBytes.length + nOut * vSize + nt * 13);
  out.set(headBytes, 0);
  const view = new DataView(out.buffer);
  const progress = progressReporter('write PLY', nOut + nt, options, PROGRESS_STEP);
  let o = headBytes.length;
  for (let k = 0; k < nOut; k++) {
    if (k % PROGRESS_STEP === 0) progress(k);
    const v = src ? src[k]! : k;
    view.setFloat32(o, P[3 * v]!, true);
    view.setFloat32(o + 4, P[3 * v + 1]!, true);
    view.setFloat32(o + 8, P[3 * v + 2]!, true);
    o += 12;
    if (N) {
      view.setFloat32(o, N[3 * v]!, true);
      view.setFloat32(o + 4, N[3 * v + 1]!, true);
      view.setFloat32(o + 8, N[3 * v + 2]!, true);
      o += 12;
    }
    if (colors) {
      // own colours are indexed by mesh vertex, split group colours by output vertex
      const cv = src ? k : v;
      out[o] = colors[3 * cv]!;
      out[o + 1] = colors[3 * cv + 1]!;
      out[o + 2] = colors[3 * cv + 2]!;
      o += 3;
    }
  }
  for (let t = 0; t < nt; t++) {
    if (t % PROGRESS_STEP === 0) progress(nOut + t);
    out[o] = 3;
    view.setUint32(o + 1, faces[3 * t]!, true);
    view.setUint32(o + 5, faces[3 * t + 1]!, true);
    view.setUint32(o + 9, faces[3 * t + 2]!, true);
    o += 13;
  }
  progress(nOut + nt);
  return out;
}

/**
 * Per-vertex group colours: each vertex takes the colour of the first triangle (in triangle
 * order) that uses it; a vertex also used by a triangle of another colour is duplicated.
 * Unused vertices get the default part colour.
 */
function splitByGroupColor(mesh: Mesh): { src: Uint32Array; faces: Uint32Array; colors: Uint8Array } {
  const I = mesh.indices;
  const nv = mesh.positions.length / 3;
  const nt = I.length / 3;
  const triColor = new Int32Array(nt);
  for (const part of meshParts(mesh)) {
    const [r, g, b] = part.color;
    for (const [start, count] of part.ranges) triColor.fill((r << 16) | (g << 8) | b, start, start + count);
  }
  const vColor = new Int32Array(nv).fill(-1);
  const extra = new Map<number, number>(); // (vertex, colour) -> output index
  const extraSrc: number[] = [];
  const extraColor: number[] = [];
  const faces = new Uint32Array(I.length);
  for (let t = 0; t < nt; t++) {
    const c = triColor[t]!;
    for (let k = 0; k < 3; k++) {
      const v = I[3 * t + k]!;
      if (vColor[v] === -1) vColor[v] = c;
      if (vColor[v] === c) {
        faces[3 * t + k] = v;
        continue;
      }
      const key = v * 16777216 + c;
      let idx = extra.get(key);
      if (idx === undefined) {
        idx = nv + extraSrc.length;
        extra.set(key, idx);
        extraSrc.push(v);
        extraColor.push(c);
      }
      faces[3 * t + k] = idx;
    }
  }
  const n = nv + extraSrc.length;
  const src = new Uint32Array(n);
  const colors = new Uint8Array(3 * n);
  const [dr, dg, db] = DEFAULT_PART_COLOR;
  const fallback = (dr << 16) | (dg << 8) | db;
  for (let k = 0; k < n; k++) {
    const c = k < nv ? vColor[k]! : extraColor[k - nv]!;
    const rgb = c === -1 ? fallback : c;
    src[k] = k < nv ? k : extraSrc[k - nv]!;
    colors[3 * k] = (rgb >> 16) & 255;
    colors[3 * k + 1] = (rgb >> 8) & 255;
    colors[3 * k + 2] = rgb & 255;
  }
  return { src, faces, colors };
}

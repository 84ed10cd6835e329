/**
 * Vertex colours sampled from the scan: every vertex of a mesh (LPS mm) is taken to continuous
 * voxel index through the core's `ijkFromLpsMatrix`, the scan is interpolated there (trilinear),
 * and the value is mapped through a window/level to grey (0..255).
 *
 * A surface vertex sits where the image crosses the threshold, so sampling exactly at the vertex
 * gives nearly the same value everywhere. By default the sample is taken `depthMm` INSIDE the
 * surface (along the inward vertex normal), which shows the tissue under the surface (dense
 * cortical bone bright, thin bone dark). With no window given, the window spans the 1st..99th
 * percentile of the sampled values.
 */
import {
  check,
  ijkFromLpsMatrix,
  type Mesh,
  progressReporter,
  type RunOptions,
  S2SError,
  type Volume,
} from '@slice2solid/core';

export interface VertexColorOptions extends RunOptions {
  /** Window centre and width in the scan's units; default: the 1st..99th percentile of the samples. */
  readonly window?: { readonly center: number; readonly width: number } | undefined;
  /** Sample this far inside the surface, along the inward vertex normal, in mm (0 = on the surface). */
  readonly depthMm?: number;
  /** Frame of a 4D scan. */
  readonly frame?: number;
}

export const VERTEX_COLORS_DEFAULTS = {
  window: undefined,
  depthMm: 1,
  frame: 0,
} as const;

/** Area-weighted vertex normals (unit, outward for an outward-wound mesh); 0 for unused vertices. */
export function vertexNormals(mesh: Mesh): Float32Array {
  const P = mesh.positions;
  const I = mesh.indices;
  const acc = new Float64Array(P.length);
  for (let t = 0; t < I.length; t += 3) {
    const a = 3 * I[t]!;
    const b = 3 * I[t + 1]!;
    const c = 3 * I[t + 2]!;
    const ux = P[b]! - P[a]!;
    const uy = P[b + 1]! - P[a + 1]!;
    const uz = P[b + 2]! - P[a + 2]!;
    const vx = P[c]! - P[a]!;
    const vy = P[c + 1]! - P[a + 1]!;
    const vz = P[c + 2]! - P[a + 2]!;
    // cross product = 2 * area * unit normal: area weighting for free
    const nx = uy * vz - uz * vy;
    const ny = uz * vx - ux * vz;
    const nz = ux * vy - uy * vx;
    for (const v of [a, b, c]) {
      acc[v]! += nx;
      acc[v + 1]! += ny;
      acc[v + 2]! += nz;
    }
  }
  const out = new Float32Array(P.length);
  for (let v = 0; v < P.length; v += 3) {
    const n = Math.hypot(acc[v]!, acc[v + 1]!, acc[v + 2]!);
    if (n > 0) {
      out[v] = acc[v]! / n;
      out[v + 1] = acc[v + 1]! / n;
      out[v + 2] = acc[v + 2]! / n;
    }
  }
  return out;
}

/** The scan value at every vertex (trilinear; positions outside the grid take the nearest edge value). */
export function sampleAtVertices(mesh: Mesh, volume: Volume, options: VertexColorOptions = {}): Float64Array {
  const depth = options.depthMm ?? VERTEX_COLORS_DEFAULTS.depthMm;
  const frame = options.frame ?? VERTEX_COLORS_DEFAULTS.frame;
  check(Number.isFinite(depth) && depth >= 0, `depthMm must be >= 0, got ${depth}`);
  if (volume.components !== 1) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `intensity colours need a grey-scale scan, got ${volume.components} components`,
      {
        hint: 'use segment colours for colour images',
      },
    );
  }
  check(
    Number.isInteger(frame) && frame >= 0 && frame < volume.frames,
    `frame ${frame} does not exist; the scan has ${volume.frames}`,
  );
  const [nx, ny, nz] = volume.grid.size;
  const nvox = nx * ny * nz;
  const data = volume.data.subarray(frame * nvox, (frame + 1) * nvox);
  const T = ijkFromLpsMatrix(volume.grid);
  const P = mesh.positions;
  const N = depth > 0 ? vertexNormals(mesh) : undefined;
  const nv = P.length / 3;
  const out = new Float64Array(nv);
  const report = progressReporter('colouring vertices', nv, options);
  const clampIdx = (x: number, n: number) => Math.min(n - 1, Math.max(0, x));
  for (let v = 0; v < nv; v++) {
    if ((v & 0xffff) === 0) report(v);
    let x = P[3 * v]!;
    let y = P[3 * v + 1]!;
    let z = P[3 * v + 2]!;
    if (N) {
      x -= depth * N[3 * v]!;
      y -= depth * N[3 * v + 1]!;
      z -= depth * N[3 * v + 2]!;
    }
    const fi = clampIdx(T[0]! * x + T[1]! * y + T[2]! * z + T[3]!, nx);
    const fj = clampIdx(T[4]! * x + T[5]! * y + T[6]! * z + T[7]!, ny);
    const fk = clampIdx(T[8]! * x + T[9]! * y + T[10]! * z + T[11]!, nz);
    const i0 = Math.min(Math.floor(fi), Math.max(0, nx - 2));
    const j0 = Math.min(Math.floor(fj), Math.max(0, ny - 2));
    const k0 = Math.min(Math.floor(fk), Math.max(0, nz - 2));
    const i1 = Math.min(i0 + 1, nx - 1);
    const j1 = Math.min(j0 + 1, ny - 1);
    const k1 = Math.min(k0 + 1, nz - 1);
    const u = fi - i0;
    const w = fj - j0;
    const s = fk - k0;
    const at = (i: number, j: number, k: number) => data[(k * ny + j) * nx + i]!;
    const c00 = at(i0, j0, k0) * (1 - u) + at(i1, j0, k0) * u;
    const c10 = at(i0, j1, k0) * (1 - u) + at(i1, j1, k0) * u;
    const c01 = at(i0, j0, k1) * (1 - u) + at(i1, j0, k1) * u;
    const c11 = at(i0, j1, k1) * (1 - u) + at(i1, j1, k1) * u;
    out[v] = (c00 * (1 - w) + c10 * w) * (1 - s) + (c01 * (1 - w) + c11 * w) * s;
  }
  report(nv);
  return out;
}

/** The window used for `values`: the given one, or the 1st..99th percentile. */
export function autoWindow(values: Float64Array): { center: number; width: number } {
  if (values.length === 0) return { center: 0, width: 1 };
  const s = Float64Array.from(values).sort();
  const lo = s[Math.floor(0.01 * (s.length - 1))]!;
  const hi = s[Math.ceil(0.99 * (s.length - 1))]!;
  return { center: (lo + hi) / 2, width: Math.max(hi - lo, 1e-6) };
}

/** Per-vertex grey colours (r = g = b, 0..255) from the scan intensities under the surface. */
export function vertexColorsFromScan(
  mesh: Mesh,
  volume: Volume,
  options: VertexColorOptions = {},
): { colors: Uint8Array; window: { center: number; width: number } } {
  const values = sampleAtVertices(mesh, volume, options);
  const win = options.window ?? autoWindow(values);
  check(
    Number.isFinite(win.center) && Number.isFinite(win.width) && win.width > 0,
    `the colour window must have a finite centre and a width > 0, got ${win.center}/${win.width}`,
  );
  const lo = win.center - win.width / 2;
  const colors = new Uint8Array(3 * values.length);
  for (let v = 0; v < values.length; v++) {
    const g = Math.round(Math.min(1, Math.max(0, (values[v]! - lo) / win.width)) * 255);
    colors[3 * v] = g;
    colors[3 * v + 1] = g;
    colors[3 * v + 2] = g;
  }
  return { colors, window: { center: win.center, width: win.width } };
}

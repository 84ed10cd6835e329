/**
 * STL writer: binary (default) or ASCII. Coordinates are written as given (LPS millimetres, no
 * axis change); STL has no unit field, millimetres is what 3D printing software assumes.
 *
 * - Binary: a fixed 80-byte header (`slice2solid binary STL, LPS mm`, space padded; it never
 *   starts with `solid`, so readers do not mistake it for ASCII), uint32 triangle count, then per
 *   triangle: float32 normal, three float32 vertices, uint16 attribute = 0. Little endian.
 * - ASCII: `solid slice2solid` ... `endsolid slice2solid`, numbers in the shortest text that reads
 *   back to the same float32.
 * - Facet normals are computed from the winding (right-hand rule, counter-clockwise seen from
 *   outside = outward); degenerate triangles get 0 0 0. Per-vertex normals and colours of the mesh
 *   are not written (STL has no place for them), nor are group names: STL is one anonymous solid.
 */
import { type Mesh, progressReporter, type RunOptions, S2SError } from '@slice2solid/core';
import { faceNormal, formatFloat32, PROGRESS_STEP, TextSink, validateMesh } from './common.js';

export interface StlOptions extends RunOptions {
  /** Write ASCII STL instead of binary. */
  ascii?: boolean;
}

export const STL_DEFAULTS = {
  ascii: false,
} as const;

/** The fixed 80-byte binary STL header text (padded with spaces). */
export const STL_BINARY_HEADER = 'slice2solid binary STL, LPS mm';
/** The solid name of ASCII STL files. */
export const STL_SOLID_NAME = 'slice2solid';

export function writeStl(mesh: Mesh, options: StlOptions = {}): Uint8Array {
  return (options.ascii ?? STL_DEFAULTS.ascii) ? writeStlAscii(mesh, options) : writeStlBinary(mesh, options);
}

export function writeStlBinary(mesh: Mesh, options: RunOptions = {}): Uint8Array {
  validateMesh(mesh, 'STL');
  const P = mesh.positions;
  const I = mesh.indices;
  const nt = I.length / 3;
  if (nt > 0xffffffff) {
    throw new S2SError('INVALID_ARGUMENT', `binary STL holds at most 4294967295 triangles, the mesh has ${nt}`, {
      hint: 'decimate the mesh',
    });
  }
  const out = new Uint8Array(84 + 50 * nt);
  const view = new DataView(out.buffer);
  out.fill(0x20, 0, 80);
  for (let i = 0; i < STL_BINARY_HEADER.length; i++) out[i] = STL_BINARY_HEADER.charCodeAt(i);
  view.setUint32(80, nt, true);
  const n = [0, 0, 0];
  const progress = progressReporter('write STL', nt, options, PROGRESS_STEP);
  let o = 84;
  for (let t = 0; t < nt; t++) {
    if (t % PROGRESS_STEP === 0) progress(t);
    const a = I[3 * t]!;
    const b = I[3 * t + 1]!;
    const c = I[3 * t + 2]!;
    faceNormal(P, a, b, c, n);
    view.setFloat32(o, n[0]!, true);
    view.setFloat32(o + 4, n[1]!, true);
    view.setFloat32(o + 8, n[2]!, true);
    o += 12;
    for (const v of [a, b, c]) {
      view.setFloat32(o, P[3 * v]!, true);
      view.setFloat32(o + 4, P[3 * v + 1]!, true);
      view.setFloat32(o + 8, P[3 * v + 2]!, true);
      o += 12;
    }
    view.setUint16(o, 0, true);
    o += 2;
  }
  progress(nt);
  return out;
}

export function writeStlAscii(mesh: Mesh, options: RunOptions = {}): Uint8Array {
  validateMesh(mesh, 'STL');
  const P = mesh.positions;
  const I = mesh.indices;
  const nt = I.length / 3;
  const sink = new TextSink();
  const f = formatFloat32;
  const n = [0, 0, 0];
  const progress = progressReporter('write STL', nt, options, PROGRESS_STEP);
  sink.write(`solid ${STL_SOLID_NAME}\n`);
  for (let t = 0; t < nt; t++) {
    if (t % PROGRESS_STEP === 0) progress(t);
    const a = I[3 * t]!;
    const b = I[3 * t + 1]!;
    const c = I[3 * t + 2]!;
    faceNormal(P, a, b, c, n);
    sink.write(`facet normal ${f(n[0]!)} ${f(n[1]!)} ${f(n[2]!)}\n outer loop\n`);
    for (const v of [a, b, c]) sink.write(`  vertex ${f(P[3 * v]!)} ${f(P[3 * v + 1]!)} ${f(P[3 * v + 2]!)}\n`);
    sink.write(' endloop\nendfacet\n');
  }
  sink.write(`endsolid ${STL_SOLID_NAME}\n`);
  progress(nt);
  return sink.bytes();
}

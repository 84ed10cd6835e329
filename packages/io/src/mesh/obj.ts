/**
 * Wavefront OBJ + MTL writer. Coordinates are written as given (LPS millimetres, no axis change).
 *
 * - `mtllib <mtlName>`, all vertices (`v x y z`, or `v x y z r g b` with r, g, b in 0..1 when the
 *   mesh has vertex colours, the common extension read by three.js, MeshLab and Blender), normals
 *   (`vn`) when present, then one `g <name>` + `usemtl <name>` block per group (structure) with its
 *   faces (`f a b c`, or `f a//a b//b c//c` with normals; 1-based indices).
 * - The MTL has one `newmtl` per group: `Kd` = the group colour (sRGB 0..1, as MTL readers
 *   expect), no specular, opaque.
 * - Names: whitespace in group names becomes `_`, repeated names get `_2`, `_3`...; the only text
 *   written besides a fixed comment line is the group names the caller gives and `mtlName`.
 */
import { type Mesh, progressReporter, type RunOptions, S2SError } from '@slice2solid/core';
import { formatFloat32, meshParts, PROGRESS_STEP, TextSink, uniqueTokens, validateMesh } from './common.js';

export interface ObjOptions extends RunOptions {
  /** File name of the MTL file, as the OBJ's `mtllib` line refers to it (no directory, no spaces). */
  mtlName?: string;
  /** Write the mesh's vertex normals when it has them. */
  normals?: boolean;
  /** Write vertex colours (`v x y z r g b`) when the mesh has them. */
  vertexColors?: boolean;
}

export const OBJ_DEFAULTS = {
  mtlName: 'mesh.mtl',
  normals: true,
  vertexColors: true,
} as const;

export interface ObjFiles {
  readonly obj: Uint8Array;
  readonly mtl: Uint8Array;
}

export function writeObj(mesh: Mesh, options: ObjOptions = {}): ObjFiles {
  validateMesh(mesh, 'OBJ');
  const mtlName = options.mtlName ?? OBJ_DEFAULTS.mtlName;
  if (!/^[^\s/\\]+$/.test(mtlName)) {
    throw new S2SError('INVALID_ARGUMENT', `MTL file name ${JSON.stringify(mtlName)} cannot be used in an OBJ`, {
      hint: 'give a plain file name without spaces or folders, e.g. model.mtl',
    });
  }
  const P = mesh.positions;
  const I = mesh.indices;
  const N = (options.normals ?? OBJ_DEFAULTS.normals) ? mesh.normals : undefined;
  const C = (options.vertexColors ?? OBJ_DEFAULTS.vertexColors) ? mesh.colors : undefined;
  const nv = P.length / 3;
  const nt = I.length / 3;
  const f = formatFloat32;
  const progress = progressReporter('write OBJ', nv + nt, options, PROGRESS_STEP);

  const parts = meshParts(mesh);
  const names = uniqueTokens(parts.map((p) => p.name));

  const obj = new TextSink();
  obj.write('# slice2solid OBJ, LPS millimetres\n');
  obj.write(`mtllib ${mtlName}\n`);
  for (let v = 0; v < nv; v++) {
    if (v % PROGRESS_STEP === 0) progress(v);
    const xyz = `v ${f(P[3 * v]!)} ${f(P[3 * v + 1]!)} ${f(P[3 * v + 2]!)}`;
    obj.write(C ? `${xyz} ${rgb01(C[3 * v]!)} ${rgb01(C[3 * v + 1]!)} ${rgb01(C[3 * v + 2]!)}\n` : `${xyz}\n`);
  }
  if (N) {
    for (let v = 0; v < nv; v++) obj.write(`vn ${f(N[3 * v]!)} ${f(N[3 * v + 1]!)} ${f(N[3 * v + 2]!)}\n`);
  }
  let done = nv;
  parts.forEach((part, p) => {
    obj.write(`g ${names[p]}\nusemtl ${names[p]}\n`);
    for (const [start, count] of part.ranges) {
      for (let t = start; t < start + count; t++) {
        if (done++ % PROGRESS_STEP === 0) progress(done);
        const a = I[3 * t]! + 1;
        const b = I[3 * t + 1]! + 1;
        const c = I[3 * t + 2]! + 1;
        obj.write(N ? `f ${a}//${a} ${b}//${b} ${c}//${c}\n` : `f ${a} ${b} ${c}\n`);
      }
    }
  });
  progress(nv + nt);

  const mtl = new TextSink();
  mtl.write('# slice2solid MTL\n');
  parts.forEach((part, p) => {
    const [r, g, b] = part.color;
    mtl.write(`\nnewmtl ${names[p]}\nKd ${rgb01(r)} ${rgb01(g)} ${rgb01(b)}\nKs 0 0 0\nd 1\nillum 1\n`);
  });
  return { obj: obj.bytes(), mtl: mtl.bytes() };
}

/** 0..255 as 0..1 text with enough digits to get the byte back (x / 255 to 6 decimals). */
function rgb01(c: number): string {
  return formatFloat32(Math.round((c / 255) * 1e6) / 1e6);
}

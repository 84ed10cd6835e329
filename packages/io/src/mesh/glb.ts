/**
 * GLB (binary glTF 2.0) writer, built with glTF-Transform.
 *
 * - One named node + mesh (one triangle primitive) per group (structure), all children of the one
 *   scene. Each primitive has only the vertices its triangles use.
 * - Coordinates: converted from LPS millimetres to glTF's frame (+Y up, +Z forward, right-handed,
 *   metres) by `gltfFromLps` / `gltfDirectionFromLps` below, the ONLY place this conversion is written. Positions stay where
 *   they were relative to the scanner (not re-centred), so several exported structures line up.
 * - Normals (NORMAL): the mesh's normals rotated the same way, or, when it has none, area-weighted
 *   vertex normals of the faces (for smooth display); always unit length.
 * - Colours: a PBR material per group, baseColorFactor = the group colour converted from sRGB to
 *   linear (glTF colour factors are linear), metallic 0, roughness 0.6. Vertex colours, when the
 *   mesh has them, go to COLOR_0 (linear float RGB) and the materials are white so COLOR_0 shows.
 * - Optional EXT_meshopt_compression (required extension): lossless here, as no quantisation or
 *   filters are applied; it only compresses the bytes of the buffer views.
 * - Metadata: asset.generator = 'slice2solid' and nothing else (no copyright, no extras).
 */
import { Document, type Node, type Primitive, VertexLayout, WebIO } from '@gltf-transform/core';
import { EXTMeshoptCompression } from '@gltf-transform/extensions';
import { type Mesh, type RunOptions, throwIfAborted, type Vec3 } from '@slice2solid/core';
import { MeshoptEncoder } from 'meshoptimizer';
import { meshParts, srgbToLinear, validateMesh } from './common.js';

export interface GlbOptions extends RunOptions {
  /** Compress buffer views with EXT_meshopt_compression (lossless, readers need a meshopt decoder). */
  meshopt?: boolean;
  /** Write NORMAL: the mesh's normals, or smooth normals computed from the faces when it has none. */
  normals?: boolean;
  /** Write the mesh's vertex colours (if any) as COLOR_0. */
  vertexColors?: boolean;
}

export const GLB_DEFAULTS = {
  meshopt: false,
  normals: true,
  vertexColors: true,
} as const;

/** The generator string written to asset.generator. */
export const GLB_GENERATOR = 'slice2solid';

/**
 * The LPS millimetre -> glTF conversion, as a row-major 3x3 matrix applied to (L, P, S) in mm.
 *
 * LPS: +x = patient's Left, +y = Posterior, +z = Superior. glTF 2.0 (spec, "Coordinate System and
 * Units"): right-handed, +Y up, the front of an asset faces +Z, -X is the asset's right, metres.
 * So the patient stands upright with their front (anterior) towards +Z, their right towards -X:
 *   glTF +Y (up)                = Superior          -> Y =  S
 *   glTF +Z (towards the viewer) = Anterior = -P    -> Z = -P
 *   glTF +X (asset's left)       = patient's Left   -> X =  L
 * and divide by 1000 (mm -> m). The rotation part [[1,0,0],[0,0,1],[0,-1,0]] has determinant +1
 * (a proper rotation), so counter-clockwise winding stays counter-clockwise and normals outward.
 */
export const GLTF_FROM_LPS_MM: readonly (readonly [number, number, number])[] = [
  [0.001, 0, 0],
  [0, 0, 0.001],
  [0, -0.001, 0],
];

/** The rotation of GLTF_FROM_LPS_MM alone, for directions (normals): (L, P, S) -> (L, S, -P). */
export function gltfDirectionFromLps(d: Vec3 | readonly number[]): Vec3 {
  // (+ 0 turns -0 into 0)
  return [d[0]! + 0, d[2]! + 0, -d[1]! + 0];
}

/** glTF (metres, Y up) coordinates of an LPS point in mm: the rotation, then mm -> m. */
export function gltfFromLps(p: Vec3 | readonly number[]): Vec3 {
  const [x, y, z] = gltfDirectionFromLps(p);
  return [x / 1000, y / 1000, z / 1000];
}

export async function writeGlb(mesh: Mesh, options: GlbOptions = {}): Promise<Uint8Array> {
  validateMesh(mesh, 'GLB');
  const useMeshopt = options.meshopt ?? GLB_DEFAULTS.meshopt;
  const wantNormals = options.normals ?? GLB_DEFAULTS.normals;
  const colors = (options.vertexColors ?? GLB_DEFAULTS.vertexColors) ? mesh.colors : undefined;
  const P = mesh.positions;
  const I = mesh.indices;
  const nv = P.length / 3;
  const normals = wantNormals ? (mesh.normals ?? faceAreaNormals(mesh)) : undefined;

  const doc = new Document();
  doc.getRoot().getAsset().generator = GLB_GENERATOR;
  const buffer = doc.createBuffer();
  const scene = doc.createScene();
  doc.getRoot().setDefaultScene(scene);

  const parts = meshParts(mesh);
  const remap = new Int32Array(nv).fill(-1);
  parts.forEach((part, p) => {
    throwIfAborted(options.signal);
    options.onProgress?.({ stage: 'write GLB', done: p, total: parts.length + 1 });
    // compact the part's vertices, in order of first use
    const used: number[] = [];
    const idx = new Uint32Array(3 * part.count);
    let o = 0;
    for (const [start, count] of part.ranges) {
      for (let k = 3 * start; k < 3 * (start + count); k++) {
        const v = I[k]!;
        if (remap[v] === -1) {
          remap[v] = used.length;
          used.push(v);
        }
        idx[o++] = remap[v]!;
      }
    }
    const n = used.length;
    const pos = new Float32Array(3 * n);
    const nrm = normals ? new Float32Array(3 * n) : undefined;
    const col = colors ? new Float32Array(3 * n) : undefined;
    for (let k = 0; k < n; k++) {
      const v = used[k]!;
      remap[v] = -1;
      const g = gltfFromLps([P[3 * v]!, P[3 * v + 1]!, P[3 * v + 2]!]);
      pos.set(g, 3 * k);
      if (nrm && normals) {
        // rotation only (the 1/1000 scale does not apply to directions), then renormalise
        const [x, y, z] = gltfDirectionFromLps([normals[3 * v]!, normals[3 * v + 1]!, normals[3 * v + 2]!]);
        const len = Math.hypot(x, y, z);
        if (len > 0) nrm.set([x / len, y / len, z / len], 3 * k);
        else nrm.set([0, 1, 0], 3 * k);
      }
      if (col && colors) {
        col[3 * k] = srgbToLinear(colors[3 * v]!);
        col[3 * k + 1] = srgbToLinear(colors[3 * v + 1]!);
        col[3 * k + 2] = srgbToLinear(colors[3 * v + 2]!);
      }
    }
    // uint16 indices when they fit (65535 is reserved as primitive restart)
    const indices = n <= 0xffff ? Uint16Array.from(idx) : idx;

    const prim: Primitive = doc
      .createPrimitive()
      .setMode(4)
      .setIndices(doc.createAccessor().setType('SCALAR').setArray(indices).setBuffer(buffer))
      .setAttribute('POSITION', doc.createAccessor().setType('VEC3').setArray(pos).setBuffer(buffer));
    if (nrm) prim.setAttribute('NORMAL', doc.createAccessor().setType('VEC3').setArray(nrm).setBuffer(buffer));
    if (col) prim.setAttribute('COLOR_0', doc.createAccessor().setType('VEC3').setArray(col).setBuffer(buffer));
    const [r, g, b] = part.color;
    const material = doc
      .createMaterial(part.name)
      .setBaseColorFactor(col ? [1, 1, 1, 1] : [srgbToLinear(r), srgbToLinear(g), srgbToLinear(b), 1])
      .setMetallicFactor(0)
      .setRoughnessFactor(0.6);
    prim.setMaterial(material);
    const gmesh = doc.createMesh(part.name).addPrimitive(prim);
    const node: Node = doc.createNode(part.name).setMesh(gmesh);
    scene.addChild(node);
  });

  // interleaved vertex attributes (one buffer view per primitive), set explicitly for stable bytes
  const io = new WebIO().setVertexLayout(VertexLayout.INTERLEAVED);
  if (useMeshopt) {
    await MeshoptEncoder.ready;
    doc
      .createExtension(EXTMeshoptCompression)
      .setRequired(true)
      .setEncoderOptions({ method: EXTMeshoptCompression.EncoderMethod.QUANTIZE });
    io.registerExtensions([EXTMeshoptCompression]).registerDependencies({ 'meshopt.encoder': MeshoptEncoder });
  }
  throwIfAborted(options.signal);
  const bytes = await io.writeBinary(doc);
  options.onProgress?.({ stage: 'write GLB', done: parts.length + 1, total: parts.length + 1 });
  return bytes;
}

/** Area-weighted vertex normals (LPS) from the triangles; zero for vertices no triangle uses. */
function faceAreaNormals(mesh: Mesh): Float32Array {
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
    // the cross product's length is twice the area: area weighting for free
    const nx = uy * vz - uz * vy;
    const ny = uz * vx - ux * vz;
    const nz = ux * vy - uy * vx;
    for (const v of [a, b, c]) {
      acc[v] = acc[v]! + nx;
      acc[v + 1] = acc[v + 1]! + ny;
      acc[v + 2] = acc[v + 2]! + nz;
    }
  }
  return Float32Array.from(acc);
}

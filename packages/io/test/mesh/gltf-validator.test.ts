// Our GLBs pass the Khronos glTF validator with no errors and no warnings, and carry no metadata
// beyond asset.generator.
import { WebIO } from '@gltf-transform/core';
import { EXTMeshoptCompression } from '@gltf-transform/extensions';
import type { Mesh } from '@slice2solid/core';
// @ts-expect-error gltf-validator ships no type declarations
import * as validator from 'gltf-validator';
import { MeshoptDecoder } from 'meshoptimizer';
import { describe, expect, it } from 'vitest';
import { writeGlb } from '../../src/mesh/glb.js';
import { sphereMesh, tetraMesh, twoGroupMesh } from './fixtures.js';

interface Report {
  issues: {
    numErrors: number;
    numWarnings: number;
    numInfos: number;
    messages: { code: string; message: string; severity: number; pointer?: string }[];
  };
  info?: { extensionsUsed?: string[]; extensionsRequired?: string[] };
}

async function validate(bytes: Uint8Array): Promise<Report> {
  return (await validator.validateBytes(bytes, { maxIssues: 100 })) as Report;
}

/** The JSON chunk of a GLB. */
function glbJson(bytes: Uint8Array): Record<string, unknown> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect(view.getUint32(0, true)).toBe(0x46546c67); // 'glTF'
  const len = view.getUint32(12, true);
  expect(view.getUint32(16, true)).toBe(0x4e4f534a); // 'JSON'
  return JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + len)));
}

const MESHES: [string, () => Mesh][] = [
  ['tetrahedron', tetraMesh],
  ['two groups', () => twoGroupMesh()],
  ['two groups with vertex colours', () => twoGroupMesh(true)],
  ['marching-cubes sphere with normals', sphereMesh],
];

describe('glTF validator', () => {
  for (const [what, make] of MESHES) {
    for (const meshopt of [false, true]) {
      it(`${what}${meshopt ? ', meshopt compressed' : ''}: 0 errors, 0 warnings`, async () => {
        const bytes = await writeGlb(make(), { meshopt });
        const report = await validate(bytes);
        const serious = report.issues.messages.filter((m) => m.severity <= 1);
        expect(serious).toEqual([]);
        expect(report.issues.numErrors).toBe(0);
        expect(report.issues.numWarnings).toBe(0);
        if (meshopt) {
          expect(report.info?.extensionsRequired).toEqual(['EXT_meshopt_compression']);
          // the validator cannot decode meshopt data: it says so (info), and sees the compressed
          // buffer only through the extension (info); the decoded data is checked in the next block
          const codes = new Set(report.issues.messages.map((m) => m.code));
          expect([...codes].every((c) => c === 'UNSUPPORTED_EXTENSION' || c === 'UNUSED_OBJECT')).toBe(true);
        } else {
          expect(report.issues.numInfos).toBe(0);
        }
      });
    }
  }

  it('a broken GLB is caught (the check can fail)', async () => {
    const bytes = await writeGlb(tetraMesh());
    const broken = bytes.slice();
    broken[bytes.length - 5] = 0xff; // inside the index buffer: index out of range
    const report = await validate(broken);
    expect(report.issues.numErrors).toBeGreaterThan(0);
  });
});

describe('GLB content', () => {
  it('asset has only version and generator "slice2solid"; nodes, meshes and materials per group', async () => {
    const json = glbJson(await writeGlb(twoGroupMesh())) as {
      asset: Record<string, unknown>;
      nodes: { name: string; mesh: number }[];
      meshes: { name: string }[];
      materials: { name: string; pbrMetallicRoughness: { baseColorFactor: number[]; metallicFactor: number } }[];
      extras?: unknown;
    };
    expect(json.asset).toEqual({ version: '2.0', generator: 'slice2solid' });
    expect(json.extras).toBeUndefined();
    expect(json.nodes.map((n) => n.name)).toEqual(['bone', 'soft tissue']);
    expect(json.meshes.map((m) => m.name)).toEqual(['bone', 'soft tissue']);
    // sRGB (241, 214, 145) -> linear
    const f = json.materials[0]!.pbrMetallicRoughness.baseColorFactor;
    expect(f[0]).toBeCloseTo(0.879622, 5);
    expect(f[1]).toBeCloseTo(0.672443, 5);
    expect(f[2]).toBeCloseTo(0.283149, 5);
    expect(f[3]).toBe(1);
    expect(json.materials[0]!.pbrMetallicRoughness.metallicFactor).toBe(0);
  });

  it('meshopt output is smaller and decodes (glTF-Transform reader) to the same accessors', async () => {
    const mesh = sphereMesh();
    const plain = await writeGlb(mesh);
    const packed = await writeGlb(mesh, { meshopt: true });
    expect(packed.length).toBeLessThan(plain.length);
    await MeshoptDecoder.ready;
    const io = new WebIO()
      .registerExtensions([EXTMeshoptCompression])
      .registerDependencies({ 'meshopt.decoder': MeshoptDecoder });
    const a = await io.readBinary(plain);
    const b = await io.readBinary(packed);
    const pa = a.getRoot().listMeshes()[0]!.listPrimitives()[0]!;
    const pb = b.getRoot().listMeshes()[0]!.listPrimitives()[0]!;
    expect(Array.from(pb.getAttribute('POSITION')!.getArray()!)).toEqual(
      Array.from(pa.getAttribute('POSITION')!.getArray()!),
    );
    expect(Array.from(pb.getAttribute('NORMAL')!.getArray()!)).toEqual(
      Array.from(pa.getAttribute('NORMAL')!.getArray()!),
    );
  });
});

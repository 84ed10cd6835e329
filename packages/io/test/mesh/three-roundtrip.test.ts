// Round trips through third-party readers (three.js loaders): same triangles, same positions
// (bit-exact for the millimetre formats, after the documented axis change for GLB), same group
// names and colours, outward winding after re-reading.
import type { Mesh } from '@slice2solid/core';
import { signedVolume } from '@slice2solid/ops';
import { describe, expect, it } from 'vitest';
import { srgbToLinear } from '../../src/mesh/common.js';
import { writeGlb } from '../../src/mesh/glb.js';
import { writeObj } from '../../src/mesh/obj.js';
import { writePly } from '../../src/mesh/ply.js';
import { writeStlAscii, writeStlBinary } from '../../src/mesh/stl.js';
import { writeThreeMf } from '../../src/mesh/threemf.js';
import { type MeshFormat, writeMesh } from '../../src/mesh/write-mesh.js';
import {
  meshSoup,
  soupVolume,
  sphereMesh,
  TETRA_VOLUME,
  TWO_GROUP_COLORS,
  TWO_GROUP_NAMES,
  TWO_GROUP_VOLUMES,
  tetraMesh,
  twoGroupMesh,
} from './fixtures.js';
import { lpsFromGltfSoup, type ReadPart, readGlb, readObj, readPly, readStl, readThreeMf } from './three-readers.js';

function concat(parts: readonly ReadPart[]): Float32Array {
  const n = parts.reduce((s, p) => s + p.soup.length, 0);
  const out = new Float32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p.soup, o);
    o += p.soup.length;
  }
  return out;
}

/** Each triangle (positions + per-corner colours) with its corners rotated so the smallest comes first. */
function canonicalTriangles(soup: Float32Array, colors: Float32Array): number[][] {
  const out: number[][] = [];
  for (let t = 0; t < soup.length; t += 9) {
    const corner = (k: number) => [
      ...soup.subarray(t + 3 * k, t + 3 * k + 3),
      ...colors.subarray(t + 3 * k, t + 3 * k + 3),
    ];
    const cs = [corner(0), corner(1), corner(2)];
    const less = (a: number[], b: number[]) => {
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
      return false;
    };
    let r = 0;
    if (less(cs[1]!, cs[r]!)) r = 1;
    if (less(cs[2]!, cs[r]!)) r = 2;
    out.push([...cs[r]!, ...cs[(r + 1) % 3]!, ...cs[(r + 2) % 3]!]);
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Reads a file set back to triangle soups in LPS mm, one per part. */
async function reread(mesh: Mesh, format: MeshFormat): Promise<ReadPart[]> {
  const files = await writeMesh(mesh, format, { name: 'model' });
  const main = files[0]!.bytes;
  switch (format) {
    case 'stl':
    case 'stl-ascii':
      return readStl(main);
    case 'obj':
      return readObj(main, files[1]!.bytes);
    case 'ply':
      return readPly(main);
    case '3mf':
      return readThreeMf(main);
    case 'glb':
      return (await readGlb(main)).map((p) => ({ ...p, soup: Float32Array.from(lpsFromGltfSoup(p.soup)) }));
  }
}

const EXACT: MeshFormat[] = ['stl', 'stl-ascii', 'obj', 'ply', '3mf'];

describe('three.js loaders read our files back to the same geometry', () => {
  for (const format of EXACT) {
    it(`${format}: tetrahedron and two-group mesh, bit-exact positions, same triangle order`, async () => {
      for (const mesh of [tetraMesh(), twoGroupMesh(), twoGroupMesh(true)]) {
        const parts = await reread(mesh, format);
        const soup = concat(parts);
        expect(soup.length / 9).toBe(mesh.indices.length / 3);
        expect(Array.from(soup)).toEqual(Array.from(meshSoup(mesh)));
      }
    });
  }

  it('glb: same positions after the documented axis change (L = X, P = -Z, S = Y, metres)', async () => {
    for (const mesh of [tetraMesh(), twoGroupMesh(), twoGroupMesh(true)]) {
      const soup = concat(await reread(mesh, 'glb'));
      expect(soup.length / 9).toBe(mesh.indices.length / 3);
      // float32 metres: ~1e-7 relative of coordinates up to ~100 mm
      expect(maxAbsDiff(soup, meshSoup(mesh))).toBeLessThan(2e-5);
    }
  });

  it('glb: raw glTF coordinates follow +Y = Superior, +Z = Anterior, +X = Left, in metres', async () => {
    const mesh = tetraMesh();
    const [part] = await readGlb(await writeGlb(mesh));
    // first triangle, first vertex = vertex 0 of the mesh (L, P, S) = (-12.5, 40.25, -100.125)
    const g = Array.from(part!.soup.subarray(0, 3));
    expect(g[0]).toBeCloseTo(-0.0125, 9);
    expect(g[1]).toBeCloseTo(-0.100125, 9);
    expect(g[2]).toBeCloseTo(-0.04025, 9);
    // a proper rotation: the volume seen in glTF space is still positive (outward winding)
    expect(soupVolume(part!.soup) * 1e9).toBeCloseTo(TETRA_VOLUME, 1);
  });

  it('glb with EXT_meshopt_compression reads back to the same positions (lossless)', async () => {
    const mesh = twoGroupMesh(true);
    const parts = await readGlb(await writeGlb(mesh, { meshopt: true }));
    const plain = await readGlb(await writeGlb(mesh));
    // the meshopt index codec may rotate the corners of a triangle (same winding): compare the
    // triangles with their corners rotated to a canonical first corner
    const canon = (ps: readonly ReadPart[]) =>
      ps.flatMap((p) => canonicalTriangles(p.soup, p.vertexColorsLinear ?? new Float32Array(p.soup.length)));
    expect(canon(parts)).toEqual(canon(plain));
  });

  it('ascii and binary STL read back identically', () => {
    const mesh = twoGroupMesh();
    const a = readStl(writeStlAscii(mesh))[0]!.soup;
    const b = readStl(writeStlBinary(mesh))[0]!.soup;
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('obj / glb / 3mf: one part per group, named after it, with the group colour', async () => {
    const mesh = twoGroupMesh();
    const sanitize = (s: string) => s.replace(/\s/g, '_');
    const obj = writeObj(mesh, { mtlName: 'model.mtl' });
    const sets: [string, ReadPart[], (s: string) => string][] = [
      ['obj', readObj(obj.obj, obj.mtl), sanitize],
      ['glb', await readGlb(await writeGlb(mesh)), sanitize], // GLTFLoader sanitises node names
      ['3mf', readThreeMf(writeThreeMf(mesh)), (s) => s],
    ];
    for (const [format, parts, name] of sets) {
      expect(
        parts.map((p) => p.name),
        format,
      ).toEqual(TWO_GROUP_NAMES.map(name));
      parts.forEach((p, i) => {
        const want = TWO_GROUP_COLORS[i]!;
        for (let c = 0; c < 3; c++) expect(Math.abs(p.materialColor![c]! - want[c]!), format).toBeLessThan(0.51);
        expect(soupVolume(format === 'glb' ? lpsFromGltfSoup(p.soup) : p.soup)).toBeCloseTo(TWO_GROUP_VOLUMES[i]!, 3);
      });
    }
  });

  it('ply: group colours become vertex colours; own vertex colours win', () => {
    // three's PLYLoader stores colours as 8-bit *linear* values (its own rounding): compare there
    const near = (read: number, srgb: number) => Math.abs(read * 255 - srgbToLinear(srgb) * 255) <= 0.5 + 1e-6;
    const grouped = readPly(writePly(twoGroupMesh()))[0]!;
    const vc = grouped.vertexColorsLinear!;
    for (let t = 0; t < 16; t++) {
      const want = TWO_GROUP_COLORS[t < 4 ? 0 : 1]!;
      for (let k = 0; k < 3; k++) {
        for (let c = 0; c < 3; c++) expect(near(vc[9 * t + 3 * k + c]!, want[c]!)).toBe(true);
      }
    }
    const own = twoGroupMesh(true);
    const read = readPly(writePly(own))[0]!.vertexColorsLinear!;
    for (let t = 0; t < 16; t++) {
      for (let k = 0; k < 3; k++) {
        const v = own.indices[3 * t + k]!;
        for (let c = 0; c < 3; c++) expect(near(read[9 * t + 3 * k + c]!, own.colors![3 * v + c]!)).toBe(true);
      }
    }
    expect(readPly(writePly(tetraMesh()))[0]!.vertexColors).toBeUndefined();
  });

  it('obj, glb, 3mf: vertex colours survive (sRGB, within rounding)', async () => {
    const mesh = twoGroupMesh(true);
    const obj = writeObj(mesh);
    for (const [format, parts] of [
      ['obj', readObj(obj.obj, obj.mtl)],
      ['glb', await readGlb(await writeGlb(mesh))],
      ['3mf', readThreeMf(writeThreeMf(mesh))],
    ] as const) {
      let t0 = 0;
      for (const p of parts) {
        const vc = p.vertexColors;
        expect(vc, format).toBeDefined();
        for (let k = 0; k < vc!.length / 3; k++) {
          const v = mesh.indices[3 * t0 + k]!;
          for (let c = 0; c < 3; c++) {
            expect(Math.abs(vc![3 * k + c]! - mesh.colors![3 * v + c]!), format).toBeLessThan(0.51);
          }
        }
        t0 += vc!.length / 9;
      }
    }
  });
});

describe('marching-cubes sphere through every format', () => {
  const sphere = sphereMesh();
  const volume = signedVolume(sphere);
  it('the fixture is a closed, outward sphere', () => {
    expect(volume).toBeGreaterThan(0);
    // marching cubes cuts a little off a sphere sampled at ~1 mm
    expect(Math.abs(volume / ((4 / 3) * Math.PI * 9 ** 3) - 1)).toBeLessThan(0.02);
  });
  for (const format of ['stl', 'stl-ascii', 'obj', 'ply', 'glb', '3mf'] as MeshFormat[]) {
    it(`${format}: re-read volume within 1e-4 relative and positive (outward winding)`, async () => {
      const parts = await reread(sphere, format);
      const soup = concat(parts);
      expect(soup.length / 9).toBe(sphere.indices.length / 3);
      const v = soupVolume(soup);
      expect(v).toBeGreaterThan(0);
      expect(Math.abs(v - volume) / volume).toBeLessThan(1e-4);
      expect(maxAbsDiff(soup, meshSoup(sphere))).toBeLessThan(format === 'glb' ? 2e-5 : 1e-12);
    });
  }
});

// Unit tests of the mesh writers: number formatting, headers, input checks, parts, names,
// privacy (no text but format keywords, numbers and the caller's group names), cancellation.
import { isS2SError, type Mesh, type Progress } from '@slice2solid/core';
import { unzipSync } from 'fflate';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatFloat32, meshParts } from '../../src/mesh/common.js';
import { GLTF_FROM_LPS_MM, gltfFromLps, writeGlb } from '../../src/mesh/glb.js';
import { writeObj } from '../../src/mesh/obj.js';
import { writePly } from '../../src/mesh/ply.js';
import { STL_BINARY_HEADER, writeStl, writeStlAscii, writeStlBinary } from '../../src/mesh/stl.js';
import { writeThreeMf } from '../../src/mesh/threemf.js';
import { MESH_FORMATS, type MeshFormat, meshFormatFromFileName, writeMesh } from '../../src/mesh/write-mesh.js';
import { mulberry32 } from '../helpers.js';
import { sphereMesh, tetraMesh, twoGroupMesh } from './fixtures.js';
import { readPly, readStl } from './three-readers.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function expectS2S(p: unknown | Promise<unknown>, code: string, like?: RegExp): Promise<void> {
  try {
    await (typeof p === 'function' ? (p as () => unknown)() : p);
  } catch (e) {
    expect(isS2SError(e), String(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    if (like) expect((e as Error).message).toMatch(like);
    return;
  }
  throw new Error(`expected an S2SError ${code}`);
}

describe('formatFloat32', () => {
  it('gives the shortest text that reads back to the same float32 (property test)', () => {
    const rand = mulberry32(7);
    for (let n = 0; n < 20000; n++) {
      const scale = 10 ** Math.floor(rand() * 16 - 8);
      const v = Math.fround((rand() - 0.5) * scale);
      const s = formatFloat32(v);
      expect(Math.fround(Number(s))).toBe(v === 0 ? 0 : v);
      // one significant digit fewer does not round-trip (shortest)
      const digits = s.replace(/e.*$/, '').replace(/[-.]/g, '').replace(/^0+/, '').length;
      if (digits > 1 && !Number.isInteger(v)) expect(Math.fround(Number(v.toPrecision(digits - 1)))).not.toBe(v);
    }
  });
  it.each([
    [0, '0'],
    [-0, '0'],
    [1, '1'],
    [-100.125, '-100.125'],
    [0.1, '0.1'],
    [1e-7, '1e-7'],
    [123456.789, '123456.79'],
    [16777217, '16777216'],
  ])('%s -> %s', (v, s) => {
    expect(formatFloat32(v)).toBe(s);
  });
});

describe('STL', () => {
  it('binary: fixed 80-byte header, count, 50 bytes per triangle, outward unit facet normals', () => {
    const mesh = tetraMesh();
    const bytes = writeStl(mesh);
    expect(bytes.length).toBe(84 + 50 * 4);
    expect(text(bytes.subarray(0, 80))).toBe(STL_BINARY_HEADER.padEnd(80, ' '));
    expect(text(bytes.subarray(0, 5))).not.toBe('solid');
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(80, true)).toBe(4);
    const normal = (t: number) => [0, 4, 8].map((o) => view.getFloat32(84 + 50 * t + o, true));
    expect(normal(0)).toEqual([0, 0, -1]);
    expect(normal(1)).toEqual([0, -1, 0]);
    expect(normal(2)).toEqual([-1, 0, 0]);
    const [a, b, c] = [10.5, 20.25, 30.75];
    const len = Math.hypot(b * c, a * c, a * b);
    normal(3).forEach((x, i) => {
      expect(x).toBeCloseTo([b * c, a * c, a * b][i]! / len, 6);
    });
    for (let t = 0; t < 4; t++) expect(view.getUint16(84 + 50 * t + 48, true)).toBe(0);
  });
  it('ascii on request; degenerate triangles get a 0 0 0 normal', () => {
    const mesh: Mesh = {
      positions: Float32Array.from([0, 0, 0, 1, 0, 0, 2, 0, 0]),
      indices: Uint32Array.from([0, 1, 2]),
    };
    const s = text(writeStl(mesh, { ascii: true }));
    expect(s.startsWith('solid slice2solid\nfacet normal 0 0 0\n')).toBe(true);
    expect(s.endsWith('endsolid slice2solid\n')).toBe(true);
    expect(Array.from(readStl(writeStlAscii(mesh))[0]!.soup)).toEqual([0, 0, 0, 1, 0, 0, 2, 0, 0]);
    expect(writeStlBinary(mesh).length).toBe(134);
  });
});

describe('input checks (every writer)', () => {
  const good = tetraMesh();
  const BAD: [string, Mesh, RegExp][] = [
    ['no triangles', { positions: new Float32Array(3), indices: new Uint32Array(0) }, /no triangles/],
    ['index out of range', { ...good, indices: Uint32Array.from([0, 1, 4]) }, /uses vertex 4/],
    [
      'NaN coordinate',
      { ...good, positions: Float32Array.from([Number.NaN, ...good.positions.subarray(1)]) },
      /non-finite/,
    ],
    ['partial vertex', { ...good, positions: good.positions.subarray(0, 11) }, /multiple of 3/],
    ['partial triangle', { ...good, indices: good.indices.subarray(0, 11) }, /multiple of 3/],
    ['short normals', { ...good, normals: new Float32Array(3) }, /normals/],
    ['short colours', { ...good, colors: new Uint8Array(3) }, /colors/],
    ['group beyond the end', { ...good, groups: [{ name: 'a', color: [1, 2, 3], start: 2, count: 3 }] }, /only 4/],
    [
      'overlapping groups',
      {
        ...good,
        groups: [
          { name: 'a', color: [1, 2, 3], start: 0, count: 3 },
          { name: 'b', color: [1, 2, 3], start: 2, count: 2 },
        ],
      },
      /overlaps/,
    ],
    ['bad colour', { ...good, groups: [{ name: 'a', color: [1, 2, 300], start: 0, count: 4 }] }, /colour/],
    [
      'control character in name',
      { ...good, groups: [{ name: 'a\nb', color: [1, 2, 3], start: 0, count: 4 }] },
      /control/,
    ],
  ];
  for (const format of MESH_FORMATS) {
    it.each(BAD)(`${format}: %s -> INVALID_ARGUMENT`, async (_what, mesh, like) => {
      await expectS2S(writeMesh(mesh, format), 'INVALID_ARGUMENT', like);
    });
  }
  it('unknown format, file name without a name', async () => {
    await expectS2S(writeMesh(good, 'fbx' as MeshFormat), 'UNSUPPORTED_FORMAT');
    await expectS2S(writeMesh(good, 'stl', { name: 'out/' }), 'INVALID_ARGUMENT');
    await expectS2S(() => writeObj(good, { mtlName: 'a b.mtl' }), 'INVALID_ARGUMENT');
  });
});

describe('parts', () => {
  it('groups in their order, empty ones skipped, uncovered triangles in a last part "mesh"', () => {
    const mesh: Mesh = {
      ...twoGroupMesh(),
      groups: [
        { name: 'late', color: [1, 2, 3], start: 10, count: 6 },
        { name: 'empty', color: [4, 5, 6], start: 3, count: 0 },
        { name: 'early', color: [7, 8, 9.4], start: 2, count: 3 },
      ],
    };
    expect(meshParts(mesh)).toEqual([
      { name: 'late', color: [1, 2, 3], ranges: [[10, 6]], count: 6 },
      { name: 'early', color: [7, 8, 9], ranges: [[2, 3]], count: 3 },
      {
        name: 'mesh',
        color: [230, 220, 200],
        ranges: [
          [0, 2],
          [5, 5],
        ],
        count: 7,
      },
    ]);
  });
  it('every format writes every triangle, also the ones no group covers', async () => {
    const mesh: Mesh = { ...twoGroupMesh(), groups: [{ name: 'only', color: [9, 9, 9], start: 4, count: 3 }] };
    const obj = text(writeObj(mesh).obj);
    expect(obj.match(/^f /gm)!.length).toBe(16);
    expect(obj).toContain('g only\n');
    expect(obj).toContain('g mesh\n');
    const model = text(unzipSync(writeThreeMf(mesh))['3D/3dmodel.model']!);
    expect(model.match(/<triangle /g)!.length).toBe(16);
    expect(model.match(/<object /g)!.length).toBe(2);
  });
  it('OBJ/MTL names: whitespace replaced, repeats numbered', () => {
    const base = twoGroupMesh();
    const mesh: Mesh = { ...base, groups: base.groups!.map((g) => ({ ...g, name: 'left  femur' })) };
    const { obj, mtl } = writeObj(mesh);
    expect(text(obj)).toContain('g left_femur\nusemtl left_femur\n');
    expect(text(obj)).toContain('g left_femur_2\nusemtl left_femur_2\n');
    expect(text(mtl).match(/^newmtl .*$/gm)).toEqual(['newmtl left_femur', 'newmtl left_femur_2']);
  });
});

describe('PLY colours', () => {
  it('a vertex shared by groups of different colours is written once per colour', () => {
    // two triangles sharing an edge (vertices 1 and 2), one per group
    const mesh: Mesh = {
      positions: Float32Array.from([0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0]),
      indices: Uint32Array.from([0, 1, 2, 2, 1, 3]),
      groups: [
        { name: 'a', color: [255, 0, 0], start: 0, count: 1 },
        { name: 'b', color: [0, 0, 255], start: 1, count: 1 },
      ],
    };
    const bytes = writePly(mesh);
    expect(text(bytes.subarray(0, 200))).toContain('element vertex 6\n');
    const read = readPly(bytes)[0]!;
    expect(Array.from(read.soup)).toEqual([0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0]);
    const vc = Array.from(read.vertexColors!).map(Math.round);
    expect(vc).toEqual([255, 0, 0, 255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255, 0, 0, 255]);
  });
  it('normals are written when the mesh has them, and read back', () => {
    const sphere = sphereMesh();
    const bytes = writePly(sphere);
    expect(text(bytes.subarray(0, 400))).toContain('property float nx\nproperty float ny\nproperty float nz\n');
    expect(text(writePly(sphere, { normals: false }).subarray(0, 400))).not.toContain('nx');
    expect(text(writeObj(sphere).obj).match(/^vn /gm)!.length).toBe(sphere.positions.length / 3);
  });
});

describe('GLB details', () => {
  it('the LPS -> glTF conversion is a proper rotation (det +1) times 1/1000, and gltfFromLps applies it', () => {
    const m = GLTF_FROM_LPS_MM.map((row) => row.map((x) => x * 1000));
    const det =
      m[0]![0]! * (m[1]![1]! * m[2]![2]! - m[1]![2]! * m[2]![1]!) -
      m[0]![1]! * (m[1]![0]! * m[2]![2]! - m[1]![2]! * m[2]![0]!) +
      m[0]![2]! * (m[1]![0]! * m[2]![1]! - m[1]![1]! * m[2]![0]!);
    expect(det).toBe(1);
    // orthonormal rows
    for (let r = 0; r < 3; r++) {
      for (let q = 0; q < 3; q++) expect(m[r]!.reduce((s, x, i) => s + x * m[q]![i]!, 0)).toBe(r === q ? 1 : 0);
    }
    const p = [12.5, -40, 77] as const;
    const g = gltfFromLps(p);
    GLTF_FROM_LPS_MM.forEach((row, r) => {
      expect(g[r]).toBeCloseTo(row[0] * p[0] + row[1] * p[1] + row[2] * p[2], 12);
    });
    // superior is up, anterior (-P) faces the viewer (+Z), patient's left is +X
    expect(gltfFromLps([0, 0, 1000])).toEqual([0, 1, 0]);
    expect(gltfFromLps([0, -1000, 0])).toEqual([0, 0, 1]);
    expect(gltfFromLps([1000, 0, 0])).toEqual([1, 0, 0]);
  });

  it('a part with more than 65535 vertices gets 32-bit indices; smaller parts 16-bit', async () => {
    const n = 70002;
    const positions = new Float32Array(3 * n);
    for (let v = 0; v < n; v++) positions.set([v % 3 === 1 ? 1 : 0, v % 3 === 2 ? 1 : 0, v * 0.01], 3 * v);
    const indices = Uint32Array.from({ length: n }, (_, i) => i);
    const big = await writeGlb({ positions, indices });
    const json = (b: Uint8Array) => JSON.parse(text(b.subarray(20, 20 + new DataView(b.buffer).getUint32(12, true))));
    expect(json(big).accessors[0]).toMatchObject({ componentType: 5125, count: n });
    expect(json(await writeGlb(tetraMesh())).accessors[0]).toMatchObject({ componentType: 5123, count: 12 });
  });
});

describe('3MF details', () => {
  it('millimetre units; triangles that repeat a vertex are left out; fixed timestamps', async () => {
    const base = tetraMesh();
    const mesh: Mesh = { ...base, indices: Uint32Array.from([...base.indices, 0, 0, 1]) };
    const model = text(unzipSync(writeThreeMf(mesh))['3D/3dmodel.model']!);
    expect(model).toContain('<model unit="millimeter"');
    expect(model.match(/<triangle /g)!.length).toBe(4);
    await expectS2S(
      () => writeThreeMf({ positions: base.positions, indices: Uint32Array.from([0, 0, 1]) }),
      'INVALID_ARGUMENT',
      /repeats a vertex/,
    );
  });
});

describe('names', () => {
  it.each([
    ['skull.stl', 'stl'],
    ['a/b/SKULL.GLB', 'glb'],
    ['x.3mf', '3mf'],
    ['x.Obj', 'obj'],
    ['x.ply', 'ply'],
    ['x.nii', undefined],
    ['stl', undefined],
  ])('meshFormatFromFileName(%s) = %s', (name, format) => {
    expect(meshFormatFromFileName(name)).toBe(format);
  });
  it('files are named from the output name only; OBJ gets a sibling MTL', async () => {
    const mesh = twoGroupMesh();
    const obj = await writeMesh(mesh, 'obj', { name: 'out dir/my skull.stl' });
    expect(obj.map((f) => f.name)).toEqual(['out dir/my skull.obj', 'out dir/my_skull.mtl']);
    expect(text(obj[0]!.bytes)).toContain('mtllib my_skull.mtl\n');
    expect((await writeMesh(mesh, 'glb')).map((f) => f.name)).toEqual(['mesh.glb']);
    expect((await writeMesh(mesh, 'stl-ascii', { name: 'a.b' })).map((f) => f.name)).toEqual(['a.b.stl']);
    expect((await writeMesh(mesh, '3mf', { name: 'C:\\x\\y.3mf' })).map((f) => f.name)).toEqual(['C:\\x\\y.3mf']);
  });
});

describe('privacy: files hold only format keywords, numbers and the given group names', () => {
  afterEach(() => {
    vi.useRealTimers();
  });
  const KEYWORDS = new Set(
    (
      'slice2solid binary STL LPS mm millimetres solid facet normal outer loop vertex endloop endfacet endsolid ' +
      'OBJ MTL mtllib v vn g usemtl f newmtl Kd Ks d illum mesh ' +
      'ply format binary_little_endian comment element property float x y z nx ny nz uchar red green blue face list uint vertex_indices end_header ' +
      'xml version encoding UTF Types xmlns http schemas openxmlformats org package content types Default Extension rels ContentType ' +
      'application vnd openxmlformats relationships model ms 3dmanufacturing 3dmodel Relationships Relationship Target 3D Id rel0 Type ' +
      'microsoft com core material unit millimeter lang en US resources basematerials id base name displaycolor object pid pindex ' +
      'vertices triangles triangle v1 v2 v3 p1 p2 p3 build item objectid m colorgroup color ' +
      'asset generator accessors bufferViews buffers materials meshes nodes scene scenes pbrMetallicRoughness baseColorFactor ' +
      'metallicFactor roughnessFactor primitives attributes POSITION NORMAL COLOR_0 indices mode type SCALAR VEC3 componentType ' +
      'count max min buffer bufferView byteOffset byteLength byteStride target mtl Content_Types _rels normalized'
    ).split(' '),
  );
  const ALLOWED_NAMES = new Set(['bone', 'soft', 'tissue', 'soft_tissue']);

  function words(s: string): string[] {
    return s
      .replace(/"#[0-9A-F]{6}"/g, '"colour"') // 3MF colours
      .split(/[^A-Za-z0-9_]+/)
      .filter((w) => w.length > 0 && w !== 'colour' && !/^[0-9]+$/.test(w) && !/^[0-9]*e[0-9]+$/.test(w));
  }
  function textParts(format: MeshFormat, bytes: Uint8Array): string[] {
    switch (format) {
      case 'stl':
        return [text(bytes.subarray(0, 80))];
      case 'ply':
        return [text(bytes.subarray(0, text(bytes.subarray(0, 1000)).indexOf('end_header') + 10))];
      case 'glb':
        return [text(bytes.subarray(20, 20 + new DataView(bytes.buffer).getUint32(12, true)))];
      case '3mf':
        return Object.entries(unzipSync(bytes)).flatMap(([name, b]) => [name, text(b)]);
      default:
        return [text(bytes)];
    }
  }
  for (const format of MESH_FORMATS) {
    it(`${format}: no other words, and the same bytes at any time of day or year`, async () => {
      const mesh = twoGroupMesh(true);
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(new Date('2031-07-04T23:59:58Z'));
      const a = await writeMesh(mesh, format, { name: 'model' });
      vi.setSystemTime(new Date('2024-02-29T03:04:05Z'));
      const b = await writeMesh(mesh, format, { name: 'model' });
      expect(a).toEqual(b);
      for (const file of a) {
        for (const s of textParts(format, file.bytes)) {
          const unknown = words(s).filter((w) => !KEYWORDS.has(w) && !ALLOWED_NAMES.has(w) && w !== 'model');
          expect(unknown, `${file.name}`).toEqual([]);
        }
      }
    });
  }
});

describe('cancellation and progress', () => {
  const aborted = { aborted: true, reason: 'stop' };
  const writers: [string, (m: Mesh, o: { signal?: typeof aborted; onProgress?: (p: Progress) => void }) => unknown][] =
    [
      ['stl', (m, o) => writeStlBinary(m, o)],
      ['stl-ascii', (m, o) => writeStlAscii(m, o)],
      ['obj', (m, o) => writeObj(m, o)],
      ['ply', (m, o) => writePly(m, o)],
      ['glb', (m, o) => writeGlb(m, o)],
      ['3mf', (m, o) => writeThreeMf(m, o)],
    ];
  it.each(writers)('%s: an aborted signal stops it with ABORTED', async (_f, write) => {
    await expectS2S(() => write(tetraMesh(), { signal: aborted }), 'ABORTED');
  });
  it.each(writers)('%s: progress ends at done = total', async (_f, write) => {
    const seen: Progress[] = [];
    await write(sphereMesh(), { onProgress: (p) => seen.push(p) });
    expect(seen.length).toBeGreaterThan(0);
    const last = seen[seen.length - 1]!;
    expect(last.done).toBe(last.total);
  });
});

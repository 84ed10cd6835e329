// Golden files: each writer's output for tiny meshes, compared byte for byte.
// After an intended format change, regenerate with
//   UPDATE_GOLDEN=1 npx vitest run packages/io/test/mesh/golden.test.ts
// and review the diff of packages/io/test/mesh/golden/ before committing.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Mesh } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { type MeshFormat, writeMesh } from '../../src/mesh/write-mesh.js';
import { tetraMesh, twoGroupMesh } from './fixtures.js';

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const CASES: [string, () => Mesh, MeshFormat[]][] = [
  ['tetra', tetraMesh, ['stl', 'stl-ascii', 'obj', 'ply', 'glb', '3mf']],
  ['two-groups', () => twoGroupMesh(), ['stl', 'stl-ascii', 'obj', 'ply', 'glb', '3mf']],
  ['two-groups-vertex-colors', () => twoGroupMesh(true), ['obj', 'ply', 'glb', '3mf']],
];

describe('golden files (byte-exact)', () => {
  if (UPDATE) mkdirSync(GOLDEN, { recursive: true });
  for (const [stem, make, formats] of CASES) {
    for (const format of formats) {
      it(`${stem} as ${format}`, async () => {
        // ASCII STL shares the .stl extension: give it its own golden name
        const name = format === 'stl-ascii' ? `${stem}-ascii` : stem;
        const files = await writeMesh(make(), format, { name });
        for (const file of files) {
          const path = join(GOLDEN, file.name);
          if (UPDATE) writeFileSync(path, file.bytes);
          const want = new Uint8Array(readFileSync(path));
          expect(file.bytes.length, file.name).toBe(want.length);
          expect(Buffer.from(file.bytes).equals(Buffer.from(want)), `${file.name} differs from its golden file`).toBe(
            true,
          );
        }
      });
    }
  }
});

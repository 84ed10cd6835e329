/**
 * 3MF writer (3MF Core Specification 1.x, with the Materials extension for vertex colours).
 *
 * - A ZIP (fflate, deflate) with `[Content_Types].xml`, `_rels/.rels` and `3D/3dmodel.model`. All
 *   entries get the same fixed timestamp, so the same mesh always gives the same bytes.
 * - `unit="millimeter"`; coordinates are LPS millimetres as given. LPS is right-handed with +z =
 *   Superior, so the model stands upright on a 3MF build plate (+Z up); no axis change is needed.
 * - One `<object type="model">` per group (structure), named after the group, with only the
 *   vertices its triangles use, coloured through one `<basematerials>` entry per group (sRGB
 *   displaycolor). When the mesh has vertex colours, each object also gets an `m:colorgroup` with
 *   one colour per vertex and every triangle refers to it (p1/p2/p3).
 * - One `<item>` per object in `<build>`, no transform.
 * - 3MF forbids triangles that repeat a vertex index; such triangles (zero area) are left out.
 * - No `<metadata>`: nothing but the group names is written as free text.
 */
import { type Mesh, progressReporter, type RunOptions, S2SError } from '@slice2solid/core';
import { zipSync } from 'fflate';
import { formatFloat32, meshParts, PROGRESS_STEP, TextSink, validateMesh } from './common.js';

export interface ThreeMfOptions extends RunOptions {
  /** Deflate level of the ZIP entries (0 = stored, 9 = smallest). */
  compressionLevel?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
  /** Write the mesh's vertex colours (if any) as a per-vertex m:colorgroup. */
  vertexColors?: boolean;
}

export const THREEMF_DEFAULTS = {
  compressionLevel: 6,
  vertexColors: true,
} as const;

const CORE_NS = 'http://schemas.microsoft.com/3dmanufacturing/core/2015/02';
const MATERIAL_NS = 'http://schemas.microsoft.com/3dmanufacturing/material/2015/02';
const MODEL_PATH = '3D/3dmodel.model';

const CONTENT_TYPES =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\n' +
  ' <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\n' +
  ' <Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/>\n' +
  '</Types>\n';

const RELS =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\n' +
  ` <Relationship Target="/${MODEL_PATH}" Id="rel0" Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/>\n` +
  '</Relationships>\n';

export function writeThreeMf(mesh: Mesh, options: ThreeMfOptions = {}): Uint8Array {
  validateMesh(mesh, '3MF');
  const level = options.compressionLevel ?? THREEMF_DEFAULTS.compressionLevel;
  const colors = (options.vertexColors ?? THREEMF_DEFAULTS.vertexColors) ? mesh.colors : undefined;
  const P = mesh.positions;
  const I = mesh.indices;
  const nt = I.length / 3;
  const f = formatFloat32;
  const parts = meshParts(mesh);
  const progress = progressReporter('write 3MF', nt, options, PROGRESS_STEP);

  const x = new TextSink();
  x.write('<?xml version="1.0" encoding="UTF-8"?>\n');
  x.write(
    `<model unit="millimeter" xml:lang="en-US" xmlns="${CORE_NS}"${colors ? ` xmlns:m="${MATERIAL_NS}"` : ''}>\n`,
  );
  x.write(' <resources>\n  <basematerials id="1">\n');
  for (const part of parts)
    x.write(`   <base name="${xmlEscape(part.name)}" displaycolor="${hexColor(part.color)}"/>\n`);
  x.write('  </basematerials>\n');

  const remap = new Int32Array(P.length / 3).fill(-1);
  const objectIds: number[] = [];
  let nextId = 2;
  let done = 0;
  parts.forEach((part, p) => {
    // compact the part's vertices in order of first use, dropping triangles that repeat a vertex
    const used: number[] = [];
    const tris: number[] = [];
    for (const [start, count] of part.ranges) {
      for (let t = start; t < start + count; t++) {
        if (done++ % PROGRESS_STEP === 0) progress(done);
        const a = I[3 * t]!;
        const b = I[3 * t + 1]!;
        const c = I[3 * t + 2]!;
        if (a === b || b === c || a === c) continue;
        for (const v of [a, b, c]) {
          if (remap[v] === -1) {
            remap[v] = used.length;
            used.push(v);
          }
          tris.push(remap[v]!);
        }
      }
    }
    for (const v of used) remap[v] = -1;
    if (tris.length === 0) return; // only repeated-vertex triangles: nothing to show
    let colorGroupId = 0;
    if (colors) {
      colorGroupId = nextId++;
      x.write(`  <m:colorgroup id="${colorGroupId}">\n`);
      for (const v of used) {
        x.write(`   <m:color color="${hexColor([colors[3 * v]!, colors[3 * v + 1]!, colors[3 * v + 2]!])}"/>\n`);
      }
      x.write('  </m:colorgroup>\n');
    }
    const id = nextId++;
    objectIds.push(id);
    x.write(`  <object id="${id}" type="model" name="${xmlEscape(part.name)}" pid="1" pindex="${p}">\n`);
    x.write('   <mesh>\n    <vertices>\n');
    for (const v of used)
      x.write(`     <vertex x="${f(P[3 * v]!)}" y="${f(P[3 * v + 1]!)}" z="${f(P[3 * v + 2]!)}"/>\n`);
    x.write('    </vertices>\n    <triangles>\n');
    for (let k = 0; k < tris.length; k += 3) {
      const [a, b, c] = [tris[k]!, tris[k + 1]!, tris[k + 2]!];
      x.write(
        colors
          ? `     <triangle v1="${a}" v2="${b}" v3="${c}" pid="${colorGroupId}" p1="${a}" p2="${b}" p3="${c}"/>\n`
          : `     <triangle v1="${a}" v2="${b}" v3="${c}"/>\n`,
      );
    }
    x.write('    </triangles>\n   </mesh>\n  </object>\n');
  });
  if (objectIds.length === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'cannot write 3MF: every triangle repeats a vertex (zero area)', {
      hint: 'check the threshold or that the segment is not empty',
    });
  }
  x.write(' </resources>\n <build>\n');
  for (const id of objectIds) x.write(`  <item objectid="${id}"/>\n`);
  x.write(' </build>\n</model>\n');
  progress(nt);

  const enc = new TextEncoder();
  // fixed local-time timestamp: fflate stores DOS (local) date fields, so this is zone-independent
  const mtime = new Date(1980, 0, 1, 0, 0, 0);
  return zipSync(
    {
      '[Content_Types].xml': [enc.encode(CONTENT_TYPES), { mtime }],
      '_rels/.rels': [enc.encode(RELS), { mtime }],
      [MODEL_PATH]: [x.bytes(), { mtime }],
    },
    { level },
  );
}

function hexColor(c: readonly number[]): string {
  return `#${c
    .slice(0, 3)
    .map((v) => Math.round(v).toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase()}`;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

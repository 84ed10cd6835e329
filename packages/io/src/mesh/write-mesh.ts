/**
 * One entry point for all mesh formats: `writeMesh(mesh, format, { name })` returns the files to
 * write (name + bytes). File names come only from the caller's output name (never from patient
 * data): the main file is that name with the format's extension; OBJ adds a sibling `.mtl`.
 *
 * Privacy: besides fixed format text, the files hold only numbers and the group names of the mesh
 * (structure names). Callers must never put patient identifiers into segment or group names.
 */
import { type Mesh, type RunOptions, S2SError } from '@slice2solid/core';
import { type GlbOptions, writeGlb } from './glb.js';
import { type ObjOptions, writeObj } from './obj.js';
import { type PlyOptions, writePly } from './ply.js';
import { writeStlAscii, writeStlBinary } from './stl.js';
import { type ThreeMfOptions, writeThreeMf } from './threemf.js';

export type MeshFormat = 'stl' | 'stl-ascii' | 'obj' | 'ply' | 'glb' | '3mf';

/** The formats and the extension of their main file. */
export const MESH_FORMAT_EXTENSIONS: Readonly<Record<MeshFormat, string>> = {
  stl: '.stl',
  'stl-ascii': '.stl',
  obj: '.obj',
  ply: '.ply',
  glb: '.glb',
  '3mf': '.3mf',
};

export const MESH_FORMATS: readonly MeshFormat[] = ['stl', 'stl-ascii', 'obj', 'ply', 'glb', '3mf'];

export interface WriteMeshOptions extends RunOptions {
  /**
   * The output file name chosen by the user, with or without folder and extension
   * (`out/skull.stl`, `skull`). A known mesh extension is replaced by the format's.
   */
  name?: string;
  /** Format options (only the ones of the chosen format are used). */
  obj?: Omit<ObjOptions, 'mtlName' | keyof RunOptions>;
  ply?: Omit<PlyOptions, keyof RunOptions>;
  glb?: Omit<GlbOptions, keyof RunOptions>;
  threeMf?: Omit<ThreeMfOptions, keyof RunOptions>;
}

export const WRITE_MESH_DEFAULTS = {
  name: 'mesh',
} as const;

export interface MeshFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** The mesh format of a file name by its extension (.stl, .obj, .ply, .glb, .3mf), if any. */
export function meshFormatFromFileName(name: string): MeshFormat | undefined {
  const m = /\.([A-Za-z0-9]+)$/.exec(name);
  switch (m?.[1]?.toLowerCase()) {
    case 'stl':
      return 'stl';
    case 'obj':
      return 'obj';
    case 'ply':
      return 'ply';
    case 'glb':
      return 'glb';
    case '3mf':
      return '3mf';
    default:
      return undefined;
  }
}

export async function writeMesh(mesh: Mesh, format: MeshFormat, options: WriteMeshOptions = {}): Promise<MeshFile[]> {
  if (!MESH_FORMATS.includes(format)) {
    throw new S2SError('UNSUPPORTED_FORMAT', `unknown mesh format ${JSON.stringify(format)}`, {
      hint: `use one of ${MESH_FORMATS.join(', ')}`,
    });
  }
  const run: RunOptions = { signal: options.signal, onProgress: options.onProgress };
  const stem = fileStem(options.name ?? WRITE_MESH_DEFAULTS.name);
  const main = stem + MESH_FORMAT_EXTENSIONS[format];
  switch (format) {
    case 'stl':
      return [{ name: main, bytes: writeStlBinary(mesh, run) }];
    case 'stl-ascii':
      return [{ name: main, bytes: writeStlAscii(mesh, run) }];
    case 'obj': {
      // the MTL sits next to the OBJ; mtllib names it without the folder, spaces made safe
      const mtlBase = `${baseName(stem).replace(/\s+/g, '_')}.mtl`;
      const mtlName = stem.slice(0, stem.length - baseName(stem).length) + mtlBase;
      const { obj, mtl } = writeObj(mesh, { ...options.obj, ...run, mtlName: mtlBase });
      return [
        { name: main, bytes: obj },
        { name: mtlName, bytes: mtl },
      ];
    }
    case 'ply':
      return [{ name: main, bytes: writePly(mesh, { ...options.ply, ...run }) }];
    case 'glb':
      return [{ name: main, bytes: await writeGlb(mesh, { ...options.glb, ...run }) }];
    case '3mf':
      return [{ name: main, bytes: writeThreeMf(mesh, { ...options.threeMf, ...run }) }];
  }
}

/** The name without a known mesh extension (other extensions are kept: `a.b` -> `a.b`). */
function fileStem(name: string): string {
  if (name.length === 0 || /[/\\]$/.test(name)) {
    throw new S2SError('INVALID_ARGUMENT', `output name ${JSON.stringify(name)} has no file name`, {
      hint: 'give a file name such as skull.stl',
    });
  }
  return meshFormatFromFileName(name) ? name.replace(/\.[A-Za-z0-9]+$/, '') : name;
}

function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return path.slice(i + 1);
}

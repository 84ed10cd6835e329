// Re-reading our files with three.js loaders (third-party readers) in Node.
// 3MFLoader needs a DOMParser with querySelector(All): @xmldom/xmldom plus a tiny polyfill that
// handles the only selectors the loader uses (element names, optionally descendant chains).
import { Document as XmlDocument, DOMParser as XmlDomParser, Element as XmlElement } from '@xmldom/xmldom';
import { MeshoptDecoder } from 'meshoptimizer';
import { type BufferGeometry, Color, type Group, type Material, type Object3D, type Mesh as ThreeMesh } from 'three';
import { ThreeMFLoader } from 'three/examples/jsm/loaders/3MFLoader.js';
import { type GLTF, GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { MTLLoader } from 'three/examples/jsm/loaders/MTLLoader.js';
import { OBJLoader } from 'three/examples/jsm/loaders/OBJLoader.js';
import { PLYLoader } from 'three/examples/jsm/loaders/PLYLoader.js';
import { STLLoader } from 'three/examples/jsm/loaders/STLLoader.js';
import { expand } from './fixtures.js';

type Queryable = { getElementsByTagNameNS(ns: string, name: string): ArrayLike<XmlElement> };

function querySelectorAll(this: Queryable & object, selector: string): XmlElement[] {
  const chain = selector.trim().split(/\s+/);
  const last = chain[chain.length - 1]!;
  const found = Array.from(this.getElementsByTagNameNS('*', last));
  return found.filter((el) => {
    let need = chain.length - 2;
    let node = el.parentNode as XmlElement | null;
    while (need >= 0 && node && node !== (this as unknown)) {
      if (node.localName === chain[need]) need--;
      node = node.parentNode as XmlElement | null;
    }
    return need < 0;
  });
}

let shimmed = false;
export function installDomShim(): void {
  if (shimmed) return;
  shimmed = true;
  for (const proto of [XmlElement.prototype, XmlDocument.prototype] as object[]) {
    Object.assign(proto, {
      querySelectorAll,
      querySelector(this: Queryable, selector: string) {
        return querySelectorAll.call(this, selector)[0] ?? null;
      },
    });
  }
  (globalThis as { DOMParser?: unknown }).DOMParser = XmlDomParser;
}

/** One re-read part: its name, triangle soup (9 numbers per triangle) and colours. */
export interface ReadPart {
  readonly name: string;
  readonly soup: Float32Array;
  /** The material colour as sRGB 0..255, if the part has a material with a colour. */
  readonly materialColor?: [number, number, number];
  /** Per triangle-vertex colours as sRGB 0..255 (3 per soup vertex), if present. */
  readonly vertexColors?: Float32Array;
  /** The same in three's linear working space, 0..1, as stored by the loader. */
  readonly vertexColorsLinear?: Float32Array;
}

export function ab(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function srgb255(c: Color): [number, number, number] {
  const o = { r: 0, g: 0, b: 0 };
  c.getRGB(o, 'srgb');
  return [o.r * 255, o.g * 255, o.b * 255];
}

function geometrySoup(g: BufferGeometry): Float32Array {
  const pos = g.getAttribute('position'); // may be interleaved: read through the accessor
  const flat = new Float32Array(3 * pos.count);
  for (let v = 0; v < pos.count; v++) flat.set([pos.getX(v), pos.getY(v), pos.getZ(v)], 3 * v);
  return expand(flat, g.getIndex()?.array as Uint32Array | undefined);
}

function geometryColors(
  g: BufferGeometry,
): { vertexColors: Float32Array; vertexColorsLinear: Float32Array } | undefined {
  const col = g.getAttribute('color');
  if (!col) return undefined;
  const idx = g.getIndex()?.array;
  const n = idx ? idx.length : col.count;
  const out = new Float32Array(3 * n);
  const lin = new Float32Array(3 * n);
  const c = new Color();
  for (let k = 0; k < n; k++) {
    const v = idx ? idx[k]! : k;
    lin.set([col.getX(v), col.getY(v), col.getZ(v)], 3 * k);
    c.setRGB(col.getX(v), col.getY(v), col.getZ(v)); // working (linear) colour space
    out.set(srgb255(c), 3 * k);
  }
  return { vertexColors: out, vertexColorsLinear: lin };
}

function meshesOf(root: Object3D): ThreeMesh[] {
  const out: ThreeMesh[] = [];
  root.updateMatrixWorld(true);
  root.traverse((o) => {
    if ((o as ThreeMesh).isMesh) out.push(o as ThreeMesh);
  });
  return out;
}

function partOf(m: ThreeMesh, name: string): ReadPart {
  const g = m.geometry.clone().applyMatrix4(m.matrixWorld);
  const mat = (Array.isArray(m.material) ? m.material[0] : m.material) as Material & { color?: Color };
  const vc = geometryColors(g);
  return {
    name,
    soup: geometrySoup(g),
    ...(mat?.color ? { materialColor: srgb255(mat.color) } : {}),
    ...(vc ?? {}),
  };
}

export function readStl(bytes: Uint8Array): ReadPart[] {
  const g = new STLLoader().parse(ab(bytes));
  return [{ name: '', soup: geometrySoup(g) }];
}

export function readObj(obj: Uint8Array, mtl?: Uint8Array): ReadPart[] {
  const loader = new OBJLoader();
  if (mtl) {
    const materials = new MTLLoader().parse(new TextDecoder().decode(mtl), '');
    materials.preload();
    loader.setMaterials(materials);
  }
  const group: Group = loader.parse(new TextDecoder().decode(obj));
  return meshesOf(group).map((m) => partOf(m, m.name));
}

export function readPly(bytes: Uint8Array): ReadPart[] {
  const g = new PLYLoader().parse(ab(bytes));
  const vc = geometryColors(g);
  return [{ name: '', soup: geometrySoup(g), ...(vc ?? {}) }];
}

export async function readGlb(bytes: Uint8Array): Promise<ReadPart[]> {
  await MeshoptDecoder.ready;
  const loader = new GLTFLoader().setMeshoptDecoder(MeshoptDecoder);
  const gltf = await new Promise<GLTF>((resolve, reject) => loader.parse(ab(bytes), '', resolve, reject));
  return meshesOf(gltf.scene).map((m) => partOf(m, m.name));
}

export function readThreeMf(bytes: Uint8Array): ReadPart[] {
  installDomShim();
  const group = new ThreeMFLoader().parse(ab(bytes));
  return meshesOf(group).map((m) => partOf(m, m.name));
}

/** LPS mm of a glTF point (inverse of the documented conversion: L = X, P = -Z, S = Y, x1000). */
export function lpsFromGltfSoup(soup: Float32Array): Float64Array {
  const out = new Float64Array(soup.length);
  for (let k = 0; k < soup.length; k += 3) {
    out[k] = soup[k]! * 1000;
    out[k + 1] = -soup[k + 2]! * 1000;
    out[k + 2] = soup[k + 1]! * 1000;
  }
  return out;
}

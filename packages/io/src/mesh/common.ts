/**
 * Shared helpers of the mesh writers: input validation, the list of parts (groups) to write,
 * exact and short number formatting, chunked text output and colour conversion.
 *
 * Privacy: writers put no metadata in their files beyond a fixed, non-identifying generator
 * string. The only free text they write is the group (structure) names the caller passes in
 * `mesh.groups`; callers must never put patient identifiers in segment or group names.
 */
import { type Mesh, type MeshGroup, S2SError, type Vec3 } from '@slice2solid/core';

/** The colour of a part when the mesh has no groups (a neutral bone-like grey-beige). */
export const DEFAULT_PART_COLOR: Vec3 = [230, 220, 200];
/** The name of the part when the mesh has no groups, and of triangles no group covers. */
export const DEFAULT_PART_NAME = 'mesh';

/** A run of triangles written as one part (OBJ group, GLB node, 3MF object). */
export interface MeshPart {
  readonly name: string;
  /** sRGB 0..255. */
  readonly color: Vec3;
  /** Triangle ranges [start, start + count) of the part, in order. */
  readonly ranges: readonly (readonly [number, number])[];
  /** Total triangles of the part. */
  readonly count: number;
}

/**
 * Checks that a mesh is well formed: whole vertices and triangles, finite coordinates, indices
 * in range, normals and colours of the right length, groups inside the triangle range and not
 * overlapping. Throws INVALID_ARGUMENT otherwise. `format` names the writer in messages.
 */
export function validateMesh(mesh: Mesh, format: string): void {
  const bad = (message: string, hint: string): never => {
    throw new S2SError('INVALID_ARGUMENT', `cannot write ${format}: ${message}`, { hint });
  };
  const P = mesh.positions;
  const I = mesh.indices;
  if (!(P instanceof Float32Array)) bad('positions must be a Float32Array', 'build the mesh with a mesh operation');
  if (!(I instanceof Uint32Array)) bad('indices must be a Uint32Array', 'build the mesh with a mesh operation');
  if (P.length % 3 !== 0) bad(`positions has ${P.length} numbers, not a multiple of 3`, 'x, y, z per vertex');
  if (I.length % 3 !== 0) bad(`indices has ${I.length} entries, not a multiple of 3`, 'three indices per triangle');
  if (I.length === 0) bad('the mesh has no triangles', 'check the threshold or that the segment is not empty');
  const nv = P.length / 3;
  for (let i = 0; i < P.length; i++) {
    if (!Number.isFinite(P[i]!)) bad(`vertex ${Math.floor(i / 3)} has a non-finite coordinate`, 'repair the mesh');
  }
  for (let t = 0; t < I.length; t++) {
    if (I[t]! >= nv)
      bad(`triangle ${Math.floor(t / 3)} uses vertex ${I[t]}, but there are only ${nv}`, 'repair the mesh');
  }
  if (mesh.normals !== undefined && mesh.normals.length !== P.length) {
    bad(`normals has ${mesh.normals.length} numbers for ${nv} vertices`, 'give one normal per vertex or none');
  }
  if (mesh.colors !== undefined && mesh.colors.length !== P.length) {
    bad(`colors has ${mesh.colors.length} numbers for ${nv} vertices`, 'give one r, g, b per vertex or none');
  }
  if (mesh.groups) {
    const nt = I.length / 3;
    const sorted = [...mesh.groups].sort((a, b) => a.start - b.start);
    let end = 0;
    for (const g of sorted) {
      if (typeof g.name !== 'string' || hasControlCharacter(g.name)) {
        bad(`group name ${JSON.stringify(g.name)} has control characters`, 'use plain structure names');
      }
      if (!Number.isInteger(g.start) || !Number.isInteger(g.count) || g.start < 0 || g.count < 0) {
        bad(`group "${g.name}" has start ${g.start} and count ${g.count}`, 'whole, non-negative triangle counts');
      }
      if (g.start + g.count > nt) {
        bad(`group "${g.name}" ends at triangle ${g.start + g.count}, but there are only ${nt}`, 'repair the groups');
      }
      if (g.count > 0 && g.start < end) bad(`group "${g.name}" overlaps another group`, 'groups must not overlap');
      if (g.color.length !== 3 || g.color.some((c) => !(c >= 0 && c <= 255))) {
        bad(`group "${g.name}" has colour ${JSON.stringify(g.color)}`, 'colours are r, g, b in 0..255');
      }
      if (g.count > 0) end = g.start + g.count;
    }
  }
}

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * The parts to write, in the order of `mesh.groups`: empty groups are skipped, triangles that no
 * group covers form one extra part named `mesh` at the end. Without groups: one part, all triangles.
 */
export function meshParts(mesh: Mesh): MeshPart[] {
  const nt = mesh.indices.length / 3;
  const groups: readonly MeshGroup[] = mesh.groups ?? [];
  const parts: MeshPart[] = [];
  const covered = new Uint8Array(nt);
  for (const g of groups) {
    if (g.count <= 0) continue;
    covered.fill(1, g.start, g.start + g.count);
    parts.push({ name: g.name, color: roundColor(g.color), ranges: [[g.start, g.count]], count: g.count });
  }
  const rest: [number, number][] = [];
  let total = 0;
  for (let t = 0; t < nt; ) {
    if (covered[t]) {
      t++;
      continue;
    }
    let e = t;
    while (e < nt && !covered[e]) e++;
    rest.push([t, e - t]);
    total += e - t;
    t = e;
  }
  if (total > 0) parts.push({ name: DEFAULT_PART_NAME, color: DEFAULT_PART_COLOR, ranges: rest, count: total });
  return parts;
}

function roundColor(c: Vec3): Vec3 {
  return [Math.round(c[0]), Math.round(c[1]), Math.round(c[2])];
}

/**
 * Names made unique and safe for formats whose names are whitespace-separated tokens (OBJ, MTL):
 * whitespace becomes `_`, an empty name becomes `part`, repeats get `_2`, `_3`, ...
 */
export function uniqueTokens(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.map((n) => {
    const base = n.replace(/\s+/g, '_') || 'part';
    let name = base;
    for (let k = 2; seen.has(name); k++) name = `${base}_${k}`;
    seen.add(name);
    return name;
  });
}

/**
 * The shortest decimal text that reads back (as float32) to exactly the float32 value `v`.
 * Used by the text formats so a re-read gives the same coordinates bit for bit.
 */
export function formatFloat32(v: number): string {
  const f = Math.fround(v);
  if (Number.isInteger(f) && Math.abs(f) < 1e15) return f === 0 ? '0' : String(f);
  // 9 significant digits always read back to the same float32; binary-search the fewest that do
  // (about twice as fast as trying 1, 2, 3... digits; the result is only ever a tested string)
  let lo = 1;
  let hi = 9;
  let best = f.toPrecision(9);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const s = f.toPrecision(mid);
    if (Math.fround(Number(s)) === f) {
      hi = mid;
      best = s;
    } else {
      lo = mid + 1;
    }
  }
  return tidy(best);
}

/** toPrecision text without trailing zeros after the point (keeps any exponent). */
function tidy(s: string): string {
  const e = s.indexOf('e');
  let m = e < 0 ? s : s.slice(0, e);
  const x = e < 0 ? '' : s.slice(e);
  if (m.includes('.')) m = m.replace(/0+$/, '').replace(/\.$/, '');
  return m + x;
}

/** Text output in UTF-8 chunks, so big files never become one giant JS string. */
export class TextSink {
  private readonly chunks: Uint8Array[] = [];
  private pending: string[] = [];
  private pendingLength = 0;
  private readonly encoder = new TextEncoder();

  write(s: string): void {
    this.pending.push(s);
    this.pendingLength += s.length;
    if (this.pendingLength > 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(this.encoder.encode(this.pending.join('')));
    this.pending = [];
    this.pendingLength = 0;
  }

  bytes(): Uint8Array {
    this.flush();
    return concatBytes(this.chunks);
  }
}

export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** sRGB 0..255 to linear 0..1 (IEC 61966-2-1), as glTF wants for colour factors and COLOR_0. */
export function srgbToLinear(c255: number): number {
  const c = c255 / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** Unit normal of triangle (a, b, c) by the right-hand rule, or 0, 0, 0 for a degenerate one. */
export function faceNormal(P: Float32Array, a: number, b: number, c: number, out: number[]): void {
  const ax = P[3 * a]!;
  const ay = P[3 * a + 1]!;
  const az = P[3 * a + 2]!;
  const ux = P[3 * b]! - ax;
  const uy = P[3 * b + 1]! - ay;
  const uz = P[3 * b + 2]! - az;
  const vx = P[3 * c]! - ax;
  const vy = P[3 * c + 1]! - ay;
  const vz = P[3 * c + 2]! - az;
  const nx = uy * vz - uz * vy;
  const ny = uz * vx - ux * vz;
  const nz = ux * vy - uy * vx;
  const len = Math.hypot(nx, ny, nz);
  if (len > 0 && Number.isFinite(len)) {
    out[0] = nx / len;
    out[1] = ny / len;
    out[2] = nz / len;
  } else {
    out[0] = 0;
    out[1] = 0;
    out[2] = 0;
  }
}

/** How often (in triangles) the writers check the abort signal and report progress. */
export const PROGRESS_STEP = 1 << 16;

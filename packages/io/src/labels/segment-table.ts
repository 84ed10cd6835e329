/**
 * The segment table as JSON: the `<name>.segments.json` sidecar written next to NIfTI / NRRD
 * label maps (those formats have no standard place for names and colours).
 *
 *   {
 *     "format": "slice2solid-segments",
 *     "version": 1,
 *     "segments": [
 *       { "value": 1, "name": "bone", "color": [241, 214, 145],
 *         "code": { "scheme": "SCT", "value": "272673000", "meaning": "Bone" } }
 *     ]
 *   }
 *
 * value: label value in the voxels (integer >= 1); color: sRGB 0..255; code: optional.
 * Reading also accepts a bare array of segments, and a plain id -> name object such as
 * TotalSegmentator's class maps ({ "1": "spleen", "2": "kidney_right" }; colours are defaulted).
 */
import { S2SError, type Segment, type Vec3 } from '@slice2solid/core';
import { defaultLabelColor } from './label-colors.js';

export const SEGMENT_TABLE_FORMAT = 'slice2solid-segments';

/** Serialises a segment table (sorted by value) as pretty-printed JSON. */
export function segmentsToJson(segments: readonly Segment[]): string {
  const list = [...segments]
    .sort((a, b) => a.value - b.value)
    .map((s) => {
      const o: Record<string, unknown> = { value: s.value, name: s.name, color: [...s.color] };
      if (s.code) o.code = { scheme: s.code.scheme, value: s.code.value, meaning: s.code.meaning };
      return o;
    });
  return `${JSON.stringify({ format: SEGMENT_TABLE_FORMAT, version: 1, segments: list }, null, 2)}\n`;
}

function bad(message: string, file?: string): S2SError {
  return new S2SError('MALFORMED_FILE', message, {
    hint: 'a segment table is {"format":"slice2solid-segments","version":1,"segments":[{"value":1,"name":"bone","color":[241,214,145]}]}',
    ...(file === undefined ? {} : { file }),
  });
}

/** Parses a segment table (see the file comment for the accepted shapes). */
export function segmentsFromJson(text: string, file?: string): Segment[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw bad(`the segment table is not valid JSON (${(e as Error).message})`, file);
  }
  let list: unknown[];
  if (Array.isArray(doc)) list = doc;
  else if (doc && typeof doc === 'object' && Array.isArray((doc as { segments?: unknown }).segments)) {
    const d = doc as { format?: unknown; version?: unknown; segments: unknown[] };
    if (d.format !== undefined && d.format !== SEGMENT_TABLE_FORMAT)
      throw bad(`unknown segment table format "${String(d.format)}"`, file);
    if (d.version !== undefined && d.version !== 1)
      throw bad(`segment table version ${String(d.version)} is not supported (only 1)`, file);
    list = d.segments;
  } else if (doc && typeof doc === 'object' && Object.keys(doc).every((k) => /^\d+$/.test(k))) {
    list = Object.entries(doc as Record<string, unknown>).map(([k, v]) => {
      if (typeof v !== 'string') throw bad(`label ${k} should map to a name`, file);
      return { value: Number(k), name: v };
    });
  } else {
    throw bad('the segment table has no "segments" list', file);
  }
  const out: Segment[] = [];
  const seen = new Set<number>();
  for (const [n, item] of list.entries()) {
    if (!item || typeof item !== 'object') throw bad(`segment ${n + 1} is not an object`, file);
    const s = item as Record<string, unknown>;
    const value = s.value;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw bad(`segment ${n + 1} has no integer "value" >= 1`, file);
    }
    if (seen.has(value)) throw bad(`label value ${value} appears twice`, file);
    seen.add(value);
    if (s.name !== undefined && typeof s.name !== 'string')
      throw bad(`segment ${value}: "name" must be a string`, file);
    let color: Vec3 | undefined;
    if (s.color !== undefined) {
      const c = s.color;
      if (!Array.isArray(c) || c.length !== 3 || !c.every((x) => typeof x === 'number' && x >= 0 && x <= 255)) {
        throw bad(`segment ${value}: "color" must be three numbers 0..255`, file);
      }
      color = [Math.round(c[0]), Math.round(c[1]), Math.round(c[2])];
    }
    let code: Segment['code'];
    if (s.code !== undefined) {
      const c = s.code as Record<string, unknown>;
      if (!c || typeof c.scheme !== 'string' || typeof c.value !== 'string' || typeof c.meaning !== 'string') {
        throw bad(`segment ${value}: "code" needs string "scheme", "value" and "meaning"`, file);
      }
      code = { scheme: c.scheme, value: c.value, meaning: c.meaning };
    }
    const seg: Segment = {
      value,
      name: typeof s.name === 'string' ? s.name : `segment ${value}`,
      color: color ?? defaultLabelColor(value),
    };
    out.push(code ? { ...seg, code } : seg);
  }
  return out.sort((a, b) => a.value - b.value);
}

/**
 * Name of the segment-table sidecar of a label file: `<name>.segments.json` where <name> is the
 * file name without its label-map extension (.nii, .nii.gz, .nrrd, .seg.nrrd, .nhdr, .mha, .mhd).
 */
export function segmentsSidecarName(labelFileName: string): string {
  const base = labelFileName.replace(/(\.seg)?\.(nii\.gz|nii|nrrd|nhdr|mha|mhd)$/i, '');
  return `${base}.segments.json`;
}

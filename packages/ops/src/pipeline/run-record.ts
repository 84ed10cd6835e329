/**
 * The run record: a JSON file written next to every model (`<name>.run.json`) that says how the
 * model was made, from what, and how accurate it is, so a result can be reproduced and audited.
 * The schema is documented in docs/run-record.md.
 *
 * It holds NO patient identifiers: no names, IDs, birth or study dates, UIDs, institution or
 * free-text DICOM fields, and no input file or folder names (they often carry a patient's name).
 * The input is identified by SHA-256 hashes of its bytes instead. Every field is built here from
 * numbers, fixed vocabularies and our own messages; nothing is copied from file headers except
 * the modality code.
 */
import { type Grid, isLeftHanded, orientationCode, S2SError, type Volume, voxelTypeOf } from '@slice2solid/core';

export const RUN_RECORD_SCHEMA = 'slice2solid/run-record';
export const RUN_RECORD_VERSION = 1;

/** Warning added whenever a skin / body surface is made: a face can be recognised from it. */
export const HEAD_SKIN_WARNING =
  'a skin surface of a head is itself identifying: the face can be reconstructed and recognised from it; treat this model as patient data (or remove the face) before sharing it';

/** One step of the pipeline, with the options it ran with and what it produced. */
export interface StepRecord {
  /** e.g. 'load', 'segment', 'surface', 'smooth', 'decimate', 'clean', 'color', 'accuracy', 'export'. */
  readonly step: string;
  /** The structure (segment name) the step worked on, when it ran per structure. */
  readonly structure?: string;
  /** The exact options the operation ran with (defaults filled in). */
  readonly options: Readonly<Record<string, unknown>>;
  /** Wall time in seconds. */
  readonly seconds: number;
  /** Small facts about the result (triangle count, voxels, ...). */
  readonly result?: Readonly<Record<string, unknown>>;
}

export interface GeometryRecord {
  readonly size: readonly number[];
  readonly spacingMm: readonly number[];
  /** LPS mm of the centre of voxel (0, 0, 0). */
  readonly originMm: readonly number[];
  /** direction[a] = unit LPS vector of index axis a. */
  readonly direction: readonly (readonly number[])[];
  /** e.g. 'LPS', 'RAS'. */
  readonly orientation: string;
  readonly leftHanded: boolean;
}

export interface InputRecord {
  /** 'dicom', 'nifti', 'nrrd', 'metaimage', 'image-stack', 'labels', 'phantom', ... */
  readonly kind: string;
  /** Number of files read. */
  readonly files: number;
  /** Total bytes read. */
  readonly bytes: number;
  /**
   * SHA-256 (hex) identifying the input: for one file, the hash of its bytes; for several, the
   * hash of their per-file hex digests in read order joined with '\n'.
   */
  readonly sha256: string;
  /** Per-file SHA-256 in read order (absent for one file). */
  readonly fileSha256?: readonly string[];
  readonly geometry: GeometryRecord;
  readonly voxelType?: string;
  readonly units?: string;
  /** DICOM modality code (CT, MR, ...) when known; the only value taken from a header. */
  readonly modality?: string;
}

export interface OutputRecord {
  /** File name only (no folder). */
  readonly file: string;
  readonly format: string;
  readonly bytes: number;
  readonly sha256: string;
}

export interface RunRecord {
  readonly schema: typeof RUN_RECORD_SCHEMA;
  readonly schemaVersion: typeof RUN_RECORD_VERSION;
  readonly tool: { readonly name: string; readonly version: string };
  /** The command that made it ('convert', 'mesh', 'demo', ...). */
  readonly command: string;
  /** When the run happened (ISO 8601, UTC). Never a study or acquisition date. */
  readonly runAt: string;
  readonly seconds: number;
  readonly input: InputRecord;
  readonly steps: readonly StepRecord[];
  readonly outputs: readonly OutputRecord[];
  /** Model metrics: totals and one entry per structure (see BuildModelResult.metrics). */
  readonly metrics: unknown;
  /** Accuracy per structure (see BuildModelResult.accuracy). */
  readonly accuracy: unknown;
  readonly warnings: readonly string[];
  readonly privacy: string;
}

/** SHA-256 of bytes as lower-case hex (Web Crypto: works in Node 20+ and browsers). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    throw new S2SError('NOT_IMPLEMENTED', 'this JavaScript runtime has no Web Crypto (crypto.subtle) for SHA-256', {
      hint: 'use Node 20+ or a current browser (in a browser, a secure https:// page)',
    });
  }
  // digest() wants an ArrayBuffer-backed view; copy only if it is backed by a SharedArrayBuffer
  const view = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
  const d = new Uint8Array(await subtle.digest('SHA-256', view));
  let hex = '';
  for (let n = 0; n < d.length; n++) hex += d[n]!.toString(16).padStart(2, '0');
  return hex;
}

/** Hashes of a set of input files (see InputRecord.sha256). */
export async function hashInputFiles(
  files: readonly { readonly bytes: Uint8Array }[],
): Promise<{ sha256: string; fileSha256?: string[]; bytes: number }> {
  let bytes = 0;
  const each: string[] = [];
  for (const f of files) {
    bytes += f.bytes.length;
    each.push(await sha256Hex(f.bytes));
  }
  if (each.length === 1) return { sha256: each[0]!, bytes };
  return { sha256: await sha256Hex(new TextEncoder().encode(each.join('\n'))), fileSha256: each, bytes };
}

const round = (x: number, digits = 6) => Number(x.toFixed(digits));

export function geometryRecord(grid: Grid): GeometryRecord {
  return {
    size: [...grid.size],
    spacingMm: grid.spacing.map((s) => round(s)),
    originMm: grid.origin.map((s) => round(s)),
    direction: grid.direction.map((d) => d.map((x) => round(x, 8))),
    orientation: orientationCode(grid),
    leftHanded: isLeftHanded(grid),
  };
}

/** The input record of a loaded volume or label map. Only the modality is taken from `meta`. */
export function inputRecord(init: {
  kind: string;
  grid: Grid;
  hashes: { sha256: string; fileSha256?: readonly string[]; bytes: number };
  files: number;
  volume?: Volume;
}): InputRecord {
  const modality = init.volume?.meta?.modality;
  return {
    kind: init.kind,
    files: init.files,
    bytes: init.hashes.bytes,
    sha256: init.hashes.sha256,
    ...(init.hashes.fileSha256 ? { fileSha256: [...init.hashes.fileSha256] } : {}),
    geometry: geometryRecord(init.grid),
    ...(init.volume ? { voxelType: voxelTypeOf(init.volume.data), units: String(init.volume.units) } : {}),
    ...(typeof modality === 'string' && /^[A-Z]{2,4}$/.test(modality) ? { modality } : {}),
  };
}

export const RUN_RECORD_PRIVACY =
  'no patient identifiers: no names, IDs, dates other than the run time, UIDs or file names of the input; the input is identified by SHA-256 hashes only';

/** Assembles a run record. `outputs` file names are reduced to their last path component. */
export function makeRunRecord(init: {
  tool: { name: string; version: string };
  command: string;
  runAt?: Date;
  seconds: number;
  input: InputRecord;
  steps: readonly StepRecord[];
  outputs: readonly OutputRecord[];
  metrics: unknown;
  accuracy: unknown;
  warnings: readonly string[];
}): RunRecord {
  return {
    schema: RUN_RECORD_SCHEMA,
    schemaVersion: RUN_RECORD_VERSION,
    tool: { name: init.tool.name, version: init.tool.version },
    command: init.command,
    runAt: (init.runAt ?? new Date()).toISOString(),
    seconds: round(init.seconds, 3),
    input: init.input,
    steps: init.steps,
    outputs: init.outputs.map((o) => ({ ...o, file: o.file.replace(/^.*[\\/]/, '') })),
    metrics: init.metrics,
    accuracy: init.accuracy,
    warnings: [...init.warnings],
    privacy: RUN_RECORD_PRIVACY,
  };
}

/** The record as pretty JSON (NaN and infinities become null, as JSON requires). */
export function runRecordJson(record: RunRecord): string {
  return `${JSON.stringify(record, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}

/** `<name>.run.json` for a model file name: the name without its (mesh) extension. */
export function runRecordName(modelFileName: string): string {
  const base = modelFileName.replace(/^.*[\\/]/, '');
  const stem = base.replace(/\.(stl|obj|ply|glb|gltf|3mf)$/i, '');
  return `${stem}.run.json`;
}

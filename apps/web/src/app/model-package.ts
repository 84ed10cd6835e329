/**
 * AI model packages in the page (no DOM): the files the user chose (the model card `model.json`
 * and the `.onnx` it names) checked into a package, and the model's output labels merged into the
 * page's structures. Nothing is downloaded: the files come from the user's disk.
 */
import { type ModelCard, parseModelCard, resolveStructures, segmentsFromCard } from '@slice2solid/ai';
import { S2SError, type Segment } from '@slice2solid/core';

export interface ChosenFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface ModelPackage {
  readonly card: ModelCard;
  readonly onnx: Uint8Array;
  readonly cardFile: string;
  readonly onnxFile: string;
  /** Whether the .onnx was checked against the card's sha256. */
  readonly verified: boolean;
}

const baseName = (name: string) => name.split(/[\\/]/).pop() ?? name;

/** Lower-case hex SHA-256 with WebCrypto (undefined where the page has none, e.g. not a secure context). */
export async function sha256Hex(bytes: Uint8Array): Promise<string | undefined> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return undefined;
  const d = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return [...d].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The package in the chosen files: exactly one card (.json), validated with `parseModelCard`, and
 * the ONNX file it names (by file name), checked against the card's sha256 when it has one.
 * Every problem is an S2SError with a message that says what to choose instead.
 */
export async function readModelPackage(
  files: readonly ChosenFile[],
  digest: (bytes: Uint8Array) => Promise<string | undefined> = sha256Hex,
): Promise<ModelPackage> {
  const hint = 'choose the model card (model.json) and the .onnx file it names, together';
  if (files.length === 0) throw new S2SError('INVALID_ARGUMENT', 'no model files were chosen', { hint });
  const cards = files.filter((f) => /\.json$/i.test(f.name));
  if (cards.length === 0) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `no model card among the chosen files (${files.map((f) => baseName(f.name)).join(', ')})`,
      { hint },
    );
  }
  if (cards.length > 1) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `more than one .json file was chosen (${cards.map((f) => baseName(f.name)).join(', ')}): open one model at a time`,
      { hint },
    );
  }
  const cardFile = cards[0]!;
  const card = parseModelCard(cardFile.bytes, baseName(cardFile.name));
  if (card.input.channels.length !== 1) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the model "${card.name}" needs ${card.input.channels.length} input images (${card.input.channels.map((c) => c.name).join(', ')}); the web app gives it one scan`,
      { hint: 'use a single-input model, or the command-line tool for multi-channel models' },
    );
  }
  const big = card.output.labels.find((l) => l.value > 255);
  if (big) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the model's label "${big.name}" has value ${big.value}; the web app holds label values 1..255`,
      { hint: 'renumber the labels in the model card (output.labels[].value)' },
    );
  }
  const wanted = baseName(card.file);
  const onnxFile = files.find((f) => baseName(f.name) === wanted);
  if (!onnxFile) {
    const others = files.filter((f) => /\.onnx$/i.test(f.name)).map((f) => baseName(f.name));
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the model card names the file "${wanted}", which is not among the chosen files${others.length ? ` (chosen: ${others.join(', ')})` : ''}`,
      { hint: `choose ${wanted} together with ${baseName(cardFile.name)}` },
    );
  }
  if (onnxFile.bytes.length === 0) {
    throw new S2SError('MALFORMED_FILE', `${wanted} is empty`, { hint: 'choose the complete .onnx file' });
  }
  let verified = false;
  if (card.sha256) {
    const got = await digest(onnxFile.bytes);
    if (got !== undefined) {
      if (got !== card.sha256.toLowerCase()) {
        throw new S2SError(
          'MALFORMED_FILE',
          `${wanted} does not match the SHA-256 in the model card (the file is damaged, incomplete or belongs to another model)`,
          { hint: 'choose the .onnx file that came with this model card' },
        );
      }
      verified = true;
    }
  }
  return { card, onnx: onnxFile.bytes, cardFile: baseName(cardFile.name), onnxFile: wanted, verified };
}

/** A note when the scan does not look like what the model was trained on (undefined when it does). */
export function modalityNote(card: ModelCard, scanIsHounsfield: boolean): string | undefined {
  const m = card.input.channels[0]?.modality.toUpperCase();
  if (m === 'CT' && !scanIsHounsfield) {
    return `the model "${card.name}" expects a CT in Hounsfield units, but this image's values are not HU; its output may be meaningless`;
  }
  if (m !== undefined && m !== 'CT' && scanIsHounsfield) {
    return `the model "${card.name}" expects ${m} images, but this looks like a CT (Hounsfield units); its output may be meaningless`;
  }
  return undefined;
}

/** The card's structures (label value > 0), optionally only those named. */
export function modelStructures(card: ModelCard, names?: readonly string[]): Segment[] {
  const kept = new Set(resolveStructures(card, names).map((l) => l.value));
  return segmentsFromCard(card).filter((s) => kept.has(s.value));
}

/** Where one model label goes in the page: into a structure of the same name, or a new one. */
export interface StructurePlan {
  readonly modelValue: number;
  readonly pageValue: number;
  readonly segment: Segment;
  /** A page structure of this name already existed (its voxels are replaced). */
  readonly existing: boolean;
}

/**
 * Page structure values for the model's labels: a structure with the same name (case-insensitive)
 * is reused (running the model again replaces its result), the others get free values 1..255.
 */
export function planModelStructures(
  pageSegments: readonly Segment[],
  modelSegments: readonly Segment[],
): StructurePlan[] {
  const used = new Set(pageSegments.map((s) => s.value));
  const byName = new Map(pageSegments.map((s) => [s.name.trim().toLowerCase(), s]));
  const plan: StructurePlan[] = [];
  let next = 1;
  for (const m of modelSegments) {
    const same = byName.get(m.name.trim().toLowerCase());
    if (same) {
      plan.push({ modelValue: m.value, pageValue: same.value, segment: { ...m, value: same.value }, existing: true });
      continue;
    }
    while (used.has(next)) next++;
    if (next > 255) {
      throw new S2SError('INVALID_ARGUMENT', `no room for the model's structure "${m.name}": at most 255 structures`, {
        hint: 'run the model on fewer structures',
      });
    }
    used.add(next);
    plan.push({ modelValue: m.value, pageValue: next, segment: { ...m, value: next }, existing: false });
  }
  return plan;
}

/**
 * A NEW label array: the planned page structures become exactly the model's labels (their old
 * voxels are cleared first); voxels of every other structure are kept (the model never overwrites
 * a structure it does not output). Returns the array and the voxel count per page value.
 */
export function mergeModelLabels(
  labels: Uint8Array,
  model: ArrayLike<number>,
  plan: readonly StructurePlan[],
): { labels: Uint8Array; voxels: Map<number, number> } {
  if (model.length !== labels.length) {
    throw new S2SError('INVALID_ARGUMENT', `the model's labels have ${model.length} voxels, the scan ${labels.length}`);
  }
  const map = new Uint16Array(65536);
  const replaced = new Uint8Array(256);
  for (const p of plan) {
    map[p.modelValue] = p.pageValue;
    replaced[p.pageValue] = 1;
  }
  const out = new Uint8Array(labels.length);
  const counts = new Float64Array(256);
  for (let q = 0; q < labels.length; q++) {
    const l = labels[q]!;
    const base = replaced[l] ? 0 : l;
    const m = map[model[q]!]!;
    const v = m !== 0 && base === 0 ? m : base;
    out[q] = v;
    counts[v]!++;
  }
  const voxels = new Map<number, number>();
  for (const p of plan) voxels.set(p.pageValue, counts[p.pageValue]!);
  return { labels: out, voxels };
}

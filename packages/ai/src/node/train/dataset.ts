/// <reference types="node" />
/**
 * Training datasets on disk: discovery of (scan, labels) pairs and loading of one pair.
 *
 * Layouts recognised by `discoverDataset` (first match wins):
 *  - a CSV file with columns `image`, `labels` and optional `patient`, `id` (paths relative to
 *    the CSV; an image may be a DICOM folder);
 *  - nnU-Net raw layout: `imagesTr/<case>_0000.nii.gz` + `labelsTr/<case>.nii.gz`;
 *  - file pairs in one folder: `<id>_image.*` / `<id>_labels.*` (also `_img`, and `_label`, `_seg`);
 *  - one subfolder per case: `<id>/image.*` (or an `image/` DICOM folder) + `<id>/labels.*`.
 * Without a CSV `patient` column, each case is its own patient.
 *
 * Images are read with @slice2solid/io (NIfTI, NRRD, MetaImage) or @slice2solid/dicom (a folder
 * of DICOM files); labels as NIfTI (with a `<name>.segments.json` sidecar when present), NRRD /
 * Slicer .seg.nrrd, DICOM SEG, or any integer-valued volume file.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { type LabelMap, S2SError, type Volume } from '@slice2solid/core';
import {
  companionFileNames,
  dicomSegToLabelMap,
  labelMapFromVolume,
  readDicomSeg,
  readNiftiLabels,
  readNrrdLabels,
  readVolume,
  segmentsSidecarName,
} from '@slice2solid/io';

export interface DatasetCaseRef {
  readonly id: string;
  readonly patient: string;
  /** Absolute path of the image (a file, or a folder of DICOM files). */
  readonly image: string;
  /** Absolute path of the label file. */
  readonly labels: string;
  /** A split fixed by the dataset (CSV column `split`: train, val or test); see `splitCases`. */
  readonly split?: 'train' | 'val' | 'test';
}

export interface DatasetCase {
  readonly id: string;
  readonly patient: string;
  readonly image: Volume;
  readonly labels: LabelMap;
}

/** File name endings of volume files, longest first. */
export const DATASET_EXTENSIONS = ['.seg.nrrd', '.nii.gz', '.nii', '.nrrd', '.nhdr', '.mha', '.mhd', '.dcm'] as const;

const IMAGE_SUFFIXES = ['image', 'img'] as const;
const LABEL_SUFFIXES = ['labels', 'label', 'seg'] as const;

function volumeExt(name: string): string | undefined {
  const lower = name.toLowerCase();
  return DATASET_EXTENSIONS.find((e) => lower.endsWith(e));
}

function stem(name: string): string {
  const e = volumeExt(name);
  return e ? name.slice(0, name.length - e.length) : name;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function visible(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .sort();
}

const LAYOUT_HINT =
  'use a CSV with columns image,labels[,patient,id], nnU-Net imagesTr/ + labelsTr/, <id>_image.nii.gz + <id>_labels.nii.gz pairs, or <id>/image.* + <id>/labels.* subfolders (see docs/training.md)';

/**
 * Finds the (image, labels) pairs of a dataset: a folder in one of the layouts above, or a CSV
 * file. Cases are sorted by id. Throws S2SError on an unpaired file, a missing file, duplicate
 * ids, or an empty dataset.
 */
export async function discoverDataset(folderOrCsv: string): Promise<DatasetCaseRef[]> {
  const root = resolve(folderOrCsv);
  if (!existsSync(root)) {
    throw new S2SError('IO_ERROR', `the dataset "${folderOrCsv}" does not exist`, {
      hint: 'give a dataset folder or a CSV file',
    });
  }
  let refs: DatasetCaseRef[];
  const base = isDir(root) ? root : dirname(root);
  if (!isDir(root)) {
    if (!root.toLowerCase().endsWith('.csv')) {
      throw new S2SError('INVALID_ARGUMENT', `the dataset "${folderOrCsv}" is a file but not a .csv`, {
        hint: LAYOUT_HINT,
      });
    }
    refs = fromCsv(root);
  } else if (isDir(join(root, 'imagesTr')) && isDir(join(root, 'labelsTr'))) {
    refs = fromNnunet(root);
  } else {
    const csvs = visible(root).filter((n) => /^(dataset|cases)\.csv$/i.test(n));
    if (csvs.length === 1) refs = fromCsv(join(root, csvs[0]!));
    else refs = fromFolder(root);
  }
  if (refs.length === 0) {
    throw new S2SError('INVALID_ARGUMENT', `the dataset "${folderOrCsv}" holds no (image, labels) pairs`, {
      hint: LAYOUT_HINT,
    });
  }
  const seen = new Set<string>();
  for (const r of refs) {
    if (seen.has(r.id)) {
      throw new S2SError('INVALID_ARGUMENT', `the dataset names case "${r.id}" twice`, {
        hint: 'give every case a unique id',
      });
    }
    seen.add(r.id);
    for (const [what, p] of [
      ['image', r.image],
      ['labels', r.labels],
    ] as const) {
      if (!existsSync(p)) {
        throw new S2SError('IO_ERROR', `case "${r.id}": the ${what} "${relative(base, p) || p}" does not exist`, {
          hint: 'fix the path (CSV paths are relative to the CSV file)',
        });
      }
    }
  }
  return refs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Splits CSV text into rows of fields (RFC 4180 quoting; comma or semicolon separated). */
export function parseCsv(text: string): string[][] {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const sep = !firstLine.includes(',') && firstLine.includes(';') ? ';' : ',';
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let p = 0; p < text.length; p++) {
    const ch = text[p]!;
    if (quoted) {
      if (ch === '"') {
        if (text[p + 1] === '"') {
          field += '"';
          p++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[p + 1] === '\n') p++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ''));
}

function fromCsv(csv: string): DatasetCaseRef[] {
  const rows = parseCsv(readFileSync(csv, 'utf8').replace(/^\uFEFF/, ''));
  const name = basename(csv);
  if (rows.length === 0) {
    throw new S2SError('INVALID_ARGUMENT', `${name} is empty`, {
      hint: 'add a header line image,labels and one row per case',
    });
  }
  const header = rows[0]!.map((h) => h.trim().toLowerCase());
  const col = (n: string) => header.indexOf(n);
  const ci = col('image');
  const cl = col('labels') >= 0 ? col('labels') : col('label');
  if (ci < 0 || cl < 0) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `${name} needs the columns "image" and "labels", found: ${header.join(', ')}`,
      {
        hint: 'first line: image,labels[,patient,id,split]',
      },
    );
  }
  const cp = col('patient');
  const cid = col('id');
  const cs = col('split');
  const dir = dirname(csv);
  return rows.slice(1).map((r, n) => {
    const line = n + 2;
    const image = r[ci]?.trim() ?? '';
    const labels = r[cl]?.trim() ?? '';
    if (!image || !labels) {
      throw new S2SError('INVALID_ARGUMENT', `${name} line ${line} has no ${image ? 'labels' : 'image'} path`, {
        hint: 'every row needs an image and a labels path',
      });
    }
    const id = (cid >= 0 ? r[cid]?.trim() : '') || stem(basename(image)).replace(/_(image|img)$/i, '');
    const patient = (cp >= 0 ? r[cp]?.trim() : '') || id;
    const ref = { id, patient, image: resolve(dir, image), labels: resolve(dir, labels) };
    const split = cs >= 0 ? (r[cs]?.trim().toLowerCase() ?? '') : '';
    if (split === '') return ref;
    const fixed = split === 'validation' ? 'val' : split;
    if (fixed !== 'train' && fixed !== 'val' && fixed !== 'test') {
      throw new S2SError('INVALID_ARGUMENT', `${name} line ${line}: split "${r[cs]}" is not train, val or test`, {
        hint: 'leave the split column empty to let slice2solid split by patient',
      });
    }
    return { ...ref, split: fixed as 'train' | 'val' | 'test' };
  });
}

function fromNnunet(root: string): DatasetCaseRef[] {
  const images = new Map<string, string>();
  const extraChannels: string[] = [];
  for (const n of visible(join(root, 'imagesTr'))) {
    if (!volumeExt(n)) continue;
    const m = /^(.*)_(\d{4})$/.exec(stem(n));
    if (!m) {
      throw new S2SError('INVALID_ARGUMENT', `imagesTr/${n} does not end in a channel number like _0000`, {
        hint: 'nnU-Net names images <case>_0000.nii.gz and labels <case>.nii.gz',
      });
    }
    if (m[2] === '0000') images.set(m[1]!, join(root, 'imagesTr', n));
    else extraChannels.push(n);
  }
  if (extraChannels.length > 0) {
    throw new S2SError(
      'NOT_IMPLEMENTED',
      `imagesTr holds more than one channel per case (e.g. ${extraChannels[0]}); training takes one channel`,
      { hint: 'keep only the _0000 images, or train on one modality' },
    );
  }
  const labels = new Map<string, string>();
  for (const n of visible(join(root, 'labelsTr'))) if (volumeExt(n)) labels.set(stem(n), join(root, 'labelsTr', n));
  return pairUp(images, labels, 'imagesTr/<case>_0000', 'labelsTr/<case>');
}

function pairUp(
  images: Map<string, string>,
  labels: Map<string, string>,
  imageName: string,
  labelName: string,
): DatasetCaseRef[] {
  for (const id of images.keys()) {
    if (!labels.has(id)) {
      throw new S2SError('INVALID_ARGUMENT', `case "${id}" has an image but no labels (${labelName} is missing)`, {
        hint: 'add its label file or remove the image from the dataset',
      });
    }
  }
  for (const id of labels.keys()) {
    if (!images.has(id)) {
      throw new S2SError('INVALID_ARGUMENT', `case "${id}" has labels but no image (${imageName} is missing)`, {
        hint: 'add its image or remove the label file from the dataset',
      });
    }
  }
  return [...images].map(([id, image]) => ({ id, patient: id, image, labels: labels.get(id)! }));
}

function suffixOf(s: string, suffixes: readonly string[]): string | undefined {
  const m = /^(.+)[_-]([A-Za-z]+)$/.exec(s);
  if (!m || !suffixes.includes(m[2]!.toLowerCase())) return undefined;
  return m[1];
}

function fromFolder(root: string): DatasetCaseRef[] {
  const names = visible(root);
  // 1) <id>_image.* + <id>_labels.* in the folder itself
  const images = new Map<string, string>();
  const labels = new Map<string, string>();
  for (const n of names) {
    const full = join(root, n);
    const isVol = volumeExt(n) !== undefined;
    const s = isVol ? stem(n) : n;
    const imgId = suffixOf(s, IMAGE_SUFFIXES);
    const lblId = suffixOf(s, LABEL_SUFFIXES);
    if (imgId !== undefined && (isVol || isDir(full))) images.set(imgId, full);
    else if (lblId !== undefined && isVol) labels.set(lblId, full);
  }
  if (images.size > 0 || labels.size > 0) return pairUp(images, labels, '<id>_image.*', '<id>_labels.*');
  // 2) <id>/image.* + <id>/labels.*
  const refs: DatasetCaseRef[] = [];
  for (const n of names) {
    const dir = join(root, n);
    if (!isDir(dir)) continue;
    const inside = visible(dir);
    const find = (kinds: readonly string[], allowDir: boolean) =>
      inside.filter((f) => {
        const isVol = volumeExt(f) !== undefined;
        const s = (isVol ? stem(f) : f).toLowerCase();
        return kinds.includes(s) && (isVol || (allowDir && isDir(join(dir, f))));
      });
    const img = find(IMAGE_SUFFIXES, true);
    const lbl = find(LABEL_SUFFIXES, false);
    if (img.length === 0 && lbl.length === 0) continue;
    if (img.length !== 1 || lbl.length !== 1) {
      const what = img.length === 0 ? 'no image' : lbl.length === 0 ? 'no labels' : 'more than one image or labels';
      throw new S2SError(
        'INVALID_ARGUMENT',
        `case folder "${n}" has ${what} (found: ${inside.join(', ') || 'nothing'})`,
        {
          hint: 'each case folder needs exactly one image.* (or image/ DICOM folder) and one labels.*',
        },
      );
    }
    refs.push({ id: n, patient: n, image: join(dir, img[0]!), labels: join(dir, lbl[0]!) });
  }
  return refs;
}

function bytesOf(p: string): Uint8Array {
  const b = readFileSync(p);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** Reads an image: a volume file (with its companion data files) or a folder of DICOM files. */
export async function readDatasetImage(path: string): Promise<Volume> {
  if (isDir(path)) {
    const files: { name: string; bytes: Uint8Array }[] = [];
    const walk = (d: string) => {
      for (const n of visible(d)) {
        const full = join(d, n);
        if (isDir(full)) walk(full);
        else if (!/\.(txt|json|md|csv|xml|html?)$/i.test(n) && n.toUpperCase() !== 'DICOMDIR')
          files.push({ name: relative(path, full), bytes: bytesOf(full) });
      }
    };
    walk(path);
    const { loadDicomSeries } = await import('@slice2solid/dicom');
    return (await loadDicomSeries(files)).volume;
  }
  const name = basename(path);
  const bytes = bytesOf(path);
  if (bytes.length > 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d) {
    const { loadDicomSeries } = await import('@slice2solid/dicom');
    return (await loadDicomSeries([{ name, bytes }])).volume;
  }
  const companions = companionFileNames(name, bytes).map((c) => ({
    name: c,
    bytes: bytesOf(resolve(dirname(path), c)),
  }));
  return readVolume([{ name, bytes }, ...companions]);
}

/** Reads a label map: DICOM SEG, NRRD / .seg.nrrd, NIfTI (+ sidecar) or another integer volume file. */
export async function readDatasetLabels(path: string): Promise<LabelMap> {
  const name = basename(path);
  const bytes = bytesOf(path);
  const sidecar = join(dirname(path), segmentsSidecarName(name));
  const segmentsJson = existsSync(sidecar) ? readFileSync(sidecar, 'utf8') : undefined;
  const side = segmentsJson === undefined ? {} : { segmentsJson };
  if (bytes.length > 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d) {
    return dicomSegToLabelMap(readDicomSeg(bytes, { name }));
  }
  if (bytes[0] === 0x4e && bytes[1] === 0x52 && bytes[2] === 0x52 && bytes[3] === 0x44) {
    return readNrrdLabels(bytes, { ...side, name, readFile: (f) => bytesOf(resolve(dirname(path), f)) });
  }
  const ext = volumeExt(name);
  if (ext === '.nii' || ext === '.nii.gz') return readNiftiLabels(bytes, { ...side, name });
  return labelMapFromVolume(await readDatasetImage(path));
}

/** Loads one case (image and labels). Errors name the case and the file. */
export async function loadDatasetCase(ref: DatasetCaseRef): Promise<DatasetCase> {
  const load = async <T>(what: 'image' | 'labels', path: string, fn: (p: string) => Promise<T>): Promise<T> => {
    try {
      return await fn(path);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new S2SError(
        e instanceof S2SError && e.code !== 'INVALID_ARGUMENT' ? e.code : 'MALFORMED_FILE',
        `case "${ref.id}": the ${what} ${basename(path)} cannot be read: ${msg}`,
        {
          hint:
            what === 'labels'
              ? 'labels must be an integer label image (NIfTI, NRRD, .seg.nrrd, DICOM SEG)'
              : 'images must be NIfTI, NRRD, MetaImage or a folder of DICOM files',
          cause: e,
        },
      );
    }
  };
  const image = await load('image', ref.image, readDatasetImage);
  const labels = await load('labels', ref.labels, readDatasetLabels);
  return { id: ref.id, patient: ref.patient, image, labels };
}

/**
 * Groups images into series: by SeriesInstanceUID, then split where one UID holds images that
 * cannot share one grid (orientation, size, echo, image type) or, when a series does not form
 * complete volumes, by acquisition number.
 */
import { dot, orientationCode, S2SError } from '@slice2solid/core';
import type { DicomFile } from '../types.js';
import { expandFiles } from './expand.js';
import { analyzeStack, STACK_DEFAULTS, type StackLayout, type StackOptions } from './stack.js';
import type { SeriesSummary, SliceImage } from './types.js';

export interface SeriesGroup {
  readonly summary: SeriesSummary;
  readonly images: readonly SliceImage[];
  /** Sorted layout, or the error that prevented one (the series is listed but cannot be loaded). */
  readonly layout: StackLayout | S2SError;
}

/** |cos| above which two orientations count as the same. */
const SAME_ORIENTATION = 1 - 1e-4;

interface Bucket {
  readonly images: SliceImage[];
  readonly parts: Record<string, string>;
}

export function groupSeries(files: readonly DicomFile[], options: StackOptions = STACK_DEFAULTS): SeriesGroup[] {
  const images = expandFiles(files);
  const byUid = new Map<string, SliceImage[]>();
  for (const im of images) {
    const uid = im.file.seriesInstanceUID ?? `(no series UID) #${im.file.seriesNumber ?? '?'}`;
    const list = byUid.get(uid);
    if (list) list.push(im);
    else byUid.set(uid, [im]);
  }
  const groups: Omit<SeriesGroup, 'summary'>[] = [];
  const meta: { uid: string; split?: string }[] = [];
  for (const [uid, list] of byUid) {
    const buckets = splitBuckets(list);
    const finalBuckets: Bucket[] = [];
    for (const b of buckets) {
      const layout = tryLayout(b.images, options);
      if (layout instanceof S2SError) {
        // incomplete volumes: try one sub-series per acquisition number
        const acq = splitBy(b.images, (im) => (im.acquisition === undefined ? '' : String(im.acquisition)));
        if (acq.size > 1) {
          const parts = [...acq.entries()].map(([a, ims]) => ({ images: ims, parts: { ...b.parts, acquisition: a } }));
          if (parts.every((p) => !(tryLayout(p.images, options) instanceof S2SError))) {
            finalBuckets.push(...parts);
            continue;
          }
        }
      }
      finalBuckets.push(b);
    }
    const differing = differingParts(finalBuckets);
    for (const b of finalBuckets) {
      groups.push({ images: b.images, layout: tryLayout(b.images, options) });
      const split = differing.map((k) => describePart(k, b.parts[k]!)).join(', ');
      meta.push(finalBuckets.length > 1 ? { uid, split } : { uid });
    }
  }
  // stable list order: series number, then first file order
  const order = groups.map((_, i) => i);
  order.sort((a, b) => {
    const fa = groups[a]!.images[0]!;
    const fb = groups[b]!.images[0]!;
    return (fa.file.seriesNumber ?? 1e9) - (fb.file.seriesNumber ?? 1e9) || fa.fileOrder - fb.fileOrder;
  });
  const idCount = new Map<string, number>();
  return order.map((gi, index) => {
    const g = groups[gi]!;
    const m = meta[gi]!;
    const n = (idCount.get(m.uid) ?? 0) + 1;
    idCount.set(m.uid, n);
    const id = m.split === undefined ? m.uid : `${m.uid}#${n}`;
    return { ...g, summary: summarize(index, id, m.uid, g.images, g.layout, m.split) };
  });
}

function tryLayout(images: readonly SliceImage[], options: StackOptions): StackLayout | S2SError {
  try {
    return analyzeStack(images, options);
  } catch (e) {
    if (e instanceof S2SError) return e;
    throw e;
  }
}

function splitBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const l = m.get(k);
    if (l) l.push(it);
    else m.set(k, [it]);
  }
  return m;
}

/** Splits one UID's images by everything that must be equal inside one grid. */
function splitBuckets(list: readonly SliceImage[]): Bucket[] {
  const buckets: Bucket[] = [];
  // distinct orientations seen (row, column, normal) and their labels
  const orientations: { im: SliceImage; label: string }[] = [];
  const orientationOf = (im: SliceImage): string => {
    for (const o of orientations) {
      if (
        dot(o.im.rowDir, im.rowDir) >= SAME_ORIENTATION &&
        dot(o.im.colDir, im.colDir) >= SAME_ORIENTATION &&
        dot(o.im.normal, im.normal) >= SAME_ORIENTATION
      ) {
        return o.label;
      }
    }
    const plane = orientationLabel(im);
    const n = orientations.filter((o) => o.label.startsWith(plane)).length;
    const label = n === 0 ? plane : `${plane} (${n + 1})`;
    orientations.push({ im, label });
    return label;
  };
  for (const im of list) {
    const parts: Record<string, string> = {
      orientation: orientationOf(im),
      size: `${im.columns}x${im.rows}`,
      samples: String(im.samples),
      echo: im.echo === undefined ? '' : String(im.echo),
      imageType: normalizeImageType(im.imageType),
    };
    const found = buckets.find((b) => Object.keys(parts).every((k) => b.parts[k] === parts[k]));
    if (found) found.images.push(im);
    else buckets.push({ images: [im], parts });
  }
  return buckets;
}

/**
 * The part of ImageType that separates different images: value 1-2 (ORIGINAL/DERIVED,
 * PRIMARY/SECONDARY) and the well-known kind keywords. Vendor extras that legitimately vary
 * inside one volume (GE 'ADD' on some slices of a CT, 'ND'/'NORM' filters...) are ignored.
 */
const IMAGE_KINDS = new Set([
  'LOCALIZER',
  'SCOUT',
  'SURVEY',
  'M',
  'P',
  'R',
  'I',
  'MAGNITUDE',
  'PHASE',
  'REAL',
  'IMAGINARY',
  'FIELD_MAP',
  'B0_MAP',
  'FIELDMAP',
  'ADC',
  'FA',
  'TRACEW',
  'TRACE',
  'EADC',
  'MIP',
  'MPR',
  'PROJECTION IMAGE',
  'T1 MAP',
  'T2 MAP',
  'MOSAIC',
]);

export function normalizeImageType(t: string | undefined): string {
  const v = (t ?? '')
    .toUpperCase()
    .split('\\')
    .map((x) => x.trim());
  return [...v.slice(0, 2), ...v.slice(2).filter((x) => IMAGE_KINDS.has(x))].join('\\');
}

function orientationLabel(im: SliceImage): string {
  const n = im.normal;
  const a = [Math.abs(n[0]), Math.abs(n[1]), Math.abs(n[2])];
  const plane = a[2]! >= a[0]! && a[2]! >= a[1]! ? 'axial' : a[1]! >= a[0]! ? 'coronal' : 'sagittal';
  return plane;
}

function differingParts(buckets: readonly Bucket[]): string[] {
  if (buckets.length < 2) return [];
  const keys = ['orientation', 'size', 'samples', 'echo', 'imageType', 'acquisition'];
  return keys.filter((k) => new Set(buckets.map((b) => b.parts[k] ?? '')).size > 1);
}

function describePart(k: string, v: string | undefined): string {
  switch (k) {
    case 'orientation':
      return `${v} orientation`;
    case 'size':
      return `size ${v}`;
    case 'samples':
      return `${v} samples per pixel`;
    case 'echo':
      return v ? `echo ${v}` : 'no echo number';
    case 'imageType':
      return `image type ${v || '(none)'}`;
    case 'acquisition':
      return v ? `acquisition ${v}` : 'no acquisition number';
    default:
      return `${k} ${v}`;
  }
}

function summarize(
  index: number,
  id: string,
  uid: string,
  images: readonly SliceImage[],
  layout: StackLayout | S2SError,
  split: string | undefined,
): SeriesSummary {
  const first = images[0]!;
  const f = first.file;
  const files = new Set(images.map((im) => im.file)).size;
  let size: [number, number, number] = [first.columns, first.rows, images.length];
  let frames = 1;
  let orientation = '';
  if (!(layout instanceof S2SError)) {
    size = [layout.columns, layout.rows, layout.positions.length];
    frames = layout.slices.length;
    orientation = orientationCode({
      size,
      spacing: [1, 1, 1],
      origin: [0, 0, 0],
      direction: [layout.rowDir, layout.colDir, layout.normal],
    });
  }
  const s: SeriesSummary = {
    index,
    id,
    uid,
    size,
    frames,
    files,
    images: images.length,
    orientation,
    lossy: images.some((im) => im.file.lossyCompression),
    ...(f.seriesNumber !== undefined ? { number: f.seriesNumber } : {}),
    ...(f.seriesDescription !== undefined ? { description: f.seriesDescription } : {}),
    ...(f.modality !== undefined ? { modality: f.modality } : {}),
    ...(first.imageType !== undefined ? { imageType: first.imageType } : {}),
    ...(split !== undefined ? { split } : {}),
  };
  return s;
}

/**
 * The series found in the files, without loading pixels and without patient identifiers.
 * A series that cannot be assembled is still listed (with its image count as the slice count).
 */
export function listSeries(files: readonly DicomFile[], options: StackOptions = STACK_DEFAULTS): SeriesSummary[] {
  return groupSeries(files, options).map((g) => g.summary);
}

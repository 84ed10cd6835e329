/**
 * DICOM Segmentation objects (SEG, SOP class 1.2.840.10008.5.1.4.1.1.66.4) <-> label maps.
 *
 * Parsing and encoding use dcmjs (DicomMessage / DicomMetaDictionary / DicomDict): we build and
 * read the naturalised dataset ourselves instead of dcmjs's `derivations.Segmentation`, which
 * needs the referenced source images in memory; the geometry is entirely ours.
 *
 * Reading
 * - SegmentationType BINARY (1 bit, bit-packed across frames, LSB first), FRACTIONAL (8 bit:
 *   inside when value >= fractionalThreshold * MaximumFractionalValue) and LABELMAP (8/16 bit,
 *   pixel = segment number). Native (uncompressed, incl. deflated) transfer syntaxes only.
 * - Each frame is placed by its own PlanePositionSequence (ImagePositionPatient), with the
 *   orientation and spacing of the functional groups (per-frame overrides shared). Frames are
 *   matched to slices by position, never by frame order, so any slice order works.
 * - Onto `referenceGrid` (e.g. the CT the SEG was drawn on) when given, after checking that the
 *   orientation, in-plane spacing and every frame position fit that grid (within
 *   `toleranceVoxels`); otherwise onto a grid built from the frames: slices sorted along the
 *   normal (k increases with row x column), spacing from the positions.
 * - A label map holds one value per voxel; overlapping segments (SegmentsOverlap YES/UNDEFINED,
 *   e.g. dcmqi's partial_overlaps) are returned as one mask per segment, and `dicomSegToLabelMap`
 *   says what to do where they overlap.
 *
 * Writing (`writeDicomSeg`): a BINARY SEG, Explicit VR Little Endian, one frame per segment per
 * slice that holds any voxel of it, each frame with its PlanePositionSequence, so the geometry is
 * complete even without referenced images. Give `reference` (the source series' UIDs, and per
 * slice k the SOP instance) to link the SEG to its images (ReferencedSeriesSequence,
 * DerivationImageSequence, same Study and Frame of Reference); without it the SEG references
 * no images, gets new Study and Frame of Reference UIDs, and viewers can place it only by its
 * positions.
 */
import {
  type Grid,
  ijkFromLps,
  type LabelMap,
  lpsFromIjk,
  makeGrid,
  makeLabelMap,
  S2SError,
  type Segment,
  type Vec3,
  voxelCount,
} from '@slice2solid/core';
import dcmjs from 'dcmjs';
import { defaultLabelColor } from './label-colors.js';

export const SEG_SOP_CLASS_UID = '1.2.840.10008.5.1.4.1.1.66.4';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const NATIVE_SYNTAXES = new Set(['1.2.840.10008.1.2', EXPLICIT_LE, '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99']);

export interface CodedConcept {
  readonly scheme: string;
  readonly value: string;
  readonly meaning: string;
}

/** A segment as a SEG describes it: the Segment (value = SegmentNumber) plus the SEG-only fields. */
export interface DicomSegSegment extends Segment {
  /** SegmentedPropertyCategoryCodeSequence. */
  readonly category?: CodedConcept;
  readonly description?: string;
  /** MANUAL, SEMIAUTOMATIC or AUTOMATIC. */
  readonly algorithmType?: string;
  readonly algorithmName?: string;
}

export interface DicomSeg {
  readonly grid: Grid;
  readonly segments: readonly DicomSegSegment[];
  /** One mask (1 = inside) per entry of `segments`, on `grid`. */
  readonly masks: readonly Uint8Array[];
  /** True when at least one voxel belongs to two segments. */
  readonly overlapping: boolean;
  readonly segmentationType: 'BINARY' | 'FRACTIONAL' | 'LABELMAP';
  readonly frameOfReferenceUID?: string;
  readonly referencedSeriesInstanceUID?: string;
  /** SOP Instance UIDs of the images the SEG says it was derived from. */
  readonly referencedInstanceUIDs: readonly string[];
  readonly warnings: readonly string[];
}

export interface DicomSegReadOptions {
  /** Map the frames onto this grid (e.g. the grid of the referenced CT). */
  readonly referenceGrid?: Grid;
  /** Largest distance of a frame from a voxel plane / row / column, in voxels. */
  readonly toleranceVoxels?: number;
  /** FRACTIONAL SEG: inside when value >= this fraction of MaximumFractionalValue. */
  readonly fractionalThreshold?: number;
  /** A name for messages (e.g. the file name). */
  readonly name?: string;
}

export const DICOM_SEG_READ_DEFAULTS = { toleranceVoxels: 0.1, fractionalThreshold: 0.5 } as const;

// biome-ignore lint/suspicious/noExplicitAny: naturalised dcmjs datasets are untyped
type Ds = Record<string, any>;

function first(x: unknown): Ds | undefined {
  if (Array.isArray(x)) return x[0] as Ds | undefined;
  return x && typeof x === 'object' ? (x as Ds) : undefined;
}

function nums(x: unknown, n: number): number[] | undefined {
  const a = Array.isArray(x) ? x : x === undefined || x === null ? [] : [x];
  if (a.length < n) return undefined;
  const out = a.slice(0, n).map((v) => Number(v));
  return out.every((v) => Number.isFinite(v)) ? out : undefined;
}

function codeOf(seq: unknown): CodedConcept | undefined {
  const c = first(seq);
  if (!c) return undefined;
  const value = c.CodeValue ?? c.LongCodeValue ?? c.URNCodeValue;
  if (value === undefined) return undefined;
  return { scheme: String(c.CodingSchemeDesignator ?? ''), value: String(value), meaning: String(c.CodeMeaning ?? '') };
}

function malformed(message: string, hint?: string): S2SError {
  return new S2SError('MALFORMED_FILE', message, hint ? { hint } : {});
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** sRGB 0..255 of a DICOM scaled CIELab triplet. */
export function rgbFromDicomLab(lab: readonly number[]): Vec3 {
  const rgb = dcmjs.data.Colors.dicomlab2RGB(lab);
  const c = (v: number | undefined) => Math.max(0, Math.min(255, Math.round((v ?? 0) * 255)));
  return [c(rgb[0]), c(rgb[1]), c(rgb[2])];
}

/** DICOM scaled CIELab (0..65535) of an sRGB 0..255 colour. */
export function dicomLabFromRgb(rgb: readonly number[]): [number, number, number] {
  const lab = dcmjs.data.Colors.rgb2DICOMLAB(rgb.map((v) => v / 255));
  const c = (v: number | undefined) => Math.max(0, Math.min(65535, Math.round(v ?? 0)));
  return [c(lab[0]), c(lab[1]), c(lab[2])];
}

/** Reads a DICOM SEG into per-segment masks on one grid (see the file comment). */
export function readDicomSeg(bytes: Uint8Array, options: DicomSegReadOptions = {}): DicomSeg {
  try {
    return readDicomSegInner(bytes, options);
  } catch (e) {
    if (e instanceof S2SError && options.name) throw e.withFile(options.name);
    throw e;
  }
}

function readDicomSegInner(bytes: Uint8Array, options: DicomSegReadOptions): DicomSeg {
  const tolerance = options.toleranceVoxels ?? DICOM_SEG_READ_DEFAULTS.toleranceVoxels;
  const fractionalThreshold = options.fractionalThreshold ?? DICOM_SEG_READ_DEFAULTS.fractionalThreshold;
  if (bytes.length < 132 || String.fromCharCode(...bytes.subarray(128, 132)) !== 'DICM') {
    throw new S2SError('UNSUPPORTED_FORMAT', 'this is not a DICOM Part 10 file (no "DICM" at byte 128)', {
      hint: 'give a DICOM SEG file (.dcm)',
    });
  }
  let ds: Ds;
  let meta: Ds;
  try {
    const dict = dcmjs.data.DicomMessage.readFile(toArrayBuffer(bytes), { ignoreErrors: false });
    ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict);
    meta = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.meta);
  } catch (e) {
    throw new S2SError('MALFORMED_FILE', `the DICOM file could not be parsed (${(e as Error).message})`, {
      hint: 'the file is damaged or truncated',
      cause: e,
    });
  }
  const sopClass = String(ds.SOPClassUID ?? meta.MediaStorageSOPClassUID ?? '');
  if (sopClass !== SEG_SOP_CLASS_UID) {
    throw new S2SError(
      'UNSUPPORTED_FORMAT',
      `this DICOM file is not a Segmentation (SOP class ${sopClass || 'missing'})`,
      {
        hint: 'load images as an image series; only DICOM SEG objects hold label maps',
      },
    );
  }
  const ts = String(meta.TransferSyntaxUID ?? '');
  if (!NATIVE_SYNTAXES.has(ts)) {
    throw new S2SError(
      'UNSUPPORTED_TRANSFER_SYNTAX',
      `DICOM SEG with compressed transfer syntax ${ts} is not supported`,
      {
        hint: 'decompress it first, e.g. `gdcmconv --raw in.dcm out.dcm` or `dcmdrle` / `dcmdjpeg`',
      },
    );
  }
  const warnings: string[] = [];
  const rows = Number(ds.Rows);
  const cols = Number(ds.Columns);
  const nFrames = Number(ds.NumberOfFrames ?? 1);
  const bits = Number(ds.BitsAllocated);
  const type = String(ds.SegmentationType ?? 'BINARY').toUpperCase();
  if (!(rows > 0 && cols > 0 && nFrames > 0) || ![rows, cols, nFrames].every(Number.isInteger)) {
    throw malformed(`bad Rows/Columns/NumberOfFrames (${ds.Rows}/${ds.Columns}/${ds.NumberOfFrames})`);
  }
  if (type !== 'BINARY' && type !== 'FRACTIONAL' && type !== 'LABELMAP') {
    throw new S2SError('UNSUPPORTED_FORMAT', `SegmentationType "${type}" is not supported`, {
      hint: 'BINARY, FRACTIONAL and LABELMAP are',
    });
  }
  const wantBits = type === 'BINARY' ? [1] : type === 'FRACTIONAL' ? [8] : [8, 16];
  if (!wantBits.includes(bits))
    throw malformed(`a ${type} SEG must have BitsAllocated ${wantBits.join(' or ')}, not ${bits}`);
  // segments
  const segSeq: Ds[] = Array.isArray(ds.SegmentSequence) ? ds.SegmentSequence : [];
  if (segSeq.length === 0) throw malformed('the SEG has no SegmentSequence');
  const segments: DicomSegSegment[] = segSeq.map((s, n) => {
    const number = Number(s.SegmentNumber);
    if (!Number.isInteger(number) || number < 1) throw malformed(`segment ${n + 1} has no valid SegmentNumber`);
    const lab = nums(s.RecommendedDisplayCIELabValue, 3);
    const type = codeOf(s.SegmentedPropertyTypeCodeSequence);
    const category = codeOf(s.SegmentedPropertyCategoryCodeSequence);
    const seg: DicomSegSegment = {
      value: number,
      name: String(s.SegmentLabel ?? `segment ${number}`),
      color: lab ? rgbFromDicomLab(lab) : defaultLabelColor(number),
      ...(type ? { code: type } : {}),
      ...(category ? { category } : {}),
      ...(s.SegmentDescription ? { description: String(s.SegmentDescription) } : {}),
      ...(s.SegmentAlgorithmType ? { algorithmType: String(s.SegmentAlgorithmType) } : {}),
      ...(s.SegmentAlgorithmName ? { algorithmName: String(s.SegmentAlgorithmName) } : {}),
    };
    return seg;
  });
  const segIndex = new Map(segments.map((s, n) => [s.value, n]));
  if (segIndex.size !== segments.length) throw malformed('two segments share a SegmentNumber');
  // functional groups
  const shared = first(ds.SharedFunctionalGroupsSequence) ?? {};
  const perFrame: Ds[] = Array.isArray(ds.PerFrameFunctionalGroupsSequence) ? ds.PerFrameFunctionalGroupsSequence : [];
  if (perFrame.length !== nFrames) {
    throw malformed(
      `the SEG has ${nFrames} frames but ${perFrame.length} PerFrameFunctionalGroupsSequence items`,
      'every frame needs its own position',
    );
  }
  const group = (f: number, seqName: string): Ds | undefined => first(perFrame[f]?.[seqName]) ?? first(shared[seqName]);
  const frames: { pos: Vec3; seg: number | undefined; row: Vec3; col: Vec3; ps: [number, number] }[] = [];
  for (let f = 0; f < nFrames; f++) {
    const iop = nums(group(f, 'PlaneOrientationSequence')?.ImageOrientationPatient, 6);
    const ps = nums(group(f, 'PixelMeasuresSequence')?.PixelSpacing, 2);
    const ipp = nums(group(f, 'PlanePositionSequence')?.ImagePositionPatient, 3);
    if (!iop || !ps || !ipp) {
      throw new S2SError(
        'MISSING_GEOMETRY',
        `frame ${f + 1} has no ${!iop ? 'ImageOrientationPatient' : !ps ? 'PixelSpacing' : 'ImagePositionPatient'}`,
        {
          hint: 'the SEG cannot be placed in space without its plane position, orientation and pixel spacing',
        },
      );
    }
    let seg: number | undefined;
    if (type !== 'LABELMAP') {
      const ref = Number(group(f, 'SegmentIdentificationSequence')?.ReferencedSegmentNumber);
      if (!segIndex.has(ref))
        throw malformed(`frame ${f + 1} refers to segment ${ref}, which the SegmentSequence does not list`);
      seg = ref;
    }
    frames.push({
      pos: ipp as unknown as Vec3,
      seg,
      row: [iop[0]!, iop[1]!, iop[2]!],
      col: [iop[3]!, iop[4]!, iop[5]!],
      // DICOM PixelSpacing is [between rows, between columns]: (i, j) spacing is [1], [0]
      ps: [ps[1]!, ps[0]!],
    });
  }
  const f0 = frames[0]!;
  for (const [f, fr] of frames.entries()) {
    const same = (a: Vec3, b: Vec3) => Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]) < 1e-4;
    if (!same(fr.row, f0.row) || !same(fr.col, f0.col)) {
      throw new S2SError('INCONSISTENT_SERIES', `frame ${f + 1} has another orientation than frame 1`, {
        hint: 'SEG frames in several orientations cannot share one grid',
      });
    }
    if (Math.abs(fr.ps[0] - f0.ps[0]) > 1e-4 || Math.abs(fr.ps[1] - f0.ps[1]) > 1e-4) {
      throw new S2SError('INCONSISTENT_SERIES', `frame ${f + 1} has another pixel spacing than frame 1`);
    }
  }
  const pmShared = first(shared.PixelMeasuresSequence) ?? first(perFrame[0]?.PixelMeasuresSequence) ?? {};
  const sliceStep = Number(pmShared.SpacingBetweenSlices ?? Number.NaN);
  const thickness = Number(pmShared.SliceThickness ?? Number.NaN);
  const grid = options.referenceGrid
    ? checkReferenceGrid(options.referenceGrid, f0.row, f0.col, f0.ps, rows, cols)
    : gridFromFrames(
        frames.map((f) => f.pos),
        f0.row,
        f0.col,
        f0.ps,
        rows,
        cols,
        sliceStep,
        thickness,
        tolerance,
      );
  // slice index of every frame
  const ks = frames.map((fr, f) => {
    const c = ijkFromLps(grid, fr.pos);
    const k = Math.round(c[2]);
    if (Math.abs(c[0]) > tolerance || Math.abs(c[1]) > tolerance || Math.abs(c[2] - k) > tolerance) {
      throw new S2SError(
        'GEOMETRY_MISMATCH',
        `frame ${f + 1} at (${fr.pos.map((x) => x.toFixed(2)).join(', ')}) mm is not on a slice of the ${options.referenceGrid ? 'reference' : "SEG's"} grid (voxel ${c.map((x) => x.toFixed(2)).join(', ')})`,
        {
          hint: options.referenceGrid
            ? 'check that the SEG was made on this image series'
            : 'the SEG frames do not form a regular stack',
        },
      );
    }
    if (k < 0 || k >= grid.size[2]) {
      throw new S2SError(
        'GEOMETRY_MISMATCH',
        `frame ${f + 1} lies outside the reference grid (slice ${k} of 0..${grid.size[2] - 1})`,
        {
          hint: 'check that the SEG was made on this image series',
        },
      );
    }
    return k;
  });
  // pixels
  const pixelParts: ArrayBuffer[] = Array.isArray(ds.PixelData) ? ds.PixelData : ds.PixelData ? [ds.PixelData] : [];
  if (pixelParts.length !== 1) throw new S2SError('NO_PIXEL_DATA', 'the SEG has no (native) PixelData');
  const px = new Uint8Array(pixelParts[0]!);
  const perFramePixels = rows * cols;
  const needBytes =
    type === 'BINARY' ? Math.ceil((perFramePixels * nFrames) / 8) : perFramePixels * nFrames * (bits / 8);
  if (px.length < needBytes) {
    throw new S2SError(
      'TRUNCATED_FILE',
      `PixelData has ${px.length} bytes; ${nFrames} frames of ${cols}x${rows} need ${needBytes}`,
      {
        hint: 'the file is truncated',
      },
    );
  }
  const n = voxelCount(grid);
  const masks = segments.map(() => new Uint8Array(n));
  const sliceSize = grid.size[0] * grid.size[1];
  const maxFrac = Number(ds.MaximumFractionalValue ?? 255) || 255;
  const fracCut = fractionalThreshold * maxFrac;
  const le = String(meta.TransferSyntaxUID) !== '1.2.840.10008.1.2.2';
  const unknownLabels = new Set<number>();
  for (let f = 0; f < nFrames; f++) {
    const base = ks[f]! * sliceSize;
    if (type === 'BINARY') {
      const mask = masks[segIndex.get(frames[f]!.seg!)!]!;
      const bit0 = f * perFramePixels;
      for (let p = 0; p < perFramePixels; p++) {
        const b = bit0 + p;
        if ((px[b >> 3]! >> (b & 7)) & 1) mask[base + p] = 1;
      }
    } else if (type === 'FRACTIONAL') {
      const mask = masks[segIndex.get(frames[f]!.seg!)!]!;
      const off = f * perFramePixels;
      for (let p = 0; p < perFramePixels; p++) if (px[off + p]! >= fracCut && px[off + p]! > 0) mask[base + p] = 1;
    } else {
      const bytesPer = bits / 8;
      const off = f * perFramePixels * bytesPer;
      for (let p = 0; p < perFramePixels; p++) {
        const v =
          bytesPer === 1
            ? px[off + p]!
            : le
              ? px[off + 2 * p]! | (px[off + 2 * p + 1]! << 8)
              : (px[off + 2 * p]! << 8) | px[off + 2 * p + 1]!;
        if (v === 0) continue;
        const idx = segIndex.get(v);
        if (idx === undefined) unknownLabels.add(v);
        else masks[idx]![base + p] = 1;
      }
    }
  }
  if (unknownLabels.size)
    warnings.push(`pixel values ${[...unknownLabels].join(', ')} are not in the SegmentSequence and were ignored`);
  let overlapping = false;
  if (masks.length > 1) {
    const seen = new Uint8Array(n);
    outer: for (const m of masks) {
      for (let p = 0; p < n; p++) {
        if (!m[p]) continue;
        if (seen[p]) {
          overlapping = true;
          break outer;
        }
        seen[p] = 1;
      }
    }
  }
  const refSeries = first(ds.ReferencedSeriesSequence);
  const refInstances: string[] = [];
  for (const r of Array.isArray(refSeries?.ReferencedInstanceSequence) ? refSeries.ReferencedInstanceSequence : []) {
    if (r?.ReferencedSOPInstanceUID) refInstances.push(String(r.ReferencedSOPInstanceUID));
  }
  return {
    grid,
    segments,
    masks,
    overlapping,
    segmentationType: type,
    ...(ds.FrameOfReferenceUID ? { frameOfReferenceUID: String(ds.FrameOfReferenceUID) } : {}),
    ...(refSeries?.SeriesInstanceUID ? { referencedSeriesInstanceUID: String(refSeries.SeriesInstanceUID) } : {}),
    referencedInstanceUIDs: refInstances,
    warnings,
  };
}

function checkReferenceGrid(grid: Grid, row: Vec3, col: Vec3, ps: [number, number], rows: number, cols: number): Grid {
  const dot = (a: readonly number[], b: readonly number[]) => a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
  if (grid.size[0] !== cols || grid.size[1] !== rows) {
    throw new S2SError(
      'GEOMETRY_MISMATCH',
      `the SEG frames are ${cols}x${rows} pixels but the reference grid slices are ${grid.size[0]}x${grid.size[1]}`,
      {
        hint: 'check that the SEG was made on this image series',
      },
    );
  }
  if (dot(grid.direction[0], row) < 1 - 1e-4 || dot(grid.direction[1], col) < 1 - 1e-4) {
    throw new S2SError('GEOMETRY_MISMATCH', 'the SEG rows and columns are not oriented like the reference grid', {
      hint: 'load the reference series without reorienting it, or check that the SEG belongs to it',
    });
  }
  if (Math.abs(grid.spacing[0] - ps[0]) > 1e-3 * ps[0] || Math.abs(grid.spacing[1] - ps[1]) > 1e-3 * ps[1]) {
    throw new S2SError(
      'GEOMETRY_MISMATCH',
      `the SEG pixel spacing ${ps.join(' x ')} mm differs from the reference grid's ${grid.spacing[0]} x ${grid.spacing[1]} mm`,
      {
        hint: 'check that the SEG belongs to this image series',
      },
    );
  }
  return grid;
}

function gridFromFrames(
  positions: Vec3[],
  row: Vec3,
  col: Vec3,
  ps: [number, number],
  rows: number,
  cols: number,
  spacingBetweenSlices: number,
  thickness: number,
  tolerance: number,
): Grid {
  const normal: Vec3 = [
    row[1] * col[2] - row[2] * col[1],
    row[2] * col[0] - row[0] * col[2],
    row[0] * col[1] - row[1] * col[0],
  ];
  const proj = (p: Vec3) => p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2];
  // distinct slice positions along the normal
  const sorted = [...positions].sort((a, b) => proj(a) - proj(b));
  const distinct: Vec3[] = [];
  const eps = 1e-3 * Math.min(ps[0], ps[1]);
  for (const p of sorted) {
    const last = distinct[distinct.length - 1];
    if (!last || Math.abs(proj(p) - proj(last)) > eps) distinct.push(p);
  }
  const p0 = distinct[0]!;
  if (distinct.length === 1) {
    const step = spacingBetweenSlices > 0 ? spacingBetweenSlices : thickness > 0 ? thickness : 1;
    return makeGrid({
      size: [cols, rows, 1],
      spacing: [ps[0], ps[1], step],
      origin: p0,
      direction: [row, col, normal],
    });
  }
  const gaps: number[] = [];
  for (let n = 1; n < distinct.length; n++) gaps.push(proj(distinct[n]!) - proj(distinct[n - 1]!));
  const minGap = Math.min(...gaps);
  const fitsStep = (s: number) => gaps.every((g) => Math.abs(g / s - Math.round(g / s)) <= tolerance);
  const step =
    spacingBetweenSlices > 0 && spacingBetweenSlices <= minGap * (1 + 1e-6) && fitsStep(spacingBetweenSlices)
      ? spacingBetweenSlices
      : minGap;
  if (!fitsStep(step)) {
    throw new S2SError(
      'INCONSISTENT_SERIES',
      `the SEG frames are unevenly spaced (gaps ${gaps.map((g) => g.toFixed(3)).join(', ')} mm)`,
      {
        hint: 'read it onto the grid of its source images (referenceGrid)',
      },
    );
  }
  const pl = distinct[distinct.length - 1]!;
  const steps = Math.round((proj(pl) - proj(p0)) / step);
  const d: Vec3 = [pl[0] - p0[0], pl[1] - p0[1], pl[2] - p0[2]];
  const len = Math.hypot(d[0], d[1], d[2]);
  const grid = makeGrid({
    size: [cols, rows, steps + 1],
    spacing: [ps[0], ps[1], len / steps],
    origin: p0,
    direction: [row, col, [d[0] / len, d[1] / len, d[2] / len]],
  });
  // every distinct position must be on the line p0 + k * step vector (checked per frame later too)
  for (const p of distinct) {
    const c = ijkFromLps(grid, p);
    if (Math.abs(c[0]) > tolerance || Math.abs(c[1]) > tolerance) {
      throw new S2SError(
        'INCONSISTENT_SERIES',
        'the SEG frames are not stacked along one line (their in-plane offsets differ)',
        {
          hint: 'read it onto the grid of its source images (referenceGrid)',
        },
      );
    }
  }
  return grid;
}

export interface DicomSegToLabelMapOptions {
  /** Where segments overlap: 'error' (default), or let the 'first' / 'last' segment in the SEG win. */
  readonly overlap?: 'error' | 'first' | 'last';
}

/** One label map (value = SegmentNumber) from a read SEG. */
export function dicomSegToLabelMap(seg: DicomSeg, options: DicomSegToLabelMapOptions = {}): LabelMap {
  const overlap = options.overlap ?? 'error';
  if (seg.overlapping && overlap === 'error') {
    throw new S2SError('INVALID_ARGUMENT', 'the SEG segments overlap, so they do not fit in one label map', {
      hint: 'choose which segment wins where they overlap (overlap "first" or "last"), or use the per-segment masks',
    });
  }
  const n = voxelCount(seg.grid);
  const maxValue = Math.max(0, ...seg.segments.map((s) => s.value));
  const data = maxValue <= 255 ? new Uint8Array(n) : maxValue <= 65535 ? new Uint16Array(n) : new Int32Array(n);
  seg.segments.forEach((s, idx) => {
    const m = seg.masks[idx]!;
    for (let p = 0; p < n; p++) if (m[p] && (overlap !== 'first' || data[p] === 0)) data[p] = s.value;
  });
  const segments: Segment[] = seg.segments.map((s) => ({
    value: s.value,
    name: s.name,
    color: s.color,
    ...(s.code ? { code: s.code } : {}),
  }));
  return makeLabelMap({ grid: seg.grid, data, segments });
}

// ---------------------------------------------------------------------------------------------
// Writing

/** The source image series a SEG is derived from. */
export interface DicomSegReference {
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID: string;
  readonly frameOfReferenceUID: string;
  /** SOP Class of the source images (default CT Image Storage). */
  readonly sopClassUID?: string;
  /** instances[k] = the SOP Instance UID of the image at slice k of the label grid (optional per slice). */
  readonly instances?: readonly (string | undefined)[];
}

export interface DicomSegWriteOptions {
  readonly reference?: DicomSegReference;
  /** Patient module values to copy from the source images; empty when absent. */
  readonly patient?: {
    readonly name?: string;
    readonly id?: string;
    readonly birthDate?: string;
    readonly sex?: string;
  };
  readonly seriesDescription?: string;
  readonly seriesNumber?: number;
  /** SegmentAlgorithmType for every segment: MANUAL, SEMIAUTOMATIC or AUTOMATIC. */
  readonly algorithmType?: 'MANUAL' | 'SEMIAUTOMATIC' | 'AUTOMATIC';
  readonly algorithmName?: string;
  /** Per label value: the category code (default SCT 91723000 "Anatomical Structure"). */
  readonly categories?: Readonly<Record<number, CodedConcept>>;
  /** Write a frame for every slice of every segment, also empty ones. */
  readonly writeEmptyFrames?: boolean;
  /** UIDs of the new objects; random 2.25 UUID-derived UIDs by default (tests pass fixed ones). */
  readonly uids?: {
    readonly sopInstance?: string;
    readonly series?: string;
    readonly study?: string;
    readonly frameOfReference?: string;
  };
  /** Date/time stamps (YYYYMMDD, HHMMSS); default: now. */
  readonly contentDate?: string;
  readonly contentTime?: string;
}

export const DICOM_SEG_WRITE_DEFAULTS = {
  seriesDescription: 'Segmentation',
  seriesNumber: 300,
  algorithmType: 'SEMIAUTOMATIC',
  algorithmName: 'slice2solid',
  writeEmptyFrames: false,
} as const;

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
const DEFAULT_CATEGORY: CodedConcept = { scheme: 'SCT', value: '91723000', meaning: 'Anatomical Structure' };
const DEFAULT_TYPE: CodedConcept = { scheme: 'SCT', value: '85756007', meaning: 'Tissue' };

/** A new UID under 2.25 (ITU-T X.667: a UUID as a decimal integer). */
export function newUid(): string {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return `2.25.${v.toString()}`;
}

/** A decimal string of at most 16 characters (the DICOM DS limit). */
export function formatDS(x: number): string {
  if (!Number.isFinite(x)) throw new S2SError('INVALID_ARGUMENT', `cannot write ${x} as a DICOM decimal`);
  if (Object.is(x, -0) || Math.abs(x) < 1e-12) return '0';
  for (let p = 16; p >= 1; p--) {
    let s = x.toPrecision(p);
    if (s.includes('e')) s = Number(s).toString();
    if (s.includes('.') && !s.includes('e')) s = s.replace(/0+$/, '').replace(/\.$/, '');
    if (s.length <= 16) return s;
  }
  return x.toExponential(8);
}

function codeItem(c: CodedConcept): Ds {
  return { CodeValue: c.value, CodingSchemeDesignator: c.scheme, CodeMeaning: c.meaning };
}

function now(): { date: string; time: string } {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return {
    date: `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`,
    time: `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`,
  };
}

/** Writes a label map as a BINARY DICOM SEG (see the file comment). */
export function writeDicomSeg(labels: LabelMap, options: DicomSegWriteOptions = {}): Uint8Array {
  const o = { ...DICOM_SEG_WRITE_DEFAULTS, ...options };
  const { grid, data } = labels;
  const [nx, ny, nz] = grid.size;
  const n = voxelCount(grid);
  if (data.length !== n)
    throw new S2SError('INVALID_ARGUMENT', `label data has ${data.length} values but the grid needs ${n}`);
  if (nx > 65535 || ny > 65535) throw new S2SError('INVALID_ARGUMENT', 'DICOM rows and columns are limited to 65535');
  const ref = o.reference;
  if (ref?.instances && ref.instances.length !== nz) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `reference.instances has ${ref.instances.length} entries but the label map has ${nz} slices`,
      {
        hint: 'give one SOP Instance UID per slice k (undefined where unknown)',
      },
    );
  }
  // segments: every table entry and every value present
  const present = new Set<number>();
  for (let p = 0; p < n; p++) if (data[p] !== 0) present.add(data[p]!);
  for (const v of present) {
    if (!Number.isInteger(v) || v < 1 || v > 65535) {
      throw new S2SError('INVALID_ARGUMENT', `label value ${v} cannot be a DICOM SegmentNumber (1..65535)`, {
        hint: 'relabel the structures to 1..65535 first',
      });
    }
  }
  const table = new Map(labels.segments.map((s) => [s.value, s]));
  const values = [...new Set([...present, ...table.keys()])].sort((a, b) => a - b);
  if (values.length === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'the label map is empty and has no segments: nothing to write', {
      hint: 'a SEG needs at least one segment',
    });
  }
  // frames: per segment, per slice with content
  const sliceSize = nx * ny;
  const frames: { value: number; k: number }[] = [];
  const has = new Uint8Array((Math.max(...values) + 1) * nz);
  for (let k = 0; k < nz; k++) {
    const base = k * sliceSize;
    for (let p = 0; p < sliceSize; p++) {
      const v = data[base + p]!;
      if (v !== 0) has[v * nz + k] = 1;
    }
  }
  for (const v of values) {
    for (let k = 0; k < nz; k++) if (o.writeEmptyFrames || has[v * nz + k]) frames.push({ value: v, k });
  }
  if (frames.length === 0) {
    // a SEG needs at least one frame: write one empty frame of the first segment
    frames.push({ value: values[0]!, k: 0 });
  }
  const bitsTotal = frames.length * sliceSize;
  const pixel = new Uint8Array(Math.ceil(bitsTotal / 8) + (Math.ceil(bitsTotal / 8) % 2));
  frames.forEach((f, idx) => {
    const base = f.k * sliceSize;
    const bit0 = idx * sliceSize;
    for (let p = 0; p < sliceSize; p++) {
      if (data[base + p] === f.value) {
        const b = bit0 + p;
        pixel[b >> 3]! |= 1 << (b & 7);
      }
    }
  });
  const uids = {
    sop: o.uids?.sopInstance ?? newUid(),
    series: o.uids?.series ?? newUid(),
    study: ref?.studyInstanceUID ?? o.uids?.study ?? newUid(),
    frameOfReference: ref?.frameOfReferenceUID ?? o.uids?.frameOfReference ?? newUid(),
  };
  const stamp = now();
  const date = o.contentDate ?? stamp.date;
  const time = o.contentTime ?? stamp.time;
  const row = grid.direction[0];
  const col = grid.direction[1];
  const normal = [
    row[1] * col[2] - row[2] * col[1],
    row[2] * col[0] - row[0] * col[2],
    row[0] * col[1] - row[1] * col[0],
  ];
  const dk = grid.direction[2];
  const sliceDistance = Math.abs(grid.spacing[2] * (dk[0] * normal[0]! + dk[1] * normal[1]! + dk[2] * normal[2]!));
  const refSop = ref?.sopClassUID ?? CT_IMAGE_STORAGE;
  const segSeq = values.map((v) => {
    const s = table.get(v);
    const color = s?.color ?? defaultLabelColor(v);
    const item: Ds = {
      SegmentNumber: v,
      SegmentLabel: (s?.name ?? `segment ${v}`).slice(0, 64),
      SegmentAlgorithmType: o.algorithmType,
      SegmentedPropertyCategoryCodeSequence: [codeItem(o.categories?.[v] ?? DEFAULT_CATEGORY)],
      SegmentedPropertyTypeCodeSequence: [codeItem(s?.code ?? DEFAULT_TYPE)],
      RecommendedDisplayCIELabValue: dicomLabFromRgb(color),
    };
    if (o.algorithmType !== 'MANUAL') item.SegmentAlgorithmName = o.algorithmName.slice(0, 64);
    return item;
  });
  const perFrame = frames.map((f) => {
    const pos = lpsFromIjk(grid, [0, 0, f.k]);
    const item: Ds = {
      FrameContentSequence: [{ DimensionIndexValues: [f.value, f.k + 1] }],
      PlanePositionSequence: [{ ImagePositionPatient: pos.map(formatDS) }],
      SegmentIdentificationSequence: [{ ReferencedSegmentNumber: f.value }],
    };
    const inst = ref?.instances?.[f.k];
    if (inst) {
      item.DerivationImageSequence = [
        {
          SourceImageSequence: [
            {
              ReferencedSOPClassUID: refSop,
              ReferencedSOPInstanceUID: inst,
              PurposeOfReferenceCodeSequence: [
                codeItem({ scheme: 'DCM', value: '121322', meaning: 'Source image for image processing operation' }),
              ],
            },
          ],
          DerivationCodeSequence: [codeItem({ scheme: 'DCM', value: '113076', meaning: 'Segmentation' })],
        },
      ];
    }
    return item;
  });
  const dimOrg = newUid();
  const patient = o.patient ?? {};
  const ds: Ds = {
    _vrMap: { PixelData: 'OB' },
    SOPClassUID: SEG_SOP_CLASS_UID,
    SOPInstanceUID: uids.sop,
    ImageType: ['DERIVED', 'PRIMARY'],
    StudyDate: '',
    SeriesDate: date,
    ContentDate: date,
    StudyTime: '',
    SeriesTime: time,
    ContentTime: time,
    AccessionNumber: '',
    Modality: 'SEG',
    Manufacturer: 'slice2solid',
    ReferringPhysicianName: '',
    SeriesDescription: o.seriesDescription.slice(0, 64),
    ManufacturerModelName: 'slice2solid',
    PatientName: patient.name ?? '',
    PatientID: patient.id ?? '',
    PatientBirthDate: patient.birthDate ?? '',
    PatientSex: patient.sex ?? '',
    DeviceSerialNumber: '0',
    SoftwareVersions: '0.1.0',
    StudyInstanceUID: uids.study,
    SeriesInstanceUID: uids.series,
    StudyID: '',
    SeriesNumber: o.seriesNumber,
    InstanceNumber: 1,
    FrameOfReferenceUID: uids.frameOfReference,
    PositionReferenceIndicator: '',
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimOrg }],
    DimensionIndexSequence: [
      {
        DimensionOrganizationUID: dimOrg,
        DimensionIndexPointer: 0x0062000b,
        FunctionalGroupPointer: 0x0062000a,
        DimensionDescriptionLabel: 'ReferencedSegmentNumber',
      },
      {
        DimensionOrganizationUID: dimOrg,
        DimensionIndexPointer: 0x00200032,
        FunctionalGroupPointer: 0x00209113,
        DimensionDescriptionLabel: 'ImagePositionPatient',
      },
    ],
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    NumberOfFrames: frames.length,
    Rows: ny,
    Columns: nx,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    SegmentationType: 'BINARY',
    SegmentsOverlap: 'NO',
    ContentLabel: 'SLICE2SOLID',
    ContentDescription: 'slice2solid segmentation',
    ContentCreatorName: '',
    SegmentSequence: segSeq,
    SharedFunctionalGroupsSequence: [
      {
        PlaneOrientationSequence: [{ ImageOrientationPatient: [...row, ...col].map(formatDS) }],
        PixelMeasuresSequence: [
          {
            // DICOM order: [between rows (j), between columns (i)]
            PixelSpacing: [formatDS(grid.spacing[1]), formatDS(grid.spacing[0])],
            SliceThickness: formatDS(sliceDistance),
            SpacingBetweenSlices: formatDS(sliceDistance),
          },
        ],
      },
    ],
    PerFrameFunctionalGroupsSequence: perFrame,
    PixelData: [pixel.buffer],
  };
  if (ref) {
    // the instances the frames were derived from (slices that hold a frame and have a known UID)
    const inst = frames.map((f) => ref.instances?.[f.k]).filter((u): u is string => !!u);
    ds.ReferencedSeriesSequence = [
      {
        SeriesInstanceUID: ref.seriesInstanceUID,
        ReferencedInstanceSequence: [...new Set(inst)].map((u) => ({
          ReferencedSOPClassUID: refSop,
          ReferencedSOPInstanceUID: u,
        })),
      },
    ];
  }
  const metaDs: Ds = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: SEG_SOP_CLASS_UID,
    MediaStorageSOPInstanceUID: uids.sop,
    TransferSyntaxUID: EXPLICIT_LE,
    ImplementationClassUID: '2.25.129960293924826383735452498316467411017',
    ImplementationVersionName: 'SLICE2SOLID',
  };
  const dict = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(metaDs));
  dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(ds);
  return new Uint8Array(dict.write());
}

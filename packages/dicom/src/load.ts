/**
 * loadDicomSeries: files (bytes or parsed) -> one Volume with correct LPS geometry, plus a report.
 */
import {
  isLeftHanded,
  makeVolume,
  orientationCode,
  type RunOptions,
  S2SError,
  throwIfAborted,
  type Units,
  type Volume,
  valueRange,
  voxelTypeOf,
} from '@slice2solid/core';
import { gunzipSync } from 'fflate';
import { initCodecs } from './decode/codecs.js';
import { parseDicom } from './parse.js';
import { assembleStack } from './series/assemble.js';
import { mosaicSpacingAssumed } from './series/expand.js';
import { groupSeries, type SeriesGroup } from './series/group.js';
import { REGULARIZE_DEFAULTS, regularPlan, resampleStack, stackGrid } from './series/regularize.js';
import { chooseSeries } from './series/select.js';
import { STACK_DEFAULTS, type StackLayout } from './series/stack.js';
import type { LoadReport, LoadWarning, SeriesSummary } from './series/types.js';
import type { DicomFile } from './types.js';

export interface LoadDicomOptions {
  /** Which series: its id or SeriesInstanceUID, its SeriesNumber, or its index in the list. Default: the most likely one. */
  readonly series?: string | number | undefined;
  /**
   * 'regularize' (default): a tilted or unevenly spaced stack is resampled onto an orthogonal grid
   * with equidistant slices. 'raw': the stored pixels are kept, on the sheared grid given by the
   * mean slice step (exact when the spacing is even).
   */
  readonly geometry?: 'regularize' | 'raw';
  /** Largest distance (mm) of a slice from a regular grid that still counts as even spacing. */
  readonly spacingToleranceMm?: number;
  /** Smallest angle (degrees) between slice step and slice normal treated as a tilt. */
  readonly tiltToleranceDeg?: number;
  /** Regularization makes at most this many times the original number of slices. */
  readonly maxSliceFactor?: number;
}

export const LOAD_DICOM_DEFAULTS: Required<Omit<LoadDicomOptions, 'series'>> = {
  geometry: 'regularize',
  spacingToleranceMm: STACK_DEFAULTS.spacingToleranceMm,
  tiltToleranceDeg: STACK_DEFAULTS.tiltToleranceDeg,
  maxSliceFactor: REGULARIZE_DEFAULTS.maxSliceFactor,
};

export interface DicomInputFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface LoadDicomResult {
  readonly volume: Volume;
  readonly report: LoadReport;
  readonly series: SeriesSummary[];
}

function isParsed(f: DicomInputFile | DicomFile): f is DicomFile {
  return typeof (f as DicomFile).decodeFrame === 'function';
}

/** Parses what needs parsing; files that are not DICOM images are skipped and reported. */
export function parseDicomFiles(
  inputs: readonly (DicomInputFile | DicomFile)[],
  options: RunOptions = {},
): { files: DicomFile[]; skipped: { name: string; reason: string }[] } {
  const files: DicomFile[] = [];
  const skipped: { name: string; reason: string }[] = [];
  let n = 0;
  for (const input of inputs) {
    throwIfAborted(options.signal);
    options.onProgress?.({ stage: 'parse', done: n++, total: inputs.length });
    if (isParsed(input)) {
      files.push(input);
      continue;
    }
    let bytes = input.bytes;
    try {
      if (bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
      const f = parseDicom(bytes, { name: input.name });
      if (!(f.rows > 0 && f.columns > 0)) skipped.push({ name: input.name, reason: 'no image pixel data' });
      else files.push(f);
    } catch (e) {
      if (e instanceof S2SError && e.code === 'ABORTED') throw e;
      skipped.push({ name: input.name, reason: e instanceof S2SError ? `${e.code}: ${e.message}` : String(e) });
    }
  }
  options.onProgress?.({ stage: 'parse', done: inputs.length, total: inputs.length });
  return { files, skipped };
}

export async function loadDicomSeries(
  inputs: readonly (DicomInputFile | DicomFile)[],
  options: LoadDicomOptions & RunOptions = {},
): Promise<LoadDicomResult> {
  const o = { ...LOAD_DICOM_DEFAULTS, ...stripUndefined(options) };
  if (o.geometry !== 'regularize' && o.geometry !== 'raw') {
    throw new S2SError('INVALID_ARGUMENT', `geometry must be 'regularize' or 'raw', got "${String(o.geometry)}"`);
  }
  const { files, skipped } = parseDicomFiles(inputs, options);
  if (files.some((f) => needsCodec(f.transferSyntaxUID))) await initCodecs();
  if (files.length === 0) {
    throw new S2SError('NO_SERIES', `none of the ${inputs.length} file(s) is a DICOM image`, {
      hint: skipped[0] ? `first problem: ${skipped[0].name}: ${skipped[0].reason}` : 'give DICOM image files',
    });
  }
  const stackOptions = { spacingToleranceMm: o.spacingToleranceMm, tiltToleranceDeg: o.tiltToleranceDeg };
  const groups = groupSeries(files, stackOptions);
  const choice = chooseSeries(groups, o.series);
  const result = buildVolume(choice.group, choice.reason, groups, skipped, o, options);
  return { ...result, series: groups.map((g) => g.summary) };
}

/** Transfer syntaxes decoded without the WASM codecs (native, deflate, RLE). */
const NATIVE_SYNTAXES = new Set([
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2.2',
  '1.2.840.10008.1.2.1.99',
  '1.2.840.10008.1.2.5',
]);

function needsCodec(ts: string): boolean {
  return !NATIVE_SYNTAXES.has(ts);
}

function stripUndefined<T extends object>(x: T): Partial<T> {
  return Object.fromEntries(Object.entries(x).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

function buildVolume(
  group: SeriesGroup,
  reason: string,
  groups: readonly SeriesGroup[],
  skipped: { name: string; reason: string }[],
  o: Required<Omit<LoadDicomOptions, 'series'>> & LoadDicomOptions,
  run: RunOptions,
): { volume: Volume; report: LoadReport } {
  if (group.layout instanceof S2SError) throw group.layout;
  const layout: StackLayout = group.layout;
  const warnings: LoadWarning[] = [];
  const warn = (code: LoadWarning['code'], message: string) => warnings.push({ code, message });
  const s = group.summary;
  if (groups.length > 1) {
    warn('MULTIPLE_SERIES', `${groups.length} series found; loaded #${s.number ?? '?'} (index ${s.index}): ${reason}`);
  }
  const sameUid = groups.filter((g) => g.summary.uid === s.uid);
  if (sameUid.length > 1 && new Set(sameUid.map((g) => g.summary.size.slice(0, 2).join('x'))).size > 1) {
    warn(
      'MIXED_SIZES',
      `the series holds images of ${new Set(sameUid.map((g) => g.summary.size.slice(0, 2).join('x'))).size} different sizes; they were split into separate series`,
    );
  }
  if (skipped.length > 0) {
    warn(
      'SKIPPED_FILES',
      `${skipped.length} file(s) were not DICOM images and were skipped (first: ${skipped[0]!.name})`,
    );
  }
  if (layout.duplicates > 0) warn('DUPLICATE_IMAGES', `${layout.duplicates} duplicate image(s) were ignored`);
  const files = [...new Set(layout.slices.flat().map((im) => im.file))];
  if (files.some((f) => f.lossyCompression)) {
    warn('LOSSY_COMPRESSION', 'the images were lossy compressed; voxel values differ from the original acquisition');
  }
  if (files.some((f) => (f.burnedInAnnotation ?? '').toUpperCase() === 'YES')) {
    warn('BURNED_IN_ANNOTATION', 'the images carry burned-in annotation (text in the pixels)');
  }
  if (files.some(mosaicSpacingAssumed)) {
    warn('SPACING_ASSUMED', 'Siemens mosaic without SpacingBetweenSlices: slice spacing taken from SliceThickness');
  }
  const im0 = layout.slices[0]![0]!;
  // per-frame value (enhanced Philips keeps it in a private per-frame sequence) or the file's
  const frameSlope = (im0.frame as { philipsScaleSlope?: number }).philipsScaleSlope;
  const philipsScaleSlope = frameSlope ?? files.find((f) => f.philipsScaleSlope !== undefined)?.philipsScaleSlope;
  if (philipsScaleSlope !== undefined) {
    warn(
      'PHILIPS_SCALING',
      `Philips private scale slope ${philipsScaleSlope} present: values use the standard RescaleSlope ${im0.slope} / intercept ${im0.intercept} (display values, as dcm2niix by default); floating-point values would be displayed / (RescaleSlope * ${philipsScaleSlope})`,
    );
  }
  const nK = layout.positions.length;
  if (nK === 1) warn('SINGLE_SLICE', 'the series has a single slice; its thickness is taken from SliceThickness');
  const gantryTag = files.map((f) => f.gantryTilt).find((t) => t !== undefined && t !== 0);
  if (layout.tilted) {
    warn(
      'GANTRY_TILT',
      `the slices are sheared: slice step is ${layout.tiltDegrees.toFixed(2)} degrees off the slice normal${gantryTag !== undefined ? ` (Gantry/Detector Tilt ${gantryTag})` : ''}`,
    );
  }
  if (!layout.evenlySpaced) {
    if (layout.missingSlices > 0) {
      warn(
        'MISSING_SLICES',
        `about ${layout.missingSlices} slice(s) appear to be missing (slice gaps seen: ${layout.gaps.join(', ')} mm)`,
      );
    } else {
      warn(
        'UNEVEN_SPACING',
        `slice spacing varies (gaps along the normal: ${layout.gaps.join(', ')} mm; a slice lies up to ${layout.maxDeviation.toFixed(3)} mm off an even grid)`,
      );
    }
  }

  const assembled = assembleStack(layout, run);
  let data = assembled.data;
  let grid = stackGrid(layout);
  let geometry: LoadReport['geometry'] = 'exact';
  const needsRegular = layout.tilted || !layout.evenlySpaced;
  if (needsRegular && o.geometry === 'regularize' && nK >= 2) {
    const plan = regularPlan(layout, { maxSliceFactor: o.maxSliceFactor });
    const res = resampleStack(data, assembled.components, assembled.frames, layout, plan, run);
    data = res.data;
    grid = plan.grid;
    geometry = 'regularized';
    warn(
      'RESAMPLED',
      `resampled onto an orthogonal grid with ${grid.size[2]} equidistant slices of ${r3(grid.spacing[2])} mm (linear interpolation; outside filled with ${res.fill}); use geometry 'raw' to keep the stored pixels`,
    );
  } else if (needsRegular) {
    geometry = 'raw';
    if (!layout.evenlySpaced) {
      warn(
        'UNEVEN_SPACING',
        `raw geometry: the grid uses the mean slice step; a slice lies up to ${layout.maxDeviation.toFixed(3)} mm from its grid position`,
      );
    }
  }
  // the assembled range holds unless the data was resampled
  const range: [number, number] =
    data === assembled.data ? [assembled.range[0], assembled.range[1]] : data.length > 0 ? valueRange(data) : [0, 0];
  const units = unitsOf(group);
  const meta: Record<string, string | number | boolean> = {};
  if (s.modality) meta.modality = s.modality;
  if (s.number !== undefined) meta.seriesNumber = s.number;
  if (s.description) meta.seriesDescription = s.description;
  if (im0.file.manufacturer) meta.manufacturer = im0.file.manufacturer;
  if (im0.imageType) meta.imageType = im0.imageType;
  meta.geometry = geometry;
  const volume = makeVolume({ grid, data, components: assembled.components, frames: assembled.frames, units, meta });
  const report: LoadReport = {
    series: s,
    reason,
    size: grid.size,
    frames: assembled.frames,
    spacing: grid.spacing,
    origin: grid.origin,
    direction: grid.direction,
    orientation: orientationCode(grid),
    leftHanded: isLeftHanded(grid),
    geometry,
    tiltDegrees: layout.tiltDegrees,
    ...(gantryTag !== undefined ? { gantryTiltTag: gantryTag } : {}),
    sliceGaps: layout.gaps,
    intensityRange: range,
    units,
    dataType: voxelTypeOf(data),
    rescale: assembled.rescale,
    ...(philipsScaleSlope !== undefined ? { philipsScaleSlope } : {}),
    warnings,
    skippedFiles: skipped,
  };
  return { volume, report };
}

function unitsOf(group: SeriesGroup): Units {
  const im = group.images[0]!;
  if (im.units) {
    const u = im.units.trim();
    if (/^hz$/i.test(u)) return 'Hz';
    if (/^\[?hnsf?'?u\]?$|^HU$/i.test(u)) return 'HU';
  }
  const type = (im.imageType ?? '').toUpperCase();
  const manufacturer = (im.file.manufacturer ?? '').toUpperCase();
  if (/FIELD_MAP|B0_MAP/.test(type) && manufacturer.includes('PHILIPS')) return 'Hz';
  if ((im.file.modality ?? '').toUpperCase() === 'CT' && im.samples === 1) return 'HU';
  return 'arbitrary';
}

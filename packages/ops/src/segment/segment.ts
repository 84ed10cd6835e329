/**
 * The segmentation pipeline the CLI's `segment` command calls:
 *
 *   threshold (preset, explicit range, or Otsu)
 *   -> close (mm)            bridges gaps narrower than the ball
 *   -> min-island (mm^3)     drops small specks
 *   -> keep-largest          keeps the biggest connected piece
 *   -> fill-holes            fills background not reachable from the image border (3D or per slice)
 *   -> LabelMap with one segment (name, colour and code from the preset)
 *
 * Every step is off unless asked for. Options map one-to-one onto CLI flags.
 */
import {
  type LabelMap,
  makeLabelMap,
  progressReporter,
  type RunOptions,
  S2SError,
  type Segment,
  type Vec3,
  type Volume,
  voxelCount,
} from '@slice2solid/core';
import type { Connectivity } from '../components/connected-components.js';
import { keepLargest } from '../components/keep-largest.js';
import { removeIslands } from '../components/remove-islands.js';
import { labelMapFromMask, makeSegment } from '../labels/make.js';
import { close } from '../morphology/close.js';
import { fillHoles } from '../morphology/fill-holes.js';
import { otsuThresholds } from './otsu.js';
import {
  checkRange,
  looksLikeHounsfield,
  scalarFrame,
  THRESHOLD_PRESET_NAMES,
  type ThresholdPresetName,
  thresholdCounted,
  thresholdPreset,
} from './threshold.js';

export interface SegmentOptions extends RunOptions {
  /** A CT preset in HU (bone, skin, soft-tissue, fat, lung, vessels). */
  readonly preset?: ThresholdPresetName | undefined;
  /** Lowest value inside; overrides the preset's lower bound. */
  readonly lower?: number | undefined;
  /** Highest value inside; overrides the preset's upper bound. */
  readonly upper?: number | undefined;
  /** Automatic threshold: Otsu with `otsuClasses` classes; the brightest `otsuKeep` classes are inside. */
  readonly otsu?: boolean;
  readonly otsuClasses?: number;
  readonly otsuKeep?: number;
  /** Closing radius in mm (0 = off). */
  readonly close?: number;
  /** Remove connected pieces smaller than this volume in mm^3 (0 = off). */
  readonly minIsland?: number;
  /** Keep only the largest connected piece. */
  readonly keepLargest?: boolean;
  /**
   * Fill holes: true or '3d' fills enclosed background cavities; 'slice' fills holes in every
   * slice across `fillHolesAxis` (closes a marrow canal or vessel lumen open at its ends).
   */
  readonly fillHoles?: boolean | '3d' | 'slice';
  readonly fillHolesAxis?: 0 | 1 | 2;
  /** Connectivity of the pieces for min-island and keep-largest (fill-holes uses the complementary 6). */
  readonly connectivity?: Connectivity;
  /** Label value, name and colour of the segment (default from the preset). */
  readonly value?: number;
  readonly name?: string | undefined;
  readonly color?: Vec3 | undefined;
  /** Allow a HU preset on an image whose values do not look like HU. */
  readonly force?: boolean;
  readonly frame?: number;
}

export const SEGMENT_DEFAULTS = {
  preset: undefined,
  lower: undefined,
  upper: undefined,
  otsu: false,
  otsuClasses: 2,
  otsuKeep: 1,
  close: 0,
  minIsland: 0,
  keepLargest: false,
  fillHoles: false as boolean | '3d' | 'slice',
  fillHolesAxis: 2 as 0 | 1 | 2,
  connectivity: 26 as Connectivity,
  value: 1,
  name: undefined,
  color: undefined,
  force: false,
  frame: 0,
} as const;

/** What `segment` did, for logs and reports. */
export interface SegmentResult {
  readonly labels: LabelMap;
  /** The range that was thresholded (Otsu: lower is exclusive). */
  readonly lower: number;
  readonly upper: number;
  /** Foreground voxels after each step. */
  readonly steps: readonly { readonly step: string; readonly voxels: number }[];
}

function count(mask: Uint8Array): number {
  let c = 0;
  for (let p = 0; p < mask.length; p++) c += mask[p]!;
  return c;
}

/** Thresholds and cleans one structure into a LabelMap; see the file comment. */
export function segmentVolumeDetailed(volume: Volume, options: SegmentOptions = {}): SegmentResult {
  const o = { ...SEGMENT_DEFAULTS, ...stripUndefined(options) };
  const run = { signal: options.signal, onProgress: options.onProgress };
  const v = scalarFrame(volume, o.frame, 'segmentation');
  const grid = v.grid;
  const stepsTotal = 5;
  const report = progressReporter('segment', stepsTotal, { signal: options.signal }, 1);
  let lower: number;
  let upper: number;
  let segment: Partial<Segment> = {};
  let mask: Uint8Array;
  let thresholdVoxels: number | undefined;
  if (o.otsu) {
    if (o.preset !== undefined) {
      throw new S2SError('INVALID_ARGUMENT', 'give either a preset or Otsu, not both');
    }
    const classes = o.otsuClasses;
    const keep = o.otsuKeep;
    if (!Number.isInteger(keep) || keep < 1 || keep >= classes) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `otsuKeep must be 1..${classes - 1} (the number of bright classes kept), got ${keep}`,
      );
    }
    const t = otsuThresholds(v, { ...run, classes });
    const cut = t[classes - 1 - keep]!;
    lower = cut;
    upper = o.upper ?? Number.POSITIVE_INFINITY;
    checkRange(lower, upper);
    mask = new Uint8Array(voxelCount(grid));
    const d = v.data;
    for (let p = 0; p < mask.length; p++) {
      const x = d[p]!;
      mask[p] = x > lower && x <= upper ? 1 : 0;
    }
    segment = { name: 'otsu' };
  } else {
    if (o.preset === undefined && o.lower === undefined && o.upper === undefined) {
      throw new S2SError('INVALID_ARGUMENT', 'nothing to segment with: no preset, no threshold range and no Otsu', {
        hint: `choose a preset (${THRESHOLD_PRESET_NAMES.join(', ')}), a range (lower/upper) or Otsu`,
      });
    }
    if (o.preset !== undefined) {
      const p = thresholdPreset(o.preset);
      if (!o.force && !looksLikeHounsfield(v)) {
        throw new S2SError(
          'INVALID_ARGUMENT',
          `preset "${o.preset}" is in Hounsfield units, but this image's values are not HU (units "${v.units}"${v.units === 'arbitrary' ? ', no air below -500' : ''})`,
          {
            hint: 'give explicit lower/upper thresholds or use Otsu for MR and uncalibrated data (or force the preset)',
          },
        );
      }
      lower = o.lower ?? p.lower;
      upper = o.upper ?? p.upper;
      segment = { ...p.segment };
    } else {
      lower = o.lower ?? Number.NEGATIVE_INFINITY;
      upper = o.upper ?? Number.POSITIVE_INFINITY;
      segment = { name: 'segment' };
    }
    const t = thresholdCounted(v, { ...run, lower, upper });
    mask = t.mask;
    thresholdVoxels = t.inside;
  }
  const steps: { step: string; voxels: number }[] = [{ step: 'threshold', voxels: thresholdVoxels ?? count(mask) }];
  report(1);
  if (!(o.close >= 0) || !Number.isFinite(o.close)) {
    throw new S2SError('INVALID_ARGUMENT', `close radius must be >= 0 mm, got ${o.close}`);
  }
  if (o.close > 0) {
    mask = close(mask, grid, { ...run, radiusMm: o.close });
    steps.push({ step: 'close', voxels: count(mask) });
  }
  report(2);
  if (!(o.minIsland >= 0) || !Number.isFinite(o.minIsland)) {
    throw new S2SError('INVALID_ARGUMENT', `min-island must be >= 0 mm^3, got ${o.minIsland}`);
  }
  if (o.minIsland > 0) {
    mask = removeIslands(mask, grid, { ...run, minVolumeMm3: o.minIsland, connectivity: o.connectivity });
    steps.push({ step: 'min-island', voxels: count(mask) });
  }
  report(3);
  if (o.keepLargest) {
    mask = keepLargest(mask, grid, { ...run, connectivity: o.connectivity });
    steps.push({ step: 'keep-largest', voxels: count(mask) });
  }
  report(4);
  if (o.fillHoles) {
    mask = fillHoles(mask, grid, { ...run, mode: o.fillHoles === 'slice' ? 'slice' : '3d', axis: o.fillHolesAxis });
    steps.push({ step: 'fill-holes', voxels: count(mask) });
  }
  report(5);
  const seg: Partial<Segment> = {
    ...segment,
    value: o.value,
    ...(o.name !== undefined ? { name: o.name } : {}),
    ...(o.color !== undefined ? { color: o.color } : {}),
  };
  // a threshold's mask is 0 / 1: for value 1 it is the label data itself (no copy)
  const labels =
    o.value === 1 && steps.length === 1
      ? makeLabelMap({ grid, data: mask, segments: [makeSegment(1, seg)] })
      : labelMapFromMask(mask, grid, seg);
  return { labels, lower, upper, steps };
}

/** Thresholds and cleans one structure into a LabelMap on the volume's grid. */
export function segmentVolume(volume: Volume, options: SegmentOptions = {}): LabelMap {
  return segmentVolumeDetailed(volume, options).labels;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

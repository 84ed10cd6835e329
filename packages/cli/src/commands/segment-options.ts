/**
 * The segmentation options shared by `segment` and `convert` (threshold + clean-up), mapped onto
 * @slice2solid/ops SEGMENT_DEFAULTS. Kept apart from ./common.ts so that commands that do not
 * segment (info, volume) do not load ops.
 */
import {
  type Connectivity,
  SEGMENT_DEFAULTS,
  type SegmentOptions,
  THRESHOLD_PRESET_NAMES,
  type ThresholdPresetName,
} from '@slice2solid/ops';
import { int, num } from './common.js';
import { optFlag, optString, type ParsedArgs, UsageError } from './types.js';

export const SEGMENT_OPTIONS = {
  preset: { type: 'string' },
  lower: { type: 'string' },
  upper: { type: 'string' },
  otsu: { type: 'boolean' },
  'otsu-classes': { type: 'string' },
  'otsu-keep': { type: 'string' },
  close: { type: 'string' },
  'min-island': { type: 'string' },
  'keep-largest': { type: 'boolean' },
  'fill-holes': { type: 'boolean' },
  'fill-holes-slice': { type: 'boolean' },
  connectivity: { type: 'string' },
  force: { type: 'boolean' },
  frame: { type: 'string' },
} as const;

export type SegmentArgs = Omit<SegmentOptions, 'signal' | 'onProgress' | 'name' | 'color' | 'value'>;

/** The threshold + clean-up options of SEGMENT_OPTIONS, checked (UsageError on a bad value). */
export function parseSegmentArgs(args: ParsedArgs): SegmentArgs {
  const S = SEGMENT_DEFAULTS;
  const preset = optString(args, 'preset');
  if (preset !== undefined && !(THRESHOLD_PRESET_NAMES as string[]).includes(preset)) {
    throw new UsageError(`unknown preset "${preset}"`, `use one of ${THRESHOLD_PRESET_NAMES.join(', ')}`);
  }
  const connectivity = num(args, 'connectivity') ?? S.connectivity;
  if (connectivity !== 6 && connectivity !== 18 && connectivity !== 26)
    throw new UsageError('--connectivity must be 6, 18 or 26');
  const fillSlice = optFlag(args, 'fill-holes-slice');
  return {
    preset: preset as ThresholdPresetName | undefined,
    lower: num(args, 'lower'),
    upper: num(args, 'upper'),
    otsu: optFlag(args, 'otsu'),
    otsuClasses: int(args, 'otsu-classes', 2) ?? S.otsuClasses,
    otsuKeep: int(args, 'otsu-keep', 1) ?? S.otsuKeep,
    close: num(args, 'close', 0) ?? S.close,
    minIsland: num(args, 'min-island', 0) ?? S.minIsland,
    keepLargest: optFlag(args, 'keep-largest'),
    fillHoles: fillSlice ? ('slice' as const) : optFlag(args, 'fill-holes'),
    connectivity: connectivity as Connectivity,
    force: optFlag(args, 'force'),
    frame: int(args, 'frame', 0) ?? S.frame,
  };
}

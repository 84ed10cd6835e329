/**
 * CT window/level: maps [center - width/2, center + width/2] linearly onto an output range and
 * clips outside it, with the exact DICOM formula (PS3.3 C.11.2.1.2.1, VOI LUT function LINEAR):
 *   x <= c - 0.5 - (w - 1) / 2  -> low
 *   x >  c - 0.5 + (w - 1) / 2  -> high
 *   else ((x - (c - 0.5)) / (w - 1) + 0.5) * (high - low) + low
 * Output is float32 in `range` (default [0, 1]).
 */
import { S2SError, type Volume } from '@slice2solid/core';
import type { IntensityRecord } from './record.js';

export interface WindowLevelOptions {
  /** Window centre (level), in the volume's units (HU for CT). */
  readonly center?: number;
  /** Window width (>= 1). */
  readonly width?: number;
  /** A named preset instead of center/width (explicit center/width win). */
  readonly preset?: keyof typeof WINDOW_PRESETS;
  readonly range?: readonly [number, number];
}

/** Common CT windows (HU): centre, width. */
export const WINDOW_PRESETS = {
  'soft-tissue': { center: 40, width: 400 },
  brain: { center: 40, width: 80 },
  lung: { center: -600, width: 1500 },
  bone: { center: 400, width: 1800 },
} as const;

export const WINDOW_LEVEL_DEFAULTS = {
  ...WINDOW_PRESETS['soft-tissue'],
  range: [0, 1],
} as const satisfies WindowLevelOptions;

export function windowLevel(
  volume: Volume,
  options: WindowLevelOptions = {},
): { volume: Volume; record: IntensityRecord } {
  const preset = options.preset === undefined ? undefined : WINDOW_PRESETS[options.preset];
  if (options.preset !== undefined && !preset) {
    throw new S2SError('INVALID_ARGUMENT', `unknown window preset "${String(options.preset)}"`, {
      hint: `use one of ${Object.keys(WINDOW_PRESETS).join(', ')}`,
    });
  }
  const c = options.center ?? preset?.center ?? WINDOW_LEVEL_DEFAULTS.center;
  const w = options.width ?? preset?.width ?? WINDOW_LEVEL_DEFAULTS.width;
  const [lo, hi] = options.range ?? WINDOW_LEVEL_DEFAULTS.range;
  if (!Number.isFinite(c) || !Number.isFinite(w) || w < 1) {
    throw new S2SError('INVALID_ARGUMENT', `window centre must be finite and width >= 1, got centre ${c}, width ${w}`, {
      hint: 'e.g. centre 40, width 400 for soft tissue',
    });
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
    throw new S2SError('INVALID_ARGUMENT', `output range must be two finite numbers, low < high, got [${lo}, ${hi}]`);
  }
  const bottom = c - 0.5 - (w - 1) / 2;
  const top = c - 0.5 + (w - 1) / 2;
  const span = hi - lo;
  const data = volume.data;
  const out = new Float32Array(data.length);
  let nLow = 0;
  let nHigh = 0;
  for (let p = 0; p < data.length; p++) {
    const x = data[p]!;
    if (x <= bottom) {
      out[p] = lo;
      nLow++;
    } else if (x > top) {
      out[p] = hi;
      nHigh++;
    } else out[p] = ((x - (c - 0.5)) / (w - 1) + 0.5) * span + lo;
  }
  // inverse of the linear part: x = ((y - lo) / span - 0.5) * (w - 1) + c - 0.5
  const scale = (w - 1) / span;
  return {
    volume: { ...volume, data: out, units: 'normalized' },
    record: {
      operation: 'window-level',
      parameters: { center: c, width: w, low: lo, high: hi },
      inverse: { scale, offset: c - 0.5 - 0.5 * (w - 1) - lo * scale },
      clipped: { low: nLow, high: nHigh },
      units: volume.units,
    },
  };
}

/**
 * Global thresholding: Volume -> binary mask (1 inside [lower, upper], 0 elsewhere), plus
 * the CT presets (Hounsfield units) a user expects.
 */
import {
  frameOf,
  progressReporter,
  type RunOptions,
  S2SError,
  type Segment,
  type Volume,
  valueRange,
  voxelCount,
} from '@slice2solid/core';

export interface ThresholdOptions extends RunOptions {
  /** Lowest value that is inside (inclusive). */
  readonly lower?: number;
  /** Highest value that is inside (inclusive). */
  readonly upper?: number;
  /** Frame of a 4D volume to threshold (0-based). */
  readonly frame?: number;
}

export const THRESHOLD_DEFAULTS = {
  lower: Number.NEGATIVE_INFINITY,
  upper: Number.POSITIVE_INFINITY,
  frame: 0,
} as const;

/** A threshold range for calibrated CT (HU) together with the segment it makes. */
export interface ThresholdPreset {
  readonly lower: number;
  readonly upper: number;
  /** Segment name, colour (sRGB 0..255) and SNOMED CT code of the structure. */
  readonly segment: Omit<Segment, 'value'>;
  /** What the range captures and where it comes from. */
  readonly description: string;
}

/**
 * CT presets in Hounsfield units.
 *
 * Sources for the ranges:
 * - InVesalius 3 (invesalius/presets.py, `thresh_ct`): Bone 226..3071, Soft Tissue -700..225,
 *   Muscle Tissue (Adult) -5..135, Fat Tissue (Adult) -205..-51, Compact Bone (Adult) 662..1988.
 * - Adipose tissue window -190..-30 HU (Kvist et al. 1988; used by most CT body-composition work).
 * - Lung: aerated lung parenchyma is about -900..-500 HU and air -1000 HU; -400 HU is the usual
 *   lung / soft-tissue boundary (e.g. Hu, Hoffman & Reinhardt, IEEE TMI 2001 found optimal
 *   thresholds near -400 .. -500 HU).
 * - Contrast-enhanced vessels (CT angiography lumen) are typically 200..500 HU; 150 HU lower bound
 *   tolerates weaker enhancement. Bone overlaps this range: seed a region growing instead when
 *   vessels touch bone.
 * - Skin / body: everything denser than halfway between air (-1000) and fat (about -100),
 *   which puts the surface on the skin; with no upper bound so metal inside the body is kept.
 * Colours follow 3D Slicer's GenericAnatomyColors table; codes are SNOMED CT (scheme "SCT").
 */
export const THRESHOLD_PRESETS = {
  bone: {
    lower: 226,
    upper: 3071,
    segment: { name: 'bone', color: [241, 214, 145], code: { scheme: 'SCT', value: '272673000', meaning: 'Bone' } },
    description: 'cancellous and cortical bone (InVesalius "Bone" 226..3071 HU; metal above 3071 is left out)',
  },
  skin: {
    lower: -500,
    upper: Number.POSITIVE_INFINITY,
    segment: { name: 'skin', color: [177, 122, 101], code: { scheme: 'SCT', value: '39937001', meaning: 'Skin' } },
    description: 'whole body (everything denser than -500 HU); its outer surface is the skin',
  },
  'soft-tissue': {
    lower: -5,
    upper: 135,
    segment: {
      name: 'soft tissue',
      color: [192, 104, 88],
      code: { scheme: 'SCT', value: '87784001', meaning: 'Soft tissue' },
    },
    description: 'muscle and organs without fat (InVesalius "Muscle Tissue (Adult)" -5..135 HU)',
  },
  fat: {
    lower: -190,
    upper: -30,
    segment: {
      name: 'fat',
      color: [230, 220, 70],
      code: { scheme: 'SCT', value: '55603005', meaning: 'Adipose tissue' },
    },
    description: 'adipose tissue (-190..-30 HU, the usual body-composition window)',
  },
  lung: {
    lower: -1024,
    upper: -400,
    segment: { name: 'lung', color: [197, 165, 145], code: { scheme: 'SCT', value: '39607008', meaning: 'Lung' } },
    description:
      'air and aerated lung (-1024..-400 HU); the air around the patient is included too, so seed a region growing inside the lung or remove the outside component',
  },
  vessels: {
    lower: 150,
    upper: 500,
    segment: {
      name: 'vessels',
      color: [216, 101, 79],
      code: { scheme: 'SCT', value: '59820001', meaning: 'Blood vessel' },
    },
    description: 'contrast-enhanced vessel lumen (150..500 HU); overlaps cancellous bone',
  },
} as const satisfies Record<string, ThresholdPreset>;

export type ThresholdPresetName = keyof typeof THRESHOLD_PRESETS;

export const THRESHOLD_PRESET_NAMES = Object.keys(THRESHOLD_PRESETS) as ThresholdPresetName[];

/** The preset called `name`, or an S2SError listing the known ones. */
export function thresholdPreset(name: string): ThresholdPreset {
  const p = (THRESHOLD_PRESETS as Record<string, ThresholdPreset>)[name];
  if (!p) {
    throw new S2SError('INVALID_ARGUMENT', `unknown threshold preset "${name}"`, {
      hint: `use one of: ${THRESHOLD_PRESET_NAMES.join(', ')}`,
    });
  }
  return p;
}

/** Checks that the volume is a single-component scalar image and returns frame `frame` of it. */
export function scalarFrame(volume: Volume, frame = 0, what = 'this operation'): Volume {
  if (volume.components !== 1) {
    throw new S2SError('INVALID_ARGUMENT', `${what} needs a grey-scale image, got ${volume.components} components`, {
      hint: 'convert the colour image to grey first',
    });
  }
  return volume.frames === 1 && frame === 0 ? volume : frameOf(volume, frame);
}

/** Checks a [lower, upper] range; NaN and lower > upper are refused. */
export function checkRange(lower: number, upper: number): void {
  if (Number.isNaN(lower) || Number.isNaN(upper)) {
    throw new S2SError('INVALID_ARGUMENT', 'threshold bounds must be numbers');
  }
  if (lower > upper) {
    throw new S2SError('INVALID_ARGUMENT', `threshold lower bound ${lower} is above the upper bound ${upper}`, {
      hint: 'swap the two values',
    });
  }
}

/** Mask (Uint8Array, 1 = inside) of the voxels with lower <= value <= upper. NaN voxels are outside. */
export function threshold(volume: Volume, options: ThresholdOptions = {}): Uint8Array {
  return thresholdCounted(volume, options).mask;
}

/** threshold, and the number of voxels inside (counted in the same pass). */
export function thresholdCounted(volume: Volume, options: ThresholdOptions = {}): { mask: Uint8Array; inside: number } {
  const lower = options.lower ?? THRESHOLD_DEFAULTS.lower;
  const upper = options.upper ?? THRESHOLD_DEFAULTS.upper;
  checkRange(lower, upper);
  const v = scalarFrame(volume, options.frame ?? THRESHOLD_DEFAULTS.frame, 'thresholding');
  const n = voxelCount(v.grid);
  const data = v.data;
  const out = new Uint8Array(n);
  const chunk = 1 << 20;
  const report = progressReporter('threshold', n, options, chunk);
  let inside = 0;
  for (let start = 0; start < n; start += chunk) {
    const end = Math.min(n, start + chunk);
    for (let p = start; p < end; p++) {
      const x = data[p]!;
      const b = x >= lower && x <= upper ? 1 : 0;
      out[p] = b;
      inside += b;
    }
    report(end);
  }
  return { mask: out, inside };
}

/**
 * Whether a volume's values can be read as Hounsfield units: units 'HU', or units unknown
 * ('arbitrary') with air present (minimum <= -500), which uncalibrated scans (MR, PNG stacks,
 * CT stored without rescale) do not have.
 */
export function looksLikeHounsfield(volume: Volume): boolean {
  if (volume.units === 'HU') return true;
  if (volume.units !== 'arbitrary') return false;
  const [lo] = valueRange(volume.data);
  return lo <= -500;
}

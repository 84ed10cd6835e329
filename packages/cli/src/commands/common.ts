/** Options shared by the commands that read an input image. */
import { type LoadedInput, loadInput } from '../input.js';
import { type CommandContext, optFlag, optString, type ParsedArgs, parseTriple, UsageError } from './types.js';

export const INPUT_OPTIONS = {
  series: { type: 'string' },
  'raw-geometry': { type: 'boolean' },
  spacing: { type: 'string' },
  'accept-default-spacing': { type: 'boolean' },
} as const;

export const INPUT_HELP = `Input: a DICOM file, a folder of DICOM files (searched recursively), a .zip of them,
a NIfTI (.nii, .nii.gz, .hdr/.img), NRRD (.nrrd, .nhdr) or MetaImage (.mha, .mhd) file, or a
folder / .zip of PNG or TIFF slices (give --spacing).
  --series X                  DICOM: the series to load: its list index (as printed by info),
                              SeriesNumber or SeriesInstanceUID (default: the most likely image series)
  --raw-geometry              DICOM: keep a tilted or unevenly spaced stack as stored, on a sheared /
                              mean-spaced grid, instead of resampling it onto a regular grid
  --spacing X,Y,Z             2D image stacks: voxel spacing in mm
  --accept-default-spacing    2D image stacks: use 1 mm when no spacing is known`;

export async function loadInputFromArgs(ctx: CommandContext, args: ParsedArgs, path: string): Promise<LoadedInput> {
  const spacing = optString(args, 'spacing');
  return loadInput(
    path,
    {
      series: optString(args, 'series'),
      rawGeometry: optFlag(args, 'raw-geometry'),
      spacing: spacing === undefined ? undefined : parseTriple(spacing, '--spacing'),
      acceptDefaultSpacing: optFlag(args, 'accept-default-spacing'),
      ...ctx.run,
    },
    ctx.cwd,
  );
}

/**
 * The number value of option `name`, or undefined when it is not given; a UsageError when it is
 * empty, not a finite number, or outside min..max.
 */
export function num(
  args: ParsedArgs,
  name: string,
  min = Number.NEGATIVE_INFINITY,
  max = Infinity,
): number | undefined {
  const s = optString(args, name);
  if (s === undefined) return undefined;
  const x = Number(s);
  if (s.trim() === '' || !Number.isFinite(x) || x < min || x > max) {
    const range = min > -Infinity && max < Infinity ? ` in ${min}..${max}` : min > -Infinity ? ` >= ${min}` : '';
    throw new UsageError(`--${name} must be a number${range}, got "${s}"`);
  }
  return x;
}

/** As `num`, and a whole number. */
export function int(args: ParsedArgs, name: string, min: number): number | undefined {
  const x = num(args, name, min);
  if (x !== undefined && !Number.isInteger(x)) throw new UsageError(`--${name} must be a whole number, got ${x}`);
  return x;
}

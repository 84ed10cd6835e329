/** Options shared by the commands that read an input image. */
import { type LoadedInput, loadInput } from '../input.js';
import { type CommandContext, optFlag, optString, type ParsedArgs, parseTriple } from './types.js';

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

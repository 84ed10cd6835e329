import { resolve } from 'node:path';
import { checkVolumeExtension, encodeVolume, writeFileAtomic } from '../output.js';
import { INPUT_HELP, INPUT_OPTIONS, loadInputFromArgs } from './common.js';
import type { Command } from './types.js';

export const volumeCommand: Command = {
  name: 'volume',
  summary: 'load an image and write it as NIfTI, NRRD or MetaImage',
  usage: 'volume <input> <output.nii.gz|.nii|.nrrd|.mha> [--series X] [--raw-geometry]',
  help: `Loads the input exactly as 'info' describes it and writes the volume. A series with several
volumes (time points, echoes...) is written as one 4D file, volumes in acquisition order.
The output format follows the extension: .nii.gz, .nii, .nrrd (gzip encoded), .mha (MetaImage).

${INPUT_HELP}

Examples:
  slice2solid volume scans/ct_series/ ct.nii.gz
  slice2solid volume study.zip t1.nrrd --series 5`,
  options: { ...INPUT_OPTIONS },
  minPositionals: 2,
  maxPositionals: 2,
  async run(ctx, args) {
    const [inPath, outPath] = args.positionals as [string, string];
    checkVolumeExtension(outPath); // fail on a bad name before the (slow) load
    const input = await loadInputFromArgs(ctx, args, inPath);
    const bytes = encodeVolume(input.volume, outPath);
    writeFileAtomic(resolve(ctx.cwd, outPath), bytes);
    const v = input.volume;
    ctx.stdout.write(
      `wrote ${outPath}: ${v.grid.size.join('x')}${v.frames > 1 ? `x${v.frames}` : ''} voxels, ${(bytes.length / 1048576).toFixed(1)} MiB\n`,
    );
    for (const w of input.warnings) ctx.stderr.write(`warning: ${w}\n`);
    return 0;
  },
};

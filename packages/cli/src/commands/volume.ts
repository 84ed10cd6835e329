import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Volume } from '@slice2solid/core';
import { INPUT_HELP, INPUT_OPTIONS, loadInputFromArgs } from './common.js';
import { commandSummary } from './registry.js';
import type { Command } from './types.js';

export const VOLUME_CLI_DEFAULTS = {
  /** gzip level of .nii.gz output (the universal writer's default). */
  gzipLevel: 6,
} as const;

/**
 * The output file's bytes. .nii.gz is written as the uncompressed NIfTI gzipped by Node's native
 * zlib (several times faster than the pure-JS deflate the browser-safe writer uses; the file is the
 * same NIfTI, and any gzip reader reads it); the other formats come from @slice2solid/io as they are.
 */
export async function encodeVolumeFile(volume: Volume, outPath: string): Promise<Uint8Array> {
  const { encodeVolume } = await import('../output.js');
  if (outPath.toLowerCase().endsWith('.nii.gz')) {
    const nii = encodeVolume(volume, outPath.slice(0, -3));
    return gzipSync(nii, { level: VOLUME_CLI_DEFAULTS.gzipLevel });
  }
  return encodeVolume(volume, outPath);
}

export const volumeCommand: Command = {
  name: 'volume',
  summary: commandSummary('volume'),
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
    const { checkVolumeExtension, writeFileAtomic } = await import('../output.js');
    checkVolumeExtension(outPath); // fail on a bad name before the (slow) load
    const input = await loadInputFromArgs(ctx, args, inPath);
    const bytes = await encodeVolumeFile(input.volume, outPath);
    writeFileAtomic(resolve(ctx.cwd, outPath), bytes);
    const v = input.volume;
    ctx.stdout.write(
      `wrote ${outPath}: ${v.grid.size.join('x')}${v.frames > 1 ? `x${v.frames}` : ''} voxels, ${(bytes.length / 1048576).toFixed(1)} MiB\n`,
    );
    for (const w of input.warnings) ctx.stderr.write(`warning: ${w}\n`);
    return 0;
  },
};

/** slice2solid stats <labels> [--image <input>] [--json] */
import { basename, resolve } from 'node:path';
import { labelStats } from '@slice2solid/ops';
import { INPUT_HELP, INPUT_OPTIONS, loadInputFromArgs } from './common.js';
import { commandSummary } from './registry.js';
import { readLabelFile } from './segment.js';
import { type Command, optFlag, optString } from './types.js';

const f1 = (x: number) => x.toFixed(1);

export const statsCommand: Command = {
  name: 'stats',
  summary: commandSummary('stats'),
  usage: 'stats <labels.nii.gz|.nrrd|.dcm> [--image <input>] [--json]',
  help: `For every structure of a label map (NIfTI or NRRD with its .segments.json sidecar, or DICOM SEG):
voxel count, volume in mL, bounding box (voxel indices and LPS mm) and centroid (LPS mm).
With --image, also the mean / min / max / standard deviation of the image inside each structure;
the image must be on the label map's grid (the one the labels were made from).
  --json        print JSON instead of a table

${INPUT_HELP}

Example:
  slice2solid stats bone.nii.gz --image ct/`,
  options: { ...INPUT_OPTIONS, image: { type: 'string' }, json: { type: 'boolean' } },
  minPositionals: 1,
  maxPositionals: 1,
  async run(ctx, args) {
    const [labelPath] = args.positionals as [string];
    const labels = await readLabelFile(resolve(ctx.cwd, labelPath), basename(labelPath));
    const imagePath = optString(args, 'image');
    const image = imagePath ? (await loadInputFromArgs(ctx, args, imagePath)).volume : undefined;
    const stats = labelStats(labels, { ...(image ? { image } : {}), ...ctx.run });
    if (optFlag(args, 'json')) {
      ctx.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
      return 0;
    }
    ctx.stdout.write(`${labelPath}: ${labels.grid.size.join('x')} voxels, ${stats.length} structure(s)\n`);
    for (const s of stats) {
      ctx.stdout.write(`${s.value}  ${s.name}: ${s.voxels} voxels, ${s.volumeMl.toFixed(3)} mL\n`);
      if (s.bboxIjk && s.bboxLps && s.centroidLps) {
        ctx.stdout.write(`   ijk box   ${s.bboxIjk.min.join(',')} .. ${s.bboxIjk.max.join(',')}\n`);
        ctx.stdout.write(
          `   LPS box   (${s.bboxLps.min.map(f1).join(', ')}) .. (${s.bboxLps.max.map(f1).join(', ')}) mm\n`,
        );
        ctx.stdout.write(`   centroid  (${s.centroidLps.map(f1).join(', ')}) mm LPS\n`);
      }
      if (s.intensity) {
        const i = s.intensity;
        ctx.stdout.write(
          `   intensity mean ${f1(i.mean)}, min ${i.min}, max ${i.max}, sd ${f1(i.std)}${image?.units === 'HU' ? ' HU' : ''}\n`,
        );
      }
    }
    return 0;
  },
};

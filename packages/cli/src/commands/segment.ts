/**
 * slice2solid segment <input> <labels> --preset bone [--keep-largest] [--min-island 100] [--close 1.5] [--fill-holes]
 * Options map one-to-one onto @slice2solid/ops SEGMENT_DEFAULTS.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { type LabelMap, S2SError, type Vec3 } from '@slice2solid/core';
import {
  dicomSegToLabelMap,
  readDicomSeg,
  readNiftiLabels,
  readNrrdLabels,
  segmentsSidecarName,
  writeDicomSeg,
  writeNiftiLabels,
  writeNrrdLabels,
} from '@slice2solid/io';
import { SEGMENT_DEFAULTS, segmentVolumeDetailed, THRESHOLD_PRESET_NAMES, THRESHOLD_PRESETS } from '@slice2solid/ops';
import { writeFileAtomic } from '../output.js';
import {
  AI_HELP,
  AI_OPTIONS,
  parseModelRouteArgs,
  parseScribbleArgs,
  printModelReport,
  runModelRoute,
  runScribbleRoute,
  SCRIBBLE_HELP,
  SCRIBBLE_OPTIONS,
} from './ai-segment.js';
import { INPUT_HELP, INPUT_OPTIONS, loadInputFromArgs, num } from './common.js';
import { commandSummary } from './registry.js';
import { parseSegmentArgs, SEGMENT_OPTIONS } from './segment-options.js';
import { type Command, optString, UsageError } from './types.js';

export const LABEL_EXTENSIONS = ['.nii.gz', '.nii', '.seg.nrrd', '.nrrd', '.dcm'] as const;
export type LabelFormat = 'nifti-gz' | 'nifti' | 'nrrd' | 'dicom-seg';

export function labelFormatOf(path: string): LabelFormat {
  const p = path.toLowerCase();
  if (p.endsWith('.nii.gz')) return 'nifti-gz';
  if (p.endsWith('.nii')) return 'nifti';
  if (p.endsWith('.nrrd') || p.endsWith('.nhdr')) return 'nrrd';
  if (p.endsWith('.dcm')) return 'dicom-seg';
  throw new UsageError(
    `cannot tell the label format from "${basename(path)}"`,
    `end the name with one of ${LABEL_EXTENSIONS.join(', ')}`,
  );
}

/**
 * Writes a label map by extension; NIfTI and NRRD also get the `<name>.segments.json` sidecar.
 * Returns the paths written.
 */
export function writeLabelFile(labels: LabelMap, path: string): string[] {
  const format = labelFormatOf(path);
  if (format === 'dicom-seg') {
    writeFileAtomic(path, writeDicomSeg(labels));
    return [path];
  }
  const out = format === 'nrrd' ? writeNrrdLabels(labels) : writeNiftiLabels(labels, { gzip: format === 'nifti-gz' });
  const sidecar = join(dirname(path), segmentsSidecarName(basename(path)));
  writeFileAtomic(path, out.image);
  writeFileAtomic(sidecar, new TextEncoder().encode(out.segmentsJson));
  return [path, sidecar];
}

/** Reads a label map by content/extension, with its sidecar when there is one. */
export async function readLabelFile(path: string, name = basename(path)): Promise<LabelMap> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch {
    throw new S2SError('IO_ERROR', `"${name}" cannot be read`, { hint: 'check the path of the label file' });
  }
  const sidecar = join(dirname(path), segmentsSidecarName(basename(path)));
  const segmentsJson = existsSync(sidecar) ? readFileSync(sidecar, 'utf8') : undefined;
  const side = segmentsJson === undefined ? {} : { segmentsJson };
  if (bytes.length > 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d) {
    return dicomSegToLabelMap(readDicomSeg(bytes, { name }));
  }
  if (bytes[0] === 0x4e && bytes[1] === 0x52 && bytes[2] === 0x52 && bytes[3] === 0x44) {
    return readNrrdLabels(bytes, {
      ...side,
      name,
      readFile: (f) => new Uint8Array(readFileSync(resolve(dirname(path), f))),
    });
  }
  return readNiftiLabels(bytes, { ...side, name });
}

function parseColor(s: string | undefined): Vec3 | undefined {
  if (s === undefined) return undefined;
  const c = s.split(',').map((x) => Number(x.trim()));
  if (c.length !== 3 || !c.every((x) => Number.isInteger(x) && x >= 0 && x <= 255)) {
    throw new UsageError(`--color must be three integers 0..255 like 241,214,145; got "${s}"`);
  }
  return [c[0]!, c[1]!, c[2]!];
}

const D = SEGMENT_DEFAULTS;

export const segmentCommand: Command = {
  name: 'segment',
  summary: commandSummary('segment'),
  usage:
    'segment <input> <labels.nii.gz|.nrrd|.seg.nrrd|.dcm> (--preset NAME | --lower X --upper Y | --otsu | --model NAME | --scribbles FILE) [options]',
  help: `Makes a label map (on the input's own grid) holding one structure:
threshold -> --close -> --min-island -> --keep-largest -> --fill-holes.

Threshold (one of):
  --preset NAME        CT preset in HU: ${THRESHOLD_PRESET_NAMES.map((n) => `${n} (${THRESHOLD_PRESETS[n].lower}..${THRESHOLD_PRESETS[n].upper})`).join(', ')}
  --lower X --upper Y  explicit range (inclusive); either one alone leaves the other side open;
                       with --preset they override its bounds
  --otsu               automatic (Otsu) threshold for MR / uncalibrated data
  --otsu-classes N     Otsu classes (default ${D.otsuClasses}); --otsu-keep K keeps the K brightest (default ${D.otsuKeep})
  --force              allow a HU preset on an image whose values do not look like HU
Clean-up (all off by default):
  --close MM           morphological closing with a ball of MM millimetres
  --min-island MM3     remove pieces smaller than MM3 cubic millimetres
  --keep-largest       keep only the largest connected piece
  --fill-holes         fill enclosed cavities (3D); --fill-holes-slice fills holes per slice (k axis)
  --connectivity N     6, 18 or 26 for the pieces (default ${D.connectivity})
Segment:
  --name TEXT --color R,G,B --value N   (default: from the preset; value ${D.value})
  --frame N            4D input: the frame to segment (default 0)
${AI_HELP}

${SCRIBBLE_HELP}

Output: .nii.gz / .nii / .nrrd (with a <name>.segments.json sidecar holding names and colours;
.seg.nrrd also carries them as 3D Slicer segment keys), or .dcm (DICOM SEG, binary; it does not
reference the source images, its frames carry their positions).

${INPUT_HELP}

Examples:
  slice2solid segment ct/ bone.nii.gz --preset bone --keep-largest --min-island 100
  slice2solid segment ct.nii.gz skin.seg.nrrd --preset skin --keep-largest --fill-holes --close 1.5
  slice2solid segment t1.nii.gz brain.nii.gz --otsu --otsu-classes 3 --otsu-keep 2
  slice2solid segment ct.nii.gz organs.nii.gz --model ct-torso-small --structures liver,spleen --roi-first
  slice2solid segment ct.nii.gz bone.nii.gz --scribbles strokes.nii.gz --keep-largest`,
  options: {
    ...INPUT_OPTIONS,
    ...SEGMENT_OPTIONS,
    ...AI_OPTIONS,
    ...SCRIBBLE_OPTIONS,
    name: { type: 'string' },
    color: { type: 'string' },
    value: { type: 'string' },
  },
  minPositionals: 2,
  maxPositionals: 2,
  async run(ctx, args) {
    const [inPath, outPath] = args.positionals as [string, string];
    labelFormatOf(outPath); // fail on a bad name before the (slow) load
    const segArgs = parseSegmentArgs(args);
    const modelRoute = parseModelRouteArgs(args, segArgs);
    const scribbleRoute = parseScribbleArgs(args, segArgs);
    if (modelRoute || scribbleRoute) {
      const input = await loadInputFromArgs(ctx, args, inPath);
      for (const w of input.warnings) ctx.stderr.write(`warning: ${w}\n`);
      let labels: LabelMap;
      if (modelRoute) {
        const r = await runModelRoute(ctx, input.volume, modelRoute);
        printModelReport(ctx, r);
        labels = r.labels;
      } else {
        const strokesPath = optString(args, 'scribbles')!;
        const strokes = await readLabelFile(resolve(ctx.cwd, strokesPath), basename(strokesPath));
        labels = runScribbleRoute(ctx, input.volume, strokes, scribbleRoute!).labels;
      }
      const written = writeLabelFile(labels, resolve(ctx.cwd, outPath));
      ctx.stdout.write(`wrote ${written.map((p) => basename(p)).join(', ')}\n`);
      return 0;
    }
    const options = {
      ...segArgs,
      name: optString(args, 'name'),
      color: parseColor(optString(args, 'color')),
      value: num(args, 'value', 1) ?? D.value,
      ...ctx.run,
    };
    const input = await loadInputFromArgs(ctx, args, inPath);
    for (const w of input.warnings) ctx.stderr.write(`warning: ${w}\n`);
    const result = segmentVolumeDetailed(input.volume, options);
    const written = writeLabelFile(result.labels, resolve(ctx.cwd, outPath));
    const g = result.labels.grid;
    const vox = Math.abs(g.spacing[0] * g.spacing[1] * g.spacing[2]);
    const seg = result.labels.segments[0]!;
    ctx.stdout.write(`segment "${seg.name}" (value ${seg.value}), threshold ${result.lower}..${result.upper}\n`);
    for (const s of result.steps) ctx.stdout.write(`  ${s.step.padEnd(13)} ${s.voxels} voxels\n`);
    const last = result.steps[result.steps.length - 1]!;
    ctx.stdout.write(
      `volume about ${((last.voxels * vox) / 1000).toFixed(2)} mL (slice2solid stats gives exact figures)\n`,
    );
    ctx.stdout.write(`wrote ${written.map((p) => basename(p)).join(', ')}\n`);
    return 0;
  },
};

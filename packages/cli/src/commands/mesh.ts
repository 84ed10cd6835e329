/**
 * slice2solid mesh <labels> <model.stl|.glb|.obj|.ply|.3mf> [--labels 1,2] [--scan <input>] [model options]
 *
 * Like `convert`, but starts from a label map (NIfTI / NRRD with its .segments.json sidecar, or
 * DICOM SEG): one structure per label, named and coloured from the segment table.
 */

import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { segmentsSidecarName } from '@slice2solid/io';
import { hashInputFiles, inputRecord, type StepRecord } from '@slice2solid/ops';
import { INPUT_HELP, INPUT_OPTIONS, loadInputFromArgs } from './common.js';
import {
  buildAndWrite,
  inputFilesForHash,
  MODEL_HELP,
  MODEL_OPTIONS,
  modelFormatOf,
  modelOptionsFromArgs,
} from './convert.js';
import { commandSummary } from './registry.js';
import { readLabelFile } from './segment.js';
import { type Command, optFlag, optString, UsageError } from './types.js';

function parseLabels(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const v = text.split(',').map((x) => Number(x.trim()));
  if (v.length === 0 || !v.every((x) => Number.isInteger(x) && x > 0)) {
    throw new UsageError(`--labels must be positive whole numbers like 1,3; got "${text}"`);
  }
  return v;
}

export const meshCommand: Command = {
  name: 'mesh',
  summary: commandSummary('mesh'),
  usage: 'mesh <labels.nii.gz|.nrrd|.seg.nrrd|.dcm> <model.stl|.glb|.obj|.ply|.3mf> [--labels 1,2] [options]',
  help: `Makes a model from a label map: every label (or those given with --labels) becomes a structure
named and coloured from the segment table (the .segments.json sidecar, 3D Slicer .seg.nrrd keys or
the DICOM SEG's segment sequence). One structure: marching cubes on the anti-aliased mask; several:
multi-label surface nets, so neighbouring structures share their interfaces exactly.
  --labels 1,2         the label values to model (default: all)
  --scan INPUT         the scan the labels were made from, for --color intensity

${MODEL_HELP}

${INPUT_HELP.replace('Input:', 'Scan (--scan):')}

Examples:
  slice2solid mesh bone.nii.gz bone.stl --decimate 0.2 --watertight
  slice2solid mesh organs.seg.nrrd organs.glb --labels 1,2,5`,
  options: { ...INPUT_OPTIONS, ...MODEL_OPTIONS, labels: { type: 'string' }, scan: { type: 'string' } },
  minPositionals: 2,
  maxPositionals: 2,
  async run(ctx, args) {
    const [labelPath, outPath] = args.positionals as [string, string];
    const runAt = new Date();
    const t0 = performance.now();
    const format = modelFormatOf(outPath, optFlag(args, 'ascii'));
    const model = modelOptionsFromArgs(args);
    const labels = parseLabels(optString(args, 'labels'));
    const scanPath = optString(args, 'scan');
    if (model.color === 'intensity' && scanPath === undefined) {
      throw new UsageError('--color intensity needs the scan', 'give it with --scan <input>');
    }
    const full = resolve(ctx.cwd, labelPath);
    const labelMap = await readLabelFile(full, basename(labelPath));
    const scan = scanPath === undefined ? undefined : (await loadInputFromArgs(ctx, args, scanPath)).volume;
    const tLoad = performance.now();
    // hash the label file, its data files and its segment-table sidecar
    const files = await inputFilesForHash(full);
    const sidecar = join(dirname(full), segmentsSidecarName(basename(full)));
    if (existsSync(sidecar)) files.push({ name: basename(sidecar), bytes: new Uint8Array(readFileSync(sidecar)) });
    const hashes = await hashInputFiles(files);
    const record = inputRecord({ kind: 'labels', grid: labelMap.grid, hashes, files: files.length });
    const loadStep: StepRecord = {
      step: 'load',
      options: { kind: 'labels', scan: scanPath !== undefined },
      seconds: (tLoad - t0) / 1000,
      result: {
        size: [...labelMap.grid.size],
        segments: labelMap.segments.map((s) => ({ value: s.value, name: s.name })),
      },
    };
    return buildAndWrite(ctx, args, {
      command: 'mesh',
      input: labelMap,
      options: { ...model, labels, colorVolume: scan },
      outPath,
      format,
      inputRecord: record,
      loadSteps: [loadStep],
      t0,
      runAt,
    });
  },
};

import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { maxCornerDistance, S2SError } from '@slice2solid/core';
import { writeCtSeries } from '@slice2solid/dicom';
import {
  buildModel,
  CT_HEAD_PHANTOM_DEFAULTS,
  inputRecord,
  makeCtHeadPhantom,
  type StepRecord,
} from '@slice2solid/ops';
import { loadInput } from '../input.js';
import { writeFileAtomic } from '../output.js';
import { formatGeometryReport, geometryReport } from '../report.js';
import { hashInputPath, printModelSummary, writeModel } from './convert.js';
import { commandSummary } from './registry.js';
import { type Command, optFlag, optString, UsageError } from './types.js';

export const DEMO_DEFAULTS = {
  outDir: 'slice2solid-demo',
  /** The model the demo ends with: the phantom's bone, smoothed and decimated, watertight. */
  model: 'head-bone.stl',
  modelOptions: { segment: { preset: 'bone' as const }, decimate: 0.3, watertight: true },
  seed: CT_HEAD_PHANTOM_DEFAULTS.seed,
} as const;

const DEMO_FILE = /^IM\d{4}\.dcm$/;

export const demoCommand: Command = {
  name: 'demo',
  summary: commandSummary('demo'),
  usage: 'demo [outdir] [--seed N] [--json]',
  help: `Makes the built-in procedural CT head phantom (HU: air, skin, fat, skull with diploe, brain,
ventricles, eyes, sinuses, jaw, cervical spine; seeded noise), writes it as a DICOM CT series with
slice2solid's writer into <outdir>/dicom (default ./${DEMO_DEFAULTS.outDir}), loads that series back
through the normal DICOM path and prints the geometry report, checking that every voxel came back
unchanged and in the same place. Then it makes a 3D model of the bone from that series, as
\`slice2solid convert <outdir>/dicom <outdir>/${DEMO_DEFAULTS.model} --preset bone --decimate 0.3 --watertight\`
would: <outdir>/${DEMO_DEFAULTS.model} and its run record, with the accuracy summary.

  --seed N      noise seed (default ${DEMO_DEFAULTS.seed}); the same seed writes the same files
  --json        print the report as JSON

The phantom has no patient identity: PatientName 'Phantom^Head', PatientID 'PHANTOM', no dates.`,
  options: { seed: { type: 'string' }, json: { type: 'boolean' } },
  minPositionals: 0,
  maxPositionals: 1,
  async run(ctx, args) {
    const outDir = resolve(ctx.cwd, args.positionals[0] ?? DEMO_DEFAULTS.outDir);
    const seedText = optString(args, 'seed');
    const seed = seedText === undefined ? DEMO_DEFAULTS.seed : Number(seedText);
    if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got "${seedText}"`);
    const dicomDir = join(outDir, 'dicom');
    let existing: string[] = [];
    try {
      existing = readdirSync(dicomDir);
    } catch {
      // a new folder
    }
    const foreign = existing.filter((n) => !DEMO_FILE.test(n));
    if (foreign.length > 0) {
      throw new S2SError(
        'IO_ERROR',
        `${dicomDir} already holds files that the demo did not write (e.g. ${foreign[0]})`,
        {
          hint: 'give an empty or new output folder',
        },
      );
    }
    const t0 = performance.now();
    const phantom = makeCtHeadPhantom({ seed, ...ctx.run });
    const files = writeCtSeries(phantom, {
      seed: `slice2solid-demo-${seed}`,
      seriesDescription: 'slice2solid demo: CT head phantom',
      ...ctx.run,
    });
    for (const n of existing) rmSync(join(dicomDir, n));
    mkdirSync(dicomDir, { recursive: true });
    for (const f of files) writeFileAtomic(join(dicomDir, f.name), f.bytes);
    const tWrite = performance.now();
    const input = await loadInput(dicomDir, { ...ctx.run });
    const tLoad = performance.now();

    // the round trip must be exact: same voxel centres, same values
    const back = input.volume;
    const offMm = back.grid.size.every((n, a) => n === phantom.grid.size[a])
      ? maxCornerDistance(back.grid, phantom.grid)
      : Number.POSITIVE_INFINITY;
    let changed = 0;
    if (Number.isFinite(offMm)) {
      for (let n = 0; n < phantom.data.length; n++) if (back.data[n] !== phantom.data[n]) changed++;
    }
    // the last step: turn the loaded series into a model, as `slice2solid convert` would
    const t1 = performance.now();
    const modelPath = join(outDir, DEMO_DEFAULTS.model);
    const hashes = await hashInputPath(dicomDir);
    const loadStep: StepRecord = {
      step: 'load',
      options: { kind: 'dicom', container: 'folder', series: 'automatic' },
      seconds: (tLoad - tWrite) / 1000,
      result: { size: [...back.grid.size], filesRead: input.fileCount },
    };
    const model = await buildModel(back, { ...DEMO_DEFAULTS.modelOptions, ...ctx.run });
    const modelSteps = [loadStep, ...model.steps];
    const written = await writeModel(ctx, modelPath, 'stl', model, {
      command: 'demo',
      input: inputRecord({ kind: 'dicom', grid: back.grid, hashes, files: hashes.files, volume: back }),
      steps: modelSteps,
      t0: t1,
      runAt: new Date(),
    });
    const modelSeconds = (performance.now() - t1) / 1000;
    const ok = offMm <= 1e-3 && changed === 0 && back.data.length === phantom.data.length;
    const report = geometryReport(input);
    if (optFlag(args, 'json')) {
      ctx.stdout.write(
        `${JSON.stringify(
          {
            outDir,
            dicomDir,
            files: files.length,
            roundTrip: { ok, maxVoxelCentreErrorMm: offMm, changedVoxels: changed },
            seconds: { phantomAndWrite: (tWrite - t0) / 1000, load: (tLoad - tWrite) / 1000, model: modelSeconds },
            report,
            model: {
              files: written.files,
              runRecord: written.runRecord,
              metrics: model.metrics,
              accuracy: model.accuracy,
              warnings: model.warnings,
            },
          },
          null,
          2,
        )}\n`,
      );
    } else {
      ctx.stdout.write(
        `Wrote the CT head phantom as ${files.length} DICOM files to ${dicomDir} (${((tWrite - t0) / 1000).toFixed(2)} s)\n`,
      );
      ctx.stdout.write(`Loaded it back through the DICOM reader (${((tLoad - tWrite) / 1000).toFixed(2)} s):\n\n`);
      ctx.stdout.write(formatGeometryReport(report));
      ctx.stdout.write(
        ok
          ? `\nRound trip: OK, all ${phantom.data.length} voxels identical, voxel centres within ${offMm.toExponential(1)} mm\n`
          : `\nRound trip: FAILED, ${changed} voxel(s) changed, voxel centres off by up to ${offMm} mm\n`,
      );
      ctx.stdout.write(`\nMade a 3D model of the bone (preset bone, smoothed, decimated to 30%, watertight):\n`);
      printModelSummary(ctx, { values: {}, positionals: [] }, model, written, modelSteps, modelSeconds);
      ctx.stdout.write(`\nOpen ${modelPath} in any 3D viewer or slicer.\n`);
    }
    return ok && model.metrics.watertight !== false ? 0 : 1;
  },
};

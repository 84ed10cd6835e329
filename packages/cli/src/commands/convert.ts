/**
 * slice2solid convert <scan> <model.stl|.glb|.obj|.ply|.3mf> --preset bone [--smooth N] [--decimate 0.1]
 *   [--watertight] [--color intensity]
 *
 * load -> segment -> surface -> smooth -> decimate -> (clean + check) -> colour -> export, then
 * the accuracy summary and `<name>.run.json` next to the model. Model options map onto
 * @slice2solid/ops BUILD_MODEL_DEFAULTS, segmentation options onto SEGMENT_DEFAULTS.
 *
 * The helpers here (model options, writing the model and its run record, the summary) are shared
 * with `slice2solid mesh` and the demo.
 */
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { LabelMap, Volume } from '@slice2solid/core';
import { companionFileNames, type MeshFormat, meshFormatFromFileName, writeMesh } from '@slice2solid/io';
import {
  BUILD_MODEL_DEFAULTS,
  type BuildModelOptions,
  type BuildModelResult,
  buildModel,
  hashInputFiles,
  type InputRecord,
  inputRecord,
  makeRunRecord,
  type OutputRecord,
  runRecordJson,
  runRecordName,
  type StepRecord,
  sha256Hex,
  THRESHOLD_PRESET_NAMES,
  THRESHOLD_PRESETS,
} from '@slice2solid/ops';
import { createWorkerRunner, type WorkerRunner } from '@slice2solid/ops/node';
import { contentKind, type InputFile, readFolder } from '../input.js';
import { writeFileAtomic } from '../output.js';
import { AI_OPTIONS, parseModelRouteArgs, printModelReport, runModelRoute } from './ai-segment.js';
import { INPUT_HELP, INPUT_OPTIONS, int, loadInputFromArgs, num } from './common.js';
import { commandSummary } from './registry.js';
import { parseSegmentArgs, SEGMENT_OPTIONS } from './segment-options.js';
import { type Command, type CommandContext, optFlag, optString, type ParsedArgs, UsageError } from './types.js';

const B = BUILD_MODEL_DEFAULTS;

export const MODEL_EXTENSIONS = ['.stl', '.glb', '.obj', '.ply', '.3mf'] as const;

/** The mesh format of the output name, or a UsageError naming the ones we write. */
export function modelFormatOf(path: string, ascii = false): MeshFormat {
  const f = meshFormatFromFileName(basename(path));
  if (!f) {
    throw new UsageError(
      `cannot tell the model format from "${basename(path)}"`,
      `end the output name with one of ${MODEL_EXTENSIONS.join(', ')}`,
    );
  }
  if (ascii && f !== 'stl') throw new UsageError('--ascii is only for .stl output');
  return ascii ? 'stl-ascii' : f;
}

/** The options of the model stage (shared by convert, mesh and demo). */
export const MODEL_OPTIONS = {
  surface: { type: 'string' },
  smooth: { type: 'string' },
  smoothing: { type: 'string' },
  'pass-band': { type: 'string' },
  decimate: { type: 'string' },
  'max-error': { type: 'string' },
  watertight: { type: 'boolean' },
  'min-component': { type: 'string' },
  color: { type: 'string' },
  window: { type: 'string' },
  'no-accuracy': { type: 'boolean' },
  ascii: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export const MODEL_HELP = `Model:
  --smooth N            smoothing iterations (default ${B.smoothIterations}; 0 = none)
  --smoothing M         windowed-sinc (default, keeps volume) or taubin
  --pass-band X         windowed-sinc pass band, 0..2, lower is smoother (default ${B.passBand})
  --decimate R          keep this fraction of the triangles, e.g. 0.1 (default ${B.decimate}: no decimation);
                        closed surfaces stay closed
  --max-error MM        largest deviation decimation may cause, in mm
  --watertight          clean up and check every structure with manifold-3d; exit code 1 if one
                        is not a closed 2-manifold
  --min-component MM3   drop closed pieces enclosing less than MM3 cubic millimetres
  --surface M           auto (default: marching cubes on the anti-aliased mask for one structure,
                        surface nets for several), marching-cubes or surface-nets
  --color C             segment (default: per-structure colours from the segment table, in formats
                        that hold them: glb, obj, ply, 3mf) or intensity (grey vertex colours from
                        the scan ${B.colorDepthMm} mm under the surface)
  --window C,W          intensity colours: window centre and width (default: 1st..99th percentile)
  --no-accuracy         skip the accuracy report (Dice, surface distance, volume change)
  --ascii               ASCII instead of binary STL
  --json                print the summary as JSON
Large scans are modelled on every core that is free (S2S_THREADS=N sets the number of threads,
1 = one); the model is the same, bit for bit, whatever the number of threads.
Every run writes <name>.run.json next to the model: tool version, input hashes and geometry,
every step with its options, output files, metrics, accuracy and warnings; no patient identifiers.`;

export function modelOptionsFromArgs(args: ParsedArgs): Omit<BuildModelOptions, 'segment' | 'signal' | 'onProgress'> {
  const surface = optString(args, 'surface') ?? B.surface;
  if (!['auto', 'marching-cubes', 'surface-nets'].includes(surface)) {
    throw new UsageError(`unknown --surface "${surface}"`, 'use auto, marching-cubes or surface-nets');
  }
  const smoothing = optString(args, 'smoothing') ?? B.smoothing;
  if (!['windowed-sinc', 'taubin', 'none'].includes(smoothing)) {
    throw new UsageError(`unknown --smoothing "${smoothing}"`, 'use windowed-sinc or taubin (or --smooth 0)');
  }
  const color = optString(args, 'color') ?? B.color;
  if (color !== 'segment' && color !== 'intensity') {
    throw new UsageError(`unknown --color "${color}"`, 'use segment or intensity');
  }
  const decimate = num(args, 'decimate', 0, 1);
  if (decimate !== undefined && decimate <= 0) {
    throw new UsageError('--decimate must be above 0 (the fraction of triangles to keep), e.g. 0.1');
  }
  const win = optString(args, 'window');
  let window: { center: number; width: number } | undefined;
  if (win !== undefined) {
    const p = win.split(',').map((x) => Number(x.trim()));
    if (p.length !== 2 || !p.every(Number.isFinite) || !(p[1]! > 0)) {
      throw new UsageError(`--window must be centre,width with width > 0, like 400,1500; got "${win}"`);
    }
    window = { center: p[0]!, width: p[1]! };
  }
  return {
    surface: surface as BuildModelOptions['surface'] & string,
    smoothing: smoothing as BuildModelOptions['smoothing'] & string,
    smoothIterations: int(args, 'smooth', 0) ?? B.smoothIterations,
    passBand: num(args, 'pass-band', 0, 2) ?? B.passBand,
    decimate: decimate ?? B.decimate,
    decimateMaxErrorMm: num(args, 'max-error', 0),
    watertight: optFlag(args, 'watertight'),
    minComponentVolumeMm3: num(args, 'min-component', 0) ?? B.minComponentVolumeMm3,
    color,
    colorWindow: window,
    accuracy: !optFlag(args, 'no-accuracy'),
  };
}

/** The files a path stands for, for hashing (the same ones the loader reads). */
export async function inputFilesForHash(path: string): Promise<InputFile[]> {
  const st = statSync(path);
  if (st.isDirectory()) return readFolder(path).files;
  const bytes = new Uint8Array(readFileSync(path));
  const name = basename(path);
  const files: InputFile[] = [{ name, bytes }];
  const kind = await contentKind(name, bytes);
  if (kind === 'nifti' || kind === 'nifti-pair' || kind === 'nrrd' || kind === 'metaimage') {
    for (const c of companionFileNames(name, bytes)) {
      try {
        files.push({ name: c, bytes: new Uint8Array(readFileSync(resolve(dirname(path), c))) });
      } catch {
        // the loader has already reported a missing data file
      }
    }
  }
  return files;
}

export async function hashInputPath(
  path: string,
): Promise<{ sha256: string; fileSha256?: string[]; bytes: number; files: number }> {
  const files = await inputFilesForHash(path);
  return { ...(await hashInputFiles(files)), files: files.length };
}

export function readToolVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export interface WrittenModel {
  readonly files: readonly string[];
  readonly runRecord: string;
  readonly outputs: readonly OutputRecord[];
  readonly exportSeconds: number;
}

/** Writes the model files and `<name>.run.json` next to them (atomically). */
export async function writeModel(
  ctx: CommandContext,
  outPath: string,
  format: MeshFormat,
  result: BuildModelResult,
  record: { command: string; input: InputRecord; steps: readonly StepRecord[]; t0: number; runAt: Date },
): Promise<WrittenModel> {
  const full = resolve(ctx.cwd, outPath);
  const dir = dirname(full);
  const t = performance.now();
  const files = await writeMesh(result.mesh, format, { name: basename(full), ...ctx.run });
  const outputs: OutputRecord[] = [];
  for (const f of files) {
    writeFileAtomic(join(dir, f.name), f.bytes);
    outputs.push({
      file: f.name,
      format: f.name.endsWith('.mtl') ? 'mtl' : format,
      bytes: f.bytes.length,
      sha256: await sha256Hex(f.bytes),
    });
  }
  const exportSeconds = (performance.now() - t) / 1000;
  const steps: StepRecord[] = [
    ...record.steps,
    { step: 'export', options: { format }, seconds: exportSeconds, result: { files: files.length } },
  ];
  const runName = runRecordName(files[0]!.name);
  const rec = makeRunRecord({
    tool: { name: 'slice2solid', version: readToolVersion() },
    command: record.command,
    runAt: record.runAt,
    seconds: (performance.now() - record.t0) / 1000,
    input: record.input,
    steps,
    outputs,
    metrics: result.metrics,
    accuracy: result.accuracy,
    warnings: result.warnings,
  });
  writeFileAtomic(join(dir, runName), new TextEncoder().encode(runRecordJson(rec)));
  return { files: files.map((f) => join(dir, f.name)), runRecord: join(dir, runName), outputs, exportSeconds };
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const pad = (s: string, n: number) => (s.length >= n ? `${s} ` : s.padEnd(n));

/** The human summary (or JSON with --json) printed after a model is written. */
export function printModelSummary(
  ctx: CommandContext,
  args: ParsedArgs,
  result: BuildModelResult,
  written: WrittenModel,
  steps: readonly StepRecord[],
  seconds: number,
): void {
  const m = result.metrics;
  if (optFlag(args, 'json')) {
    ctx.stdout.write(
      `${JSON.stringify(
        {
          files: written.files.map((f) => basename(f)),
          runRecord: basename(written.runRecord),
          metrics: m,
          accuracy: result.accuracy,
          warnings: result.warnings,
          seconds,
        },
        (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
        2,
      )}\n`,
    );
    return;
  }
  const w = Math.max(12, ...m.perStructure.map((s) => s.name.length + 2));
  ctx.stdout.write(
    `Model: ${written.files.map((f) => basename(f)).join(', ')}: ${m.structures} structure(s), ${fmtInt(m.triangles)} triangles, ${m.volumeMl.toFixed(2)} mL\n`,
  );
  for (const s of m.perStructure) {
    const tight =
      s.watertight === undefined
        ? `watertight ${s.closedManifold ? 'yes' : 'NO'} (edge check)`
        : `watertight ${s.watertight ? 'yes' : 'NO'} (manifold-3d${s.watertight ? '' : `: ${s.watertightStatus}`})`;
    ctx.stdout.write(
      `  ${pad(s.name, w)}${fmtInt(s.triangles).padStart(11)} triangles ${s.volumeMl.toFixed(2).padStart(10)} mL   ${s.components} piece(s)   ${tight}\n`,
    );
  }
  if (result.accuracy.length > 0) {
    ctx.stdout.write('Accuracy against the segmentation:\n');
    for (const a of result.accuracy) {
      ctx.stdout.write(
        `  ${pad(a.name, w)}Dice ${a.dice.toFixed(4)}   surface distance mean ${a.meanDistanceMm.toFixed(2)} mm, 95% ${a.p95DistanceMm.toFixed(2)} mm   volume change ${signed(a.volumeChangePercent)}% (smoothing + decimation), ${signed(a.volumeChangeVsMaskPercent)}% vs voxels\n`,
      );
    }
  }
  const byStep = new Map<string, number>();
  for (const s of steps) byStep.set(s.step, (byStep.get(s.step) ?? 0) + s.seconds);
  byStep.set('write', (byStep.get('write') ?? 0) + written.exportSeconds);
  ctx.stdout.write(
    `Time: ${seconds.toFixed(1)} s (${[...byStep].map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')})\n`,
  );
  ctx.stdout.write(`Run record: ${basename(written.runRecord)}\n`);
  for (const wmsg of result.warnings) ctx.stdout.write(`warning: ${wmsg}\n`);
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
}

/** Scans smaller than this (voxels) are modelled on one thread (starting workers would cost more). */
export const MODEL_THREADS_MIN_VOXELS = 1 << 23;

/**
 * Cores not busy with other work right now: the cores less the other runnable threads of the
 * system (Linux: /proc/loadavg's instantaneous "running" count, the lowest of a few samples,
 * less this thread; elsewhere the 1-minute load average). Threads that must wait for a busy core
 * make every step wait for them (each step ends when all its slabs are done), so a second thread
 * only pays on a free core.
 */
export async function freeCores(): Promise<number> {
  const cores = availableParallelism();
  let others = Number.POSITIVE_INFINITY;
  try {
    for (let n = 0; n < 5; n++) {
      if (n > 0) await new Promise((r) => setTimeout(r, 4));
      const running = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3]?.split('/')[0]);
      if (Number.isFinite(running)) others = Math.min(others, Math.max(0, running - 1));
    }
  } catch {
    // not Linux
  }
  if (!Number.isFinite(others)) others = loadavg()[0] ?? 0;
  return Math.max(1, Math.min(cores, Math.round(cores - others)));
}

/**
 * Worker threads for the model steps of a scan this size: one per free core (freeCores; the
 * environment variable S2S_THREADS sets the number instead, 1 = none), for scans of
 * MODEL_THREADS_MIN_VOXELS voxels or more. Resolves to undefined (one thread) when the workers
 * cannot start. The model does not depend on the number of threads.
 */
export async function modelRunner(voxels: number): Promise<WorkerRunner | undefined> {
  if (voxels < MODEL_THREADS_MIN_VOXELS) return undefined;
  const env = Number(process.env.S2S_THREADS);
  const threads = Number.isInteger(env) && env >= 1 ? Math.min(env, 64) : await freeCores();
  if (threads <= 1) return undefined;
  return createWorkerRunner({ threads }).catch(() => undefined);
}

/** Runs buildModel, writes the model and run record, prints the summary; returns the exit code. */
export async function buildAndWrite(
  ctx: CommandContext,
  args: ParsedArgs,
  init: {
    command: string;
    input: Volume | LabelMap;
    options: BuildModelOptions;
    outPath: string;
    format: MeshFormat;
    inputRecord: InputRecord;
    loadSteps: readonly StepRecord[];
    t0: number;
    runAt: Date;
    /** Worker threads for the model steps (default: modelRunner for the input's size); the model is the same without. */
    parallel?: Promise<WorkerRunner | undefined> | undefined;
  },
): Promise<number> {
  const size = init.input.grid.size;
  const parallel = await (init.parallel ?? modelRunner(size[0] * size[1] * size[2]));
  let result: BuildModelResult;
  try {
    result = await buildModel(init.input, { ...init.options, ...ctx.run, ...(parallel ? { parallel } : {}) });
  } finally {
    await parallel?.close();
  }
  const steps = [...init.loadSteps, ...result.steps];
  const written = await writeModel(ctx, init.outPath, init.format, result, {
    command: init.command,
    input: init.inputRecord,
    steps,
    t0: init.t0,
    runAt: init.runAt,
  });
  printModelSummary(ctx, args, result, written, steps, (performance.now() - init.t0) / 1000);
  return result.metrics.watertight === false ? 1 : 0;
}

export const convertCommand: Command = {
  name: 'convert',
  summary: commandSummary('convert'),
  usage:
    'convert <input> <model.stl|.glb|.obj|.ply|.3mf> (--preset NAME | --lower X [--upper Y] | --otsu | --model NAME) [options]',
  help: `Loads the scan, segments one structure, makes its surface, smooths and decimates it, writes the
model and <name>.run.json next to it, and prints a summary: structures, triangles, volume,
watertightness, accuracy (Dice, mean / 95% surface distance, volume change) and time.

Segmentation (one of):
  --preset NAME        CT preset in HU: ${THRESHOLD_PRESET_NAMES.map((n) => `${n} (${THRESHOLD_PRESETS[n].lower}..${THRESHOLD_PRESETS[n].upper})`).join(', ')}
  --lower X --upper Y  explicit range (inclusive); either alone leaves the other side open
  --otsu               automatic threshold (MR, uncalibrated data); --otsu-classes N, --otsu-keep K
  --force              allow a HU preset on an image whose values do not look like HU
  --close MM, --min-island MM3, --keep-largest, --fill-holes, --fill-holes-slice, --connectivity N,
  --frame N            clean-up as in "slice2solid segment" (all off by default)
  --model NAME|PATH    an AI model instead of a threshold (see "slice2solid segment --help"): each
                       structure becomes a mesh, named and coloured from the model card;
                       with --structures A,B, --roi-first, --roi-factor, --roi-margin, --device, --threads

${MODEL_HELP}

${INPUT_HELP}

Examples:
  slice2solid convert ct/ skull.stl --preset bone --decimate 0.2
  slice2solid convert head.nii.gz head.glb --preset skin --keep-largest --watertight
  slice2solid convert ct.nrrd bone.ply --preset bone --color intensity
  slice2solid convert ct.nii.gz organs.glb --model ct-torso-small --structures liver,spleen --roi-first`,
  options: {
    ...INPUT_OPTIONS,
    ...MODEL_OPTIONS,
    ...SEGMENT_OPTIONS,
    ...AI_OPTIONS,
  },
  minPositionals: 2,
  maxPositionals: 2,
  async run(ctx, args) {
    const [inPath, outPath] = args.positionals as [string, string];
    const runAt = new Date();
    const t0 = performance.now();
    // check every option before the (slow) load
    const format = modelFormatOf(outPath, optFlag(args, 'ascii'));
    const segment = parseSegmentArgs(args);
    const modelRoute = parseModelRouteArgs(args, segment);
    if (
      !modelRoute &&
      segment.preset === undefined &&
      segment.lower === undefined &&
      segment.upper === undefined &&
      !segment.otsu
    ) {
      throw new UsageError(
        'nothing to segment with: give --preset, --lower/--upper or --otsu',
        `e.g. --preset bone (presets: ${THRESHOLD_PRESET_NAMES.join(', ')})`,
      );
    }
    const model = modelOptionsFromArgs(args);
    const input = await loadInputFromArgs(ctx, args, inPath);
    for (const w of input.warnings) ctx.stderr.write(`warning: ${w}\n`);
    const tLoad = performance.now();
    // the workers start while the input is hashed
    const g = input.volume.grid.size;
    const parallel = modelRoute ? undefined : modelRunner(g[0] * g[1] * g[2]);
    const hashes = await hashInputPath(resolve(ctx.cwd, inPath));
    const record = inputRecord({
      kind: input.kind,
      grid: input.volume.grid,
      hashes,
      files: hashes.files,
      volume: input.volume,
    });
    const loadStep: StepRecord = {
      step: 'load',
      options: {
        kind: input.kind,
        container: input.container,
        series: optString(args, 'series') === undefined ? 'automatic' : 'chosen',
        rawGeometry: optFlag(args, 'raw-geometry'),
        ...(optString(args, 'spacing') ? { spacing: optString(args, 'spacing') } : {}),
      },
      seconds: (tLoad - t0) / 1000,
      result: {
        size: [...input.volume.grid.size],
        frames: input.volume.frames,
        units: String(input.volume.units),
        filesRead: input.fileCount,
        filesSkipped: input.skipped.length,
      },
    };
    if (modelRoute) {
      const tSeg = performance.now();
      const r = await runModelRoute(ctx, input.volume, modelRoute);
      // the model summary goes to stderr with --json so that stdout stays one JSON document
      printModelReport(optFlag(args, 'json') ? { ...ctx, stdout: ctx.stderr } : ctx, r);
      const segStep: StepRecord = {
        step: 'segment',
        options: {
          model: r.card.name,
          modelVersion: r.card.version,
          structures: modelRoute.structures ?? 'all',
          roiFirst: modelRoute.roiFirst,
          postprocess: modelRoute.postprocess,
          executionProvider: r.report.executionProvider,
        },
        seconds: (performance.now() - tSeg) / 1000,
        result: {
          patches: r.report.patches,
          voxelsInferred: r.report.voxelsInferred,
          structures: r.report.structures.map((s) => ({ name: s.name, value: s.value, voxels: s.voxels })),
        },
      };
      return buildAndWrite(ctx, args, {
        command: 'convert',
        input: r.labels,
        options: { ...model, colorVolume: input.volume },
        outPath,
        format,
        inputRecord: record,
        loadSteps: [loadStep, segStep],
        t0,
        runAt,
      });
    }
    return buildAndWrite(ctx, args, {
      command: 'convert',
      input: input.volume,
      options: { ...model, segment },
      outPath,
      format,
      inputRecord: record,
      loadSteps: [loadStep],
      t0,
      runAt,
      parallel,
    });
  },
};

/**
 * The AI routes shared by `segment` and `convert`: `--model <name|path>` (a model package from the
 * store, run with @slice2solid/ai segmentWithModel through onnxruntime-node) and, for `segment`,
 * `--scribbles <strokes label map>` (the ops scribble assistant). The clean-up options of
 * SEGMENT_OPTIONS (--min-island, --keep-largest, --fill-holes, --connectivity) apply per structure.
 */
import {
  LOOK_FIRST_DEFAULTS,
  type LookFirstOptions,
  postprocessStructures,
  type SegmentWithModelReport,
  type StructurePostprocess,
  segmentWithModel,
} from '@slice2solid/ai';
import { onnxRuntimeNodeBackend, resolveModel } from '@slice2solid/ai/node';
import { type LabelMap, makeLabelMap, type Segment, type Volume } from '@slice2solid/core';
import { scribbleSegment } from '@slice2solid/ops';
import { int, num } from './common.js';
import type { SegmentArgs } from './segment-options.js';
import { type CommandContext, optFlag, optString, type ParsedArgs, UsageError } from './types.js';

export const AI_OPTIONS = {
  model: { type: 'string' },
  'roi-first': { type: 'boolean' },
  'roi-factor': { type: 'string' },
  'roi-margin': { type: 'string' },
  structures: { type: 'string' },
  device: { type: 'string' },
  threads: { type: 'string' },
} as const;

export const SCRIBBLE_OPTIONS = {
  scribbles: { type: 'string' },
  'scribble-background': { type: 'string' },
} as const;

export const AI_HELP = `AI model (instead of a threshold):
  --model NAME|PATH    a model from "slice2solid models list", or a model package folder; its
                       structures (names, colours, codes) go into the label map
  --structures A,B     only these structures (names from "slice2solid models info NAME")
  --roi-first          look first: a coarse pass (spacing x ${LOOK_FIRST_DEFAULTS.factor}) finds the structures, full resolution
                       runs only in their box + ${LOOK_FIRST_DEFAULTS.marginMm} mm (grown when the prediction touches it)
  --roi-factor F       coarse pass spacing factor (default ${LOOK_FIRST_DEFAULTS.factor}); --roi-margin MM the margin
  --device cpu|cuda    execution provider (cuda falls back to cpu with a warning when unavailable)
  --threads N          CPU threads inside one operator (default: the runtime's choice)
  --min-island, --keep-largest, --fill-holes(-slice), --connectivity apply to every structure`;

export const SCRIBBLE_HELP = `Scribbles (a random forest learns from your strokes, no model needed):
  --scribbles FILE     a label map on the scan's grid: value 1 = structure, 2 = background (more
                       classes allowed: every value but the background becomes a structure, named
                       from the strokes' segment table)
  --scribble-background N   the background stroke value (default 2)`;

/** True when any threshold option is given (they do not go with --model / --scribbles). */
function hasThreshold(s: SegmentArgs): boolean {
  return s.preset !== undefined || s.lower !== undefined || s.upper !== undefined || s.otsu === true;
}

export function postprocessFromSegmentArgs(s: SegmentArgs): StructurePostprocess {
  if ((s.close ?? 0) > 0) {
    throw new UsageError('--close is not available with --model or --scribbles', 'use --fill-holes or --min-island');
  }
  return {
    minIslandMm3: s.minIsland ?? 0,
    keepLargest: s.keepLargest === true,
    fillHoles: s.fillHoles === 'slice' ? 'slice' : s.fillHoles === true,
    ...(s.connectivity ? { connectivity: s.connectivity } : {}),
  };
}

export interface ModelRouteArgs {
  readonly model: string;
  readonly structures: string[] | undefined;
  readonly roiFirst: false | LookFirstOptions;
  readonly device: 'cpu' | 'cuda';
  readonly threads: number | undefined;
  readonly postprocess: StructurePostprocess;
}

/** The --model options, checked before the (slow) load; undefined without --model. */
export function parseModelRouteArgs(args: ParsedArgs, seg: SegmentArgs): ModelRouteArgs | undefined {
  const model = optString(args, 'model');
  const aiOnly = ['roi-first', 'roi-factor', 'roi-margin', 'structures', 'device', 'threads'].filter(
    (k) => args.values[k] !== undefined,
  );
  if (model === undefined) {
    if (aiOnly.length > 0) throw new UsageError(`--${aiOnly[0]} needs --model`);
    return undefined;
  }
  if (model.trim() === '') throw new UsageError('--model needs a model name or a model package folder');
  if (hasThreshold(seg)) {
    throw new UsageError('give either --model or a threshold (--preset, --lower/--upper, --otsu), not both');
  }
  const structuresText = optString(args, 'structures');
  const structures =
    structuresText === undefined
      ? undefined
      : structuresText
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  if (structures !== undefined && structures.length === 0) {
    throw new UsageError('--structures needs one or more structure names, like liver,spleen');
  }
  const device = optString(args, 'device') ?? 'cpu';
  if (device !== 'cpu' && device !== 'cuda') throw new UsageError(`unknown --device "${device}"`, 'use cpu or cuda');
  const factor = num(args, 'roi-factor', 1);
  const margin = num(args, 'roi-margin', 0);
  const roi = optFlag(args, 'roi-first');
  if (!roi && (factor !== undefined || margin !== undefined))
    throw new UsageError('--roi-factor and --roi-margin need --roi-first');
  return {
    model,
    structures,
    roiFirst: roi
      ? { ...(factor !== undefined ? { factor } : {}), ...(margin !== undefined ? { marginMm: margin } : {}) }
      : false,
    device,
    threads: int(args, 'threads', 1),
    postprocess: postprocessFromSegmentArgs(seg),
  };
}

export interface ModelRouteResult {
  readonly labels: LabelMap;
  readonly report: SegmentWithModelReport;
  readonly card: { readonly name: string; readonly version: string };
  readonly warnings: readonly string[];
}

/** Resolves the model, runs it on the volume and returns the label map and the report. */
export async function runModelRoute(ctx: CommandContext, volume: Volume, a: ModelRouteArgs): Promise<ModelRouteResult> {
  const resolved = resolveModel(a.model, { cwd: ctx.cwd });
  const warnings = [...resolved.warnings];
  const backend = onnxRuntimeNodeBackend();
  const session = await backend.createSession(resolved.onnx, {
    executionProviders: a.device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    ...(a.threads !== undefined ? { intraOpNumThreads: a.threads } : {}),
  });
  if (a.device === 'cuda' && session.executionProvider !== 'cuda') {
    warnings.push('the CUDA execution provider could not start; the model ran on the CPU');
  }
  try {
    const { labels, report } = await segmentWithModel(volume, resolved.card, session, {
      ...(a.structures ? { structures: a.structures } : {}),
      roiFirst: a.roiFirst === false ? false : a.roiFirst,
      postprocess: a.postprocess,
      ...ctx.run,
    });
    return { labels, report, card: resolved.card, warnings: [...warnings, ...report.warnings] };
  } finally {
    await session.dispose();
  }
}

const f1 = (x: number) => x.toFixed(1);

/** The human summary of a model run. */
export function printModelReport(ctx: CommandContext, r: ModelRouteResult): void {
  const rep = r.report;
  const w = (s: string) => ctx.stdout.write(`${s}\n`);
  w(
    `model ${r.card.name} ${r.card.version} on ${rep.executionProvider}: source ${rep.sourceGrid.size.join('x')}, model grid ${rep.modelGrid.size.join('x')} at ${rep.modelGrid.spacing.map((s) => s.toFixed(2)).join(' x ')} mm`,
  );
  w(
    `  ${rep.patches} patch(es), ${rep.runs} run(s), ${rep.voxelsInferred.toLocaleString('en-US')} of ${rep.modelVoxels.toLocaleString('en-US')} model voxels inferred, memory estimate ${(rep.memoryEstimateBytes / 1024 ** 2).toFixed(0)} MiB`,
  );
  const lf = rep.lookFirst;
  if (lf) {
    w(
      lf.found
        ? `  look-first: coarse ${lf.coarseGrid.size.join('x')} in ${f1(lf.coarseSeconds)} s, box ${lf.box!.start.join(',')}..${lf.box!.end.join(',')} (${lf.growSteps} growth step(s)); ${f1(lf.voxelSpeedup)}x fewer voxels, about ${f1(lf.speedup)}x faster than full inference (estimated ${f1(lf.estimatedFullSeconds)} s)`
        : '  look-first: nothing found on the coarse grid; the whole volume was inferred',
    );
  }
  w(`  time: ${rep.stages.map((s) => `${s.stage} ${f1(s.seconds)} s`).join(', ')}`);
  for (const s of rep.structures) {
    w(
      `  ${String(s.value).padStart(3)}  ${s.name}: ${s.voxels} voxels, ${s.volumeMl.toFixed(2)} mL${s.steps.length > 0 ? ` (${s.steps.join(', ')})` : ''}`,
    );
  }
  for (const msg of r.warnings) ctx.stderr.write(`warning: ${msg}\n`);
}

export interface ScribbleRouteArgs {
  readonly background: number;
  readonly postprocess: StructurePostprocess;
}

export function parseScribbleArgs(args: ParsedArgs, seg: SegmentArgs): ScribbleRouteArgs | undefined {
  const path = optString(args, 'scribbles');
  if (path === undefined) {
    if (args.values['scribble-background'] !== undefined)
      throw new UsageError('--scribble-background needs --scribbles');
    return undefined;
  }
  if (optString(args, 'model') !== undefined) throw new UsageError('give either --model or --scribbles, not both');
  if (hasThreshold(seg)) {
    throw new UsageError('give either --scribbles or a threshold (--preset, --lower/--upper, --otsu), not both');
  }
  const background = int(args, 'scribble-background', 1) ?? 2;
  if (background > 255) throw new UsageError('--scribble-background must be 1..255');
  return { background, postprocess: postprocessFromSegmentArgs(seg) };
}

/** Trains the scribble assistant on the strokes and segments the whole volume; prints what it did. */
export function runScribbleRoute(
  ctx: CommandContext,
  volume: Volume,
  strokes: LabelMap,
  a: ScribbleRouteArgs,
): { labels: LabelMap; classes: readonly number[]; trainSeconds: number } {
  const painted = new Set<number>();
  for (let p = 0; p < strokes.data.length; p++) if (strokes.data[p] !== 0) painted.add(strokes.data[p]!);
  if (!painted.has(a.background)) {
    throw new UsageError(
      `the strokes have no background (value ${a.background}); they hold ${[...painted].sort((x, y) => x - y).join(', ') || 'nothing'}`,
      'paint some background with value 2 (or name its value with --scribble-background)',
    );
  }
  if (painted.size < 2) throw new UsageError('the strokes need at least one structure value besides the background');
  if ([...painted].some((v) => v > 255)) throw new UsageError('stroke values must be 1..255');
  const result = scribbleSegment(volume, { data: strokes.data, grid: strokes.grid }, { ...ctx.run });
  const data = Uint8Array.from(result.labels, (v) => (v === a.background ? 0 : v));
  const values = result.model.classes.filter((v) => v !== a.background).sort((x, y) => x - y);
  const segments: Segment[] = values.map((v) => {
    const s = strokes.segments.find((x) => x.value === v);
    return s ?? { value: v, name: values.length === 1 ? 'structure' : `structure ${v}`, color: [230, 160, 60] };
  });
  const steps = postprocessStructures(data, volume.grid, segments, a.postprocess, new Map(), ctx.run);
  const t = result.timings;
  ctx.stdout.write(
    `scribbles: classes ${result.model.classes.map((c) => (c === a.background ? `${c} (background)` : String(c))).join(', ')}; ${result.model.samples.join(' / ')} painted voxels used\n`,
  );
  ctx.stdout.write(
    `  training ${((t.featuresMs + t.trainMs) / 1000).toFixed(2)} s (features ${(t.featuresMs / 1000).toFixed(2)} s, forest ${(t.trainMs / 1000).toFixed(2)} s), prediction ${(t.predictMs / 1000).toFixed(2)} s\n`,
  );
  for (const s of steps) {
    ctx.stdout.write(
      `  ${String(s.value).padStart(3)}  ${s.name}: ${s.voxels} voxels, ${s.volumeMl.toFixed(2)} mL${s.steps.length > 0 ? ` (${s.steps.join(', ')})` : ''}\n`,
    );
  }
  return {
    labels: makeLabelMap({ grid: volume.grid, data, segments }),
    classes: result.model.classes,
    trainSeconds: (t.featuresMs + t.trainMs) / 1000,
  };
}

/**
 * Segmentation with a model package: the one entry point that turns a scan into a label map on
 * the scan's own grid.
 *
 *   preprocess (reorient, normalise, resample to the card's grid)
 *   -> sliding-window inference (or look-first: coarse pass, then only the box that matters)
 *   -> back to the source grid (labels by nearest neighbour, or uint8 probabilities resampled
 *      linearly and arg-maxed there)
 *   -> keep only the requested structures (by label name)
 *   -> per-structure postprocessing: small-island removal, largest component, hole filling.
 *
 * The runtime is a parameter (an `InferenceSessionLike` from any backend), so this runs in
 * browsers and in Node. The report says what was done and how long each stage took.
 */
import {
  type Grid,
  type LabelMap,
  makeLabelMap,
  type RunOptions,
  S2SError,
  throwIfAborted,
  type Vec3,
  type Volume,
  voxelCount,
} from '@slice2solid/core';
import { type Connectivity, fillHoles, keepLargest, removeIslands } from '@slice2solid/ops';
import type { InferenceSessionLike } from './backend.js';
import {
  fullInference,
  type LookFirstOptions,
  type LookFirstReport,
  lookFirstInference,
  type ModelGridPrediction,
  type ModelRunSettings,
} from './look-first.js';
import { labelValuesOf, type ModelCard, type OutputLabel } from './model-card.js';
import { labelsToSource, probabilitiesToSource, segmentsFromCard } from './postprocess.js';
import { preprocessForModel } from './preprocess.js';
import { SLIDING_WINDOW_DEFAULTS } from './sliding-window.js';

/** Clean-up of one structure on the source grid (every step off by default). */
export interface StructurePostprocess {
  /** Remove connected pieces smaller than this, mm³ (0: off; 1 mL = 1000 mm³). */
  readonly minIslandMm3?: number;
  /** Keep only the largest connected piece. */
  readonly keepLargest?: boolean;
  /** Fill enclosed background cavities: true / '3d', or per axial slice ('slice', k axis). Never overwrites another structure. */
  readonly fillHoles?: boolean | '3d' | 'slice';
  readonly connectivity?: Connectivity;
}

export const STRUCTURE_POSTPROCESS_DEFAULTS = {
  minIslandMm3: 0,
  keepLargest: false,
  fillHoles: false,
  connectivity: 26,
} as const satisfies Required<StructurePostprocess>;

export interface SegmentWithModelOptions extends RunOptions {
  /** Label names to keep (default: every structure of the card). Unknown names are an error. */
  readonly structures?: readonly string[];
  /** Look first: a coarse pass finds the structures, full resolution runs only around them. */
  readonly roiFirst?: boolean | LookFirstOptions;
  /** Clean-up applied to every kept structure. */
  readonly postprocess?: StructurePostprocess;
  /** Per-structure clean-up by label name (replaces `postprocess` for that structure). */
  readonly postprocessByStructure?: Readonly<Record<string, StructurePostprocess>>;
  /** Refuse to run the sliding window over this many bytes of working memory. */
  readonly memoryBudgetBytes?: number;
  /** Patches per model run. */
  readonly batchSize?: number;
  /** Mirroring axes for test-time augmentation (default: the card's `inference.mirrorAxes`). */
  readonly mirrorAxes?: readonly number[];
  /** Patch overlap (default: the card's `inference.overlap`). */
  readonly overlap?: number;
  /** 'labels' (nearest neighbour, fast) or 'probabilities' (linear, then arg-max; smoother when the model grid is coarser). */
  readonly backToSource?: 'labels' | 'probabilities';
}

export const SEGMENT_WITH_MODEL_DEFAULTS = {
  roiFirst: false,
  memoryBudgetBytes: SLIDING_WINDOW_DEFAULTS.memoryBudgetBytes,
  batchSize: 1,
  backToSource: 'labels',
} as const satisfies SegmentWithModelOptions;

export interface StageTiming {
  readonly stage: string;
  readonly seconds: number;
}

export interface StructureReport {
  readonly value: number;
  readonly name: string;
  /** Voxels on the source grid before and after postprocessing. */
  readonly voxelsBefore: number;
  readonly voxels: number;
  readonly volumeMl: number;
  readonly steps: readonly string[];
}

export interface SegmentWithModelReport {
  readonly model: { readonly name: string; readonly version: string };
  readonly executionProvider: string;
  readonly sourceGrid: { readonly size: Vec3; readonly spacing: Vec3 };
  readonly modelGrid: { readonly size: Vec3; readonly spacing: Vec3 };
  readonly patches: number;
  readonly runs: number;
  /** Model-grid voxels sent through the model (coarse pass included) and the model grid's size. */
  readonly voxelsInferred: number;
  readonly modelVoxels: number;
  readonly stages: readonly StageTiming[];
  readonly totalSeconds: number;
  /** Rough peak working memory: image copies, model input, sliding-window buffers, outputs. */
  readonly memoryEstimateBytes: number;
  readonly structures: readonly StructureReport[];
  readonly lookFirst?: LookFirstReport;
  readonly warnings: readonly string[];
}

export interface SegmentWithModelResult {
  /** On the source volume's grid, with the card's segments (names, colours, codes). */
  readonly labels: LabelMap;
  readonly report: SegmentWithModelReport;
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** The card labels named in `structures` (all structures when undefined); S2SError for unknown names. */
export function resolveStructures(card: ModelCard, structures: readonly string[] | undefined): OutputLabel[] {
  const all = card.output.labels.filter((l) => l.value > 0);
  if (structures === undefined) return all;
  if (structures.length === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'no structure was requested', {
      hint: `name one or more of: ${all.map((l) => l.name).join(', ')}`,
    });
  }
  const byName = new Map(all.map((l) => [l.name.toLowerCase(), l]));
  const unknown = structures.filter((s) => !byName.has(s.trim().toLowerCase()));
  if (unknown.length > 0) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the model "${card.name}" has no structure ${unknown.map((u) => `"${u}"`).join(', ')}`,
      { hint: `its structures are: ${all.map((l) => l.name).join(', ')}` },
    );
  }
  const picked = new Map<number, OutputLabel>();
  for (const s of structures) {
    const l = byName.get(s.trim().toLowerCase())!;
    picked.set(l.value, l);
  }
  return [...picked.values()].sort((a, b) => a.value - b.value);
}

function checkPostprocess(p: StructurePostprocess, where: string): Required<StructurePostprocess> {
  const r: Required<StructurePostprocess> = {
    ...STRUCTURE_POSTPROCESS_DEFAULTS,
    ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)),
  };
  if (!(r.minIslandMm3 >= 0) || !Number.isFinite(r.minIslandMm3)) {
    throw new S2SError('INVALID_ARGUMENT', `${where}: minIslandMm3 must be a number >= 0, got ${r.minIslandMm3}`, {
      hint: 'give the smallest piece to keep in mm³ (1 mL = 1000 mm³), or 0 for none',
    });
  }
  if (r.connectivity !== 6 && r.connectivity !== 18 && r.connectivity !== 26) {
    throw new S2SError('INVALID_ARGUMENT', `${where}: connectivity must be 6, 18 or 26, got ${r.connectivity}`);
  }
  return r as Required<StructurePostprocess>;
}

/** Runs a model package on `volume` and returns a label map on its grid (see the module doc). */
export async function segmentWithModel(
  volume: Volume,
  card: ModelCard,
  session: InferenceSessionLike,
  options: SegmentWithModelOptions = {},
): Promise<SegmentWithModelResult> {
  const t0 = now();
  const stages: StageTiming[] = [];
  const warnings: string[] = [];
  const run: RunOptions = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
  const stage = (name: string, since: number): number => {
    const t = now();
    stages.push({ stage: name, seconds: (t - since) / 1000 });
    return t;
  };

  // check everything before the slow work
  const kept = resolveStructures(card, options.structures);
  const keptValues = kept.map((l) => l.value);
  const basePost = checkPostprocess(options.postprocess ?? {}, 'postprocess');
  const byName = new Map<string, Required<StructurePostprocess>>();
  for (const [name, p] of Object.entries(options.postprocessByStructure ?? {})) {
    const l = resolveStructures(card, [name])[0]!;
    byName.set(l.name, checkPostprocess(p, `postprocess of "${l.name}"`));
  }
  const backToSource = options.backToSource ?? SEGMENT_WITH_MODEL_DEFAULTS.backToSource;
  if (backToSource !== 'labels' && backToSource !== 'probabilities') {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `backToSource must be 'labels' or 'probabilities', got ${String(backToSource)}`,
    );
  }
  const inputName = card.input.name ?? session.inputNames[0];
  const outputName = card.output.name ?? session.outputNames[0];
  if (inputName !== undefined && !session.inputNames.includes(inputName)) {
    throw new S2SError('INVALID_ARGUMENT', `the model has no input "${inputName}" (named in the card's input.name)`, {
      hint: `its inputs are: ${session.inputNames.join(', ')}`,
    });
  }
  if (outputName !== undefined && !session.outputNames.includes(outputName)) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the model has no output "${outputName}" (named in the card's output.name)`,
      {
        hint: `its outputs are: ${session.outputNames.join(', ')}`,
      },
    );
  }
  const labelValues = labelValuesOf(card);
  const settings: ModelRunSettings = {
    patchSize: card.input.patchSize,
    overlap: options.overlap ?? card.inference.overlap,
    gaussianSigmaScale: card.inference.gaussianSigmaScale,
    mirrorAxes: options.mirrorAxes ?? card.inference.mirrorAxes,
    activation: card.output.activation,
    labelValues,
    batchSize: options.batchSize ?? SEGMENT_WITH_MODEL_DEFAULTS.batchSize,
    memoryBudgetBytes: options.memoryBudgetBytes ?? SEGMENT_WITH_MODEL_DEFAULTS.memoryBudgetBytes,
    returnProbabilities: backToSource === 'probabilities',
    ...(inputName !== undefined ? { inputName } : {}),
    ...(outputName !== undefined ? { outputName } : {}),
  };

  // 1) preprocess
  let t = now();
  const pre = preprocessForModel(volume, card, run);
  t = stage('preprocess', t);

  // 2) inference on the model grid
  const roi = options.roiFirst ?? SEGMENT_WITH_MODEL_DEFAULTS.roiFirst;
  let prediction: ModelGridPrediction;
  let lookFirst: LookFirstReport | undefined;
  if (roi) {
    const lf = await lookFirstInference(
      session,
      pre.input,
      settings,
      options.structures === undefined ? [] : keptValues,
      { ...(typeof roi === 'object' ? roi : {}), ...run },
    );
    prediction = lf.prediction;
    lookFirst = lf.report;
    warnings.push(...lf.warnings);
    t = stage('inference (look-first)', t);
  } else {
    prediction = await fullInference(session, pre.input, settings, run);
    t = stage('inference', t);
  }
  throwIfAborted(options.signal);

  // 3) back to the source grid
  const segments = segmentsFromCard(card).filter((s) => keptValues.includes(s.value));
  const onSource =
    backToSource === 'probabilities' && prediction.probabilities
      ? probabilitiesToSource(prediction.probabilities, labelValues, pre.record, segments, {
          activation: card.output.activation,
          ...run,
        })
      : labelsToSource(prediction.labels, pre.record, segments, run);
  t = stage('back to source grid', t);

  // 4) requested structures only, then per-structure clean-up
  const data = onSource.data as Uint8Array | Uint16Array;
  const keep = new Set(keptValues);
  for (let p = 0; p < data.length; p++) if (data[p] !== 0 && !keep.has(data[p]!)) data[p] = 0;
  const grid = onSource.grid;
  const structures = postprocessStructures(data, grid, kept, basePost, byName, run);
  for (const st of structures)
    if (st.voxelsBefore === 0) warnings.push(`the model found no "${st.name}" in this image`);
  stage('postprocess', t);
  const labels = makeLabelMap({ grid, data, segments });

  const srcVoxels = voxelCount(pre.record.sourceGrid);
  const modelVoxels = voxelCount(pre.record.modelGrid);
  const cin = card.input.channels.length;
  const labelBytes = data.BYTES_PER_ELEMENT;
  const memoryEstimateBytes =
    srcVoxels * cin * 4 * 2 + // reoriented + normalised copies of the image
    modelVoxels * cin * 4 + // model input
    prediction.workingBytes +
    modelVoxels * labelBytes +
    (prediction.probabilities ? prediction.probabilities.length * modelVoxels : 0) +
    srcVoxels * (labelBytes + 4 + 1); // labels, arg-max scores, one structure mask
  return {
    labels,
    report: {
      model: { name: card.name, version: card.version },
      executionProvider: session.executionProvider ?? 'unknown',
      sourceGrid: {
        size: [...pre.record.sourceGrid.size] as unknown as Vec3,
        spacing: [...pre.record.sourceGrid.spacing] as unknown as Vec3,
      },
      modelGrid: {
        size: [...pre.record.modelGrid.size] as unknown as Vec3,
        spacing: [...pre.record.modelGrid.spacing] as unknown as Vec3,
      },
      patches: prediction.patches,
      runs: prediction.runs,
      voxelsInferred: prediction.voxelsInferred,
      modelVoxels,
      stages,
      totalSeconds: (now() - t0) / 1000,
      memoryEstimateBytes,
      structures,
      ...(lookFirst ? { lookFirst } : {}),
      warnings,
    },
  };
}

/**
 * Per-structure clean-up of a label volume, in place: for each structure, small pieces removed,
 * the largest piece kept, holes filled (only into background, never over another structure),
 * as `byName.get(name) ?? base` says. Returns what was done per structure.
 */
export function postprocessStructures(
  data: Uint8Array | Uint16Array,
  grid: Grid,
  structures: readonly { readonly value: number; readonly name: string }[],
  base: StructurePostprocess = {},
  byName: ReadonlyMap<string, StructurePostprocess> = new Map(),
  run: RunOptions = {},
): StructureReport[] {
  const voxMl = Math.abs(grid.spacing[0] * grid.spacing[1] * grid.spacing[2]) / 1000;
  const out: StructureReport[] = [];
  for (const l of structures) {
    throwIfAborted(run.signal);
    const post = checkPostprocess(byName.get(l.name) ?? base, `postprocess of "${l.name}"`);
    const mask = Uint8Array.from(data, (v) => (v === l.value ? 1 : 0));
    const before = count(mask);
    const steps: string[] = [];
    let m: Uint8Array = mask;
    if (before > 0) {
      if (post.minIslandMm3 > 0) {
        m = removeIslands(m, grid, { minVolumeMm3: post.minIslandMm3, connectivity: post.connectivity, ...run });
        steps.push(`removed pieces under ${post.minIslandMm3} mm³`);
      }
      if (post.keepLargest) {
        m = keepLargest(m, grid, { connectivity: post.connectivity, ...run });
        steps.push('kept the largest piece');
      }
      if (post.fillHoles) {
        m = fillHoles(m, grid, { mode: post.fillHoles === 'slice' ? 'slice' : '3d', ...run });
        steps.push(post.fillHoles === 'slice' ? 'filled holes per slice' : 'filled holes');
      }
      if (m !== mask) {
        for (let p = 0; p < data.length; p++) {
          if (mask[p] === 1 && m[p] === 0) data[p] = 0;
          else if (m[p] === 1 && data[p] === 0) data[p] = l.value;
        }
      }
    }
    let after = 0;
    for (let p = 0; p < data.length; p++) if (data[p] === l.value) after++;
    out.push({ value: l.value, name: l.name, voxelsBefore: before, voxels: after, volumeMl: after * voxMl, steps });
  }
  return out;
}

function count(m: Uint8Array): number {
  let n = 0;
  for (let p = 0; p < m.length; p++) n += m[p]!;
  return n;
}

/**
 * Segmentation with a model package: the one entry point that turns a scan into a label map on
 * the scan's own grid.
 *
 *   preprocess (reorient, normalise, resample to the card's grid)
 *   -> sliding-window inference (or look-first: coarse pass, then only the box that matters)
 *   -> back to the source grid (labels by nearest neighbour, or uint8 probabilities resampled
 *      linearly and arg-maxed there), keeping only the requested structures (by label name)
 *   -> per-structure postprocessing: small-island removal, largest component, hole filling.
 *
 * Every stage works only where it has to (model-region.ts): preprocessing reads only the source
 * voxels the interpolation reaches, for the region being inferred (the whole model grid, or
 * look-first's coarse grid and then its box); the way back computes only the source voxels that
 * can receive a kept label (the box of the kept model labels, or look-first's box) and leaves the
 * rest background; the per-structure step counts voxels from the model grid and cleans up each
 * structure on its own bounding box, and does nothing for a structure that asks for nothing. No
 * full-size reoriented, normalised or float copy of the source image is made. The labels are the
 * same, voxel for voxel, as the whole-grid computation (tested on oblique and left-handed grids).
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
import { type Connectivity, cropGrid, fillHoles, type IndexBox, keepLargest, removeIslands } from '@slice2solid/ops';
import type { InferenceSessionLike } from './backend.js';
import {
  fullInference,
  type LookFirstInput,
  type LookFirstOptions,
  type LookFirstReport,
  lookFirstInference,
  type ModelGridPrediction,
  type ModelRunSettings,
} from './look-first.js';
import { labelValuesOf, type ModelCard, type OutputLabel } from './model-card.js';
import {
  boxVoxels,
  fullBox,
  keepLut,
  labelsOntoSource,
  type OntoSourceResult,
  probabilitiesOntoSource,
} from './model-region.js';
import { segmentsFromCard } from './postprocess.js';
import { preprocessPlan, preprocessRegion } from './preprocess.js';
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
  /** Source voxels read to make the model input (per channel; only those the interpolation reaches). */
  readonly sourceVoxelsRead: number;
  /** Source voxels computed when mapping back (the rest of the source grid is background), and their box. */
  readonly sourceVoxelsMapped: number;
  readonly sourceBox?: IndexBox;
  readonly stages: readonly StageTiming[];
  readonly totalSeconds: number;
  /** Rough peak working memory (not counting the source image): model input and its temporaries, sliding-window buffers, outputs. */
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

  // 1) preprocess: the grids and the normalisation (no voxel copied); the input itself is made
  //    only where it is inferred (the whole model grid, or look-first's coarse grid and box)
  let t = now();
  const record = preprocessPlan(volume, card, run);
  const modelGrid = record.modelGrid;
  const cin = card.input.channels.length;
  let inputBytes = 0;
  let sourceVoxelsRead = 0;
  const source: LookFirstInput = {
    grid: modelGrid,
    components: cin,
    box: (box) => {
      const r = preprocessRegion(volume, record, { box, ...run });
      inputBytes = Math.max(inputBytes, r.workingBytes);
      sourceVoxelsRead += r.sourceVoxelsRead;
      return r.input;
    },
    onGrid: (grid) => {
      const r = preprocessRegion(volume, record, { grid, interpolation: 'linear', ...run });
      inputBytes = Math.max(inputBytes, r.workingBytes);
      sourceVoxelsRead += r.sourceVoxelsRead;
      return r.input;
    },
  };
  const roi = options.roiFirst ?? SEGMENT_WITH_MODEL_DEFAULTS.roiFirst;
  const input = roi ? undefined : source.box(fullBox(modelGrid));
  t = stage('preprocess', t);

  // 2) inference on the model grid
  let prediction: ModelGridPrediction;
  let lookFirst: LookFirstReport | undefined;
  if (roi) {
    const lf = await lookFirstInference(session, source, settings, options.structures === undefined ? [] : keptValues, {
      ...(typeof roi === 'object' ? roi : {}),
      ...run,
    });
    prediction = lf.prediction;
    lookFirst = lf.report;
    warnings.push(...lf.warnings);
    t = stage('inference (look-first)', t);
  } else {
    prediction = await fullInference(session, input!, settings, run);
    t = stage('inference', t);
  }
  throwIfAborted(options.signal);

  // 3) back to the source grid, only the requested structures, only where the prediction can
  //    reach (the box of the kept labels, or look-first's box); the rest stays background
  const segments = segmentsFromCard(card).filter((s) => keptValues.includes(s.value));
  const lut = options.structures === undefined ? undefined : keepLut(keptValues);
  const predBox = prediction.box ?? fullBox(modelGrid);
  const grid = record.sourceGrid;
  const srcVoxels = voxelCount(grid);
  let data: Uint8Array | Uint16Array;
  let mapped: OntoSourceResult;
  if (backToSource === 'probabilities' && prediction.probabilities) {
    data = Math.max(...labelValues) > 255 ? new Uint16Array(srcVoxels) : new Uint8Array(srcVoxels);
    mapped = probabilitiesOntoSource(prediction.probabilities, labelValues, predBox, modelGrid, record, data, {
      activation: card.output.activation,
      lut,
      ...run,
    });
  } else {
    data = new (prediction.labels.constructor as new (n: number) => Uint8Array | Uint16Array)(srcVoxels);
    mapped = labelsOntoSource(prediction.labels, predBox, modelGrid, record, data, lut);
  }
  t = stage('back to source grid', t);

  // 4) per-structure clean-up (only what was asked for, only around each structure)
  const region = mapped.sourceBox ?? { start: [0, 0, 0], end: [0, 0, 0] };
  const structures = cleanUpStructures(data, grid, kept, basePost, byName, run, region, mapped.counts);
  for (const st of structures)
    if (st.voxelsBefore === 0) warnings.push(`the model found no "${st.name}" in this image`);
  stage('postprocess', t);
  const labels = makeLabelMap({ grid, data, segments });

  const modelVoxels = voxelCount(modelGrid);
  const labelBytes = data.BYTES_PER_ELEMENT;
  const boxVoxelCount = boxVoxels(predBox);
  const memoryEstimateBytes =
    inputBytes + // the model input (whole grid or box) and the temporary arrays that made it
    prediction.workingBytes +
    boxVoxelCount * prediction.labels.BYTES_PER_ELEMENT +
    (prediction.probabilities ? prediction.probabilities.length * boxVoxelCount : 0) +
    srcVoxels * labelBytes + // the label map
    mapped.voxels * (backToSource === 'probabilities' ? 4 + 4 + labelBytes : 0); // arg-max scores on the mapped region
  return {
    labels,
    report: {
      model: { name: card.name, version: card.version },
      executionProvider: session.executionProvider ?? 'unknown',
      sourceGrid: {
        size: [...grid.size] as unknown as Vec3,
        spacing: [...grid.spacing] as unknown as Vec3,
      },
      modelGrid: {
        size: [...modelGrid.size] as unknown as Vec3,
        spacing: [...modelGrid.spacing] as unknown as Vec3,
      },
      patches: prediction.patches,
      runs: prediction.runs,
      voxelsInferred: prediction.voxelsInferred,
      modelVoxels,
      sourceVoxelsRead,
      sourceVoxelsMapped: mapped.voxels,
      ...(mapped.sourceBox ? { sourceBox: mapped.sourceBox } : {}),
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
 *
 * `region`, when given, is a box of `grid` outside which `data` is known to be background (what
 * segmentWithModel wrote): voxels are counted there only. Structures without a step are only
 * counted (one pass for all); a structure with steps is cleaned up on its own bounding box plus
 * one voxel (which gives the same result as on the whole grid: its pieces lie inside, and the
 * one-voxel rim of background links every outside voxel to the border, as the whole grid does).
 */
export function postprocessStructures(
  data: Uint8Array | Uint16Array,
  grid: Grid,
  structures: readonly { readonly value: number; readonly name: string }[],
  base: StructurePostprocess = {},
  byName: ReadonlyMap<string, StructurePostprocess> = new Map(),
  run: RunOptions = {},
  region?: IndexBox,
): StructureReport[] {
  return cleanUpStructures(data, grid, structures, base, byName, run, region, undefined);
}

/** postprocessStructures, with the voxels per value already known (`counts`, index = value) when given. */
function cleanUpStructures(
  data: Uint8Array | Uint16Array,
  grid: Grid,
  structures: readonly { readonly value: number; readonly name: string }[],
  base: StructurePostprocess,
  byName: ReadonlyMap<string, StructurePostprocess>,
  run: RunOptions,
  region: IndexBox | undefined,
  counts: ArrayLike<number> | undefined,
): StructureReport[] {
  if (data.length !== voxelCount(grid)) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the label volume has ${data.length} values but the grid needs ${voxelCount(grid)}`,
    );
  }
  const r = region ?? fullBox(grid);
  for (let a = 0; a < 3; a++) {
    if (
      !(r.start[a]! >= 0 && r.end[a]! <= grid.size[a]! && Number.isInteger(r.start[a]) && Number.isInteger(r.end[a]))
    ) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `region [${r.start.join(', ')}]..[${r.end.join(', ')}] is not inside the ${grid.size.join('x')} grid`,
      );
    }
  }
  const voxMl = Math.abs(grid.spacing[0] * grid.spacing[1] * grid.spacing[2]) / 1000;
  const posts = structures.map((l) => checkPostprocess(byName.get(l.name) ?? base, `postprocess of "${l.name}"`));
  throwIfAborted(run.signal);
  const hist = counts ?? histogramIn(data, grid, r);
  const out: StructureReport[] = [];
  structures.forEach((l, n) => {
    throwIfAborted(run.signal);
    const post = posts[n]!;
    const before = hist[l.value] ?? 0;
    const steps: string[] = [];
    let after = before;
    const any = post.minIslandMm3 > 0 || post.keepLargest || post.fillHoles;
    if (before > 0 && any) {
      const sb = valueBox(data, grid, r, l.value)!;
      const cb: IndexBox = {
        start: [0, 1, 2].map((a) => Math.max(0, sb.start[a]! - 1)) as unknown as Vec3,
        end: [0, 1, 2].map((a) => Math.min(grid.size[a]!, sb.end[a]! + 1)) as unknown as Vec3,
      };
      const cg = cropGrid(grid, cb);
      const mask = maskIn(data, grid, cb, l.value);
      let m: Uint8Array = mask;
      if (post.minIslandMm3 > 0) {
        m = removeIslands(m, cg, { minVolumeMm3: post.minIslandMm3, connectivity: post.connectivity, ...run });
        steps.push(`removed pieces under ${post.minIslandMm3} mm³`);
      }
      if (post.keepLargest) {
        m = keepLargest(m, cg, { connectivity: post.connectivity, ...run });
        steps.push('kept the largest piece');
      }
      if (post.fillHoles) {
        m = fillHoles(m, cg, { mode: post.fillHoles === 'slice' ? 'slice' : '3d', ...run });
        steps.push(post.fillHoles === 'slice' ? 'filled holes per slice' : 'filled holes');
      }
      after = writeBack(data, grid, cb, mask, m, l.value);
    }
    out.push({ value: l.value, name: l.name, voxelsBefore: before, voxels: after, volumeMl: after * voxMl, steps });
  });
  return out;
}

/** Voxels per value inside `box`. */
function histogramIn(data: Uint8Array | Uint16Array, grid: Grid, box: IndexBox): Float64Array {
  const hist = new Float64Array(data instanceof Uint8Array ? 256 : 65536);
  const [nx, ny] = grid.size;
  for (let k = box.start[2]; k < box.end[2]; k++)
    for (let j = box.start[1]; j < box.end[1]; j++) {
      const row = (k * ny + j) * nx;
      for (let p = row + box.start[0]; p < row + box.end[0]; p++) hist[data[p]!]!++;
    }
  return hist;
}

/** The box of the voxels equal to v inside `box`. */
function valueBox(data: Uint8Array | Uint16Array, grid: Grid, box: IndexBox, v: number): IndexBox | undefined {
  const [nx, ny] = grid.size;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-1, -1, -1];
  for (let k = box.start[2]; k < box.end[2]; k++)
    for (let j = box.start[1]; j < box.end[1]; j++) {
      const row = (k * ny + j) * nx;
      for (let i = box.start[0]; i < box.end[0]; i++) {
        if (data[row + i] !== v) continue;
        if (i < lo[0]!) lo[0] = i;
        if (i > hi[0]!) hi[0] = i;
        if (j < lo[1]!) lo[1] = j;
        if (j > hi[1]!) hi[1] = j;
        if (k < lo[2]!) lo[2] = k;
        hi[2] = k;
      }
    }
  if (hi[0]! < 0) return undefined;
  return {
    start: [lo[0]!, lo[1]!, lo[2]!],
    end: [hi[0]! + 1, hi[1]! + 1, hi[2]! + 1],
  };
}

/** 0/1 mask of value v on `box`. */
function maskIn(data: Uint8Array | Uint16Array, grid: Grid, box: IndexBox, v: number): Uint8Array {
  const [nx, ny] = grid.size;
  const out = new Uint8Array(boxVoxels(box));
  let q = 0;
  for (let k = box.start[2]; k < box.end[2]; k++)
    for (let j = box.start[1]; j < box.end[1]; j++) {
      const row = (k * ny + j) * nx;
      for (let i = box.start[0]; i < box.end[0]; i++, q++) out[q] = data[row + i] === v ? 1 : 0;
    }
  return out;
}

/** Applies the cleaned mask `m` (was `mask`) of value v on `box`; returns the voxels of v there. */
function writeBack(
  data: Uint8Array | Uint16Array,
  grid: Grid,
  box: IndexBox,
  mask: Uint8Array,
  m: Uint8Array,
  v: number,
): number {
  const [nx, ny] = grid.size;
  let q = 0;
  let n = 0;
  for (let k = box.start[2]; k < box.end[2]; k++)
    for (let j = box.start[1]; j < box.end[1]; j++) {
      const row = (k * ny + j) * nx;
      for (let i = box.start[0]; i < box.end[0]; i++, q++) {
        const p = row + i;
        if (mask[q] === 1 && m[q] === 0) data[p] = 0;
        else if (m[q] === 1 && data[p] === 0) data[p] = v;
        if (data[p] === v) n++;
      }
    }
  return n;
}

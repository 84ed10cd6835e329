/**
 * "Look first": coarse-to-fine inference. A low-resolution pass (the same model on a grid
 * `factor` times coarser than the model grid) finds the requested structures (or all
 * foreground); full-resolution inference then runs only inside their bounding box plus a margin
 * (in mm). Only that box is preprocessed, inferred and (by segmentWithModel) mapped back: the
 * input comes from a `LookFirstInput`, which gives the model-grid input on any box and the input
 * on the coarse grid, both read straight from the source image (segmentWithModel's
 * `sourceInput`: no full-resolution preprocessing, no full-size copy). Given a preprocessed
 * `Volume` instead (the older call), the box is cropped from it, the coarse input is resampled
 * from it, and the result is pasted into a background-filled prediction of the whole model grid.
 *
 * Guard against crops that cut a structure: when the full-resolution prediction of a wanted
 * structure touches a face of the box that is not the volume border, that face is moved out by
 * `growMm` and the box is inferred again (at most `maxGrowSteps` times; a warning says when the
 * structure still touches the box). When the coarse pass finds nothing, the whole volume is
 * inferred and a warning says so.
 *
 * The report gives the voxels and time actually spent next to an estimate for full inference
 * (fine seconds per patch x the patches a full run needs), and, with `compareWithFull`, the
 * measured full run and the Dice per structure between the two label volumes.
 */
import {
  type Grid,
  ijkFromLpsMatrix,
  lpsFromIjkMatrix,
  multiplyAffine,
  type RunOptions,
  S2SError,
  throwIfAborted,
  type Vec3,
  type Volume,
  voxelCount,
} from '@slice2solid/core';
import { cropArray, type IndexBox, removeIslands, resampledGrid, resampleOnto } from '@slice2solid/ops';
import type { InferenceSessionLike } from './backend.js';
import { patchStarts, type SlidingWindowOptions, slidingWindowInference } from './sliding-window.js';

export interface LookFirstOptions {
  /** The coarse grid's spacing is the model spacing times this (2..3 works well). */
  readonly factor?: number;
  /** Margin added around the coarse bounding box on every side, mm. */
  readonly marginMm?: number;
  /** How far a face the prediction touches is moved out per growth step, mm. */
  readonly growMm?: number;
  /** At most this many growth steps (each re-infers the grown box). */
  readonly maxGrowSteps?: number;
  /** Coarse detections (connected pieces) smaller than this are ignored, mm³ (unless nothing else is left). */
  readonly coarseMinIslandMm3?: number;
  /** Run the coarse pass with the card's mirroring too (slower; default: no mirroring). */
  readonly coarseMirror?: boolean;
  /** Also run full inference and report the agreement (Dice per structure) and its measured time. */
  readonly compareWithFull?: boolean;
}

export const LOOK_FIRST_DEFAULTS = {
  factor: 2,
  marginMm: 15,
  growMm: 20,
  maxGrowSteps: 3,
  coarseMinIslandMm3: 500,
  coarseMirror: false,
  compareWithFull: false,
} as const satisfies Required<LookFirstOptions>;

/**
 * A prediction on the model grid: on all of it, or (with `box`) only on that box, the rest being
 * background (labels 0; probabilities 255 in the background channel of a softmax, else 0).
 */
export interface ModelGridPrediction {
  readonly labels: Uint8Array | Uint16Array;
  /** When present, `labels` and `probabilities` cover only this box of the model grid. */
  readonly box?: IndexBox;
  /** Per output channel, uint8 probabilities (when asked for). */
  readonly probabilities?: readonly Uint8Array[];
  readonly patches: number;
  readonly runs: number;
  /** Model-grid voxels sent through the model (all passes). */
  readonly voxelsInferred: number;
  readonly workingBytes: number;
}

export interface LookFirstReport {
  readonly factor: number;
  readonly coarseGrid: { readonly size: Vec3; readonly spacing: Vec3 };
  readonly coarsePatches: number;
  /** The coarse pass: its input (coarseInputSeconds of it) and its inference. */
  readonly coarseSeconds: number;
  readonly coarseInputSeconds: number;
  /** False when the coarse pass found nothing and the whole volume was inferred. */
  readonly found: boolean;
  /** The final box on the model grid (start inclusive, end exclusive), or undefined after a fallback. */
  readonly box?: IndexBox;
  readonly growSteps: number;
  /** True when the final prediction still touches an inner face of the box. */
  readonly touching: boolean;
  readonly finePatches: number;
  /** Every fine pass: the box's input (fineInputSeconds of it) and its inference. */
  readonly fineSeconds: number;
  readonly fineInputSeconds: number;
  /** Model-grid voxels inferred by the coarse pass (counted on its grid) and by every fine pass. */
  readonly voxelsInferred: number;
  readonly fullVoxels: number;
  readonly fullPatches: number;
  /** Fine inference seconds (input excluded) / finePatches x fullPatches: the time full inference would have taken. */
  readonly estimatedFullSeconds: number;
  /** estimatedFullSeconds (or the measured one) / (coarse + fine seconds). */
  readonly speedup: number;
  readonly voxelSpeedup: number;
  /** With compareWithFull. */
  readonly measuredFullSeconds?: number;
  readonly agreement?: readonly { readonly value: number; readonly dice: number }[];
}

export interface LookFirstResult {
  readonly prediction: ModelGridPrediction;
  readonly report: LookFirstReport;
  readonly warnings: readonly string[];
}

/**
 * Where look-first reads its input: the model-grid input on any box of the model grid, and the
 * input on a grid of the same direction (the coarse grid). segmentWithModel's comes straight from
 * the source image; `volumeInput` wraps an already preprocessed volume.
 */
export interface LookFirstInput {
  /** The model grid. */
  readonly grid: Grid;
  /** Input channels per voxel. */
  readonly components: number;
  /** Float32 input on `box` of the model grid, exactly the model-grid values there. */
  box(box: IndexBox): Volume;
  /** Float32 input on `grid` (same direction as the model grid), linearly interpolated. */
  onGrid(grid: Grid): Volume;
}

/** A LookFirstInput over an input already preprocessed onto the whole model grid. */
export function volumeInput(input: Volume): LookFirstInput {
  return {
    grid: input.grid,
    components: input.components,
    box: (box) => {
      const c = cropArray(input.data as Float32Array, input.grid, box, input.components);
      return { ...input, grid: c.grid, data: c.data };
    },
    onGrid: (grid) => resampleOnto(input, grid, { interpolation: 'linear' }),
  };
}

function isLookFirstInput(x: Volume | LookFirstInput): x is LookFirstInput {
  return typeof (x as LookFirstInput).box === 'function';
}

/** The sliding-window settings of one model, as segmentWithModel derives them from the card. */
export type ModelRunSettings = Omit<SlidingWindowOptions, keyof RunOptions>;

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** Sliding-window inference over the whole `input`, as a ModelGridPrediction. */
export async function fullInference(
  session: InferenceSessionLike,
  input: Volume,
  settings: ModelRunSettings,
  run: RunOptions = {},
): Promise<ModelGridPrediction> {
  const r = await slidingWindowInference(session, input, { ...settings, ...run });
  return {
    labels: r.labels,
    ...(r.probabilities ? { probabilities: r.probabilities } : {}),
    patches: r.patches,
    runs: r.runs,
    voxelsInferred: voxelCount(input.grid),
    workingBytes: r.workingBytes,
  };
}

/** Patches a sliding window needs for a grid of this size. */
export function patchCount(size: readonly number[], patch: readonly number[], overlap: number): number {
  let n = 1;
  for (let a = 0; a < 3; a++) n *= patchStarts(size[a]!, patch[a]!, overlap).length;
  return n;
}

/** Per-axis map from a coarse grid's index to the model grid's continuous index (same direction). */
function axisMap(coarse: Grid, model: Grid): { scale: Vec3; shift: Vec3 } {
  const T = multiplyAffine(ijkFromLpsMatrix(model), lpsFromIjkMatrix(coarse));
  return { scale: [T[0]!, T[5]!, T[10]!], shift: [T[3]!, T[7]!, T[11]!] };
}

/** The box of voxels with one of `values` (all non-zero when `values` is empty); undefined when none. */
function boxOf(
  labels: ArrayLike<number>,
  size: readonly number[],
  wanted: (v: number) => boolean,
): IndexBox | undefined {
  const [nx, ny, nz] = size as Vec3;
  const lo = [nx, ny, nz];
  const hi = [-1, -1, -1];
  let p = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, p++) {
        if (!wanted(labels[p]!)) continue;
        if (i < lo[0]!) lo[0] = i;
        if (i > hi[0]!) hi[0] = i;
        if (j < lo[1]!) lo[1] = j;
        if (j > hi[1]!) hi[1] = j;
        if (k < lo[2]!) lo[2] = k;
        if (k > hi[2]!) hi[2] = k;
      }
  if (hi[0]! < 0) return undefined;
  return { start: [lo[0]!, lo[1]!, lo[2]!], end: [hi[0]! + 1, hi[1]! + 1, hi[2]! + 1] };
}

/** Makes every side of the box at least `patch` voxels long (where the grid allows), growing it evenly. */
function atLeastOnePatch(box: IndexBox, size: readonly number[], patch: readonly number[]): IndexBox {
  const start = [...box.start];
  const end = [...box.end];
  for (let a = 0; a < 3; a++) {
    const want = Math.min(patch[a]!, size[a]!);
    const have = end[a]! - start[a]!;
    if (have >= want) continue;
    let s = start[a]! - Math.floor((want - have) / 2);
    s = Math.max(0, Math.min(s, size[a]! - want));
    start[a] = s;
    end[a] = s + want;
  }
  return { start: start as unknown as Vec3, end: end as unknown as Vec3 };
}

/** Which faces of `box` (on a `size` grid) the wanted labels of `labels` (on the box) touch, away from the volume border (only the faces are read). */
function touchedInnerFaces(
  labels: ArrayLike<number>,
  box: IndexBox,
  size: readonly number[],
  wanted: (v: number) => boolean,
): { low: boolean[]; high: boolean[] } {
  const b = [box.end[0] - box.start[0], box.end[1] - box.start[1], box.end[2] - box.start[2]] as Vec3;
  const stride = [1, b[0], b[0] * b[1]];
  const low = [false, false, false];
  const high = [false, false, false];
  // does the slice idx[a] = x of the box hold a wanted label?
  const sliceHas = (a: number, x: number): boolean => {
    const u = a === 0 ? 1 : 0;
    const v = a === 2 ? 1 : 2;
    for (let q = 0; q < b[v]!; q++)
      for (let r = 0; r < b[u]!; r++)
        if (wanted(labels[x * stride[a]! + r * stride[u]! + q * stride[v]!]!)) return true;
    return false;
  };
  for (let a = 0; a < 3; a++) {
    if (box.start[a]! > 0) low[a] = sliceHas(a, 0);
    if (box.end[a]! < size[a]!) high[a] = sliceHas(a, b[a]! - 1);
  }
  return { low, high };
}

/**
 * Coarse-to-fine inference. `input` is a LookFirstInput (the prediction then covers only the final
 * box: `prediction.box`), or the preprocessed image on the whole model grid (the prediction is then
 * pasted into a background-filled prediction of the whole grid, as before). `targetValues` are the
 * label values to look for (empty: all foreground, i.e. every value but `background`).
 */
export async function lookFirstInference(
  session: InferenceSessionLike,
  input: Volume | LookFirstInput,
  settings: ModelRunSettings,
  targetValues: readonly number[],
  options: LookFirstOptions & RunOptions = {},
): Promise<LookFirstResult> {
  const o = { ...LOOK_FIRST_DEFAULTS, ...definedOnly(options) };
  const run: RunOptions = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
  if (!(o.factor >= 1) || !Number.isFinite(o.factor)) {
    throw new S2SError('INVALID_ARGUMENT', `look-first factor must be a number >= 1, got ${o.factor}`, {
      hint: 'the coarse grid is the model grid times this factor; 2 to 3 works well',
    });
  }
  for (const k of ['marginMm', 'growMm', 'coarseMinIslandMm3'] as const) {
    if (!(o[k] >= 0) || !Number.isFinite(o[k])) {
      throw new S2SError('INVALID_ARGUMENT', `look-first ${k} must be a number >= 0, got ${o[k]}`);
    }
  }
  if (!Number.isInteger(o.maxGrowSteps) || o.maxGrowSteps < 0) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `look-first maxGrowSteps must be a whole number >= 0, got ${o.maxGrowSteps}`,
    );
  }
  const paste = !isLookFirstInput(input);
  const src = isLookFirstInput(input) ? input : volumeInput(input);
  const warnings: string[] = [];
  const model = src.grid;
  const size = model.size;
  const patch = settings.patchSize;
  const overlap = settings.overlap ?? 0.5;
  const fullVoxels = voxelCount(model);
  const fullPatches = patchCount(size, patch, overlap);
  const targets = new Set(targetValues);
  const wanted = targets.size > 0 ? (v: number) => targets.has(v) : (v: number) => v !== 0;
  const whole: IndexBox = { start: [0, 0, 0], end: [size[0], size[1], size[2]] };

  // 1) coarse pass, on an input made directly for the coarse grid
  const t0 = now();
  const coarseGrid = resampledGrid(
    model,
    model.spacing.map((s) => s * o.factor),
  );
  const coarseInput = src.onGrid(coarseGrid);
  const coarseInputSeconds = (now() - t0) / 1000;
  const coarseSettings: ModelRunSettings = {
    ...settings,
    returnProbabilities: false,
    returnLogits: false,
    ...(o.coarseMirror ? {} : { mirrorAxes: [] }),
  };
  const coarse = await slidingWindowInference(session, coarseInput, { ...coarseSettings, ...run });
  const coarseSeconds = (now() - t0) / 1000;
  throwIfAborted(options.signal);
  let coarseMask: Uint8Array = new Uint8Array(coarse.labels.length);
  for (let p = 0; p < coarseMask.length; p++) coarseMask[p] = wanted(coarse.labels[p]!) ? 1 : 0;
  if (o.coarseMinIslandMm3 > 0) {
    const cleaned = removeIslands(coarseMask, coarseGrid, { minVolumeMm3: o.coarseMinIslandMm3 });
    if (cleaned.some((v) => v !== 0)) coarseMask = cleaned;
  }
  const coarseVoxels = voxelCount(coarseGrid);
  const coarseBox = boxOf(coarseMask, coarseGrid.size, (v) => v !== 0);
  const coarseReport = {
    factor: o.factor,
    coarseGrid: { size: [...coarseGrid.size] as unknown as Vec3, spacing: [...coarseGrid.spacing] as unknown as Vec3 },
    coarsePatches: coarse.patches,
    coarseSeconds,
    coarseInputSeconds,
    fullVoxels,
    fullPatches,
  };

  if (!coarseBox) {
    warnings.push(
      `look-first: the coarse pass found ${targets.size > 0 ? 'none of the requested structures' : 'no foreground'}; the whole volume was inferred`,
    );
    const t1 = now();
    const fullInput = src.box(whole);
    const fineInputSeconds = (now() - t1) / 1000;
    const full = await fullInference(session, fullInput, settings, run);
    const fineSeconds = (now() - t1) / 1000;
    return {
      prediction: {
        ...full,
        ...(paste ? {} : { box: whole }),
        voxelsInferred: full.voxelsInferred + coarseVoxels,
        runs: full.runs + coarse.runs,
        patches: full.patches + coarse.patches,
      },
      report: {
        ...coarseReport,
        found: false,
        growSteps: 0,
        touching: false,
        finePatches: full.patches,
        fineSeconds,
        fineInputSeconds,
        voxelsInferred: fullVoxels + coarseVoxels,
        estimatedFullSeconds: fineSeconds - fineInputSeconds,
        speedup: (fineSeconds - fineInputSeconds) / Math.max(fineSeconds + coarseSeconds, 1e-9),
        voxelSpeedup: fullVoxels / (fullVoxels + coarseVoxels),
      },
      warnings,
    };
  }

  // 2) the coarse box on the model grid, plus the margin, at least one patch
  const { scale, shift } = axisMap(coarseGrid, model);
  const start: number[] = [];
  const end: number[] = [];
  for (let a = 0; a < 3; a++) {
    const x0 = scale[a]! * (coarseBox.start[a]! - 0.5) + shift[a]!;
    const x1 = scale[a]! * (coarseBox.end[a]! - 0.5) + shift[a]!;
    const m = Math.ceil(o.marginMm / model.spacing[a]! - 1e-9);
    start.push(Math.max(0, Math.floor(Math.min(x0, x1) + 0.5) - m));
    end.push(Math.min(size[a]!, Math.ceil(Math.max(x0, x1) - 0.5) + 1 + m));
  }
  let box = atLeastOnePatch({ start: start as unknown as Vec3, end: end as unknown as Vec3 }, size, patch);

  // 3) fine passes, growing the box while the prediction touches an inner face; only the box is
  //    preprocessed (from the source image when `input` is a LookFirstInput) and inferred
  const t1 = now();
  let fineInputSeconds = 0;
  let fineVoxels = 0;
  let finePatches = 0;
  let fineRuns = 0;
  let growSteps = 0;
  let touching = false;
  let workingBytes = coarse.workingBytes;
  let fine: Awaited<ReturnType<typeof slidingWindowInference>>;
  for (;;) {
    throwIfAborted(options.signal);
    const ti = now();
    const boxInput = src.box(box);
    fineInputSeconds += (now() - ti) / 1000;
    fine = await slidingWindowInference(session, boxInput, { ...settings, ...run });
    fineVoxels += voxelCount(boxInput.grid);
    finePatches += fine.patches;
    fineRuns += fine.runs;
    workingBytes = Math.max(workingBytes, fine.workingBytes);
    const faces = touchedInnerFaces(fine.labels, box, size, wanted);
    touching = faces.low.some(Boolean) || faces.high.some(Boolean);
    if (!touching || growSteps >= o.maxGrowSteps) break;
    growSteps++;
    const s2 = [...box.start];
    const e2 = [...box.end];
    for (let a = 0; a < 3; a++) {
      const g = Math.max(1, Math.ceil(o.growMm / model.spacing[a]! - 1e-9));
      if (faces.low[a]) s2[a] = Math.max(0, s2[a]! - g);
      if (faces.high[a]) e2[a] = Math.min(size[a]!, e2[a]! + g);
    }
    box = { start: s2 as unknown as Vec3, end: e2 as unknown as Vec3 };
  }
  const fineSeconds = (now() - t1) / 1000;
  if (touching) {
    warnings.push(
      `look-first: the prediction still touches the inferred box after ${growSteps} growth step(s); the structure may be cut (raise marginMm or maxGrowSteps, or run without look-first)`,
    );
  }

  // 4) the box's prediction (pasted into a background-filled whole grid for a Volume input)
  const background = (settings.activation ?? 'softmax') === 'softmax' && fine.channels > 1;
  const values = settings.labelValues ?? (fine.probabilities ?? []).map((_, c) => c);
  let labels: Uint8Array | Uint16Array = fine.labels;
  let probabilities: Uint8Array[] | undefined = fine.probabilities ? [...fine.probabilities] : undefined;
  if (paste) {
    labels = new (fine.labels.constructor as new (n: number) => Uint8Array | Uint16Array)(fullVoxels);
    pasteBox(fine.labels, labels, box, size);
    probabilities = fine.probabilities?.map((p, c) => {
      const full = new Uint8Array(fullVoxels);
      if (background && values[c] === 0) full.fill(255);
      pasteBox(p, full, box, size);
      return full;
    });
  }

  // every fine pass (growth reruns included) gives the time per patch
  const estimatedFullSeconds = ((fineSeconds - fineInputSeconds) / Math.max(1, finePatches)) * fullPatches;
  let measuredFullSeconds: number | undefined;
  let agreement: { value: number; dice: number }[] | undefined;
  if (o.compareWithFull) {
    const t2 = now();
    const full = await fullInference(session, src.box(whole), { ...settings, returnProbabilities: false }, run);
    measuredFullSeconds = (now() - t2) / 1000;
    const vs = targets.size > 0 ? [...targets] : [...new Set(settings.labelValues ?? [])].filter((v) => v !== 0);
    agreement = vs.map((v) => ({ value: v, dice: boxDice(fine.labels, box, full.labels, size, v) }));
  }
  const spent = coarseSeconds + fineSeconds;
  return {
    prediction: {
      labels,
      ...(probabilities ? { probabilities } : {}),
      ...(paste ? {} : { box }),
      patches: coarse.patches + finePatches,
      runs: coarse.runs + fineRuns,
      voxelsInferred: coarseVoxels + fineVoxels,
      workingBytes,
    },
    report: {
      ...coarseReport,
      found: true,
      box,
      growSteps,
      touching,
      finePatches,
      fineSeconds,
      fineInputSeconds,
      voxelsInferred: coarseVoxels + fineVoxels,
      estimatedFullSeconds,
      speedup: (measuredFullSeconds ?? estimatedFullSeconds) / Math.max(spent, 1e-9),
      voxelSpeedup: fullVoxels / (coarseVoxels + fineVoxels),
      ...(measuredFullSeconds !== undefined ? { measuredFullSeconds } : {}),
      ...(agreement ? { agreement } : {}),
    },
    warnings,
  };
}

/** Dice of value v between labels on `box` (background elsewhere) and labels on the whole `size` grid. */
function boxDice(
  inBox: ArrayLike<number>,
  box: IndexBox,
  whole: ArrayLike<number>,
  size: readonly number[],
  v: number,
): number {
  let a = 0;
  let b = 0;
  let both = 0;
  for (let p = 0; p < whole.length; p++) if (whole[p] === v) b++;
  const [nx, ny] = size as Vec3;
  let q = 0;
  for (let k = box.start[2]; k < box.end[2]; k++)
    for (let j = box.start[1]; j < box.end[1]; j++) {
      const row = (k * ny + j) * nx;
      for (let i = box.start[0]; i < box.end[0]; i++, q++) {
        if (inBox[q] !== v) continue;
        a++;
        if (whole[row + i] === v) both++;
      }
    }
  return a + b === 0 ? 1 : (2 * both) / (a + b);
}

/** Copies a box-sized array into its place in a `size` array. */
function pasteBox(src: ArrayLike<number>, dst: Uint8Array | Uint16Array, box: IndexBox, size: readonly number[]): void {
  const [nx, ny] = size as Vec3;
  const bx = box.end[0] - box.start[0];
  const by = box.end[1] - box.start[1];
  const bz = box.end[2] - box.start[2];
  const s = src as Uint8Array | Uint16Array;
  let o = 0;
  for (let k = 0; k < bz; k++)
    for (let j = 0; j < by; j++) {
      const d = ((k + box.start[2]) * ny + j + box.start[1]) * nx + box.start[0];
      dst.set(s.subarray(o, o + bx), d);
      o += bx;
    }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

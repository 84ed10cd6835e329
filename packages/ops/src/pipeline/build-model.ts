/**
 * The whole model pipeline: segment -> surface -> smooth -> decimate -> clean -> colour -> check,
 * from a scan (Volume, segmented here with `segmentVolumeDetailed`) or from a label map.
 *
 * Surfaces:
 * - 'marching-cubes' (default for ONE structure): per structure, the mask is cropped to its
 *   bounding box (plus a margin), anti-aliased (constrained Gaussian, see antialias-mask.ts: every
 *   vertex stays within half a voxel of the mask boundary) and extracted at 0.5 with the grid
 *   border capped, so every surface is closed.
 * - 'surface-nets' (default for SEVERAL structures): one multi-label net; neighbouring structures
 *   share their interface exactly (no gaps, no overlaps).
 * Then windowed-sinc (or Taubin) smoothing, quadric decimation to a triangle ratio, and with
 * `watertight` a clean-up (degenerate/duplicate triangles, orientation) and an independent
 * closed-2-manifold check (manifold-3d).
 *
 * Accuracy, per structure: the final surface is voxelized on the segmentation grid (Dice against
 * the mask), surface distances mesh <-> mask boundary in mm (mean, 95th percentile, max), and the
 * volume change caused by smoothing and decimation (final vs the raw extraction) in percent.
 *
 * Every step is recorded (options with defaults filled in, time, result) for the run record.
 */
import {
  type Grid,
  type LabelMap,
  type Mesh,
  type MeshGroup,
  type RunOptions,
  S2SError,
  type Segment,
  throwIfAborted,
  type Vec3,
  type Volume,
} from '@slice2solid/core';
import { boundingBox } from '../crop/bounding-box.js';
import { cropArray } from '../crop/crop.js';
import { completeSegments, maskOfLabel } from '../labels/make.js';
import { meshMetrics } from '../mesh/metrics.js';
import { smoothTaubin, TAUBIN_SMOOTH_DEFAULTS } from '../mesh/smooth-taubin.js';
import { smoothWindowedSinc, WINDOWED_SINC_DEFAULTS } from '../mesh/smooth-windowed-sinc.js';
import { checkWatertight } from '../mesh/watertight-check.js';
import { type ParallelOptions, useRunner } from '../parallel/runner.js';
import { type SegmentOptions, segmentVolumeDetailed } from '../segment/segment.js';
import { ANTIALIAS_MASK_DEFAULTS, maskSurface } from '../surface/antialias-mask.js';
import { SURFACE_NETS_DEFAULTS, surfaceNets } from '../surface/surface-nets.js';
import { type CleanClosedReport, cleanClosedMesh } from './clean-closed.js';
import { decimateKeepingClosed, SIMPLIFY_GROUPS, SIMPLIFY_GROUPS_MIN_TRIANGLES } from './decimate-closed.js';
import { MODEL_ACCURACY_DEFAULTS, modelAccuracy } from './model-accuracy.js';
import { HEAD_SKIN_WARNING, type StepRecord } from './run-record.js';
import { VERTEX_COLORS_DEFAULTS, vertexColorsFromScan } from './vertex-colors.js';

export type SurfaceMethod = 'auto' | 'marching-cubes' | 'surface-nets';
export type SmoothingMethod = 'windowed-sinc' | 'taubin' | 'none';
export type ModelColor = 'segment' | 'intensity';

export interface BuildModelOptions extends RunOptions, ParallelOptions {
  /** How to segment a Volume input (preset / range / Otsu and clean-ups); ignored for a label map. */
  readonly segment?: Omit<SegmentOptions, 'signal' | 'onProgress'> | undefined;
  /** Label values to model (default: every segment present). */
  readonly labels?: readonly number[] | undefined;
  /** 'auto': marching cubes on the anti-aliased mask for one structure, surface nets for several. */
  readonly surface?: SurfaceMethod;
  /** Anti-aliasing blur (voxels) before marching cubes; 0 gives the plain voxel staircase. */
  readonly antialiasSigma?: number;
  readonly smoothing?: SmoothingMethod;
  /** Smoothing iterations (0 = no smoothing). */
  readonly smoothIterations?: number;
  /** Windowed-sinc pass band in (0, 2): lower is smoother. */
  readonly passBand?: number;
  /** Fraction of triangles to keep, (0, 1]; 1 = no decimation. */
  readonly decimate?: number;
  /** Largest deviation the decimation may cause, mm (default: no limit besides the ratio). */
  readonly decimateMaxErrorMm?: number | undefined;
  /** Clean up and check (independently, with manifold-3d) that every structure is a closed 2-manifold. */
  readonly watertight?: boolean;
  /** Drop closed pieces of a structure enclosing less than this volume, mm³ (0 = keep all). */
  readonly minComponentVolumeMm3?: number;
  /** 'segment': colours from the segment table (per group); 'intensity': grey vertex colours from the scan. */
  readonly color?: ModelColor;
  /** The scan for 'intensity' colours when the input is a label map (a Volume input is used itself). */
  readonly colorVolume?: Volume | undefined;
  /** Window for 'intensity' colours (default: 1st..99th percentile of the sampled values). */
  readonly colorWindow?: { readonly center: number; readonly width: number } | undefined;
  /** Depth (mm) under the surface at which intensities are sampled. */
  readonly colorDepthMm?: number;
  /** Compute the accuracy report (Dice, surface distances, volume change). */
  readonly accuracy?: boolean;
  /** Largest number of surface-distance samples per direction and structure (strided beyond it). */
  readonly accuracySamples?: number;
}

export const BUILD_MODEL_DEFAULTS = {
  surface: 'auto' as SurfaceMethod,
  antialiasSigma: ANTIALIAS_MASK_DEFAULTS.sigmaVoxels as number,
  smoothing: 'windowed-sinc' as SmoothingMethod,
  smoothIterations: WINDOWED_SINC_DEFAULTS.iterations as number,
  passBand: WINDOWED_SINC_DEFAULTS.passBand as number,
  decimate: 1 as number,
  watertight: false as boolean,
  minComponentVolumeMm3: 0 as number,
  color: 'segment' as ModelColor,
  colorDepthMm: VERTEX_COLORS_DEFAULTS.depthMm as number,
  accuracy: true as boolean,
  accuracySamples: MODEL_ACCURACY_DEFAULTS.maxSamples as number,
} as const;

export interface StructureMetrics {
  readonly value: number;
  readonly name: string;
  readonly color: Vec3;
  readonly triangles: number;
  readonly vertices: number;
  readonly volumeMm3: number;
  readonly volumeMl: number;
  readonly areaMm2: number;
  readonly components: number;
  /** Closed, edge-manifold and consistently oriented (our own edge count). */
  readonly closedManifold: boolean;
  /** manifold-3d accepted it as a closed 2-manifold (only checked with `watertight`). */
  readonly watertight?: boolean;
  readonly watertightStatus?: string;
}

export interface ModelMetrics {
  readonly structures: number;
  readonly triangles: number;
  readonly vertices: number;
  /** Sum over structures. */
  readonly volumeMm3: number;
  readonly volumeMl: number;
  readonly areaMm2: number;
  /** Every structure is a closed 2-manifold (our edge count). */
  readonly closedManifold: boolean;
  /** Every structure passed the manifold-3d check; undefined when not checked. */
  readonly watertight: boolean | undefined;
  readonly perStructure: readonly StructureMetrics[];
}

export interface StructureAccuracy {
  readonly value: number;
  readonly name: string;
  /** Dice of the voxelized final mesh against the segmentation. */
  readonly dice: number;
  /** Symmetric surface distance mesh <-> mask boundary, mm. */
  readonly meanDistanceMm: number;
  readonly p95DistanceMm: number;
  readonly maxDistanceMm: number;
  /** (final - raw extraction) / raw * 100: the change caused by smoothing and decimation. */
  readonly volumeChangePercent: number;
  /** (final - voxel volume of the mask) / mask * 100. */
  readonly volumeChangeVsMaskPercent: number;
  readonly meshVolumeMm3: number;
  readonly maskVolumeMm3: number;
}

export interface BuildModelResult {
  /** All structures in one mesh, one group per structure (LPS mm, outward winding). */
  readonly mesh: Mesh;
  /** The segmentation the model was made from. */
  readonly labels: LabelMap;
  readonly steps: readonly StepRecord[];
  readonly metrics: ModelMetrics;
  readonly accuracy: readonly StructureAccuracy[];
  readonly warnings: readonly string[];
}

export function isLabelMap(x: Volume | LabelMap): x is LabelMap {
  return 'segments' in x && !('components' in x);
}

/** Whether a segment is a skin / body outline (whose surface shows the face on a head scan). */
export function isSkinLike(s: Segment): boolean {
  if (s.code?.scheme === 'SCT' && s.code.value === '39937001') return true;
  return /\b(skin|body|head|face|scalp|outline)\b/i.test(s.name);
}

function now(): number {
  return globalThis.performance ? globalThis.performance.now() : Date.now();
}

function checkOptions(o: typeof BUILD_MODEL_DEFAULTS & BuildModelOptions): void {
  const bad = (msg: string, hint?: string) => {
    throw new S2SError('INVALID_ARGUMENT', msg, hint === undefined ? {} : { hint });
  };
  if (!['auto', 'marching-cubes', 'surface-nets'].includes(o.surface))
    bad(`unknown surface method "${o.surface}"`, 'use auto, marching-cubes or surface-nets');
  if (!['windowed-sinc', 'taubin', 'none'].includes(o.smoothing))
    bad(`unknown smoothing "${o.smoothing}"`, 'use windowed-sinc, taubin or none');
  if (!Number.isInteger(o.smoothIterations) || o.smoothIterations < 0 || o.smoothIterations > 1000)
    bad(`smoothing iterations must be an integer 0..1000, got ${o.smoothIterations}`);
  if (!(o.passBand > 0 && o.passBand < 2)) bad(`pass band must be in (0, 2), got ${o.passBand}`, 'e.g. 0.1');
  if (!(o.decimate > 0 && o.decimate <= 1))
    bad(`decimate must be a fraction of triangles to keep in (0, 1], got ${o.decimate}`, 'e.g. 0.1 keeps 10%');
  if (o.decimateMaxErrorMm !== undefined && !(o.decimateMaxErrorMm >= 0))
    bad(`decimation max error must be >= 0 mm, got ${o.decimateMaxErrorMm}`);
  if (!(o.minComponentVolumeMm3 >= 0) || !Number.isFinite(o.minComponentVolumeMm3))
    bad(`minimum component volume must be >= 0 mm³, got ${o.minComponentVolumeMm3}`);
  if (!(o.antialiasSigma >= 0 && o.antialiasSigma <= 10))
    bad(`anti-aliasing sigma must be 0..10 voxels, got ${o.antialiasSigma}`);
  if (o.color !== 'segment' && o.color !== 'intensity')
    bad(`unknown colour mode "${o.color}"`, 'use segment or intensity');
}

/** Triangles [start, start + count) of a mesh as a compact mesh of their own. */
export function submesh(mesh: Mesh, start: number, count: number): Mesh {
  const I = mesh.indices.subarray(3 * start, 3 * (start + count));
  const nv = mesh.positions.length / 3;
  const remap = new Int32Array(nv).fill(-1);
  const indices = new Uint32Array(I.length);
  let used = 0;
  for (let n = 0; n < I.length; n++) {
    const v = I[n]!;
    if (remap[v]! < 0) remap[v] = used++;
    indices[n] = remap[v]!;
  }
  const positions = new Float32Array(3 * used);
  const colors = mesh.colors ? new Uint8Array(3 * used) : undefined;
  for (let v = 0; v < nv; v++) {
    const r = remap[v]!;
    if (r < 0) continue;
    positions[3 * r] = mesh.positions[3 * v]!;
    positions[3 * r + 1] = mesh.positions[3 * v + 1]!;
    positions[3 * r + 2] = mesh.positions[3 * v + 2]!;
    if (colors && mesh.colors) colors.set(mesh.colors.subarray(3 * v, 3 * v + 3), 3 * r);
  }
  return colors ? { positions, indices, colors } : { positions, indices };
}

/** Concatenates meshes into one, one group per part. */
export function concatMeshes(parts: readonly { mesh: Mesh; group: Omit<MeshGroup, 'start' | 'count'> }[]): Mesh {
  let np = 0;
  let ni = 0;
  for (const p of parts) {
    np += p.mesh.positions.length;
    ni += p.mesh.indices.length;
  }
  const positions = new Float32Array(np);
  const indices = new Uint32Array(ni);
  const groups: MeshGroup[] = [];
  let po = 0;
  let io = 0;
  for (const p of parts) {
    positions.set(p.mesh.positions, po);
    const base = po / 3;
    const I = p.mesh.indices;
    for (let n = 0; n < I.length; n++) indices[io + n] = I[n]! + base;
    groups.push({ ...p.group, start: io / 3, count: I.length / 3 });
    po += p.mesh.positions.length;
    io += I.length;
  }
  return { positions, indices, groups };
}

/**
 * Builds the model. A Volume is segmented first (`options.segment`); a LabelMap is used as is.
 * Returns one mesh with a group per structure, the steps, metrics, accuracy and warnings.
 */
export async function buildModel(input: Volume | LabelMap, options: BuildModelOptions = {}): Promise<BuildModelResult> {
  const o = { ...BUILD_MODEL_DEFAULTS, ...stripUndefined(options) } as typeof BUILD_MODEL_DEFAULTS & BuildModelOptions;
  checkOptions(o);
  const run: RunOptions = { signal: options.signal, onProgress: options.onProgress };
  // threads for the surface and smoothing steps (results are identical with any number of threads)
  const par: ParallelOptions = useRunner(options.parallel) ? { parallel: options.parallel } : {};
  const threads = par.parallel?.threads ?? 1;
  const steps: StepRecord[] = [];
  const warnings: string[] = [];
  const timed = async <T>(fn: () => T | Promise<T>): Promise<[T, number]> => {
    throwIfAborted(options.signal);
    const t0 = now();
    const r = await fn();
    return [r, (now() - t0) / 1000];
  };

  // 1. segmentation
  let labels: LabelMap;
  let scan: Volume | undefined;
  if (isLabelMap(input)) {
    labels = input;
    scan = options.colorVolume;
  } else {
    scan = input;
    const seg = options.segment;
    if (!seg) {
      throw new S2SError('INVALID_ARGUMENT', 'a scan needs segmentation options to make a model', {
        hint: 'give a preset (e.g. bone), a threshold range or Otsu, or start from a label map',
      });
    }
    const [res, s] = await timed(() => segmentVolumeDetailed(input, { ...seg, ...run }));
    labels = res.labels;
    steps.push({
      step: 'segment',
      options: { ...stripUndefined(seg), lower: res.lower, upper: res.upper },
      seconds: s,
      result: Object.fromEntries(res.steps.map((x) => [`${x.step}Voxels`, x.voxels])),
    });
  }
  if (o.color === 'intensity' && !scan) {
    throw new S2SError('INVALID_ARGUMENT', 'intensity colours need the scan, but only a label map was given', {
      hint: 'give the scan the labels were made from (on the same grid or overlapping it), or use segment colours',
    });
  }

  // 2. structures to model
  const present = new Set<number>();
  {
    const d = labels.data;
    let last = 0;
    for (let p = 0; p < d.length; p++) {
      const v = d[p]!;
      if (v !== 0 && v !== last) {
        present.add(v);
        last = v;
      }
    }
  }
  let segments = completeSegments(labels);
  if (o.labels) {
    const want = new Set(o.labels);
    for (const v of want) {
      if (!segments.some((s) => s.value === v)) {
        throw new S2SError('INVALID_ARGUMENT', `label ${v} is not in the label map`, {
          hint: `the label values present are: ${[...present].sort((a, b) => a - b).join(', ') || 'none'}`,
        });
      }
    }
    segments = segments.filter((s) => want.has(s.value));
  }
  for (const s of segments) {
    if (!present.has(s.value)) warnings.push(`structure "${s.name}" (label ${s.value}) is empty and was left out`);
  }
  segments = segments.filter((s) => present.has(s.value));
  if (segments.length === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'nothing to model: the segmentation is empty', {
      hint: 'check the threshold or preset (slice2solid stats shows the value range), or the label values',
    });
  }
  const method = o.surface === 'auto' ? (segments.length > 1 ? 'surface-nets' : 'marching-cubes') : o.surface;
  const grid = labels.grid;
  const margin = Math.ceil(3 * o.antialiasSigma) + 2;
  const marginMm = grid.spacing.map((s) => s * margin) as unknown as Vec3;

  const smooth = async (mesh: Mesh, structure: string | undefined): Promise<Mesh> => {
    if (o.smoothing === 'none' || o.smoothIterations === 0) return mesh;
    const opts =
      o.smoothing === 'windowed-sinc'
        ? {
            method: 'windowed-sinc',
            iterations: o.smoothIterations,
            passBand: o.passBand,
            window: WINDOWED_SINC_DEFAULTS.window,
            boundary: WINDOWED_SINC_DEFAULTS.boundary,
          }
        : {
            method: 'taubin',
            iterations: o.smoothIterations,
            lambda: TAUBIN_SMOOTH_DEFAULTS.lambda,
            mu: TAUBIN_SMOOTH_DEFAULTS.mu,
            boundary: TAUBIN_SMOOTH_DEFAULTS.boundary,
          };
    const [out, s] = await timed(() =>
      o.smoothing === 'windowed-sinc'
        ? smoothWindowedSinc(mesh, { iterations: o.smoothIterations, passBand: o.passBand, ...run, ...par })
        : smoothTaubin(mesh, { iterations: o.smoothIterations, ...run }),
    );
    steps.push({
      step: 'smooth',
      ...(structure ? { structure } : {}),
      options: { ...opts, ...(o.smoothing === 'windowed-sinc' ? { threads } : {}) },
      seconds: s,
    });
    return out;
  };
  const reduce = async (mesh: Mesh, structure: string | undefined): Promise<Mesh> => {
    if (o.decimate >= 1 && o.decimateMaxErrorMm === undefined) return mesh;
    const before = mesh.indices.length / 3;
    const [res, s] = await timed(() =>
      decimateKeepingClosed(mesh, {
        ...par,
        targetRatio: o.decimate,
        ...(o.decimateMaxErrorMm !== undefined ? { maxErrorMm: o.decimateMaxErrorMm } : {}),
        ...run,
      }),
    );
    steps.push({
      step: 'decimate',
      ...(structure ? { structure } : {}),
      options: {
        method: 'quadric (meshoptimizer)',
        targetRatio: o.decimate,
        maxErrorMm: o.decimateMaxErrorMm ?? null,
        lockBorder: true,
        keepClosed: true,
        threads,
        pieceGroups: (mesh.groups?.length ?? 1) <= 1 && before >= SIMPLIFY_GROUPS_MIN_TRIANGLES ? SIMPLIFY_GROUPS : 1,
      },
      seconds: s,
      result: {
        trianglesBefore: before,
        trianglesAfter: res.mesh.indices.length / 3,
        errorMm: res.errorMm,
        coincidentRemoved: res.coincidentRemoved,
        verticesSplit: res.verticesSplit,
        piecesResimplified: res.piecesResimplified,
        piecesRestored: res.piecesRestored,
        trianglesRestored: res.trianglesRestored,
        ...(res.undecimated ? { undecimated: true } : {}),
      },
    });
    if (res.undecimated) {
      warnings.push(
        'decimating these structures together opened one of their surfaces, so the model was left undecimated (decimate one structure at a time with --labels)',
      );
    }
    return res.mesh;
  };
  const clean = async (mesh: Mesh, structure: string | undefined): Promise<Mesh> => {
    if (!o.watertight && o.minComponentVolumeMm3 === 0) return mesh;
    // multi-structure nets: pieces are per group; clean each group on its own
    const opts = { minComponentVolumeMm3: o.minComponentVolumeMm3 };
    const [res, s] = await timed(() => {
      if (!mesh.groups || mesh.groups.length <= 1) return cleanClosedMesh(mesh, opts);
      const parts = mesh.groups.map((g) => ({ g, r: cleanClosedMesh(submesh(mesh, g.start, g.count), opts) }));
      const sum = (k: keyof CleanClosedReport) => parts.reduce((a, p) => a + p.r.report[k], 0);
      return {
        mesh: concatMeshes(parts.map((p) => ({ mesh: p.r.mesh, group: { ...p.g } }))),
        report: {
          degenerateRemoved: sum('degenerateRemoved'),
          coincidentRemoved: sum('coincidentRemoved'),
          verticesSplit: sum('verticesSplit'),
          componentsRemoved: sum('componentsRemoved'),
          componentsKept: sum('componentsKept'),
        },
      };
    });
    steps.push({
      step: 'clean',
      ...(structure ? { structure } : {}),
      options: { ...opts, removeDegenerate: true, removeCoincident: true, splitNonManifold: true },
      seconds: s,
      result: { ...res.report },
    });
    return res.mesh;
  };

  // 3. surfaces, per structure or as one multi-label net
  interface Part {
    segment: Segment;
    raw: Mesh;
    mesh: Mesh;
    /** The structure's mask cropped to its bounding box plus margin (made once, used twice). */
    crop?: { data: Uint8Array; grid: Grid };
  }
  const cropOf = (value: number) => {
    // a Uint8 label map holding only label 1 is that label's mask already (0 / 1): no copy
    const only1 = value === 1 && present.size === 1 && present.has(1) && labels.data instanceof Uint8Array;
    const mask = only1 ? (labels.data as Uint8Array) : maskOfLabel(labels, value);
    const box = boundingBox(mask, grid, { marginMm })!;
    return { box, ...cropArray(mask, grid, box) };
  };
  const parts: Part[] = [];
  if (method === 'marching-cubes') {
    for (const seg of segments) {
      const crop = cropOf(seg.value);
      const box = crop.box;
      const [raw, s] = await timed(() =>
        maskSurface(crop.data, crop.grid, { sigmaVoxels: o.antialiasSigma, ...run, ...par }),
      );
      steps.push({
        step: 'surface',
        structure: seg.name,
        options: {
          method: 'marching-cubes',
          antialiasSigmaVoxels: o.antialiasSigma,
          antialiasMargin: ANTIALIAS_MASK_DEFAULTS.margin,
          isoValue: 0.5,
          closeBoundary: true,
          cropBox: { start: [...box.start], end: [...box.end] },
          threads,
        },
        seconds: s,
        result: { triangles: raw.indices.length / 3, vertices: raw.positions.length / 3 },
      });
      let mesh = await smooth(raw, seg.name);
      mesh = await reduce(mesh, seg.name);
      mesh = await clean(mesh, seg.name);
      parts.push({ segment: seg, raw, mesh, crop });
    }
  } else {
    const values = segments.map((s) => s.value);
    const relabelled: LabelMap = { ...labels, segments };
    const [raw, s] = await timed(() => surfaceNets(relabelled, { labels: values, ...run }));
    steps.push({
      step: 'surface',
      options: { method: 'surface-nets', ...SURFACE_NETS_DEFAULTS, labels: values },
      seconds: s,
      result: { triangles: raw.indices.length / 3, vertices: raw.positions.length / 3 },
    });
    const smoothed = await smooth(raw, undefined);
    let mesh = await reduce(smoothed, undefined);
    mesh = await clean(mesh, undefined);
    // Decimating several structures together (mesh/decimate.ts, shared interfaces locked) can
    // open one of them; then keep the model undecimated rather than deliver an open surface.
    const open = (m: Mesh) => (m.groups ?? []).some((g) => !meshMetrics(submesh(m, g.start, g.count)).closedManifold);
    const before = steps.length;
    if (mesh !== smoothed && open(mesh) && !open(await clean(smoothed, undefined))) {
      steps.length = before; // the clean of the undecimated mesh just recorded is redone below
      warnings.push(
        'decimating these structures together opened one of their surfaces, so the model was left undecimated (decimate one structure at a time with --labels)',
      );
      steps.push({ step: 'decimate-undone', options: { reason: 'a structure was no longer closed' }, seconds: 0 });
      mesh = await clean(smoothed, undefined);
    } else steps.length = Math.min(steps.length, before);
    const rawGroups = raw.groups ?? [];
    const finalGroups = mesh.groups ?? [];
    for (const seg of segments) {
      const rg = rawGroups.find((g) => g.label === seg.value);
      const fg = finalGroups.find((g) => g.label === seg.value);
      if (!rg || !fg) continue;
      parts.push({ segment: seg, raw: submesh(raw, rg.start, rg.count), mesh: submesh(mesh, fg.start, fg.count) });
    }
  }

  // 4. checks and accuracy per structure
  const perStructure: StructureMetrics[] = [];
  const accuracy: StructureAccuracy[] = [];
  for (const p of parts) {
    const seg = p.segment;
    const m = meshMetrics(p.mesh);
    let wt: { watertight: boolean; status: string } | undefined;
    if (o.watertight) {
      const [res, s] = await timed(() => checkWatertight(p.mesh));
      wt = res;
      steps.push({
        step: 'watertight-check',
        structure: seg.name,
        options: { checker: 'manifold-3d' },
        seconds: s,
        result: { watertight: res.watertight, status: res.status },
      });
      if (!res.watertight) {
        warnings.push(`structure "${seg.name}" is NOT watertight (manifold-3d: ${res.status}); it may not print`);
      }
    }
    perStructure.push({
      value: seg.value,
      name: seg.name,
      color: seg.color,
      triangles: m.triangles,
      vertices: m.vertices,
      volumeMm3: m.volumeMm3,
      volumeMl: m.volumeMl,
      areaMm2: m.areaMm2,
      components: m.components,
      closedManifold: m.closedManifold,
      ...(wt ? { watertight: wt.watertight, watertightStatus: wt.status } : {}),
    });
    if (o.accuracy && p.mesh.indices.length > 0) {
      const crop = p.crop ?? cropOf(seg.value);
      p.crop = undefined; // free it once used
      const [acc, s] = await timed(() => {
        try {
          return modelAccuracy(p.mesh, crop.data, crop.grid, {
            ...par,
            referenceMesh: p.raw,
            maxSamples: o.accuracySamples,
            ...run,
          });
        } catch (e) {
          if (e instanceof S2SError && e.code !== 'ABORTED') return e;
          throw e;
        }
      });
      if (acc instanceof S2SError) {
        warnings.push(`no accuracy report for "${seg.name}": ${acc.message}`);
        continue;
      }
      steps.push({
        step: 'accuracy',
        structure: seg.name,
        options: {
          dice: 'final mesh voxelized on the segmentation grid',
          distance: 'mesh vertices <-> voxel-face surface of the mask, exact point-to-surface',
          maxSamples: o.accuracySamples,
          threads,
        },
        seconds: s,
        result: { samples: acc.distance.samples, exhaustive: acc.exhaustive },
      });
      accuracy.push({
        value: seg.value,
        name: seg.name,
        dice: acc.dice,
        meanDistanceMm: acc.distance.meanMm,
        p95DistanceMm: acc.distance.p95Mm,
        maxDistanceMm: acc.distance.maxMm,
        volumeChangePercent: acc.volumeChangePercent ?? 0,
        volumeChangeVsMaskPercent: acc.volumeChangeVsMaskPercent,
        meshVolumeMm3: acc.meshVolumeMm3,
        maskVolumeMm3: acc.maskVolumeMm3,
      });
      if (acc.dice < 0.9) {
        warnings.push(
          `structure "${seg.name}" has Dice ${acc.dice.toFixed(3)} against its segmentation: smoothing or decimation changed it a lot (try less smoothing or a higher --decimate)`,
        );
      }
    }
    if (isSkinLike(seg) && !warnings.includes(HEAD_SKIN_WARNING)) warnings.push(HEAD_SKIN_WARNING);
  }

  // 5. one mesh, one group per structure, optional intensity colours
  // (surface nets: each structure is a compact copy of its group, so interface vertices appear once
  // per structure, as the per-structure export formats want them)
  let mesh = concatMeshes(parts.map((p) => ({ mesh: p.mesh, group: groupOf(p.segment) })));
  if (o.color === 'intensity' && scan) {
    const s0 = scan;
    const [res, s] = await timed(() =>
      vertexColorsFromScan(mesh, s0, { window: o.colorWindow, depthMm: o.colorDepthMm, ...run }),
    );
    mesh = { ...mesh, colors: res.colors };
    steps.push({
      step: 'color',
      options: { mode: 'intensity', window: res.window, depthMm: o.colorDepthMm, interpolation: 'trilinear' },
      seconds: s,
    });
  }
  const totals = {
    triangles: perStructure.reduce((a, x) => a + x.triangles, 0),
    vertices: mesh.positions.length / 3,
    volumeMm3: perStructure.reduce((a, x) => a + x.volumeMm3, 0),
    areaMm2: perStructure.reduce((a, x) => a + x.areaMm2, 0),
  };
  const metrics: ModelMetrics = {
    structures: perStructure.length,
    triangles: mesh.indices.length / 3,
    vertices: totals.vertices,
    volumeMm3: totals.volumeMm3,
    volumeMl: totals.volumeMm3 / 1000,
    areaMm2: totals.areaMm2,
    closedManifold: perStructure.every((x) => x.closedManifold),
    watertight: o.watertight ? perStructure.every((x) => x.watertight === true) : undefined,
    perStructure,
  };
  return { mesh, labels, steps, metrics, accuracy, warnings };
}

function groupOf(seg: Segment): Omit<MeshGroup, 'start' | 'count'> {
  return { name: seg.name, color: seg.color, label: seg.value };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

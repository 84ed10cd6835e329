/**
 * Segmentation worker: holds a read-only copy of the scan (sent once per load) and runs the
 * whole-volume steps on the label map: threshold, region growing, island removal, fill between
 * slices, the scribble assistant, AI models (onnxruntime-web), and label map export. Each step
 * receives the current labels and returns a NEW label array (transferred back); the page keeps
 * the previous one for undo.
 */
import {
  type InferenceSessionLike,
  type ModelCard,
  type SegmentWithModelReport,
  segmentWithModel,
} from '@slice2solid/ai';
import { onnxRuntimeWebBackend } from '@slice2solid/ai/web';
import { type Grid, type LabelMap, S2SError, type Segment, type Volume } from '@slice2solid/core';
import { segmentsSidecarName, writeDicomSeg, writeNiftiLabels, writeNrrdLabels } from '@slice2solid/io';
import {
  connectedThreshold,
  interpolateSlices,
  keepLargest,
  otsuThresholds,
  removeIslands,
  scribbleSegment,
  threshold,
} from '@slice2solid/ops';
// onnxruntime-web's WebAssembly runtime, served from the app's own origin (never a CDN)
import ortMjs from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import { replaceStructure, structureMask } from '../app/labels-edit.js';
import { mergeModelLabels, type StructurePlan } from '../app/model-package.js';
import { structureFromScribbleLabels } from '../app/scribble.js';
import { serve } from './serve.js';

let volume: Volume | undefined;
let model: { card: ModelCard; session: InferenceSessionLike } | undefined;

const absolute = (u: string) => new URL(u, globalThis.location.href).href;

function scan(): Volume {
  if (!volume) throw new Error('no scan loaded in the worker');
  return volume;
}

function count(labels: Uint8Array, value: number): number {
  let c = 0;
  for (let p = 0; p < labels.length; p++) if (labels[p] === value) c++;
  return c;
}

function done(labels: Uint8Array, value: number, extra: Record<string, unknown> = {}) {
  return { result: { labels, voxels: count(labels, value), ...extra }, transfer: [labels.buffer as ArrayBuffer] };
}

export interface StepRequest {
  readonly labels: Uint8Array;
  readonly value: number;
}

serve({
  init(req: { volume: Volume }) {
    volume = req.volume;
    return { result: true };
  },
  /** Automatic (Otsu) thresholds: `classes - 1` increasing values; voxels above t[k] are brighter classes. */
  otsu(req: { classes: number }, onProgress) {
    return { result: otsuThresholds(scan(), { classes: req.classes, onProgress }) };
  },
  threshold(req: StepRequest & { lower: number; upper: number }, onProgress) {
    const mask = threshold(scan(), { lower: req.lower, upper: req.upper, onProgress });
    return done(replaceStructure(req.labels, mask, req.value), req.value);
  },
  'region-grow'(req: StepRequest & { seed: number[]; lower: number; upper: number; connectivity: 6 | 26 }, onProgress) {
    const mask = connectedThreshold(scan(), {
      seeds: [{ ijk: req.seed }],
      lower: req.lower,
      upper: req.upper,
      connectivity: req.connectivity,
      onProgress,
    });
    return done(replaceStructure(req.labels, mask, req.value), req.value);
  },
  islands(req: StepRequest & { minVolumeMm3: number; keepLargest: boolean }, onProgress) {
    const grid = scan().grid;
    let mask = structureMask(req.labels, req.value);
    if (req.minVolumeMm3 > 0) mask = removeIslands(mask, grid, { minVolumeMm3: req.minVolumeMm3, onProgress });
    if (req.keepLargest) mask = keepLargest(mask, grid, { onProgress });
    return done(replaceStructure(req.labels, mask, req.value), req.value);
  },
  'fill-between'(req: StepRequest & { axis: 0 | 1 | 2 }, onProgress) {
    const mask = interpolateSlices(structureMask(req.labels, req.value), scan().grid, { axis: req.axis, onProgress });
    return done(replaceStructure(req.labels, mask, req.value), req.value);
  },
  /** Learns from the strokes (1 = structure, 2 = background); class 1 becomes structure `value`. */
  scribble(req: StepRequest & { scribbles: Uint8Array; keepLargest: boolean }, onProgress) {
    const r = scribbleSegment(scan(), req.scribbles, {
      keepLargest: req.keepLargest ? [1] : [],
      onProgress,
    });
    const mask = structureFromScribbleLabels(r.labels);
    return done(replaceStructure(req.labels, mask, req.value), req.value, {
      samples: r.model.samples,
      timings: r.timings,
    });
  },
  /** Opens an ONNX model for the card (kept until the worker ends); says which provider runs it. */
  async 'model-open'(req: { card: ModelCard; onnx: Uint8Array }) {
    const old = model;
    model = undefined;
    await old?.session.dispose();
    const backend = onnxRuntimeWebBackend({
      wasmPaths: { wasm: absolute(ortWasm), mjs: absolute(ortMjs) },
      numThreads: 1,
    });
    const session = await backend.createSession(req.onnx);
    const { card } = req;
    const check = (name: string | undefined, have: readonly string[], what: string, field: string) => {
      if (name !== undefined && !have.includes(name)) {
        throw new S2SError('MALFORMED_FILE', `the ONNX model has no ${what} "${name}" (named in the card's ${field})`, {
          hint: `its ${what}s are: ${have.join(', ')}; the card and the .onnx file do not belong together`,
        });
      }
    };
    try {
      check(card.input.name, session.inputNames, 'input', 'input.name');
      check(card.output.name, session.outputNames, 'output', 'output.name');
    } catch (e) {
      await session.dispose();
      throw e;
    }
    model = { card, session };
    return {
      result: {
        executionProvider: session.executionProvider ?? 'unknown',
        inputNames: session.inputNames,
        outputNames: session.outputNames,
      },
    };
  },
  /** Runs the open model on the scan; its labels replace the planned page structures. */
  async 'model-run'(
    req: { labels: Uint8Array; plan: StructurePlan[]; structures?: string[]; roiFirst: boolean },
    onProgress,
  ) {
    if (!model)
      throw new S2SError('INVALID_ARGUMENT', 'no model is open in the worker', { hint: 'open a model first' });
    const r = await segmentWithModel(scan(), model.card, model.session, {
      ...(req.structures ? { structures: req.structures } : {}),
      roiFirst: req.roiFirst,
      onProgress,
    });
    const merged = mergeModelLabels(req.labels, r.labels.data, req.plan);
    const report: SegmentWithModelReport = r.report;
    return {
      result: { labels: merged.labels, voxels: [...merged.voxels.entries()], report },
      transfer: [merged.labels.buffer as ArrayBuffer],
    };
  },
  'export-labels'(req: {
    labels: Uint8Array;
    grid: Grid;
    segments: Segment[];
    format: 'nifti' | 'nrrd' | 'dicom-seg';
  }) {
    const map: LabelMap = { grid: req.grid, data: req.labels, segments: req.segments };
    if (req.format === 'dicom-seg') {
      const bytes = writeDicomSeg(map, { algorithmType: 'SEMIAUTOMATIC', algorithmName: 'slice2solid' });
      return { result: { files: [{ name: 'labels.dcm', bytes }] }, transfer: [bytes.buffer as ArrayBuffer] };
    }
    const out = req.format === 'nrrd' ? writeNrrdLabels(map) : writeNiftiLabels(map, { gzip: true });
    const name = req.format === 'nrrd' ? 'labels.seg.nrrd' : 'labels.nii.gz';
    const json = new TextEncoder().encode(out.segmentsJson);
    return {
      result: {
        files: [
          { name, bytes: out.image },
          { name: segmentsSidecarName(name), bytes: json },
        ],
      },
      transfer: [out.image.buffer as ArrayBuffer, json.buffer as ArrayBuffer],
    };
  },
});

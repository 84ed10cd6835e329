/**
 * Segmentation worker: holds a read-only copy of the scan (sent once per load) and runs the
 * whole-volume steps on the label map: threshold, region growing, island removal, fill between
 * slices, and label map export. Each step receives the current labels and returns a NEW label
 * array (transferred back); the page keeps the previous one for undo.
 */
import type { Grid, LabelMap, Segment, Volume } from '@slice2solid/core';
import { segmentsSidecarName, writeDicomSeg, writeNiftiLabels, writeNrrdLabels } from '@slice2solid/io';
import {
  connectedThreshold,
  interpolateSlices,
  keepLargest,
  otsuThresholds,
  removeIslands,
  threshold,
} from '@slice2solid/ops';
import { replaceStructure, structureMask } from '../app/labels-edit.js';
import { serve } from './serve.js';

let volume: Volume | undefined;

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

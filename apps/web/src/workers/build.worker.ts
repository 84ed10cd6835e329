/**
 * Model worker: buildModel (surface -> smooth -> decimate -> clean -> watertight check ->
 * accuracy) on the label map, then keeps the model to write it in any format on request, and
 * assembles the run record. The page gets a copy of the mesh for the 3D view.
 */
import type { Grid, LabelMap, Mesh, Segment } from '@slice2solid/core';
import { type MeshFormat, writeMesh } from '@slice2solid/io';
import {
  type BuildModelOptions,
  type BuildModelResult,
  buildModel,
  type InputRecord,
  makeRunRecord,
  type OutputRecord,
  runRecordJson,
  type StepRecord,
  sha256Hex,
} from '@slice2solid/ops';
import { serve } from './serve.js';

/** The last model (without its label map, which the page has: the worker keeps only the mesh and report). */
let model: Pick<BuildModelResult, 'mesh' | 'metrics' | 'accuracy' | 'warnings'> | undefined;

export interface BuildRequest {
  readonly labels: Uint8Array;
  readonly grid: Grid;
  readonly segments: Segment[];
  readonly options: Omit<BuildModelOptions, 'signal' | 'onProgress'>;
}

export interface BuiltModel {
  readonly positions: Float32Array;
  readonly indices: Uint32Array;
  readonly groups: Mesh['groups'];
  readonly metrics: BuildModelResult['metrics'];
  readonly accuracy: BuildModelResult['accuracy'];
  readonly warnings: readonly string[];
  readonly steps: readonly StepRecord[];
  readonly seconds: number;
}

serve({
  async build(req: BuildRequest, onProgress) {
    model = undefined;
    const t0 = performance.now();
    const labels: LabelMap = { grid: req.grid, data: req.labels, segments: req.segments };
    const result = await buildModel(labels, { ...req.options, onProgress });
    model = { mesh: result.mesh, metrics: result.metrics, accuracy: result.accuracy, warnings: result.warnings };
    const positions = result.mesh.positions.slice();
    const indices = result.mesh.indices.slice();
    const out: BuiltModel = {
      positions,
      indices,
      groups: result.mesh.groups,
      metrics: result.metrics,
      accuracy: result.accuracy,
      warnings: result.warnings,
      steps: result.steps,
      seconds: (performance.now() - t0) / 1000,
    };
    return { result: out, transfer: [positions.buffer, indices.buffer] };
  },
  async export(req: { format: MeshFormat; name: string }, onProgress) {
    if (!model) throw new Error('no model has been built yet');
    const t0 = performance.now();
    const files = await writeMesh(model.mesh, req.format, { name: req.name, onProgress });
    const outputs: OutputRecord[] = [];
    for (const f of files) {
      outputs.push({
        file: f.name,
        format: f.name.endsWith('.mtl') ? 'mtl' : req.format,
        bytes: f.bytes.length,
        sha256: await sha256Hex(f.bytes),
      });
    }
    return {
      result: { files, outputs, seconds: (performance.now() - t0) / 1000 },
      transfer: files.map((f) => f.bytes.buffer as ArrayBuffer),
    };
  },
  record(req: {
    version: string;
    input: InputRecord;
    steps: StepRecord[];
    outputs: OutputRecord[];
    runAt: string;
    seconds: number;
  }) {
    if (!model) throw new Error('no model has been built yet');
    const rec = makeRunRecord({
      tool: { name: 'slice2solid (web)', version: req.version },
      command: 'web',
      runAt: new Date(req.runAt),
      seconds: req.seconds,
      input: req.input,
      steps: req.steps,
      outputs: req.outputs,
      metrics: model.metrics,
      accuracy: model.accuracy,
      warnings: model.warnings,
    });
    return { result: runRecordJson(rec) };
  },
});

#!/usr/bin/env node
/**
 * One timed run of `npm run bench:ai` (scripts/bench-ai.mjs starts it as its own process, under
 * /usr/bin/time, so that the peak RSS is this run's alone):
 *
 *   node scripts/bench-ai-run.mjs --image CT.nii --model MODELDIR --out DIR
 *        [--structures a,b] [--roi-first] [--threads N] [--backend node|web]
 *
 * Loads the scan and the model package (a folder or a model-store name, via resolveModel), runs segmentWithModel (full volume,
 * or look-first with --roi-first) and writes DIR/labels.raw (the label voxels, i fastest) and
 * DIR/report.json (stage timings and segmentWithModel's report). Uses the built packages
 * (packages/*\/dist): run `npx tsc -b packages/ai packages/io` first (bench-ai.mjs does).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { segmentWithModel } from '@slice2solid/ai';
import { onnxRuntimeNodeBackend, resolveModel } from '@slice2solid/ai/node';
import { readNifti } from '@slice2solid/io';

const { values } = parseArgs({
  options: {
    image: { type: 'string' },
    model: { type: 'string' },
    out: { type: 'string' },
    structures: { type: 'string' },
    'roi-first': { type: 'boolean' },
    threads: { type: 'string', default: '0' },
    backend: { type: 'string', default: 'node' },
  },
});
for (const k of ['image', 'model', 'out']) {
  if (!values[k]) {
    console.error(`bench-ai-run: --${k} is required`);
    process.exit(2);
  }
}

const t0 = performance.now();
const stages = [];
let t = t0;
const stage = (name) => {
  const n = performance.now();
  stages.push({ stage: name, seconds: (n - t) / 1000 });
  t = n;
};

let bytes = new Uint8Array(readFileSync(values.image));
if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = new Uint8Array(gunzipSync(bytes));
const volume = readNifti(bytes, { name: values.image });
bytes = undefined;
stage('read scan');

// a model package folder or a model-store name (contract 6: card validated, sha256 checked)
const { card, onnx } = resolveModel(values.model);
const threads = Number(values.threads);
let backend;
if (values.backend === 'web') {
  const { onnxRuntimeWebBackend } = await import('@slice2solid/ai/web');
  const { createRequire } = await import('node:module');
  const { dirname } = await import('node:path');
  const dist = `${dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'))}/`;
  backend = onnxRuntimeWebBackend({ wasmPaths: dist, numThreads: threads > 0 ? threads : 1 });
} else {
  backend = onnxRuntimeNodeBackend(threads > 0 ? { intraOpNumThreads: threads } : {});
}
const session = await backend.createSession(onnx);
stage('load model');

const structures = values.structures ? values.structures.split(',').map((s) => s.trim()) : undefined;
const { labels, report } = await segmentWithModel(volume, card, session, {
  ...(structures ? { structures } : {}),
  roiFirst: values['roi-first'] === true,
});
stage('segmentWithModel');
await session.dispose();

const data = labels.data;
writeFileSync(join(values.out, 'labels.raw'), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
writeFileSync(
  join(values.out, 'report.json'),
  JSON.stringify(
    {
      mode: values['roi-first'] ? 'look-first' : 'full',
      backend: backend.name,
      labelType: data.constructor.name,
      size: labels.grid.size,
      stages,
      totalSeconds: (performance.now() - t0) / 1000,
      report,
    },
    null,
    2,
  ),
);

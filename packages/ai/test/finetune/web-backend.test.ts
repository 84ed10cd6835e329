// Fine-tuning is browser code: the same run through onnxruntime-web (its WebAssembly provider,
// as a browser without WebGPU uses it) gives the same head as through onnxruntime-node.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fineTuneHead } from '../../src/finetune/fine-tune-head.js';
import { parseModelCard } from '../../src/model-card.js';
import { onnxRuntimeNodeBackend } from '../../src/node/onnxruntime-node.js';
import { syntheticCase } from '../../src/train/synthetic.js';
import { onnxRuntimeWebBackend } from '../../src/web/onnxruntime-web.js';
import { headModel, headModelCard, TEST_THRESHOLDS } from '../helpers/head-model.js';

const ortWebDist = `${dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'))}/`;

describe('fineTuneHead on the browser runtime', () => {
  it('onnxruntime-web (wasm) and onnxruntime-node give the same fine-tuned head', async () => {
    const card = parseModelCard(headModelCard());
    const model = headModel({ thresholds: TEST_THRESHOLDS, classes: 3 });
    const cases = [31, 32, 33].map((s) => ({ id: `c${s}`, ...syntheticCase(s, { size: [24, 24, 24] }) }));
    const opts = { epochs: 5, samplesPerClass: 400, validation: 0, seed: 2 };
    const ws = await onnxRuntimeWebBackend({ wasmPaths: ortWebDist, numThreads: 1 }).createSession(model);
    const ns = await onnxRuntimeNodeBackend({ intraOpNumThreads: 1 }).createSession(model);
    const w = await fineTuneHead(cases, card, ws, opts);
    const n = await fineTuneHead(cases, card, ns, opts);
    expect(w.samples).toEqual(n.samples);
    expect(w.bestEpoch).toBe(n.bestEpoch);
    let worst = 0;
    let scale = 0;
    for (let q = 0; q < n.head.weight.length; q++) {
      worst = Math.max(worst, Math.abs(w.head.weight[q]! - n.head.weight[q]!));
      scale = Math.max(scale, Math.abs(n.head.weight[q]!));
    }
    expect(scale).toBeGreaterThan(0.01);
    expect(worst).toBeLessThan(1e-3 * scale);
    expect(w.history.at(-1)!.trainLoss).toBeCloseTo(n.history.at(-1)!.trainLoss, 4);
    await ws.dispose();
    await ns.dispose();
  });
});

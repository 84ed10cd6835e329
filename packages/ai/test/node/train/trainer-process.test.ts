// The PyTorch trainer (packages/ai/python/s2s_train.py) under its supervisor: a short CPU
// training on synthetic cases, the exported ONNX against PyTorch, resume after a kill, and the
// failure modes. Needs a Python with torch + numpy (Debian python3-torch, installed by .ci/run):
// skipped with a message on a machine without it, a failure in CI.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isS2SError, type S2SError } from '@slice2solid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onnxRuntimeNodeBackend } from '../../../src/node/onnxruntime-node.js';
import {
  findPythonTorch,
  type RunTrainerResult,
  runTrainer,
  type TrainerEvent,
  trainerScriptPath,
} from '../../../src/node/train/trainer-process.js';
import { readOnnx } from '../../helpers/onnx-reader.js';
import { writeSyntheticRun } from './synthetic-run.js';

const torchPython = await findPythonTorch();
if (!torchPython && process.env.CI) {
  throw new Error('CI run without PyTorch: no python with torch + numpy (.ci/run installs python3-torch)');
}
if (!torchPython) {
  console.warn(
    '[slice2solid tests] no Python with PyTorch: skipping trainer tests (sudo apt-get install python3-torch)',
  );
}
const describeTorch = torchPython ? describe : describe.skip;
const root = mkdtempSync(join(tmpdir(), 's2s-trainer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
// one thread: vitest runs other test files beside this one, and torch's threads fighting over
// busy cores are many times slower than one (measured: 35 s vs > 6 min for the same training)
const env = { S2S_TRAIN_THREADS: '1' };
// about 35 s and 10 s on a busy 2-core machine; generous limits for a slower one
const TRAIN_TIMEOUT = 400_000;

async function expectS2SError(p: Promise<unknown>): Promise<S2SError> {
  try {
    await p;
  } catch (e) {
    if (isS2SError(e)) return e;
    throw e;
  }
  throw new Error('expected the promise to reject');
}

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

describeTorch('trainer: short CPU training on synthetic cases', () => {
  const run = join(root, 'train');
  let result: RunTrainerResult;
  const seen: TrainerEvent[] = [];

  beforeAll(async () => {
    writeSyntheticRun(run, {
      train: 4,
      val: 2,
      test: 1,
      caseOptions: { size: [32, 32, 32] },
      training: { epochs: 7, stepsPerEpoch: 20, lr: 0.01, schedule: 'cosine', baseChannels: 8, levels: 3 },
    });
    result = await runTrainer(run, { python: torchPython!.python, env, onEvent: (e) => seen.push(e) });
  }, TRAIN_TIMEOUT);

  it('reaches a validation mean Dice above 0.9 and reports the protocol events in order', () => {
    expect(result.bestMeanValDice).toBeGreaterThan(0.9);
    const kinds = seen.map((e) => e.event);
    expect(kinds[0]).toBe('start');
    expect(seen[0]).toMatchObject({ device: 'cpu', resumedFromEpoch: null });
    expect(kinds.at(-2)).toBe('exported');
    expect(kinds.at(-1)).toBe('done');
    expect(result.events).toEqual(seen);
    const epochs = seen.filter((e) => e.event === 'epoch');
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const best = epochs.find((e) => e.epoch === result.bestEpoch)!;
    expect(best.meanValDice).toBe(result.bestMeanValDice);
    const dice = best.valDice as Record<string, number>;
    expect(Object.keys(dice)).toEqual(['ellipsoid', 'tube']);
    expect((dice.ellipsoid! + dice.tube!) / 2).toBeCloseTo(result.bestMeanValDice, 12);
    // the first epoch is far from the end result: training did the work
    expect(epochs[0]!.meanValDice as number).toBeLessThan(result.bestMeanValDice);
    expect(seen.filter((e) => e.event === 'step').length).toBeGreaterThanOrEqual(6);
    expect(existsSync(join(run, 'checkpoints', 'last.pt'))).toBe(true);
    expect(existsSync(join(run, 'checkpoints', 'best.pt'))).toBe(true);
    expect(result.onnx).toBe(join(run, 'model.onnx'));
  });

  it('exports an ONNX model that onnxruntime-node runs like PyTorch (logits, features, head)', async () => {
    const bytes = new Uint8Array(readFileSync(result.onnx));
    const info = readOnnx(bytes);
    expect(info.opset).toContain(17);
    expect(info.ops).not.toContain('ConvTranspose');
    expect(info.ops).toContain('Resize');
    const w = info.initializers.get('head.weight');
    const b = info.initializers.get('head.bias');
    expect(w?.dims).toEqual([3, 8, 1, 1, 1]);
    expect(b?.dims).toEqual([3]);
    expect(w?.raw && b?.raw).toBe(true);

    const check = JSON.parse(readFileSync(join(run, 'export_check.json'), 'utf8'));
    const input = readF32(join(run, check.input));
    const expected = readF32(join(run, check.logits));
    expect(check.dims).toEqual([1, 1, 32, 32, 32]);
    const session = await onnxRuntimeNodeBackend({ intraOpNumThreads: 1 }).createSession(bytes);
    expect(session.inputNames).toEqual(['image']);
    expect(session.outputNames).toEqual(['logits', 'features']);
    const out = await session.run({ image: { data: input, dims: check.dims } });
    const logits = out.logits!;
    const features = out.features!;
    expect(logits.dims).toEqual([1, 3, 32, 32, 32]);
    expect(features.dims).toEqual([1, 8, 32, 32, 32]);
    let maxDiff = 0;
    let maxAbs = 0;
    for (let n = 0; n < expected.length; n++) {
      maxDiff = Math.max(maxDiff, Math.abs(logits.data[n]! - expected[n]!));
      maxAbs = Math.max(maxAbs, Math.abs(expected[n]!));
    }
    expect(maxAbs).toBeGreaterThan(1);
    expect(maxDiff).toBeLessThan(1e-4 * Math.max(1, maxAbs));
    // logits = head.weight . features + head.bias, voxel by voxel (what head fine-tuning relies on)
    const nv = 32 * 32 * 32;
    let headDiff = 0;
    for (let c = 0; c < 3; c++) {
      for (let v = 0; v < nv; v += 7) {
        let s = b!.values[c]!;
        for (let f = 0; f < 8; f++) s += w!.values[c * 8 + f]! * features.data[f * nv + v]!;
        headDiff = Math.max(headDiff, Math.abs(s - logits.data[c * nv + v]!));
      }
    }
    expect(headDiff).toBeLessThan(1e-3);
    // dynamic spatial axes: another size (multiples of 4) runs too
    const other = await session.run({ image: { data: input.subarray(0, 16 * 32 * 8), dims: [1, 1, 8, 32, 16] } });
    expect(other.logits!.dims).toEqual([1, 3, 8, 32, 16]);
    await session.dispose();
  });

  it('its ONNX segments the validation cases as well as the trainer said (our own Dice)', async () => {
    const plan = JSON.parse(readFileSync(join(run, 'plan.json'), 'utf8'));
    const session = await onnxRuntimeNodeBackend({ intraOpNumThreads: 1 }).createSession(
      new Uint8Array(readFileSync(result.onnx)),
    );
    const val = plan.cases.filter((c: { split: string }) => c.split === 'val');
    const perLabel = [0, 0];
    for (const c of val) {
      const img = readF32(join(run, c.image));
      const lbl = new Uint8Array(readFileSync(join(run, c.labels)));
      const { logits } = await session.run({ image: { data: img, dims: [1, 1, 32, 32, 32] } }, ['logits']);
      const nv = img.length;
      for (const cls of [1, 2]) {
        let inter = 0;
        let sum = 0;
        for (let v = 0; v < nv; v++) {
          let arg = 0;
          for (let k = 1; k < 3; k++) if (logits!.data[k * nv + v]! > logits!.data[arg * nv + v]!) arg = k;
          const p = arg === cls;
          const g = lbl[v] === cls;
          if (p && g) inter++;
          sum += (p ? 1 : 0) + (g ? 1 : 0);
        }
        perLabel[cls - 1]! += (sum ? (2 * inter) / sum : 1) / val.length;
      }
    }
    await session.dispose();
    expect((perLabel[0]! + perLabel[1]!) / 2).toBeCloseTo(result.bestMeanValDice, 3);
  });
});

describeTorch('trainer: batch norm makes predictions independent of the patch cut', () => {
  // With InstanceNorm every patch is normalised by its own statistics, so a voxel's label depends
  // on where the sliding window cut the patch (look-first then disagrees with full inference).
  // With norm: 'batch' the exported network uses running statistics: a fixed local filter, so the
  // logits of a crop equal the full input's wherever the crop's edges are out of reach.
  const run = join(root, 'batchnorm');
  let result: RunTrainerResult;
  beforeAll(async () => {
    writeSyntheticRun(run, {
      train: 2,
      val: 1,
      caseOptions: { size: [32, 32, 32] },
      training: { epochs: 2, stepsPerEpoch: 4, lr: 0.01, baseChannels: 4, levels: 2, norm: 'batch' },
    });
    result = await runTrainer(run, { python: torchPython!.python, env });
  }, TRAIN_TIMEOUT);

  it('exports BatchNormalization, and a crop gives the same logits away from its cut faces', async () => {
    const bytes = new Uint8Array(readFileSync(result.onnx));
    const info = readOnnx(bytes);
    expect(info.ops).not.toContain('InstanceNormalization');
    const check = JSON.parse(readFileSync(join(run, 'export_check.json'), 'utf8'));
    const input = readF32(join(run, check.input));
    const n = 32;
    const session = await onnxRuntimeNodeBackend({ intraOpNumThreads: 1 }).createSession(bytes);
    const full = (await session.run({ image: { data: input, dims: [1, 1, n, n, n] } }, ['logits'])).logits!;
    // crop k, j, i to [8, 32): an offset that is a multiple of 2^(levels-1)
    const o = 8;
    const m = n - o;
    const crop = new Float32Array(m * m * m);
    for (let k = 0; k < m; k++)
      for (let j = 0; j < m; j++)
        for (let i = 0; i < m; i++) crop[(k * m + j) * m + i] = input[((k + o) * n + j + o) * n + i + o]!;
    const part = (await session.run({ image: { data: crop, dims: [1, 1, m, m, m] } }, ['logits'])).logits!;
    await session.dispose();
    // voxels at least `reach` from the cut faces (i, j, k = 8) see the same input in both runs
    const reach = 12;
    let maxDiff = 0;
    let maxAbs = 0;
    let compared = 0;
    for (let c = 0; c < 3; c++)
      for (let k = o + reach; k < n; k++)
        for (let j = o + reach; j < n; j++)
          for (let i = o + reach; i < n; i++) {
            const a = full.data[((c * n + k) * n + j) * n + i]!;
            const b = part.data[((c * m + k - o) * m + j - o) * m + i - o]!;
            maxDiff = Math.max(maxDiff, Math.abs(a - b));
            maxAbs = Math.max(maxAbs, Math.abs(a));
            compared++;
          }
    expect(compared).toBe(3 * 12 ** 3);
    expect(maxAbs).toBeGreaterThan(0.1);
    expect(maxDiff).toBeLessThan(1e-4 * Math.max(1, maxAbs));
  });
});

describeTorch('trainer: resume after a kill', () => {
  const training = { epochs: 3, stepsPerEpoch: 4, baseChannels: 4, levels: 2, seed: 5, lr: 0.005 };
  const caseOptions = { size: [16, 16, 16] as [number, number, number] };

  it(
    'continues from the last checkpoint and ends where an uninterrupted run ends',
    async () => {
      const run = join(root, 'resume');
      writeSyntheticRun(run, { train: 2, val: 1, caseOptions, patchSize: [16, 16, 16], training });
      const controller = new AbortController();
      const first: TrainerEvent[] = [];
      const err = await expectS2SError(
        runTrainer(run, {
          python: torchPython!.python,
          env,
          signal: controller.signal,
          onEvent: (e) => {
            first.push(e);
            if (e.event === 'checkpoint') controller.abort();
          },
        }),
      );
      expect(err.code).toBe('ABORTED');
      expect(first.some((e) => e.event === 'done')).toBe(false);
      const lastSaved = Math.max(...first.filter((e) => e.event === 'checkpoint').map((e) => e.epoch as number));
      expect(lastSaved).toBeGreaterThanOrEqual(1);
      expect(lastSaved).toBeLessThan(3);
      expect(existsSync(join(run, 'checkpoints', 'last.pt'))).toBe(true);

      const second = await runTrainer(run, { python: torchPython!.python, env, resume: true });
      const start = second.events.find((e) => e.event === 'start')!;
      expect(start.resumedFromEpoch).toBe(lastSaved);
      const epochs = second.events.filter((e) => e.event === 'epoch');
      expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3].filter((n) => n > lastSaved));

      // the same plan without interruption: model, optimizer and RNG states were all restored,
      // so the last epoch's losses are the same
      const straightRun = join(root, 'straight');
      writeSyntheticRun(straightRun, { train: 2, val: 1, caseOptions, patchSize: [16, 16, 16], training });
      const straight = await runTrainer(straightRun, { python: torchPython!.python, env });
      const a = straight.events.filter((e) => e.event === 'epoch').at(-1)!;
      const b = epochs.at(-1)!;
      expect(b.epoch).toBe(3);
      expect(b.trainLoss as number).toBeCloseTo(a.trainLoss as number, 4);
      expect(b.valLoss as number).toBeCloseTo(a.valLoss as number, 4);
    },
    TRAIN_TIMEOUT,
  );
});

describe('trainer supervisor: failures', () => {
  it('a Python without torch gives TRAINER_UNAVAILABLE with the install hint (exit code 3)', async () => {
    // a module named torch that fails to import, found first on PYTHONPATH
    const fake = join(root, 'no-torch');
    mkdirSync(fake, { recursive: true });
    writeFileSync(join(fake, 'torch.py'), 'raise ImportError("No module named \'torch\'")\n');
    const run = join(root, 'unavailable');
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'plan.json'), '{}');
    const python = torchPython?.python ?? 'python3';
    const events: TrainerEvent[] = [];
    const err = await expectS2SError(
      runTrainer(run, { python, env: { PYTHONPATH: fake }, onEvent: (e) => events.push(e) }),
    );
    expect(err.code).toBe('TRAINER_UNAVAILABLE');
    expect(err.hint).toMatch(/apt-get install python3-torch/);
    expect(err.hint).toMatch(/pip install torch/);
    expect(events.at(-1)).toMatchObject({ event: 'error' });
    expect(String(events.at(-1)!.hint)).toMatch(/apt-get install python3-torch/);
  });

  it('a missing interpreter gives TRAINER_UNAVAILABLE; findPythonTorch says null', async () => {
    const run = join(root, 'nopython');
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'plan.json'), '{}');
    const missing = join(root, 'no-such-python3');
    const err = await expectS2SError(runTrainer(run, { python: missing }));
    expect(err.code).toBe('TRAINER_UNAVAILABLE');
    expect(await findPythonTorch(missing)).toBeNull();
  });

  it('an invalid plan gives TRAINER_FAILED with the trainer message', async () => {
    const run = join(root, 'badplan');
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'plan.json'), JSON.stringify({ schema: 'something-else/1' }));
    const python = torchPython?.python ?? 'python3';
    const err = await expectS2SError(runTrainer(run, { python }));
    // without torch the trainer stops before reading the plan
    expect(err.code).toBe(torchPython ? 'TRAINER_FAILED' : 'TRAINER_UNAVAILABLE');
    if (torchPython) expect(err.message).toMatch(/schema is 'something-else\/1'/);
  });

  it('parses split lines, ignores noise, and reports the stderr tail of a crash', async () => {
    // a stand-in trainer: a shell script that writes the protocol in pieces, with noise between
    const script = join(root, 'fake-trainer.sh');
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        'printf \'{"event": "start", "device"\'',
        'sleep 0.05',
        'printf \': "cpu", "resumedFromEpoch": null}\\nnot json at all\\n{"broken": \'',
        'printf \'\\n{"event": "epoch", "epoch": 1, "epochs": 2}\\n\'',
        'echo "Traceback: something exploded" >&2',
        'exit 1',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    const run = join(root, 'fake');
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'plan.json'), '{}');
    const events: TrainerEvent[] = [];
    const progress: number[] = [];
    const err = await expectS2SError(
      runTrainer(run, {
        python: script,
        onEvent: (e) => events.push(e),
        onProgress: (p) => progress.push(p.done / p.total),
      }),
    );
    expect(events).toEqual([
      { event: 'start', device: 'cpu', resumedFromEpoch: null },
      { event: 'epoch', epoch: 1, epochs: 2 },
    ]);
    expect(progress).toEqual([0.5]);
    expect(err.code).toBe('TRAINER_FAILED');
    expect(err.message).toMatch(/exited with code 1/);
    expect(err.message).toMatch(/Traceback: something exploded/);
  });

  it('finds the trainer script from the package root', () => {
    expect(existsSync(trainerScriptPath())).toBe(true);
    expect(trainerScriptPath()).toMatch(/packages[/\\]ai[/\\]python[/\\]s2s_train\.py$/);
  });
});

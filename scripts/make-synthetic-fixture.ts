/**
 * Regenerates packages/ai/test/fixtures/synthetic-unet/ (model.onnx + model.json): a small 3D
 * U-Net trained by the PyTorch trainer on synthetic cases (syntheticCase, default intensities),
 * then evaluated with onnxruntime-node on synthetic cases it never saw.
 *
 *   npx tsx --conditions=source scripts/make-synthetic-fixture.ts [--out <dir>] [--run <dir>] [--epochs N]
 *
 * --run keeps the trainer's run folder there (default: a temporary folder, deleted); when that
 * folder already holds a run, training resumes from its last checkpoint (with --epochs, the
 * plan's epoch count is changed first).
 *
 * Needs a Python with torch + numpy (sudo apt-get install python3-torch). Deterministic for the
 * seeds below up to CPU floating-point differences between machines. A few minutes on 2 cores.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseModelCard, SYNTHETIC_CASE_DEFAULTS, SYNTHETIC_SEGMENTS, syntheticCase } from '@slice2solid/ai';
import { findPythonTorch, onnxRuntimeNodeBackend, runTrainer, type TrainerEvent } from '@slice2solid/ai/node';
import { SYNTHETIC_NORMALIZATION, writeSyntheticRun } from '../packages/ai/test/node/train/synthetic-run.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? resolve(process.argv[outArg + 1]!) : join(repo, 'packages/ai/test/fixtures/synthetic-unet');
const runArg = process.argv.indexOf('--run');
const epochsArg = process.argv.indexOf('--epochs');

const TRAIN = 16;
const VAL = 4;
const FIRST_SEED = 1000;
const TEST_SEEDS = [5001, 5002, 5003, 5004, 5005, 5006];
const training = {
  epochs: 12,
  stepsPerEpoch: 25,
  batchSize: 2,
  lr: 0.01,
  schedule: 'cosine',
  loss: 'dice+ce',
  foregroundOversample: 0.5,
  augment: { flip: true, rotate: true, scale: true, elastic: false, intensity: true, noise: true },
  earlyStopPatience: 10,
  seed: 1,
  baseChannels: 8,
  levels: 3,
  device: 'cpu',
};

const torch = await findPythonTorch();
if (!torch) {
  console.error('no Python with torch + numpy: sudo apt-get install python3-torch');
  process.exit(3);
}
if (epochsArg > 0) training.epochs = Number(process.argv[epochsArg + 1]);
const run = runArg > 0 ? resolve(process.argv[runArg + 1]!) : mkdtempSync(join(tmpdir(), 's2s-fixture-'));
const resume = existsSync(join(run, 'checkpoints', 'last.pt'));
try {
  if (resume) {
    const plan = JSON.parse(readFileSync(join(run, 'plan.json'), 'utf8'));
    plan.training.epochs = training.epochs;
    writeFileSync(join(run, 'plan.json'), JSON.stringify(plan, null, 2));
  } else {
    writeSyntheticRun(run, { train: TRAIN, val: VAL, seed: FIRST_SEED, patchSize: [32, 32, 32], training });
  }
  const t0 = Date.now();
  const result = await runTrainer(run, {
    python: torch.python,
    resume,
    onEvent: (e: TrainerEvent) => {
      if (e.event === 'epoch') {
        console.log(
          `epoch ${e.epoch}/${e.epochs} train ${Number(e.trainLoss).toFixed(3)} val ${Number(e.valLoss).toFixed(3)} dice ${JSON.stringify(e.valDice)} ${e.seconds}s`,
        );
      } else if (e.event !== 'step') console.log(JSON.stringify(e));
    },
  });
  const done = result.events.find((e) => e.event === 'done')!;
  // training time over all sessions of the run (resumes included), from the trainer's history
  const seconds = Number(done.trainSeconds ?? (Date.now() - t0) / 1000);
  const epochsRun = Number(done.epochs);

  // independent evaluation: our own whole-volume inference with onnxruntime-node on unseen seeds
  const onnx = new Uint8Array(readFileSync(result.onnx));
  const session = await onnxRuntimeNodeBackend({ intraOpNumThreads: 2 }).createSession(onnx);
  const evaluate = async (options: { intensityShift?: number; intensityScale?: number }) => {
    const dice = [0, 0];
    for (const seed of TEST_SEEDS) {
      const { image, labels } = syntheticCase(seed, options);
      const [nx, ny, nz] = image.grid.size;
      const x = new Float32Array(image.data.length);
      for (let v = 0; v < x.length; v++) {
        x[v] = (image.data[v]! - SYNTHETIC_NORMALIZATION.offset) * SYNTHETIC_NORMALIZATION.scale;
      }
      const { logits } = await session.run({ image: { data: x, dims: [1, 1, nz, ny, nx] } }, ['logits']);
      const nv = x.length;
      for (const cls of [1, 2]) {
        let inter = 0;
        let sum = 0;
        for (let v = 0; v < nv; v++) {
          let arg = 0;
          for (let k = 1; k < 3; k++) if (logits!.data[k * nv + v]! > logits!.data[arg * nv + v]!) arg = k;
          const p = arg === cls;
          const g = labels.data[v] === cls;
          if (p && g) inter++;
          sum += (p ? 1 : 0) + (g ? 1 : 0);
        }
        dice[cls - 1]! += (sum ? (2 * inter) / sum : 1) / TEST_SEEDS.length;
      }
    }
    return { ellipsoid: round(dice[0]!), tube: round(dice[1]!) };
  };
  const test = await evaluate({});
  console.log('unseen test cases (default intensities):', test);
  const shiftNotes: string[] = [];
  for (const shifted of [
    { intensityScale: 0.8, intensityShift: 120 },
    { intensityScale: 1.5, intensityShift: -100 },
    { intensityScale: -1, intensityShift: 0 },
  ]) {
    const d = await evaluate(shifted);
    console.log('unseen test cases', JSON.stringify(shifted), d);
    shiftNotes.push(
      `scale ${shifted.intensityScale} shift ${shifted.intensityShift}: ellipsoid ${d.ellipsoid}, tube ${d.tube}`,
    );
  }
  await session.dispose();

  mkdirSync(out, { recursive: true });
  copyFileSync(result.onnx, join(out, 'model.onnx'));
  const sha256 = createHash('sha256').update(onnx).digest('hex');
  const valDice = done.bestValDice as Record<string, number>;
  const card = {
    schema: 'slice2solid-model-card/1',
    name: 'synthetic-unet',
    version: '0.1.0',
    description: `Test fixture: 3D U-Net (${training.levels} levels, ${training.baseChannels} base channels, InstanceNorm + LeakyReLU, Resize + Conv upsampling) segmenting the synthetic ellipsoids and tubes of syntheticCase(). Outputs logits and the head's input features.`,
    file: 'model.onnx',
    sha256,
    input: {
      name: 'image',
      channels: [{ name: 'CT', modality: 'CT', normalization: SYNTHETIC_NORMALIZATION }],
      orientation: 'RAS',
      spacing: [...SYNTHETIC_CASE_DEFAULTS.spacing],
      patchSize: [32, 32, 32],
      interpolation: 'linear',
    },
    output: {
      name: 'logits',
      activation: 'softmax',
      channels: 3,
      labels: [
        { channel: 0, value: 0, name: 'background' },
        ...SYNTHETIC_SEGMENTS.map((s) => ({ channel: s.value, value: s.value, name: s.name, color: [...s.color] })),
      ],
    },
    inference: { overlap: 0.5, mirrorAxes: [], gaussianSigmaScale: 0.125 },
    license: { spdx: 'Apache-2.0' },
    training: {
      summary: `PyTorch trainer (packages/ai/python/s2s_train.py), ${TRAIN} synthetic 48^3 cases (seeds ${FIRST_SEED}-${FIRST_SEED + TRAIN - 1}), 32^3 patches, Dice + cross-entropy, AdamW lr ${training.lr} ${training.schedule}, ${epochsRun} epochs (cosine over ${training.epochs}${resume ? ', finished by resuming from a checkpoint, possibly with a shorter schedule than it started with' : ''}) x ${training.stepsPerEpoch} steps x batch ${training.batchSize}, flips/rotations/scaling/intensity/noise augmentation; best epoch ${result.bestEpoch} by validation Dice on ${VAL} validation cases (mean ${round(result.bestMeanValDice)}: ellipsoid ${round(valDice.ellipsoid!)}, tube ${round(valDice.tube!)}); ${Math.round(seconds)} s on the CPU. Made by scripts/make-synthetic-fixture.ts.`,
      datasets: [
        { name: 'slice2solid syntheticCase (default intensities)', license: 'Apache-2.0', cases: TRAIN + VAL },
      ],
    },
    validation: {
      summary: `Whole-volume inference with onnxruntime-node on ${TEST_SEEDS.length} synthetic cases never used in training or model selection (seeds ${TEST_SEEDS[0]}-${TEST_SEEDS.at(-1)}), default intensities.`,
      cases: TEST_SEEDS.length,
      metrics: [
        { label: 'ellipsoid', dice: test.ellipsoid },
        { label: 'tube', dice: test.tube },
      ],
    },
    intendedUse: 'Tests and demos of inference and fine-tuning in slice2solid. Not a medical model.',
    limitations: `Knows only the synthetic images of syntheticCase(); meaningless on real scans. Dice on the same unseen cases with changed intensities (value * scale + shift before normalisation): ${shiftNotes.join('; ')}. InstanceNorm makes it partly insensitive to global linear intensity changes.`,
  };
  parseModelCard(card, 'model.json');
  writeFileSync(join(out, 'model.json'), `${JSON.stringify(card, null, 2)}\n`);
  console.log(`wrote ${out} (model.onnx ${onnx.length} bytes, sha256 ${sha256})`);
} finally {
  if (runArg < 0) rmSync(run, { recursive: true, force: true });
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

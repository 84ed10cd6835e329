/**
 * slice2solid train <dataset> --out <run> [...]: dataset checks -> patient splits -> plan and
 * preprocessing -> the PyTorch trainer (child process) with live monitoring -> evaluation of the
 * exported model on the TEST split -> model package <run>/model/ (model.onnx + model.json).
 * See docs/training.md.
 */

import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  cardMetrics,
  type EvaluationResult,
  evaluationHtml,
  formatDatasetReport,
  formatDuration,
  MODEL_CARD_SCHEMA,
  type ModelCard,
  OverfitDetector,
  parseModelCard,
  planInputCard,
  progressLine,
  SPLIT_DEFAULTS,
  TRAINING_DEFAULTS,
  type TrainingSettings,
  type TrainPlan,
} from '@slice2solid/ai';
import {
  type DatasetCaseRef,
  evaluateModel,
  type MonitorServer,
  type PreparedRun,
  prepareRun,
  runTrainer,
  startMonitorServer,
  TensorBoardWriter,
  type TrainerEvent,
  writeJsonAtomic,
} from '@slice2solid/ai/node';
import { writeFileAtomic } from '../output.js';
import { int, num } from './common.js';
import { commandSummary } from './registry.js';
import { type Command, type CommandContext, optFlag, optString, parseTriple, UsageError } from './types.js';

const T = TRAINING_DEFAULTS;

function parseFractions(s: string | undefined): [number, number, number] | undefined {
  if (s === undefined) return undefined;
  const f = s.split(',').map((x) => Number(x.trim()));
  if (f.length !== 3 || !f.every((x) => Number.isFinite(x) && x >= 0) || !(f[0]! > 0)) {
    throw new UsageError(`--split must be three fractions train,val,test like 0.7,0.15,0.15; got "${s}"`);
  }
  return [f[0]!, f[1]!, f[2]!];
}

function oneOf<V extends string>(
  args: Parameters<Command['run']>[1],
  name: string,
  allowed: readonly V[],
): V | undefined {
  const v = optString(args, name);
  if (v === undefined) return undefined;
  if (!allowed.includes(v as V)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}; got "${v}"`);
  return v as V;
}

/** A trainer checkpoint from --from: a .pt file, a run folder (checkpoints/best.pt) or a model package with checkpoint.pt. */
export function checkpointFrom(path: string): string {
  const candidates = path.endsWith('.pt')
    ? [path]
    : [join(path, 'checkpoint.pt'), join(path, 'checkpoints', 'best.pt'), join(path, 'model', 'checkpoint.pt')];
  const hit = candidates.find((p) => existsSync(p) && statSync(p).isFile());
  if (!hit) {
    throw new UsageError(
      `--from: no trainer checkpoint found at ${path}`,
      'give a .pt checkpoint, a run folder (checkpoints/best.pt) or a model package made by train (checkpoint.pt)',
    );
  }
  return hit;
}

const NAME_RE = /[^a-z0-9._-]+/g;

/** The model card of a finished run (validation metrics filled in after the evaluation). */
export function trainedModelCard(
  prepared: PreparedRun,
  opts: {
    name: string;
    version: string;
    license: string;
    datasetName: string;
    sha256: string;
    bestEpoch: number;
    evaluation?: EvaluationResult;
    evaluatedSplit: 'test' | 'val';
  },
): ModelCard {
  const { plan, splits, report, fingerprint } = prepared;
  const modality =
    plan.normalization.type === 'ct'
      ? 'CT'
      : /^(unknown|mixed)$/.test(fingerprint.modality)
        ? 'MR'
        : fingerprint.modality;
  const base = planInputCard(plan, modality);
  const evalCases = opts.evaluatedSplit === 'test' ? splits.test.length : splits.val.length;
  const t = plan.training;
  return parseModelCard({
    ...base,
    schema: MODEL_CARD_SCHEMA,
    name: opts.name,
    version: opts.version,
    description: `3D U-Net (${t.levels} levels, ${t.baseChannels} base channels, ${t.norm} norm) segmenting ${plan.labels.map((l) => l.name).join(', ')}; trained with slice2solid train.`,
    file: 'model.onnx',
    sha256: opts.sha256,
    output: { ...base.output, name: 'logits' },
    input: { ...base.input, name: 'image' },
    license: { spdx: opts.license },
    training: {
      summary: `${splits.train.length} training and ${splits.val.length} validation case(s) (${report.patients} patient(s) in all, split by patient, seed ${splits.seed}); ${t.loss} loss, AdamW lr ${t.lr}, ${t.schedule} schedule, up to ${t.epochs} epochs of ${t.stepsPerEpoch} steps, patch ${plan.patchSize.join('x')} at ${plan.spacing.join('x')} mm; best epoch ${opts.bestEpoch}.`,
      datasets: [{ name: opts.datasetName, cases: report.cases }],
      splits: { train: splits.train, val: splits.val, test: splits.test },
    },
    validation: {
      summary:
        opts.evaluatedSplit === 'test'
          ? `slice2solid evaluate on the ${evalCases} test case(s), never seen in training or model selection; surface Dice at ${opts.evaluation?.toleranceMm ?? 1} mm.`
          : `slice2solid evaluate on the ${evalCases} validation case(s) (too few patients for a test split: these cases chose the best epoch, so the numbers are optimistic).`,
      cases: evalCases,
      metrics: opts.evaluation ? cardMetrics(opts.evaluation) : [],
    },
    intendedUse: `Research use: segmentation of ${plan.labels.map((l) => l.name).join(', ')} in images like the training dataset (${fingerprint.modality}, about ${fingerprint.medianSpacing.map((x) => +x.toFixed(2)).join('x')} mm voxels). Not a medical device.`,
    limitations: `Trained on ${report.cases} case(s) from one dataset; performance on other scanners, protocols or anatomy is unknown. Check every result.`,
  });
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

interface Reporter {
  event(e: TrainerEvent): void;
  done(): void;
}

function trainingReporter(
  ctx: CommandContext,
  plan: TrainPlan,
  tb: TensorBoardWriter,
  monitor: MonitorServer | undefined,
): Reporter {
  const tty = ctx.stderr.isTTY === true;
  const t0 = Date.now();
  const detector = new OverfitDetector();
  const total = plan.training.epochs;
  let epoch = 0;
  let lastLine = '';
  let drawn = false;
  const say = (line: string) => {
    if (drawn) ctx.stderr.write('\n');
    drawn = false;
    ctx.stderr.write(`${line}\n`);
    monitor?.status(line);
  };
  const bar = (extra: string) => {
    const line = progressLine(epoch, total, (Date.now() - t0) / 1000, extra);
    if (tty) {
      ctx.stderr.write(`\r${line}`);
      drawn = true;
    } else if (line !== lastLine) ctx.stderr.write(`${line}\n`);
    lastLine = line;
  };
  return {
    event(e) {
      switch (e.event) {
        case 'start':
          say(
            `trainer: PyTorch ${String(e.torch)} on ${String(e.device)}, ${String(e.parameters)} parameters${e.resumedFromEpoch ? `, resumed after epoch ${String(e.resumedFromEpoch)}` : ''}`,
          );
          break;
        case 'step':
          if (tty) bar(`epoch ${Number(e.epoch)}/${total} step ${Number(e.step)} loss ${Number(e.loss).toFixed(4)}`);
          break;
        case 'epoch': {
          epoch = Number(e.epoch);
          const valDice = (e.valDice ?? {}) as Record<string, number>;
          const point = {
            epoch,
            trainLoss: Number(e.trainLoss),
            valLoss: e.valLoss === undefined || e.valLoss === null ? undefined : Number(e.valLoss),
            meanValDice: e.meanValDice === undefined || e.meanValDice === null ? undefined : Number(e.meanValDice),
            valDice,
          };
          const scalars: Record<string, number> = { 'loss/train': point.trainLoss, lr: Number(e.lr) };
          if (point.valLoss !== undefined) scalars['loss/val'] = point.valLoss;
          if (point.meanValDice !== undefined) scalars['dice/val/mean'] = point.meanValDice;
          for (const [k, v] of Object.entries(valDice)) scalars[`dice/val/${k}`] = Number(v);
          tb.scalars(epoch, scalars);
          monitor?.epoch(point);
          const extra = `epoch ${epoch}/${total} loss ${point.trainLoss.toFixed(4)}${point.valLoss !== undefined ? ` val ${point.valLoss.toFixed(4)}` : ''} Dice ${point.meanValDice?.toFixed(3) ?? '-'}`;
          bar(extra);
          for (const w of detector.add(point)) say(`warning: ${w.message}`);
          break;
        }
        case 'early_stop':
          say(`early stop at epoch ${Number(e.epoch)}: ${String(e.reason)}`);
          break;
        case 'exported':
          say(`exported ONNX (opset ${String(e.opset)})`);
          break;
        case 'error':
          say(`trainer error: ${String(e.message)}${e.hint ? ` (${String(e.hint)})` : ''}`);
          break;
        default:
          break;
      }
    },
    done() {
      if (drawn) ctx.stderr.write('\n');
      drawn = false;
      ctx.stderr.write(`training took ${formatDuration((Date.now() - t0) / 1000)}\n`);
    },
  };
}

export const trainCommand: Command = {
  name: 'train',
  summary: commandSummary('train'),
  usage: 'train <dataset folder|cases.csv> --out <run> [options]',
  help: `Trains a 3D U-Net segmentation model on (scan, labels) pairs and writes a model package.

Steps: find and check the cases (geometry, labels, class frequencies) -> split by patient into
train / validation / test -> plan (spacing, patch, normalisation; nnU-Net style) and preprocess
into <run>/data -> run the PyTorch trainer (needs /usr/bin/python3 with torch: apt-get install
python3-torch) -> evaluate the exported model on the TEST cases -> <run>/model/ (model.onnx +
model.json, with the dataset summary, the splits and the test metrics).

Dataset: a CSV (columns image, labels, optional patient, id, split; paths relative to the CSV), an
nnU-Net folder (imagesTr/ + labelsTr/), <id>_image.* + <id>_labels.* files, or <id>/image.* +
<id>/labels.* folders. See docs/training.md.

Options:
  --out DIR            run folder (created; plan.json, splits.json, data/, checkpoints/, tb/, model/)
  --epochs N           epochs (default ${T.epochs}); --steps N steps per epoch (default ${T.stepsPerEpoch})
  --batch N            patches per step (default ${T.batchSize}); --lr X (default ${T.lr})
  --patch I,J,K        patch size in voxels (multiples of 2^(levels-1); default from the data)
  --spacing I,J,K      target spacing in mm (default: the median spacing)
  --levels N           U-Net levels (default ${T.levels}); --channels N base channels (default ${T.baseChannels})
  --norm instance|batch  normalisation layers (default ${T.norm}); batch makes predictions independent of
                       where patches are cut (look-first and sliding windows agree)
  --split A,B,C        train,val,test fractions of patients (default ${SPLIT_DEFAULTS.fractions.join(',')})
  --kfold K --fold I   K-fold cross-validation, fold I (0-based) validates; the test split is held out
  --seed S             seed of the split and the trainer (default ${SPLIT_DEFAULTS.seed})
  --loss dice|dice+ce  loss (default ${T.loss}); --patience N early-stop patience (default ${T.earlyStopPatience})
  --modality CT|MR     normalisation: CT clip + z-score, MR per-image z-score (default: from the data)
  --from PATH          start from a checkpoint (.pt, a run folder, or a model package made by train)
  --freeze encoder     with --from: train only the decoder
  --resume             continue an interrupted run in --out from its last checkpoint
  --device auto|cpu|cuda  (default auto); --max-minutes N stops training after N minutes
  --name NAME --model-version V --license SPDX   model card fields (default: run folder name, 1.0.0, NOASSERTION)
  --tolerance MM       surface Dice tolerance of the evaluation (default 1)
  --no-monitor         no live page (the TensorBoard files in <run>/tb are always written)
  --json               print a JSON summary on stdout

Examples:
  slice2solid train ./my-dataset --out runs/liver --epochs 100
  slice2solid train cases.csv --out runs/cv0 --kfold 5 --fold 0 --seed 3
  slice2solid train ./scanner-b --out runs/ft --from runs/liver --freeze encoder --epochs 20`,
  options: {
    out: { type: 'string' },
    epochs: { type: 'string' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    patch: { type: 'string' },
    spacing: { type: 'string' },
    levels: { type: 'string' },
    channels: { type: 'string' },
    norm: { type: 'string' },
    split: { type: 'string' },
    kfold: { type: 'string' },
    fold: { type: 'string' },
    seed: { type: 'string' },
    loss: { type: 'string' },
    patience: { type: 'string' },
    modality: { type: 'string' },
    from: { type: 'string' },
    freeze: { type: 'string' },
    resume: { type: 'boolean' },
    device: { type: 'string' },
    'max-minutes': { type: 'string' },
    name: { type: 'string' },
    'model-version': { type: 'string' },
    license: { type: 'string' },
    tolerance: { type: 'string' },
    'no-monitor': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  minPositionals: 1,
  maxPositionals: 1,
  async run(ctx, args) {
    const dataset = resolve(ctx.cwd, args.positionals[0]!);
    const outArg = optString(args, 'out');
    if (!outArg) throw new UsageError('--out <run folder> is required');
    const runDir = resolve(ctx.cwd, outArg);
    const json = optFlag(args, 'json');
    const seed = int(args, 'seed', 0) ?? SPLIT_DEFAULTS.seed;
    const kfold = int(args, 'kfold', 2);
    const fold = int(args, 'fold', 0);
    if (fold !== undefined && kfold === undefined) throw new UsageError('--fold needs --kfold');
    const patchS = optString(args, 'patch');
    const spacingS = optString(args, 'spacing');
    const patch = patchS ? parseTriple(patchS, '--patch') : undefined;
    if (patch && !patch.every(Number.isInteger)) throw new UsageError('--patch must be whole numbers of voxels');
    const freeze = oneOf(args, 'freeze', ['none', 'encoder'] as const);
    const fromPath = optString(args, 'from');
    if (freeze === 'encoder' && !fromPath) throw new UsageError('--freeze encoder needs --from <model>');
    const maxMinutes = num(args, 'max-minutes', 0);
    const training: Partial<TrainingSettings> = {
      ...(int(args, 'epochs', 1) !== undefined ? { epochs: int(args, 'epochs', 1)! } : {}),
      ...(int(args, 'steps', 1) !== undefined ? { stepsPerEpoch: int(args, 'steps', 1)! } : {}),
      ...(int(args, 'batch', 1) !== undefined ? { batchSize: int(args, 'batch', 1)! } : {}),
      ...(num(args, 'lr', 0) !== undefined ? { lr: num(args, 'lr', 0)! } : {}),
      ...(int(args, 'levels', 1) !== undefined ? { levels: int(args, 'levels', 1)! } : {}),
      ...(int(args, 'channels', 1) !== undefined ? { baseChannels: int(args, 'channels', 1)! } : {}),
      ...(int(args, 'patience', 1) !== undefined ? { earlyStopPatience: int(args, 'patience', 1)! } : {}),
      ...(oneOf(args, 'norm', ['instance', 'batch'] as const)
        ? { norm: oneOf(args, 'norm', ['instance', 'batch'] as const)! }
        : {}),
      ...(oneOf(args, 'loss', ['dice', 'dice+ce'] as const)
        ? { loss: oneOf(args, 'loss', ['dice', 'dice+ce'] as const)! }
        : {}),
      ...(oneOf(args, 'device', ['auto', 'cpu', 'cuda'] as const)
        ? { device: oneOf(args, 'device', ['auto', 'cpu', 'cuda'] as const)! }
        : {}),
      ...(fromPath ? { init: resolve(checkpointFrom(resolve(ctx.cwd, fromPath))) } : {}),
      ...(freeze ? { freeze } : {}),
      ...(maxMinutes !== undefined ? { maxMinutes } : {}),
      seed,
    };
    const tolerance = num(args, 'tolerance', 0) ?? 1;
    const log = (line: string) => ctx.stderr.write(`${line}\n`);

    const prepared = await prepareRun(dataset, runDir, {
      resume: optFlag(args, 'resume'),
      split: {
        fractions: parseFractions(optString(args, 'split')) ?? SPLIT_DEFAULTS.fractions,
        seed,
        ...(kfold ? { kfold, fold: fold ?? 0 } : {}),
      },
      plan: {
        training,
        ...(patch ? { patchSize: patch } : {}),
        ...(spacingS ? { spacing: parseTriple(spacingS, '--spacing') } : {}),
        ...(oneOf(args, 'modality', ['CT', 'MR'] as const)
          ? { modality: oneOf(args, 'modality', ['CT', 'MR'] as const)! }
          : {}),
      },
      log,
      ...ctx.run,
    });
    const { plan, splits, report } = prepared;
    for (const line of formatDatasetReport(report)) log(line);
    log(
      `splits (by patient, seed ${splits.seed}): ${splits.train.length} train, ${splits.val.length} validation, ${splits.test.length} test case(s)`,
    );
    log(
      `plan: spacing ${plan.spacing.map((x) => +x.toFixed(3)).join('x')} mm, patch ${plan.patchSize.join('x')}, ${plan.orientation}, ${plan.normalization.type} normalisation -> ${join(runDir, 'plan.json')}`,
    );

    const tb = new TensorBoardWriter(runDir);
    const monitor = optFlag(args, 'no-monitor')
      ? undefined
      : await startMonitorServer(`slice2solid train: ${basename(runDir)}`);
    if (monitor) log(`live curves: ${monitor.url}`);
    log(`TensorBoard: tensorboard --logdir ${join(runDir, 'tb')}`);
    const reporter = trainingReporter(ctx, plan, tb, monitor);
    let result: Awaited<ReturnType<typeof runTrainer>>;
    try {
      result = await runTrainer(runDir, {
        resume: optFlag(args, 'resume'),
        onEvent: (e) => reporter.event(e),
        ...(ctx.run.signal ? { signal: ctx.run.signal } : {}),
      });
    } finally {
      reporter.done();
      await monitor?.close();
    }

    // model package: ONNX + card, then the test-split evaluation fills in the metrics
    const onnxPath = resolve(runDir, result.onnx);
    const onnx = new Uint8Array(readFileSync(onnxPath));
    const modelDir = join(runDir, 'model');
    mkdirSync(modelDir, { recursive: true });
    writeFileAtomic(join(modelDir, 'model.onnx'), onnx);
    const best = join(runDir, 'checkpoints', 'best.pt');
    if (existsSync(best)) copyFileSync(best, join(modelDir, 'checkpoint.pt'));
    const evaluatedSplit = splits.test.length > 0 ? 'test' : 'val';
    const cardOpts = {
      name:
        (optString(args, 'name') ?? basename(runDir))
          .toLowerCase()
          .replace(NAME_RE, '-')
          .replace(/^[^a-z0-9]+/, '') || 'model',
      version: optString(args, 'model-version') ?? '1.0.0',
      license: optString(args, 'license') ?? 'NOASSERTION',
      datasetName: basename(dataset),
      sha256: sha256(onnx),
      bestEpoch: result.bestEpoch,
      evaluatedSplit,
    } as const;
    const draft = trainedModelCard(prepared, cardOpts);
    const evalRefs: DatasetCaseRef[] = prepared.refs.filter((r) =>
      (evaluatedSplit === 'test' ? splits.test : splits.val).includes(r.id),
    );
    log(`evaluating the exported model on ${evalRefs.length} ${evaluatedSplit} case(s)...`);
    const evaluation = await evaluateModel({ card: draft, onnx }, evalRefs, {
      toleranceMm: tolerance,
      split: evaluatedSplit,
      ...(ctx.run.signal ? { signal: ctx.run.signal } : {}),
    });
    const card = trainedModelCard(prepared, { ...cardOpts, evaluation });
    writeJsonAtomic(join(modelDir, 'model.json'), card);
    writeJsonAtomic(join(runDir, 'evaluation.json'), evaluation);
    writeFileAtomic(join(runDir, 'evaluation.html'), new TextEncoder().encode(evaluationHtml(evaluation)));
    for (const s of evaluation.structures) {
      log(`${evaluatedSplit} ${s.label}: Dice ${s.dice.toFixed(3)}, HD95 ${s.hd95.toFixed(2)} mm (${s.cases} case(s))`);
    }
    log(`model package: ${modelDir}`);
    if (json) {
      ctx.stdout.write(
        `${JSON.stringify(
          {
            run: runDir,
            model: modelDir,
            ...(monitor ? { monitor: monitor.url } : {}),
            tensorboard: tb.path,
            bestEpoch: result.bestEpoch,
            bestMeanValDice: result.bestMeanValDice,
            splits: { train: splits.train.length, val: splits.val.length, test: splits.test.length },
            evaluation: { split: evaluatedSplit, meanDice: evaluation.meanDice, structures: evaluation.structures },
          },
          null,
          2,
        )}\n`,
      );
    }
    return 0;
  },
};

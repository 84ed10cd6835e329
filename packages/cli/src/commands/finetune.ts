/**
 * slice2solid finetune <model> <dataset> --out <dir> [--epochs N] [--lr x] [--seed s] [--samples n]
 *   [--validation f] [--loss dice|dice+ce] [--batch n] [--patience n] [--name NAME] [--threads n] [--force] [--json]
 *
 * Head fine-tuning in TypeScript (@slice2solid/ai fineTuneHead): the model's backbone runs frozen
 * in onnxruntime-node to give features at sampled voxels, the final 1x1x1 convolution is retrained
 * with soft Dice (+ cross-entropy) and AdamW, and a new model package (model.onnx + model.json) is
 * written. The validation cases (split by patient) are segmented whole with the original and with
 * the fine-tuned model, and both Dice values are printed and recorded in the new card.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  applyFineTunedHead,
  type DiceSummary,
  evaluateModelDice,
  FINE_TUNE_HEAD_DEFAULTS,
  type FineTuneCase,
  fineTuneHead,
  readHead,
} from '@slice2solid/ai';
import { discoverDataset, loadDatasetCase, onnxRuntimeNodeBackend, resolveModel } from '@slice2solid/ai/node';
import { int, num } from './common.js';
import { commandSummary } from './registry.js';
import { type Command, optFlag, optString, UsageError } from './types.js';

const fmt = (d: DiceSummary): string =>
  `${d.mean.toFixed(3)} (${Object.entries(d.perLabel)
    .map(([k, v]) => `${k} ${v.toFixed(3)}`)
    .join(', ')})`;

export const finetuneCommand: Command = {
  name: 'finetune',
  summary: commandSummary('finetune'),
  usage:
    'finetune <model> <dataset> --out <dir> [--epochs N] [--lr X] [--seed S] [--samples N] [--validation F] [--json]',
  help: `Adapts a segmentation model to your data (another scanner, protocol or intensity range) in
TypeScript, without PyTorch: the model's backbone is frozen and run with ONNX Runtime to get the
features at sampled voxels; only its final 1x1x1 convolution (initializers head.weight, head.bias)
is retrained, with soft Dice (+ cross-entropy) loss and AdamW. Works with models exported by
"slice2solid train" (they output "features"). See docs/finetuning.md.

  <model>              a model from "slice2solid models list", or a model package folder
  <dataset>            a dataset folder or CSV of (scan, labels) pairs (as "slice2solid train" reads)
  --out DIR            where to write the new model package (model.onnx + model.json)
  --epochs N           at most N epochs over the sampled voxels (default ${FINE_TUNE_HEAD_DEFAULTS.epochs})
  --lr X               Adam learning rate (default ${FINE_TUNE_HEAD_DEFAULTS.lr})
  --seed S             seed for the split, the voxel samples and the shuffling (default ${FINE_TUNE_HEAD_DEFAULTS.seed})
  --samples N          training voxels sampled per class and case (default ${FINE_TUNE_HEAD_DEFAULTS.samplesPerClass})
  --validation F       fraction of patients held out for validation and early stopping (default ${FINE_TUNE_HEAD_DEFAULTS.validation})
  --loss L             dice or dice+ce (default ${FINE_TUNE_HEAD_DEFAULTS.loss})
  --batch N            voxels per mini-batch (default ${FINE_TUNE_HEAD_DEFAULTS.batchSize})
  --patience N         stop after N epochs without a better validation Dice (0: never; default ${FINE_TUNE_HEAD_DEFAULTS.earlyStopPatience})
  --name NAME          name of the new model (default: <model name>-ft)
  --threads N          ONNX Runtime threads (default: the runtime's choice)
  --force              write into a non-empty --out folder
  --json               print the result as JSON

Examples:
  slice2solid finetune ct-torso-small my-scans/ --out models/ct-torso-mine
  slice2solid finetune runs/liver/export cases.csv --out liver-ft --epochs 60 --samples 4000 --json`,
  options: {
    out: { type: 'string' },
    epochs: { type: 'string' },
    lr: { type: 'string' },
    seed: { type: 'string' },
    samples: { type: 'string' },
    validation: { type: 'string' },
    loss: { type: 'string' },
    batch: { type: 'string' },
    patience: { type: 'string' },
    name: { type: 'string' },
    threads: { type: 'string' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  minPositionals: 2,
  maxPositionals: 2,
  async run(ctx, args) {
    const [modelArg, datasetArg] = args.positionals as [string, string];
    const outArg = optString(args, 'out');
    if (!outArg) throw new UsageError('finetune needs --out <dir> for the new model package');
    const out = resolve(ctx.cwd, outArg);
    if (existsSync(out) && readdirSync(out).length > 0 && !optFlag(args, 'force')) {
      throw new UsageError(`the folder ${outArg} is not empty`, 'choose another --out or add --force');
    }
    const loss = optString(args, 'loss') ?? FINE_TUNE_HEAD_DEFAULTS.loss;
    if (loss !== 'dice' && loss !== 'dice+ce') throw new UsageError(`--loss must be dice or dice+ce, got "${loss}"`);
    const validation = num(args, 'validation', 0, 0.9) ?? FINE_TUNE_HEAD_DEFAULTS.validation;
    const seed = int(args, 'seed', 0) ?? FINE_TUNE_HEAD_DEFAULTS.seed;
    const epochs = int(args, 'epochs', 1) ?? FINE_TUNE_HEAD_DEFAULTS.epochs;
    const lr = num(args, 'lr', 1e-9, 10) ?? FINE_TUNE_HEAD_DEFAULTS.lr;
    const samples = int(args, 'samples', 1) ?? FINE_TUNE_HEAD_DEFAULTS.samplesPerClass;
    const batch = int(args, 'batch', 1) ?? FINE_TUNE_HEAD_DEFAULTS.batchSize;
    const patience = int(args, 'patience', 0) ?? FINE_TUNE_HEAD_DEFAULTS.earlyStopPatience;
    const threads = int(args, 'threads', 0);
    const json = optFlag(args, 'json');
    const log = (s: string) => ctx.stderr.write(`${s}\n`);

    const model = resolveModel(modelArg, { cwd: ctx.cwd });
    const name = optString(args, 'name') ?? `${model.card.name}-ft`;
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) {
      throw new UsageError(`--name must match [a-z0-9][a-z0-9._-]*, got "${name}"`);
    }
    const initialHead = readHead(model.onnx);
    const refs = await discoverDataset(resolve(ctx.cwd, datasetArg));
    // cases are loaded one at a time, when their features are computed
    const cases: FineTuneCase[] = refs.map((r) => ({
      id: r.id,
      patient: r.patient,
      load: () => loadDatasetCase(r),
    }));
    const backend = onnxRuntimeNodeBackend(threads ? { intraOpNumThreads: threads } : {});
    const session = await backend.createSession(model.onnx);
    let tuned: Awaited<ReturnType<typeof backend.createSession>> | undefined;
    try {
      if (!json) {
        log(
          `fine-tuning the head of ${model.card.name} ${model.card.version} (${initialHead.classes} classes x ${initialHead.features} features) on ${refs.length} case(s)`,
        );
      }
      const ft = await fineTuneHead(cases, model.card, session, {
        ...ctx.run,
        initialHead,
        epochs,
        lr,
        seed,
        samplesPerClass: samples,
        validation,
        loss,
        batchSize: batch,
        earlyStopPatience: patience,
        onEpoch: (e) => {
          if (json || e.epoch === 0) return;
          log(
            `epoch ${e.epoch}/${epochs}: loss ${e.trainLoss.toFixed(4)}${e.valDice !== undefined ? `, validation Dice (sampled voxels) ${e.valDice.toFixed(3)}` : ''}`,
          );
        },
      });
      const valCases = cases.filter((c) => ft.split.validation.includes(c.id));
      let whole: { before: DiceSummary; after: DiceSummary } | undefined;
      const summary = {
        dataset: 'user dataset',
        trainCases: ft.split.train.length,
        validationCases: ft.split.validation.length,
        epochs: ft.history.length - 1,
        bestEpoch: ft.bestEpoch,
        samples: ft.samples.train,
        method: `${loss === 'dice' ? 'soft Dice' : 'soft Dice + cross-entropy'} loss, AdamW (lr ${lr}), seed ${seed}`,
      };
      let pkg = applyFineTunedHead(model.onnx, model.card, ft.head, summary);
      if (valCases.length > 0) {
        const before = await evaluateModelDice(valCases, model.card, session, ctx.run);
        tuned = await backend.createSession(pkg.model);
        const after = await evaluateModelDice(valCases, pkg.card, tuned, ctx.run);
        whole = { before, after };
        pkg = applyFineTunedHead(model.onnx, model.card, ft.head, {
          ...summary,
          validation: { before, after, how: 'whole volumes segmented with sliding-window inference' },
        });
      }
      const sha256 = createHash('sha256').update(pkg.model).digest('hex');
      const card = { ...pkg.card, name, sha256 };
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, card.file), pkg.model);
      writeFileSync(join(out, 'model.json'), `${JSON.stringify(card, null, 2)}\n`);

      if (json) {
        ctx.stdout.write(
          `${JSON.stringify(
            {
              out,
              name,
              version: card.version,
              cases: { train: ft.split.train.length, validation: ft.split.validation.length },
              samples: ft.samples,
              featureChannels: ft.featureChannels,
              epochs: ft.history.length - 1,
              bestEpoch: ft.bestEpoch,
              stoppedEarly: ft.stoppedEarly,
              validationDice: whole ?? null,
              sampledValidationDice: ft.before && ft.after ? { before: ft.before, after: ft.after } : null,
              history: ft.history,
              timing: ft.timing,
            },
            null,
            2,
          )}\n`,
        );
        return 0;
      }
      const w = (s: string) => ctx.stdout.write(`${s}\n`);
      w(
        `cases: ${ft.split.train.length} training, ${ft.split.validation.length} validation; ${ft.samples.train} training voxels sampled, ${ft.featureChannels} features each`,
      );
      w(
        `time: features ${ft.timing.featureSeconds.toFixed(1)} s (${ft.patchesRun} backbone patches), training ${ft.timing.trainSeconds.toFixed(1)} s (${ft.history.length - 1} epochs, best ${ft.bestEpoch}${ft.stoppedEarly ? ', stopped early' : ''})`,
      );
      if (whole) {
        w(`validation Dice before: ${fmt(whole.before)}`);
        w(`validation Dice after:  ${fmt(whole.after)}`);
      } else {
        w('no validation cases (one patient, or --validation 0): the new model is not validated');
      }
      w(`wrote ${join(outArg, card.file)} and ${join(outArg, 'model.json')} (${name} ${card.version})`);
      return 0;
    } finally {
      await session.dispose();
      await tuned?.dispose();
    }
  },
};

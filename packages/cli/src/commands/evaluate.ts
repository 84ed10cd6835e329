/**
 * slice2solid evaluate <model> <dataset> [--split test|val|train|all] [--json out.json]
 *   [--html out.html] [--tolerance mm]
 * Runs a model package on labelled cases and reports Dice, HD95, ASSD, surface Dice and volume
 * error per case and per structure.
 */
import { resolve } from 'node:path';
import { EVALUATION_DEFAULTS, evaluationHtml, formatEvaluation } from '@slice2solid/ai';
import { casesOfSplit, discoverDataset, type EvaluationSplit, evaluateModel, resolveModel } from '@slice2solid/ai/node';
import { writeFileAtomic } from '../output.js';
import { num } from './common.js';
import { commandSummary } from './registry.js';
import { type Command, optString, UsageError } from './types.js';

const SPLITS: readonly EvaluationSplit[] = ['test', 'val', 'train', 'all'];

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: commandSummary('evaluate'),
  usage:
    'evaluate <model> <dataset folder|cases.csv> [--split test|val|train|all] [--json out.json] [--html out.html] [--tolerance MM]',
  help: `Segments every selected case with the model and compares the result with its labels:
per case and per structure Dice, HD95 (mm), ASSD (mm), surface Dice at --tolerance mm and volume
error (%), then the mean per structure over the cases that hold it.

  <model>          a model package folder (model.json + ONNX) or the name of an installed model
  <dataset>        the same layouts as train (CSV, nnU-Net, <id>_image/<id>_labels, <id>/ folders)
  --split S        test (default when the model card lists the splits of this dataset), val, train,
                   or all (default for any other dataset)
  --json FILE      write every number as JSON
  --html FILE      write a small self-contained HTML report with plots
  --tolerance MM   surface Dice tolerance (default ${EVALUATION_DEFAULTS.toleranceMm})

Example:
  slice2solid evaluate runs/liver/model ./my-dataset --split test --html report.html`,
  options: {
    split: { type: 'string' },
    json: { type: 'string' },
    html: { type: 'string' },
    tolerance: { type: 'string' },
  },
  minPositionals: 2,
  maxPositionals: 2,
  async run(ctx, args) {
    const [modelArg, datasetArg] = args.positionals as [string, string];
    const splitArg = optString(args, 'split');
    if (splitArg !== undefined && !SPLITS.includes(splitArg as EvaluationSplit)) {
      throw new UsageError(`--split must be one of ${SPLITS.join(', ')}; got "${splitArg}"`);
    }
    const tolerance = num(args, 'tolerance', 0) ?? EVALUATION_DEFAULTS.toleranceMm;
    const model = resolveModel(modelArg, { cwd: ctx.cwd });
    for (const w of model.warnings) ctx.stderr.write(`warning: ${w}\n`);
    const refs = await discoverDataset(resolve(ctx.cwd, datasetArg));
    let split = splitArg as EvaluationSplit | undefined;
    if (split === undefined) {
      const s = model.card.training.splits;
      const known = s ? new Set([...s.train, ...s.val, ...s.test]) : undefined;
      split = known && refs.some((r) => known.has(r.id)) ? 'test' : 'all';
    }
    const { refs: chosen } = casesOfSplit(refs, model.card, split);
    if (split === 'all' && model.card.training.splits) {
      const trained = new Set([...model.card.training.splits.train, ...model.card.training.splits.val]);
      const seen = chosen.filter((r) => trained.has(r.id)).length;
      if (seen > 0) {
        ctx.stderr.write(
          `warning: ${seen} of the ${chosen.length} case(s) were used in training: the numbers are optimistic\n`,
        );
      }
    }
    ctx.stderr.write(`evaluating ${model.card.name} on ${chosen.length} case(s) (split ${split})\n`);
    const result = await evaluateModel(model, chosen, { toleranceMm: tolerance, split, ...ctx.run });
    ctx.stdout.write(`${formatEvaluation(result).join('\n')}\n`);
    const jsonPath = optString(args, 'json');
    if (jsonPath)
      writeFileAtomic(resolve(ctx.cwd, jsonPath), new TextEncoder().encode(`${JSON.stringify(result, null, 2)}\n`));
    const htmlPath = optString(args, 'html');
    if (htmlPath) writeFileAtomic(resolve(ctx.cwd, htmlPath), new TextEncoder().encode(evaluationHtml(result)));
    return 0;
  },
};

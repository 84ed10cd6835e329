/**
 * slice2solid models list | add <folder> [--force] | remove <name> | info <name|folder>  [--json] [--store DIR]
 *
 * The local model store (@slice2solid/ai/node model-store): built-in models from the
 * repository's models/ folder and the user store ($SLICE2SOLID_MODELS or ~/.slice2solid/models).
 * Nothing is downloaded.
 */
import { resolve } from 'node:path';
import type { ModelCard } from '@slice2solid/ai';
import { addModel, listModels, type ModelStoreOptions, removeModel, resolveModel } from '@slice2solid/ai/node';
import { commandSummary } from './registry.js';
import { type Command, type CommandContext, optFlag, optString, UsageError } from './types.js';

const ACTIONS = ['list', 'add', 'remove', 'info'] as const;

function normalizationText(n: ModelCard['input']['channels'][number]['normalization']): string {
  switch (n.type) {
    case 'ct':
      return `CT: clip ${n.clip[0]}..${n.clip[1]} HU, then (x - ${n.mean}) / ${n.std}`;
    case 'zscore':
      return `z-score over ${n.region ?? 'all'} voxels`;
    case 'percentile':
      return `clip at percentiles ${n.lower}..${n.upper}, then ${n.map === 'unit' ? 'map to 0..1' : 'z-score'}`;
    case 'linear':
      return `(x - ${n.offset}) * ${n.scale}`;
    default:
      return 'none';
  }
}

function printInfo(ctx: CommandContext, card: ModelCard, extra: { dir: string; source: string; sha256: string }): void {
  const w = (s: string) => ctx.stdout.write(`${s}\n`);
  w(`${card.name} ${card.version} (${extra.source}: ${extra.dir})`);
  w(`  ${card.description}`);
  w(
    `Input: ${card.input.channels.map((c) => `${c.name} (${c.modality}${c.sequence ? ` ${c.sequence}` : ''})`).join(', ')}`,
  );
  card.input.channels.forEach((c) => {
    w(`  normalisation of ${c.name}: ${normalizationText(c.normalization)}`);
  });
  w(
    `  orientation ${card.input.orientation}, spacing ${card.input.spacing.join(' x ')} mm, patch ${card.input.patchSize.join(' x ')} voxels, ${card.input.interpolation} interpolation`,
  );
  w(
    `Inference: overlap ${card.inference.overlap}, mirroring ${card.inference.mirrorAxes.length > 0 ? `axes ${card.inference.mirrorAxes.join(', ')}` : 'off'}, ${card.output.activation} over ${card.output.channels} channel(s)`,
  );
  w('Labels:');
  for (const l of [...card.output.labels].sort((a, b) => a.value - b.value)) {
    const code = l.code ? `  ${l.code.scheme} ${l.code.value} (${l.code.meaning})` : '';
    w(`  ${String(l.value).padStart(3)}  ${l.name}${l.color ? `  rgb ${l.color.join(',')}` : ''}${code}`);
  }
  w(`Validation: ${card.validation.summary} (${card.validation.cases} case(s))`);
  for (const m of card.validation.metrics) {
    const parts = [
      m.dice !== undefined ? `Dice ${m.dice.toFixed(3)}` : '',
      m.hd95 !== undefined ? `HD95 ${m.hd95.toFixed(1)} mm` : '',
      m.assd !== undefined ? `ASSD ${m.assd.toFixed(2)} mm` : '',
      m.surfaceDice !== undefined ? `surface Dice ${m.surfaceDice.toFixed(3)} at ${m.surfaceDiceToleranceMm} mm` : '',
    ].filter(Boolean);
    w(`  ${m.label}: ${parts.join(', ') || 'no figures'}`);
  }
  w(`Training: ${card.training.summary}`);
  for (const d of card.training.datasets) {
    w(
      `  ${d.name}${d.cases !== undefined ? `, ${d.cases} case(s)` : ''}${d.license ? `, ${d.license}` : ''}${d.url ? `, ${d.url}` : ''}`,
    );
  }
  w(`Licence: ${card.license.spdx}${card.license.attribution ? ` (${card.license.attribution})` : ''}`);
  w(`Intended use: ${card.intendedUse}`);
  w(`Limitations: ${card.limitations}`);
  w(`ONNX: ${card.file}, sha256 ${extra.sha256}`);
}

export const modelsCommand: Command = {
  name: 'models',
  summary: commandSummary('models'),
  usage: 'models list | add <folder> [--force] | remove <name> | info <name|folder>  [--json] [--store DIR]',
  help: `Manages the AI segmentation models on this machine (nothing is downloaded). A model package
is a folder with model.json (the model card, see docs/models.md) and the ONNX file it names.
Built-in models ship in the slice2solid models/ folder; the user store is $SLICE2SOLID_MODELS
or ~/.slice2solid/models. A user model hides a built-in one of the same name.

  list                 the installed models (name, version, where, labels; broken packages and why)
  add <folder>         validate a package and copy it into the user store (card with its sha256,
                       the ONNX file, LICENSE / README / NOTICE files); --force replaces one of the same name
  remove <name>        delete a model from the user store
  info <name|folder>   labels, spacing, patch, normalisation, metrics, intended use and limitations
  --store DIR          use this user store instead of $SLICE2SOLID_MODELS / ~/.slice2solid/models
  --json               print JSON

Use a model with "slice2solid segment <scan> <labels> --model <name>".

Examples:
  slice2solid models list
  slice2solid models add runs/liver/export
  slice2solid models info ct-torso-small`,
  options: { json: { type: 'boolean' }, force: { type: 'boolean' }, store: { type: 'string' } },
  minPositionals: 1,
  maxPositionals: 2,
  async run(ctx, args) {
    const [action, target] = args.positionals as [string, string | undefined];
    if (!(ACTIONS as readonly string[]).includes(action)) {
      throw new UsageError(`unknown models action "${action}"`, `use one of ${ACTIONS.join(', ')}`);
    }
    const store = optString(args, 'store');
    const opts: ModelStoreOptions = store === undefined ? {} : { store: resolve(ctx.cwd, store) };
    const json = optFlag(args, 'json');
    if (action !== 'list' && target === undefined) {
      throw new UsageError(`models ${action} needs a ${action === 'add' ? 'folder' : 'model name'}`);
    }
    if (action === 'list' && target !== undefined) throw new UsageError('models list takes no argument');

    if (action === 'list') {
      const list = listModels(opts);
      if (json) {
        ctx.stdout.write(
          `${JSON.stringify(
            list.map((e) => ({
              name: e.name,
              version: e.card?.version,
              source: e.source,
              dir: e.dir,
              labels: e.card?.output.labels.filter((l) => l.value > 0).map((l) => l.name),
              ...(e.shadowed ? { shadowed: true } : {}),
              ...(e.problem ? { problem: e.problem } : {}),
            })),
            null,
            2,
          )}\n`,
        );
        return 0;
      }
      if (list.length === 0) {
        ctx.stdout.write('no models installed (add one with "slice2solid models add <folder>")\n');
        return 0;
      }
      for (const e of list) {
        if (e.problem) {
          ctx.stdout.write(`${e.name}  (${e.source}, BROKEN: ${e.problem})\n`);
          continue;
        }
        const labels = e.card!.output.labels.filter((l) => l.value > 0).map((l) => l.name);
        const mb = e.onnxBytes === undefined ? '' : `, ${(e.onnxBytes / 1e6).toFixed(1)} MB`;
        ctx.stdout.write(
          `${e.name} ${e.card!.version}  (${e.source}${mb}${e.shadowed ? ', hidden by the user model of the same name' : ''})  ${labels.join(', ')}\n`,
        );
      }
      return 0;
    }
    if (action === 'add') {
      const e = addModel(resolve(ctx.cwd, target!), { ...opts, force: optFlag(args, 'force') });
      if (json) ctx.stdout.write(`${JSON.stringify({ name: e.name, dir: e.dir, bytes: e.onnxBytes }, null, 2)}\n`);
      else ctx.stdout.write(`added ${e.name} ${e.card?.version ?? ''} to ${e.dir}\n`);
      return 0;
    }
    if (action === 'remove') {
      const r = removeModel(target!, opts);
      if (json) ctx.stdout.write(`${JSON.stringify({ removed: target, dir: r.dir }, null, 2)}\n`);
      else ctx.stdout.write(`removed ${target} (${r.dir})\n`);
      return 0;
    }
    const m = resolveModel(target!, { ...opts, cwd: ctx.cwd });
    if (json) {
      ctx.stdout.write(
        `${JSON.stringify({ source: m.source, dir: m.dir, sha256: m.sha256, warnings: m.warnings, card: m.card }, null, 2)}\n`,
      );
      return 0;
    }
    printInfo(ctx, m.card, { dir: m.dir, source: m.source, sha256: m.sha256 });
    for (const wmsg of m.warnings) ctx.stdout.write(`warning: ${wmsg}\n`);
    return 0;
  },
};

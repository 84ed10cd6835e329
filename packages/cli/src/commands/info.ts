import { formatGeometryReport, geometryReport } from '../report.js';
import { INPUT_HELP, INPUT_OPTIONS, loadInputFromArgs } from './common.js';
import { commandSummary } from './registry.js';
import { type Command, optFlag } from './types.js';

export const infoCommand: Command = {
  name: 'info',
  summary: commandSummary('info'),
  usage: 'info <input> [--json] [--series X] [--raw-geometry]',
  help: `Lists the series in the input, which one is chosen and why, and the loaded volume's size,
spacing, orientation (3-letter code and direction matrix), origin, intensity range and units,
with warnings (gantry tilt, uneven spacing, missing slices, mixed sizes, lossy compression...).

  --json                      print the same report as JSON

${INPUT_HELP}

Examples:
  slice2solid info scans/ct_series/
  slice2solid info study.zip --series 3 --json`,
  options: { ...INPUT_OPTIONS, json: { type: 'boolean' } },
  minPositionals: 1,
  maxPositionals: 1,
  async run(ctx, args) {
    const input = await loadInputFromArgs(ctx, args, args.positionals[0]!);
    const report = geometryReport(input);
    if (optFlag(args, 'json')) ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else ctx.stdout.write(formatGeometryReport(report));
    return 0;
  },
};

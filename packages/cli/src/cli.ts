/**
 * The command-line front end: parses arguments, dispatches to a command of the registry, prints
 * errors as "error: <message>" + "hint: <what to do>" and maps them to exit codes:
 *   0 success, 1 failure (the input could not be read, a check failed...), 2 wrong usage.
 * No stack traces unless --debug.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isS2SError } from '@slice2solid/core';
import { COMMAND_ENTRIES, loadCommand } from './commands/registry.js';
import { type Command, type CommandContext, type Output, UsageError } from './commands/types.js';
import { progressPrinter } from './progress.js';

export interface CliEnvironment {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly cwd?: string;
  readonly signal?: AbortSignal;
}

const GLOBAL_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  debug: { type: 'boolean' },
  progress: { type: 'boolean' },
} as const;

export function cliVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function usageText(): string {
  const width = Math.max(...COMMAND_ENTRIES.map((c) => c.name.length));
  return `slice2solid ${cliVersion()}: turn stacks of 2D medical scans into accurate 3D data

Usage: slice2solid <command> [options]

Commands:
${COMMAND_ENTRIES.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options for every command:
  --progress   show progress on stderr (shown by default when stderr is a terminal)
  --debug      print stack traces for errors
  -h, --help   help for a command: slice2solid <command> --help

Start with:  slice2solid demo
`;
}

function commandHelp(c: Command): string {
  return `Usage: slice2solid ${c.usage}\n\n${c.summary}.\n\n${c.help}\n`;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: readonly string[], env: CliEnvironment): Promise<number> {
  const { stdout, stderr } = env;
  const debug = argv.includes('--debug');
  const first = argv[0];
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? argv[1] : undefined;
    const c = topic ? await loadCommand(topic) : undefined;
    stdout.write(c ? commandHelp(c) : usageText());
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-v') {
    stdout.write(`${cliVersion()}\n`);
    return 0;
  }
  try {
    const command = await loadCommand(first);
    if (!command) {
      throw new UsageError(
        `unknown command "${first}"`,
        `the commands are: ${COMMAND_ENTRIES.map((c) => c.name).join(', ')}`,
      );
    }
    let parsed: ReturnType<typeof parseArgs>;
    try {
      parsed = parseArgs({
        args: argv.slice(1) as string[],
        options: { ...command.options, ...GLOBAL_OPTIONS },
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      throw new UsageError(
        (e as Error).message.replace(/\. To specify a positional.*$/s, ''),
        `see: slice2solid ${command.name} --help`,
      );
    }
    if (parsed.values.help) {
      stdout.write(commandHelp(command));
      return 0;
    }
    const n = parsed.positionals.length;
    if (n < command.minPositionals || n > command.maxPositionals) {
      throw new UsageError(
        n < command.minPositionals ? 'missing argument(s)' : `too many arguments (${parsed.positionals.join(' ')})`,
        `usage: slice2solid ${command.usage}`,
      );
    }
    const showProgress = parsed.values.progress === true || stderr.isTTY === true;
    const ctx: CommandContext = {
      stdout,
      stderr,
      cwd: env.cwd ?? process.cwd(),
      debug,
      run: { signal: env.signal, onProgress: progressPrinter(stderr, showProgress) },
    };
    return await command.run(ctx, { values: parsed.values, positionals: parsed.positionals });
  } catch (e) {
    return reportError(e, stderr, debug);
  }
}

function reportError(e: unknown, stderr: Output, debug: boolean): number {
  if (e instanceof UsageError) {
    stderr.write(`error: ${e.message}\n`);
    if (e.hint) stderr.write(`hint: ${e.hint}\n`);
    if (debug && e.stack) stderr.write(`${e.stack}\n`);
    return 2;
  }
  if (isS2SError(e)) {
    // the message already ends with " (hint)"; print message and hint on separate lines
    const bare = e.hint ? e.message.replace(` (${e.hint})`, '') : e.message;
    stderr.write(`error: ${bare}\n`);
    if (e.hint) stderr.write(`hint: ${e.hint}\n`);
    if (debug && e.stack) stderr.write(`[${e.code}]\n${e.stack}\n`);
    return e.code === 'INVALID_ARGUMENT' && !e.file ? 2 : 1;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  stderr.write(`error: unexpected failure: ${err.message}\n`);
  stderr.write(
    debug && err.stack
      ? `${err.stack}\n`
      : 'hint: this is a bug in slice2solid; run again with --debug and report the output (it holds no patient data)\n',
  );
  return 1;
}

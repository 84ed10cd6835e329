/**
 * The contract every CLI command implements. A command is one file in this folder exporting a
 * `Command`; it is registered with one entry in `./registry.ts` (loaded lazily).
 *
 * Commands never touch `process` directly: they write to `ctx.stdout` / `ctx.stderr`, read files
 * relative to `ctx.cwd`, and return an exit code (0 = success). Throw `UsageError` for wrong usage
 * (exit code 2) and `S2SError` for anything that failed (exit code 1; the CLI prints its message
 * and hint, and a stack trace only with --debug).
 */
import type { ParseArgsConfig } from 'node:util';
import type { RunOptions } from '@slice2solid/core';

export interface Output {
  write(text: string): unknown;
  /** True when the stream is an interactive terminal. */
  readonly isTTY?: boolean;
}

export interface CommandContext {
  readonly stdout: Output;
  readonly stderr: Output;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
  /** --debug: print stack traces and extra details. */
  readonly debug: boolean;
  /** Progress + cancellation to pass to long operations (progress goes to stderr when enabled). */
  readonly run: RunOptions;
}

export type OptionValue = string | boolean | (string | boolean)[] | undefined;

export interface ParsedArgs {
  readonly values: Readonly<Record<string, OptionValue>>;
  readonly positionals: readonly string[];
}

export interface Command {
  /** The word after `slice2solid`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Usage line(s) after `slice2solid `, e.g. `info <input> [--json]`. */
  readonly usage: string;
  /** Longer help: options and examples (printed by `slice2solid <command> --help`). */
  readonly help: string;
  /** node:util parseArgs options (the global --debug/--progress/--help are added by the CLI). */
  readonly options: NonNullable<ParseArgsConfig['options']>;
  readonly minPositionals: number;
  readonly maxPositionals: number;
  run(ctx: CommandContext, args: ParsedArgs): Promise<number>;
}

/** Wrong usage of the command line (exit code 2). */
export class UsageError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = 'UsageError';
    this.hint = hint;
  }
}

/** The string value of an option, or undefined. */
export function optString(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function optFlag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/** Parses "x,y,z" (or "x" for all three) into three positive numbers. */
export function parseTriple(text: string, what: string): [number, number, number] {
  const parts = text.split(/[,x]/).map((s) => Number(s.trim()));
  const three = parts.length === 1 ? [parts[0]!, parts[0]!, parts[0]!] : parts;
  if (three.length !== 3 || !three.every((x) => Number.isFinite(x) && x > 0)) {
    throw new UsageError(`${what} must be three positive numbers like 0.5,0.5,1.25; got "${text}"`);
  }
  return [three[0]!, three[1]!, three[2]!];
}

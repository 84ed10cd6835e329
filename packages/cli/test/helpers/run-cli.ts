// Runs the CLI in-process in a working folder and collects what it printed (the tests' one runner).
import { runCli } from '../../src/cli.js';

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** `slice2solid <argv>` with `cwd` as the working folder; stderr is not a terminal. */
export async function runCliIn(cwd: string, argv: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s), isTTY: false },
    cwd,
  });
  return { code, out, err };
}

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';
import { COMMAND_ENTRIES, loadAllCommands, loadCommand } from '../src/commands/registry.js';

function capture() {
  let text = '';
  return { out: { write: (s: string) => (text += s) }, text: () => text };
}

describe('lazy command registry', () => {
  it('every entry loads the command of the same name, whose summary is the registry one', async () => {
    const commands = await loadAllCommands();
    expect(commands.map((c) => c.name)).toEqual(COMMAND_ENTRIES.map((e) => e.name));
    for (const [i, c] of commands.entries()) expect(c.summary).toBe(COMMAND_ENTRIES[i]!.summary);
    expect(await loadCommand('no-such-command')).toBeUndefined();
  });

  it('the CLI front end and the registry import no command module at start-up', () => {
    for (const file of ['../src/cli.ts', '../src/commands/registry.ts', '../src/main.ts']) {
      const text = readFileSync(new URL(file, import.meta.url), 'utf8');
      const staticImports = [...text.matchAll(/^import [^;]*? from '([^']+)';/gms)].map((m) => m[1]!);
      for (const e of COMMAND_ENTRIES) expect(staticImports, file).not.toContain(`./${e.name}.js`);
      expect(
        staticImports.filter((s) => s.startsWith('@slice2solid/') && s !== '@slice2solid/core'),
        file,
      ).toEqual([]);
    }
  });

  it('help lists every command; "help <command>" and "<command> --help" load that command', async () => {
    const a = capture();
    expect(await runCli(['--help'], { stdout: a.out, stderr: a.out })).toBe(0);
    for (const e of COMMAND_ENTRIES) expect(a.text()).toContain(`  ${e.name}`);
    const b = capture();
    expect(await runCli(['help', 'stats'], { stdout: b.out, stderr: b.out })).toBe(0);
    expect(b.text()).toMatch(/^Usage: slice2solid stats /);
    const c = capture();
    expect(await runCli(['mesh', '--help'], { stdout: c.out, stderr: c.out })).toBe(0);
    expect(c.text()).toMatch(/^Usage: slice2solid mesh /);
  });
});

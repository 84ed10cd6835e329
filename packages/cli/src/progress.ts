/**
 * Progress on stderr: a single self-overwriting line on a terminal, or one line per stage step of
 * 10% when forced with --progress on a non-terminal. Nothing at all otherwise.
 */
import type { Progress } from '@slice2solid/core';
import type { Output } from './commands/types.js';

export function progressPrinter(stderr: Output, enabled: boolean): ((p: Progress) => void) | undefined {
  if (!enabled) return undefined;
  const tty = stderr.isTTY === true;
  let lastStage = '';
  let lastTenth = -1;
  let lastDraw = 0;
  return (p: Progress) => {
    const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
    const pct = Math.floor(frac * 100);
    if (tty) {
      const now = Date.now();
      if (p.stage === lastStage && now - lastDraw < 100 && frac < 1) return;
      lastDraw = now;
      lastStage = p.stage;
      const width = 24;
      const filled = Math.round(frac * width);
      stderr.write(
        `\r${p.stage.padEnd(16)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}%`,
      );
      if (frac >= 1) stderr.write('\n');
      return;
    }
    const tenth = Math.floor(frac * 10);
    if (p.stage !== lastStage) {
      lastStage = p.stage;
      lastTenth = -1;
    }
    if (tenth > lastTenth) {
      lastTenth = tenth;
      stderr.write(`${p.stage}: ${pct}%\n`);
    }
  };
}

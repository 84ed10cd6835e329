// Prints one plain closing line, "Tests: N passed, N failed, N skipped", that any CI log reader understands.
import { writeSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of testModules) {
      // a file that failed to load (an error while collecting) counts as a failure too
      if (m.state() === 'failed' && ![...m.children.allTests()].some((t) => t.result().state === 'failed')) failed++;
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === 'passed') passed++;
        else if (s === 'failed') failed++;
        else skipped++;
      }
    }
    // Printed at exit so it is the very last line, after vitest's own summary.
    process.once('exit', () => writeSync(1, `\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`));
  }
}

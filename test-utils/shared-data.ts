// Locates ../shared/data (beside the repository) for tests and benchmarks.
// Tests that need it use `describeData(...)` / `itData(...)`: they are skipped with a clear
// message on a fresh clone without ../shared, and they always run in CI (CI=true makes a
// missing folder a failure, so a broken checkout cannot pass by skipping).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = resolve(here, '..');
export const SHARED_DATA = process.env.S2S_SHARED_DATA ?? resolve(REPO_ROOT, '..', 'shared', 'data');
export const HAVE_SHARED_DATA = existsSync(join(SHARED_DATA, 'MANIFEST.md'));

if (!HAVE_SHARED_DATA && process.env.CI) {
  throw new Error(`CI run without shared data: ${SHARED_DATA} is missing (expected ../shared/data beside the repo)`);
}
let warned = false;
function warnOnce(): void {
  if (!warned && !HAVE_SHARED_DATA) {
    warned = true;
    console.warn(
      `[slice2solid tests] ../shared/data not found: skipping tests on real scans (set S2S_SHARED_DATA to point at it)`,
    );
  }
}

/** Absolute path of a file under shared/data. */
export function dataPath(...parts: string[]): string {
  return join(SHARED_DATA, ...parts);
}

export const describeData: typeof describe = ((name: string, fn: () => void) => {
  warnOnce();
  // Without the data the suite's body is NOT run (it may read files while collecting tests):
  // one skipped placeholder says why.
  return HAVE_SHARED_DATA
    ? describe(name, fn)
    : describe.skip(`${name} [skipped: ../shared/data absent]`, () => {
        it('needs ../shared/data beside the repository', () => {});
      });
}) as typeof describe;

export const itData: typeof it = ((name: string, fn: () => unknown, timeout?: number) => {
  warnOnce();
  return HAVE_SHARED_DATA ? it(name, fn, timeout) : it.skip(`${name} [skipped: ../shared/data absent]`, fn);
}) as typeof it;

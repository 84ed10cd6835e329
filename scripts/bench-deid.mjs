#!/usr/bin/env node
// Benchmark (not a test): de-identify the 300-file CT series bench-data/ct_dicom with
// `slice2solid anonymize` and with `gdcmanon -e` (basic profile) in the same run, both as whole
// commands (process start-up, reading and writing every file included), alternating, median of N.
//   node scripts/bench-deid.mjs [--runs N] [--no-build]
// This is `node scripts/bench.mjs --stages anonymize` (see bench/stages.mjs and docs/benchmarks.md).
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const r = spawnSync(
  process.execPath,
  [join(ROOT, 'scripts', 'bench.mjs'), '--stages', 'anonymize', ...process.argv.slice(2)],
  {
    cwd: ROOT,
    stdio: 'inherit',
  },
);
process.exit(r.status ?? 1);

// Enforces the layering rule: core, dicom, io and ops run in browsers too, so their sources
// may not import Node built-ins (only packages/cli and Node-only entries under src/node/ may).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test-utils/shared-data.js';

const NODE_BUILTINS =
  /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](?:node:[^'"]+|fs|fs\/promises|path|os|child_process|worker_threads|crypto|zlib|url|util|stream|buffer)['"]/;

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'node') yield* sources(p);
    } else if (/\.(ts|js|mjs)$/.test(name)) yield p;
  }
}

describe('universal packages do not import Node built-ins', () => {
  for (const pkg of ['core', 'dicom', 'io', 'ops', 'ai']) {
    it(`packages/${pkg}/src`, () => {
      const offenders: string[] = [];
      for (const f of sources(join(REPO_ROOT, 'packages', pkg, 'src'))) {
        const text = readFileSync(f, 'utf8');
        if (NODE_BUILTINS.test(text)) offenders.push(relative(REPO_ROOT, f));
      }
      expect(offenders).toEqual([]);
    });
  }
  it('the core does not use DOM or Node globals', () => {
    const offenders: string[] = [];
    for (const f of sources(join(REPO_ROOT, 'packages', 'core', 'src'))) {
      if (/\b(?:document|window|process|Buffer|require)\b\s*[.(]/.test(readFileSync(f, 'utf8'))) offenders.push(f);
    }
    expect(offenders).toEqual([]);
  });
});

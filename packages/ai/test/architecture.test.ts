// packages/ai runs in browsers too: its sources may not import Node built-ins or a runtime
// (only the Node-only entry under src/node/ may), so the backend stays a parameter.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test-utils/shared-data.js';

const FORBIDDEN =
  /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](?:node:[^'"]+|fs|fs\/promises|path|os|child_process|worker_threads|crypto|zlib|url|util|stream|buffer|onnxruntime-node|onnxruntime-web)['"]/;

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'node') yield* sources(p);
    } else if (/\.(ts|js|mjs)$/.test(name)) yield p;
  }
}

describe('packages/ai is universal', () => {
  it('src/ (outside src/node/) imports no Node built-ins and no runtime', () => {
    const offenders: string[] = [];
    const files = [...sources(join(REPO_ROOT, 'packages', 'ai', 'src'))];
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      // src/web/ is the one place that may load onnxruntime-web (browser-safe, still no Node built-ins)
      const inWeb = relative(join(REPO_ROOT, 'packages', 'ai', 'src'), f).startsWith('web');
      const forbidden = inWeb ? new RegExp(FORBIDDEN.source.replace('|onnxruntime-web', '')) : FORBIDDEN;
      if (forbidden.test(text)) offenders.push(relative(REPO_ROOT, f));
    }
    expect(files.length).toBeGreaterThan(5);
    expect(offenders).toEqual([]);
  });

  it('only src/web/ may import onnxruntime-web, and it imports no Node built-ins', () => {
    const web = join(REPO_ROOT, 'packages', 'ai', 'src', 'web', 'onnxruntime-web.ts');
    const text = readFileSync(web, 'utf8');
    expect(text).toMatch(/import\('onnxruntime-web'\)/);
    expect(/['"](?:node:[^'"]+|onnxruntime-node)['"]/.test(text)).toBe(false);
  });
});

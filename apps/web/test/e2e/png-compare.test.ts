/// <reference types="node" />
/** The screenshot comparison itself (no browser): equal, slightly and clearly different images. */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { compareWithBaseline } from './png-compare.js';

const dir = mkdtempSync(join(tmpdir(), 's2s-png-compare-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A 100x100 image: grey gradient, with `spots` pixels painted red. */
function image(spots: number): Uint8Array {
  const png = new PNG({ width: 100, height: 100 });
  for (let i = 0; i < 100 * 100; i++) {
    const g = i % 100;
    png.data.set(i < spots ? [255, 0, 0, 255] : [g, g, g, 255], 4 * i);
  }
  return PNG.sync.write(png);
}

describe('compareWithBaseline', () => {
  it('accepts the same image and small differences; rejects larger ones with a diff image', () => {
    writeFileSync(join(dir, 'a.png'), image(0));
    expect(compareWithBaseline('a', image(0), { baselineDir: dir }).mismatch).toBe(0);
    expect(compareWithBaseline('a', image(50), { baselineDir: dir, maxMismatch: 0.01 }).mismatch).toBeCloseTo(0.005, 3);
    let message = '';
    try {
      compareWithBaseline('a', image(500), { baselineDir: dir, maxMismatch: 0.01 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^a: [45]\.\d\d% of the pixels differ from the baseline \(tolerance 1\.00%\)/); // 500 of 10000 pixels (edge pixels may count as anti-aliasing)
    const out = message.match(/in (\S+); UPDATE_BASELINES/)![1]!;
    expect(readdirSync(out).sort()).toEqual(['a.actual.png', 'a.baseline.png', 'a.diff.png']);
    rmSync(out, { recursive: true, force: true });
  });

  it('a missing baseline or another size fails with what to do', () => {
    expect(() => compareWithBaseline('missing', image(0), { baselineDir: dir })).toThrow(/UPDATE_BASELINES=1/);
    const small = new PNG({ width: 10, height: 10 });
    writeFileSync(join(dir, 'b.png'), PNG.sync.write(small));
    expect(() => compareWithBaseline('b', image(0), { baselineDir: dir })).toThrow(/100x100, the baseline 10x10/);
    expect(existsSync(join(dir, 'missing.png'))).toBe(false);
  });
});

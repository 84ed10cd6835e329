/// <reference types="node" />
/**
 * Screenshot baselines: a PNG compared pixel by pixel (pixelmatch) with the committed one in
 * ./baselines/. `UPDATE_BASELINES=1` rewrites the baselines instead of comparing. On a mismatch the
 * actual image and a diff image (differences in red) are written to a temporary folder named in
 * the failure message.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';

export const BASELINE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'baselines');

export interface CompareResult {
  /** Fraction of pixels that differ beyond the colour threshold (0..1). */
  readonly mismatch: number;
  readonly width: number;
  readonly height: number;
  /** Where the actual and diff images were written (mismatch above the tolerance only). */
  readonly diffDir?: string;
  readonly updated?: boolean;
}

export interface CompareOptions {
  /** Largest fraction of differing pixels accepted (default 0.01). */
  readonly maxMismatch?: number;
  /** pixelmatch colour threshold, 0..1 (default 0.1). */
  readonly threshold?: number;
  /** Folder of the baselines (default ./baselines beside this file). */
  readonly baselineDir?: string;
}

/**
 * Compares `actual` (PNG bytes) with baselines/<name>.png. Throws with a clear message (and
 * writes the diff image) when the baseline is missing, the size differs, or too many pixels differ.
 */
export function compareWithBaseline(name: string, actual: Uint8Array, options: CompareOptions = {}): CompareResult {
  const baselineDir = options.baselineDir ?? BASELINE_DIR;
  const file = join(baselineDir, `${name}.png`);
  const img = PNG.sync.read(Buffer.from(actual));
  if (process.env.UPDATE_BASELINES === '1') {
    mkdirSync(baselineDir, { recursive: true });
    writeFileSync(file, PNG.sync.write(img));
    return { mismatch: 0, width: img.width, height: img.height, updated: true };
  }
  if (!existsSync(file)) {
    const dir = mkdtempSync(join(tmpdir(), 's2s-e2e-diff-'));
    writeFileSync(join(dir, `${name}.actual.png`), actual);
    throw new Error(
      `no baseline ${name}.png in apps/web/test/e2e/baselines (actual image: ${join(dir, `${name}.actual.png`)}); run the e2e tests with UPDATE_BASELINES=1 to create it`,
    );
  }
  const base = PNG.sync.read(readFileSync(file));
  if (base.width !== img.width || base.height !== img.height) {
    const dir = mkdtempSync(join(tmpdir(), 's2s-e2e-diff-'));
    writeFileSync(join(dir, `${name}.actual.png`), actual);
    throw new Error(
      `${name}: screenshot is ${img.width}x${img.height}, the baseline ${base.width}x${base.height} (layout changed?); actual image in ${dir}; UPDATE_BASELINES=1 rewrites the baseline`,
    );
  }
  const diff = new PNG({ width: img.width, height: img.height });
  const n = pixelmatch(base.data, img.data, diff.data, img.width, img.height, {
    threshold: options.threshold ?? 0.1,
  });
  const mismatch = n / (img.width * img.height);
  const max = options.maxMismatch ?? 0.01;
  if (mismatch > max) {
    const dir = mkdtempSync(join(tmpdir(), 's2s-e2e-diff-'));
    writeFileSync(join(dir, `${name}.actual.png`), actual);
    writeFileSync(join(dir, `${name}.diff.png`), PNG.sync.write(diff));
    writeFileSync(join(dir, `${name}.baseline.png`), readFileSync(file));
    throw new Error(
      `${name}: ${(mismatch * 100).toFixed(2)}% of the pixels differ from the baseline (tolerance ${(max * 100).toFixed(2)}%); actual, baseline and diff (red = different) in ${dir}; UPDATE_BASELINES=1 rewrites the baseline if the change is intended`,
    );
  }
  return { mismatch, width: img.width, height: img.height };
}

// The Node worker-thread runner: real concurrency, failures reported as S2SError, and results
// bit-identical to the single-threaded ops (Gaussian, median, ball morphology).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeVolume, S2SError, type Vec3 } from '@slice2solid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../../test-utils/shared-data.js';
import { gaussian } from '../../src/filters/gaussian.js';
import { median } from '../../src/filters/median.js';
import { close } from '../../src/morphology/close.js';
import { dilate } from '../../src/morphology/dilate.js';
import { erode } from '../../src/morphology/erode.js';
import { open } from '../../src/morphology/open.js';
import { createWorkerRunner, type WorkerRunner } from '../../src/node/worker-runner.js';
import { gridCentre, obliqueGrid, randomMask, rng, shellMask } from '../filters/helpers.js';

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  for (let p = 0; p < a.length; p++) if (!Object.is(a[p], b[p])) diff++;
  return diff;
}

describe('worker runner (2 threads, from TypeScript sources)', () => {
  let parallel: WorkerRunner;
  beforeAll(async () => {
    parallel = await createWorkerRunner({ threads: 2 });
  });
  afterAll(async () => {
    await parallel?.close();
  });

  it('runs ranges at the same time on two threads (a rendezvous that one thread alone cannot pass)', () => {
    const counter = new Int32Array(new SharedArrayBuffer(4));
    parallel.runSlabs('runner.rendezvous', { counter, expected: 2, timeoutMs: 20_000 }, [
      [0, 1],
      [1, 2],
    ]);
    expect(counter[0]).toBe(2);
  });

  it('reports a failing kernel as an S2SError and stays usable', () => {
    const counter = new Int32Array(new SharedArrayBuffer(4));
    expect(() =>
      parallel.runSlabs('runner.rendezvous', { counter, expected: 3, timeoutMs: 100 }, [
        [0, 1],
        [1, 2],
      ]),
    ).toThrow(/rendezvous timed out/);
    const again = new Int32Array(new SharedArrayBuffer(4));
    parallel.runSlabs('runner.rendezvous', { counter: again, expected: 2, timeoutMs: 20_000 }, [
      [0, 1],
      [1, 2],
    ]);
    expect(again[0]).toBe(2);
  });

  it('refuses a bad thread count and use after close', async () => {
    await expect(createWorkerRunner({ threads: 0 })).rejects.toThrow(S2SError);
    const one = await createWorkerRunner({ threads: 1 });
    expect(one.threads).toBe(1);
    await one.close();
    expect(() => one.runSlabs('runner.rendezvous', {}, [])).toThrow(S2SError);
  });

  const size: Vec3 = [37, 29, 23];
  const grid = obliqueGrid(size, [0.7, 0.9, 1.3]);
  const n = size[0] * size[1] * size[2];
  const r = rng(7);
  const noise = new Float32Array(n).map(() => 1000 * r() - 500);

  it.each(['nearest', 'reflect'] as const)(
    'gaussian (%s, anisotropic) is bit-identical with and without threads',
    (mode) => {
      const v = makeVolume({ grid, data: noise });
      const a = gaussian(v, { sigmaMm: [1.3, 0.8, 2.1], mode }).data;
      const b = gaussian(v, { sigmaMm: [1.3, 0.8, 2.1], mode, parallel }).data;
      expect(sameBits(a, b)).toBe(0);
      expect((b as Float32Array).buffer).toBeInstanceOf(SharedArrayBuffer);
    },
  );

  it('gaussian of a 3-component int16 volume is bit-identical with and without threads', () => {
    const data = new Int16Array(n * 3).map(() => Math.round(2000 * r() - 1000));
    const v = makeVolume({ grid, data, components: 3 });
    expect(sameBits(gaussian(v, { sigmaMm: 1 }).data, gaussian(v, { sigmaMm: 1, parallel }).data)).toBe(0);
  });

  it.each([
    ['int16 (histogram)', () => new Int16Array(n).map(() => Math.round(3000 * r() - 1000))],
    ['float32 (selection)', () => noise],
  ])('median of %s is identical with and without threads', (_name, make) => {
    const v = makeVolume({ grid, data: make() });
    expect(sameBits(median(v, { radius: [1, 2, 1] }).data, median(v, { radius: [1, 2, 1], parallel }).data)).toBe(0);
  });

  it('ball morphology (dilate, erode both edge modes, open, close) is identical with and without threads', () => {
    const mask = randomMask(n, 0.3, 11);
    const shell = shellMask(grid, gridCentre(grid), 9, 6);
    for (const m of [mask, shell]) {
      for (const radiusMm of [1, 2.2]) {
        expect(sameBits(dilate(m, grid, { radiusMm }), dilate(m, grid, { radiusMm, parallel }))).toBe(0);
        for (const outside of ['foreground', 'background'] as const) {
          expect(sameBits(erode(m, grid, { radiusMm, outside }), erode(m, grid, { radiusMm, outside, parallel }))).toBe(
            0,
          );
        }
        expect(sameBits(open(m, grid, { radiusMm }), open(m, grid, { radiusMm, parallel }))).toBe(0);
        expect(sameBits(close(m, grid, { radiusMm }), close(m, grid, { radiusMm, parallel }))).toBe(0);
      }
    }
  });
});

// The built package (dist/) starts its workers on dist/node/worker.js with plain Node.
const DIST = join(REPO_ROOT, 'packages/ops/dist/node/index.js');
describe.skipIf(!existsSync(DIST))(
  `worker runner from the built package${existsSync(DIST) ? '' : ' [skipped: run `npx tsc -b packages/ops` first]'}`,
  () => {
    it('plain node, no loader: the parallel Gaussian equals the serial one', () => {
      const script = `
        const ops = await import(${JSON.stringify(join(REPO_ROOT, 'packages/ops/dist/index.js'))});
        const { createWorkerRunner } = await import(${JSON.stringify(DIST)});
        const core = await import('@slice2solid/core');
        const grid = core.makeGrid({ size: [40, 30, 20], spacing: [0.7, 0.8, 1.2] });
        const data = new Float32Array(24000).map((_, p) => Math.sin(p * 0.37) * 100);
        const v = core.makeVolume({ grid, data });
        const parallel = await createWorkerRunner({ threads: 2 });
        const counter = new Int32Array(new SharedArrayBuffer(4));
        parallel.runSlabs('runner.rendezvous', { counter, expected: 2, timeoutMs: 20000 }, [[0, 1], [1, 2]]);
        const a = ops.gaussian(v, { sigmaMm: 1 }).data, b = ops.gaussian(v, { sigmaMm: 1, parallel }).data;
        let diff = 0; for (let p = 0; p < a.length; p++) if (!Object.is(a[p], b[p])) diff++;
        await parallel.close();
        console.log('RESULT ' + JSON.stringify({ diff, met: counter[0] }));`;
      const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
      const line = res.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      expect(line, res.stderr).toBeDefined();
      expect(JSON.parse(line!.slice(7))).toEqual({ diff: 0, met: 2 });
    });
  },
);

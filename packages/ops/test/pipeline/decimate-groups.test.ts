// Large single-structure meshes are simplified as SIMPLIFY_GROUPS groups of whole pieces (pieces
// share no vertex, so each group is simplified on its own, on any thread). The groups do not
// depend on the number of threads, so neither does the result: one thread, ranges in any order
// and real worker threads must give the same mesh, bit for bit, and it must stay closed and as
// accurate as simplifying the whole mesh at once.
import { type Mesh, makeGrid, type Vec3 } from '@slice2solid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meshAccuracy } from '../../src/mesh/accuracy.js';
import { meshMetrics } from '../../src/mesh/metrics.js';
import { smoothWindowedSinc } from '../../src/mesh/smooth-windowed-sinc.js';
import { createWorkerRunner, type WorkerRunner } from '../../src/node/worker-runner.js';
import { kernelFunction, type ParallelRunner } from '../../src/parallel/runner.js';
import { decimateKeepingClosed, SIMPLIFY_GROUPS } from '../../src/pipeline/decimate-closed.js';
import { maskSurface } from '../../src/surface/antialias-mask.js';

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** Many separate blobs of different sizes. */
function blobs(size: Vec3, count: number, seed: number): Uint8Array {
  const rnd = lcg(seed);
  const [nx, ny, nz] = size;
  const m = new Uint8Array(nx * ny * nz);
  for (let b = 0; b < count; b++) {
    const c = [3 + rnd() * (nx - 6), 3 + rnd() * (ny - 6), 3 + rnd() * (nz - 6)];
    const r = 1 + rnd() * 4;
    for (let k = Math.max(0, Math.floor(c[2]! - r)); k <= Math.min(nz - 1, Math.ceil(c[2]! + r)); k++)
      for (let j = Math.max(0, Math.floor(c[1]! - r)); j <= Math.min(ny - 1, Math.ceil(c[1]! + r)); j++)
        for (let i = Math.max(0, Math.floor(c[0]! - r)); i <= Math.min(nx - 1, Math.ceil(c[0]! + r)); i++)
          if (Math.hypot(i - c[0]!, j - c[1]!, k - c[2]!) < r) m[(k * ny + j) * nx + i] = 1;
  }
  return m;
}

function reverseRunner(threads: number): ParallelRunner {
  return {
    threads,
    shared: false,
    runSlabs(kernel, args, ranges) {
      const fn = kernelFunction(kernel);
      for (const [s, e] of [...ranges].reverse()) fn(args, s, e);
    },
  };
}

/** A runner whose threads all fail (as a worker without meshoptimizer would). */
const failingRunner: ParallelRunner = {
  threads: 2,
  shared: false,
  runSlabs() {
    throw new Error('no worker');
  },
};

const same = (a: Mesh, b: Mesh) => {
  expect(Buffer.from(a.positions.buffer, a.positions.byteOffset, a.positions.byteLength)).toEqual(
    Buffer.from(b.positions.buffer, b.positions.byteOffset, b.positions.byteLength),
  );
  expect(a.indices).toEqual(b.indices);
};

describe('decimateKeepingClosed in groups of pieces', () => {
  const size: Vec3 = [48, 44, 40];
  const grid = makeGrid({ size, spacing: [0.7, 0.7, 1] });
  const mask = blobs(size, 60, 7);
  const raw = maskSurface(mask, grid);
  const mesh = smoothWindowedSinc(raw);
  let workers: WorkerRunner;
  beforeAll(async () => {
    workers = await createWorkerRunner({ threads: 2 });
  });
  afterAll(async () => {
    await workers.close();
  });

  it('gives the same closed mesh on one thread, in any order, on worker threads, and when the workers fail', async () => {
    expect(meshMetrics(raw).components).toBeGreaterThan(2 * SIMPLIFY_GROUPS);
    const opts = { targetRatio: 0.2, pieceGroupsFrom: 1 };
    const one = await decimateKeepingClosed(mesh, opts);
    for (const parallel of [reverseRunner(2), reverseRunner(3), workers, failingRunner]) {
      const r = await decimateKeepingClosed(mesh, { ...opts, parallel });
      same(r.mesh, one.mesh);
      expect(r.errorMm).toBe(one.errorMm);
    }
    const m = meshMetrics(one.mesh);
    expect(m.closedManifold).toBe(true);
    expect(m.components).toBe(meshMetrics(raw).components);
    const nt = mesh.indices.length / 3;
    expect(one.mesh.indices.length / 3).toBeGreaterThan(0.17 * nt);
    expect(one.mesh.indices.length / 3).toBeLessThan(0.25 * nt);
  });

  it('is as accurate as simplifying the whole mesh at once', async () => {
    const whole = await decimateKeepingClosed(mesh, { targetRatio: 0.2 });
    const grouped = await decimateKeepingClosed(mesh, { targetRatio: 0.2, pieceGroupsFrom: 1 });
    const a = meshAccuracy(whole.mesh, mask, grid, { referenceMesh: raw });
    const b = meshAccuracy(grouped.mesh, mask, grid, { referenceMesh: raw });
    expect(b.dice).toBeGreaterThan(a.dice - 0.003);
    expect(b.distance.meanMm).toBeLessThan(a.distance.meanMm * 1.05 + 0.005);
    expect(Math.abs(b.volumeChangePercent!)).toBeLessThan(Math.abs(a.volumeChangePercent!) + 0.3);
  });
});

// buildModel with a ParallelRunner (anti-aliasing, marching cubes, smoothing, decimation in piece
// groups on its threads) must deliver the one-thread model, bit for bit, with the same report.
import { lpsFromIjkMatrix, makeGrid, makeVolume, type Vec3, voxelCount } from '@slice2solid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/index.js';
import { createWorkerRunner, type WorkerRunner } from '../../src/node/worker-runner.js';
import { kernelFunction, type ParallelRunner } from '../../src/parallel/runner.js';

/** Runs every range on this thread, last first (any order must do). */
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

// a CT-like volume (HU) with several bones of different sizes on an anisotropic grid
const grid = makeGrid({ size: [60, 54, 40], spacing: [0.8, 0.8, 1.1], origin: [-20, 10, 5] });
const volume = (() => {
  const M = lpsFromIjkMatrix(grid);
  const [nx, ny, nz] = grid.size;
  const data = new Int16Array(voxelCount(grid)).fill(-1000);
  const balls: [Vec3, number][] = [
    [[0, 30, 20], 9],
    [[10, 25, 18], 5],
    [[-5, 40, 30], 4],
    [[15, 40, 12], 3],
    [[5, 20, 35], 2.5],
  ];
  let p = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, p++) {
        const x = M[0]! * i + M[1]! * j + M[2]! * k + M[3]!;
        const y = M[4]! * i + M[5]! * j + M[6]! * k + M[7]!;
        const z = M[8]! * i + M[9]! * j + M[10]! * k + M[11]!;
        for (const [c, r] of balls) if ((x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2 <= r * r) data[p] = 1200;
      }
  return makeVolume({ grid, data, units: 'HU' });
})();

const bits = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('buildModel on a ParallelRunner', () => {
  let workers: WorkerRunner;
  beforeAll(async () => {
    workers = await createWorkerRunner({ threads: 2 });
  });
  afterAll(async () => {
    await workers.close();
  });

  it('gives the one-thread model and report, whatever the runner', async () => {
    const options = { segment: { lower: 300 }, decimate: 0.3, smoothIterations: 20 } as const;
    const one = await buildModel(volume, options);
    expect(one.metrics.closedManifold).toBe(true);
    expect(one.metrics.perStructure[0]!.components).toBeGreaterThanOrEqual(3);
    for (const parallel of [reverseRunner(3), workers]) {
      const r = await buildModel(volume, { ...options, parallel });
      expect(bits(r.mesh.positions)).toEqual(bits(one.mesh.positions));
      expect(r.mesh.indices).toEqual(one.mesh.indices);
      expect(r.metrics).toEqual(one.metrics);
      expect(r.accuracy).toEqual(one.accuracy);
    }
  });
});

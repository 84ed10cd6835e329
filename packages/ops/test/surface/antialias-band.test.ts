// The anti-aliasing blur runs row by row (x pass straight from the mask, y pass per plane, z pass
// in place over a ring of planes, optionally split over threads by z-slabs), skipping rows that
// only hold zeros. It must give EXACTLY the values of the plain per-line separable convolution
// (kept below as the reference), so the extracted surfaces are unchanged bit for bit.
import { makeGrid, makeVolume, type Vec3 } from '@slice2solid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerRunner, type WorkerRunner } from '../../src/node/worker-runner.js';
import { kernelFunction, type ParallelRunner } from '../../src/parallel/runner.js';
import { antialiasMask, maskSurface } from '../../src/surface/antialias-mask.js';
import { marchingCubes } from '../../src/surface/marching-cubes.js';

/** The reference: mask -> float32, one 1D convolution per axis (x, y, z) in place, then the clamp. */
function referenceAntialias(mask: Uint8Array, size: Vec3, sigma: number, margin: number): Float32Array {
  const n = size[0] * size[1] * size[2];
  const out = new Float32Array(n);
  for (let v = 0; v < n; v++) out[v] = mask[v] ? 1 : 0;
  if (sigma > 0) {
    const r = Math.max(1, Math.ceil(3 * sigma));
    const w = new Float64Array(2 * r + 1);
    let s = 0;
    for (let t = -r; t <= r; t++) s += w[t + r] = Math.exp((-t * t) / (2 * sigma * sigma));
    for (let t = 0; t < w.length; t++) w[t]! /= s;
    const strides = [1, size[0], size[0] * size[1]];
    for (let axis = 0; axis < 3; axis++) {
      const len = size[axis]!;
      const stride = strides[axis]!;
      const line = new Float64Array(len);
      const [a1, a2] = [0, 1, 2].filter((a) => a !== axis) as [number, number];
      for (let q = 0; q < size[a2]!; q++) {
        for (let p = 0; p < size[a1]!; p++) {
          const base = p * strides[a1]! + q * strides[a2]!;
          for (let t = 0; t < len; t++) line[t] = out[base + t * stride]!;
          for (let t = 0; t < len; t++) {
            let acc = 0;
            for (let u = Math.max(0, t - r); u <= Math.min(len - 1, t + r); u++) acc += w[u - t + r]! * line[u]!;
            out[base + t * stride] = acc;
          }
        }
      }
    }
  }
  for (let v = 0; v < n; v++) {
    if (mask[v]) {
      if (out[v]! < 0.5 + margin) out[v] = 0.5 + margin;
    } else if (out[v]! > 0.5 - margin) out[v] = 0.5 - margin;
  }
  return out;
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** Random blobs and specks, some touching the grid border. */
function blobMask(size: Vec3, seed: number): Uint8Array {
  const rnd = lcg(seed);
  const [nx, ny, nz] = size;
  const m = new Uint8Array(nx * ny * nz);
  const blobs = Array.from({ length: 7 }, () => [rnd() * nx, rnd() * ny, rnd() * nz, 1 + rnd() * 5]);
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++) {
        let inside = rnd() < 0.004;
        for (const [cx, cy, cz, r] of blobs) if (Math.hypot(i - cx!, j - cy!, k - cz!) < r!) inside = true;
        m[(k * ny + j) * nx + i] = inside ? 1 : 0;
      }
  return m;
}

/** Runs the ranges on this thread, last first (any order must do). */
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

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('antialiasMask: row-wise blur equals the per-line convolution, bit for bit', () => {
  const cases: { size: Vec3; sigma: number; seed: number }[] = [
    { size: [23, 17, 29], sigma: 0.5, seed: 1 },
    { size: [31, 12, 9], sigma: 1.2, seed: 2 },
    { size: [8, 40, 33], sigma: 0.5, seed: 3 },
    { size: [5, 5, 3], sigma: 2, seed: 4 },
    { size: [16, 16, 16], sigma: 0, seed: 5 },
  ];
  for (const { size, sigma, seed } of cases) {
    it(`${size.join('x')}, sigma ${sigma}: one thread and z-slabs split 2 and 3 ways`, () => {
      const mask = blobMask(size, seed);
      const grid = makeGrid({ size, spacing: [0.7, 0.9, 1.3] });
      const ref = referenceAntialias(mask, size, sigma, 0.02);
      expect(bytes(antialiasMask(mask, grid, { sigmaVoxels: sigma }).data as Float32Array)).toEqual(bytes(ref));
      for (const threads of [2, 3]) {
        const got = antialiasMask(mask, grid, { sigmaVoxels: sigma, parallel: reverseRunner(threads) });
        expect(bytes(got.data as Float32Array)).toEqual(bytes(ref));
      }
    });
  }

  it('the surface of the mask is that of the reference volume', () => {
    const size: Vec3 = [30, 26, 22];
    const mask = blobMask(size, 9);
    const grid = makeGrid({ size, spacing: [0.7, 0.7, 1], origin: [3, -4, 5] });
    const ref = marchingCubes(makeVolume({ grid, data: referenceAntialias(mask, size, 0.5, 0.02) }), {
      isoValue: 0.5,
      closeBoundary: true,
      outsideValue: 0,
    });
    const got = maskSurface(mask, grid);
    expect(got.positions.length).toBeGreaterThan(0);
    expect(bytes(got.positions)).toEqual(bytes(ref.positions));
    expect(got.indices).toEqual(ref.indices);
  });

  describe('on worker threads', () => {
    let runner: WorkerRunner;
    beforeAll(async () => {
      runner = await createWorkerRunner({ threads: 2 });
    });
    afterAll(async () => {
      await runner.close();
    });
    it('maskSurface with a worker runner gives the one-thread mesh', () => {
      const size: Vec3 = [40, 36, 48];
      const mask = blobMask(size, 11);
      const grid = makeGrid({ size, spacing: [0.7, 0.7, 1] });
      const one = maskSurface(mask, grid);
      const two = maskSurface(mask, grid, { parallel: runner });
      expect(bytes(two.positions)).toEqual(bytes(one.positions));
      expect(two.indices).toEqual(one.indices);
    });
  });
});

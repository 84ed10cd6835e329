// Marching cubes split over threads (kernels 'mc.classify', 'mc.count', 'mc.sweep' by z-slabs) must
// give EXACTLY the single-threaded mesh: same vertices, same numbering, same triangles. The slabs'
// shared planes are stitched by replaying the layer before each slab, so a closed surface stays
// closed (checked too).
import { type Mesh, makeGrid, makeVolume, type Vec3, type Volume } from '@slice2solid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerRunner, type WorkerRunner } from '../../src/node/worker-runner.js';
import { kernelFunction, type ParallelRunner } from '../../src/parallel/runner.js';
import { type MarchingCubesOptions, marchingCubes } from '../../src/surface/marching-cubes.js';

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

type Ctor = new (n: number) => Volume['data'];

function blobVolume(size: Vec3, T: Ctor, rnd: () => number, inside: number, outside: number, blobs = 6): Volume {
  const [nx, ny, nz] = size;
  const data = new T(nx * ny * nz);
  const bs = Array.from({ length: blobs }, () => [rnd() * nx, rnd() * ny, rnd() * nz, 1.5 + rnd() * 6]);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        let v = outside + (rnd() - 0.5) * 2;
        for (const [cx, cy, cz, r] of bs) {
          const d = Math.hypot(i - cx!, j - cy!, k - cz!);
          if (d < r!) v = outside + (inside - outside) * Math.min(1, (r! - d) / 1.5 + 0.2);
        }
        if (rnd() < 0.003) v = inside;
        data[(k * ny + j) * nx + i] = v;
      }
    }
  }
  const grid = makeGrid({ size, spacing: [0.7, 1.1, 1.9], origin: [-20, 30, 5] });
  return makeVolume({ grid, data });
}

/** Runs the ranges on this thread, last first (any order must do), and records the calls. */
function splitRunner(threads: number): ParallelRunner & { calls: string[] } {
  const calls: string[] = [];
  return {
    threads,
    shared: false,
    calls,
    runSlabs(kernel, args, ranges) {
      calls.push(`${kernel}:${ranges.length}`);
      const fn = kernelFunction(kernel);
      for (const [s, e] of [...ranges].reverse()) fn(args, s, e);
    },
  };
}

const sameMesh = (a: Mesh, b: Mesh): void => {
  expect(a.positions.length).toBe(b.positions.length);
  expect(a.indices.length).toBe(b.indices.length);
  expect(Buffer.from(a.positions.buffer, a.positions.byteOffset, a.positions.byteLength)).toEqual(
    Buffer.from(b.positions.buffer, b.positions.byteOffset, b.positions.byteLength),
  );
  expect(a.indices).toEqual(b.indices);
};

/** Edges used by exactly one triangle (0 on a closed surface). */
function boundaryEdges(m: Mesh): number {
  const count = new Map<number, number>();
  const idx = m.indices;
  for (let t = 0; t < idx.length; t += 3) {
    for (let k = 0; k < 3; k++) {
      const a = idx[t + k]!;
      const b = idx[t + ((k + 1) % 3)]!;
      const key = a < b ? a * 4294967296 + b : b * 4294967296 + a;
      count.set(key, (count.get(key) ?? 0) + 1);
    }
  }
  let n = 0;
  for (const c of count.values()) if (c === 1) n++;
  return n;
}

describe('marching cubes by z-slabs = one thread, exactly', () => {
  const cases: { name: string; size: Vec3; T: Ctor; iso: number; inside: number; outside: number }[] = [
    { name: 'int16, integer iso', size: [40, 14, 29], T: Int16Array, iso: 300, inside: 1200, outside: -1000 },
    { name: 'uint8', size: [33, 12, 21], T: Uint8Array, iso: 128, inside: 250, outside: 3 },
    { name: 'float32', size: [35, 11, 26], T: Float32Array, iso: 0.25, inside: 1, outside: -1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const rnd = lcg(c.size[0] * 13 + c.size[2]);
      const vol = blobVolume(c.size, c.T, rnd, c.inside, c.outside);
      const n = c.size[0] * c.size[1] * c.size[2];
      const mask = Uint8Array.from({ length: n }, () => (rnd() < 0.9 ? 1 : 0));
      const roi = { min: [1, 2, 1], max: [c.size[0] - 2, c.size[1] - 1, c.size[2] - 3] };
      const variants: MarchingCubesOptions[] = [
        { isoValue: c.iso },
        { isoValue: c.iso, closeBoundary: true },
        { isoValue: c.iso, roi },
        { isoValue: c.iso, mask, closeBoundary: true, roi },
      ];
      for (const o of variants) {
        const one = marchingCubes(vol, o);
        expect(one.indices.length).toBeGreaterThan(300);
        for (const threads of [2, 3]) {
          const runner = splitRunner(threads);
          sameMesh(marchingCubes(vol, { ...o, parallel: runner }), one);
          // really split: every pass ran as several slabs
          expect(runner.calls.map((x) => x.split(':')[0])).toEqual(['mc.classify', 'mc.count', 'mc.sweep']);
          for (const x of runner.calls) expect(Number(x.split(':')[1])).toBeGreaterThan(1);
        }
        if (o.closeBoundary) expect(boundaryEdges(one)).toBe(0);
      }
    });
  }

  it('a thin volume (fewer than 16 planes) is not split', () => {
    const vol = blobVolume([30, 10, 8], Int16Array, lcg(4), 1000, 0);
    const runner = splitRunner(2);
    sameMesh(marchingCubes(vol, { isoValue: 500, parallel: runner }), marchingCubes(vol, { isoValue: 500 }));
    expect(runner.calls).toEqual([]);
  });

  describe('on worker threads', () => {
    let parallel: WorkerRunner;
    beforeAll(async () => {
      parallel = await createWorkerRunner({ threads: 2 });
    });
    afterAll(async () => {
      await parallel?.close();
    });
    it('gives the same mesh as one thread (closed stays closed)', () => {
      const vol = blobVolume([48, 40, 44], Int16Array, lcg(11), 1500, -800, 12);
      for (const o of [{ isoValue: 300 }, { isoValue: 300, closeBoundary: true }] as MarchingCubesOptions[]) {
        const one = marchingCubes(vol, o);
        const two = marchingCubes(vol, { ...o, parallel });
        sameMesh(two, one);
        expect(two.positions.buffer).toBeInstanceOf(ArrayBuffer); // handed back on ordinary memory
        if (o.closeBoundary) expect(boundaryEdges(two)).toBe(0);
      }
    });
  });
});

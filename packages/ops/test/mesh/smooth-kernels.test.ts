// The fast smoothing machinery (neighbour lists built per vertex with multiplicities, fused
// Chebyshev passes) must give EXACTLY what the plain formulation gives: the neighbour lists of
// the undirected edge table, and the windowed-sinc recurrence written out step by step with
// averageNeighbours. Meshes with open borders, non-manifold edges, degenerate triangles and
// unused vertices exercise every vertex class.
import { type Mesh, makeGrid, makeVolume } from '@slice2solid/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { averageNeighbours, finishSmoothing, type SmoothGraph, smoothGraph } from '../../src/mesh/smooth-common.js';
import {
  smoothWindowedSinc,
  type WindowedSincOptions,
  windowedSincCoefficients,
} from '../../src/mesh/smooth-windowed-sinc.js';
import { buildEdgeTable } from '../../src/mesh/topology.js';
import { createWorkerRunner, type WorkerRunner } from '../../src/node/worker-runner.js';
import { kernelFunction, type ParallelRunner } from '../../src/parallel/runner.js';
import { marchingCubes } from '../../src/surface/marching-cubes.js';

/** Neighbour lists from the undirected edge table (the definition in smooth-common.ts). */
function referenceGraph(mesh: Mesh, boundary: 'smooth' | 'fixed'): SmoothGraph {
  const nv = mesh.positions.length / 3;
  const E = buildEdgeTable(mesh.indices, nv);
  const lists: number[][] = Array.from({ length: nv }, () => []);
  const special: number[][] = Array.from({ length: nv }, () => []);
  for (let e = 0; e < E.count; e++) {
    const a = E.a[e]!;
    const b = E.b[e]!;
    lists[a]!.push(b);
    lists[b]!.push(a);
    if (E.first[e + 1]! - E.first[e]! !== 2) {
      special[a]!.push(b);
      special[b]!.push(a);
    }
  }
  const keep = lists.map((l, v) => {
    const s = special[v]!;
    const out = s.length === 0 ? l : boundary === 'smooth' && s.length === 2 ? s : [];
    return [...out].sort((x, y) => x - y);
  });
  const off = new Uint32Array(nv + 1);
  keep.forEach((l, v) => {
    off[v + 1] = off[v]! + l.length;
  });
  return { off, nbr: Uint32Array.from(keep.flat()) };
}

/** The windowed-sinc recurrence, step by step (as documented in smooth-windowed-sinc.ts). */
function referenceWindowedSinc(
  mesh: Mesh,
  o: Required<Omit<WindowedSincOptions, 'maxDisplacementMm' | 'signal' | 'onProgress'>> & {
    maxDisplacementMm?: number;
  },
): Mesh {
  const g = referenceGraph(mesh, o.boundary);
  const N = o.iterations;
  if (N === 0) return finishSmoothing(mesh, Float64Array.from(mesh.positions), o.maxDisplacementMm);
  const c = windowedSincCoefficients(N, o.passBand, o.window);
  const n = mesh.positions.length;
  const centre = [0, 0, 0];
  for (let m = 0; m < n; m++) centre[m % 3]! += (3 * mesh.positions[m]!) / n;
  let x0 = Float64Array.from(mesh.positions, (p, m) => p - centre[m % 3]!);
  let x1 = new Float64Array(n);
  let x2 = new Float64Array(n);
  const x3 = new Float64Array(n);
  const avg = new Float64Array(n);
  averageNeighbours(g, x0, avg);
  for (let m = 0; m < n; m++) {
    x1[m] = 0.5 * (x0[m]! + avg[m]!);
    x3[m] = c[0]! * x0[m]! + c[1]! * x1[m]!;
  }
  for (let j = 2; j <= N; j++) {
    averageNeighbours(g, x1, avg);
    for (let m = 0; m < n; m++) {
      x2[m] = avg[m]! + x1[m]! - x0[m]!;
      x3[m]! += c[j]! * x2[m]!;
    }
    [x0, x1, x2] = [x1, x2, x0];
  }
  for (let m = 0; m < n; m++) x3[m]! += centre[m % 3]!;
  for (let v = 0; v + 1 < g.off.length; v++) {
    if (g.off[v] === g.off[v + 1]) for (let a = 0; a < 3; a++) x3[3 * v + a] = mesh.positions[3 * v + a]!;
  }
  return finishSmoothing(mesh, x3, o.maxDisplacementMm);
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** Random iso-surface meshes, open at the border, with extra defects on request. */
function testMesh(seed: number, defects: boolean): Mesh {
  const rnd = lcg(seed);
  const size: [number, number, number] = [9 + (seed % 5), 8, 7];
  const grid = makeGrid({ size, spacing: [1, 0.8, 1.3], origin: [150, -220, 40] });
  const data = Float32Array.from({ length: size[0] * size[1] * size[2] }, () => rnd() - 0.5);
  const mesh = marchingCubes(makeVolume({ grid, data }), { isoValue: 0 });
  if (!defects) return mesh;
  const I = Array.from(mesh.indices);
  I.push(I[0]!, I[1]!, I[7]!); // a third triangle on an edge: non-manifold
  I.push(I[3]!, I[3]!, I[5]!); // degenerate (repeated vertex)
  const nv = mesh.positions.length / 3;
  I.push(I[9]!, I[10]!, nv); // a fin hanging off an edge, to a new vertex
  return { positions: Float32Array.from([...mesh.positions, 160, -215, 45, 1, 2, 3]), indices: Uint32Array.from(I) };
}

const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length &&
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('smoothing kernels = plain formulation, exactly', () => {
  it('neighbour lists equal those of the undirected edge table, for every vertex class', () => {
    for (let seed = 1; seed <= 6; seed++) {
      for (const defects of [false, true]) {
        const mesh = testMesh(seed, defects);
        for (const boundary of ['smooth', 'fixed'] as const) {
          const fast = smoothGraph(mesh, boundary);
          const ref = referenceGraph(mesh, boundary);
          expect(fast.off).toEqual(ref.off);
          expect(fast.nbr).toEqual(ref.nbr);
        }
      }
    }
  });

  it('windowed sinc equals the step-by-step recurrence (all windows, orders, borders, clamps)', () => {
    const windows = ['nuttall', 'hamming', 'blackman', 'hanning'] as const;
    let n = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const mesh = testMesh(seed, seed % 2 === 0);
      const o = {
        iterations: [0, 1, 2, 3, 7, 20, 31, 50][seed - 1]!,
        passBand: [0.1, 0.01, 0.5, 1.5][seed % 4]!,
        window: windows[seed % 4]!,
        boundary: seed % 3 === 0 ? ('fixed' as const) : ('smooth' as const),
        maxDisplacementMm: seed % 4 === 1 ? 0.15 : undefined,
      };
      const fast = smoothWindowedSinc(mesh, o);
      const ref = referenceWindowedSinc(mesh, o);
      expect(sameBits(fast.positions, ref.positions)).toBe(true);
      expect(fast.indices).toEqual(mesh.indices);
      if (o.iterations > 0 && sameBits(fast.positions, mesh.positions) === false) n++;
    }
    expect(n).toBeGreaterThan(5); // the vertices really moved
  });
});

describe('windowed sinc on a ParallelRunner', () => {
  const mesh = testMesh(11, true);
  const o = { iterations: 20, passBand: 0.05 } as const;

  it('gives the same bits whatever the split and order of the vertex ranges', () => {
    const calls: string[] = [];
    // runs every range cut into pieces of 7 vertices, last piece first, on this thread
    const backwards: ParallelRunner = {
      threads: 3,
      shared: false,
      runSlabs(kernel, args, ranges) {
        calls.push(kernel);
        const fn = kernelFunction(kernel);
        const pieces: [number, number][] = [];
        for (const [s, e] of ranges) for (let p = s; p < e; p += 7) pieces.push([p, Math.min(e, p + 7)]);
        for (const [s, e] of pieces.reverse()) fn(args, s, e);
      },
    };
    for (const boundary of ['smooth', 'fixed'] as const) {
      calls.length = 0;
      const serial = smoothWindowedSinc(mesh, { ...o, boundary });
      const split = smoothWindowedSinc(mesh, { ...o, boundary, parallel: backwards });
      expect(sameBits(split.positions, serial.positions)).toBe(true);
      // the neighbour lists are built on the runner too (raw lists by vertex range, sorted, packed)
      expect(calls.slice(0, 5)).toEqual(['smooth.count', 'smooth.fill', 'smooth.lists', 'smooth.pack', 'sinc.first']);
      expect(calls.filter((c) => c === 'sinc.step').length).toBe(19);
    }
  });

  describe('on worker threads', () => {
    let parallel: WorkerRunner;
    beforeAll(async () => {
      parallel = await createWorkerRunner({ threads: 2 });
    });
    afterAll(async () => {
      await parallel?.close();
    });
    it('gives the same bits as one thread on a mesh big enough to be split', () => {
      const rnd = lcg(3);
      const size: [number, number, number] = [40, 36, 30];
      const grid = makeGrid({ size, spacing: [0.9, 0.9, 1.4], origin: [-60, 20, 300] });
      const data = Float32Array.from({ length: size[0] * size[1] * size[2] }, () => rnd() - 0.5);
      const big = marchingCubes(makeVolume({ grid, data }), { isoValue: 0, closeBoundary: true });
      expect(big.positions.length / 3).toBeGreaterThan(4 * 4096);
      for (const boundary of ['smooth', 'fixed'] as const) {
        const serial = smoothWindowedSinc(big, { ...o, boundary });
        const threaded = smoothWindowedSinc(big, { ...o, boundary, parallel });
        expect(sameBits(threaded.positions, serial.positions)).toBe(true);
      }
    });
  });
});

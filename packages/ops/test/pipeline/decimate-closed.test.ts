import { lpsFromIjkMatrix, type Mesh, makeGrid, voxelCount } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import {
  checkWatertight,
  cleanClosedMesh,
  compactMesh,
  decimateKeepingClosed,
  maskSurface,
  meshAccuracy,
  meshMetrics,
  modelAccuracy,
  removeCoincidentTriangles,
  smoothWindowedSinc,
  splitNonManifold,
} from '../../src/index.js';

/** Closed, outward unit cubes at integer offsets, each with its own 8 vertices, then merged by position. */
function cubes(offsets: readonly (readonly [number, number, number])[]): Mesh {
  const pos: number[] = [];
  const idx: number[] = [];
  const key = new Map<string, number>();
  const vert = (x: number, y: number, z: number) => {
    const k = `${x},${y},${z}`;
    let v = key.get(k);
    if (v === undefined) {
      v = pos.length / 3;
      key.set(k, v);
      pos.push(x, y, z);
    }
    return v;
  };
  // faces of the unit cube, counter-clockwise seen from outside
  const F = [
    [0, 2, 3, 1],
    [4, 5, 7, 6],
    [0, 1, 5, 4],
    [2, 6, 7, 3],
    [0, 4, 6, 2],
    [1, 3, 7, 5],
  ];
  for (const [ox, oy, oz] of offsets) {
    const c = (n: number) => vert(ox + (n & 1), oy + ((n >> 1) & 1), oz + ((n >> 2) & 1));
    for (const [a, b, cc, d] of F) idx.push(c(a!), c(b!), c(cc!), c(a!), c(cc!), c(d!));
  }
  return { positions: Float32Array.from(pos), indices: Uint32Array.from(idx) };
}

describe('splitNonManifold', () => {
  it('two cubes touching along one edge become a closed 2-manifold with the same geometry', async () => {
    const m = cubes([
      [0, 0, 0],
      [1, 1, 0],
    ]);
    const before = meshMetrics(m);
    expect(before.nonManifoldEdges).toBe(1);
    expect(before.closedManifold).toBe(false);
    const { mesh, added } = splitNonManifold(m);
    expect(added).toBe(2);
    const after = meshMetrics(mesh);
    expect(after.closedManifold).toBe(true);
    expect(after.volumeMm3).toBeCloseTo(2, 2);
    expect((await checkWatertight(mesh)).watertight).toBe(true);
    // the copies sit 1 micrometre inside their own cube: welding by position (as an STL reader
    // does) no longer merges them back into a non-manifold edge
    const soup = Float32Array.from([...mesh.indices].flatMap((v) => [...mesh.positions.subarray(3 * v, 3 * v + 3)]));
    const key = new Map<string, number>();
    const idx = [...Array(soup.length / 3).keys()].map((n) => {
      const k = `${soup[3 * n]},${soup[3 * n + 1]},${soup[3 * n + 2]}`;
      if (!key.has(k)) key.set(k, key.size);
      return key.get(k)!;
    });
    const pos = new Float32Array(3 * key.size);
    idx.forEach((v, n) => {
      pos.set(soup.subarray(3 * n, 3 * n + 3), 3 * v);
    });
    expect(meshMetrics({ positions: pos, indices: Uint32Array.from(idx) }).closedManifold).toBe(true);
  });

  it('a chain: cubes touching along a line of two edges (the fans must be paired, not just cut)', () => {
    // two 1x1x2 columns touching along the z edge x = y = 1, z in [0, 2]
    // (stacked cubes share a face twice, with opposite winding: remove those first)
    const m = removeCoincidentTriangles(
      cubes([
        [0, 0, 0],
        [0, 0, 1],
        [1, 1, 0],
        [1, 1, 1],
      ]),
    ).mesh;
    expect(meshMetrics(m).nonManifoldEdges).toBe(2);
    const { mesh } = splitNonManifold(m);
    const after = meshMetrics(mesh);
    expect(after.closedManifold).toBe(true);
    expect(after.boundaryEdges).toBe(0);
    expect(after.volumeMm3).toBeCloseTo(4, 2);
  });

  it('leaves a manifold mesh alone', () => {
    const m = cubes([[0, 0, 0]]);
    expect(splitNonManifold(m).added).toBe(0);
  });
});

describe('removeCoincidentTriangles and cleanClosedMesh', () => {
  const tri = new Float32Array([0, 0, 0, 1, 0, 0, 0, 1, 0, 5, 5, 5]);
  it('removes an opposite-winding pair entirely and a same-winding copy once', () => {
    const pair = removeCoincidentTriangles({ positions: tri, indices: new Uint32Array([0, 1, 2, 0, 2, 1]) });
    expect(pair.removed).toBe(2);
    expect(pair.mesh.indices.length).toBe(0);
    const copy = removeCoincidentTriangles({ positions: tri, indices: new Uint32Array([0, 1, 2, 1, 2, 0]) });
    expect(copy.removed).toBe(1);
    expect([...copy.mesh.indices]).toEqual([0, 1, 2]);
  });

  it('drops closed pieces below a volume and keeps the rest closed', () => {
    const big = cubes([
      [0, 0, 0],
      [1, 0, 0],
      [0, 1, 0],
      [1, 1, 0],
    ]);
    const small = cubes([[5, 5, 5]]);
    const both: Mesh = {
      positions: Float32Array.from([...big.positions, ...small.positions]),
      indices: Uint32Array.from([...big.indices, ...[...small.indices].map((v) => v + big.positions.length / 3)]),
    };
    const r = cleanClosedMesh(both, { minComponentVolumeMm3: 2 });
    expect(r.report.componentsRemoved).toBe(1);
    expect(r.report.componentsKept).toBe(1);
    const m = meshMetrics(r.mesh);
    expect(m.closedManifold).toBe(true);
    expect(m.volumeMm3).toBeCloseTo(4, 6);
    expect(m.vertices).toBe(r.mesh.positions.length / 3);
  });
});

describe('compactMesh', () => {
  it('regression: with every vertex used but first used out of order, the geometry is kept (it was scrambled)', () => {
    const m = cubes([[0, 0, 0]]);
    // reverse the vertex numbering: all used, first-use order differs from storage order
    const nv = m.positions.length / 3;
    const positions = new Float32Array(m.positions.length);
    for (let v = 0; v < nv; v++) positions.set(m.positions.subarray(3 * v, 3 * v + 3), 3 * (nv - 1 - v));
    const shuffled = { positions, indices: m.indices.map((v) => nv - 1 - v) };
    const c = compactMesh(shuffled);
    const a = meshMetrics(c);
    expect(a.closedManifold).toBe(true);
    expect(a.volumeMm3).toBeCloseTo(1, 9);
    expect(a.bbox).toEqual({ min: [0, 0, 0], max: [1, 1, 1] });
    // and unused vertices are dropped
    const extra = { positions: Float32Array.from([...positions, 9, 9, 9]), indices: shuffled.indices };
    expect(compactMesh(extra).positions.length).toBe(3 * nv);
  });
});

describe('decimateKeepingClosed and modelAccuracy on a sphere', () => {
  const grid = makeGrid({
    size: [40, 44, 36],
    spacing: [0.8, 0.9, 1.1],
    origin: [3, -7, 11],
    direction: [
      [0.8, 0.6, 0],
      [-0.6, 0.8, 0],
      [0, 0, -1],
    ],
  });
  const M = lpsFromIjkMatrix(grid);
  const centre = [3 + 0.8 * 16 - 0.6 * 0.9 * 20, -7 + 0.6 * 0.8 * 16 + 0.8 * 0.9 * 20, 11 - 1.1 * 17];
  const mask = new Uint8Array(voxelCount(grid));
  let p = 0;
  for (let k = 0; k < 36; k++)
    for (let j = 0; j < 44; j++)
      for (let i = 0; i < 40; i++, p++) {
        const x = M[0]! * i + M[1]! * j + M[2]! * k + M[3]! - centre[0]!;
        const y = M[4]! * i + M[5]! * j + M[6]! * k + M[7]! - centre[1]!;
        const z = M[8]! * i + M[9]! * j + M[10]! * k + M[11]! - centre[2]!;
        mask[p] = x * x + y * y + z * z <= 12 * 12 ? 1 : 0;
      }
  const raw = maskSurface(mask, grid);
  const smooth = smoothWindowedSinc(raw);

  it('decimates to the asked ratio and stays closed', async () => {
    for (const ratio of [0.05, 0.1, 0.3]) {
      const r = await decimateKeepingClosed(smooth, { targetRatio: ratio });
      const m = meshMetrics(r.mesh);
      expect(m.closedManifold).toBe(true);
      expect(m.triangles).toBeLessThanOrEqual(Math.ceil((smooth.indices.length / 3) * ratio) + 2);
      expect(m.vertices).toBe(r.mesh.positions.length / 3);
      expect(Math.abs(m.volumeMm3 - meshMetrics(smooth).volumeMm3) / m.volumeMm3).toBeLessThan(0.02);
    }
  });

  it('modelAccuracy with every point equals meshAccuracy (independent implementations of the same definitions)', async () => {
    const dec = (await decimateKeepingClosed(smooth, { targetRatio: 0.2 })).mesh;
    const ours = modelAccuracy(dec, mask, grid, { referenceMesh: raw });
    const ref = meshAccuracy(dec, mask, grid, { referenceMesh: raw });
    expect(ours.exhaustive).toBe(true);
    expect(ours.dice).toBe(ref.dice);
    expect(ours.distance.samples).toBe(ref.distance.samples);
    expect(ours.distance.meanMm).toBeCloseTo(ref.distance.meanMm, 6);
    expect(ours.distance.p95Mm).toBeCloseTo(ref.distance.p95Mm, 6);
    expect(ours.distance.maxMm).toBeCloseTo(ref.distance.maxMm, 6);
    expect(ours.volumeChangePercent!).toBeCloseTo(ref.volumeChangePercent!, 9);
    // strided sampling stays close
    const sampled = modelAccuracy(dec, mask, grid, { referenceMesh: raw, maxSamples: 500 });
    expect(sampled.exhaustive).toBe(false);
    expect(sampled.distance.samples).toBeLessThanOrEqual(1000);
    expect(Math.abs(sampled.distance.meanMm - ref.distance.meanMm)).toBeLessThan(0.05);
  });

  it('a shifted mesh shows up as distance (the measure can fail)', () => {
    const shifted = { ...smooth, positions: smooth.positions.map((x, n) => (n % 3 === 0 ? x + 2 : x)) };
    const a = modelAccuracy(shifted, mask, grid);
    expect(a.dice).toBeLessThan(0.9);
    expect(a.distance.p95Mm).toBeGreaterThan(1.5);
  });
});

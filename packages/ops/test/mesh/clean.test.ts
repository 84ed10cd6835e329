import { type Mesh, makeGrid, makeVolume } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { cleanMesh } from '../../src/mesh/clean.js';
import { meshMetrics } from '../../src/mesh/metrics.js';
import { weld } from '../../src/mesh/weld.js';
import { removeCoincidentTriangles } from '../../src/pipeline/clean-closed.js';
import { marchingCubes } from '../../src/surface/marching-cubes.js';

/** Two 2 mm cubes side by side along x, each closed and outward, sharing the face x = 2 (coincident, opposite winding). */
function touchingCubes(): Mesh {
  const positions = new Float32Array(3 * 12);
  for (let z = 0; z < 2; z++)
    for (let y = 0; y < 2; y++)
      for (let x = 0; x < 3; x++) positions.set([2 * x, 2 * y, 2 * z], 3 * (x + 3 * (y + 2 * z)));
  const corners = [
    [0, 0, 0],
    [1, 0, 0],
    [1, 1, 0],
    [0, 1, 0],
    [0, 0, 1],
    [1, 0, 1],
    [1, 1, 1],
    [0, 1, 1],
  ];
  const quads = [
    [0, 3, 2, 1],
    [4, 5, 6, 7],
    [0, 1, 5, 4],
    [2, 3, 7, 6],
    [1, 2, 6, 5],
    [0, 4, 7, 3],
  ];
  const idx: number[] = [];
  for (const x0 of [0, 1]) {
    const v = (c: number) => {
      const [x, y, z] = corners[c]!;
      return x! + x0 + 3 * (y! + 2 * z!);
    };
    for (const [a, b, c, d] of quads) idx.push(v(a!), v(b!), v(c!), v(a!), v(c!), v(d!));
  }
  return { positions, indices: Uint32Array.from(idx) };
}

/** ~286k-triangle marching-cubes surface of 4000 separate closed blobs (the case that was quadratic). */
function manyBlobs(): Mesh {
  const n = 68;
  const grid = makeGrid({ size: [n, n, n] });
  const d = new Float32Array(n * n * n);
  for (let k = 0; k < n; k++)
    for (let j = 0; j < n; j++)
      for (let i = 0; i < n; i++)
        d[i + n * (j + n * k)] = Math.sin(i * 0.9) * Math.sin(j * 0.9) * Math.sin(k * 0.9) - 0.3;
  return marchingCubes(makeVolume({ grid, data: d }), { isoValue: 0, closeBoundary: true });
}

describe('cleanMesh coincident faces', () => {
  it('regression: cleanMesh removes both faces of an opposite-wound coincident pair and keeps the surface closed', () => {
    const two = touchingCubes();
    const before = meshMetrics(two);
    expect(before.closedManifold).toBe(false); // the shared face's edges have 4 triangles
    const { mesh, report } = cleanMesh(two);
    expect(report.duplicatesRemoved).toBe(4); // both copies of both triangles of the shared face
    const m = meshMetrics(mesh);
    expect(m.closedManifold).toBe(true);
    expect(m.boundaryEdges).toBe(0);
    expect(m.volumeMm3).toBeCloseTo(16, 6);
    // the same rule as the closed-mesh pipeline (one shared implementation)
    expect(removeCoincidentTriangles(two).removed).toBe(report.duplicatesRemoved);
    // a same-winding copy still goes alone (the first one stays)
    const c = touchingCubes();
    const one = { positions: c.positions, indices: c.indices.subarray(0, 36) };
    const dup = { ...one, indices: Uint32Array.from([...one.indices, ...one.indices.subarray(3, 6)]) };
    const r = cleanMesh(dup);
    expect(r.report.duplicatesRemoved).toBe(1);
    expect(meshMetrics(r.mesh)).toMatchObject({ closedManifold: true, triangles: 12 });
  });
});

describe('cleanMesh / weld scale (regression: cleanMesh took ~60 s on 275k triangles)', () => {
  const blobs = manyBlobs();
  it('orients and cleans a 286k-triangle, 4000-component marching-cubes surface and keeps it closed', () => {
    expect(blobs.indices.length / 3).toBeGreaterThan(280_000);
    const before = meshMetrics(blobs);
    // flip every other triangle: the winding must come back consistent and outward
    const I = blobs.indices.slice();
    for (let t = 0; t < I.length; t += 3 * 2) [I[t + 1], I[t + 2]] = [I[t + 2]!, I[t + 1]!];
    const { mesh } = cleanMesh({ ...blobs, indices: I });
    const m = meshMetrics(mesh);
    expect(m.closedManifold).toBe(true);
    expect(m.components).toBe(before.components);
    expect(before.components).toBe(4000);
    expect(m.volumeMm3 / before.volumeMm3).toBeCloseTo(1, 6);
  }, 20_000);
  it('welds the triangle soup of that surface back to the same vertices (exact and with a tolerance)', () => {
    const I = blobs.indices;
    const soup = {
      positions: new Float32Array(3 * I.length),
      indices: Uint32Array.from({ length: I.length }, (_, n) => n),
    };
    I.forEach((v, n) => {
      soup.positions.set(blobs.positions.subarray(3 * v, 3 * v + 3), 3 * n);
    });
    const w = weld(soup);
    expect(w.positions.length).toBe(blobs.positions.length);
    expect(meshMetrics(w).closedManifold).toBe(true);
    const wt = weld(soup, { toleranceMm: 1e-3 });
    expect(meshMetrics(wt).boundaryEdges).toBe(0);
    // -0 and 0 are the same position
    const z = weld({
      positions: new Float32Array([0, 0, 0, -0, 0, 0, 1, 0, 0, 0, 1, 0]),
      indices: Uint32Array.from([0, 2, 3, 1, 3, 2]),
    });
    expect(z.positions.length).toBe(9);
  }, 20_000);
});

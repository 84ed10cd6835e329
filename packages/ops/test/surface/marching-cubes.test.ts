import { isLeftHanded, makeGrid, makeVolume } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { itData } from '../../../../test-utils/shared-data.js';
import { vertexToMeshDistances } from '../../src/mesh/distance.js';
import { meshMetrics } from '../../src/mesh/metrics.js';
import { smoothWindowedSinc, WINDOWED_SINC_DEFAULTS } from '../../src/mesh/smooth-windowed-sinc.js';
import { checkWatertight } from '../../src/mesh/watertight-check.js';
import { marchingCubes } from '../../src/surface/marching-cubes.js';
import { MC_TABLE } from '../../src/surface/mc-table.js';
import { headsqReference, readHeadsq } from './headsq.js';
import { CENTRE, maxSurfaceError, sampleShape, shell, sphere, testGrids, torus } from './phantoms.js';

const shapes = [sphere(CENTRE, 14), torus(CENTRE, 10, 4, [0.3, 0.5, 0.8]), shell(CENTRE, 8, 15)];

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

describe('marching-cubes case table', () => {
  it('has triangles for every mixed case and none for the empty / full cube', () => {
    expect(MC_TABLE.start[1]).toBe(0); // case 0 has no triangles
    expect(MC_TABLE.start[256]! - MC_TABLE.start[255]!).toBe(0);
    for (let c = 1; c < 255; c++) expect(MC_TABLE.start[c + 1]! - MC_TABLE.start[c]!).toBeGreaterThan(0);
  });

  // Regression: with plain fan triangulation, a fan diagonal could join two vertices on an
  // ambiguous face and coincide with the neighbouring cube's diagonal (4 triangles on one edge).
  it('gives a closed, consistently oriented 2-manifold on random noise (every ambiguous case occurs)', () => {
    const rnd = lcg(7);
    for (let trial = 0; trial < 4; trial++) {
      const grid = makeGrid({ size: [18, 15, 13] });
      const data = Float32Array.from({ length: 18 * 15 * 13 }, () => rnd() - 0.5);
      const m = meshMetrics(marchingCubes(makeVolume({ grid, data }), { isoValue: 0, closeBoundary: true }));
      expect(m.triangles).toBeGreaterThan(5000);
      expect(m.boundaryEdges).toBe(0);
      expect(m.nonManifoldEdges).toBe(0);
      expect(m.inconsistentEdges).toBe(0);
      expect(m.volumeMm3).toBeGreaterThan(0);
    }
  });
});

describe('marching cubes on analytic phantoms (signed distance, iso 0)', () => {
  for (const { name, grid } of testGrids(20, 1)) {
    const minSpacing = Math.min(...grid.spacing);
    for (const shape of shapes) {
      it(`${shape.name} on a ${name} grid: closed manifold, right topology, outward, accurate`, () => {
        const mesh = marchingCubes(sampleShape(shape, grid), { isoValue: 0 });
        const m = meshMetrics(mesh);
        expect(m.closedManifold).toBe(true);
        expect(m.boundaryEdges).toBe(0);
        expect(m.nonManifoldEdges).toBe(0);
        expect(m.eulerCharacteristic).toBe(shape.euler);
        expect(m.components).toBe(shape.parts);
        expect(m.volumeMm3).toBeGreaterThan(0); // outward normals, also on the left-handed grid
        expect(Math.abs(m.volumeMm3 / shape.volume - 1)).toBeLessThan(0.01);
        expect(maxSurfaceError(mesh, shape)).toBeLessThan(0.5 * minSpacing);
        // default smoothing: windowed sinc, 20 iterations, pass band 0.1, Nuttall window
        const smooth = smoothWindowedSinc(mesh);
        const s = meshMetrics(smooth);
        expect(s.closedManifold).toBe(true);
        expect(Math.abs(s.volumeMm3 / shape.volume - 1)).toBeLessThan(0.01);
        expect(maxSurfaceError(smooth, shape)).toBeLessThan(0.5 * minSpacing);
      });
    }
  }

  it('the left-handed test grid really is left-handed, and its triangles are flipped', () => {
    const lh = testGrids(20, 1).find((g) => g.name.startsWith('left'))!.grid;
    expect(isLeftHanded(lh)).toBe(true);
  });

  it('is accepted as watertight by manifold-3d (independent check), with the same volume', async () => {
    for (const { grid } of testGrids(20, 1).slice(2)) {
      const mesh = marchingCubes(sampleShape(shapes[1]!, grid), { isoValue: 0 });
      const w = await checkWatertight(mesh);
      expect(w.watertight).toBe(true);
      expect(w.genus).toBe(1);
      expect(w.volumeMm3! / meshMetrics(mesh).volumeMm3).toBeCloseTo(1, 4);
    }
  });
  it('default smoothing is windowed sinc with 20 iterations', () => {
    expect(WINDOWED_SINC_DEFAULTS.iterations).toBe(20);
  });
});

describe('marching cubes options', () => {
  const grid = makeGrid({ size: [20, 20, 20], spacing: [1, 1, 1] });
  // a box touching the x = 0 border: voxels with i <= 5 and 5 <= j, k <= 14
  const data = new Int16Array(8000);
  for (let k = 5; k <= 14; k++)
    for (let j = 5; j <= 14; j++) for (let i = 0; i <= 5; i++) data[(k * 20 + j) * 20 + i] = 100;
  const vol = makeVolume({ grid, data, units: 'HU' });

  it('leaves a surface open at the volume border by default (like VTK) and closes it with closeBoundary', () => {
    const open = meshMetrics(marchingCubes(vol, { isoValue: 50 }));
    expect(open.boundaryEdges).toBeGreaterThan(0);
    const closed = meshMetrics(marchingCubes(vol, { isoValue: 50, closeBoundary: true, outsideValue: 0 }));
    expect(closed.closedManifold).toBe(true);
    // box 6.5 x 10 x 10 voxels -> the cap lies half way to the padding: volume = 6 x 10 x 10 (+ the corner bevels)
    expect(closed.bbox.min[0]).toBeCloseTo(-0.5, 5);
    expect(closed.bbox.max[0]).toBeCloseTo(5.5, 5);
  });

  it('places vertices at the interpolated crossing (iso 50 between 0 and 100 is half way)', () => {
    const m = meshMetrics(marchingCubes(vol, { isoValue: 50, closeBoundary: true, outsideValue: 0 }));
    expect(m.bbox.min[1]).toBeCloseTo(4.5, 5);
    expect(m.bbox.max[2]).toBeCloseTo(14.5, 5);
    const q = meshMetrics(marchingCubes(vol, { isoValue: 25, closeBoundary: true, outsideValue: 0 }));
    expect(q.bbox.min[1]).toBeCloseTo(4.25, 5);
  });

  it('restricts extraction to an ROI and to a mask', () => {
    const roi = meshMetrics(
      marchingCubes(vol, { isoValue: 50, roi: { min: [0, 0, 0], max: [19, 19, 9] }, closeBoundary: true }),
    );
    expect(roi.closedManifold).toBe(true);
    expect(roi.bbox.max[2]).toBeLessThanOrEqual(9.5 + 1e-6);
    const mask = new Uint8Array(8000);
    for (let n = 0; n < 8000; n++) mask[n] = n % 20 <= 2 ? 1 : 0; // keep i <= 2
    const masked = meshMetrics(marchingCubes(vol, { isoValue: 50, mask, closeBoundary: true, outsideValue: 0 }));
    expect(masked.closedManifold).toBe(true);
    expect(masked.bbox.max[0]).toBeCloseTo(2.5, 5);
  });

  it('puts vertices in LPS through the grid (origin, spacing, direction)', () => {
    const g2 = makeGrid({
      size: [20, 20, 20],
      spacing: [0.5, 2, 3],
      origin: [100, -50, 7],
      direction: [
        [-1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
    });
    const m = meshMetrics(marchingCubes({ ...vol, grid: g2 }, { isoValue: 50, closeBoundary: true, outsideValue: 0 }));
    expect(m.outward).toBe(true); // direction det < 0: winding was flipped
    expect(m.bbox.max[0]).toBeCloseTo(100 + 0.25, 4); // i = -0.5 -> x = 100 + 0.25
    expect(m.bbox.min[0]).toBeCloseTo(100 - 5.5 * 0.5, 4);
    expect(m.bbox.min[1]).toBeCloseTo(-50 + 4.5 * 2, 4);
    expect(m.bbox.min[2]).toBeCloseTo(7 + 4.5 * 3, 4);
  });

  it('rejects bad input with clear errors and honours abort', () => {
    expect(() => marchingCubes(vol, { isoValue: Number.NaN })).toThrow(/isoValue/);
    expect(() => marchingCubes(vol, { isoValue: 1, mask: new Uint8Array(3) })).toThrow(/mask has 3 voxels/);
    expect(() => marchingCubes(vol, { isoValue: 1, roi: { min: [0, 0, 0], max: [20, 1, 1] } })).toThrow(/roi/);
    expect(() => marchingCubes({ ...vol, components: 3, data: new Int16Array(24000) }, { isoValue: 1 })).toThrow(
      /scalar volume/,
    );
    expect(() => marchingCubes(vol, { isoValue: 50, signal: { aborted: true } })).toThrow(/cancelled/);
    const tiny = makeVolume({ grid: makeGrid({ size: [1, 5, 5] }), data: new Float32Array(25) });
    expect(marchingCubes(tiny, { isoValue: 0.5 }).indices.length).toBe(0);
  });

  it('reports progress', () => {
    const seen: number[] = [];
    marchingCubes(vol, { isoValue: 50, onProgress: (p) => seen.push(p.done) });
    expect(seen.at(-1)).toBe(19);
  });
});

describe('marching cubes vs VTK on the headsq CT', () => {
  // Our grid for headsq has identity direction, spacing 3.2/3.2/1.5 and origin 0, so our LPS
  // coordinates equal VTK's image coordinates (x = i*3.2, y = j*3.2, z = k*1.5) — the frame of the
  // reference STLs, which were NOT converted to LPS. The comparison is therefore direct.
  for (const [which, iso] of [
    ['skin', 500],
    ['bone', 1150],
  ] as const) {
    itData(`${which} at ${iso}: within 0.1 mm of vtkFlyingEdges3D both ways, same counts and area`, () => {
      const mesh = marchingCubes(readHeadsq(), { isoValue: iso });
      const ref = headsqReference(which);
      const m = meshMetrics(mesh);
      const mean = (a: Float64Array) => a.reduce((s, x) => s + x, 0) / a.length;
      expect(mean(vertexToMeshDistances(mesh, ref.mesh))).toBeLessThan(0.1);
      expect(mean(vertexToMeshDistances(ref.mesh, mesh))).toBeLessThan(0.1);
      expect(Math.abs(m.triangles / ref.stats.triangles! - 1)).toBeLessThan(0.01);
      expect(Math.abs(m.vertices / ref.stats.points! - 1)).toBeLessThan(0.01);
      expect(Math.abs(m.areaMm2 / ref.stats.surface_area_mm2! - 1)).toBeLessThan(0.005);
      expect(m.boundaryEdges + m.nonManifoldEdges).toBe(ref.stats.boundary_or_nonmanifold_edges);
      expect(m.components).toBe(ref.stats.connected_regions);
      const b = (ref.stats as unknown as { bounds_mm: number[] }).bounds_mm;
      for (let a = 0; a < 3; a++) {
        expect(m.bbox.min[a]).toBeCloseTo(b[2 * a]!, 2);
        expect(m.bbox.max[a]).toBeCloseTo(b[2 * a + 1]!, 2);
      }
    });
  }
});

import { makeGrid } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { maskBoundaryMesh, meshAccuracy } from '../../src/mesh/accuracy.js';
import { MeshDistanceIndex } from '../../src/mesh/distance.js';
import { meshMetrics } from '../../src/mesh/metrics.js';
import { smoothWindowedSinc } from '../../src/mesh/smooth-windowed-sinc.js';
import { checkWatertight } from '../../src/mesh/watertight-check.js';
import { ANTIALIAS_MASK_DEFAULTS, antialiasMask, maskSurface } from '../../src/surface/antialias-mask.js';
import { CENTRE, maskShape, maxSurfaceError, shell, sphere, testGrids, torus } from './phantoms.js';

describe('anti-aliased mask surfaces', () => {
  for (const { name, grid } of testGrids(20, 1)) {
    for (const shape of [sphere(CENTRE, 14), torus(CENTRE, 10, 4, [0.3, 0.5, 0.8]), shell(CENTRE, 8, 15)]) {
      it(`${shape.name} on a ${name} grid: closed 2-manifold, every vertex within half a voxel of the mask boundary`, async () => {
        const mask = maskShape(shape, grid);
        const mesh = maskSurface(mask, grid);
        const m = meshMetrics(mesh);
        expect(m.closedManifold).toBe(true);
        expect(m.eulerCharacteristic).toBe(shape.euler);
        expect(m.outward).toBe(true);
        expect((await checkWatertight(mesh)).watertight).toBe(true);
        // the guarantee: distance to the voxel-face surface of the mask <= half the spacing
        const boundary = new MeshDistanceIndex(maskBoundaryMesh(mask, grid));
        const half = 0.5 * Math.max(...grid.spacing) + 1e-4;
        for (let v = 0; v < mesh.positions.length; v += 3) {
          expect(
            boundary.distance(mesh.positions[v]!, mesh.positions[v + 1]!, mesh.positions[v + 2]!),
          ).toBeLessThanOrEqual(half);
        }
        // after the default smoothing: close to the true shape (the mask itself is quantized)
        const smooth = smoothWindowedSinc(mesh);
        expect(Math.abs(meshMetrics(smooth).volumeMm3 / shape.volume - 1)).toBeLessThan(0.015);
        expect(maxSurfaceError(smooth, shape)).toBeLessThan(0.65 * Math.max(...grid.spacing));
        const acc = meshAccuracy(smooth, mask, grid, { referenceMesh: mesh });
        expect(acc.dice).toBeGreaterThan(0.97);
        expect(acc.distance.meanMm).toBeLessThan(0.35 * Math.max(...grid.spacing));
        expect(Math.abs(acc.volumeChangePercent!)).toBeLessThan(0.5);
      });
    }
  }

  it('keeps thin structures that a plain blur would erase (a 1-voxel line)', () => {
    const grid = makeGrid({ size: [9, 9, 20], spacing: [0.5, 0.5, 1] });
    const mask = new Uint8Array(9 * 9 * 20);
    for (let k = 2; k < 18; k++) mask[(k * 9 + 4) * 9 + 4] = 1;
    const vol = antialiasMask(mask, grid, { sigmaVoxels: 2 });
    expect(vol.data[(10 * 9 + 4) * 9 + 4]).toBeGreaterThan(0.5);
    const m = meshMetrics(maskSurface(mask, grid, { sigmaVoxels: 2 }));
    expect(m.closedManifold).toBe(true);
    expect(m.components).toBe(1);
    expect(m.bbox.max[2]! - m.bbox.min[2]!).toBeGreaterThan(15);
  });

  it('validates options', () => {
    const grid = makeGrid({ size: [3, 3, 3] });
    expect(() => antialiasMask(new Uint8Array(5), grid)).toThrow(/mask has 5 voxels/);
    expect(() => antialiasMask(new Uint8Array(27), grid, { margin: 0.6 })).toThrow(/margin/);
    expect(ANTIALIAS_MASK_DEFAULTS.sigmaVoxels).toBe(0.5);
  });
});

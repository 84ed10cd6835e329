import { it } from 'vitest';
import { type Grid, makeGrid, makeVolume, lpsFromIjkMatrix, voxelCount, type Vec3, type Volume } from '@slice2solid/core';
import { buildModel, meshMetrics, decimate, maskSurface, smoothWindowedSinc, checkWatertight, weld } from '../../src/index.js';
/** An oblique (rotated about a tilted axis), anisotropic, LEFT-HANDED grid. */
function obliqueLeftHandedGrid(size: Vec3, spacing: Vec3, origin: Vec3): Grid {
  const a = 0.5;
  const b = 0.3;
  // rotation about z by a, then about x by b
  const rz = [
    [Math.cos(a), -Math.sin(a), 0],
    [Math.sin(a), Math.cos(a), 0],
    [0, 0, 1],
  ];
  const rx = [
    [1, 0, 0],
    [0, Math.cos(b), -Math.sin(b)],
    [0, Math.sin(b), Math.cos(b)],
  ];
  const col = (m: number[][], c: number) => [m[0]![c]!, m[1]![c]!, m[2]![c]!];
  const mul = (m: number[][], v: number[]) => [0, 1, 2].map((r) => m[r]![0]! * v[0]! + m[r]![1]! * v[1]! + m[r]![2]! * v[2]!);
  const d0 = mul(rx, col(rz, 0));
  const d1 = mul(rx, col(rz, 1));
  const d2 = mul(rx, col(rz, 2)).map((x) => -x); // flip: left-handed
  return makeGrid({ size, spacing, origin, direction: [d0, d1, d2] });
}

/** A CT-like volume (HU): +1000 inside the sphere (voxel centre inside), -1000 outside. */
function sphereVolume(grid: Grid, centre: Vec3, radius: number): Volume {
  const M = lpsFromIjkMatrix(grid);
  const [nx, ny, nz] = grid.size;
  const data = new Int16Array(voxelCount(grid));
  let p = 0;
  for (let k = 0; k < nz; k++)
    for (let j = 0; j < ny; j++)
      for (let i = 0; i < nx; i++, p++) {
        const x = M[0]! * i + M[1]! * j + M[2]! * k + M[3]! - centre[0];
        const y = M[4]! * i + M[5]! * j + M[6]! * k + M[7]! - centre[1];
        const z = M[8]! * i + M[9]! * j + M[10]! * k + M[11]! - centre[2];
        data[p] = x * x + y * y + z * z <= radius * radius ? 1000 : -1000;
      }
  return makeVolume({ grid, data, units: 'HU' });
}

const GRID = obliqueLeftHandedGrid([56, 52, 44], [0.9, 1.0, 1.2], [-30, -20, -25]);
// a centre well away from the grid centre, so a mirrored or shifted model would show
const CENTRE: Vec3 = (() => {
  const M = lpsFromIjkMatrix(GRID);
  const ijk = [30, 24, 20];
  return [0, 1, 2].map((r) => M[4 * r]! * ijk[0]! + M[4 * r + 1]! * ijk[1]! + M[4 * r + 2]! * ijk[2]! + M[4 * r + 3]!) as unknown as Vec3;
})();
const R = 15;
const SPHERE = sphereVolume(GRID, CENTRE, R);
const ANALYTIC = (4 / 3) * Math.PI * R ** 3;


it('dbg', async () => {
  for (const ratio of [0.1, 0.2, 0.5]) {
    const r = await buildModel(SPHERE, { segment: { preset: 'bone' }, decimate: ratio, watertight: true, accuracy: false });
    const m = meshMetrics(r.mesh);
    console.log(ratio, JSON.stringify(r.metrics.perStructure[0]), m.boundaryEdges, m.nonManifoldEdges, m.degenerateTriangles, m.components, m.eulerCharacteristic);
  }
});

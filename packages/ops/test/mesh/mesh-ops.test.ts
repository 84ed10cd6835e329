import { type Mesh, makeGrid, makeVolume } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { maskBoundaryMesh, meshAccuracy, voxelizeMesh } from '../../src/mesh/accuracy.js';
import { cleanMesh } from '../../src/mesh/clean.js';
import { decimate } from '../../src/mesh/decimate.js';
import { vertexToMeshDistances } from '../../src/mesh/distance.js';
import { meshMetrics } from '../../src/mesh/metrics.js';
import { smoothLaplacian } from '../../src/mesh/smooth-laplacian.js';
import { smoothTaubin } from '../../src/mesh/smooth-taubin.js';
import { smoothWindowedSinc } from '../../src/mesh/smooth-windowed-sinc.js';
import { checkWatertight } from '../../src/mesh/watertight-check.js';
import { weld } from '../../src/mesh/weld.js';
import { marchingCubes } from '../../src/surface/marching-cubes.js';
import { CENTRE, maskShape, sampleShape, shell, sphere, testGrids, torus } from '../surface/phantoms.js';

/** Unit cube [0,2]^3 (8 vertices, 12 triangles, outward). */
function cube(): Mesh {
  const positions = new Float32Array([0, 0, 0, 2, 0, 0, 2, 2, 0, 0, 2, 0, 0, 0, 2, 2, 0, 2, 2, 2, 2, 0, 2, 2]);
  const quads = [
    [0, 3, 2, 1],
    [4, 5, 6, 7],
    [0, 1, 5, 4],
    [2, 3, 7, 6],
    [1, 2, 6, 5],
    [0, 4, 7, 3],
  ];
  const indices = Uint32Array.from(quads.flatMap(([a, b, c, d]) => [a!, b!, c!, a!, c!, d!]));
  return { positions, indices };
}

const grid = testGrids(20, 1)[2]!.grid; // oblique
const sph = sphere(CENTRE, 14);
const sphereMesh = marchingCubes(sampleShape(sph, grid), { isoValue: 0 });

describe('mesh metrics', () => {
  it('measures a cube exactly', () => {
    const m = meshMetrics(cube());
    expect(m.volumeMm3).toBeCloseTo(8, 10);
    expect(m.volumeMl).toBeCloseTo(0.008, 10);
    expect(m.areaMm2).toBeCloseTo(24, 10);
    expect(m).toMatchObject({
      vertices: 8,
      triangles: 12,
      edges: 18,
      eulerCharacteristic: 2,
      components: 1,
      boundaryEdges: 0,
    });
    expect(m).toMatchObject({ nonManifoldEdges: 0, inconsistentEdges: 0, closedManifold: true, outward: true });
    expect(m.bbox).toEqual({ min: [0, 0, 0], max: [2, 2, 2] });
  });
  it('flags holes, flipped triangles, non-manifold edges and inward winding', () => {
    const c = cube();
    const open = meshMetrics({ ...c, indices: c.indices.subarray(0, 30) });
    expect(open.boundaryEdges).toBe(4);
    expect(open.closedManifold).toBe(false);
    const flipped = c.indices.slice();
    [flipped[1], flipped[2]] = [flipped[2]!, flipped[1]!];
    expect(meshMetrics({ ...c, indices: flipped }).inconsistentEdges).toBe(3);
    const inward = Uint32Array.from(c.indices, (_, n) => c.indices[n - (n % 3) + [0, 2, 1][n % 3]!]!);
    const mi = meshMetrics({ ...c, indices: inward });
    expect(mi.closedManifold).toBe(true);
    expect(mi.outward).toBe(false);
    const twice = meshMetrics({ ...c, indices: Uint32Array.from([...c.indices, 0, 1, 2]) });
    expect(twice.nonManifoldEdges).toBeGreaterThan(0);
    expect(() => meshMetrics({ positions: new Float32Array(3), indices: new Uint32Array([0, 1, 2]) })).toThrow(
      /only 1/,
    );
  });
});

describe('smoothing', () => {
  const volume = sph.volume;
  it('Laplacian shrinks, Taubin and windowed sinc keep the volume (within 1%)', () => {
    const lap = meshMetrics(smoothLaplacian(sphereMesh, { iterations: 50, relaxation: 0.5 })).volumeMm3;
    expect(lap / volume).toBeLessThan(0.97);
    expect(Math.abs(meshMetrics(smoothTaubin(sphereMesh)).volumeMm3 / volume - 1)).toBeLessThan(0.01);
    expect(Math.abs(meshMetrics(smoothWindowedSinc(sphereMesh)).volumeMm3 / volume - 1)).toBeLessThan(0.01);
  });
  it('windowed sinc removes a staircase (binary mask surface) while keeping its size', () => {
    const stair = marchingCubes(makeVolume({ grid, data: Float32Array.from(maskShape(sph, grid)) }), { isoValue: 0.5 });
    const smooth = smoothWindowedSinc(stair);
    const rms = (m: Mesh) =>
      Math.sqrt(
        Array.from(
          { length: m.positions.length / 3 },
          (_, v) => sph.sdf(m.positions[3 * v]!, m.positions[3 * v + 1]!, m.positions[3 * v + 2]!) ** 2,
        ).reduce((a, b) => a + b) /
          (m.positions.length / 3),
      );
    expect(rms(smooth)).toBeLessThan(0.7 * rms(stair));
    expect(Math.abs(meshMetrics(smooth).volumeMm3 / meshMetrics(stair).volumeMm3 - 1)).toBeLessThan(0.005);
  });
  it('never moves a vertex further than maxDisplacementMm', () => {
    for (const f of [smoothLaplacian, smoothTaubin, smoothWindowedSinc]) {
      const out = f(sphereMesh, { iterations: 30, maxDisplacementMm: 0.05 });
      const P = sphereMesh.positions;
      let worst = 0;
      for (let n = 0; n < P.length; n += 3)
        worst = Math.max(
          worst,
          Math.hypot(out.positions[n]! - P[n]!, out.positions[n + 1]! - P[n + 1]!, out.positions[n + 2]! - P[n + 2]!),
        );
      expect(worst).toBeLessThanOrEqual(0.05 + 1e-5);
      expect(worst).toBeGreaterThan(0.01);
    }
  });
  it('keeps open borders fixed with boundary: fixed, and moves them along the rim with smooth', () => {
    const c = cube();
    const open = { ...c, indices: c.indices.subarray(6) }; // bottom face removed
    const fixed = smoothWindowedSinc(open, { boundary: 'fixed' });
    for (const v of [0, 1, 2, 3])
      for (let r = 0; r < 3; r++) expect(fixed.positions[3 * v + r]).toBe(open.positions[3 * v + r]);
    expect(() => smoothWindowedSinc(open, { passBand: 3 })).toThrow(/passBand/);
    expect(() => smoothTaubin(open, { mu: -0.1 })).toThrow(/mu/);
    expect(() => smoothLaplacian(open, { iterations: -1 })).toThrow(/iterations/);
    expect(() => smoothWindowedSinc(open, { signal: { aborted: true } })).toThrow(/cancelled/);
  });
});

describe('decimation (meshoptimizer)', () => {
  it('reaches a target ratio and stays close to the surface', async () => {
    const { mesh, errorMm } = await decimate(sphereMesh, { targetRatio: 0.1 });
    const before = meshMetrics(sphereMesh);
    const after = meshMetrics(mesh);
    expect(after.triangles).toBeLessThanOrEqual(Math.ceil(before.triangles * 0.1) + 3);
    expect(after.triangles).toBeGreaterThan(before.triangles * 0.05);
    expect(after.closedManifold).toBe(true);
    expect(Math.abs(after.volumeMm3 / before.volumeMm3 - 1)).toBeLessThan(0.02);
    const d = vertexToMeshDistances(sphereMesh, mesh);
    expect(Math.max(...d)).toBeLessThan(Math.max(0.5, 3 * errorMm));
  });
  it('respects a maximum error in mm', async () => {
    const { mesh, errorMm } = await decimate(sphereMesh, { maxErrorMm: 0.05 });
    expect(errorMm).toBeLessThanOrEqual(0.05);
    expect(mesh.indices.length).toBeLessThan(sphereMesh.indices.length);
    const d = vertexToMeshDistances(sphereMesh, mesh);
    expect(Math.max(...d)).toBeLessThan(0.1);
  });
  it('keeps the interfaces of multi-structure meshes identical (locked shared vertices)', async () => {
    const c = cube();
    // two cubes sharing the face x = 2: group 1 = left cube, group 2 = right cube
    const big = marchingCubes(sampleShape(torus(CENTRE, 10, 4), grid), { isoValue: 0 });
    const half = big.indices.length / 2 - ((big.indices.length / 2) % 3);
    const groups = [
      { name: 'a', color: [1, 1, 1] as const, start: 0, count: half / 3 },
      { name: 'b', color: [2, 2, 2] as const, start: half / 3, count: (big.indices.length - half) / 3 },
    ];
    const { mesh } = await decimate({ ...big, groups }, { targetRatio: 0.2, lockBorder: true });
    expect(mesh.groups!.length).toBe(2);
    expect(meshMetrics(mesh).closedManifold).toBe(true);
    expect(c.indices.length).toBe(36);
  });
  it('rejects bad targets', async () => {
    await expect(decimate(sphereMesh, { targetRatio: 2 })).rejects.toThrow(/targetRatio/);
  });
});

describe('weld and clean', () => {
  it('welds a triangle soup into a closed mesh', () => {
    const c = cube();
    const soup = {
      positions: new Float32Array(c.indices.length * 3),
      indices: Uint32Array.from({ length: c.indices.length }, (_, n) => n),
    };
    c.indices.forEach((v, n) => {
      soup.positions.set(c.positions.subarray(3 * v, 3 * v + 3), 3 * n);
    });
    expect(meshMetrics(soup).closedManifold).toBe(false);
    const w = weld(soup);
    expect(meshMetrics(w)).toMatchObject({ vertices: 8, closedManifold: true });
    const jitter = Float32Array.from(soup.positions, (x, n) => x + (n % 7) * 1e-4);
    expect(meshMetrics(weld({ ...soup, positions: jitter }, { toleranceMm: 0.01 })).closedManifold).toBe(true);
  });
  it('removes degenerate and duplicate triangles and repairs winding, outward even for nested surfaces', () => {
    const sh = marchingCubes(sampleShape(shell(CENTRE, 8, 15), grid), { isoValue: 0 });
    const I = sh.indices.slice();
    // flip a patch of triangles and one whole component (the outer one is the larger)
    for (let t = 0; t < I.length; t += 3 * 7) [I[t + 1], I[t + 2]] = [I[t + 2]!, I[t + 1]!];
    const extra = [I[0]!, I[1]!, I[2]!, I[3]!, I[3]!, I[4]!];
    const broken = { positions: sh.positions, indices: Uint32Array.from([...I, ...extra]) };
    expect(meshMetrics(broken).inconsistentEdges).toBeGreaterThan(0);
    const { mesh, report } = cleanMesh(broken);
    expect(report.degenerateRemoved).toBe(1); // the repeated-vertex one
    expect(report.duplicatesRemoved).toBe(1);
    const m = meshMetrics(mesh);
    expect(m.closedManifold).toBe(true);
    expect(m.volumeMm3 / meshMetrics(sh).volumeMm3).toBeCloseTo(1, 6); // cavity faces inwards again
    // a fully inverted mesh is turned outward
    const inv = Uint32Array.from(sh.indices, (_, n) => sh.indices[n - (n % 3) + [0, 2, 1][n % 3]!]!);
    expect(meshMetrics(cleanMesh({ ...sh, indices: inv }).mesh).volumeMm3).toBeGreaterThan(0);
  });
  it('drops small components and fills holes', () => {
    const sh = marchingCubes(sampleShape(shell(CENTRE, 8, 15), grid), { isoValue: 0 });
    const { mesh, report } = cleanMesh(sh, { minComponentVolumeMm3: 0.5 * (4 / 3) * Math.PI * 15 ** 3 * 0.5 });
    expect(report.componentsRemoved).toBe(1);
    expect(meshMetrics(mesh).components).toBe(1);
    const c = cube();
    const holed = { ...c, indices: c.indices.subarray(6) };
    const filled = cleanMesh(holed, { fillHoles: true });
    expect(filled.report.holesFilled).toBe(1);
    const fm = meshMetrics(filled.mesh);
    expect(fm.closedManifold).toBe(true);
    expect(fm.volumeMm3).toBeCloseTo(8, 5);
  });
});

describe('watertight check (manifold-3d)', () => {
  it('accepts closed manifolds and rejects open or inconsistent ones', async () => {
    expect(await checkWatertight(cube())).toMatchObject({ watertight: true, genus: 0 });
    const c = cube();
    expect((await checkWatertight({ ...c, indices: c.indices.subarray(3) })).watertight).toBe(false);
    const f = c.indices.slice();
    [f[1], f[2]] = [f[2]!, f[1]!];
    expect((await checkWatertight({ ...c, indices: f })).watertight).toBe(false);
  });
});

describe('accuracy report', () => {
  it('the voxel surface of a mask voxelizes back to the mask exactly, at zero distance', () => {
    const mask = maskShape(sph, grid);
    const b = maskBoundaryMesh(mask, grid);
    const welded = weld(b, { toleranceMm: 1e-4 });
    expect(meshMetrics(welded).boundaryEdges).toBe(0);
    const vox = voxelizeMesh(welded, grid);
    expect(vox).toEqual(mask);
    const acc = meshAccuracy(welded, mask, grid);
    expect(acc.dice).toBe(1);
    expect(acc.distance.maxMm).toBeLessThan(1e-4);
    expect(acc.volumeChangeVsMaskPercent).toBeCloseTo(0, 3);
  });
  it('a mesh shifted by one voxel loses Dice and shows the shift as distance', () => {
    const g = makeGrid({ size: [30, 30, 30], spacing: [1, 1, 1] });
    const s = sphere([15, 15, 15], 8);
    const mask = maskShape(s, g);
    const mesh = marchingCubes(sampleShape(s, g), { isoValue: 0 });
    const good = meshAccuracy(mesh, mask, g);
    const shifted = { ...mesh, positions: Float32Array.from(mesh.positions, (x, n) => (n % 3 === 0 ? x + 1 : x)) };
    const bad = meshAccuracy(shifted, mask, g);
    expect(good.dice).toBeGreaterThan(0.97);
    expect(bad.dice).toBeLessThan(good.dice - 0.05);
    expect(bad.distance.p95Mm).toBeGreaterThan(good.distance.p95Mm + 0.4);
    const c = cube();
    expect(() =>
      voxelizeMesh({ ...c, indices: Uint32Array.from([...c.indices.subarray(0, 24), ...c.indices.subarray(27)]) }, g),
    ).toThrow(/not closed/);
  });
});

import {
  type Grid,
  isLeftHanded,
  lpsFromIjkMatrix,
  makeGrid,
  makeLabelMap,
  makeVolume,
  S2SError,
  type Vec3,
  type Volume,
  voxelCount,
} from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import {
  BUILD_MODEL_DEFAULTS,
  buildModel,
  concatMeshes,
  HEAD_SKIN_WARNING,
  isLabelMap,
  meshMetrics,
  submesh,
} from '../../src/index.js';

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
  const mul = (m: number[][], v: number[]) =>
    [0, 1, 2].map((r) => m[r]![0]! * v[0]! + m[r]![1]! * v[1]! + m[r]![2]! * v[2]!);
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
  return [0, 1, 2].map(
    (r) => M[4 * r]! * ijk[0]! + M[4 * r + 1]! * ijk[1]! + M[4 * r + 2]! * ijk[2]! + M[4 * r + 3]!,
  ) as unknown as Vec3;
})();
const R = 15;
const SPHERE = sphereVolume(GRID, CENTRE, R);
const ANALYTIC = (4 / 3) * Math.PI * R ** 3;

describe('buildModel: sphere on an oblique, anisotropic, left-handed grid', () => {
  it('the test grid really is left-handed and oblique', () => {
    expect(isLeftHanded(GRID)).toBe(true);
    expect(Math.abs(GRID.direction[0][0])).toBeLessThan(0.95);
  });

  it('defaults: closed, in the right place, volume within 1% of the analytic sphere, Dice > 0.95', async () => {
    const r = await buildModel(SPHERE, { segment: { preset: 'bone' }, watertight: true });
    expect(r.metrics.structures).toBe(1);
    expect(r.metrics.closedManifold).toBe(true);
    expect(r.metrics.watertight).toBe(true);
    expect(r.metrics.perStructure[0]!.watertight).toBe(true);
    const m = meshMetrics(r.mesh);
    expect(m.closedManifold).toBe(true);
    expect(m.volumeMm3).toBeGreaterThan(0); // outward normals even on a left-handed grid
    expect(Math.abs(m.volumeMm3 - ANALYTIC) / ANALYTIC).toBeLessThan(0.01);
    expect(r.metrics.volumeMl).toBeCloseTo(m.volumeMm3 / 1000, 6);
    // every vertex on the sphere (within a voxel), centroid on the centre: not mirrored or shifted
    const P = r.mesh.positions;
    const c = [0, 0, 0];
    let worst = 0;
    for (let v = 0; v < P.length; v += 3) {
      const d = Math.hypot(P[v]! - CENTRE[0], P[v + 1]! - CENTRE[1], P[v + 2]! - CENTRE[2]);
      worst = Math.max(worst, Math.abs(d - R));
      for (let a = 0; a < 3; a++) c[a]! += P[v + a]! / (P.length / 3);
    }
    expect(worst).toBeLessThan(0.6);
    expect(Math.hypot(c[0]! - CENTRE[0], c[1]! - CENTRE[1], c[2]! - CENTRE[2])).toBeLessThan(0.1);
    const acc = r.accuracy[0]!;
    expect(acc.dice).toBeGreaterThan(0.95);
    expect(acc.meanDistanceMm).toBeLessThan(0.6);
    expect(acc.p95DistanceMm).toBeLessThan(1.0);
    expect(Math.abs(acc.volumeChangePercent)).toBeLessThan(1);
    expect(r.mesh.groups).toEqual([{ name: 'bone', color: [241, 214, 145], label: 1, start: 0, count: m.triangles }]);
    expect(r.warnings).toEqual([]);
    // every step is recorded with its options
    expect(r.steps.map((s) => s.step)).toEqual([
      'segment',
      'surface',
      'smooth',
      'clean',
      'watertight-check',
      'accuracy',
    ]);
    expect(r.steps[0]!.options).toMatchObject({ preset: 'bone', lower: 226, upper: 3071 });
    expect(r.steps[2]!.options).toMatchObject({ method: 'windowed-sinc', iterations: 20, passBand: 0.1 });
  });

  it('decimation to 20% keeps it closed, Dice > 0.95 and the volume within 1%', async () => {
    const r = await buildModel(SPHERE, { segment: { preset: 'bone' }, decimate: 0.2, watertight: true });
    const raw = r.steps.find((s) => s.step === 'surface')!.result!.triangles as number;
    expect(r.metrics.triangles).toBeLessThanOrEqual(Math.ceil(raw * 0.2) + 2);
    expect(r.metrics.triangles).toBeGreaterThan(raw * 0.15);
    expect(r.metrics.watertight).toBe(true);
    expect(r.accuracy[0]!.dice).toBeGreaterThan(0.95);
    expect(Math.abs(r.metrics.volumeMm3 - ANALYTIC) / ANALYTIC).toBeLessThan(0.01);
    expect(r.warnings).toEqual([]);
  });

  it('regression: 10% of this small sphere (meshoptimizer pinched it: non-manifold edges) stays closed and watertight', async () => {
    const r = await buildModel(SPHERE, { segment: { preset: 'bone' }, decimate: 0.1, watertight: true });
    expect(r.metrics.watertight).toBe(true);
    expect(r.metrics.closedManifold).toBe(true);
    const d = r.steps.find((s) => s.step === 'decimate')!;
    expect(d.options.targetRatio).toBe(0.1);
    const before = d.result!.trianglesBefore as number;
    expect(d.result!.trianglesAfter as number).toBeLessThanOrEqual(Math.ceil(before * 0.1) + 2);
    expect(r.accuracy[0]!.dice).toBeGreaterThan(0.95);
  });

  it('without smoothing the anti-aliased surface still matches the mask (Dice > 0.97)', async () => {
    const r = await buildModel(SPHERE, { segment: { preset: 'bone' }, smoothing: 'none' });
    expect(r.steps.some((s) => s.step === 'smooth')).toBe(false);
    expect(r.accuracy[0]!.volumeChangePercent).toBe(0);
    expect(r.accuracy[0]!.dice).toBeGreaterThan(0.97);
  });
});

describe('buildModel: label maps', () => {
  const grid = makeGrid({ size: [40, 30, 30], spacing: [1, 1, 1.5], origin: [5, -3, 7] });
  const data = new Uint8Array(voxelCount(grid));
  // two boxes touching along i = 20, and a third label that is not modelled
  for (let k = 5; k < 25; k++)
    for (let j = 5; j < 25; j++) for (let i = 5; i < 35; i++) data[(k * 30 + j) * 40 + i] = i < 20 ? 1 : 2;
  data[(2 * 30 + 2) * 40 + 2] = 3;
  const labels = makeLabelMap({
    grid,
    data,
    segments: [
      { value: 1, name: 'left block', color: [255, 0, 0] },
      { value: 2, name: 'right block', color: [0, 0, 255] },
      { value: 3, name: 'speck', color: [0, 255, 0] },
      { value: 4, name: 'absent', color: [9, 9, 9] },
    ],
  });

  it('several structures: surface nets, one closed group per structure with its colour, shared interface', async () => {
    expect(isLabelMap(labels)).toBe(true);
    const r = await buildModel(labels, { labels: [1, 2] });
    expect(r.steps.find((s) => s.step === 'surface')!.options.method).toBe('surface-nets');
    expect(r.mesh.groups!.map((g) => [g.name, g.color, g.label])).toEqual([
      ['left block', [255, 0, 0], 1],
      ['right block', [0, 0, 255], 2],
    ]);
    for (const g of r.mesh.groups!) {
      const part = submesh(r.mesh, g.start, g.count);
      const m = meshMetrics(part);
      expect(m.closedManifold).toBe(true);
      expect(m.volumeMm3).toBeGreaterThan(0);
    }
    // each block is 15 x 20 x 20 voxels of 1.5 mm³ = 9000 mm³; smoothing rounds the corners a little
    for (const s of r.metrics.perStructure) expect(Math.abs(s.volumeMm3 - 9000) / 9000).toBeLessThan(0.06);
    for (const a of r.accuracy) expect(a.dice).toBeGreaterThan(0.95);
  });

  it('an empty segment-table entry asked for is left out with a warning; unknown labels are refused', async () => {
    const r = await buildModel(labels, { labels: [3, 4], surface: 'marching-cubes', smoothing: 'none' });
    expect(r.metrics.structures).toBe(1);
    expect(r.warnings.some((w) => w.includes('"absent"') && w.includes('empty'))).toBe(true);
    await expect(buildModel(labels, { labels: [7] })).rejects.toThrow(/label 7 is not in the label map/);
  });

  it('intensity colours without a scan are refused with a hint', async () => {
    await expect(buildModel(labels, { color: 'intensity' })).rejects.toThrow(/need the scan/);
  });
});

describe('buildModel: colours, warnings and errors', () => {
  it('intensity colours follow the scan under the surface (grey rises along +L here)', async () => {
    // a sphere whose inside gets brighter towards +x (LPS left): colour must follow world x
    const grid = makeGrid({
      size: [40, 40, 40],
      spacing: [1, 1, 1],
      origin: [19.5, -19.5, -19.5],
      direction: [
        [-1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ],
    });
    const M = lpsFromIjkMatrix(grid);
    const data = new Int16Array(voxelCount(grid));
    let p = 0;
    for (let k = 0; k < 40; k++)
      for (let j = 0; j < 40; j++)
        for (let i = 0; i < 40; i++, p++) {
          const x = M[0]! * i + M[3]!;
          const y = M[5]! * j + M[7]!;
          const z = M[10]! * k + M[11]!;
          data[p] = x * x + y * y + z * z <= 144 ? Math.round(600 + 40 * x) : -1000;
        }
    const vol = makeVolume({ grid, data, units: 'HU' });
    const r = await buildModel(vol, {
      segment: { lower: 100 },
      color: 'intensity',
      colorWindow: { center: 600, width: 1000 },
    });
    const C = r.mesh.colors!;
    const P = r.mesh.positions;
    expect(C.length).toBe(P.length);
    let sx = 0;
    let sc = 0;
    let sxc = 0;
    let sxx = 0;
    const n = P.length / 3;
    for (let v = 0; v < n; v++) {
      expect(C[3 * v]).toBe(C[3 * v + 1]);
      sx += P[3 * v]!;
      sc += C[3 * v]!;
      sxc += P[3 * v]! * C[3 * v]!;
      sxx += P[3 * v]! ** 2;
    }
    // slope of grey vs x: 40 HU/mm over a 1000 HU window = 10.2 grey levels per mm
    const slope = (sxc - (sx * sc) / n) / (sxx - (sx * sx) / n);
    expect(slope).toBeGreaterThan(8);
    expect(slope).toBeLessThan(12);
    expect(r.steps.find((s) => s.step === 'color')!.options).toMatchObject({ mode: 'intensity' });
  });

  it('a skin model carries the head-skin warning', async () => {
    const r = await buildModel(SPHERE, { segment: { preset: 'skin' }, smoothIterations: 5, accuracy: false });
    expect(r.warnings).toContain(HEAD_SKIN_WARNING);
    expect(r.accuracy).toEqual([]);
  });

  it('refuses bad input with clear errors', async () => {
    await expect(buildModel(SPHERE, {})).rejects.toThrow(/segmentation options/);
    await expect(buildModel(SPHERE, { segment: { lower: 5000 } })).rejects.toThrow(/segmentation is empty/);
    await expect(buildModel(SPHERE, { segment: { preset: 'bone' }, decimate: 0 })).rejects.toThrow(/decimate/);
    await expect(buildModel(SPHERE, { segment: { preset: 'bone' }, decimate: 1.5 })).rejects.toThrow(S2SError);
    await expect(buildModel(SPHERE, { segment: { preset: 'bone' }, smoothIterations: 2.5 })).rejects.toThrow(
      /iterations/,
    );
    await expect(buildModel(SPHERE, { segment: { preset: 'bone' }, surface: 'voxels' as never })).rejects.toThrow(
      /surface method/,
    );
  });

  it('stops when the signal is aborted', async () => {
    const signal = { aborted: true };
    await expect(buildModel(SPHERE, { segment: { preset: 'bone' }, signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });

  it('exports its defaults for the CLI', () => {
    expect(BUILD_MODEL_DEFAULTS).toMatchObject({
      surface: 'auto',
      smoothIterations: 20,
      decimate: 1,
      color: 'segment',
    });
  });

  it('concatMeshes offsets indices and groups', () => {
    const tri = { positions: new Float32Array([0, 0, 0, 1, 0, 0, 0, 1, 0]), indices: new Uint32Array([0, 1, 2]) };
    const m = concatMeshes([
      { mesh: tri, group: { name: 'a', color: [1, 2, 3] } },
      { mesh: tri, group: { name: 'b', color: [4, 5, 6] } },
    ]);
    expect([...m.indices]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(m.groups!.map((g) => [g.start, g.count])).toEqual([
      [0, 1],
      [1, 1],
    ]);
  });
});

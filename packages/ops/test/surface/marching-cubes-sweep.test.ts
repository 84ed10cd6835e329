// The fast marching-cubes sweep (row trimming, packed inside bits, edge cache validated by vertex
// id, chunked output) must give EXACTLY the mesh of a plain cube-by-cube sweep: same vertices in
// the same order, bit for bit, and the same triangles. The reference below is that plain sweep,
// written for clarity (per-cube case from the values, a Map as edge cache).
import { lpsFromIjkMatrix, type Mesh, makeGrid, makeVolume, type Vec3, type Volume } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { type MarchingCubesOptions, marchingCubes } from '../../src/surface/marching-cubes.js';
import { cornerOffset, MC_EDGES, MC_TABLE } from '../../src/surface/mc-table.js';

function referenceMarchingCubes(volume: Volume, o: MarchingCubesOptions): Mesh {
  const [nx, ny, nz] = volume.grid.size;
  const nvox = nx * ny * nz;
  const frame = o.frame ?? 0;
  const data = volume.data.subarray(frame * nvox, (frame + 1) * nvox);
  const iso = o.isoValue;
  let outside = o.outsideValue;
  if (outside === undefined) {
    let min = Infinity;
    for (const v of data) if (v < min) min = v;
    outside = Math.min(min, iso - 1);
  }
  const lo = o.roi ? [...o.roi.min] : [0, 0, 0];
  const hi = o.roi ? [...o.roi.max] : [nx - 1, ny - 1, nz - 1];
  const pad = o.closeBoundary ? 1 : 0;
  const value = (i: number, j: number, k: number): number => {
    if (i < lo[0]! || j < lo[1]! || k < lo[2]! || i > hi[0]! || j > hi[1]! || k > hi[2]!) return outside;
    const n = (k * ny + j) * nx + i;
    const v = data[n]!;
    return o.mask && o.mask[n] === 0 ? Math.min(v, outside) : v;
  };
  const M = lpsFromIjkMatrix(volume.grid);
  const det =
    M[0]! * (M[5]! * M[10]! - M[6]! * M[9]!) -
    M[1]! * (M[4]! * M[10]! - M[6]! * M[8]!) +
    M[2]! * (M[4]! * M[9]! - M[5]! * M[8]!);
  const positions: number[] = [];
  const indices: number[] = [];
  const cache = new Map<string, number>();
  for (let k = lo[2]! - pad; k < hi[2]! + pad; k++) {
    for (let j = lo[1]! - pad; j < hi[1]! + pad; j++) {
      for (let i = lo[0]! - pad; i < hi[0]! + pad; i++) {
        let cs = 0;
        for (let c = 0; c < 8; c++) {
          const [dx, dy, dz] = cornerOffset(c);
          if (value(i + dx, j + dy, k + dz) >= iso) cs |= 1 << c;
        }
        const tri: number[] = [];
        for (let t = MC_TABLE.start[cs]!; t < MC_TABLE.start[cs + 1]!; t++) {
          const E = MC_EDGES[MC_TABLE.tri[t]!]!;
          const [dx, dy, dz] = cornerOffset(E.c0);
          const key = `${i + dx},${j + dy},${k + dz},${E.axis}`;
          let id = cache.get(key);
          if (id === undefined) {
            const [ex, ey, ez] = cornerOffset(E.c1);
            const v0 = Math.fround(value(i + dx, j + dy, k + dz));
            const v1 = Math.fround(value(i + ex, j + ey, k + ez));
            const f = (iso - v0) / (v1 - v0);
            const I = i + dx + (E.axis === 0 ? f : 0);
            const J = j + dy + (E.axis === 1 ? f : 0);
            const K = k + dz + (E.axis === 2 ? f : 0);
            id = positions.length / 3;
            positions.push(
              M[0]! * I + M[1]! * J + M[2]! * K + M[3]!,
              M[4]! * I + M[5]! * J + M[6]! * K + M[7]!,
              M[8]! * I + M[9]! * J + M[10]! * K + M[11]!,
            );
            cache.set(key, id);
          }
          tri.push(id);
          if (tri.length === 3) {
            indices.push(...(det < 0 ? [tri[0]!, tri[2]!, tri[1]!] : tri));
            tri.length = 0;
          }
        }
      }
    }
  }
  return { positions: Float32Array.from(positions), indices: Uint32Array.from(indices) };
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

type Ctor = new (n: number) => Volume['data'];

/** Blobs in a constant background, some touching the row ends, plus sparse single-voxel spikes. */
function blobVolume(
  size: Vec3,
  T: Ctor,
  rnd: () => number,
  inside: number,
  outside: number,
  direction?: Vec3[],
): Volume {
  const [nx, ny, nz] = size;
  const data = new T(nx * ny * nz);
  const blobs = Array.from({ length: 3 }, () => [rnd() * nx, rnd() * ny, rnd() * nz, 1 + rnd() * 5]);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        let v = outside + (rnd() - 0.5) * 2;
        for (const [cx, cy, cz, r] of blobs) {
          const d = Math.hypot(i - cx!, j - cy!, k - cz!);
          if (d < r!) v = outside + (inside - outside) * Math.min(1, (r! - d) / 1.5 + 0.2);
        }
        if (rnd() < 0.003) v = inside;
        data[(k * ny + j) * nx + i] = v;
      }
    }
  }
  const grid = makeGrid({ size, spacing: [0.7, 1.1, 1.9], origin: [-20, 30, 5], direction: direction as never });
  return makeVolume({ grid, data });
}

const expectSameMesh = (a: Mesh, b: Mesh): void => {
  expect(a.positions.length).toBe(b.positions.length);
  expect(a.indices.length).toBe(b.indices.length);
  expect(Buffer.from(a.positions.buffer, a.positions.byteOffset, a.positions.byteLength)).toEqual(
    Buffer.from(b.positions.buffer, b.positions.byteOffset, b.positions.byteLength),
  );
  expect(a.indices).toEqual(b.indices);
};

describe('marching cubes sweep = plain cube-by-cube sweep, exactly', () => {
  const leftHanded: Vec3[] = [
    [0, 1, 0],
    [1, 0, 0],
    [0, 0, -1],
  ];
  // widths around the 32-voxel word size of the packed inside bits
  const cases: { name: string; size: Vec3; T: Ctor; iso: number; inside: number; outside: number }[] = [
    { name: 'int16, 70 wide, integer iso', size: [70, 9, 7], T: Int16Array, iso: 300, inside: 1200, outside: -1000 },
    { name: 'int16, 33 wide, fractional iso', size: [33, 8, 6], T: Int16Array, iso: 99.5, inside: 200, outside: 0 },
    { name: 'uint8, 32 wide', size: [32, 10, 6], T: Uint8Array, iso: 128, inside: 250, outside: 3 },
    { name: 'uint16, 31 wide', size: [31, 7, 6], T: Uint16Array, iso: 1000, inside: 3000, outside: 10 },
    { name: 'int32, 64 wide', size: [64, 6, 5], T: Int32Array, iso: 5, inside: 10, outside: -3 },
    { name: 'float32, 40 wide', size: [40, 8, 6], T: Float32Array, iso: 0.25, inside: 1, outside: -1 },
    { name: 'float64, 37 wide', size: [37, 7, 6], T: Float64Array, iso: 0.3, inside: 1, outside: 0 },
    {
      name: 'inside background (rows start inside)',
      size: [45, 8, 6],
      T: Int16Array,
      iso: 50,
      inside: 0,
      outside: 100,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const rnd = lcg(c.size[0] * 7 + c.iso);
      for (const direction of [undefined, leftHanded]) {
        const vol = blobVolume(c.size, c.T, rnd, c.inside, c.outside, direction);
        const n = c.size[0] * c.size[1] * c.size[2];
        const mask = Uint8Array.from({ length: n }, () => (rnd() < 0.9 ? 1 : 0));
        const roi = { min: [1, 1, 1], max: [c.size[0] - 2, c.size[1] - 2, c.size[2] - 2] };
        const variants: MarchingCubesOptions[] = [
          { isoValue: c.iso },
          { isoValue: c.iso, closeBoundary: true },
          { isoValue: c.iso, roi },
          { isoValue: c.iso, roi, closeBoundary: true, outsideValue: c.iso - 7.25 },
          { isoValue: c.iso, mask },
          { isoValue: c.iso, mask, closeBoundary: true, roi },
        ];
        let triangles = 0;
        for (const o of variants) {
          const mesh = marchingCubes(vol, o);
          expectSameMesh(mesh, referenceMarchingCubes(vol, o));
          triangles += mesh.indices.length / 3;
        }
        expect(triangles).toBeGreaterThan(100); // the phantoms really have surface
      }
    });
  }

  it('float64 values within float32 rounding of the iso-value: inside from the exact value', () => {
    const rnd = lcg(5);
    const grid = makeGrid({ size: [20, 6, 5] });
    const data = Float64Array.from({ length: 600 }, () => 100.3 + (rnd() - 0.5) * 1e-5);
    const vol = makeVolume({ grid, data });
    const mesh = marchingCubes(vol, { isoValue: 100.3 });
    expect(mesh.indices.length).toBeGreaterThan(0);
    expectSameMesh(mesh, referenceMarchingCubes(vol, { isoValue: 100.3 }));
  });

  it('uses the requested frame of a 4D volume', () => {
    const rnd = lcg(9);
    const a = blobVolume([35, 8, 6], Int16Array, rnd, 500, 0);
    const b = blobVolume([35, 8, 6], Int16Array, rnd, 500, 0);
    const both = new Int16Array(2 * a.data.length);
    both.set(a.data);
    both.set(b.data, a.data.length);
    const vol = makeVolume({ grid: a.grid, data: both, frames: 2 });
    expectSameMesh(marchingCubes(vol, { isoValue: 250, frame: 1 }), referenceMarchingCubes(b, { isoValue: 250 }));
  });
});

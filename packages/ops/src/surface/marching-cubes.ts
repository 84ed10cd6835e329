/**
 * Marching cubes: the iso-surface of a scalar volume as a triangle mesh in LPS millimetres.
 *
 * - Table: the generated, topologically consistent table of `mc-table.ts` (ambiguous faces always
 *   separate the inside corners), so a closed interior gives a closed 2-manifold.
 * - Inside means value >= isoValue (as VTK). Normals (counter-clockwise winding) point from inside
 *   to outside, i.e. towards lower values; the winding is flipped on left-handed grids so the
 *   signed volume of a closed surface is always positive.
 * - Speed: one pass over the volume, two planes at a time (converted to Float32 once); a
 *   two-plane edge cache makes every vertex computed once and shared (welded by construction).
 *   Empty and full cubes are skipped from a per-row 4-bit column code, flying-edges style.
 * - World space: vertices go from continuous voxel index to LPS through ONE affine
 *   (`lpsFromIjkMatrix`), applied once per vertex.
 * - Border: like VTK, a surface that reaches the edge of the volume (or ROI) is left open there.
 *   With `closeBoundary` the volume is treated as surrounded by `outsideValue`, which caps it.
 */
import {
  check,
  lpsFromIjkMatrix,
  type Mesh,
  progressReporter,
  type RunOptions,
  S2SError,
  type Vec3,
  type Volume,
  valueRange,
} from '@slice2solid/core';
import { FloatBuf, IndexBuf } from './buffers.js';
import { cornerOffset, MC_EDGES, MC_TABLE } from './mc-table.js';

export interface MarchingCubesOptions extends RunOptions {
  /** Iso-value in the volume's units (HU for CT). Voxels with value >= isoValue are inside. */
  isoValue: number;
  /** Frame of a 4D volume (default 0). */
  frame?: number;
  /** Optional mask on the same grid: voxels where it is 0 count as outside (value = outsideValue). */
  mask?: Uint8Array;
  /** Optional inclusive voxel-index box to extract from: { min: [i, j, k], max: [i, j, k] }. */
  roi?: { min: Vec3 | readonly number[]; max: Vec3 | readonly number[] };
  /** Treat everything outside the volume (or ROI) as outside so surfaces touching the border close. */
  closeBoundary?: boolean;
  /**
   * Value used for padding (closeBoundary) and masked-out voxels. Default: the lower of the volume
   * minimum and isoValue - 1 (so it is always outside).
   */
  outsideValue?: number;
}

export const MARCHING_CUBES_DEFAULTS = {
  closeBoundary: false,
  frame: 0,
} as const;

/** Edge cache sections: x-edges plane dz=0 / 1, y-edges dz=0 / 1, z-edges. */
const EDGE_SECTION = MC_EDGES.map((E) => {
  const [, , dz] = cornerOffset(E.c0);
  return E.axis === 0 ? dz : E.axis === 1 ? 2 + dz : 4;
});

export function marchingCubes(volume: Volume, options: MarchingCubesOptions): Mesh {
  const { grid } = volume;
  const iso = options.isoValue;
  check(
    Number.isFinite(iso),
    `isoValue must be a finite number, got ${iso}`,
    'give the threshold, e.g. 300 (HU) for bone',
  );
  if (volume.components !== 1) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `marching cubes needs a scalar volume, this one has ${volume.components} components`,
      {
        hint: 'convert the image to greyscale first',
      },
    );
  }
  const frame = options.frame ?? MARCHING_CUBES_DEFAULTS.frame;
  check(
    Number.isInteger(frame) && frame >= 0 && frame < volume.frames,
    `frame ${frame} does not exist; the volume has ${volume.frames}`,
  );
  const [nx, ny, nz] = grid.size;
  const nvox = nx * ny * nz;
  const data = volume.data.subarray(frame * nvox, (frame + 1) * nvox);
  const mask = options.mask;
  if (mask && mask.length !== nvox) {
    throw new S2SError('INVALID_ARGUMENT', `the mask has ${mask.length} voxels but the volume has ${nvox}`, {
      hint: 'the mask must be on the same grid as the volume',
    });
  }
  const lo = [0, 0, 0];
  const hi = [nx - 1, ny - 1, nz - 1];
  if (options.roi) {
    for (let a = 0; a < 3; a++) {
      const mn = options.roi.min[a];
      const mx = options.roi.max[a];
      check(
        Number.isInteger(mn) && Number.isInteger(mx) && mn! >= 0 && mx! <= hi[a]! && mn! <= mx!,
        `roi [${options.roi.min.join(', ')}]..[${options.roi.max.join(', ')}] is not inside the grid ${grid.size.join('x')}`,
        'give integer voxel indices with 0 <= min <= max < size',
      );
      lo[a] = mn!;
      hi[a] = mx!;
    }
  }
  const close = options.closeBoundary ?? MARCHING_CUBES_DEFAULTS.closeBoundary;
  let outside = options.outsideValue;
  if (outside === undefined) outside = Math.min(valueRange(data)[0], iso - 1);
  check(outside < iso, `outsideValue (${outside}) must be below the isoValue (${iso})`);
  const pad = close ? 1 : 0;
  const NX = hi[0]! - lo[0]! + 1 + 2 * pad;
  const NY = hi[1]! - lo[1]! + 1 + 2 * pad;
  const NZ = hi[2]! - lo[2]! + 1 + 2 * pad;
  const ox = lo[0]! - pad;
  const oy = lo[1]! - pad;
  const oz = lo[2]! - pad;
  const M = lpsFromIjkMatrix(grid);
  const flip = det3(M) < 0;
  const positions = new FloatBuf(1 << 16);
  const indices = new IndexBuf(1 << 17);
  if (NX < 2 || NY < 2 || NZ < 2) return { positions: positions.result(), indices: indices.result() };

  const planeSize = NX * NY;
  let valA = new Float32Array(planeSize);
  let valB = new Float32Array(planeSize);
  let bitA = new Uint8Array(planeSize);
  let bitB = new Uint8Array(planeSize);
  const fillPlane = (lz: number, vals: Float32Array, bits: Uint8Array): void => {
    const k = lz + oz;
    vals.fill(outside);
    bits.fill(0);
    if (k < lo[2]! || k > hi[2]!) return;
    for (let j = lo[1]!; j <= hi[1]!; j++) {
      const src = (k * ny + j) * nx;
      const dst = (j - oy) * NX - ox;
      for (let i = lo[0]!; i <= hi[0]!; i++) {
        let v = data[src + i]!;
        if (mask && mask[src + i] === 0) v = Math.min(v, outside);
        vals[dst + i] = v;
        bits[dst + i] = v >= iso ? 1 : 0;
      }
    }
  };

  // edge cache: 5 sections of a plane each; -1 = no vertex yet
  const cache = new Int32Array(5 * planeSize).fill(-1);
  const eSec = new Int32Array(12);
  const eOff = new Int32Array(12);
  const cOff = new Int32Array(8);
  const cDz = new Uint8Array(8);
  for (let c = 0; c < 8; c++) {
    const [dx, dy, dz] = cornerOffset(c);
    cOff[c] = dy * NX + dx;
    cDz[c] = dz;
  }
  for (let e = 0; e < 12; e++) {
    eSec[e] = EDGE_SECTION[e]! * planeSize;
    eOff[e] = cOff[MC_EDGES[e]!.c0]!;
  }
  const eC0 = MC_EDGES.map((E) => E.c0);
  const eC1 = MC_EDGES.map((E) => E.c1);
  const eAxis = MC_EDGES.map((E) => E.axis);
  const eD = MC_EDGES.map((E) => cornerOffset(E.c0));
  const { start, tri } = MC_TABLE;
  const q = new Uint8Array(NX);
  const m0 = M[0]!;
  const m1 = M[1]!;
  const m2 = M[2]!;
  const m3 = M[3]!;
  const m4 = M[4]!;
  const m5 = M[5]!;
  const m6 = M[6]!;
  const m7 = M[7]!;
  const m8 = M[8]!;
  const m9 = M[9]!;
  const m10 = M[10]!;
  const m11 = M[11]!;
  const report = progressReporter('marching cubes', NZ - 1, options);

  fillPlane(0, valA, bitA);
  for (let lz = 0; lz < NZ - 1; lz++) {
    report(lz);
    fillPlane(lz + 1, valB, bitB);
    if (lz > 0) {
      // plane lz+1 edges of the previous slab become plane lz edges of this one
      cache.copyWithin(0, planeSize, 2 * planeSize);
      cache.copyWithin(2 * planeSize, 3 * planeSize, 4 * planeSize);
      cache.fill(-1, planeSize, 2 * planeSize);
      cache.fill(-1, 3 * planeSize, 5 * planeSize);
    }
    const kBase = lz + oz;
    for (let ly = 0; ly < NY - 1; ly++) {
      const r0 = ly * NX;
      const r1 = r0 + NX;
      let any = 0;
      for (let lx = 0; lx < NX; lx++) {
        const code = bitA[r0 + lx]! | (bitA[r1 + lx]! << 1) | (bitB[r0 + lx]! << 2) | (bitB[r1 + lx]! << 3);
        q[lx] = code;
        any |= code === 0 ? 1 : code === 15 ? 2 : 4;
      }
      if (any === 1 || any === 2) continue; // all empty or all full: no surface in this row
      for (let lx = 0; lx < NX - 1; lx++) {
        const cs = q[lx]! | (q[lx + 1]! << 4);
        if (cs === 0 || cs === 255) continue;
        const base = r0 + lx;
        const t1 = start[cs + 1]!;
        for (let t = start[cs]!; t < t1; t += 3) {
          let a = 0;
          let b = 0;
          let c = 0;
          for (let m = 0; m < 3; m++) {
            const e = tri[t + m]!;
            const slot = eSec[e]! + base + eOff[e]!;
            let vid = cache[slot]!;
            if (vid < 0) {
              const c0 = eC0[e]!;
              const c1 = eC1[e]!;
              const v0 = (cDz[c0] ? valB : valA)[base + cOff[c0]!]!;
              const v1 = (cDz[c1] ? valB : valA)[base + cOff[c1]!]!;
              const f = (iso - v0) / (v1 - v0);
              const d = eD[e]!;
              const dx = d[0];
              const dy = d[1];
              const dz = d[2];
              const axis = eAxis[e]!;
              const I = lx + ox + dx + (axis === 0 ? f : 0);
              const J = ly + oy + dy + (axis === 1 ? f : 0);
              const K = kBase + dz + (axis === 2 ? f : 0);
              vid = positions.length / 3;
              positions.push3(
                m0 * I + m1 * J + m2 * K + m3,
                m4 * I + m5 * J + m6 * K + m7,
                m8 * I + m9 * J + m10 * K + m11,
              );
              cache[slot] = vid;
            }
            if (m === 0) a = vid;
            else if (m === 1) b = vid;
            else c = vid;
          }
          if (flip) indices.push3(a, c, b);
          else indices.push3(a, b, c);
        }
      }
    }
    [valA, valB] = [valB, valA];
    [bitA, bitB] = [bitB, bitA];
  }
  report(NZ - 1);
  return { positions: positions.result(), indices: indices.result() };
}

function det3(m: ArrayLike<number>): number {
  return (
    m[0]! * (m[5]! * m[10]! - m[6]! * m[9]!) -
    m[1]! * (m[4]! * m[10]! - m[6]! * m[8]!) +
    m[2]! * (m[4]! * m[9]! - m[5]! * m[8]!)
  );
}

/**
 * Marching cubes: the iso-surface of a scalar volume as a triangle mesh in LPS millimetres.
 *
 * - Table: the generated, topologically consistent table of `mc-table.ts` (ambiguous faces always
 *   separate the inside corners), so a closed interior gives a closed 2-manifold.
 * - Inside means value >= isoValue (as VTK). Normals (counter-clockwise winding) point from inside
 *   to outside, i.e. towards lower values; the winding is flipped on left-handed grids so the
 *   signed volume of a closed surface is always positive.
 * - Speed (flying-edges style, one thread): each x-row of the volume is classified once by
 *   scanning in from both ends to its first and last inside/outside change, so a row of cubes
 *   is visited only over the x-range where one of its four rows changes (rows and slabs far from
 *   the iso-value, most of a CT, are skipped after one read). Cube cases are computed straight
 *   from the input typed array (no plane copies) unless a mask or closeBoundary needs padded
 *   planes. A two-plane edge cache makes every vertex computed once and shared (welded by
 *   construction); cache slots are validated by vertex id instead of being cleared per slab.
 *   The output (vertex and triangle order included) is that of a plain z-y-x cube sweep.
 * - Threads (`parallel`, a ParallelRunner): the same three passes as slab kernels ('mc.classify',
 *   'mc.count' by planes, 'mc.sweep' by cube layers; marchSlabs). Exact per-layer counts give each
 *   layer its first vertex and triangle, and a slab first replays the layer before it (writing
 *   nothing) to learn the ids of the shared plane's vertices, so the mesh is the single-threaded one,
 *   bit for bit. The single-threaded path stays the closure-based `march` below: the same passes
 *   split into module functions ran ~20 % slower in V8 on one thread (measured on the CT phantom).
 * - World space: vertices go from continuous voxel index to LPS through ONE affine
 *   (`lpsFromIjkMatrix`), applied once per vertex. Interpolation uses the values rounded to
 *   float32 (as the planes of earlier versions stored them), inside/outside the exact values.
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
  type VoxelArray,
  valueRange,
} from '@slice2solid/core';
import {
  allocFloat32,
  allocInt32,
  allocUint8,
  isShareable,
  type ParallelOptions,
  type ParallelRunner,
  splitRange,
  useRunner,
} from '../parallel/runner.js';
import { cornerOffset, MC_EDGES, MC_TABLE } from './mc-table.js';

export interface MarchingCubesOptions extends RunOptions, ParallelOptions {
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
  // the outside value is only ever read for padding and masked-out voxels: skip the full pass
  // over the data that its default needs when there are neither
  const padded = close || mask !== undefined;
  let outside = options.outsideValue;
  if (outside === undefined) outside = padded ? Math.min(valueRange(data)[0], iso - 1) : iso - 1;
  check(outside < iso, `outsideValue (${outside}) must be below the isoValue (${iso})`);
  const pad = close ? 1 : 0;
  const NX = hi[0]! - lo[0]! + 1 + 2 * pad;
  const NY = hi[1]! - lo[1]! + 1 + 2 * pad;
  const NZ = hi[2]! - lo[2]! + 1 + 2 * pad;
  const ox = lo[0]! - pad;
  const oy = lo[1]! - pad;
  const oz = lo[2]! - pad;
  const M = lpsFromIjkMatrix(grid);
  const report = progressReporter('marching cubes', NZ - 1, options);
  if (NX < 2 || NY < 2 || NZ < 2) return { positions: new Float32Array(0), indices: new Uint32Array(0) };

  const runner = useRunner(options.parallel) && NZ >= 16 ? options.parallel : undefined;
  if (runner) {
    // z-slabs on the runner's threads (marchSlabs): voxels and mask must be on shared memory
    const share = <T extends VoxelArray | Uint8Array>(arr: T): T => {
      if (isShareable(arr, runner)) return arr;
      const copy = new (arr.constructor as new (b: ArrayBuffer) => T)(
        allocUint8(arr.byteLength, runner).buffer as ArrayBuffer,
      );
      copy.set(arr as never);
      return copy;
    };
    return marchSlabs(
      {
        data: share(data),
        padded,
        // without padding, plane lz is the volume itself from the ROI's low corner (ox, oy, oz)
        p0: (oz * ny + oy) * nx + ox,
        planeStride: nx * ny,
        nx,
        ny,
        mask: mask ? share(mask) : undefined,
        lo,
        hi,
        outside,
        NX,
        NY,
        NZ,
        ox,
        oy,
        oz,
        iso,
        M: Array.from(M),
        flip: det3(M) < 0,
      },
      runner,
      report,
    );
  }
  let src: VoxelArray | Float64Array;
  let stride: number;
  let planeStart: (lz: number) => number;
  if (!padded) {
    // fast path: read the volume itself (ox, oy, oz = the ROI's low corner)
    src = data;
    stride = nx;
    planeStart = (lz) => ((lz + oz) * ny + oy) * nx + ox;
  } else {
    // two padded planes of exact values (mask applied), alternating by plane parity
    const planes = new Float64Array(2 * NX * NY);
    const out = outside;
    src = planes;
    stride = NX;
    planeStart = (lz) => {
      const base = (lz & 1) * NX * NY;
      const k = lz + oz;
      planes.fill(out, base, base + NX * NY);
      if (k < lo[2]! || k > hi[2]!) return base;
      for (let j = lo[1]!; j <= hi[1]!; j++) {
        const s = (k * ny + j) * nx;
        const d = base + (j - oy) * NX - ox;
        for (let i = lo[0]!; i <= hi[0]!; i++) {
          let v = data[s + i]!;
          if (mask && mask[s + i] === 0) v = Math.min(v, out);
          planes[d + i] = v;
        }
      }
      return base;
    };
  }
  return march(src, stride, planeStart, NX, NY, NZ, ox, oy, oz, iso, M, det3(M) < 0, report);
}

/** Per-edge constants of the cube (flat, from MC_EDGES): corner rows, x offsets, cache section. */
const E_ROW0 = new Int8Array(12); // row (dy + 2 dz) of corner c0 among the 4 rows of a cube row
const E_DX0 = new Int8Array(12);
const E_ROW1 = new Int8Array(12);
const E_DX1 = new Int8Array(12);
const E_AXIS = new Int8Array(12);
const E_DX = new Int8Array(12); // offsets of the lower corner c0
const E_DY = new Int8Array(12);
const E_DZ = new Int8Array(12);
/** Cache section: 0 x-edges of the lower plane, 1 of the upper, 2/3 y-edges likewise, 4 z-edges. */
const E_SEC = new Int8Array(12);
for (let e = 0; e < 12; e++) {
  const E = MC_EDGES[e]!;
  const [dx, dy, dz] = cornerOffset(E.c0);
  const [dx1, dy1, dz1] = cornerOffset(E.c1);
  E_ROW0[e] = dy + 2 * dz;
  E_DX0[e] = dx;
  E_ROW1[e] = dy1 + 2 * dz1;
  E_DX1[e] = dx1;
  E_AXIS[e] = E.axis;
  E_DX[e] = dx;
  E_DY[e] = dy;
  E_DZ[e] = dz;
  E_SEC[e] = E.axis === 0 ? dz : E.axis === 1 ? 2 + dz : 4;
}

/**
 * Per case: its distinct edges in order of first use by its triangles (C_EDGE[C_ESTART[cs] ..
 * C_ESTART[cs + 1])), and its triangles as indices into that list (C_TRI[C_TSTART[cs] ..]).
 * Resolving the edges in that order creates the vertices in the same order as walking the
 * triangles' corners would.
 */
const C_ESTART = new Uint16Array(257);
const C_TSTART = new Uint16Array(257);
const { C_EDGE, C_TRI } = (() => {
  const edges: number[] = [];
  const tris: number[] = [];
  for (let cs = 0; cs < 256; cs++) {
    C_ESTART[cs] = edges.length;
    C_TSTART[cs] = tris.length;
    const local: number[] = [];
    for (let t = MC_TABLE.start[cs]!; t < MC_TABLE.start[cs + 1]!; t++) {
      const e = MC_TABLE.tri[t]!;
      let k = local.indexOf(e);
      if (k < 0) k = local.push(e) - 1;
      tris.push(k);
    }
    edges.push(...local);
  }
  C_ESTART[256] = edges.length;
  C_TSTART[256] = tris.length;
  return { C_EDGE: Uint8Array.from(edges), C_TRI: Uint8Array.from(tris) };
})();

/** Triangles of each case. */
const C_NTRI = Uint8Array.from({ length: 256 }, (_, cs) => (C_TSTART[cs + 1]! - C_TSTART[cs]!) / 3);

/** Set bits of a 32-bit int. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * The sweep. Plane lz of the (local, possibly padded) grid starts at src[planeStart(lz)], rows
 * `stride` apart; planeStart is called for the planes in increasing order, twice over (once
 * to classify the rows, once to make the vertices), and must give the same values both times.
 *
 * 1. Classify every row: the packed inside bits and the range where it changes.
 * 2. Count: every edge whose ends are on different sides gets exactly one vertex, and every
 *    live cube the triangles of its case, so the output arrays are allocated at their final size.
 * 3. Sweep the cubes in z, y, x order, making vertices and triangles.
 */
function march(
  src: VoxelArray | Float64Array,
  stride: number,
  planeStart: (lz: number) => number,
  NX: number,
  NY: number,
  NZ: number,
  ox: number,
  oy: number,
  oz: number,
  iso: number,
  M: ArrayLike<number>,
  flip: boolean,
  report: (done: number) => void,
): Mesh {
  const planeSize = NX * NY;
  // For integer voxels v >= iso <=> v >= ceil(iso): an integer compare in the scans.
  const isoC = src instanceof Float32Array || src instanceof Float64Array ? iso : Math.ceil(iso);
  // Row classification, by row r = lz * NY + ly: L = first cube index that can hold surface as
  // far as this row goes (first inside/outside change - 1; NX - 1 when the row is constant),
  // R = last one (last change; -1), S0 / S1 = inside bit at the first / last voxel; and the
  // row's inside bits, packed 32 to an int (W words, the last one spare so that x + 1 can always
  // be read; bits past the row repeat S1).
  const W = (NX >> 5) + 1;
  const nRows = NZ * NY;
  const rowL = new Int32Array(nRows);
  const rowR = new Int32Array(nRows);
  const rowS0 = new Uint8Array(nRows);
  const rowS1 = new Uint8Array(nRows);
  const bits = new Int32Array(nRows * W);
  const last = NX - 1;
  // Small integer voxels: v >= isoC <=> (isoC - 1 - v) < 0, exact in int32, so eight voxels are
  // tested with one sign check (the scans are most of the work on a CT far from the iso-value).
  const small =
    (src instanceof Int16Array ||
      src instanceof Uint16Array ||
      src instanceof Uint8Array ||
      src instanceof Int8Array) &&
    Math.abs(isoC) < 2 ** 30;
  const c1 = isoC - 1;
  const classify = (lz: number): void => {
    const base = planeStart(lz);
    for (let ly = 0; ly < NY; ly++) {
      const o = base + ly * stride;
      const r = lz * NY + ly;
      const rb = r * W;
      // scan in from the left to the first change
      let a = 1;
      let s0 = 0;
      if (src[o]! >= isoC) {
        while (a < NX && src[o + a]! >= isoC) a++;
        s0 = 1;
      } else {
        if (small) {
          while (
            a + 8 <= NX &&
            ((c1 - src[o + a]!) |
              (c1 - src[o + a + 1]!) |
              (c1 - src[o + a + 2]!) |
              (c1 - src[o + a + 3]!) |
              (c1 - src[o + a + 4]!) |
              (c1 - src[o + a + 5]!) |
              (c1 - src[o + a + 6]!) |
              (c1 - src[o + a + 7]!)) >=
              0
          ) {
            a += 8;
          }
        }
        while (a < NX && !(src[o + a]! >= isoC)) a++;
      }
      rowS0[r] = s0;
      if (a === NX) {
        rowL[r] = last;
        rowR[r] = -1;
        rowS1[r] = s0;
        if (s0) bits.fill(-1, rb, rb + W);
        continue;
      }
      // ... and from the right to the last change (there is one: a < NX)
      let b = last - 1;
      let s1 = 0;
      if (src[o + last]! >= isoC) {
        while (src[o + b]! >= isoC) b--;
        s1 = 1;
      } else {
        if (small) {
          while (
            b >= 7 &&
            ((c1 - src[o + b]!) |
              (c1 - src[o + b - 1]!) |
              (c1 - src[o + b - 2]!) |
              (c1 - src[o + b - 3]!) |
              (c1 - src[o + b - 4]!) |
              (c1 - src[o + b - 5]!) |
              (c1 - src[o + b - 6]!) |
              (c1 - src[o + b - 7]!)) >=
              0
          ) {
            b -= 8;
          }
        }
        while (!(src[o + b]! >= isoC)) b--;
      }
      const L = a - 1;
      rowL[r] = L;
      rowR[r] = b;
      rowS1[r] = s1;
      // bits: S0 up to L, S1 after b, the data in between
      for (let wi = 0; wi < W; wi++) {
        const lo = wi << 5;
        let word: number;
        if (lo + 31 <= L) word = -s0;
        else if (lo > b) word = -s1;
        else {
          const n0 = L - lo + 1; // voxels of this word at x <= L
          const sb = b + 1 - lo; // first bit after b
          word = 0;
          if (s0 && n0 > 0) word |= (1 << n0) - 1;
          if (s1 && sb < 32) word |= -1 << sb;
          const xe = Math.min(lo + 31, b);
          let x = Math.max(lo, L + 1);
          if (small) {
            for (; x <= xe; x++) word |= ((c1 - src[o + x]!) >>> 31) << (x - lo);
          } else {
            for (; x <= xe; x++) if (src[o + x]! >= isoC) word |= 1 << (x - lo);
          }
        }
        bits[rb + wi] = word;
      }
    }
  };
  for (let lz = 0; lz < NZ; lz++) classify(lz);

  /** Edges along x, y within row r / between rows r and r2 (across y or z) that change side. */
  const lastWord = last >> 5;
  const lastMask = (last & 31) === 31 ? -1 : (1 << ((last & 31) + 1)) - 1;
  const xCrossings = (r: number): number => {
    const L = rowL[r]!;
    const R = rowR[r]!;
    if (R < 0) return 0;
    const rb = r * W;
    let n = 0;
    for (let wi = L >> 5; wi <= R >> 5; wi++) {
      const w = bits[rb + wi]!;
      let d = w ^ ((w >>> 1) | (bits[rb + wi + 1]! << 31));
      if (wi === L >> 5) d &= -1 << (L & 31);
      if (wi === R >> 5 && (R & 31) !== 31) d &= (1 << ((R & 31) + 1)) - 1;
      n += popcount(d);
    }
    return n;
  };
  const crossCrossings = (r: number, r2: number): number => {
    if (rowR[r]! < 0 && rowR[r2]! < 0) return rowS0[r] === rowS0[r2] ? 0 : NX;
    const b1 = r * W;
    const b2 = r2 * W;
    let n = 0;
    for (let wi = 0; wi < lastWord; wi++) n += popcount(bits[b1 + wi]! ^ bits[b2 + wi]!);
    return n + popcount((bits[b1 + lastWord]! ^ bits[b2 + lastWord]!) & lastMask);
  };

  /**
   * The live (neither empty nor full) cubes of cube row (lz, ly) in increasing x: liveX[0 .. n)
   * and their cases liveCs; returns n.
   */
  const liveX = new Int32Array(NX);
  const liveCs = new Uint8Array(NX);
  const liveCubes = (lz: number, ly: number): number => {
    const a0 = lz * NY + ly;
    const b0 = a0 + NY;
    // the x-range of cubes whose four rows are not all on one side of the iso-value
    const s0 = rowS0[a0]!;
    let xL: number;
    if (rowS0[a0 + 1] === s0 && rowS0[b0] === s0 && rowS0[b0 + 1] === s0) {
      xL = Math.min(rowL[a0]!, rowL[a0 + 1]!, rowL[b0]!, rowL[b0 + 1]!);
    } else xL = 0;
    const s1 = rowS1[a0]!;
    let xR: number;
    if (rowS1[a0 + 1] === s1 && rowS1[b0] === s1 && rowS1[b0 + 1] === s1) {
      xR = Math.max(rowR[a0]!, rowR[a0 + 1]!, rowR[b0]!, rowR[b0 + 1]!);
    } else xR = NX - 2;
    if (xL > xR) return 0;
    let n = 0;
    const wA0 = a0 * W;
    const wA1 = wA0 + W;
    const wB0 = b0 * W;
    const wB1 = wB0 + W;
    const w0 = xL >> 5;
    const w1 = xR >> 5;
    for (let wi = w0; wi <= w1; wi++) {
      // corner bits of columns x (c*) and x + 1 (c*n) for the 32 cubes of this word
      const cA0 = bits[wA0 + wi]!;
      const cA1 = bits[wA1 + wi]!;
      const cB0 = bits[wB0 + wi]!;
      const cB1 = bits[wB1 + wi]!;
      const cA0n = (cA0 >>> 1) | (bits[wA0 + wi + 1]! << 31);
      const cA1n = (cA1 >>> 1) | (bits[wA1 + wi + 1]! << 31);
      const cB0n = (cB0 >>> 1) | (bits[wB0 + wi + 1]! << 31);
      const cB1n = (cB1 >>> 1) | (bits[wB1 + wi + 1]! << 31);
      const and0 = cA0 & cA1 & cB0 & cB1;
      const or0 = cA0 | cA1 | cB0 | cB1;
      const and1 = cA0n & cA1n & cB0n & cB1n;
      const or1 = cA0n | cA1n | cB0n | cB1n;
      // a cube is empty or full when both its columns are uniform and equal
      let live = (and0 ^ or0) | (and1 ^ or1) | (and0 ^ and1);
      if (wi === w0) live &= -1 << (xL & 31);
      if (wi === w1 && (xR & 31) !== 31) live &= (1 << ((xR & 31) + 1)) - 1;
      while (live !== 0) {
        const low = live & -live;
        live ^= low;
        const t0 = 31 - Math.clz32(low);
        liveX[n] = (wi << 5) + t0;
        liveCs[n++] =
          ((cA0 >>> t0) & 1) |
          (((cA1 >>> t0) & 1) << 1) |
          (((cB0 >>> t0) & 1) << 2) |
          (((cB1 >>> t0) & 1) << 3) |
          (((cA0n >>> t0) & 1) << 4) |
          (((cA1n >>> t0) & 1) << 5) |
          (((cB0n >>> t0) & 1) << 6) |
          (((cB1n >>> t0) & 1) << 7);
      }
    }
    return n;
  };

  // 2. exact output size
  let nVert = 0;
  let nTri = 0;
  for (let lz = 0; lz < NZ; lz++) {
    for (let ly = 0; ly < NY; ly++) {
      const r = lz * NY + ly;
      nVert += xCrossings(r);
      if (ly + 1 < NY) nVert += crossCrossings(r, r + 1);
      if (lz + 1 < NZ) {
        nVert += crossCrossings(r, r + NY);
        if (ly + 1 < NY) {
          const n = liveCubes(lz, ly);
          for (let q = 0; q < n; q++) nTri += C_NTRI[liveCs[q]!]!;
        }
      }
    }
  }
  const positions = new Float32Array(3 * nVert);
  const indices = new Uint32Array(3 * nTri);

  // 3. Edge cache: sections [x-edges plane parity 0, parity 1, y-edges parity 0, parity 1,
  // z-edges]. An entry is valid when its vertex id is >= the first id of the slab that could
  // have written it (older entries are stale), so nothing is ever cleared.
  const cache = new Int32Array(5 * planeSize).fill(-1);
  const eSlot = new Int32Array(12); // offset of the edge's lower corner within a plane
  for (let e = 0; e < 12; e++) eSlot[e] = E_DY[e]! * NX + E_DX[e]!;
  const eBase = new Int32Array(12); // per slab: cache section start
  const eMin = new Int32Array(12); // per slab: minimum valid vertex id
  const rowOff = new Int32Array(4);
  const ev = new Int32Array(12); // vertex of each of the current cube's edges
  const eOff0 = new Int32Array(12); // per cube row: where the edge's corners are in src (x = 0)
  const eOff1 = new Int32Array(12);
  const tB = flip ? 2 : 1; // triangle corner order (flipped on left-handed grids)
  const tC = flip ? 1 : 2;
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
  let nvert = 0;
  let ni = 0;
  let prevSlabStart = 0;
  let baseB = planeStart(0);
  for (let lz = 0; lz < NZ - 1; lz++) {
    report(lz);
    const baseA = baseB;
    baseB = planeStart(lz + 1);
    const pa = lz & 1;
    const pb = pa ^ 1;
    const slabStart = nvert;
    for (let e = 0; e < 12; e++) {
      const s = E_SEC[e]!;
      const sec = s === 4 ? 4 : s === 0 || s === 1 ? (s === 0 ? pa : pb) : 2 + (s === 2 ? pa : pb);
      eBase[e] = sec * planeSize + eSlot[e]!;
      // lower-plane x/y edges may come from the previous slab; the rest only from this one
      eMin[e] = s === 0 || s === 2 ? prevSlabStart : slabStart;
    }
    const kBase = lz + oz;
    for (let ly = 0; ly < NY - 1; ly++) {
      const nLive = liveCubes(lz, ly);
      if (nLive === 0) continue;
      const o0 = baseA + ly * stride;
      rowOff[0] = o0;
      rowOff[1] = o0 + stride;
      rowOff[2] = baseB + ly * stride;
      rowOff[3] = rowOff[2]! + stride;
      for (let e = 0; e < 12; e++) {
        eOff0[e] = rowOff[E_ROW0[e]!]! + E_DX0[e]!;
        eOff1[e] = rowOff[E_ROW1[e]!]! + E_DX1[e]!;
      }
      const rowBase = ly * NX;
      for (let c = 0; c < nLive; c++) {
        const lx = liveX[c]!;
        const cs = liveCs[c]!;
        const base = rowBase + lx;
        const q0 = C_ESTART[cs]!;
        const q1 = C_ESTART[cs + 1]!;
        for (let q = q0; q < q1; q++) {
          const e = C_EDGE[q]!;
          const slot = eBase[e]! + base;
          let vid = cache[slot]!;
          if (vid < eMin[e]!) {
            const v0 = Math.fround(src[eOff0[e]! + lx]!);
            const v1 = Math.fround(src[eOff1[e]! + lx]!);
            const f = (iso - v0) / (v1 - v0);
            const axis = E_AXIS[e]!;
            let I = lx + ox + E_DX[e]!;
            let J = ly + oy + E_DY[e]!;
            let K = kBase + E_DZ[e]!;
            if (axis === 0) I += f;
            else if (axis === 1) J += f;
            else K += f;
            const np = 3 * nvert;
            positions[np] = m0 * I + m1 * J + m2 * K + m3;
            positions[np + 1] = m4 * I + m5 * J + m6 * K + m7;
            positions[np + 2] = m8 * I + m9 * J + m10 * K + m11;
            vid = nvert++;
            cache[slot] = vid;
          }
          ev[q - q0] = vid;
        }
        const t1 = C_TSTART[cs + 1]!;
        for (let t = C_TSTART[cs]!; t < t1; t += 3) {
          indices[ni] = ev[C_TRI[t]!]!;
          indices[ni + 1] = ev[C_TRI[t + tB]!]!;
          indices[ni + 2] = ev[C_TRI[t + tC]!]!;
          ni += 3;
        }
      }
    }
    prevSlabStart = slabStart;
  }
  report(NZ - 1);
  if (nvert !== nVert || ni !== indices.length) {
    // only possible if the values changed between the passes (e.g. shared memory written meanwhile)
    throw new S2SError(
      'INVALID_ARGUMENT',
      `marching cubes made ${nvert} vertices and ${ni / 3} triangles but had counted ${nVert} and ${nTri}: the volume changed while it ran`,
      { hint: 'do not modify the volume (or mask) during extraction; if nothing modified it, report this as a bug' },
    );
  }
  return { positions, indices };
}

/**
 * Everything the three passes share, as plain data so that it can also be handed to the threads
 * of a ParallelRunner (kernels 'mc.classify', 'mc.count', 'mc.sweep'; typed arrays on shared memory).
 *
 * Plane lz of the local (possibly padded) grid: without padding it is the volume itself, starting
 * at data[p0 + lz * planeStride] with rows nx apart; with padding (closeBoundary or a mask) it is
 * built into a float64 plane of NX x NY exact values (outside value around, mask applied).
 */
export interface MarchArgs {
  readonly data: VoxelArray;
  readonly padded: boolean;
  readonly p0: number;
  readonly planeStride: number;
  readonly nx: number;
  readonly ny: number;
  readonly mask: Uint8Array | undefined;
  readonly lo: readonly number[];
  readonly hi: readonly number[];
  readonly outside: number;
  readonly NX: number;
  readonly NY: number;
  readonly NZ: number;
  readonly ox: number;
  readonly oy: number;
  readonly oz: number;
  readonly iso: number;
  /** lpsFromIjkMatrix (row-major 3x4 at least). */
  readonly M: readonly number[];
  readonly flip: boolean;
  /** Words per row of packed inside bits. */
  readonly W: number;
  /** Row classification by row r = lz * NY + ly (see classifyPlanes). */
  readonly rowL: Int32Array;
  readonly rowR: Int32Array;
  readonly rowS0: Uint8Array;
  readonly rowS1: Uint8Array;
  readonly bits: Int32Array;
  /** Per plane / layer lz: [3 lz] x and y edges of plane lz that change side, [3 lz + 1] z edges from lz to lz + 1, [3 lz + 2] triangles of the cube layer lz. */
  readonly counts: Int32Array;
  /** Per cube layer lz: its first vertex and its first triangle (filled between counting and sweeping). */
  readonly vStart: Float64Array;
  readonly tStart: Float64Array;
  readonly positions: Float32Array;
  readonly indices: Uint32Array;
}

/** The source of the planes for one pass: planeStart(lz) must be called for increasing lz. */
function planeSource(a: MarchArgs): {
  src: VoxelArray | Float64Array;
  stride: number;
  planeStart: (lz: number) => number;
} {
  if (!a.padded) return { src: a.data, stride: a.nx, planeStart: (lz) => a.p0 + lz * a.planeStride };
  // two padded planes of exact values (mask applied), alternating by plane parity
  const { data, mask, lo, hi, nx, ny, NX, NY, ox, oy, oz, outside: out } = a;
  const planes = new Float64Array(2 * NX * NY);
  return {
    src: planes,
    stride: NX,
    planeStart: (lz) => {
      const base = (lz & 1) * NX * NY;
      const k = lz + oz;
      planes.fill(out, base, base + NX * NY);
      if (k < lo[2]! || k > hi[2]!) return base;
      for (let j = lo[1]!; j <= hi[1]!; j++) {
        const s = (k * ny + j) * nx;
        const d = base + (j - oy) * NX - ox;
        for (let i = lo[0]!; i <= hi[0]!; i++) {
          let v = data[s + i]!;
          if (mask && mask[s + i] === 0) v = Math.min(v, out);
          planes[d + i] = v;
        }
      }
      return base;
    },
  };
}

/** Inside test constants: for integer voxels v >= iso <=> v >= ceil(iso) (an integer compare). */
function isoOf(a: MarchArgs, src: VoxelArray | Float64Array): { isoC: number; small: boolean } {
  const isoC = src instanceof Float32Array || src instanceof Float64Array ? a.iso : Math.ceil(a.iso);
  // Small integer voxels: v >= isoC <=> (isoC - 1 - v) < 0, exact in int32, so eight voxels are
  // tested with one sign check (the scans are most of the work on a CT far from the iso-value).
  const small =
    (src instanceof Int16Array ||
      src instanceof Uint16Array ||
      src instanceof Uint8Array ||
      src instanceof Int8Array) &&
    Math.abs(isoC) < 2 ** 30;
  return { isoC, small };
}

/**
 * Pass 1, planes [start, end): classify every row. L = first cube index that can hold surface as
 * far as this row goes (first inside/outside change - 1; NX - 1 when the row is constant), R =
 * last one (last change; -1), S0 / S1 = inside bit at the first / last voxel; and the row's
 * inside bits, packed 32 to an int (W words, the last one spare so that x + 1 can always be
 * read; bits past the row repeat S1).
 */
export function classifyPlanes(a: MarchArgs, start: number, end: number): void {
  const { src, stride, planeStart } = planeSource(a);
  const { isoC, small } = isoOf(a, src);
  const { NX, NY, W, rowL, rowR, rowS0, rowS1, bits } = a;
  const last = NX - 1;
  const c1 = isoC - 1;
  for (let lz = start; lz < end; lz++) {
    const base = planeStart(lz);
    for (let ly = 0; ly < NY; ly++) {
      const o = base + ly * stride;
      const r = lz * NY + ly;
      const rb = r * W;
      // scan in from the left to the first change
      let a = 1;
      let s0 = 0;
      if (src[o]! >= isoC) {
        while (a < NX && src[o + a]! >= isoC) a++;
        s0 = 1;
      } else {
        if (small) {
          while (
            a + 8 <= NX &&
            ((c1 - src[o + a]!) |
              (c1 - src[o + a + 1]!) |
              (c1 - src[o + a + 2]!) |
              (c1 - src[o + a + 3]!) |
              (c1 - src[o + a + 4]!) |
              (c1 - src[o + a + 5]!) |
              (c1 - src[o + a + 6]!) |
              (c1 - src[o + a + 7]!)) >=
              0
          ) {
            a += 8;
          }
        }
        while (a < NX && !(src[o + a]! >= isoC)) a++;
      }
      rowS0[r] = s0;
      if (a === NX) {
        rowL[r] = last;
        rowR[r] = -1;
        rowS1[r] = s0;
        if (s0) bits.fill(-1, rb, rb + W);
        continue;
      }
      // ... and from the right to the last change (there is one: a < NX)
      let b = last - 1;
      let s1 = 0;
      if (src[o + last]! >= isoC) {
        while (src[o + b]! >= isoC) b--;
        s1 = 1;
      } else {
        if (small) {
          while (
            b >= 7 &&
            ((c1 - src[o + b]!) |
              (c1 - src[o + b - 1]!) |
              (c1 - src[o + b - 2]!) |
              (c1 - src[o + b - 3]!) |
              (c1 - src[o + b - 4]!) |
              (c1 - src[o + b - 5]!) |
              (c1 - src[o + b - 6]!) |
              (c1 - src[o + b - 7]!)) >=
              0
          ) {
            b -= 8;
          }
        }
        while (!(src[o + b]! >= isoC)) b--;
      }
      const L = a - 1;
      rowL[r] = L;
      rowR[r] = b;
      rowS1[r] = s1;
      // bits: S0 up to L, S1 after b, the data in between
      for (let wi = 0; wi < W; wi++) {
        const lo = wi << 5;
        let word: number;
        if (lo + 31 <= L) word = -s0;
        else if (lo > b) word = -s1;
        else {
          const n0 = L - lo + 1; // voxels of this word at x <= L
          const sb = b + 1 - lo; // first bit after b
          word = 0;
          if (s0 && n0 > 0) word |= (1 << n0) - 1;
          if (s1 && sb < 32) word |= -1 << sb;
          const xe = Math.min(lo + 31, b);
          let x = Math.max(lo, L + 1);
          if (small) {
            for (; x <= xe; x++) word |= ((c1 - src[o + x]!) >>> 31) << (x - lo);
          } else {
            for (; x <= xe; x++) if (src[o + x]! >= isoC) word |= 1 << (x - lo);
          }
        }
        bits[rb + wi] = word;
      }
    }
  }
}

/** Edges along x within row r that change side. */
function xCrossings(a: MarchArgs, r: number): number {
  const L = a.rowL[r]!;
  const R = a.rowR[r]!;
  if (R < 0) return 0;
  const bits = a.bits;
  const rb = r * a.W;
  let n = 0;
  for (let wi = L >> 5; wi <= R >> 5; wi++) {
    const w = bits[rb + wi]!;
    let d = w ^ ((w >>> 1) | (bits[rb + wi + 1]! << 31));
    if (wi === L >> 5) d &= -1 << (L & 31);
    if (wi === R >> 5 && (R & 31) !== 31) d &= (1 << ((R & 31) + 1)) - 1;
    n += popcount(d);
  }
  return n;
}

/** Edges between rows r and r2 (across y or z) that change side. */
function crossCrossings(a: MarchArgs, r: number, r2: number): number {
  const { rowR, rowS0, bits, W, NX } = a;
  if (rowR[r]! < 0 && rowR[r2]! < 0) return rowS0[r] === rowS0[r2] ? 0 : NX;
  const last = NX - 1;
  const lastWord = last >> 5;
  const lastMask = (last & 31) === 31 ? -1 : (1 << ((last & 31) + 1)) - 1;
  const b1 = r * W;
  const b2 = r2 * W;
  let n = 0;
  for (let wi = 0; wi < lastWord; wi++) n += popcount(bits[b1 + wi]! ^ bits[b2 + wi]!);
  return n + popcount((bits[b1 + lastWord]! ^ bits[b2 + lastWord]!) & lastMask);
}

/**
 * The live (neither empty nor full) cubes of cube row (lz, ly) in increasing x: liveX[0 .. n)
 * and their cases liveCs; returns n.
 */
function liveCubes(a: MarchArgs, lz: number, ly: number, liveX: Int32Array, liveCs: Uint8Array): number {
  const { NX, NY, W, rowL, rowR, rowS0, rowS1, bits } = a;
  const a0 = lz * NY + ly;
  const b0 = a0 + NY;
  // the x-range of cubes whose four rows are not all on one side of the iso-value
  const s0 = rowS0[a0]!;
  let xL: number;
  if (rowS0[a0 + 1] === s0 && rowS0[b0] === s0 && rowS0[b0 + 1] === s0) {
    xL = Math.min(rowL[a0]!, rowL[a0 + 1]!, rowL[b0]!, rowL[b0 + 1]!);
  } else xL = 0;
  const s1 = rowS1[a0]!;
  let xR: number;
  if (rowS1[a0 + 1] === s1 && rowS1[b0] === s1 && rowS1[b0 + 1] === s1) {
    xR = Math.max(rowR[a0]!, rowR[a0 + 1]!, rowR[b0]!, rowR[b0 + 1]!);
  } else xR = NX - 2;
  if (xL > xR) return 0;
  let n = 0;
  const wA0 = a0 * W;
  const wA1 = wA0 + W;
  const wB0 = b0 * W;
  const wB1 = wB0 + W;
  const w0 = xL >> 5;
  const w1 = xR >> 5;
  for (let wi = w0; wi <= w1; wi++) {
    // corner bits of columns x (c*) and x + 1 (c*n) for the 32 cubes of this word
    const cA0 = bits[wA0 + wi]!;
    const cA1 = bits[wA1 + wi]!;
    const cB0 = bits[wB0 + wi]!;
    const cB1 = bits[wB1 + wi]!;
    const cA0n = (cA0 >>> 1) | (bits[wA0 + wi + 1]! << 31);
    const cA1n = (cA1 >>> 1) | (bits[wA1 + wi + 1]! << 31);
    const cB0n = (cB0 >>> 1) | (bits[wB0 + wi + 1]! << 31);
    const cB1n = (cB1 >>> 1) | (bits[wB1 + wi + 1]! << 31);
    const and0 = cA0 & cA1 & cB0 & cB1;
    const or0 = cA0 | cA1 | cB0 | cB1;
    const and1 = cA0n & cA1n & cB0n & cB1n;
    const or1 = cA0n | cA1n | cB0n | cB1n;
    // a cube is empty or full when both its columns are uniform and equal
    let live = (and0 ^ or0) | (and1 ^ or1) | (and0 ^ and1);
    if (wi === w0) live &= -1 << (xL & 31);
    if (wi === w1 && (xR & 31) !== 31) live &= (1 << ((xR & 31) + 1)) - 1;
    while (live !== 0) {
      const low = live & -live;
      live ^= low;
      const t0 = 31 - Math.clz32(low);
      liveX[n] = (wi << 5) + t0;
      liveCs[n++] =
        ((cA0 >>> t0) & 1) |
        (((cA1 >>> t0) & 1) << 1) |
        (((cB0 >>> t0) & 1) << 2) |
        (((cB1 >>> t0) & 1) << 3) |
        (((cA0n >>> t0) & 1) << 4) |
        (((cA1n >>> t0) & 1) << 5) |
        (((cB0n >>> t0) & 1) << 6) |
        (((cB1n >>> t0) & 1) << 7);
    }
  }
  return n;
}

/** Pass 2, planes / layers [start, end): exact counts (see MarchArgs.counts); needs pass 1 of planes start .. end. */
export function countLayers(a: MarchArgs, start: number, end: number): void {
  const { NX, NY, NZ, counts } = a;
  const liveX = new Int32Array(NX);
  const liveCs = new Uint8Array(NX);
  for (let lz = start; lz < end; lz++) {
    let xy = 0;
    let z = 0;
    let tri = 0;
    for (let ly = 0; ly < NY; ly++) {
      const r = lz * NY + ly;
      xy += xCrossings(a, r);
      if (ly + 1 < NY) xy += crossCrossings(a, r, r + 1);
      if (lz + 1 < NZ) {
        z += crossCrossings(a, r, r + NY);
        if (ly + 1 < NY) {
          const n = liveCubes(a, lz, ly, liveX, liveCs);
          for (let q = 0; q < n; q++) tri += C_NTRI[liveCs[q]!]!;
        }
      }
    }
    counts[3 * lz] = xy;
    counts[3 * lz + 1] = z;
    counts[3 * lz + 2] = tri;
  }
}

/**
 * Vertices made by cube layer lz (between planes lz and lz + 1): those of the edges of plane lz + 1
 * and of the z edges between the planes; layer 0 also those of plane 0. (Every edge of plane lz > 0
 * that changes side belongs to a live cube of layer lz - 1, which the sweep visits first.)
 */
function layerVertices(counts: Int32Array, lz: number): number {
  return counts[3 * (lz + 1)]! + counts[3 * lz + 1]! + (lz === 0 ? counts[0]! : 0);
}

/**
 * Pass 3, cube layers [start, end): vertices and triangles, numbered as in one z-y-x sweep of the
 * whole grid (vStart / tStart give each layer's first). A range that does not start at layer 0
 * first replays layer start - 1 without writing anything, to learn the ids of the vertices of
 * plane `start` that layer made. `report` (calling thread only) is told each layer.
 */
export function sweepLayers(a: MarchArgs, start: number, end: number, report?: (done: number) => void): void {
  const { src, stride, planeStart } = planeSource(a);
  const { NX, NY, ox, oy, oz, iso, M, flip, positions, indices, vStart, tStart, counts } = a;
  const planeSize = NX * NY;
  const liveX = new Int32Array(NX);
  const liveCs = new Uint8Array(NX);
  // Edge cache: sections [x-edges plane parity 0, parity 1, y-edges parity 0, parity 1,
  // z-edges]. An entry is valid when its vertex id is >= the first id of the slab that could
  // have written it (older entries are stale), so nothing is ever cleared.
  const cache = new Int32Array(5 * planeSize).fill(-1);
  const eSlot = new Int32Array(12); // offset of the edge's lower corner within a plane
  for (let e = 0; e < 12; e++) eSlot[e] = E_DY[e]! * NX + E_DX[e]!;
  const eBase = new Int32Array(12); // per slab: cache section start
  const eMin = new Int32Array(12); // per slab: minimum valid vertex id
  const rowOff = new Int32Array(4);
  const ev = new Int32Array(12); // vertex of each of the current cube's edges
  const eOff0 = new Int32Array(12); // per cube row: where the edge's corners are in src (x = 0)
  const eOff1 = new Int32Array(12);
  const tB = flip ? 2 : 1; // triangle corner order (flipped on left-handed grids)
  const tC = flip ? 1 : 2;
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
  const first = start > 0 ? start - 1 : start;
  // int32 counters (march checks the sizes fit), so that V8 keeps them out of float64 arithmetic
  let nvert = vStart[first]! | 0;
  let ni = (3 * tStart[start]!) | 0;
  let prevSlabStart = 0;
  let baseB = planeStart(first);
  for (let lz = first; lz < end; lz++) {
    const dry = lz < start; // the replayed layer
    if (!dry) report?.(lz);
    const baseA = baseB;
    baseB = planeStart(lz + 1);
    const pa = lz & 1;
    const pb = pa ^ 1;
    const slabStart = nvert;
    for (let e = 0; e < 12; e++) {
      const s = E_SEC[e]!;
      const sec = s === 4 ? 4 : s === 0 || s === 1 ? (s === 0 ? pa : pb) : 2 + (s === 2 ? pa : pb);
      eBase[e] = sec * planeSize + eSlot[e]!;
      // lower-plane x/y edges may come from the previous slab; the rest only from this one. In the
      // replayed layer (not layer 0) they all came from the layer before it: -1 marks them skipped.
      eMin[e] = s === 0 || s === 2 ? (dry && lz > 0 ? -1 : prevSlabStart) : slabStart;
    }
    const kBase = lz + oz;
    for (let ly = 0; ly < NY - 1; ly++) {
      const nLive = liveCubes(a, lz, ly, liveX, liveCs);
      if (nLive === 0) continue;
      const o0 = baseA + ly * stride;
      rowOff[0] = o0;
      rowOff[1] = o0 + stride;
      rowOff[2] = baseB + ly * stride;
      rowOff[3] = rowOff[2]! + stride;
      for (let e = 0; e < 12; e++) {
        eOff0[e] = rowOff[E_ROW0[e]!]! + E_DX0[e]!;
        eOff1[e] = rowOff[E_ROW1[e]!]! + E_DX1[e]!;
      }
      const rowBase = ly * NX;
      for (let c = 0; c < nLive; c++) {
        const lx = liveX[c]!;
        const cs = liveCs[c]!;
        const base = rowBase + lx;
        const q0 = C_ESTART[cs]!;
        const q1 = C_ESTART[cs + 1]!;
        for (let q = q0; q < q1; q++) {
          const e = C_EDGE[q]!;
          const min = eMin[e]!;
          if (min < 0) continue;
          const slot = eBase[e]! + base;
          let vid = cache[slot]!;
          if (vid < min) {
            vid = nvert++;
            cache[slot] = vid;
            if (dry) continue;
            const v0 = Math.fround(src[eOff0[e]! + lx]!);
            const v1 = Math.fround(src[eOff1[e]! + lx]!);
            const f = (iso - v0) / (v1 - v0);
            const axis = E_AXIS[e]!;
            let I = lx + ox + E_DX[e]!;
            let J = ly + oy + E_DY[e]!;
            let K = kBase + E_DZ[e]!;
            if (axis === 0) I += f;
            else if (axis === 1) J += f;
            else K += f;
            const np = 3 * vid;
            positions[np] = m0 * I + m1 * J + m2 * K + m3;
            positions[np + 1] = m4 * I + m5 * J + m6 * K + m7;
            positions[np + 2] = m8 * I + m9 * J + m10 * K + m11;
          }
          ev[q - q0] = vid;
        }
        if (dry) continue;
        const t1 = C_TSTART[cs + 1]!;
        for (let t = C_TSTART[cs]!; t < t1; t += 3) {
          indices[ni] = ev[C_TRI[t]!]!;
          indices[ni + 1] = ev[C_TRI[t + tB]!]!;
          indices[ni + 2] = ev[C_TRI[t + tC]!]!;
          ni += 3;
        }
      }
    }
    prevSlabStart = slabStart;
    if (nvert !== slabStart + layerVertices(counts, lz) || (!dry && ni !== 3 * (tStart[lz]! + counts[3 * lz + 2]!))) {
      // only possible if the values changed between the passes (e.g. shared memory written meanwhile)
      throw new S2SError(
        'INVALID_ARGUMENT',
        `marching cubes made other vertices or triangles in layer ${lz} than it had counted: the volume changed while it ran`,
        { hint: 'do not modify the volume (or mask) during extraction; if nothing modified it, report this as a bug' },
      );
    }
  }
}

/**
 * The three passes over the local grid split over `runner` (by planes, then by cube layers): the
 * mesh of `march`, bit for bit (vertex numbering included).
 */
function marchSlabs(
  init: Omit<
    MarchArgs,
    'W' | 'rowL' | 'rowR' | 'rowS0' | 'rowS1' | 'bits' | 'counts' | 'vStart' | 'tStart' | 'positions' | 'indices'
  >,
  runner: ParallelRunner | undefined,
  report: (done: number) => void,
): Mesh {
  // (kept general: with runner undefined it runs the kernels on this thread, as the tests check)
  const { NX, NY, NZ } = init;
  const W = (NX >> 5) + 1;
  const nRows = NZ * NY;
  const i32 = (n: number) => allocInt32(n, runner);
  const f64 = (n: number) => new Float64Array(allocInt32(2 * n, runner).buffer);
  let a: MarchArgs = {
    ...init,
    W,
    rowL: i32(nRows),
    rowR: i32(nRows),
    rowS0: allocUint8(nRows, runner),
    rowS1: allocUint8(nRows, runner),
    bits: i32(nRows * W),
    counts: i32(3 * NZ),
    vStart: f64(NZ),
    tStart: f64(NZ),
    positions: new Float32Array(0),
    indices: new Uint32Array(0),
  };
  // 1. classify every row, 2. count exactly (so the output is allocated once, at its final size)
  if (runner) {
    runner.runSlabs('mc.classify', a, splitRange(NZ, runner, 4, 4));
    runner.runSlabs('mc.count', a, splitRange(NZ, runner, 4, 4));
  } else {
    classifyPlanes(a, 0, NZ);
    countLayers(a, 0, NZ);
  }
  let nVert = 0;
  let nTri = 0;
  for (let lz = 0; lz < NZ - 1; lz++) {
    a.vStart[lz] = nVert;
    a.tStart[lz] = nTri;
    nVert += layerVertices(a.counts, lz);
    nTri += a.counts[3 * lz + 2]!;
  }
  if (3 * nTri > 0x7fffffff || 3 * nVert > 0x7fffffff) {
    throw new S2SError('INVALID_ARGUMENT', `the surface would have ${nTri} triangles: too many for one mesh`, {
      hint: 'extract a region (roi) or a coarser volume',
    });
  }
  // 3. sweep the cubes in z, y, x order, making vertices and triangles
  a = {
    ...a,
    positions: runner ? allocFloat32(3 * nVert, runner) : new Float32Array(3 * nVert),
    indices: runner ? new Uint32Array(allocInt32(3 * nTri, runner).buffer) : new Uint32Array(3 * nTri),
  };
  if (runner) {
    report(0);
    runner.runSlabs('mc.sweep', a, splitRange(NZ - 1, runner, 4, 4));
    report(NZ - 1);
    // the mesh on ordinary memory, like the single-threaded one (one copy)
    return { positions: a.positions.slice(), indices: a.indices.slice() };
  }
  sweepLayers(a, 0, NZ - 1, report);
  report(NZ - 1);
  return { positions: a.positions, indices: a.indices };
}

/** Kernel 'mc.sweep' (a function declaration: kernels.ts may read it while this module is still loading). */
export function sweepLayersKernel(a: MarchArgs, start: number, end: number): void {
  sweepLayers(a, start, end);
}

function det3(m: ArrayLike<number>): number {
  return (
    m[0]! * (m[5]! * m[10]! - m[6]! * m[9]!) -
    m[1]! * (m[4]! * m[10]! - m[6]! * m[8]!) +
    m[2]! * (m[4]! * m[9]! - m[5]! * m[8]!)
  );
}

/**
 * Region-restricted geometry between a source image and a model grid, so that every stage of
 * segmentWithModel can work only where it matters:
 *
 *  - `sampleSource`: the normalised image on (a box of) a grid with the reoriented image's
 *    direction (the model grid, or look-first's coarse grid), read straight from the source voxels.
 *    The lossless reorientation is folded into the indexing (no reoriented copy of the image),
 *    the normalisation is applied to the voxels that are read, and only the source voxels the
 *    interpolation taps actually reach are gathered (the support of the per-axis tables).
 *  - `labelsOntoSource` / `probabilitiesOntoSource`: a prediction on (a box of) the model grid
 *    written onto the source grid, only into the source voxels whose taps reach that box (every
 *    other voxel is background), again without a reoriented copy.
 *
 * Exactness: the per-axis tables are the ones ops `resampleOnto` computes for the whole grids
 * (same scale/shift, same snapping, same clamping, identity when the grids match within 1e-6 mm,
 * as preprocessing and postprocessing always did), and the separable passes do the same float
 * operations in the same order (float64 sums along i stored to float32; float32 accumulation
 * along j and k, zero weights skipped). The value of an output voxel depends only on its own taps,
 * so a box gives bit for bit the values the whole-grid computation gives there.
 */
import {
  type Grid,
  gridsMatch,
  ijkFromLpsMatrix,
  lpsFromIjk,
  lpsFromIjkMatrix,
  makeGrid,
  multiplyAffine,
  type RunOptions,
  S2SError,
  throwIfAborted,
  type Vec3,
  type Volume,
} from '@slice2solid/core';
import { type AxisTable, axisTable, cropGrid, type IndexBox, type Interpolation } from '@slice2solid/ops';
import type { Activation } from './sliding-window.js';

/** reoriented axis b = source axis perm[b], reversed where flip[b] (as core `reorientPlan`). */
export interface ReorientRecord {
  readonly perm: Vec3;
  readonly flip: readonly [boolean, boolean, boolean];
}

/** A source grid and its lossless reorientation (the first half of a PreprocessRecord). */
export interface SourceGeometry {
  readonly sourceGrid: Grid;
  readonly reorient: ReorientRecord;
  readonly reorientedGrid: Grid;
}

/** The clip limits and linear map of one input channel: value' = (clip(value, low, high) - offset) * scale. */
export interface ChannelMap {
  readonly low: number;
  readonly high: number;
  readonly offset: number;
  readonly scale: number;
}

/** The grid core `reorientVolume` gives a volume on `grid` (without touching any voxel). */
export function reorientedGridOf(grid: Grid, plan: ReorientRecord): Grid {
  const perm = plan.perm as readonly number[];
  const flip = plan.flip;
  if (perm[0] === 0 && perm[1] === 1 && perm[2] === 2 && !flip.some(Boolean)) return grid;
  const gs = grid.size as readonly number[];
  const src0 = [0, 0, 0];
  for (let b = 0; b < 3; b++) if (flip[b]) src0[perm[b]!] = gs[perm[b]!]! - 1;
  return makeGrid({
    size: [gs[perm[0]!]!, gs[perm[1]!]!, gs[perm[2]!]!],
    spacing: perm.map((a) => (grid.spacing as readonly number[])[a]!),
    origin: lpsFromIjk(grid, src0),
    direction: [0, 1, 2].map((b) => {
      const d = grid.direction[perm[b]!]!;
      return flip[b] ? [-d[0], -d[1], -d[2]] : d;
    }),
  });
}

/** Source linear index of reoriented voxel (0, 0, 0) and the source steps along reoriented i, j, k. */
function sourceSteps(g: SourceGeometry): { base: number; step: [number, number, number] } {
  const { perm, flip } = g.reorient;
  const gs = g.sourceGrid.size;
  const stride = [1, gs[0], gs[0] * gs[1]];
  let base = 0;
  const step: [number, number, number] = [0, 0, 0];
  for (let b = 0; b < 3; b++) {
    const a = perm[b]!;
    if (g.reorientedGrid.size[b] !== gs[a]) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        'the preprocessing record is inconsistent (grid sizes do not match its reorientation)',
      );
    }
    if (flip[b]) {
      base += (gs[a]! - 1) * stride[a]!;
      step[b] = -stride[a]!;
    } else step[b] = stride[a]!;
  }
  return { base, step };
}

/** The source-grid box holding the voxels of a reoriented-grid box. */
export function sourceBoxOf(g: SourceGeometry, box: IndexBox): IndexBox {
  const { perm, flip } = g.reorient;
  const gs = g.sourceGrid.size;
  const start = [0, 0, 0];
  const end = [0, 0, 0];
  for (let b = 0; b < 3; b++) {
    const a = perm[b]!;
    if (flip[b]) {
      start[a] = gs[a]! - box.end[b]!;
      end[a] = gs[a]! - box.start[b]!;
    } else {
      start[a] = box.start[b]!;
      end[a] = box.end[b]!;
    }
  }
  return { start: start as unknown as Vec3, end: end as unknown as Vec3 };
}

export function fullBox(grid: Grid): IndexBox {
  return { start: [0, 0, 0], end: [grid.size[0], grid.size[1], grid.size[2]] };
}

export function boxVoxels(box: IndexBox): number {
  return (box.end[0] - box.start[0]) * (box.end[1] - box.start[1]) * (box.end[2] - box.start[2]);
}

function isFull(box: IndexBox, grid: Grid): boolean {
  return [0, 1, 2].every((a) => box.start[a] === 0 && box.end[a] === grid.size[a]);
}

// ---------------------------------------------------------------------------------------------
// per-axis tables (ops `axisTable`, the ones resampleOnto builds)

function identityTable(n: number): AxisTable {
  const index = new Int32Array(n);
  for (let o = 0; o < n; o++) index[o] = o;
  return { taps: 1, index, weight: new Float64Array(n).fill(1) };
}

/**
 * Tables mapping each index of `dst` to (taps of) indices of `src`, per axis, as ops
 * `resampleOnto(volume on src, dst)` uses them; the identity when the grids match within 1e-6 mm.
 * The grids must share their direction (GEOMETRY_MISMATCH otherwise).
 */
export function axisTables(src: Grid, dst: Grid, interp: Interpolation): [AxisTable, AxisTable, AxisTable] {
  if (gridsMatch(src, dst, 1e-6))
    return [identityTable(dst.size[0]), identityTable(dst.size[1]), identityTable(dst.size[2])];
  const T = multiplyAffine(ijkFromLpsMatrix(src), lpsFromIjkMatrix(dst));
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      if (r !== c && Math.abs(T[r * 4 + c]!) > 1e-6) {
        throw new S2SError('GEOMETRY_MISMATCH', 'the target grid must have the same direction as the image', {
          hint: 'reorientation is a separate step',
        });
      }
    }
  }
  return [0, 1, 2].map((a) => axisTable(dst.size[a]!, src.size[a]!, T[a * 5]!, T[a * 4 + 3]!, interp)) as [
    AxisTable,
    AxisTable,
    AxisTable,
  ];
}

/** Outputs [o0, o1) of a table whose taps all lie in [lo, hi) (tables are monotone); undefined when none. */
function outputsWithin(t: AxisTable, lo: number, hi: number): [number, number] | undefined {
  const n = t.index.length / t.taps;
  let first = -1;
  let last = -1;
  for (let o = 0; o < n; o++) {
    let inside = true;
    for (let q = 0; q < t.taps; q++) {
      const x = t.index[o * t.taps + q]!;
      if (x < lo || x >= hi) {
        inside = false;
        break;
      }
    }
    if (inside) {
      if (first < 0) first = o;
      last = o;
    }
  }
  return first < 0 ? undefined : [first, last + 1];
}

/** A table restricted to outputs [start, end), its tap indices renumbered into the support (sorted distinct taps). */
interface Restricted {
  readonly support: Int32Array;
  readonly taps: number;
  readonly index: Int32Array;
  readonly weight: Float64Array;
  /** One tap of weight 1 per output, onto consecutive support entries: the pass is a copy. */
  readonly identity: boolean;
}

function restrict(t: AxisTable, start: number, end: number): Restricted {
  const taps = t.taps;
  const idx = t.index.subarray(start * taps, end * taps);
  const weight = t.weight.subarray(start * taps, end * taps);
  let lo = Infinity;
  let hi = -Infinity;
  for (let q = 0; q < idx.length; q++) {
    const x = idx[q]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const pos = new Int32Array(hi - lo + 1).fill(-1);
  for (let q = 0; q < idx.length; q++) pos[idx[q]! - lo] = 0;
  let n = 0;
  for (let x = 0; x < pos.length; x++) if (pos[x] === 0) pos[x] = n++;
  const support = new Int32Array(n);
  for (let x = 0; x < pos.length; x++) if (pos[x]! >= 0) support[pos[x]!] = x + lo;
  const index = new Int32Array(idx.length);
  for (let q = 0; q < idx.length; q++) index[q] = pos[idx[q]! - lo]!;
  let identity = taps === 1 && n === idx.length;
  for (let q = 0; identity && q < idx.length; q++) identity = index[q] === q && weight[q] === 1;
  return { support, taps, index, weight, identity };
}

/** Resamples `src` (size) along axis a with the table into dst (size with axis a replaced), as ops resampleOnto does. */
function applyAxis(src: Float32Array, size: Vec3, a: number, tab: Restricted, dst: Float32Array): void {
  const [nx, ny, nz] = size;
  const { taps, index, weight } = tab;
  const nOut = index.length / taps;
  if (a === 0) {
    const rows = ny * nz;
    for (let r = 0; r < rows; r++) {
      const sb = r * nx;
      const db = r * nOut;
      for (let o = 0; o < nOut; o++) {
        let s = 0;
        for (let t = 0; t < taps; t++) s += weight[o * taps + t]! * src[sb + index[o * taps + t]!]!;
        dst[db + o] = s;
      }
    }
    return;
  }
  const inner = a === 1 ? nx : nx * ny;
  const outer = a === 1 ? nz : 1;
  const n = a === 1 ? ny : nz;
  const blockIn = inner * n;
  const blockOut = inner * nOut;
  for (let bIdx = 0; bIdx < outer; bIdx++) {
    const sb = bIdx * blockIn;
    const db = bIdx * blockOut;
    for (let o = 0; o < nOut; o++) {
      const d = db + o * inner;
      for (let e = 0; e < inner; e++) dst[d + e] = 0;
      for (let t = 0; t < taps; t++) {
        const w = weight[o * taps + t]!;
        if (w === 0) continue;
        const s = sb + index[o * taps + t]! * inner;
        for (let e = 0; e < inner; e++) dst[d + e]! += w * src[s + e]!;
      }
    }
  }
}

/** The three separable passes over a gathered (support-sized) array. */
function separable(gathered: Float32Array, tabs: readonly Restricted[]): Float32Array {
  let cur = gathered;
  let size: Vec3 = [tabs[0]!.support.length, tabs[1]!.support.length, tabs[2]!.support.length];
  for (let a = 0; a < 3; a++) {
    const t = tabs[a]!;
    const nOut = t.index.length / t.taps;
    if (!t.identity) {
      const next = new Float32Array((cur.length / size[a]!) * nOut);
      applyAxis(cur, size, a, t, next);
      cur = next;
    }
    size = [a === 0 ? nOut : size[0], a === 1 ? nOut : size[1], a === 2 ? nOut : size[2]];
  }
  return cur;
}

// ---------------------------------------------------------------------------------------------
// source -> model grid (preprocessing)

export interface SampledInput {
  /** The box's grid (the whole `dst` grid when no box was given). */
  readonly grid: Grid;
  /** Float32, one component per channel, on `grid`. */
  readonly data: Float32Array;
  /** Source voxels read per channel (the tables' support), for reports. */
  readonly sourceVoxelsRead: number;
  /** Largest temporary arrays held at once, bytes. */
  readonly workingBytes: number;
}

/**
 * The normalised image on `box` of `dst` (a grid with the reoriented grid's direction), equal voxel
 * for voxel to reorienting the whole image, normalising it with `maps` and resampling it onto `dst`
 * with ops `resampleOnto` (identity when the grids match within 1e-6 mm), then cropping to `box`.
 */
export function sampleSource(
  volume: Volume,
  geometry: SourceGeometry,
  dst: Grid,
  box: IndexBox | undefined,
  interp: Interpolation,
  maps: readonly ChannelMap[],
  run: RunOptions = {},
): SampledInput {
  const b = box ?? fullBox(dst);
  for (let a = 0; a < 3; a++) {
    if (!(b.start[a]! >= 0 && b.end[a]! <= dst.size[a]! && b.start[a]! < b.end[a]!)) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `box [${b.start.join(', ')}]..[${b.end.join(', ')}] is not inside the ${dst.size.join('x')} grid`,
      );
    }
  }
  const nc = volume.components;
  if (maps.length !== nc) {
    throw new S2SError('INVALID_ARGUMENT', `got ${maps.length} channel maps for ${nc} image component(s)`);
  }
  const tables = axisTables(geometry.reorientedGrid, dst, interp);
  const tabs = [0, 1, 2].map((a) => restrict(tables[a]!, b.start[a]!, b.end[a]!));
  const { base, step } = sourceSteps(geometry);
  const [s0, s1, s2] = tabs.map((t) => t.support) as [Int32Array, Int32Array, Int32Array];
  const off0 = Float64Array.from(s0, (x) => x * step[0]);
  const n = s0.length * s1.length * s2.length;
  const outN = boxVoxels(b);
  const data = volume.data;
  const out = new Float32Array(outN * nc);
  let workingBytes = 0;
  for (let c = 0; c < nc; c++) {
    throwIfAborted(run.signal);
    const { low, high, offset, scale } = maps[c]!;
    const g = new Float32Array(n);
    let o = 0;
    for (let z = 0; z < s2.length; z++) {
      const kb = base + s2[z]! * step[2];
      for (let y = 0; y < s1.length; y++) {
        const rb = kb + s1[y]! * step[1];
        if (nc === 1) {
          for (let x = 0; x < off0.length; x++) {
            let v = data[rb + off0[x]!]!;
            if (v < low) v = low;
            else if (v > high) v = high;
            g[o++] = (v - offset) * scale;
          }
        } else {
          for (let x = 0; x < off0.length; x++) {
            let v = data[(rb + off0[x]!) * nc + c]!;
            if (v < low) v = low;
            else if (v > high) v = high;
            g[o++] = (v - offset) * scale;
          }
        }
      }
    }
    const r = separable(g, tabs);
    workingBytes = Math.max(workingBytes, (n + (tabs[0]!.index.length / tabs[0]!.taps) * s1.length * s2.length) * 4);
    if (nc === 1) out.set(r);
    else for (let p = 0; p < outN; p++) out[p * nc + c] = r[p]!;
    run.onProgress?.({ stage: 'preprocess', done: c + 1, total: nc });
  }
  return {
    grid: box && !isFull(box, dst) ? cropGrid(dst, box) : dst,
    data: out,
    sourceVoxelsRead: n,
    workingBytes: workingBytes + outN * nc * 4,
  };
}

// ---------------------------------------------------------------------------------------------
// model grid -> source grid (postprocessing)

type LabelArray = Uint8Array | Uint16Array;

/** Per value, the value written (0: not kept); undefined keeps every value. */
export type LabelLut = Uint16Array | undefined;

/** Writes `region` (a box of the reoriented grid, values in reoriented order) into `out` on the source grid. */
function writeRegion(values: ArrayLike<number>, region: IndexBox, geometry: SourceGeometry, out: LabelArray): void {
  const { base, step } = sourceSteps(geometry);
  const [sx, sy, sz] = step;
  const [x0, y0, z0] = region.start;
  const bx = region.end[0] - x0;
  let q = 0;
  for (let k = z0; k < region.end[2]; k++)
    for (let j = y0; j < region.end[1]; j++) {
      let s = base + x0 * sx + j * sy + k * sz;
      for (let i = 0; i < bx; i++, s += sx) out[s] = values[q++]!;
    }
}

/** The box (within `box`, in grid coordinates) of the voxels of `labels` (on `box`) whose value maps to non-zero. */
function keptBox(labels: LabelArray, box: IndexBox, lut: LabelLut): IndexBox | undefined {
  const bx = box.end[0] - box.start[0];
  const by = box.end[1] - box.start[1];
  const bz = box.end[2] - box.start[2];
  const lo = [bx, by, bz];
  const hi = [-1, -1, -1];
  let p = 0;
  for (let k = 0; k < bz; k++)
    for (let j = 0; j < by; j++) {
      let first = -1;
      let last = -1;
      for (let i = 0; i < bx; i++, p++) {
        const v = labels[p]!;
        if (v !== 0 && (lut === undefined || lut[v] !== 0)) {
          if (first < 0) first = i;
          last = i;
        }
      }
      if (first < 0) continue;
      if (first < lo[0]!) lo[0] = first;
      if (last > hi[0]!) hi[0] = last;
      if (j < lo[1]!) lo[1] = j;
      if (j > hi[1]!) hi[1] = j;
      if (k < lo[2]!) lo[2] = k;
      if (k > hi[2]!) hi[2] = k;
    }
  if (hi[0]! < 0) return undefined;
  return {
    start: [lo[0]! + box.start[0], lo[1]! + box.start[1], lo[2]! + box.start[2]],
    end: [hi[0]! + 1 + box.start[0], hi[1]! + 1 + box.start[1], hi[2]! + 1 + box.start[2]],
  };
}

export interface OntoSourceResult {
  /** The source-grid box that was written (everything else was left as it was: background); undefined when nothing was. */
  readonly sourceBox: IndexBox | undefined;
  /** Source voxels computed. */
  readonly voxels: number;
  /** Source voxels written per label value (index = value; background not counted), when known without a pass over them. */
  readonly counts?: Float64Array;
}

/**
 * Nearest-neighbour mapping of `labels` (on `box` of `modelGrid`; the rest of the model grid is
 * background) onto the source grid, into `out` (source-sized, zero-filled by the caller): only the
 * source voxels whose nearest model voxel holds a kept label (`lut`, default all) in that box are
 * written. Voxel for voxel what resampling the whole (background-filled) model grid back and
 * undoing the reorientation gives.
 */
export function labelsOntoSource(
  labels: LabelArray,
  box: IndexBox,
  modelGrid: Grid,
  geometry: SourceGeometry,
  out: LabelArray,
  lut: LabelLut = undefined,
): OntoSourceResult {
  if (labels.length !== boxVoxels(box)) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the label volume has ${labels.length} values but its box needs ${boxVoxels(box)}`,
    );
  }
  const kept = keptBox(labels, box, lut);
  if (!kept) return { sourceBox: undefined, voxels: 0 };
  const tables = axisTables(modelGrid, geometry.reorientedGrid, 'nearest');
  const range: [number, number][] = [];
  for (let a = 0; a < 3; a++) {
    const r = outputsWithin(tables[a]!, kept.start[a]!, kept.end[a]!);
    if (!r) return { sourceBox: undefined, voxels: 0 };
    range.push(r);
  }
  const region: IndexBox = {
    start: [range[0]![0], range[1]![0], range[2]![0]],
    end: [range[0]![1], range[1]![1], range[2]![1]],
  };
  const bx = box.end[0] - box.start[0];
  const bxy = bx * (box.end[1] - box.start[1]);
  // offsets into `labels` of the nearest model voxel along each reoriented axis
  const off = [0, 1, 2].map((a) => {
    const t = tables[a]!.index;
    const stride = a === 0 ? 1 : a === 1 ? bx : bxy;
    const r = range[a]!;
    const o = new Float64Array(r[1] - r[0]);
    for (let x = r[0]; x < r[1]; x++) o[x - r[0]] = (t[x]! - box.start[a]!) * stride;
    return o;
  }) as [Float64Array, Float64Array, Float64Array];
  const { base, step } = sourceSteps(geometry);
  const [sx, sy, sz] = step;
  const [ox, oy, oz] = off;
  const r0 = region.start;
  const nx = ox.length;
  // a source row along reoriented i is contiguous when |sx| = 1: rows that read the same model
  // row (neighbouring j or k with the same nearest model index) are copied, not recomputed
  const contiguous = sx === 1 || sx === -1;
  const lastKey = new Float64Array(oy.length).fill(-1);
  const lastAt = new Float64Array(oy.length);
  for (let k = 0; k < oz.length; k++) {
    const kb = base + (k + r0[2]) * sz;
    for (let j = 0; j < oy.length; j++) {
      const m = oz[k]! + oy[j]!;
      let s = kb + (j + r0[1]) * sy + r0[0] * sx;
      if (contiguous) {
        const at = sx === 1 ? s : s - nx + 1;
        const prevKey = j > 0 && oy[j - 1] === oy[j] ? m : -2; // same model row as the row just written
        if (prevKey === m) {
          const prev = at - sy;
          out.copyWithin(at, prev, prev + nx);
          lastKey[j] = m;
          lastAt[j] = at;
          continue;
        }
        if (lastKey[j] === m) {
          out.copyWithin(at, lastAt[j]!, lastAt[j]! + nx);
          lastAt[j] = at;
          continue;
        }
        lastKey[j] = m;
        lastAt[j] = at;
      }
      if (lut === undefined) for (let i = 0; i < nx; i++, s += sx) out[s] = labels[m + ox[i]!]!;
      else for (let i = 0; i < nx; i++, s += sx) out[s] = lut[labels[m + ox[i]!]!]!;
    }
  }
  // voxels per value, from the model grid: a model voxel is copied to (runs along i) x (along j) x (along k) source voxels
  const counts = new Float64Array(out instanceof Uint8Array ? 256 : 65536);
  const runs = [0, 1, 2].map((a) => {
    const c = new Float64Array(a === 0 ? bx : a === 1 ? box.end[1] - box.start[1] : box.end[2] - box.start[2]);
    const t = tables[a]!.index;
    for (let x = range[a]![0]; x < range[a]![1]; x++) c[t[x]! - box.start[a]!]!++;
    return c;
  }) as [Float64Array, Float64Array, Float64Array];
  for (let k = kept.start[2] - box.start[2]; k < kept.end[2] - box.start[2]; k++) {
    const ck = runs[2][k]!;
    if (ck === 0) continue;
    for (let j = kept.start[1] - box.start[1]; j < kept.end[1] - box.start[1]; j++) {
      const ckj = ck * runs[1][j]!;
      if (ckj === 0) continue;
      const row = k * bxy + j * bx;
      for (let i = kept.start[0] - box.start[0]; i < kept.end[0] - box.start[0]; i++) {
        const v = labels[row + i]!;
        counts[lut === undefined ? v : lut[v]!]! += ckj * runs[0][i]!;
      }
    }
  }
  counts[0] = 0;
  return { sourceBox: sourceBoxOf(geometry, region), voxels: boxVoxels(region), counts };
}

export interface ProbabilitiesOntoSourceOptions extends RunOptions {
  readonly activation?: Activation;
  readonly lut?: LabelLut;
}

/**
 * Linear mapping of per-channel uint8 probabilities (on `box` of `modelGrid`; outside it the model
 * grid is background: 255 in the background channel for a softmax of several channels, 0 elsewhere)
 * onto the source grid, then the arg-max there (ties: the first channel; sigmoid or one channel:
 * p > 0.5), into `out`. Only the source voxels whose taps reach the box are computed (the others
 * are background: their taps see background only). Voxel for voxel what `probabilitiesToSource`
 * gives for the background-filled whole model grid.
 */
export function probabilitiesOntoSource(
  probabilities: readonly Uint8Array[],
  labelValues: readonly number[],
  box: IndexBox,
  modelGrid: Grid,
  geometry: SourceGeometry,
  out: LabelArray,
  options: ProbabilitiesOntoSourceOptions = {},
): OntoSourceResult {
  const activation = options.activation ?? 'softmax';
  const lut = options.lut;
  const nch = probabilities.length;
  const thresholded = activation === 'sigmoid' || nch === 1;
  const bgFill = activation === 'softmax' && nch > 1;
  const bgOf = (c: number) => (bgFill && labelValues[c] === 0 ? 255 : 0);
  // the label of a voxel whose taps see only background
  let outside = 0;
  {
    let best = thresholded ? 127.5 : -1;
    for (let c = 0; c < nch; c++) {
      if (bgOf(c) > best) {
        best = bgOf(c);
        outside = labelValues[c]!;
      }
    }
    if (lut !== undefined) outside = lut[outside]!;
  }
  if (outside !== 0) out.fill(outside);
  // one voxel of background around the box, so that taps just outside it read background
  const pad: IndexBox = {
    start: [0, 1, 2].map((a) => Math.max(0, box.start[a]! - 1)) as unknown as Vec3,
    end: [0, 1, 2].map((a) => Math.min(modelGrid.size[a]!, box.end[a]! + 1)) as unknown as Vec3,
  };
  const tables = axisTables(modelGrid, geometry.reorientedGrid, 'linear');
  const range: [number, number][] = [];
  for (let a = 0; a < 3; a++) {
    const r = outputsWithin(tables[a]!, pad.start[a]!, pad.end[a]!);
    if (!r) return { sourceBox: undefined, voxels: 0 };
    range.push(r);
  }
  const region: IndexBox = {
    start: [range[0]![0], range[1]![0], range[2]![0]],
    end: [range[0]![1], range[1]![1], range[2]![1]],
  };
  const tabs = [0, 1, 2].map((a) => restrict(tables[a]!, range[a]![0], range[a]![1]));
  const [s0, s1, s2] = tabs.map((t) => t.support) as [Int32Array, Int32Array, Int32Array];
  const bx = box.end[0] - box.start[0];
  const by = box.end[1] - box.start[1];
  const n = boxVoxels(region);
  const best = new Float32Array(n).fill(thresholded ? 127.5 : -1);
  const maxLabel = Math.max(...labelValues);
  const labels = maxLabel > 255 ? new Uint16Array(n) : new Uint8Array(n);
  const g = new Float32Array(s0.length * s1.length * s2.length);
  probabilities.forEach((p, c) => {
    throwIfAborted(options.signal);
    if (p.length !== boxVoxels(box)) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `probability channel ${c} has ${p.length} values but its box needs ${boxVoxels(box)}`,
      );
    }
    const bg = bgOf(c);
    let o = 0;
    for (let z = 0; z < s2.length; z++) {
      const k = s2[z]! - box.start[2];
      for (let y = 0; y < s1.length; y++) {
        const j = s1[y]! - box.start[1];
        const rowInside = k >= 0 && k < box.end[2] - box.start[2] && j >= 0 && j < by;
        const rb = (k * by + j) * bx;
        for (let x = 0; x < s0.length; x++) {
          const i = s0[x]! - box.start[0];
          g[o++] = rowInside && i >= 0 && i < bx ? p[rb + i]! : bg;
        }
      }
    }
    const v = separable(g, tabs);
    const value = labelValues[c]!;
    // strict '>' keeps the first channel on ties, as an arg-max does
    for (let q = 0; q < n; q++) {
      const x = v[q]!;
      if (x > best[q]!) {
        best[q] = x;
        labels[q] = value;
      }
    }
    options.onProgress?.({ stage: 'probabilities to source grid', done: c + 1, total: nch });
  });
  if (lut !== undefined) for (let q = 0; q < n; q++) labels[q] = lut[labels[q]!]!;
  writeRegion(labels, region, geometry, out);
  return { sourceBox: outside !== 0 ? fullBox(geometry.sourceGrid) : sourceBoxOf(geometry, region), voxels: n };
}

/** Per value, the value written: the value itself for `values`, 0 for every other one. */
export function keepLut(values: readonly number[]): Uint16Array {
  const lut = new Uint16Array(65536);
  for (const v of values) lut[v] = v;
  return lut;
}

// Ball dilation on bit-packed rows (internal; used by ball.ts for radii of up to ~31 voxels).
//
// The ball {(a, b, c) : (a sx)^2 + (b sy)^2 + (c sz)^2 <= lim} is, for every row offset
// (b, c) it reaches, a run of voxels |a| <= w(b, c) along i. So a dilated row is the OR, over
// those (b, c), of source row (j + b, k + c) dilated along i by w(b, c), and a row dilated by w
// is w shifts-and-ORs of the packed row (32 voxels per word). A ring of 2Rk+1 slices keeps the
// rows dilated by every width 0..wMax. The result is exactly the definition (the same test as
// a brute-force scan), at a cost of about (number of (b, c) pairs) / 32 word operations per
// voxel. Slices are independent given the packed input, so the work splits into slabs.

/** Row offsets (b, c) of the ball with their half-widths along i, as flat (b, c, w) triples. */
export interface BallRows {
  readonly triples: Int32Array;
  /** Largest half-width along i, reach along j and along k (voxels). */
  readonly wMax: number;
  readonly rj: number;
  readonly rk: number;
}

/** The rows of the ball of squared radius `lim` (mm^2) on a grid with spacing (sx, sy, sz). */
export function ballRows(lim: number, spacing: readonly [number, number, number]): BallRows {
  const [sx, sy, sz] = spacing;
  const r = Math.sqrt(lim);
  const R = [sx, sy, sz].map((s) => Math.floor(r / s) + 1);
  const out: number[] = [];
  let wMax = 0;
  let rj = 0;
  let rk = 0;
  for (let c = -R[2]!; c <= R[2]!; c++) {
    for (let b = -R[1]!; b <= R[1]!; b++) {
      // same expression (and order of additions) as the definition
      const inBall = (a: number) => (a * sx) ** 2 + (b * sy) ** 2 + (c * sz) ** 2 <= lim;
      if (!inBall(0)) continue;
      let w = 0;
      while (inBall(w + 1)) w++;
      out.push(b, c, w);
      if (w > wMax) wMax = w;
      if (Math.abs(b) > rj) rj = Math.abs(b);
      if (Math.abs(c) > rk) rk = Math.abs(c);
    }
  }
  return { triples: Int32Array.from(out), wMax, rj, rk };
}

/** Arguments of 'ball.pack' and 'ball.dilate': a box of the grid, packed 32 voxels per word. */
export interface BallBitsArgs {
  /** The mask (0 / non-zero) on the full grid. */
  readonly mask: ArrayLike<number>;
  readonly size: readonly [number, number, number];
  /** Box start (full-grid index) and size. */
  readonly start: readonly [number, number, number];
  readonly box: readonly [number, number, number];
  /** Pack the zero voxels instead of the non-zero ones (erosion dilates the background). */
  readonly invert: boolean;
  /** Packed box: box[1] * box[2] rows of ceil(box[0] / 32) words. */
  readonly bits: Int32Array;
  readonly rows: BallRows;
  /** Output on the full grid (written only inside the box): dilated bits, negated if `invert`. */
  readonly out: Uint8Array;
}

/** Packs the box slices [k0, k1) (box index) of the mask into `bits`. */
export function ballPack(args: BallBitsArgs, k0: number, k1: number): void {
  const { mask, size, start, box, invert, bits } = args;
  const [nx, ny] = size;
  const [bx, by] = box;
  const W = (bx + 31) >>> 5;
  const want = invert ? 0 : 1;
  for (let k = k0; k < k1; k++) {
    for (let j = 0; j < by; j++) {
      const src = (k + start[2]) * nx * ny + (j + start[1]) * nx + start[0];
      const dst = (k * by + j) * W;
      for (let q = 0; q < W; q++) {
        const i0 = q << 5;
        const i1 = Math.min(bx, i0 + 32);
        let word = 0;
        for (let i = i0; i < i1; i++) {
          const v = mask[src + i] !== 0 ? 1 : 0;
          if (v === want) word |= 1 << (i - i0);
        }
        bits[dst + q] = word;
      }
    }
  }
}

/** Dilates the packed box for output slices [k0, k1) (box index) and writes them to `out`. */
export function ballDilate(args: BallBitsArgs, k0: number, k1: number): void {
  const { size, start, box, invert, bits, rows, out } = args;
  const [nx, ny] = size;
  const [bx, by, bz] = box;
  const W = (bx + 31) >>> 5;
  const { triples, wMax, rk } = rows;
  const nw = wMax + 1;
  const L = 2 * rk + 1;
  const sliceWords = by * W;
  // ring[slot][w][j][q]: slice (slot) dilated along i by w
  const ring = new Int32Array(L * nw * sliceWords);
  const ringSlice = new Int32Array(L).fill(-1);
  const acc = new Int32Array(W);
  const np = triples.length / 3;
  const fill = (k: number) => {
    const slot = k % L;
    if (ringSlice[slot] === k) return;
    ringSlice[slot] = k;
    const base = slot * nw * sliceWords;
    ring.set(bits.subarray(k * sliceWords, (k + 1) * sliceWords), base);
    for (let w = 1; w < nw; w++) {
      const prev = base + (w - 1) * sliceWords;
      const cur = base + w * sliceWords;
      const back = 32 - w;
      for (let j = 0; j < by; j++) {
        const src = k * sliceWords + j * W;
        const o = j * W;
        for (let q = 0; q < W; q++) {
          const x = bits[src + q]!;
          const lo = q > 0 ? bits[src + q - 1]! : 0;
          const hi = q + 1 < W ? bits[src + q + 1]! : 0;
          // voxel i takes i - w (shift up) and i + w (shift down)
          ring[cur + o + q] = ring[prev + o + q]! | (x << w) | (lo >>> back) | (x >>> w) | (hi << back);
        }
      }
    }
  };
  for (let k = k0; k < k1; k++) {
    for (let c = Math.max(0, k - rk); c <= Math.min(bz - 1, k + rk); c++) fill(c);
    for (let j = 0; j < by; j++) {
      acc.fill(0);
      for (let t = 0; t < np; t++) {
        const jj = j + triples[3 * t]!;
        const kk = k + triples[3 * t + 1]!;
        if (jj < 0 || jj >= by || kk < 0 || kk >= bz) continue;
        const src = ((kk % L) * nw + triples[3 * t + 2]!) * sliceWords + jj * W;
        for (let q = 0; q < W; q++) acc[q] = acc[q]! | ring[src + q]!;
      }
      const dst = (k + start[2]) * nx * ny + (j + start[1]) * nx + start[0];
      const flip = invert ? 1 : 0;
      for (let q = 0; q < W; q++) {
        const word = acc[q]!;
        const i0 = q << 5;
        const i1 = Math.min(bx, i0 + 32);
        for (let i = i0; i < i1; i++) out[dst + i] = ((word >>> (i - i0)) & 1) ^ flip;
      }
    }
  }
}

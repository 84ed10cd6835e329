import { S2SError } from './errors.js';
import { type Grid, lpsFromIjk, makeGrid, type Vec3 } from './grid.js';
import { allocateVoxels, type Volume, voxelTypeOf } from './volume.js';

const AXIS_OF: Record<string, [number, number]> = {
  L: [0, 1],
  R: [0, -1],
  P: [1, 1],
  A: [1, -1],
  S: [2, 1],
  I: [2, -1],
};

/**
 * How to reorder voxels so that index axis b points (as closely as it can) towards target[b].
 * perm[b] = source axis that becomes axis b; flip[b] = whether it is reversed.
 */
export function reorientPlan(grid: Grid, target = 'LPS'): { perm: Vec3; flip: [boolean, boolean, boolean] } {
  const want = [...target.toUpperCase()].map((ch) => AXIS_OF[ch]);
  if (want.length !== 3 || want.some((w) => !w) || new Set(want.map((w) => w![0])).size !== 3) {
    throw new S2SError('INVALID_ARGUMENT', `"${target}" is not an orientation code`, {
      hint: 'use three letters, one of L/R, one of P/A and one of S/I, e.g. LPS or RAS',
    });
  }
  // dominant world axis of each source index axis; resolve ties greedily by magnitude
  const used = new Set<number>();
  const srcWorld: number[] = [-1, -1, -1];
  const order = [0, 1, 2].sort((a, b) => maxAbs(grid.direction[b]!) - maxAbs(grid.direction[a]!));
  for (const a of order) {
    const d = grid.direction[a]!;
    let best = -1;
    for (let r = 0; r < 3; r++) if (!used.has(r) && (best < 0 || Math.abs(d[r]!) > Math.abs(d[best]!))) best = r;
    used.add(best);
    srcWorld[a] = best;
  }
  const perm: number[] = [];
  const flip: boolean[] = [];
  for (let b = 0; b < 3; b++) {
    const [worldAxis, sign] = want[b]!;
    const a = srcWorld.indexOf(worldAxis);
    perm.push(a);
    flip.push(Math.sign(grid.direction[a]![worldAxis]!) !== sign);
  }
  return { perm: perm as unknown as Vec3, flip: flip as [boolean, boolean, boolean] };
}

function maxAbs(v: Vec3): number {
  return Math.max(Math.abs(v[0]), Math.abs(v[1]), Math.abs(v[2]));
}

/**
 * Losslessly permutes and flips voxel axes so the volume's orientation code becomes `target`
 * (default LPS). Every voxel keeps its exact world position; only the storage order changes.
 */
export function reorientVolume(volume: Volume, target = 'LPS'): Volume {
  const { grid } = volume;
  const plan = reorientPlan(grid, target);
  const perm = plan.perm as readonly number[] as number[];
  const flip = plan.flip;
  if (perm[0] === 0 && perm[1] === 1 && perm[2] === 2 && !flip.some(Boolean)) return volume;
  const gs = grid.size as readonly number[];
  const size = [gs[perm[0]!]!, gs[perm[1]!]!, gs[perm[2]!]!] as const;
  // source index of new voxel (0,0,0)
  const src0 = [0, 0, 0];
  for (let b = 0; b < 3; b++) if (flip[b]) src0[perm[b]!] = gs[perm[b]!]! - 1;
  const newGrid = makeGrid({
    size,
    spacing: perm.map((a) => (grid.spacing as readonly number[])[a]!),
    origin: lpsFromIjk(grid, src0),
    direction: [0, 1, 2].map((b) => {
      const d = grid.direction[perm[b]!]!;
      return flip[b] ? [-d[0], -d[1], -d[2]] : d;
    }),
  });
  // strides in the source for a step along each new axis
  const srcStride = [1, grid.size[0], grid.size[0] * grid.size[1]];
  const step = [0, 1, 2].map((b) => (flip[b] ? -1 : 1) * srcStride[perm[b]!]!);
  const base = src0[0]! + src0[1]! * srcStride[1]! + src0[2]! * srcStride[2]!;
  const nc = volume.components;
  const nvox = grid.size[0] * grid.size[1] * grid.size[2];
  const out = allocateVoxels(voxelTypeOf(volume.data), volume.data.length);
  const [sx, sy, sz] = step as [number, number, number];
  let o = 0;
  for (let t = 0; t < volume.frames; t++) {
    const tOff = t * nvox;
    for (let k = 0; k < size[2]; k++) {
      for (let j = 0; j < size[1]; j++) {
        let s = base + j * sy + k * sz;
        for (let i = 0; i < size[0]; i++, s += sx) {
          const from = (tOff + s) * nc;
          for (let c = 0; c < nc; c++) out[o++] = volume.data[from + c]!;
        }
      }
    }
  }
  return { ...volume, grid: newGrid, data: out };
}

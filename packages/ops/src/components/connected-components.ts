/**
 * Connected components of a binary mask (non-zero = foreground) with 6, 18 or 26 connectivity.
 *
 * Labels are 1..count, numbered in the order their first voxel appears in memory order
 * (i fastest, then j, then k) - the same numbering as scipy.ndimage.label on the array viewed
 * as [k][j][i]. Background is 0. Two-pass union-find; no per-voxel allocation.
 */
import { type Grid, progressReporter, type RunOptions, S2SError, voxelCount } from '@slice2solid/core';
import { checkMask } from '../filters/internal.js';

export type Connectivity = 6 | 18 | 26;

export interface ConnectedComponentsOptions extends RunOptions {
  /** 6: faces; 18: faces and edges; 26: faces, edges and corners. */
  readonly connectivity?: Connectivity;
}

export const CONNECTED_COMPONENTS_DEFAULTS = { connectivity: 26 } as const satisfies ConnectedComponentsOptions;

export interface ComponentLabels {
  /** Component label per voxel (0 = background). */
  readonly labels: Int32Array;
  /** Number of components. */
  readonly count: number;
  /** sizes[label] = number of voxels of that component (sizes[0] = background voxels). */
  readonly sizes: Float64Array;
}

export function checkConnectivity(c: unknown): Connectivity {
  if (c !== 6 && c !== 18 && c !== 26) {
    throw new S2SError('INVALID_ARGUMENT', `connectivity must be 6, 18 or 26, got ${String(c)}`, {
      hint: '6 joins voxels sharing a face, 18 also edges, 26 also corners',
    });
  }
  return c;
}

/** Backward neighbour offsets (di, dj, dk) that precede a voxel in scan order. */
function backwardOffsets(connectivity: Connectivity): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let dk = -1; dk <= 0; dk++) {
    for (let dj = -1; dj <= 1; dj++) {
      for (let di = -1; di <= 1; di++) {
        if (dk === 0 && (dj > 0 || (dj === 0 && di >= 0))) continue;
        const order = Math.abs(di) + Math.abs(dj) + Math.abs(dk);
        if (order === 1 || (order === 2 && connectivity >= 18) || (order === 3 && connectivity === 26)) {
          out.push([di, dj, dk]);
        }
      }
    }
  }
  return out;
}

export function connectedComponents(
  mask: ArrayLike<number>,
  grid: Grid,
  options: ConnectedComponentsOptions = {},
): ComponentLabels {
  checkMask(mask, grid);
  const connectivity = checkConnectivity(options.connectivity ?? CONNECTED_COMPONENTS_DEFAULTS.connectivity);
  const [nx, ny, nz] = grid.size;
  const nxy = nx * ny;
  const n = voxelCount(grid);
  const labels = new Int32Array(n);
  const offsets = backwardOffsets(connectivity);
  const tick = progressReporter('connected components', 2 * nz, options);

  let parent = new Int32Array(1024);
  let next = 1; // next provisional label
  const find = (x: number): number => {
    let r = x;
    while (parent[r]! !== r) r = parent[r]!;
    while (parent[x]! !== r) {
      const up = parent[x]!;
      parent[x] = r;
      x = up;
    }
    return r;
  };

  // per-row active neighbour lists (linear offset and di), rebuilt per row; the "ahead" list holds
  // only the di = +1 neighbours: with 26-connectivity, when voxel i-1 is foreground every other
  // backward neighbour of i is also a neighbour of i-1 and was joined to it already.
  const actOff = new Int32Array(offsets.length);
  const actDi = new Int32Array(offsets.length);
  const aheadOff = new Int32Array(offsets.length);
  const runShortcut = connectivity === 26;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      let na = 0;
      let nAhead = 0;
      for (const [di, dj, dk] of offsets) {
        if (j + dj < 0 || j + dj >= ny || k + dk < 0) continue;
        actOff[na] = di + dj * nx + dk * nxy;
        actDi[na] = di;
        na++;
        if (di === 1) aheadOff[nAhead++] = di + dj * nx + dk * nxy;
      }
      const row = k * nxy + j * nx;
      for (let i = 0; i < nx; i++) {
        const p = row + i;
        if (mask[p] === 0) continue;
        let lab = 0;
        if (runShortcut && i > 0 && labels[p - 1] !== 0) {
          lab = labels[p - 1]!;
          if (i < nx - 1) {
            for (let a = 0; a < nAhead; a++) {
              const nl = labels[p + aheadOff[a]!]!;
              if (nl === 0 || nl === lab) continue;
              const ra = find(lab);
              const rb = find(nl);
              if (ra < rb) parent[rb] = ra;
              else if (rb < ra) parent[ra] = rb;
              lab = Math.min(ra, rb);
            }
          }
          labels[p] = lab;
          continue;
        }
        for (let a = 0; a < na; a++) {
          const di = actDi[a]!;
          if ((di < 0 && i === 0) || (di > 0 && i === nx - 1)) continue;
          const nl = labels[p + actOff[a]!]!;
          if (nl === 0 || nl === lab) continue;
          if (lab === 0) {
            lab = nl;
            continue;
          }
          // union: attach the larger root under the smaller
          const ra = find(lab);
          const rb = find(nl);
          if (ra < rb) parent[rb] = ra;
          else if (rb < ra) parent[ra] = rb;
          lab = Math.min(ra, rb);
        }
        if (lab === 0) {
          if (next >= parent.length) {
            const grown = new Int32Array(parent.length * 2);
            grown.set(parent);
            parent = grown;
          }
          parent[next] = next;
          lab = next++;
        }
        labels[p] = lab;
      }
    }
    tick(k + 1);
  }

  // roots never sit above their children (parent[x] <= x), so one increasing pass resolves them
  const root = parent;
  for (let l = 1; l < next; l++) root[l] = root[root[l]!]!;
  // second pass: roots -> final labels in order of first appearance
  const final = new Int32Array(next);
  let count = 0;
  let sizes = new Float64Array(Math.min(next, 1 << 16) + 1);
  let background = 0;
  for (let k = 0; k < nz; k++) {
    const end = (k + 1) * nxy;
    for (let p = k * nxy; p < end; p++) {
      const l = labels[p]!;
      if (l === 0) {
        background++;
        continue;
      }
      const r = root[l]!;
      let f = final[r]!;
      if (f === 0) {
        f = ++count;
        final[r] = f;
        if (f >= sizes.length) {
          const grown = new Float64Array(Math.min(next + 1, sizes.length * 2));
          grown.set(sizes);
          sizes = grown;
        }
      }
      labels[p] = f;
      sizes[f]!++;
    }
    tick(nz + k + 1);
  }
  sizes = sizes.slice(0, count + 1);
  sizes[0] = background;
  return { labels, count, sizes };
}

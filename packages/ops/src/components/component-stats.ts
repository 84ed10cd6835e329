/** Per-component statistics of a label array (e.g. from connectedComponents). */
import { type Grid, lpsFromIjk, progressReporter, type RunOptions, S2SError, type Vec3 } from '@slice2solid/core';
import { checkMask, voxelVolumeMm3 } from '../filters/internal.js';

export interface ComponentStat {
  readonly label: number;
  readonly voxels: number;
  /** voxels x voxel volume (mm^3). */
  readonly volumeMm3: number;
  /** Mean position of the component's voxel centres, LPS mm. */
  readonly centroidLps: Vec3;
  /** Index bounding box: first voxel (inclusive) and last voxel (inclusive). */
  readonly bboxMin: Vec3;
  readonly bboxMax: Vec3;
}

export interface ComponentStatsOptions extends RunOptions {
  /** Sort by 'label' (default) or by 'volume' (largest first). */
  readonly sortBy?: 'label' | 'volume';
}

export const COMPONENT_STATS_DEFAULTS = { sortBy: 'label' } as const satisfies ComponentStatsOptions;

/** Statistics of every non-zero label present in `labels`. Labels must be >= 0 integers. */
export function componentStats(
  labels: Int32Array | Uint32Array | Uint16Array | Uint8Array,
  grid: Grid,
  options: ComponentStatsOptions = {},
): ComponentStat[] {
  checkMask(labels, grid, 'label array');
  const [nx, ny, nz] = grid.size;
  let maxLabel = 0;
  let minLabel = 0;
  for (let p = 0; p < labels.length; p++) {
    const l = labels[p]!;
    if (l > maxLabel) maxLabel = l;
    else if (l < minLabel) minLabel = l;
  }
  if (minLabel < 0) {
    throw new S2SError('INVALID_ARGUMENT', `label array holds a negative label (${minLabel})`, {
      hint: 'component labels are 0 (background) or positive integers',
    });
  }
  const m = maxLabel + 1;
  const cnt = new Float64Array(m);
  const si = new Float64Array(m);
  const sj = new Float64Array(m);
  const sk = new Float64Array(m);
  const lo = new Int32Array(3 * m).fill(2147483647);
  const hi = new Int32Array(3 * m).fill(-1);
  const tick = progressReporter('component statistics', nz, options);
  let p = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        const l = labels[p]!;
        if (l === 0) continue;
        cnt[l]!++;
        si[l]! += i;
        sj[l]! += j;
        sk[l]! += k;
        const b = 3 * l;
        if (i < lo[b]!) lo[b] = i;
        if (i > hi[b]!) hi[b] = i;
        if (j < lo[b + 1]!) lo[b + 1] = j;
        if (j > hi[b + 1]!) hi[b + 1] = j;
        if (k < lo[b + 2]!) lo[b + 2] = k;
        if (k > hi[b + 2]!) hi[b + 2] = k;
      }
    }
    tick(k + 1);
  }
  const vox = voxelVolumeMm3(grid);
  const out: ComponentStat[] = [];
  for (let l = 1; l < m; l++) {
    const c = cnt[l]!;
    if (c === 0) continue;
    const b = 3 * l;
    out.push({
      label: l,
      voxels: c,
      volumeMm3: c * vox,
      centroidLps: lpsFromIjk(grid, [si[l]! / c, sj[l]! / c, sk[l]! / c]),
      bboxMin: [lo[b]!, lo[b + 1]!, lo[b + 2]!],
      bboxMax: [hi[b]!, hi[b + 1]!, hi[b + 2]!],
    });
  }
  if ((options.sortBy ?? COMPONENT_STATS_DEFAULTS.sortBy) === 'volume') {
    out.sort((a, b) => b.voxels - a.voxels || a.label - b.label);
  }
  return out;
}

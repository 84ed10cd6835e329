/**
 * Crop to an index box. Voxels keep their exact world positions: the new grid's origin is the
 * LPS centre of the box's first voxel (through the core grid helpers); spacing and direction
 * are unchanged.
 */
import { type Grid, lpsFromIjk, makeGrid, type Volume, type VoxelArray } from '@slice2solid/core';
import { checkMask } from '../filters/internal.js';
import { type BoundingBoxOptions, boundingBox, checkIndexBox, type IndexBox } from './bounding-box.js';

export interface CropOptions {
  /** The index box to keep. */
  readonly box: IndexBox;
}

export const CROP_DEFAULTS = {} as const;

/** The grid of the sub-box (same spacing and direction, origin at the box's first voxel). */
export function cropGrid(grid: Grid, box: IndexBox): Grid {
  checkIndexBox(box, grid);
  return makeGrid({
    size: [box.end[0] - box.start[0], box.end[1] - box.start[1], box.end[2] - box.start[2]],
    spacing: grid.spacing,
    origin: lpsFromIjk(grid, box.start),
    direction: grid.direction,
  });
}

/** Crops any per-voxel array (component fastest, then i, j, k, then frame - the Volume layout). */
export function cropArray<T extends VoxelArray>(
  data: T,
  grid: Grid,
  box: IndexBox,
  components = 1,
  frames = 1,
): { data: T; grid: Grid } {
  checkMask({ length: data.length / (components * frames) }, grid, 'data');
  const g = cropGrid(grid, box);
  const [nx, ny, nz] = grid.size;
  const [bx, by, bz] = g.size;
  const nc = components;
  const out = new (data.constructor as new (n: number) => T)(bx * by * bz * nc * frames);
  let o = 0;
  for (let t = 0; t < frames; t++) {
    for (let k = 0; k < bz; k++) {
      for (let j = 0; j < by; j++) {
        const src = (((t * nz + k + box.start[2]) * ny + j + box.start[1]) * nx + box.start[0]) * nc;
        out.set(data.subarray(src, src + bx * nc), o);
        o += bx * nc;
      }
    }
  }
  return { data: out, grid: g };
}

export function crop(volume: Volume, options: CropOptions): Volume {
  const { data, grid } = cropArray(volume.data, volume.grid, options.box, volume.components, volume.frames);
  return { ...volume, grid, data };
}

/** Crops a volume to the bounding box of `mask` (on the volume's grid) plus a margin in mm. */
export function cropToMask(volume: Volume, mask: ArrayLike<number>, options: BoundingBoxOptions = {}): Volume {
  const box = boundingBox(mask, volume.grid, options);
  if (!box) return crop(volume, { box: { start: [0, 0, 0], end: volume.grid.size } });
  return crop(volume, { box });
}

import { S2SError } from './errors.js';
import { type Grid, type Vec3, voxelCount } from './grid.js';

export type VoxelArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

export type VoxelType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

/** Physical meaning of the voxel values. 'HU' for calibrated CT; 'arbitrary' when unknown. */
export type Units = 'HU' | 'arbitrary' | 'Hz' | 'label' | 'normalized' | (string & {});

/**
 * A scalar (or multi-component) image on a grid.
 * Memory layout: data[(((t * nz + k) * ny + j) * nx + i) * components + c]
 * i.e. component fastest, then i, j, k, and frame t (4th dimension: time / repeated volumes) slowest.
 */
export interface Volume {
  readonly grid: Grid;
  readonly data: VoxelArray;
  /** Values per voxel: 1 for grey, 3 for RGB. */
  readonly components: number;
  /** Number of 3D frames (volumes over time, echoes...). 1 for an ordinary 3D volume. */
  readonly frames: number;
  readonly units: Units;
  /** Free, non-identifying facts about where the data came from (modality, series number...). */
  readonly meta?: Readonly<Record<string, string | number | boolean>>;
}

export function voxelTypeOf(data: VoxelArray): VoxelType {
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof Float32Array) return 'float32';
  return 'float64';
}

export function allocateVoxels(type: VoxelType, n: number): VoxelArray {
  switch (type) {
    case 'int8':
      return new Int8Array(n);
    case 'uint8':
      return new Uint8Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
  }
}

/** Makes a volume, checking that the data length fits the grid. */
export function makeVolume(init: {
  grid: Grid;
  data: VoxelArray;
  components?: number;
  frames?: number;
  units?: Units;
  meta?: Record<string, string | number | boolean>;
}): Volume {
  const components = init.components ?? 1;
  const frames = init.frames ?? 1;
  const expected = voxelCount(init.grid) * components * frames;
  if (init.data.length !== expected) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `volume data has ${init.data.length} values but the grid ${init.grid.size.join('x')} x ${components} component(s) x ${frames} frame(s) needs ${expected}`,
    );
  }
  const v: Volume = { grid: init.grid, data: init.data, components, frames, units: init.units ?? 'arbitrary' };
  return init.meta ? { ...v, meta: init.meta } : v;
}

/** Linear index of voxel (i, j, k) in frame t, component c. */
export function voxelIndex(grid: Grid, i: number, j: number, k: number, t = 0, components = 1, c = 0): number {
  const [nx, ny, nz] = grid.size;
  return (((t * nz + k) * ny + j) * nx + i) * components + c;
}

/** Min and max over all finite values. */
export function valueRange(data: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let n = 0; n < data.length; n++) {
    const v = data[n]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** One 3D frame of a 4D volume (a view, not a copy). */
export function frameOf(volume: Volume, t: number): Volume {
  if (t < 0 || t >= volume.frames || !Number.isInteger(t)) {
    throw new S2SError('INVALID_ARGUMENT', `frame ${t} does not exist; the volume has ${volume.frames}`);
  }
  const n = voxelCount(volume.grid) * volume.components;
  return { ...volume, data: volume.data.subarray(t * n, (t + 1) * n), frames: 1 };
}

/** A segment (structure) of a label map. */
export interface Segment {
  /** Voxel value of this structure (> 0; 0 is background). */
  readonly value: number;
  readonly name: string;
  /** sRGB colour, 0..255. */
  readonly color: Vec3;
  /** Optional code, e.g. SNOMED CT: { scheme: 'SCT', value: '89546000', meaning: 'Skull' }. */
  readonly code?: { readonly scheme: string; readonly value: string; readonly meaning: string };
}

/** Labels on a grid: each voxel holds one segment value (0 = background). */
export interface LabelMap {
  readonly grid: Grid;
  readonly data: Uint8Array | Uint16Array | Int32Array;
  readonly segments: readonly Segment[];
}

export function makeLabelMap(init: {
  grid: Grid;
  data: Uint8Array | Uint16Array | Int32Array;
  segments?: readonly Segment[];
}): LabelMap {
  const n = voxelCount(init.grid);
  if (init.data.length !== n) {
    throw new S2SError('INVALID_ARGUMENT', `label data has ${init.data.length} values but the grid needs ${n}`);
  }
  return { grid: init.grid, data: init.data, segments: init.segments ?? [] };
}

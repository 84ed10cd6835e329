/**
 * A procedural CT phantom of a head and neck, in Hounsfield units.
 *
 * The anatomy is an ordered list of analytic layers (ellipsoids, cylinders, a torus, capsules,
 * half-spaces and their unions/intersections/differences) in LPS millimetres, centred on the
 * world origin. Each layer is "painted" over the previous ones (painter's algorithm), so the
 * ideal (noise-free, infinitely sharp) value at a world point is the HU of the LAST layer that
 * contains it (`ctHeadPhantomIdealValue`). The sampled volume adds
 *   - partial-volume edges: a voxel whose centre is within about half a voxel of a layer's
 *     surface gets the covered fraction f = clamp(1/2 - d / w, 0, 1) of that layer, where d is
 *     the (approximate) signed distance of the voxel centre to the surface and
 *     w = sum_a spacing_a * |n . direction_a| is the voxel's width along the surface normal n
 *     (the exact fraction for a plane crossing a 1D box, a close approximation in 3D);
 *   - Gaussian noise from a seeded generator (no Math.random: the output is bit-identical for
 *     the same options on every platform).
 *
 * The phantom can be sampled on ANY grid (oblique, left-handed, anisotropic): the anatomy lives
 * in world coordinates, so the same head appears in the same place whatever the voxel order.
 * Tests use this to check that every voxel->world mapping in the system is right.
 */
import {
  type Grid,
  ijkFromLpsMatrix,
  lpsFromIjkMatrix,
  makeGrid,
  makeVolume,
  progressReporter,
  type RunOptions,
  S2SError,
  type Vec3,
  type Volume,
} from '@slice2solid/core';

// ---------------------------------------------------------------------------------------------
// Analytic shapes
// ---------------------------------------------------------------------------------------------

/** A solid described analytically in LPS mm. Inside means signed distance < 0. */
export type PhantomShape =
  | { readonly kind: 'ellipsoid'; readonly centre: Vec3; readonly radii: Vec3 }
  /** Elliptic cylinder along the S (z) axis, capped at zMin and zMax. */
  | {
      readonly kind: 'cylinderZ';
      readonly centre: readonly [number, number];
      readonly radii: readonly [number, number];
      readonly zMin: number;
      readonly zMax: number;
    }
  /** Torus in an axial plane (z = centre[2]): tube of radius `minor` around a circle of radius `major`. */
  | { readonly kind: 'torusZ'; readonly centre: Vec3; readonly major: number; readonly minor: number }
  /** All points within `radius` of the segment a-b. */
  | { readonly kind: 'capsule'; readonly a: Vec3; readonly b: Vec3; readonly radius: number }
  /** All points p with normal . p <= offset (normal is a unit vector pointing OUT of the solid). */
  | { readonly kind: 'halfSpace'; readonly normal: Vec3; readonly offset: number }
  | { readonly kind: 'union'; readonly parts: readonly PhantomShape[] }
  | { readonly kind: 'intersection'; readonly parts: readonly PhantomShape[] }
  /** `base` minus `cut`. */
  | { readonly kind: 'difference'; readonly base: PhantomShape; readonly cut: PhantomShape };

/** One painted layer of the phantom: everything inside `shape` gets `hu`. */
export interface PhantomLayer {
  readonly name: string;
  readonly hu: number;
  readonly shape: PhantomShape;
}

/**
 * Approximate signed distance (mm) from LPS point p to the surface of `shape`; negative inside.
 * Exact for spheres, cylinders' sides, tori, capsules and half-spaces; for ellipsoids it is the
 * usual first-order approximation (exact on the surface, sign always right).
 */
export function phantomShapeDistance(shape: PhantomShape, p: readonly number[]): number {
  return sdf(shape, p[0]!, p[1]!, p[2]!);
}

function sdf(s: PhantomShape, x: number, y: number, z: number): number {
  switch (s.kind) {
    case 'ellipsoid': {
      const dx = x - s.centre[0];
      const dy = y - s.centre[1];
      const dz = z - s.centre[2];
      const [rx, ry, rz] = s.radii;
      const k0 = Math.sqrt((dx / rx) ** 2 + (dy / ry) ** 2 + (dz / rz) ** 2);
      const k1 = Math.sqrt((dx / (rx * rx)) ** 2 + (dy / (ry * ry)) ** 2 + (dz / (rz * rz)) ** 2);
      if (k1 === 0) return -Math.min(rx, ry, rz);
      return (k0 * (k0 - 1)) / k1;
    }
    case 'cylinderZ': {
      const dx = x - s.centre[0];
      const dy = y - s.centre[1];
      const [rx, ry] = s.radii;
      const k0 = Math.sqrt((dx / rx) ** 2 + (dy / ry) ** 2);
      const k1 = Math.sqrt((dx / (rx * rx)) ** 2 + (dy / (ry * ry)) ** 2);
      const d2 = k1 === 0 ? -Math.min(rx, ry) : (k0 * (k0 - 1)) / k1;
      const half = (s.zMax - s.zMin) / 2;
      const dz = Math.abs(z - (s.zMax + s.zMin) / 2) - half;
      return Math.min(Math.max(d2, dz), 0) + Math.hypot(Math.max(d2, 0), Math.max(dz, 0));
    }
    case 'torusZ': {
      const dx = x - s.centre[0];
      const dy = y - s.centre[1];
      const dz = z - s.centre[2];
      return Math.hypot(Math.hypot(dx, dy) - s.major, dz) - s.minor;
    }
    case 'capsule': {
      const [ax, ay, az] = s.a;
      const bx = s.b[0] - ax;
      const by = s.b[1] - ay;
      const bz = s.b[2] - az;
      const px = x - ax;
      const py = y - ay;
      const pz = z - az;
      const len2 = bx * bx + by * by + bz * bz;
      const t = len2 > 0 ? Math.min(1, Math.max(0, (px * bx + py * by + pz * bz) / len2)) : 0;
      return Math.hypot(px - t * bx, py - t * by, pz - t * bz) - s.radius;
    }
    case 'halfSpace':
      return s.normal[0] * x + s.normal[1] * y + s.normal[2] * z - s.offset;
    case 'union': {
      let d = Infinity;
      for (const part of s.parts) d = Math.min(d, sdf(part, x, y, z));
      return d;
    }
    case 'intersection': {
      let d = -Infinity;
      for (const part of s.parts) d = Math.max(d, sdf(part, x, y, z));
      return d;
    }
    case 'difference':
      return Math.max(sdf(s.base, x, y, z), -sdf(s.cut, x, y, z));
  }
}

/** Conservative LPS bounding box [min, max] of a shape (infinite for a bare half-space). */
export function phantomShapeBounds(s: PhantomShape): [Vec3, Vec3] {
  switch (s.kind) {
    case 'ellipsoid':
      return [
        [s.centre[0] - s.radii[0], s.centre[1] - s.radii[1], s.centre[2] - s.radii[2]],
        [s.centre[0] + s.radii[0], s.centre[1] + s.radii[1], s.centre[2] + s.radii[2]],
      ];
    case 'cylinderZ':
      return [
        [s.centre[0] - s.radii[0], s.centre[1] - s.radii[1], s.zMin],
        [s.centre[0] + s.radii[0], s.centre[1] + s.radii[1], s.zMax],
      ];
    case 'torusZ': {
      const r = s.major + s.minor;
      return [
        [s.centre[0] - r, s.centre[1] - r, s.centre[2] - s.minor],
        [s.centre[0] + r, s.centre[1] + r, s.centre[2] + s.minor],
      ];
    }
    case 'capsule': {
      const r = s.radius;
      return [
        [Math.min(s.a[0], s.b[0]) - r, Math.min(s.a[1], s.b[1]) - r, Math.min(s.a[2], s.b[2]) - r],
        [Math.max(s.a[0], s.b[0]) + r, Math.max(s.a[1], s.b[1]) + r, Math.max(s.a[2], s.b[2]) + r],
      ];
    }
    case 'halfSpace':
      return [
        [-Infinity, -Infinity, -Infinity],
        [Infinity, Infinity, Infinity],
      ];
    case 'union': {
      const lo: [number, number, number] = [Infinity, Infinity, Infinity];
      const hi: [number, number, number] = [-Infinity, -Infinity, -Infinity];
      for (const part of s.parts) {
        const [a, b] = phantomShapeBounds(part);
        for (let r = 0; r < 3; r++) {
          lo[r] = Math.min(lo[r]!, a[r]!);
          hi[r] = Math.max(hi[r]!, b[r]!);
        }
      }
      return [lo, hi];
    }
    case 'intersection': {
      const lo: [number, number, number] = [-Infinity, -Infinity, -Infinity];
      const hi: [number, number, number] = [Infinity, Infinity, Infinity];
      for (const part of s.parts) {
        const [a, b] = phantomShapeBounds(part);
        for (let r = 0; r < 3; r++) {
          lo[r] = Math.max(lo[r]!, a[r]!);
          hi[r] = Math.min(hi[r]!, b[r]!);
        }
      }
      return [lo, hi];
    }
    case 'difference':
      return phantomShapeBounds(s.base);
  }
}

// ---------------------------------------------------------------------------------------------
// The head
// ---------------------------------------------------------------------------------------------

const ell = (centre: Vec3, radii: Vec3): PhantomShape => ({ kind: 'ellipsoid', centre, radii });
const sphere = (centre: Vec3, r: number): PhantomShape => ell(centre, [r, r, r]);
const cylZ = (cx: number, cy: number, rx: number, ry: number, zMin: number, zMax: number): PhantomShape => ({
  kind: 'cylinderZ',
  centre: [cx, cy],
  radii: [rx, ry],
  zMin,
  zMax,
});

/** Centre and radii (mm, LPS) of the head's outer skin ellipsoid (the cranium). */
export const HEAD_CENTRE: Vec3 = [0, 0, 25];
export const HEAD_RADII: Vec3 = [80, 98, 85];
/** Inward offsets (mm) of the skull layers from the skin ellipsoid's radii. */
export const SKULL_INSETS = { outerTable: 5, diploe: 7, innerTable: 9, cavity: 11, brain: 12.5 } as const;
/** The skull base: a plane rising anteriorly (unit outward normal, pointing inferior-posterior). */
const BASE_NORMAL: Vec3 = [0, -0.316227766016838, -0.948683298050514];
const BASE_OFFSET = 11.4;

const headInset = (t: number): PhantomShape =>
  ell(HEAD_CENTRE, [HEAD_RADII[0] - t, HEAD_RADII[1] - t, HEAD_RADII[2] - t]);
/** The skull/brain layers are cut by the skull-base plane, moved inwards by the same inset. */
const cranial = (t: number): PhantomShape => ({
  kind: 'intersection',
  parts: [
    headInset(t),
    { kind: 'halfSpace', normal: BASE_NORMAL, offset: BASE_OFFSET - (t - SKULL_INSETS.outerTable) },
  ],
});

const LOWER_FACE: Vec3 = [0, -20, -35];
const LOWER_FACE_RADII: Vec3 = [55, 65, 45];
const NECK: [number, number, number, number] = [0, 10, 48, 45]; // cx, cy, rx, ry
const Z_BOTTOM = -400; // the neck and spine run out of any reasonable field of view

const body = (t: number): PhantomShape => ({
  kind: 'union',
  parts: [
    headInset(t),
    ell(LOWER_FACE, [LOWER_FACE_RADII[0] - t, LOWER_FACE_RADII[1] - t, LOWER_FACE_RADII[2] - t]),
    cylZ(NECK[0], NECK[1], NECK[2] - t, NECK[3] - t, Z_BOTTOM, -30),
  ],
});

/** Cervical vertebra centres (z, mm) and half-height. */
export const VERTEBRA_LEVELS: readonly number[] = [-100, -83, -66, -49];
const VERTEBRA_HALF_HEIGHT = 6.5;
const CANAL: [number, number] = [0, 28];

const vertebraLayers = (): PhantomLayer[] => {
  const out: PhantomLayer[] = [];
  VERTEBRA_LEVELS.forEach((zc, n) => {
    const z0 = zc - VERTEBRA_HALF_HEIGHT;
    const z1 = zc + VERTEBRA_HALF_HEIGHT;
    out.push({
      name: `vertebra ${n + 1} cortex`,
      hu: 900,
      shape: {
        kind: 'union',
        parts: [
          cylZ(0, 8, 11, 11, z0, z1),
          // posterior arch: a ring around the spinal canal (each vertebra has a hole: genus 1)
          {
            kind: 'difference',
            base: cylZ(CANAL[0], CANAL[1], 13, 13, z0, z1),
            cut: cylZ(CANAL[0], CANAL[1], 8, 8, -1e3, 1e3),
          },
        ],
      },
    });
    out.push({ name: `vertebra ${n + 1} trabecular`, hu: 250, shape: cylZ(0, 8, 9, 9, z0 + 2, z1 - 2) });
  });
  return out;
};

const EYE_X = 32;
const EYE_Y = -64;
const EYE_Z = -2;

/**
 * The layers of the head phantom, in painting order (later layers cover earlier ones).
 * LPS millimetres, head centred near the world origin: +x patient left, +y posterior, +z superior.
 */
export const CT_HEAD_PHANTOM_LAYERS: readonly PhantomLayer[] = [
  { name: 'subcutaneous fat', hu: -90, shape: body(0) },
  { name: 'soft tissue', hu: 40, shape: body(4) },
  { name: 'trachea', hu: -1000, shape: cylZ(0, -22, 7, 7, Z_BOTTOM, -58) },
  { name: 'skull outer table', hu: 1400, shape: cranial(SKULL_INSETS.outerTable) },
  { name: 'skull diploe', hu: 600, shape: cranial(SKULL_INSETS.diploe) },
  { name: 'skull inner table', hu: 1400, shape: cranial(SKULL_INSETS.innerTable) },
  { name: 'cerebrospinal fluid', hu: 8, shape: cranial(SKULL_INSETS.cavity) },
  { name: 'foramen magnum', hu: 8, shape: cylZ(CANAL[0], CANAL[1], 10, 10, -30, -10) },
  { name: 'brain', hu: 35, shape: cranial(SKULL_INSETS.brain) },
  { name: 'left lateral ventricle', hu: 5, shape: ell([9, 8, 35], [5, 22, 9]) },
  { name: 'right lateral ventricle', hu: 5, shape: ell([-9, 8, 35], [5, 22, 9]) },
  { name: 'pineal calcification', hu: 200, shape: sphere([0, 34, 30], 2.5) },
  { name: 'spinal cord', hu: 35, shape: cylZ(CANAL[0], CANAL[1], 6, 6, Z_BOTTOM, -10) },
  ...vertebraLayers(),
  { name: 'left orbit fat', hu: -80, shape: sphere([EYE_X, EYE_Y + 2, EYE_Z], 14.5) },
  { name: 'right orbit fat', hu: -80, shape: sphere([-EYE_X, EYE_Y + 2, EYE_Z], 14.5) },
  { name: 'left eye', hu: 10, shape: sphere([EYE_X, EYE_Y, EYE_Z], 11) },
  { name: 'right eye', hu: 10, shape: sphere([-EYE_X, EYE_Y, EYE_Z], 11) },
  { name: 'left lens', hu: 110, shape: ell([EYE_X, EYE_Y - 9.5, EYE_Z], [4, 1.8, 4]) },
  { name: 'right lens', hu: 110, shape: ell([-EYE_X, EYE_Y - 9.5, EYE_Z], [4, 1.8, 4]) },
  { name: 'left maxillary sinus wall', hu: 900, shape: ell([24, -52, -36], [13.5, 16.5, 13.5]) },
  { name: 'right maxillary sinus wall', hu: 900, shape: ell([-24, -52, -36], [13.5, 16.5, 13.5]) },
  { name: 'left maxillary sinus', hu: -1000, shape: ell([24, -52, -36], [12, 15, 12]) },
  { name: 'right maxillary sinus', hu: -1000, shape: ell([-24, -52, -36], [12, 15, 12]) },
  {
    name: 'mandible',
    hu: 1300,
    shape: {
      kind: 'union',
      parts: [
        {
          kind: 'intersection',
          parts: [
            { kind: 'torusZ', centre: [0, -12, -62], major: 36, minor: 6 },
            { kind: 'halfSpace', normal: [0, 1, 0], offset: -12 },
          ],
        },
        { kind: 'capsule', a: [36, -12, -62], b: [38, -4, -28], radius: 6 },
        { kind: 'capsule', a: [-36, -12, -62], b: [-38, -4, -28], radius: 6 },
      ],
    },
  },
];

/** HU of air (outside the body and in the airways). */
export const AIR_HU = -1000;

/** The noise-free, sharp-edged HU at an LPS point: the last layer containing it, or air. */
export function ctHeadPhantomIdealValue(p: readonly number[]): number {
  return ctHeadPhantomLayerAt(p)?.hu ?? AIR_HU;
}

/** The last (visible) layer containing the LPS point p, or undefined for air outside the head. */
export function ctHeadPhantomLayerAt(p: readonly number[]): PhantomLayer | undefined {
  for (let n = CT_HEAD_PHANTOM_LAYERS.length - 1; n >= 0; n--) {
    const layer = CT_HEAD_PHANTOM_LAYERS[n]!;
    if (sdf(layer.shape, p[0]!, p[1]!, p[2]!) < 0) return layer;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Sampling
// ---------------------------------------------------------------------------------------------

export interface CtHeadPhantomOptions extends RunOptions {
  /** Voxels along i, j, k (ignored when `grid` is given). */
  readonly size?: Vec3;
  /** Voxel spacing in mm (ignored when `grid` is given). */
  readonly spacing?: Vec3;
  /** Index axes as unit LPS vectors (ignored when `grid` is given). Default identity (an axial LPS stack). */
  readonly direction?: readonly [Vec3, Vec3, Vec3];
  /** LPS centre of voxel (0,0,0). Default: the grid is centred on the world origin. */
  readonly origin?: Vec3;
  /** Sample on exactly this grid (any orientation); overrides size/spacing/direction/origin. */
  readonly grid?: Grid;
  /** Standard deviation of the Gaussian noise in HU (0 for none). */
  readonly noiseSigma?: number;
  /** Seed of the noise generator; the same seed gives the same volume. */
  readonly seed?: number;
  /** Blend voxels on layer surfaces by their covered fraction (true), or sample sharply (false). */
  readonly partialVolume?: boolean;
}

export const CT_HEAD_PHANTOM_DEFAULTS = {
  size: [128, 136, 112] as Vec3,
  spacing: [1.6, 1.6, 2.0] as Vec3,
  direction: [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ] as readonly [Vec3, Vec3, Vec3],
  noiseSigma: 10,
  seed: 1,
  partialVolume: true,
} as const;

/** The grid the phantom is sampled on for the given options (centred on the world origin by default). */
export function ctHeadPhantomGrid(options: CtHeadPhantomOptions = {}): Grid {
  if (options.grid) return options.grid;
  const size = options.size ?? CT_HEAD_PHANTOM_DEFAULTS.size;
  const spacing = options.spacing ?? CT_HEAD_PHANTOM_DEFAULTS.spacing;
  const direction = makeGrid({ size, spacing, direction: options.direction ?? CT_HEAD_PHANTOM_DEFAULTS.direction });
  let origin = options.origin;
  if (!origin) {
    const o: [number, number, number] = [0, 0, 0];
    for (let a = 0; a < 3; a++) {
      const half = (spacing[a]! * (size[a]! - 1)) / 2;
      for (let r = 0; r < 3; r++) o[r] = o[r]! - direction.direction[a]![r]! * half;
    }
    origin = o;
  }
  return makeGrid({ size, spacing, origin, direction: direction.direction });
}

/**
 * Samples the head phantom: an Int16Array volume in HU (clamped to -1024..3071), units 'HU'.
 * Deterministic: the same options give bit-identical output.
 */
export function makeCtHeadPhantom(options: CtHeadPhantomOptions = {}): Volume {
  const grid = ctHeadPhantomGrid(options);
  const noiseSigma = options.noiseSigma ?? CT_HEAD_PHANTOM_DEFAULTS.noiseSigma;
  const seed = options.seed ?? CT_HEAD_PHANTOM_DEFAULTS.seed;
  const partialVolume = options.partialVolume ?? CT_HEAD_PHANTOM_DEFAULTS.partialVolume;
  if (!(noiseSigma >= 0) || !Number.isFinite(noiseSigma)) {
    throw new S2SError('INVALID_ARGUMENT', `noiseSigma must be a finite number >= 0, got ${noiseSigma}`);
  }
  if (!Number.isInteger(seed)) throw new S2SError('INVALID_ARGUMENT', `seed must be an integer, got ${seed}`);
  const [nx, ny, nz] = grid.size;
  const nxy = nx * ny;
  const n = nxy * nz;
  if (n > 2 ** 28) {
    throw new S2SError('INVALID_ARGUMENT', `a ${grid.size.join('x')} phantom is too large (${n} voxels)`, {
      hint: 'use at most 268 million voxels',
    });
  }
  const m = lpsFromIjkMatrix(grid);
  const inv = ijkFromLpsMatrix(grid);
  const acc = new Float32Array(n).fill(AIR_HU);
  const layers = CT_HEAD_PHANTOM_LAYERS;
  const report = progressReporter('phantom', layers.length + 1, options, 1);
  // width of a voxel along direction n, for the partial-volume ramp: sum_a spacing_a |n . dir_a|
  const cols = [0, 1, 2].map((a) => [m[a]!, m[4 + a]!, m[8 + a]!] as const);
  const maxWidth = cols.reduce((s, c) => s + Math.hypot(c[0], c[1], c[2]), 0);
  const eps = 0.05;
  layers.forEach((layer, li) => {
    report(li);
    const shape = layer.shape;
    const range = indexRange(phantomShapeBounds(shape), inv, grid.size, maxWidth);
    if (!range) return;
    const [[i0, j0, k0], [i1, j1, k1]] = range;
    const hu = layer.hu;
    for (let k = k0; k <= k1; k++) {
      for (let j = j0; j <= j1; j++) {
        let x = m[0]! * i0 + m[1]! * j + m[2]! * k + m[3]!;
        let y = m[4]! * i0 + m[5]! * j + m[6]! * k + m[7]!;
        let z = m[8]! * i0 + m[9]! * j + m[10]! * k + m[11]!;
        let idx = k * nxy + j * nx + i0;
        for (let i = i0; i <= i1; i++, idx++, x += m[0]!, y += m[4]!, z += m[8]!) {
          const d = sdf(shape, x, y, z);
          let f: number;
          if (!partialVolume) {
            f = d < 0 ? 1 : 0;
          } else if (d <= -maxWidth / 2) {
            f = 1;
          } else if (d >= maxWidth / 2) {
            f = 0;
          } else {
            const gx = sdf(shape, x + eps, y, z) - sdf(shape, x - eps, y, z);
            const gy = sdf(shape, x, y + eps, z) - sdf(shape, x, y - eps, z);
            const gz = sdf(shape, x, y, z + eps) - sdf(shape, x, y, z - eps);
            const gn = Math.hypot(gx, gy, gz);
            let w = maxWidth;
            if (gn > 0) {
              w = 0;
              for (const c of cols) w += Math.abs(c[0] * gx + c[1] * gy + c[2] * gz) / gn;
            }
            f = Math.min(1, Math.max(0, 0.5 - d / w));
          }
          if (f === 1) acc[idx] = hu;
          else if (f > 0) acc[idx] = acc[idx]! * (1 - f) + hu * f;
        }
      }
    }
  });
  const out = new Int16Array(n);
  const rng = gaussian(seed);
  for (let v = 0; v < n; v++) {
    const value = noiseSigma > 0 ? acc[v]! + noiseSigma * rng() : acc[v]!;
    out[v] = Math.max(-1024, Math.min(3071, Math.round(value)));
  }
  report(layers.length + 1);
  return makeVolume({
    grid,
    data: out,
    units: 'HU',
    meta: { modality: 'CT', source: 'slice2solid CT head phantom', seed, noiseSigma },
  });
}

/** Inclusive voxel index range covering an LPS box (grown by `pad` mm), clipped to the grid; undefined if empty. */
function indexRange(
  [lo, hi]: [Vec3, Vec3],
  inv: Float64Array,
  size: Vec3,
  pad: number,
): [[number, number, number], [number, number, number]] | undefined {
  const a: [number, number, number] = [Infinity, Infinity, Infinity];
  const b: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  for (let c = 0; c < 8; c++) {
    const p = [c & 1 ? hi[0] + pad : lo[0] - pad, c & 2 ? hi[1] + pad : lo[1] - pad, c & 4 ? hi[2] + pad : lo[2] - pad];
    for (let r = 0; r < 3; r++) {
      const q = inv[r * 4]! * p[0]! + inv[r * 4 + 1]! * p[1]! + inv[r * 4 + 2]! * p[2]! + inv[r * 4 + 3]!;
      a[r] = Math.min(a[r]!, q);
      b[r] = Math.max(b[r]!, q);
    }
  }
  const from: [number, number, number] = [0, 0, 0];
  const to: [number, number, number] = [0, 0, 0];
  for (let r = 0; r < 3; r++) {
    // NaN (from infinite bounds) means "the whole axis"
    from[r] = Number.isNaN(a[r]) ? 0 : Math.max(0, Math.floor(a[r]!));
    to[r] = Number.isNaN(b[r]) ? size[r]! - 1 : Math.min(size[r]! - 1, Math.ceil(b[r]!));
    if (from[r]! > to[r]!) return undefined;
  }
  return [from, to];
}

/** Standard normal deviates from a seeded mulberry32 generator (Box-Muller). */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare = Number.NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const v = spare;
      spare = Number.NaN;
      return v;
    }
    const u1 = 1 - uniform(); // (0, 1]
    const u2 = uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  };
}

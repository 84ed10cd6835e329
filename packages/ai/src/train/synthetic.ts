/**
 * A synthetic CT-like segmentation dataset with known labels, for training tests and demos:
 * random ellipsoids (label 1 'ellipsoid', about +80 HU) and random curved tubes (label 2 'tube',
 * about +250 HU) in a smoothly varying background (about -50 HU), plus gaussian noise.
 * Then every value becomes `value * intensityScale + intensityShift` (a "different scanner").
 *
 * Shapes are placed in coordinates relative to the box (fractions of its extent in mm), so a
 * case looks alike at any size/spacing. Deterministic for a seed (own PRNG, no Math.random).
 * The grid is axis-aligned and already in RAS index order (i towards patient left-to-right
 * decreasing LPS x, i.e. direction i = -x, j = -y, k = +z), centred on the LPS origin.
 * Tubes are drawn after ellipsoids, so where they cross, the voxel is 'tube'.
 */
import {
  type LabelMap,
  makeGrid,
  makeLabelMap,
  makeVolume,
  type Segment,
  type Vec3,
  type Volume,
} from '@slice2solid/core';

export interface SyntheticCaseOptions {
  /** Voxels along i, j, k. */
  size?: readonly [number, number, number];
  /** Voxel spacing in mm. */
  spacing?: Vec3;
  /** Standard deviation of the gaussian noise (before scale/shift), HU. */
  noise?: number;
  /** Added to every value after scaling. */
  intensityShift?: number;
  /** Every value is multiplied by this (before the shift). */
  intensityScale?: number;
}

export const SYNTHETIC_CASE_DEFAULTS = {
  size: [48, 48, 48] as [48, 48, 48],
  spacing: [1.5, 1.5, 1.5] as [1.5, 1.5, 1.5],
  noise: 25,
  intensityShift: 0,
  intensityScale: 1,
};

/** Mean intensities (HU, before scale/shift) of the synthetic classes. */
export const SYNTHETIC_INTENSITIES = { background: -50, ellipsoid: 80, tube: 250 } as const;

/** The two segments of a synthetic label map (values 1 and 2). */
export const SYNTHETIC_SEGMENTS: readonly Segment[] = [
  { value: 1, name: 'ellipsoid', color: [241, 214, 145] },
  { value: 2, name: 'tube', color: [216, 101, 79] },
];

/** mulberry32 over a mixed seed: uniform in [0, 1). */
function prng(seed: number): () => number {
  let a = (Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ 0x1b873593) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type V3 = [number, number, number];

/** Makes one synthetic case; the same seed and options always give the same voxels. */
export function syntheticCase(seed: number, options: SyntheticCaseOptions = {}): { image: Volume; labels: LabelMap } {
  const size = options.size ?? SYNTHETIC_CASE_DEFAULTS.size;
  const spacing = options.spacing ?? SYNTHETIC_CASE_DEFAULTS.spacing;
  const noise = options.noise ?? SYNTHETIC_CASE_DEFAULTS.noise;
  const shift = options.intensityShift ?? SYNTHETIC_CASE_DEFAULTS.intensityShift;
  const scale = options.intensityScale ?? SYNTHETIC_CASE_DEFAULTS.intensityScale;
  const [nx, ny, nz] = size;
  const ext: V3 = [nx * spacing[0], ny * spacing[1], nz * spacing[2]];
  const minExt = Math.min(...ext);
  // RAS index order in LPS terms: i -> -x, j -> -y, k -> +z; the box is centred on (0, 0, 0)
  const direction: [Vec3, Vec3, Vec3] = [
    [-1, 0, 0],
    [0, -1, 0],
    [0, 0, 1],
  ];
  const half: V3 = [((nx - 1) * spacing[0]) / 2, ((ny - 1) * spacing[1]) / 2, ((nz - 1) * spacing[2]) / 2];
  const grid = makeGrid({ size, spacing, origin: [half[0], half[1], -half[2]], direction });
  const n = nx * ny * nz;
  const rand = prng(seed);
  const uni = (lo: number, hi: number) => lo + (hi - lo) * rand();

  const labels = new Uint8Array(n);
  // positions (mm from the box corner) of voxel centres
  const pos = (i: number, s: number) => (i + 0.5) * s;

  // ---- ellipsoids: 1..3, random radii and rotation
  const nEll = 1 + Math.floor(rand() * 3);
  for (let e = 0; e < nEll; e++) {
    const r: V3 = [uni(0.08, 0.18) * minExt, uni(0.08, 0.18) * minExt, uni(0.08, 0.18) * minExt];
    const rmax = Math.max(...r);
    const c: V3 = [uni(rmax, ext[0] - rmax), uni(rmax, ext[1] - rmax), uni(rmax, ext[2] - rmax)];
    const R = randomRotation(rand);
    const lo = [0, 1, 2].map((a) => Math.max(0, Math.floor((c[a]! - rmax) / spacing[a]!) - 1));
    const hi = [0, 1, 2].map((a) => Math.min(size[a]! - 1, Math.ceil((c[a]! + rmax) / spacing[a]!) + 1));
    for (let k = lo[2]!; k <= hi[2]!; k++) {
      const dz = pos(k, spacing[2]) - c[2];
      for (let j = lo[1]!; j <= hi[1]!; j++) {
        const dy = pos(j, spacing[1]) - c[1];
        for (let i = lo[0]!; i <= hi[0]!; i++) {
          const dx = pos(i, spacing[0]) - c[0];
          // coordinates in the ellipsoid's frame (rows of R are its axes)
          const u = (R[0] * dx + R[1] * dy + R[2] * dz) / r[0];
          const v = (R[3] * dx + R[4] * dy + R[5] * dz) / r[1];
          const w = (R[6] * dx + R[7] * dy + R[8] * dz) / r[2];
          if (u * u + v * v + w * w <= 1) labels[(k * ny + j) * nx + i] = 1;
        }
      }
    }
  }

  // ---- tubes: 1..2 quadratic Bezier curves across the box, constant radius
  const nTube = 1 + Math.floor(rand() * 2);
  for (let t = 0; t < nTube; t++) {
    const radius = uni(0.04, 0.06) * minExt;
    const m = radius + 0.05 * minExt;
    const p0: V3 = [uni(m, ext[0] - m), uni(m, ext[1] - m), uni(m, ext[2] - m)];
    const p2: V3 = [uni(m, ext[0] - m), uni(m, ext[1] - m), uni(m, ext[2] - m)];
    // make the tube long: push the end points apart along a random axis
    const ax = Math.floor(rand() * 3);
    p0[ax] = uni(m, 0.3 * ext[ax]!);
    p2[ax] = uni(0.7 * ext[ax]!, ext[ax]! - m);
    const p1: V3 = [uni(m, ext[0] - m), uni(m, ext[1] - m), uni(m, ext[2] - m)];
    const SEG = 32;
    const pts: V3[] = [];
    for (let s = 0; s <= SEG; s++) {
      const q = s / SEG;
      const a = (1 - q) * (1 - q);
      const b = 2 * (1 - q) * q;
      const cq = q * q;
      pts.push([
        a * p0[0] + b * p1[0] + cq * p2[0],
        a * p0[1] + b * p1[1] + cq * p2[1],
        a * p0[2] + b * p1[2] + cq * p2[2],
      ]);
    }
    const r2 = radius * radius;
    for (let s = 0; s < SEG; s++) {
      const A = pts[s]!;
      const B = pts[s + 1]!;
      const d: V3 = [B[0] - A[0], B[1] - A[1], B[2] - A[2]];
      const dd = d[0] * d[0] + d[1] * d[1] + d[2] * d[2] || 1e-12;
      const lo = [0, 1, 2].map((a) => Math.max(0, Math.floor((Math.min(A[a]!, B[a]!) - radius) / spacing[a]!) - 1));
      const hi = [0, 1, 2].map((a) =>
        Math.min(size[a]! - 1, Math.ceil((Math.max(A[a]!, B[a]!) + radius) / spacing[a]!) + 1),
      );
      for (let k = lo[2]!; k <= hi[2]!; k++) {
        const z = pos(k, spacing[2]) - A[2];
        for (let j = lo[1]!; j <= hi[1]!; j++) {
          const y = pos(j, spacing[1]) - A[1];
          for (let i = lo[0]!; i <= hi[0]!; i++) {
            const x = pos(i, spacing[0]) - A[0];
            const q = Math.min(1, Math.max(0, (x * d[0] + y * d[1] + z * d[2]) / dd));
            const ex = x - q * d[0];
            const ey = y - q * d[1];
            const ez = z - q * d[2];
            if (ex * ex + ey * ey + ez * ez <= r2) labels[(k * ny + j) * nx + i] = 2;
          }
        }
      }
    }
  }

  // ---- intensities: smooth background (a few low-frequency waves), class means, noise
  const waves = Array.from({ length: 3 }, () => ({
    f: [uni(-1, 1) / ext[0], uni(-1, 1) / ext[1], uni(-1, 1) / ext[2]] as V3,
    phase: uni(0, 2 * Math.PI),
    amp: uni(3, 6),
  }));
  const image = new Float32Array(n);
  const means = [SYNTHETIC_INTENSITIES.background, SYNTHETIC_INTENSITIES.ellipsoid, SYNTHETIC_INTENSITIES.tube];
  let spare: number | null = null;
  const gauss = (): number => {
    if (spare !== null) {
      const g = spare;
      spare = null;
      return g;
    }
    let u = rand();
    while (u <= 1e-12) u = rand();
    const v = rand();
    const rr = Math.sqrt(-2 * Math.log(u));
    spare = rr * Math.sin(2 * Math.PI * v);
    return rr * Math.cos(2 * Math.PI * v);
  };
  for (let k = 0, idx = 0; k < nz; k++) {
    const z = pos(k, spacing[2]);
    for (let j = 0; j < ny; j++) {
      const y = pos(j, spacing[1]);
      for (let i = 0; i < nx; i++, idx++) {
        const x = pos(i, spacing[0]);
        let bg = 0;
        for (const w of waves) bg += w.amp * Math.sin(2 * Math.PI * (w.f[0] * x + w.f[1] * y + w.f[2] * z) + w.phase);
        const value = means[labels[idx]!]! + bg + noise * gauss();
        image[idx] = value * scale + shift;
      }
    }
  }
  return {
    image: makeVolume({ grid, data: image, units: 'HU', meta: { Modality: 'CT', synthetic: true, seed } }),
    labels: makeLabelMap({ grid, data: labels, segments: SYNTHETIC_SEGMENTS }),
  };
}

/** A uniformly random 3x3 rotation (row-major) from a random unit quaternion. */
function randomRotation(rand: () => number): [number, number, number, number, number, number, number, number, number] {
  const u1 = rand();
  const u2 = rand() * 2 * Math.PI;
  const u3 = rand() * 2 * Math.PI;
  const a = Math.sqrt(1 - u1);
  const b = Math.sqrt(u1);
  const [w, x, y, z] = [a * Math.sin(u2), a * Math.cos(u2), b * Math.sin(u3), b * Math.cos(u3)];
  return [
    1 - 2 * (y * y + z * z),
    2 * (x * y - z * w),
    2 * (x * z + y * w),
    2 * (x * y + z * w),
    1 - 2 * (x * x + z * z),
    2 * (y * z - x * w),
    2 * (x * z - y * w),
    2 * (y * z + x * w),
    1 - 2 * (x * x + y * y),
  ];
}

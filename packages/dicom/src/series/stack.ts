/**
 * Sorts the images of one series into slices and volumes and measures the stack geometry.
 *
 * Slices are ordered by their position along the slice normal (never by InstanceNumber).
 * Images sharing a position are repeated acquisitions (4D frames); within a position they are
 * ordered by temporal position, acquisition number, instance number, then input/frame order.
 */
import { cross, dot, normalize, S2SError, type Vec3 } from '@slice2solid/core';
import type { SliceImage } from './types.js';

export interface StackOptions {
  /** Largest distance (mm) a slice may lie from the regular grid and still count as evenly spaced. */
  readonly spacingToleranceMm: number;
  /** Smallest angle (degrees) between the slice step and the slice normal reported as a tilt. */
  readonly tiltToleranceDeg: number;
}

export const STACK_DEFAULTS: StackOptions = {
  spacingToleranceMm: 0.01,
  tiltToleranceDeg: 0.05,
};

export interface StackLayout {
  readonly columns: number;
  readonly rows: number;
  readonly samples: number;
  readonly rowDir: Vec3;
  readonly colDir: Vec3;
  /** Unit vector along which slices are sorted (ascending). */
  readonly normal: Vec3;
  readonly pixelSpacing: readonly [number, number];
  /** slices[t][k]: image of volume t at slice k. */
  readonly slices: readonly (readonly SliceImage[])[];
  /** Position of slice k (first pixel centre, LPS). */
  readonly positions: readonly Vec3[];
  /** Distance of slice k from slice 0 along the normal (ascending, offsets[0] = 0). */
  readonly offsets: readonly number[];
  /** Mean step between neighbouring slices (LPS vector); zero for a single slice. */
  readonly step: Vec3;
  /** Largest distance (mm) of a slice from the regular grid p0 + k * step. */
  readonly maxDeviation: number;
  readonly evenlySpaced: boolean;
  /** Angle between step and normal, degrees. */
  readonly tiltDegrees: number;
  readonly tilted: boolean;
  /** Distinct gaps along the normal (rounded to 0.001 mm). */
  readonly gaps: readonly number[];
  /** Estimated number of missing slices when gaps are multiples of the smallest gap, else 0. */
  readonly missingSlices: number;
  /** Images dropped because they were exact duplicates (same SOP instance and frame). */
  readonly duplicates: number;
}

/** Tolerance (mm along the normal) under which two images are at the same slice position. */
const SAME_POSITION_MM = 0.01;

export function analyzeStack(images: readonly SliceImage[], options: StackOptions = STACK_DEFAULTS): StackLayout {
  const first = images[0];
  if (!first) throw new S2SError('NO_SERIES', 'the series has no images');
  const { columns, rows, samples, rowDir, colDir, pixelSpacing } = first;
  for (const im of images) {
    if (im.columns !== columns || im.rows !== rows || im.samples !== samples) {
      throw new S2SError(
        'INCONSISTENT_SERIES',
        `images of different sizes in one stack (${columns}x${rows} and ${im.columns}x${im.rows})`,
        { file: im.file.name, hint: 'load the files of one size only' },
      );
    }
  }
  const normal = normalize(first.normal);

  // de-duplicate exact repeats of the same image (same file given twice)
  const seen = new Set<string>();
  const unique: SliceImage[] = [];
  let duplicates = 0;
  for (const im of images) {
    const uid = im.file.sopInstanceUID;
    if (uid !== undefined) {
      const key = `${uid}|${im.frameIndex}|${im.tile}`;
      if (seen.has(key)) {
        duplicates++;
        continue;
      }
      seen.add(key);
    }
    unique.push(im);
  }

  const w0 = (p: Vec3) => dot(p, normal);
  const sorted = unique.map((im) => ({ im, w: w0(im.position) })).sort((a, b) => a.w - b.w || order(a.im, b.im));
  // cluster positions along the normal
  const clusters: SliceImage[][] = [];
  const clusterW: number[] = [];
  for (const { im, w } of sorted) {
    const last = clusterW.length - 1;
    if (last >= 0 && Math.abs(w - clusterW[last]!) <= SAME_POSITION_MM) clusters[last]!.push(im);
    else {
      clusters.push([im]);
      clusterW.push(w);
    }
  }
  const nT = clusters[0]!.length;
  if (!clusters.every((c) => c.length === nT)) {
    const counts = clusters.map((c) => c.length);
    const lo = Math.min(...counts);
    const hi = Math.max(...counts);
    throw new S2SError(
      'INCONSISTENT_SERIES',
      `the series has ${clusters.length} slice positions but ${lo} to ${hi} images per position, so it does not form complete volumes`,
      {
        hint: 'some images are missing or the series mixes acquisitions; load the files of one acquisition, or pick another series',
        file: first.file.name,
      },
    );
  }
  for (const c of clusters) c.sort(order);
  const slices: SliceImage[][] = [];
  for (let t = 0; t < nT; t++) slices.push(clusters.map((c) => c[t]!));

  const positions = clusters.map((c) => c[0]!.position);
  const p0 = positions[0]!;
  const nK = positions.length;
  const offsets = clusterW.map((w) => w - clusterW[0]!);
  let step: Vec3 = [0, 0, 0];
  let maxDeviation = 0;
  let tiltDegrees = 0;
  const gaps: number[] = [];
  let missingSlices = 0;
  if (nK >= 2) {
    const pl = positions[nK - 1]!;
    step = [(pl[0] - p0[0]) / (nK - 1), (pl[1] - p0[1]) / (nK - 1), (pl[2] - p0[2]) / (nK - 1)];
    for (let k = 0; k < nK; k++) {
      const p = positions[k]!;
      maxDeviation = Math.max(
        maxDeviation,
        Math.hypot(p[0] - p0[0] - k * step[0], p[1] - p0[1] - k * step[1], p[2] - p0[2] - k * step[2]),
      );
    }
    // tilt: the largest lateral shift per unit normal distance, over the whole stack
    let lat = 0;
    for (let k = 1; k < nK; k++) {
      const d = sub(positions[k]!, p0);
      const w = dot(d, normal);
      const l = Math.hypot(d[0] - w * normal[0], d[1] - w * normal[1], d[2] - w * normal[2]);
      lat = Math.max(lat, (Math.atan2(l, Math.abs(w)) * 180) / Math.PI);
    }
    tiltDegrees = lat;
    const g: number[] = [];
    for (let k = 1; k < nK; k++) g.push(offsets[k]! - offsets[k - 1]!);
    for (const x of g) {
      const r = Math.round(x * 1000) / 1000;
      if (!gaps.some((y) => Math.abs(y - r) <= Math.max(options.spacingToleranceMm, 0.0015))) gaps.push(r);
    }
    if (maxDeviation > options.spacingToleranceMm) {
      const gmin = Math.min(...g);
      const multiples = g.map((x) => x / gmin);
      const atMin = multiples.filter((m) => Math.abs(m - 1) * gmin <= options.spacingToleranceMm).length;
      if (
        gmin > 0 &&
        atMin * 2 >= g.length &&
        multiples.every((m) => Math.abs(m - Math.round(m)) * gmin <= Math.max(options.spacingToleranceMm, 0.02 * gmin))
      ) {
        missingSlices = multiples.reduce((s, m) => s + Math.round(m) - 1, 0);
      }
    }
  }
  return {
    columns,
    rows,
    samples,
    rowDir,
    colDir,
    normal,
    pixelSpacing,
    slices,
    positions,
    offsets,
    step,
    maxDeviation,
    evenlySpaced: maxDeviation <= options.spacingToleranceMm,
    tiltDegrees,
    tilted: tiltDegrees > options.tiltToleranceDeg,
    gaps,
    missingSlices,
    duplicates,
  };
}

/** Acquisition order of two images at the same position. */
function order(a: SliceImage, b: SliceImage): number {
  return (
    cmp(a.temporal, b.temporal) ||
    cmp(a.acquisition, b.acquisition) ||
    cmp(a.instance, b.instance) ||
    a.fileOrder - b.fileOrder ||
    a.frameIndex - b.frameIndex ||
    a.tile - b.tile
  );
}

function cmp(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || a === b) return 0;
  return a - b;
}

function sub(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

/** Right-handed normal of an image plane. */
export function planeNormal(rowDir: Vec3, colDir: Vec3): Vec3 {
  return normalize(cross(rowDir, colDir));
}

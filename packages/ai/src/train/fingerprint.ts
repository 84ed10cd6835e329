/**
 * The dataset fingerprint, as nnU-Net computes it before planning: per case the voxel spacing and
 * size (in the training orientation), and a sample of the intensities inside the labelled
 * structures (foreground); over the dataset the median spacing and size and the foreground
 * intensity statistics (0.5 / 99.5 percentiles, mean, standard deviation) from which the CT
 * normalisation is derived. Computed case by case, so the dataset is never all in memory.
 */
import { type LabelMap, reorientPlan, S2SError, type Vec3, type Volume } from '@slice2solid/core';
import { percentiles } from '@slice2solid/ops';

export interface FingerprintOptions {
  /** Orientation code of the training grids (index axes point towards these letters). */
  readonly orientation?: string;
  /** Foreground intensities kept per case (evenly spread over the foreground voxels). */
  readonly samplesPerCase?: number;
}

export const FINGERPRINT_DEFAULTS = { orientation: 'RAS', samplesPerCase: 10_000 } as const;

export interface CaseFingerprint {
  readonly id: string;
  /** Spacing and size along the index axes after reorientation to `orientation`. */
  readonly spacing: Vec3;
  readonly size: Vec3;
  /** 'CT' when the image is calibrated in HU (or says it is CT), else the modality found or 'unknown'. */
  readonly modality: string;
  readonly foregroundVoxels: number;
  /** Evenly spaced sample of the foreground intensities. */
  readonly samples: Float32Array;
}

/** Spacing, size and a foreground intensity sample of one case. */
export function caseFingerprint(
  id: string,
  image: Volume,
  labels: LabelMap,
  options: FingerprintOptions = {},
): CaseFingerprint {
  const orientation = options.orientation ?? FINGERPRINT_DEFAULTS.orientation;
  const maxSamples = options.samplesPerCase ?? FINGERPRINT_DEFAULTS.samplesPerCase;
  const { perm } = reorientPlan(image.grid, orientation);
  const spacing = [0, 1, 2].map((b) => image.grid.spacing[perm[b]!]!) as unknown as Vec3;
  const size = [0, 1, 2].map((b) => image.grid.size[perm[b]!]!) as unknown as Vec3;
  const d = labels.data;
  let fg = 0;
  for (let p = 0; p < d.length; p++) if (d[p] !== 0) fg++;
  const step = Math.max(1, fg / maxSamples);
  const samples = new Float32Array(Math.min(fg, maxSamples));
  let seen = 0;
  let next = 0;
  let k = 0;
  for (let p = 0; p < d.length && k < samples.length; p++) {
    if (d[p] === 0) continue;
    if (seen >= next) {
      samples[k++] = image.data[p]!;
      next += step;
    }
    seen++;
  }
  const metaModality = image.meta?.modality ?? image.meta?.Modality;
  const modality =
    image.units === 'HU' || metaModality === 'CT' ? 'CT' : typeof metaModality === 'string' ? metaModality : 'unknown';
  return { id, spacing, size, modality, foregroundVoxels: fg, samples: samples.subarray(0, k) };
}

export interface IntensityStatistics {
  readonly percentile00_5: number;
  readonly percentile99_5: number;
  readonly mean: number;
  readonly std: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: number;
}

export interface DatasetFingerprint {
  readonly schema: 'slice2solid-fingerprint/1';
  readonly orientation: string;
  readonly cases: readonly {
    readonly id: string;
    readonly spacing: Vec3;
    readonly size: Vec3;
    readonly modality: string;
    readonly foregroundVoxels: number;
  }[];
  readonly medianSpacing: Vec3;
  readonly medianSize: Vec3;
  /** The modality shared by all cases ('CT', 'MR', ... or 'unknown'); 'mixed' when they differ. */
  readonly modality: string;
  /** Foreground intensities over all cases. */
  readonly foreground: IntensityStatistics;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new S2SError('INVALID_ARGUMENT', 'median of no values');
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Combines the case fingerprints. */
export function datasetFingerprint(
  cases: readonly CaseFingerprint[],
  orientation: string = FINGERPRINT_DEFAULTS.orientation,
): DatasetFingerprint {
  if (cases.length === 0) throw new S2SError('INVALID_ARGUMENT', 'no cases to fingerprint');
  let n = 0;
  for (const c of cases) n += c.samples.length;
  if (n === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'no case has labelled (foreground) voxels', {
      hint: 'check that the label files hold the structures',
    });
  }
  const all = new Float32Array(n);
  let at = 0;
  for (const c of cases) {
    all.set(c.samples, at);
    at += c.samples.length;
  }
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let p = 0; p < n; p++) {
    const x = all[p]!;
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = sum / n;
  let ss = 0;
  for (let p = 0; p < n; p++) ss += (all[p]! - mean) ** 2;
  const [p005, p50, p995] = percentiles(all, [0.5, 50, 99.5]) as [number, number, number];
  const modalities = new Set(cases.map((c) => c.modality));
  const axis = (f: (c: CaseFingerprint) => Vec3) =>
    [0, 1, 2].map((a) => median(cases.map((c) => f(c)[a]!))) as unknown as Vec3;
  return {
    schema: 'slice2solid-fingerprint/1',
    orientation,
    cases: cases.map((c) => ({
      id: c.id,
      spacing: c.spacing,
      size: c.size,
      modality: c.modality,
      foregroundVoxels: c.foregroundVoxels,
    })),
    medianSpacing: axis((c) => c.spacing),
    medianSize: axis((c) => c.size),
    modality: modalities.size === 1 ? [...modalities][0]! : 'mixed',
    foreground: {
      percentile00_5: p005,
      percentile99_5: p995,
      mean,
      std: Math.sqrt(ss / n),
      median: p50,
      min,
      max,
      samples: n,
    },
  };
}

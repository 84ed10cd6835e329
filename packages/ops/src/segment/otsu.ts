/**
 * Automatic thresholds for MR and uncalibrated data: Otsu (two classes) and multi-level Otsu.
 *
 * Convention (the same as scikit-image's threshold_otsu / threshold_multiotsu): the histogram has
 * `bins` equal bins from the image minimum to maximum; thresholds are BIN CENTRES, and a value
 * belongs to class c when thresholds[c-1] < value <= thresholds[c]. So `value > t` is the
 * bright class of a two-class Otsu.
 * Multi-level Otsu maximises the between-class variance sum_c w_c * mu_c^2 exactly by dynamic
 * programming over bins (O(classes * bins^2)), not by brute force over all combinations.
 */
import { progressReporter, type RunOptions, S2SError, type Volume, voxelCount } from '@slice2solid/core';
import { scalarFrame } from './threshold.js';

export interface OtsuOptions extends RunOptions {
  /** Number of histogram bins between the image minimum and maximum. */
  readonly bins?: number;
  /** Number of classes: 2 gives one threshold, 3 gives two... */
  readonly classes?: number;
  /** Only voxels where mask != 0 enter the histogram (e.g. exclude the air outside the body). */
  readonly mask?: Uint8Array;
  readonly frame?: number;
}

export const OTSU_DEFAULTS = { bins: 256, classes: 2, frame: 0 } as const;

export interface Histogram {
  readonly counts: Float64Array;
  /** Lowest and highest value counted. */
  readonly min: number;
  readonly max: number;
  /** Centre value of each bin. */
  readonly centers: Float64Array;
}

/** Histogram of the finite values of `data` (where mask != 0) in `bins` equal bins over [min, max]. */
export function histogram(data: ArrayLike<number>, bins: number, mask?: Uint8Array): Histogram {
  if (!Number.isInteger(bins) || bins < 2) {
    throw new S2SError('INVALID_ARGUMENT', `the histogram needs at least 2 bins, got ${bins}`);
  }
  if (mask && mask.length !== data.length) {
    throw new S2SError('INVALID_ARGUMENT', `mask has ${mask.length} voxels but the image has ${data.length}`);
  }
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let p = 0; p < data.length; p++) {
    if (mask && !mask[p]) continue;
    const x = data[p]!;
    if (!Number.isFinite(x)) continue;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (!(min <= max)) {
    throw new S2SError('INVALID_ARGUMENT', 'no finite voxel values to build a histogram from', {
      hint: 'check the mask and the image',
    });
  }
  const counts = new Float64Array(bins);
  const width = (max - min) / bins;
  const centers = new Float64Array(bins);
  for (let b = 0; b < bins; b++) centers[b] = min + (b + 0.5) * width;
  if (width === 0) {
    counts[0] = countFinite(data, mask);
    return { counts, min, max, centers };
  }
  const scale = bins / (max - min);
  for (let p = 0; p < data.length; p++) {
    if (mask && !mask[p]) continue;
    const x = data[p]!;
    if (!Number.isFinite(x)) continue;
    const b = Math.min(bins - 1, Math.floor((x - min) * scale));
    counts[b]!++;
  }
  return { counts, min, max, centers };
}

function countFinite(data: ArrayLike<number>, mask?: Uint8Array): number {
  let n = 0;
  for (let p = 0; p < data.length; p++) if ((!mask || mask[p]) && Number.isFinite(data[p]!)) n++;
  return n;
}

/**
 * Indices of the last bin of each class but the last (length classes - 1), maximising
 * the between-class variance of the histogram (`values[b]` = value of bin b, default b).
 * Ties go to the lowest thresholds.
 */
export function otsuBinsFromHistogram(counts: ArrayLike<number>, classes = 2, values?: ArrayLike<number>): number[] {
  const nb = counts.length;
  if (!Number.isInteger(classes) || classes < 2) {
    throw new S2SError('INVALID_ARGUMENT', `Otsu needs at least 2 classes, got ${classes}`);
  }
  if (classes > nb) {
    throw new S2SError('INVALID_ARGUMENT', `cannot split ${nb} histogram bins into ${classes} classes`, {
      hint: 'use more bins or fewer classes',
    });
  }
  // prefix sums: P = count, S = count * value
  const P = new Float64Array(nb + 1);
  const S = new Float64Array(nb + 1);
  for (let b = 0; b < nb; b++) {
    const c = counts[b]!;
    if (!(c >= 0)) throw new S2SError('INVALID_ARGUMENT', 'histogram counts must be >= 0');
    const v = values ? values[b]! : b;
    P[b + 1] = P[b]! + c;
    S[b + 1] = S[b]! + c * v;
  }
  // cost of a class holding bins [a, b): w * mu^2 = S^2 / P
  const cost = (a: number, b: number): number => {
    const w = P[b]! - P[a]!;
    if (w <= 0) return 0;
    const s = S[b]! - S[a]!;
    return (s * s) / w;
  };
  // best[c][b]: best score splitting bins [0, b) into c+1 classes; arg[c][b]: start of the last class
  const best: Float64Array[] = [];
  const arg: Int32Array[] = [];
  const first = new Float64Array(nb + 1);
  for (let b = 1; b <= nb; b++) first[b] = cost(0, b);
  best.push(first);
  arg.push(new Int32Array(nb + 1));
  const eps = 1e-12;
  for (let c = 1; c < classes; c++) {
    const prev = best[c - 1]!;
    const cur = new Float64Array(nb + 1).fill(Number.NEGATIVE_INFINITY);
    const a = new Int32Array(nb + 1);
    for (let b = c + 1; b <= nb; b++) {
      let bestVal = Number.NEGATIVE_INFINITY;
      let bestA = c;
      for (let s = c; s < b; s++) {
        const val = prev[s]! + cost(s, b);
        if (val > bestVal * (1 + eps) + eps) {
          bestVal = val;
          bestA = s;
        }
      }
      cur[b] = bestVal;
      a[b] = bestA;
    }
    best.push(cur);
    arg.push(a);
  }
  const cuts: number[] = [];
  let b = nb;
  for (let c = classes - 1; c >= 1; c--) {
    const s = arg[c]![b]!;
    cuts.push(s - 1); // last bin of class c-1
    b = s;
  }
  return cuts.reverse();
}

/**
 * Otsu threshold(s) of a volume in its own value units (bin centres): `classes - 1` increasing
 * values. Two classes: voxels with value > t[0] are the bright class.
 */
export function otsuThresholds(volume: Volume, options: OtsuOptions = {}): number[] {
  const bins = options.bins ?? OTSU_DEFAULTS.bins;
  const classes = options.classes ?? OTSU_DEFAULTS.classes;
  const v = scalarFrame(volume, options.frame ?? OTSU_DEFAULTS.frame, 'Otsu thresholding');
  const report = progressReporter('otsu', 2, options);
  report(0);
  if (options.mask && options.mask.length !== voxelCount(v.grid)) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the Otsu mask has ${options.mask.length} voxels, the image has ${voxelCount(v.grid)}`,
    );
  }
  const h = histogram(v.data, bins, options.mask);
  report(1);
  if (h.min === h.max) {
    throw new S2SError('INVALID_ARGUMENT', `the image is constant (${h.min}); Otsu cannot split it`, {
      hint: 'give explicit lower/upper thresholds',
    });
  }
  const cuts = otsuBinsFromHistogram(h.counts, classes, h.centers);
  report(2);
  return cuts.map((b) => h.centers[b]!);
}

/** Otsu threshold of a histogram given as counts and bin-centre values. */
export function otsuThresholdOfHistogram(counts: ArrayLike<number>, centers: ArrayLike<number>, classes = 2): number[] {
  return otsuBinsFromHistogram(counts, classes, centers).map((b) => centers[b]!);
}

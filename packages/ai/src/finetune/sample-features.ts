/**
 * Runs a model's frozen backbone over a volume and keeps the `features` output (the input of
 * the final 1x1x1 convolution) only at a seeded sample of voxels, so memory stays at
 * samples x F floats whatever the volume size. Voxels are drawn per class first (reservoir
 * sampling, one pass); the patches of the sliding-window layout are run (only those holding a
 * sample) and each sampled voxel's features are averaged over its patches with the Gaussian
 * weights inference uses, so the head sees exactly what it sees at inference (mirroring
 * test-time augmentation aside).
 */
import { progressReporter, type RunOptions, S2SError, throwIfAborted, type Volume } from '@slice2solid/core';
import type { InferenceSessionLike } from '../backend.js';
import { gaussianImportance, patchStarts, SLIDING_WINDOW_DEFAULTS } from '../sliding-window.js';
import { seededUniform } from './random.js';

export interface SampleFeaturesOptions extends RunOptions {
  /** Patch size (i, j, k) of the model. */
  readonly patchSize: readonly [number, number, number];
  /** Overlap of the sliding-window layout the patches come from. */
  readonly overlap?: number;
  /** Model input name (default: the session's first input). */
  readonly inputName?: string;
  /** Name of the features output. */
  readonly featuresName?: string;
  /** 'balanced': up to `count` voxels of every class; 'uniform': `count` voxels drawn over the whole volume. */
  readonly mode?: 'balanced' | 'uniform';
  /** Samples per class ('balanced') or in all ('uniform'). */
  readonly count?: number;
  readonly seed?: number;
  /** Input value outside the volume (when it is smaller than a patch). */
  readonly padValue?: number;
  /**
   * 'gaussian': a voxel's features are the Gaussian-weighted average over every patch that holds
   * it, exactly what sliding-window inference averages (the head is linear, so the averaged
   * logits are the head applied to the averaged features); 'central': only the patch where the
   * voxel lies closest to the centre (fewer runs when samples are few).
   */
  readonly averaging?: 'gaussian' | 'central';
  /** Sigma of the Gaussian weights as a fraction of the patch size (the card's inference setting). */
  readonly gaussianSigmaScale?: number;
}

export const SAMPLE_FEATURES_DEFAULTS = {
  overlap: SLIDING_WINDOW_DEFAULTS.overlap,
  featuresName: 'features',
  mode: 'balanced',
  count: 2000,
  seed: 1,
  padValue: 0,
  averaging: 'gaussian',
  gaussianSigmaScale: SLIDING_WINDOW_DEFAULTS.gaussianSigmaScale,
} as const satisfies Omit<SampleFeaturesOptions, 'patchSize'>;

export interface FeatureSamples {
  /** Number of samples n. */
  readonly count: number;
  /** Feature channels F. */
  readonly featureChannels: number;
  /** [n][F] float32. */
  readonly features: Float32Array;
  /** Class index per sample. */
  readonly targets: Uint8Array;
  /** Voxels each sample stands for (voxels of its class, or of the volume, / samples drawn from them). */
  readonly weights: Float32Array;
  /** Voxel index (on the input's grid) per sample. */
  readonly voxels: Int32Array;
  /** Backbone runs (one patch each). */
  readonly patchesRun: number;
}

/** Samples backbone features of `input` (float32, model grid) at voxels chosen from `classes`. */
export async function sampleFeatures(
  session: InferenceSessionLike,
  input: Volume,
  classes: Uint8Array,
  numClasses: number,
  options: SampleFeaturesOptions,
): Promise<FeatureSamples> {
  const o = { ...SAMPLE_FEATURES_DEFAULTS, ...options };
  const [nx, ny, nz] = input.grid.size;
  const nxy = nx * ny;
  const nvox = nxy * nz;
  if (!(input.data instanceof Float32Array) || input.frames !== 1) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      'feature sampling needs a one-frame float32 volume (preprocessForModel output)',
    );
  }
  if (classes.length !== nvox) {
    throw new S2SError('INVALID_ARGUMENT', `the class map has ${classes.length} voxels but the volume ${nvox}`);
  }
  if (!Number.isInteger(o.count) || o.count < 1) {
    throw new S2SError('INVALID_ARGUMENT', `the sample count must be a positive integer, got ${o.count}`);
  }
  const inputName = o.inputName ?? session.inputNames[0]!;
  if (!session.outputNames.includes(o.featuresName)) {
    throw new S2SError('INVALID_ARGUMENT', `the model has no output "${o.featuresName}"`, {
      hint: `its outputs are ${session.outputNames.join(', ')}; fine-tuning needs a model that also outputs the features its final 1x1x1 convolution reads (slice2solid train exports "features")`,
    });
  }
  throwIfAborted(o.signal);

  // 1. choose the voxels (reservoir sampling: one pass, seeded)
  const rnd = seededUniform(o.seed);
  const pools = o.mode === 'balanced' ? numClasses : 1;
  const res = Array.from({ length: pools }, () => new Int32Array(o.count));
  const seen = new Float64Array(pools);
  for (let p = 0; p < nvox; p++) {
    const c = classes[p]!;
    if (c >= numClasses) {
      throw new S2SError('INVALID_ARGUMENT', `voxel ${p} has class ${c} but the model has ${numClasses} classes`);
    }
    const pool = o.mode === 'balanced' ? c : 0;
    const s = seen[pool]!;
    if (s < o.count) res[pool]![s] = p;
    else {
      const j = Math.floor(rnd() * (s + 1));
      if (j < o.count) res[pool]![j] = p;
    }
    seen[pool] = s + 1;
  }
  const picked: number[] = [];
  const represents = new Map<number, number>(); // voxel -> voxels of its pool it stands for
  for (let q = 0; q < pools; q++) {
    const m = Math.min(o.count, seen[q]!);
    for (let t = 0; t < m; t++) {
      picked.push(res[q]![t]!);
      represents.set(res[q]![t]!, seen[q]! / m);
    }
  }
  picked.sort((a, b) => a - b);
  const n = picked.length;

  // 2. the patches each voxel is computed in: all patches of the sliding-window layout that hold
  //    it ('gaussian'), or only the one where it lies closest to the centre ('central')
  const [pi, pj, pk] = o.patchSize;
  const si = patchStarts(nx, pi, o.overlap);
  const sj = patchStarts(ny, pj, o.overlap);
  const sk = patchStarts(nz, pk, o.overlap);
  /** Per position along an axis: the indices of the patch starts that cover it. */
  const covering = (size: number, patch: number, starts: readonly number[]): number[][] =>
    Array.from({ length: size }, (_, x) => {
      const all = starts.flatMap((s, idx) => (x >= s && x < s + patch ? [idx] : []));
      if (o.averaging === 'gaussian') return all;
      let best = all[0]!;
      for (const idx of all) {
        if (Math.abs(x - (starts[idx]! + (patch - 1) / 2)) < Math.abs(x - (starts[best]! + (patch - 1) / 2)))
          best = idx;
      }
      return [best];
    });
  const ci = covering(nx, pi, si);
  const cj = covering(ny, pj, sj);
  const ck = covering(nz, pk, sk);
  const groups = new Map<number, number[]>(); // patch key -> sample numbers
  for (let m = 0; m < n; m++) {
    const p = picked[m]!;
    const i = p % nx;
    const j = Math.floor(p / nx) % ny;
    const k = Math.floor(p / nxy);
    for (const a of ck[k]!)
      for (const b of cj[j]!)
        for (const c of ci[i]!) {
          const key = (a * sj.length + b) * si.length + c;
          let g = groups.get(key);
          if (!g) groups.set(key, (g = []));
          g.push(m);
        }
  }
  const weights =
    o.averaging === 'gaussian'
      ? gaussianImportance(o.patchSize, o.gaussianSigmaScale)
      : new Float32Array(pi * pj * pk).fill(1);

  // 3. run the backbone on those patches and accumulate the sampled voxels' (weighted) features
  const cin = input.components;
  const pn = pi * pj * pk;
  const tensor = new Float32Array(cin * pn);
  const targets = new Uint8Array(n);
  const voxels = Int32Array.from(picked);
  for (let m = 0; m < n; m++) targets[m] = classes[picked[m]!]!;
  const sampleWeights = Float32Array.from(picked, (p) => represents.get(p)!);
  let acc: Float64Array | undefined;
  const wsum = new Float64Array(n);
  let F = 0;
  const keys = [...groups.keys()].sort((a, b) => a - b);
  const tick = progressReporter('fine-tuning: backbone features', keys.length, o, 1);
  let runs = 0;
  tick(0);
  for (const key of keys) {
    const ii = key % si.length;
    const jj = Math.floor(key / si.length) % sj.length;
    const kk = Math.floor(key / (si.length * sj.length));
    const start = [si[ii]!, sj[jj]!, sk[kk]!] as const;
    fillPatch(input.data, cin, [nx, ny, nz], start, [pi, pj, pk], o.padValue, tensor);
    const out = (await session.run({ [inputName]: { data: tensor, dims: [1, cin, pk, pj, pi] } }, [o.featuresName]))[
      o.featuresName
    ];
    runs++;
    const d = out?.dims ?? [];
    if (!out || d.length !== 5 || d[0] !== 1 || d[2] !== pk || d[3] !== pj || d[4] !== pi) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `the model's "${o.featuresName}" output has shape [${d.join(', ')}], expected [1, F, ${pk}, ${pj}, ${pi}]`,
        { hint: 'the features output must have the spatial size of the input patch (the input of a 1x1x1 head)' },
      );
    }
    if (!acc) {
      F = d[1]!;
      acc = new Float64Array(n * F);
    } else if (d[1] !== F) {
      throw new S2SError('INVALID_ARGUMENT', `the features output changed from ${F} to ${d[1]} channels`);
    }
    for (const m of groups.get(key)!) {
      const p = picked[m]!;
      const li = (p % nx) - start[0];
      const lj = (Math.floor(p / nx) % ny) - start[1];
      const lk = Math.floor(p / nxy) - start[2];
      const local = (lk * pj + lj) * pi + li;
      const w = weights[local]!;
      wsum[m]! += w;
      for (let f = 0; f < F; f++) acc[m * F + f]! += w * out.data[f * pn + local]!;
    }
    tick(runs);
  }
  const features = new Float32Array(n * F);
  for (let m = 0; m < n; m++) for (let f = 0; f < F; f++) features[m * F + f] = acc![m * F + f]! / wsum[m]!;
  return { count: n, featureChannels: F, features, targets, weights: sampleWeights, voxels, patchesRun: runs };
}

/** Copies one patch of a (component-interleaved) volume into a channel-major tensor, padding outside. */
function fillPatch(
  data: Float32Array,
  cin: number,
  size: readonly [number, number, number],
  start: readonly [number, number, number],
  patch: readonly [number, number, number],
  padValue: number,
  out: Float32Array,
): void {
  const [nx, ny, nz] = size;
  const [pi, pj, pk] = patch;
  const pn = pi * pj * pk;
  out.fill(padValue);
  for (let kk = 0; kk < pk; kk++) {
    const k = start[2] + kk;
    if (k >= nz) break;
    for (let jj = 0; jj < pj; jj++) {
      const j = start[1] + jj;
      if (j >= ny) break;
      const src = ((k * ny + j) * nx + start[0]) * cin;
      const dst = (kk * pj + jj) * pi;
      const w = Math.min(pi, nx - start[0]);
      for (let c = 0; c < cin; c++) {
        for (let ii = 0; ii < w; ii++) out[c * pn + dst + ii] = data[src + ii * cin + c]!;
      }
    }
  }
}

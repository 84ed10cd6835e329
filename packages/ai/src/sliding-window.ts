/**
 * Sliding-window inference (as nnU-Net and MONAI do it): the volume is covered by overlapping
 * patches of the model's patch size, each patch's raw output (logits) is weighted by a
 * Gaussian importance map (centre voxels count more than border voxels, whose receptive field
 * was cut by the patch edge), and the weighted outputs are averaged. Optional mirroring
 * test-time augmentation runs every patch again flipped along each subset of the given axes
 * and averages the flipped-back outputs.
 *
 * Memory is bounded: patches are processed in layers of equal k position, and the float32
 * accumulators only hold the k-slab that the current layer touches (a ring of `patch k`
 * slices). A slice is finished (averaged, turned into labels, optionally into uint8
 * probabilities) as soon as no later patch can touch it, and its accumulator slots are reused.
 * Nothing is accumulated in float64, and the full-size float32 output is only kept when asked
 * for (`returnLogits`, meant for tests and small volumes).
 *
 * Axis conventions: sizes and patch sizes are (i, j, k) like a Grid; the tensors sent to the
 * model are [batch, channel, k, j, i] (ONNX N, C, D, H, W), which is a Volume's memory order.
 * Voxels of a patch outside the volume (volume smaller than the patch) are filled with
 * `padValue` and their outputs are discarded.
 */
import { type Grid, progressReporter, type RunOptions, S2SError, throwIfAborted, type Volume } from '@slice2solid/core';
import type { Float32Tensor, InferenceSessionLike } from './backend.js';

export type Activation = 'softmax' | 'sigmoid' | 'none';

export interface SlidingWindowOptions extends RunOptions {
  /** Patch size (i, j, k) in voxels of the model grid. */
  readonly patchSize: readonly [number, number, number];
  /** Fraction of a patch shared with its neighbour, 0 <= overlap < 1. */
  readonly overlap?: number;
  /** 'gaussian' (sigma = gaussianSigmaScale * patch size per axis) or 'uniform' weights. */
  readonly importance?: 'gaussian' | 'uniform';
  readonly gaussianSigmaScale?: number;
  /** Patches per model run. */
  readonly batchSize?: number;
  /** Index axes (0 = i, 1 = j, 2 = k) to mirror for test-time augmentation; [] for none. */
  readonly mirrorAxes?: readonly number[];
  /** Model input and output names (default: the session's first). */
  readonly inputName?: string;
  readonly outputName?: string;
  /** What turns the averaged output into probabilities: softmax over channels, per-channel sigmoid, or none (already probabilities). */
  readonly activation?: Activation;
  /** Label value written for each output channel (default: the channel index). */
  readonly labelValues?: readonly number[];
  /** Input value used outside the volume when the patch is larger than the volume. */
  readonly padValue?: number;
  /** Also return the averaged raw output, float32, channel-major [C][k][j][i] (C x voxels x 4 bytes). */
  readonly returnLogits?: boolean;
  /** Also return per-channel probabilities quantised to uint8 (round(p * 255)). */
  readonly returnProbabilities?: boolean;
  /** Refuse to start when the estimated working memory exceeds this many bytes. */
  readonly memoryBudgetBytes?: number;
}

export const SLIDING_WINDOW_DEFAULTS = {
  overlap: 0.5,
  importance: 'gaussian',
  gaussianSigmaScale: 0.125,
  batchSize: 1,
  mirrorAxes: [],
  activation: 'softmax',
  padValue: 0,
  returnLogits: false,
  returnProbabilities: false,
  memoryBudgetBytes: 4 * 1024 ** 3,
} as const satisfies Omit<SlidingWindowOptions, 'patchSize'>;

export interface SlidingWindowResult {
  /** Grid of the input volume; every array below is on it. */
  readonly grid: Grid;
  /** Arg-max label per voxel (see `activation`); uint16 when a label value exceeds 255. */
  readonly labels: Uint8Array | Uint16Array;
  /** Number of model output channels. */
  readonly channels: number;
  readonly logits?: Float32Array;
  readonly probabilities?: readonly Uint8Array[];
  /** Patches, and model runs (patches x mirror variants / batch). */
  readonly patches: number;
  readonly runs: number;
  /** Bytes held by the accumulators and patch tensors (not counting the returned arrays). */
  readonly workingBytes: number;
}

/**
 * Start positions of the patches along one axis: evenly spread so that the first starts at 0,
 * the last ends at the volume's end, and neighbours overlap by at least `overlap` of a patch.
 */
export function patchStarts(size: number, patch: number, overlap: number): number[] {
  if (size <= patch) return [0];
  const target = Math.max(1, patch * (1 - overlap));
  const n = Math.ceil((size - patch) / target) + 1;
  const step = (size - patch) / (n - 1);
  const out: number[] = [];
  for (let t = 0; t < n; t++) out.push(Math.round(step * t));
  return out;
}

/** The Gaussian importance map of a patch, [k][j][i], maximum 1. */
export function gaussianImportance(patch: readonly [number, number, number], sigmaScale: number): Float32Array {
  const axis = (p: number): Float64Array => {
    const g = new Float64Array(p);
    const c = (p - 1) / 2;
    const s = Math.max(sigmaScale * p, 1e-6);
    for (let x = 0; x < p; x++) g[x] = Math.exp(-((x - c) ** 2) / (2 * s * s));
    const m = Math.max(...g);
    for (let x = 0; x < p; x++) g[x] = g[x]! / m;
    return g;
  };
  const [pi, pj, pk] = patch;
  const gi = axis(pi);
  const gj = axis(pj);
  const gk = axis(pk);
  const out = new Float32Array(pi * pj * pk);
  let o = 0;
  // floor: every voxel keeps a usable (normal float32) weight
  for (let k = 0; k < pk; k++)
    for (let j = 0; j < pj; j++) for (let i = 0; i < pi; i++) out[o++] = Math.max(gk[k]! * gj[j]! * gi[i]!, 1e-30);
  return out;
}

function checkOptions(input: Volume, o: SlidingWindowOptions): void {
  const bad = (msg: string, hint?: string): never => {
    throw new S2SError('INVALID_ARGUMENT', msg, hint ? { hint } : {});
  };
  const p = o.patchSize;
  if (!Array.isArray(p) || p.length !== 3 || !p.every((x) => Number.isInteger(x) && x >= 1)) {
    bad(`patch size must be 3 positive integers (i, j, k), got ${JSON.stringify(p)}`);
  }
  const overlap = o.overlap ?? SLIDING_WINDOW_DEFAULTS.overlap;
  if (!(overlap >= 0 && overlap < 1)) bad(`overlap must be in [0, 1), got ${overlap}`, 'e.g. 0.5');
  const b = o.batchSize ?? SLIDING_WINDOW_DEFAULTS.batchSize;
  if (!Number.isInteger(b) || b < 1) bad(`batch size must be a positive integer, got ${b}`);
  const sig = o.gaussianSigmaScale ?? SLIDING_WINDOW_DEFAULTS.gaussianSigmaScale;
  if (!(sig > 0) || !Number.isFinite(sig)) bad(`gaussianSigmaScale must be > 0, got ${sig}`, 'nnU-Net uses 0.125');
  const m = o.mirrorAxes ?? [];
  if (!m.every((a) => a === 0 || a === 1 || a === 2) || new Set(m).size !== m.length) {
    bad(`mirror axes must be distinct values among 0, 1, 2 (i, j, k), got [${m.join(', ')}]`);
  }
  const act = o.activation ?? SLIDING_WINDOW_DEFAULTS.activation;
  if (act !== 'softmax' && act !== 'sigmoid' && act !== 'none') {
    bad(`activation must be softmax, sigmoid or none, got ${String(act)}`);
  }
  if (!(input.data instanceof Float32Array)) {
    bad('sliding-window inference needs a float32 volume', 'normalise the image first (preprocessForModel does)');
  }
  if (input.frames !== 1) {
    bad(`the input has ${input.frames} frames; inference runs on one 3D frame`, 'pick a frame with frameOf');
  }
}

/** Runs `session` over `input` (float32, one component per model input channel) patch by patch. */
export async function slidingWindowInference(
  session: InferenceSessionLike,
  input: Volume,
  options: SlidingWindowOptions,
): Promise<SlidingWindowResult> {
  checkOptions(input, options);
  const overlap = options.overlap ?? SLIDING_WINDOW_DEFAULTS.overlap;
  const batchSize = options.batchSize ?? SLIDING_WINDOW_DEFAULTS.batchSize;
  const mirrorAxes = options.mirrorAxes ?? SLIDING_WINDOW_DEFAULTS.mirrorAxes;
  const activation = options.activation ?? SLIDING_WINDOW_DEFAULTS.activation;
  const padValue = options.padValue ?? SLIDING_WINDOW_DEFAULTS.padValue;
  const budget = options.memoryBudgetBytes ?? SLIDING_WINDOW_DEFAULTS.memoryBudgetBytes;
  const inputName = options.inputName ?? session.inputNames[0];
  const outputName = options.outputName ?? session.outputNames[0];
  if (inputName === undefined || outputName === undefined) {
    throw new S2SError('INVALID_ARGUMENT', 'the model has no inputs or no outputs');
  }
  const data = input.data as Float32Array;
  const cin = input.components;
  const [nx, ny, nz] = input.grid.size;
  const [pi, pj, pk] = options.patchSize;
  const nxy = nx * ny;
  const nvox = nxy * nz;
  const pn = pi * pj * pk;

  const si = patchStarts(nx, pi, overlap);
  const sj = patchStarts(ny, pj, overlap);
  const sk = patchStarts(nz, pk, overlap);
  const weights =
    (options.importance ?? SLIDING_WINDOW_DEFAULTS.importance) === 'uniform'
      ? new Float32Array(pn).fill(1)
      : gaussianImportance(options.patchSize, options.gaussianSigmaScale ?? SLIDING_WINDOW_DEFAULTS.gaussianSigmaScale);

  // mirror variants: every subset of the mirror axes (bit a set = flip index axis a)
  const variants: number[] = [];
  for (let s = 0; s < 1 << mirrorAxes.length; s++) {
    let bits = 0;
    mirrorAxes.forEach((a, idx) => {
      if (s & (1 << idx)) bits |= 1 << a;
    });
    variants.push(bits);
  }

  const depth = Math.min(pk, nz); // ring of k slices
  const totalPatches = si.length * sj.length * sk.length;
  const totalRuns = sk.length * Math.ceil((si.length * sj.length) / batchSize) * variants.length;
  const tick = progressReporter('sliding-window inference', totalRuns, options, 1);

  let channels = -1;
  let acc: Float32Array | undefined;
  let wsum: Float32Array | undefined;
  let logits: Float32Array | undefined;
  let probs: Uint8Array[] | undefined;
  let labels: Uint8Array | Uint16Array | undefined;
  let labelOf: number[] = [];
  let workingBytes = 0;
  const tensorIn = new Float32Array(batchSize * cin * pn);
  let runs = 0;

  const allocate = (c: number): void => {
    channels = c;
    labelOf = options.labelValues ? [...options.labelValues] : Array.from({ length: c }, (_, n) => n);
    if (labelOf.length !== c || !labelOf.every((v) => Number.isInteger(v) && v >= 0 && v <= 65535)) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `the model gives ${c} output channels but ${labelOf.length} label values were given (integers 0..65535)`,
        { hint: 'give one label value per output channel, in channel order' },
      );
    }
    if (c === 1 && !options.labelValues) labelOf = [1];
    const ringBytes = (c + 1) * nxy * depth * 4;
    const tensorBytes = batchSize * (cin + c) * pn * 4;
    workingBytes = ringBytes + tensorBytes;
    const maxLabel = Math.max(...labelOf);
    const outBytes =
      nvox * (maxLabel > 255 ? 2 : 1) +
      (options.returnLogits ? c * nvox * 4 : 0) +
      (options.returnProbabilities ? c * nvox : 0);
    if (workingBytes + outBytes > budget) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `sliding-window inference would need about ${mib(workingBytes + outBytes)} MiB (accumulators ${mib(ringBytes)} MiB, patch tensors ${mib(tensorBytes)} MiB, results ${mib(outBytes)} MiB), over the budget of ${mib(budget)} MiB`,
        { hint: 'lower the batch size, drop returnLogits/returnProbabilities, crop the volume, or raise the budget' },
      );
    }
    acc = new Float32Array(c * nxy * depth);
    wsum = new Float32Array(nxy * depth);
    labels = maxLabel > 255 ? new Uint16Array(nvox) : new Uint8Array(nvox);
    if (options.returnLogits) logits = new Float32Array(c * nvox);
    if (options.returnProbabilities) probs = Array.from({ length: c }, () => new Uint8Array(nvox));
  };

  const v = new Float64Array(256);
  const finishSlice = (k: number): void => {
    const slot = k % depth;
    const a = acc!;
    const w = wsum!;
    const c = channels;
    const vv = c <= v.length ? v : new Float64Array(c);
    for (let q = 0; q < nxy; q++) {
      const wq = slot * nxy + q;
      const p = k * nxy + q;
      const ws = w[wq]!;
      const base = wq * c;
      for (let ch = 0; ch < c; ch++) {
        const x = a[base + ch]! / ws;
        if (!Number.isFinite(x)) {
          throw new S2SError(
            'INVALID_ARGUMENT',
            `the model produced a non-finite output (${x}) at voxel ${p % nx}, ${Math.floor(p / nx) % ny}, ${k}`,
            {
              hint: 'check the intensity normalisation in the model card and that the model is exported in float32',
            },
          );
        }
        vv[ch] = x;
        a[base + ch] = 0;
      }
      w[wq] = 0;
      if (logits) for (let ch = 0; ch < c; ch++) logits[ch * nvox + p] = vv[ch]!;
      // label: arg-max of the averaged output (softmax and identity keep the order); sigmoid: > 0.5
      let best = 0;
      for (let ch = 1; ch < c; ch++) if (vv[ch]! > vv[best]!) best = ch;
      let label: number;
      if (activation === 'sigmoid') label = vv[best]! > 0 ? labelOf[best]! : 0;
      else if (c === 1) label = vv[0]! > 0.5 ? labelOf[0]! : 0;
      else label = labelOf[best]!;
      labels![p] = label;
      if (probs) {
        if (activation === 'softmax' && c > 1) {
          const m = vv[best]!;
          let s = 0;
          for (let ch = 0; ch < c; ch++) s += Math.exp(vv[ch]! - m);
          for (let ch = 0; ch < c; ch++) probs[ch]![p] = Math.round((Math.exp(vv[ch]! - m) / s) * 255);
        } else if (activation === 'sigmoid' || (activation === 'softmax' && c === 1)) {
          for (let ch = 0; ch < c; ch++) probs[ch]![p] = Math.round(255 / (1 + Math.exp(-vv[ch]!)));
        } else {
          for (let ch = 0; ch < c; ch++) probs[ch]![p] = Math.round(Math.min(1, Math.max(0, vv[ch]!)) * 255);
        }
      }
    }
  };

  let done = 0;
  tick(0);
  for (let layer = 0; layer < sk.length; layer++) {
    const k0 = sk[layer]!;
    const tiles: [number, number][] = [];
    for (const j0 of sj) for (const i0 of si) tiles.push([i0, j0]);
    for (let b0 = 0; b0 < tiles.length; b0 += batchSize) {
      const batch = tiles.slice(b0, b0 + batchSize);
      for (const bits of variants) {
        throwIfAborted(options.signal);
        batch.forEach(([i0, j0], bi) => {
          extractPatch(
            data,
            cin,
            input.grid.size,
            [i0, j0, k0],
            options.patchSize,
            bits,
            padValue,
            tensorIn,
            bi * cin * pn,
          );
        });
        const feed: Float32Tensor = {
          data: batch.length === batchSize ? tensorIn : tensorIn.subarray(0, batch.length * cin * pn),
          dims: [batch.length, cin, pk, pj, pi],
        };
        const res = await session.run({ [inputName]: feed }, [outputName]);
        runs++;
        const out = res[outputName];
        const dims = out?.dims ?? [];
        if (
          !out ||
          dims.length !== 5 ||
          dims[0] !== batch.length ||
          dims[2] !== pk ||
          dims[3] !== pj ||
          dims[4] !== pi ||
          !(dims[1]! >= 1) ||
          out.data.length !== batch.length * dims[1]! * pn
        ) {
          throw new S2SError(
            'INVALID_ARGUMENT',
            `the model output "${outputName}" has shape [${dims.join(', ')}], expected [${batch.length}, C, ${pk}, ${pj}, ${pi}]`,
            { hint: 'the model must give one output per input voxel (check the patch size in the model card)' },
          );
        }
        if (channels < 0) allocate(dims[1]!);
        else if (dims[1] !== channels) {
          throw new S2SError('INVALID_ARGUMENT', `the model output changed from ${channels} to ${dims[1]} channels`);
        }
        batch.forEach(([i0, j0], bi) => {
          accumulatePatch(
            out.data,
            bi * channels * pn,
            channels,
            weights,
            [i0, j0, k0],
            options.patchSize,
            bits,
            [nx, ny, nz],
            depth,
            acc!,
            wsum!,
          );
        });
        tick(++done);
      }
    }
    // slices no later layer touches are final
    const kEnd = layer + 1 < sk.length ? sk[layer + 1]! : nz;
    for (let k = k0; k < Math.min(kEnd, nz); k++) finishSlice(k);
  }
  return {
    grid: input.grid,
    labels: labels!,
    channels,
    ...(logits ? { logits } : {}),
    ...(probs ? { probabilities: probs } : {}),
    patches: totalPatches,
    runs,
    workingBytes,
  };
}

function mib(b: number): string {
  return (b / 1024 ** 2).toFixed(1);
}

/** Copies one (possibly mirrored) patch into the tensor at `offset`, channel-major [C][k][j][i]. */
function extractPatch(
  data: Float32Array,
  cin: number,
  size: readonly [number, number, number],
  start: readonly [number, number, number],
  patch: readonly [number, number, number],
  flipBits: number,
  padValue: number,
  out: Float32Array,
  offset: number,
): void {
  const [nx, ny, nz] = size;
  const [pi, pj, pk] = patch;
  const pn = pi * pj * pk;
  const fi = (flipBits & 1) !== 0;
  const fj = (flipBits & 2) !== 0;
  const fk = (flipBits & 4) !== 0;
  for (let kk = 0; kk < pk; kk++) {
    const k = start[2] + (fk ? pk - 1 - kk : kk);
    for (let jj = 0; jj < pj; jj++) {
      const j = start[1] + (fj ? pj - 1 - jj : jj);
      const row = offset + (kk * pj + jj) * pi;
      const inside = k < nz && j < ny;
      for (let ii = 0; ii < pi; ii++) {
        const i = start[0] + (fi ? pi - 1 - ii : ii);
        if (inside && i < nx) {
          const src = ((k * ny + j) * nx + i) * cin;
          for (let c = 0; c < cin; c++) out[row + c * pn + ii] = data[src + c]!;
        } else {
          for (let c = 0; c < cin; c++) out[row + c * pn + ii] = padValue;
        }
      }
    }
  }
}

/** Adds weight * output of one patch (un-mirroring it) into the ring accumulators. */
function accumulatePatch(
  out: Float32Array,
  offset: number,
  channels: number,
  weights: Float32Array,
  start: readonly [number, number, number],
  patch: readonly [number, number, number],
  flipBits: number,
  size: readonly [number, number, number],
  depth: number,
  acc: Float32Array,
  wsum: Float32Array,
): void {
  const [nx, ny, nz] = size;
  const [pi, pj, pk] = patch;
  const pn = pi * pj * pk;
  const nxy = nx * ny;
  const fi = (flipBits & 1) !== 0;
  const fj = (flipBits & 2) !== 0;
  const fk = (flipBits & 4) !== 0;
  for (let kk = 0; kk < pk; kk++) {
    const k = start[2] + kk;
    if (k >= nz) break;
    const mk = fk ? pk - 1 - kk : kk; // where this voxel sits in the model's (mirrored) output
    const slot = k % depth;
    for (let jj = 0; jj < pj; jj++) {
      const j = start[1] + jj;
      if (j >= ny) break;
      const mj = fj ? pj - 1 - jj : jj;
      const wrow = (kk * pj + jj) * pi;
      const orow = offset + (mk * pj + mj) * pi;
      const arow = slot * nxy + j * nx;
      for (let ii = 0; ii < pi; ii++) {
        const i = start[0] + ii;
        if (i >= nx) break;
        const mi = fi ? pi - 1 - ii : ii;
        const w = weights[wrow + ii]!;
        const q = arow + i;
        wsum[q]! += w;
        const o = orow + mi;
        const base = q * channels;
        for (let c = 0; c < channels; c++) acc[base + c]! += w * out[o + c * pn]!;
      }
    }
  }
}

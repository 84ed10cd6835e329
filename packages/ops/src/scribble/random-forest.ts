/**
 * A compact random forest classifier (Breiman 2001) for the scribble assistant.
 *
 * - Gini impurity, bootstrap samples, a random subset of features per split (sqrt(F) by default,
 *   drawn until that many non-constant features were tried, as scikit-learn does), depth and
 *   minimum-leaf limits, seeded RNG (same data + seed = same forest, bit for bit).
 * - Splits are searched on per-feature quantile bins (at most 256 per feature, as LightGBM and
 *   scikit-learn's HistGradientBoosting do): one O(n) histogram per feature and node instead of a
 *   sort. The stored thresholds are real feature values halfway between training values, and the
 *   rule is "x < threshold goes left", so prediction works on raw float features.
 * - Trees are stored flat in typed arrays (all trees of the forest in one set), leaves hold class
 *   probabilities; `serializeRandomForest` turns a forest into JSON-safe text (base64, little-endian)
 *   that a web app can keep, `deserializeRandomForest` checks it and reads it back.
 */
import { progressReporter, type RunOptions, S2SError } from '@slice2solid/core';

export interface RandomForestOptions extends RunOptions {
  /** Number of trees. */
  readonly trees?: number;
  /** Maximum depth of a tree (the root has depth 0). */
  readonly maxDepth?: number;
  /** A split must leave at least this many (bootstrap) samples on each side. */
  readonly minSamplesLeaf?: number;
  /** Features tried per split: a count, or 'sqrt' for round(sqrt(F)). */
  readonly featuresPerSplit?: number | 'sqrt';
  /** Draw each tree's samples with replacement (true) or use all samples (false). */
  readonly bootstrap?: boolean;
  /** Samples per tree (default: as many as there are training samples). */
  readonly samplesPerTree?: number;
  /** Quantile bins per feature for the split search (2..256). */
  readonly bins?: number;
  /** Seed of the random number generator. */
  readonly seed?: number;
}

export const RANDOM_FOREST_DEFAULTS = {
  trees: 32,
  maxDepth: 20,
  minSamplesLeaf: 5,
  featuresPerSplit: 'sqrt',
  bootstrap: true,
  bins: 128,
  seed: 1,
} as const satisfies RandomForestOptions;

/** A trained forest. Node n is a leaf when feature[n] < 0; then left[n] is its leaf index. */
export interface RandomForest {
  readonly classes: number;
  readonly features: number;
  /** Root node of each tree. */
  readonly roots: Int32Array;
  /** Split feature per node, -1 for a leaf. */
  readonly feature: Int32Array;
  /** Split threshold per node: x[feature] < threshold goes to left[n], otherwise to left[n] + 1. */
  readonly threshold: Float32Array;
  /** First child per internal node (the second is left + 1); leaf index per leaf. */
  readonly left: Int32Array;
  /** Class probabilities per leaf: leafProb[leaf * classes + c]. */
  readonly leafProb: Float32Array;
}

/** mulberry32: small, fast, seeded, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function intOption(v: unknown, name: string, min: number, max: number, hint: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new S2SError('INVALID_ARGUMENT', `${name} must be a whole number from ${min} to ${max}, got ${String(v)}`, {
      hint,
    });
  }
  return v;
}

/**
 * Cut points of one feature column: at most bins - 1 increasing thresholds, each halfway
 * between two neighbouring distinct training values, placed at about equal sample counts.
 */
export function quantileCuts(values: Float32Array, bins: number): Float32Array {
  const sorted = values.slice().sort();
  const n = sorted.length;
  const step = n / bins;
  const cuts: number[] = [];
  let since = 0;
  for (let t = 1; t < n && cuts.length < bins - 1; t++) {
    since++;
    const lo = sorted[t - 1]!;
    const hi = sorted[t]!;
    if (hi > lo && since >= step) {
      let c = Math.fround((lo + hi) / 2);
      if (!(c > lo)) c = hi;
      cuts.push(c);
      since = 0;
    }
  }
  return Float32Array.from(cuts);
}

/** Bin of x: the number of cuts <= x (x < cuts[b] is bin <= b). */
function binOf(cuts: Float32Array, x: number): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < cuts[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Trains a forest on n samples of nFeatures float32 features (row-major: x[s * nFeatures + f])
 * with class indices y[s] in 0..classes-1.
 */
export function trainRandomForest(
  x: Float32Array,
  y: ArrayLike<number>,
  nFeatures: number,
  classes: number,
  options: RandomForestOptions = {},
): RandomForest {
  const F = intOption(nFeatures, 'nFeatures', 1, 65535, 'the number of feature columns');
  const K = intOption(classes, 'classes', 2, 255, 'a classifier needs at least two classes');
  const n = y.length;
  if (n < 2) {
    throw new S2SError('INVALID_ARGUMENT', `a random forest needs at least 2 training samples, got ${n}`, {
      hint: 'paint more voxels of each class',
    });
  }
  if (x.length !== n * F) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `features have ${x.length} values but ${n} samples x ${F} features need ${n * F}`,
    );
  }
  for (let s = 0; s < n; s++) {
    const c = y[s]!;
    if (!Number.isInteger(c) || c < 0 || c >= K) {
      throw new S2SError('INVALID_ARGUMENT', `class index ${c} of sample ${s} is outside 0..${K - 1}`);
    }
  }
  const T = intOption(options.trees ?? RANDOM_FOREST_DEFAULTS.trees, 'trees', 1, 10000, 'e.g. 32');
  const maxDepth = intOption(options.maxDepth ?? RANDOM_FOREST_DEFAULTS.maxDepth, 'maxDepth', 0, 64, 'e.g. 20');
  const minLeaf = intOption(
    options.minSamplesLeaf ?? RANDOM_FOREST_DEFAULTS.minSamplesLeaf,
    'minSamplesLeaf',
    1,
    Number.MAX_SAFE_INTEGER,
    'e.g. 5',
  );
  const fps = options.featuresPerSplit ?? RANDOM_FOREST_DEFAULTS.featuresPerSplit;
  const mtry =
    fps === 'sqrt'
      ? Math.max(1, Math.round(Math.sqrt(F)))
      : intOption(fps, 'featuresPerSplit', 1, F, `a count from 1 to the number of features (${F}), or 'sqrt'`);
  const bins = intOption(options.bins ?? RANDOM_FOREST_DEFAULTS.bins, 'bins', 2, 256, 'e.g. 128');
  const bootstrap = options.bootstrap ?? RANDOM_FOREST_DEFAULTS.bootstrap;
  const perTree = intOption(options.samplesPerTree ?? n, 'samplesPerTree', 1, 1 << 30, 'e.g. the number of samples');
  const rand = seededRandom(options.seed ?? RANDOM_FOREST_DEFAULTS.seed);

  // bin every feature once (column-major uint8: binned[f * n + s])
  const cuts: Float32Array[] = [];
  const binned = new Uint8Array(F * n);
  const col = new Float32Array(n);
  for (let f = 0; f < F; f++) {
    for (let s = 0; s < n; s++) {
      const v = x[s * F + f]!;
      if (Number.isNaN(v)) {
        throw new S2SError('INVALID_ARGUMENT', `feature ${f} of sample ${s} is NaN`, {
          hint: 'the image holds NaN values; replace them (e.g. by the minimum) before training',
        });
      }
      col[s] = v;
    }
    const c = quantileCuts(col, bins);
    cuts.push(c);
    for (let s = 0; s < n; s++) binned[f * n + s] = binOf(c, col[s]!);
  }
  const yc = Uint8Array.from(y as ArrayLike<number>);

  const feature: number[] = [];
  const threshold: number[] = [];
  const left: number[] = [];
  const leafProb: number[] = [];
  const roots = new Int32Array(T);
  const idx = new Int32Array(bootstrap ? perTree : Math.min(perTree, n));
  const hist = new Float64Array(256 * K);
  const counts = new Float64Array(K);
  const lc = new Float64Array(K);
  const featOrder = new Int32Array(F);
  const stack: number[] = [];
  const tick = progressReporter('random forest', T, options);

  const addNode = (): number => {
    feature.push(-1);
    threshold.push(0);
    left.push(-1);
    return feature.length - 1;
  };
  const makeLeaf = (node: number, cnt: Float64Array, total: number): void => {
    feature[node] = -1;
    left[node] = leafProb.length / K;
    for (let c = 0; c < K; c++) leafProb.push(cnt[c]! / total);
  };

  for (let t = 0; t < T; t++) {
    const m = idx.length;
    if (bootstrap) for (let s = 0; s < m; s++) idx[s] = Math.floor(rand() * n);
    else {
      // without replacement: a random subset of size m (all samples when m = n)
      const all = Int32Array.from({ length: n }, (_, s) => s);
      for (let s = 0; s < m; s++) {
        const r = s + Math.floor(rand() * (n - s));
        const tmp = all[s]!;
        all[s] = all[r]!;
        all[r] = tmp;
        idx[s] = all[s]!;
      }
    }
    roots[t] = addNode();
    stack.push(roots[t]!, 0, m, 0);
    while (stack.length > 0) {
      const depth = stack.pop()!;
      const end = stack.pop()!;
      const start = stack.pop()!;
      const node = stack.pop()!;
      const size = end - start;
      counts.fill(0);
      for (let s = start; s < end; s++) counts[yc[idx[s]!]!]!++;
      let parentScore = 0;
      let nonzero = 0;
      for (let c = 0; c < K; c++) {
        const v = counts[c]!;
        parentScore += v * v;
        if (v > 0) nonzero++;
      }
      parentScore /= size;
      if (nonzero <= 1 || depth >= maxDepth || size < 2 * minLeaf) {
        makeLeaf(node, counts, size);
        continue;
      }
      // try features in random order until mtry non-constant ones were evaluated
      for (let f = 0; f < F; f++) featOrder[f] = f;
      let tried = 0;
      let bestScore = parentScore + 1e-9 * size;
      let bestF = -1;
      let bestB = -1;
      for (let q = 0; q < F && tried < mtry; q++) {
        const r = q + Math.floor(rand() * (F - q));
        const f = featOrder[r]!;
        featOrder[r] = featOrder[q]!;
        featOrder[q] = f;
        const base = f * n;
        let bmin = 255;
        let bmax = 0;
        for (let s = start; s < end; s++) {
          const id = idx[s]!;
          const b = binned[base + id]!;
          if (b < bmin) bmin = b;
          if (b > bmax) bmax = b;
        }
        if (bmin === bmax) continue;
        tried++;
        hist.fill(0, bmin * K, (bmax + 1) * K);
        for (let s = start; s < end; s++) {
          const id = idx[s]!;
          hist[binned[base + id]! * K + yc[id]!]!++;
        }
        lc.fill(0);
        let nl = 0;
        for (let b = bmin; b < bmax; b++) {
          for (let c = 0; c < K; c++) {
            const h = hist[b * K + c]!;
            lc[c]! += h;
            nl += h;
          }
          const nr = size - nl;
          if (nl < minLeaf) continue;
          if (nr < minLeaf) break;
          let sl = 0;
          let sr = 0;
          for (let c = 0; c < K; c++) {
            const a = lc[c]!;
            const d = counts[c]! - a;
            sl += a * a;
            sr += d * d;
          }
          const score = sl / nl + sr / nr;
          if (score > bestScore) {
            bestScore = score;
            bestF = f;
            bestB = b;
          }
        }
      }
      if (bestF < 0) {
        makeLeaf(node, counts, size);
        continue;
      }
      // partition idx[start, end): bins <= bestB first
      const base = bestF * n;
      let i = start;
      let j = end - 1;
      while (i <= j) {
        if (binned[base + idx[i]!]! <= bestB) i++;
        else {
          const tmp = idx[i]!;
          idx[i] = idx[j]!;
          idx[j] = tmp;
          j--;
        }
      }
      const l = addNode();
      addNode();
      feature[node] = bestF;
      threshold[node] = cuts[bestF]![bestB]!;
      left[node] = l;
      stack.push(l + 1, i, end, depth + 1);
      stack.push(l, start, i, depth + 1);
    }
    tick(t + 1);
  }
  return {
    classes: K,
    features: F,
    roots,
    feature: Int32Array.from(feature),
    threshold: Float32Array.from(threshold),
    left: Int32Array.from(left),
    leafProb: Float32Array.from(leafProb),
  };
}

/**
 * Class probabilities (mean of the trees' leaf distributions) of n samples:
 * out[s * classes + c]. `x` holds n rows of forest.features values.
 */
export function predictRandomForest(
  forest: RandomForest,
  x: Float32Array,
  n = x.length / forest.features,
  out: Float32Array = new Float32Array(n * forest.classes),
): Float32Array {
  const { features: F, classes: K, roots, feature, threshold, left, leafProb } = forest;
  if (!Number.isInteger(n) || n < 0 || x.length < n * F) {
    throw new S2SError('INVALID_ARGUMENT', `features have ${x.length} values, fewer than ${n} samples x ${F} features`);
  }
  if (out.length < n * K) throw new S2SError('INVALID_ARGUMENT', `output holds ${out.length} values, need ${n * K}`);
  const T = roots.length;
  const inv = 1 / T;
  for (let s = 0; s < n; s++) {
    const row = s * F;
    const o = s * K;
    for (let c = 0; c < K; c++) out[o + c] = 0;
    for (let t = 0; t < T; t++) {
      let node = roots[t]!;
      let f = feature[node]!;
      while (f >= 0) {
        node = left[node]! + (x[row + f]! < threshold[node]! ? 0 : 1);
        f = feature[node]!;
      }
      const lp = left[node]! * K;
      for (let c = 0; c < K; c++) out[o + c]! += leafProb[lp + c]!;
    }
    for (let c = 0; c < K; c++) out[o + c]! *= inv;
  }
  return out;
}

/**
 * Most probable class per sample (the argmax of predictRandomForest, first class on ties), and
 * optionally the second most probable. Without `second`, a sample stops visiting trees once the
 * leading class's lead is larger than what the remaining trees could add to another class: the
 * answer is the same, most voxels of a volume need about half of the trees.
 */
export function predictRandomForestClass(
  forest: RandomForest,
  x: Float32Array,
  n: number,
  best: Uint8Array,
  second?: Uint8Array,
): void {
  const { features: F, classes: K, roots, feature, threshold, left, leafProb } = forest;
  if (!Number.isInteger(n) || n < 0 || x.length < n * F || best.length < n || (second && second.length < n)) {
    throw new S2SError('INVALID_ARGUMENT', `arrays too short for ${n} samples x ${F} features`);
  }
  const T = roots.length;
  const acc = new Float64Array(K);
  for (let s = 0; s < n; s++) {
    const row = s * F;
    acc.fill(0);
    for (let t = 0; t < T; t++) {
      let node = roots[t]!;
      let f = feature[node]!;
      while (f >= 0) {
        node = left[node]! + (x[row + f]! < threshold[node]! ? 0 : 1);
        f = feature[node]!;
      }
      const lp = left[node]! * K;
      for (let c = 0; c < K; c++) acc[c]! += leafProb[lp + c]!;
      if (!second && (t & 3) === 3) {
        // leaf probabilities are <= 1, so T - t - 1 trees add at most that much to any class
        let hi = 0;
        let lo = 0;
        for (let c = 0; c < K; c++) {
          const v = acc[c]!;
          if (v > hi) {
            lo = hi;
            hi = v;
          } else if (v > lo) lo = v;
        }
        if (hi - lo > T - t - 1 + 1e-6) break;
      }
    }
    let b = 0;
    let nx = -1;
    for (let c = 1; c < K; c++) {
      if (acc[c]! > acc[b]!) {
        nx = b;
        b = c;
      } else if (nx < 0 || acc[c]! > acc[nx]!) nx = c;
    }
    best[s] = b;
    if (second) second[s] = nx < 0 ? b : nx;
  }
}

/** How many split nodes of the forest use each feature (a rough importance). */
export function splitCounts(forest: RandomForest): Int32Array {
  const out = new Int32Array(forest.features);
  for (const f of forest.feature) if (f >= 0) out[f]!++;
  return out;
}

// ---- serialization -------------------------------------------------------------------------

export interface SerializedRandomForest {
  readonly format: 'slice2solid-random-forest';
  readonly version: 1;
  readonly classes: number;
  readonly features: number;
  /** base64 of little-endian int32 / float32 arrays. */
  readonly roots: string;
  readonly feature: string;
  readonly threshold: string;
  readonly left: string;
  readonly leafProb: string;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function base64FromBytes(bytes: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    s += B64[v >> 18]! + B64[(v >> 12) & 63]! + B64[(v >> 6) & 63]! + B64[v & 63]!;
  }
  if (i < bytes.length) {
    const a = bytes[i]!;
    const b = i + 1 < bytes.length ? bytes[i + 1]! : 0;
    const v = (a << 16) | (b << 8);
    s += `${B64[v >> 18]}${B64[(v >> 12) & 63]}${i + 1 < bytes.length ? B64[(v >> 6) & 63] : '='}=`;
  }
  return s;
}

export function bytesFromBase64(text: string): Uint8Array {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new S2SError('MALFORMED_FILE', 'the model holds text that is not base64', {
      hint: 'the saved model is damaged; train it again',
    });
  }
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const ch = text[i + k]!;
      v = (v << 6) | (ch === '=' ? 0 : B64.indexOf(ch));
    }
    if (o < out.length) out[o++] = (v >> 16) & 255;
    if (o < out.length) out[o++] = (v >> 8) & 255;
    if (o < out.length) out[o++] = v & 255;
  }
  return out;
}

function encode(a: Int32Array | Float32Array): string {
  const bytes = new Uint8Array(a.length * 4);
  const dv = new DataView(bytes.buffer);
  if (a instanceof Int32Array) for (let i = 0; i < a.length; i++) dv.setInt32(4 * i, a[i]!, true);
  else for (let i = 0; i < a.length; i++) dv.setFloat32(4 * i, a[i]!, true);
  return base64FromBytes(bytes);
}

function decode<T extends Int32Array | Float32Array>(text: unknown, make: (n: number) => T, what: string): T {
  const bytes = bytesFromBase64(text as string);
  if (bytes.length % 4 !== 0) throw malformed(`${what} has ${bytes.length} bytes, not a multiple of 4`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = make(bytes.length / 4);
  if (out instanceof Int32Array) for (let i = 0; i < out.length; i++) out[i] = dv.getInt32(4 * i, true);
  else for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(4 * i, true);
  return out;
}

function malformed(message: string): S2SError {
  return new S2SError('MALFORMED_FILE', `random forest model: ${message}`, {
    hint: 'the saved model is damaged or from another program; train it again',
  });
}

/** A JSON-safe description of the forest (JSON.stringify it to store it). */
export function serializeRandomForest(forest: RandomForest): SerializedRandomForest {
  return {
    format: 'slice2solid-random-forest',
    version: 1,
    classes: forest.classes,
    features: forest.features,
    roots: encode(forest.roots),
    feature: encode(forest.feature),
    threshold: encode(forest.threshold),
    left: encode(forest.left),
    leafProb: encode(forest.leafProb),
  };
}

/** Reads a serialized forest back, checking every index so that a damaged model cannot loop or read out of bounds. */
export function deserializeRandomForest(data: unknown): RandomForest {
  const o = data as Partial<Record<keyof SerializedRandomForest, unknown>> | null;
  if (typeof o !== 'object' || o === null || o.format !== 'slice2solid-random-forest') {
    throw malformed('this is not a slice2solid random forest');
  }
  if (o.version !== 1) throw malformed(`version ${String(o.version)} is not supported (this program reads version 1)`);
  const K = o.classes;
  const F = o.features;
  if (typeof K !== 'number' || !Number.isInteger(K) || K < 2 || K > 255)
    throw malformed(`bad class count ${String(K)}`);
  if (typeof F !== 'number' || !Number.isInteger(F) || F < 1 || F > 65535)
    throw malformed(`bad feature count ${String(F)}`);
  const roots = decode(o.roots, (n) => new Int32Array(n), 'roots');
  const feature = decode(o.feature, (n) => new Int32Array(n), 'feature');
  const threshold = decode(o.threshold, (n) => new Float32Array(n), 'threshold');
  const left = decode(o.left, (n) => new Int32Array(n), 'left');
  const leafProb = decode(o.leafProb, (n) => new Float32Array(n), 'leafProb');
  const nodes = feature.length;
  if (threshold.length !== nodes || left.length !== nodes) throw malformed('node arrays differ in length');
  if (roots.length < 1) throw malformed('the forest has no trees');
  if (leafProb.length % K !== 0) throw malformed('leaf probabilities do not fit the class count');
  const leaves = leafProb.length / K;
  for (const r of roots) if (!(r >= 0 && r < nodes)) throw malformed(`root ${r} is not a node`);
  for (let i = 0; i < nodes; i++) {
    const f = feature[i]!;
    const l = left[i]!;
    if (f >= 0) {
      // children come after their parent: no cycles
      if (f >= F || !(l > i && l + 1 < nodes)) throw malformed(`node ${i} has a bad split or children`);
      if (Number.isNaN(threshold[i]!)) throw malformed(`node ${i} has a NaN threshold`);
    } else if (f !== -1 || !(l >= 0 && l < leaves)) throw malformed(`leaf ${i} has a bad leaf index`);
  }
  for (const p of leafProb) if (!(p >= 0 && p <= 1)) throw malformed('a leaf probability is outside 0..1');
  return { classes: K, features: F, roots, feature, threshold, left, leafProb };
}

import { describe, expect, it } from 'vitest';
import {
  base64FromBytes,
  bytesFromBase64,
  deserializeRandomForest,
  predictRandomForest,
  predictRandomForestClass,
  quantileCuts,
  type RandomForest,
  seededRandom,
  serializeRandomForest,
  trainRandomForest,
} from '../../src/scribble/random-forest.js';

/** n samples of F features: class = XOR of the signs of features 0 and 1; the other features are noise. */
function xorData(n: number, F: number, seed: number): { x: Float32Array; y: Uint8Array } {
  const rand = seededRandom(seed);
  const x = new Float32Array(n * F);
  const y = new Uint8Array(n);
  for (let s = 0; s < n; s++) {
    for (let f = 0; f < F; f++) x[s * F + f] = rand() * 2 - 1;
    y[s] = x[s * F]! > 0 !== x[s * F + 1]! > 0 ? 1 : 0;
  }
  return { x, y };
}

function accuracy(forest: RandomForest, x: Float32Array, y: Uint8Array): number {
  const p = predictRandomForest(forest, x);
  let ok = 0;
  for (let s = 0; s < y.length; s++) {
    let best = 0;
    for (let c = 1; c < forest.classes; c++) if (p[s * forest.classes + c]! > p[s * forest.classes + best]!) best = c;
    if (best === y[s]) ok++;
  }
  return ok / y.length;
}

describe('random forest', () => {
  it('learns XOR with noise features (held-out accuracy > 0.95); probabilities sum to 1', () => {
    const train = xorData(4000, 6, 1);
    const test = xorData(2000, 6, 2);
    const forest = trainRandomForest(train.x, train.y, 6, 2, { trees: 24 });
    expect(accuracy(forest, test.x, test.y)).toBeGreaterThan(0.95);
    const p = predictRandomForest(forest, test.x);
    for (let s = 0; s < 2000; s++) expect(p[2 * s]! + p[2 * s + 1]!).toBeCloseTo(1, 5);
    // a single stump (depth 1) cannot learn XOR: the test can tell a forest from a coin
    const stump = trainRandomForest(train.x, train.y, 6, 2, { trees: 24, maxDepth: 1 });
    expect(accuracy(stump, test.x, test.y)).toBeLessThan(0.7);
  });

  it('three classes split by one feature are predicted exactly; thresholds lie between the training values', () => {
    const x = new Float32Array([0, 1, 2, 10, 11, 12, 20, 21, 22]);
    const y = new Uint8Array([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    const forest = trainRandomForest(x, y, 1, 3, { trees: 1, bootstrap: false, minSamplesLeaf: 1 });
    expect([...forest.threshold.filter((_, n) => forest.feature[n]! >= 0)].sort((a, b) => a - b)).toEqual([6, 16]);
    const p = predictRandomForest(forest, new Float32Array([-5, 5.9, 6, 15, 16.5, 99]));
    expect(Array.from({ length: 6 }, (_, s) => [0, 1, 2].findIndex((c) => p[s * 3 + c] === 1))).toEqual([
      0, 0, 1, 1, 2, 2,
    ]);
  });

  it('class prediction (early-stopping vote) equals the argmax of the probabilities; runner-up too', () => {
    // 3 classes from two noisy features: many confident and some borderline samples
    const rand = seededRandom(21);
    const n = 3000;
    const x = new Float32Array(n * 3);
    const y = new Uint8Array(n);
    for (let s = 0; s < n; s++) {
      const a = rand() * 3;
      x[3 * s] = a + 0.4 * (rand() - 0.5);
      x[3 * s + 1] = rand();
      x[3 * s + 2] = a * a + rand();
      y[s] = Math.min(2, Math.floor(a));
    }
    const forest = trainRandomForest(x, y, 3, 3, { trees: 40 });
    const p = predictRandomForest(forest, x);
    const best = new Uint8Array(n);
    const best2 = new Uint8Array(n);
    const second = new Uint8Array(n);
    predictRandomForestClass(forest, x, n, best);
    predictRandomForestClass(forest, x, n, best2, second);
    for (let s = 0; s < n; s++) {
      const order = [0, 1, 2].sort((a, b) => p[3 * s + b]! - p[3 * s + a]! || a - b);
      // float32 probabilities vs float64 votes may order exact ties differently: skip those
      if (p[3 * s + order[0]!] !== p[3 * s + order[1]!]) expect(best[s]).toBe(order[0]);
      if (p[3 * s + order[1]!] !== p[3 * s + order[2]!] && p[3 * s + order[0]!] !== p[3 * s + order[1]!]) {
        expect(second[s]).toBe(order[1]);
      }
    }
    expect(best2).toEqual(best);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const { x, y } = xorData(1000, 5, 3);
    const a = trainRandomForest(x, y, 5, 2, { trees: 4, seed: 11 });
    const b = trainRandomForest(x, y, 5, 2, { trees: 4, seed: 11 });
    const c = trainRandomForest(x, y, 5, 2, { trees: 4, seed: 12 });
    expect(b).toEqual(a);
    expect(c.feature).not.toEqual(a.feature);
  });

  it('respects maxDepth and minSamplesLeaf', () => {
    const { x, y } = xorData(2000, 4, 4);
    const forest = trainRandomForest(x, y, 4, 2, { trees: 3, maxDepth: 3, minSamplesLeaf: 50, bootstrap: false });
    // walk each tree: depth <= 3
    const depth = (n: number): number =>
      forest.feature[n]! < 0 ? 0 : 1 + Math.max(depth(forest.left[n]!), depth(forest.left[n]! + 1));
    for (const r of forest.roots) expect(depth(r)).toBeLessThanOrEqual(3);
    // every leaf keeps >= 50 of the 2000 training samples
    const counts = new Float64Array(forest.leafProb.length / 2);
    for (let s = 0; s < 2000; s++) {
      let n = forest.roots[0]!;
      while (forest.feature[n]! >= 0)
        n = forest.left[n]! + (x[s * 4 + forest.feature[n]!]! < forest.threshold[n]! ? 0 : 1);
      counts[forest.left[n]!]!++;
    }
    for (let l = 0; l < counts.length; l++) if (counts[l]) expect(counts[l]).toBeGreaterThanOrEqual(50);
  });

  it('quantile cuts: increasing, strictly between neighbouring distinct values, every boundary when there are few values', () => {
    const few = new Float32Array([3, 1, 1, 2, 3, 3, 2, 1]);
    expect([...quantileCuts(few, 128)]).toEqual([1.5, 2.5]);
    const rand = seededRandom(8);
    const many = Float32Array.from({ length: 5000 }, () => rand());
    const cuts = quantileCuts(many, 16);
    expect(cuts.length).toBeLessThanOrEqual(15);
    expect(cuts.length).toBeGreaterThanOrEqual(14);
    for (let i = 1; i < cuts.length; i++) expect(cuts[i]).toBeGreaterThan(cuts[i - 1]!);
    expect(quantileCuts(new Float32Array([7, 7, 7]), 8)).toHaveLength(0);
  });

  it('serializes to JSON and back: same predictions; damaged models are refused', () => {
    const { x, y } = xorData(1500, 5, 5);
    const forest = trainRandomForest(x, y, 5, 2, { trees: 5 });
    const text = JSON.stringify(serializeRandomForest(forest));
    const back = deserializeRandomForest(JSON.parse(text));
    expect(back).toEqual(forest);
    expect(predictRandomForest(back, x)).toEqual(predictRandomForest(forest, x));
    const s = serializeRandomForest(forest);
    expect(() => deserializeRandomForest({ ...s, format: 'other' })).toThrow(/not a slice2solid random forest/);
    expect(() => deserializeRandomForest({ ...s, version: 2 })).toThrow(/version 2/);
    expect(() => deserializeRandomForest({ ...s, leafProb: 'abc' })).toThrow(/not base64/);
    // a child pointing back to the root would loop forever: refused
    const left = Int32Array.from(forest.left);
    left[0] = 0;
    expect(() => deserializeRandomForest(serializeRandomForest({ ...forest, left }))).toThrow(/bad split or children/);
    const feature = Int32Array.from(forest.feature);
    feature[0] = 99;
    expect(() => deserializeRandomForest(serializeRandomForest({ ...forest, feature }))).toThrow(/bad split/);
  });

  it('base64 round-trips every length and byte value', () => {
    const rand = seededRandom(10);
    for (let n = 0; n < 40; n++) {
      const b = Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
      expect(bytesFromBase64(base64FromBytes(b))).toEqual(b);
    }
    expect(base64FromBytes(new Uint8Array([0xfb, 0xff]))).toBe('+/8=');
    expect(base64FromBytes(new TextEncoder().encode('slice2solid'))).toBe('c2xpY2Uyc29saWQ=');
  });

  it('refuses bad input with clear messages', () => {
    const x = new Float32Array([0, 1, 2, 3]);
    expect(() => trainRandomForest(x, [0, 1, 0, 1], 1, 1)).toThrow(/at least two classes/);
    expect(() => trainRandomForest(x, [0, 1, 0], 1, 2)).toThrow(/need 3/);
    expect(() => trainRandomForest(x, [0, 1, 0, 2], 1, 2)).toThrow(/outside 0..1/);
    expect(() => trainRandomForest(new Float32Array([0, NaN]), [0, 1], 1, 2)).toThrow(/NaN/);
    expect(() => trainRandomForest(x, [0, 1, 0, 1], 1, 2, { trees: 0 })).toThrow(/trees must be/);
    expect(() => trainRandomForest(x, [0, 1, 0, 1], 1, 2, { signal: { aborted: true } })).toThrow(/cancelled/);
  });

  it('1e5 samples x 25 features train in seconds (logged; fails only past 30 s, e.g. a quadratic split search)', () => {
    const { x, y } = xorData(100_000, 25, 6);
    const t0 = performance.now();
    const forest = trainRandomForest(x, y, 25, 2);
    const t1 = performance.now();
    const p = predictRandomForest(forest, x.subarray(0, 250_000));
    const t2 = performance.now();
    console.log(
      `random forest: train 1e5 x 25 in ${((t1 - t0) / 1000).toFixed(2)} s (${forest.roots.length} trees, ${forest.feature.length} nodes); predict 1e4 in ${(t2 - t1).toFixed(0)} ms`,
    );
    expect(p).toHaveLength(20_000);
    expect(t1 - t0).toBeLessThan(30_000);
  });
});

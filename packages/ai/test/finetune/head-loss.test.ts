import { describe, expect, it } from 'vitest';
import { Adam } from '../../src/finetune/adam.js';
import { type HeadLossOptions, headLossAndGradient } from '../../src/finetune/head-loss.js';
import { seededRandom } from '../helpers/onnx-builder.js';

const C = 3;
const F = 4;
const N = 40;
const rnd = seededRandom(11);
const data = Float32Array.from({ length: N * F }, () => rnd() * 2);
const targets = Uint8Array.from({ length: N }, (_, n) => n % C);
const W = Float64Array.from({ length: C * F }, () => rnd());
const b = Float64Array.from({ length: C }, () => rnd() * 0.5);
const all = Array.from({ length: N }, (_, n) => n);
const weights = Float32Array.from({ length: N }, () => 1 + 3 * Math.abs(rnd()));
const head = { classes: C, features: F, weight: W, bias: b };
let samples: { features: Float32Array; targets: Uint8Array; weights?: Float32Array } = { features: data, targets };

function checkGradient(options: HeadLossOptions, indices: readonly number[]): void {
  const gW = new Float64Array(C * F);
  const gB = new Float64Array(C);
  headLossAndGradient(head, samples, indices, options, { weight: gW, bias: gB });
  const h = 1e-6;
  const numeric = (arr: Float64Array, q: number): number => {
    const keep = arr[q]!;
    arr[q] = keep + h;
    const up = headLossAndGradient(head, samples, indices, options);
    arr[q] = keep - h;
    const down = headLossAndGradient(head, samples, indices, options);
    arr[q] = keep;
    return (up - down) / (2 * h);
  };
  let scale = 0;
  for (let q = 0; q < C * F; q++) scale = Math.max(scale, Math.abs(gW[q]!));
  expect(scale).toBeGreaterThan(1e-4); // a gradient that is not trivially zero
  for (let q = 0; q < C * F; q++) expect(Math.abs(gW[q]! - numeric(W, q))).toBeLessThan(1e-7 + 1e-5 * scale);
  for (let q = 0; q < C; q++) expect(Math.abs(gB[q]! - numeric(b, q))).toBeLessThan(1e-7 + 1e-5 * scale);
}

describe('head loss and its analytic gradient', () => {
  it('matches central finite differences: soft Dice', () => checkGradient({ loss: 'dice' }, all));
  it('matches central finite differences: soft Dice + cross-entropy, on a subset', () =>
    checkGradient(
      { loss: 'dice+ce', ceWeight: 0.7 },
      all.filter((n) => n % 3 !== 1),
    ));
  it('matches central finite differences: foreground-only Dice with little smoothing', () =>
    checkGradient({ loss: 'dice', diceIncludeBackground: false, diceSmooth: 1e-3 }, all));
  it('matches central finite differences: weighted samples, Dice + CE', () => {
    samples = { features: data, targets, weights };
    try {
      checkGradient({ loss: 'dice+ce' }, all);
    } finally {
      samples = { features: data, targets };
    }
  });

  it('with weights, equals the unweighted loss on the samples repeated that many times', () => {
    const w = Float32Array.from({ length: N }, (_, n) => 1 + (n % 3));
    const rep: number[] = [];
    for (let n = 0; n < N; n++) for (let r = 0; r < w[n]!; r++) rep.push(n);
    for (const loss of ['dice', 'dice+ce'] as const) {
      const a = headLossAndGradient(head, { features: data, targets, weights: w }, all, { loss });
      const r = headLossAndGradient(head, { features: data, targets }, rep, { loss });
      expect(a).toBeCloseTo(r, 12);
    }
  });

  it('is about 0 for a confident correct head and about 1 (+ CE) for a confident wrong one', () => {
    // features = one-hot of the class, so W = 20 I predicts every sample correctly
    const oh = new Float32Array(N * C);
    for (let n = 0; n < N; n++) oh[n * C + targets[n]!] = 1;
    const good = new Float64Array(C * C);
    const bad = new Float64Array(C * C);
    for (let c = 0; c < C; c++) {
      good[c * C + c] = 20;
      bad[((c + 1) % C) * C + c] = 20;
    }
    const zero = new Float64Array(C);
    const s1 = { features: oh, targets };
    const h = (w: Float64Array) => ({ classes: C, features: C, weight: w, bias: zero });
    expect(headLossAndGradient(h(good), s1, all, { loss: 'dice' })).toBeLessThan(1e-6);
    expect(headLossAndGradient(h(bad), s1, all, { loss: 'dice' })).toBeGreaterThan(0.9);
    expect(headLossAndGradient(h(bad), s1, all, { loss: 'dice+ce' })).toBeGreaterThan(19);
  });
});

describe('Adam', () => {
  it('takes a first step of lr in the direction of -sign(g) and applies decoupled weight decay', () => {
    const p = new Float64Array([1, -2, 3]);
    const opt = new Adam(3, { lr: 0.1 });
    opt.step(p, [0.5, -4, 0]);
    expect(p[0]).toBeCloseTo(0.9, 6);
    expect(p[1]).toBeCloseTo(-1.9, 6);
    expect(p[2]).toBe(3);
    const q = new Float64Array([2]);
    new Adam(1, { lr: 0.1, weightDecay: 0.5 }).step(q, [0]);
    expect(q[0]).toBeCloseTo(2 - 0.1 * 0.5 * 2, 12);
  });

  it('matches a step-by-step reference on a sequence of gradients', () => {
    const p = new Float64Array([0.3]);
    const opt = new Adam(1, { lr: 0.01, beta1: 0.8, beta2: 0.95, eps: 1e-6 });
    let m = 0;
    let v = 0;
    let ref = 0.3;
    for (const [t, g] of [0.2, -0.1, 0.4, 0.05].entries()) {
      opt.step(p, [g]);
      m = 0.8 * m + 0.2 * g;
      v = 0.95 * v + 0.05 * g * g;
      ref -= (0.01 * (m / (1 - 0.8 ** (t + 1)))) / (Math.sqrt(v / (1 - 0.95 ** (t + 1))) + 1e-6);
      expect(p[0]).toBeCloseTo(ref, 12);
    }
  });

  it('trains the head: the loss falls and the samples get classified', () => {
    const w = new Float64Array(C * F);
    const bias = new Float64Array(C);
    // separable data: class = which feature is largest among the first C
    const tg = new Uint8Array(N);
    for (let n = 0; n < N; n++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (data[n * F + c]! > data[n * F + best]!) best = c;
      tg[n] = best;
    }
    const gW = new Float64Array(C * F);
    const gB = new Float64Array(C);
    const ow = new Adam(C * F, { lr: 0.05 });
    const ob = new Adam(C, { lr: 0.05 });
    const hp = { classes: C, features: F, weight: w, bias };
    const first = headLossAndGradient(hp, { features: data, targets: tg }, all, {}, { weight: gW, bias: gB });
    let last = first;
    for (let s = 0; s < 300; s++) {
      last = headLossAndGradient(hp, { features: data, targets: tg }, all, {}, { weight: gW, bias: gB });
      ow.step(w, gW);
      ob.step(bias, gB);
    }
    expect(last).toBeLessThan(first * 0.3);
    let correct = 0;
    for (let n = 0; n < N; n++) {
      let best = 0;
      let bz = -Infinity;
      for (let c = 0; c < C; c++) {
        let z = bias[c]!;
        for (let f = 0; f < F; f++) z += w[c * F + f]! * data[n * F + f]!;
        if (z > bz) [bz, best] = [z, c];
      }
      if (best === tg[n]) correct++;
    }
    expect(correct).toBeGreaterThanOrEqual(N - 2);
  });
});

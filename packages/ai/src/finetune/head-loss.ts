/**
 * Loss of a softmax head on sampled voxel features, with its analytic gradient:
 *
 *   z_n = W x_n + b,  p_n = softmax(z_n)                                (x_n: F features of voxel n)
 *   soft Dice (batch Dice over the n voxels, as nnU-Net's "batch dice"), per class c:
 *     dice_c = (2 sum_n p_nc y_nc + s) / (sum_n p_nc + sum_n y_nc + s)
 *   L = 1 - mean_c dice_c  [+ ceWeight * mean_n (-log p_n,y_n)]
 *
 * With sample weights w_n (the number of voxels each sample stands for), every sum above is
 * weighted (I_c = sum_n w_n p_nc y_nc...) and the cross-entropy is a weighted mean, so the loss on
 * class-balanced samples estimates the loss on the whole volumes.
 *
 * Gradients: dL/dp_nc = -(w_n/|D|) (2 y_nc (S_c + s) - (2 I_c + s)) / (S_c + s)^2 for the Dice
 * part, pushed through the softmax Jacobian dz_nc = p_nc (g_nc - sum_k p_nk g_nk); the
 * cross-entropy adds ceWeight w_n (p_nc - y_nc) / sum_n w_n. Then dW = sum_n dz_n x_n^T,
 * db = sum_n dz_n. Everything is accumulated in float64.
 */
import { S2SError } from '@slice2solid/core';

export interface HeadLossOptions {
  /** 'dice': soft Dice only; 'dice+ce': soft Dice plus cross-entropy. */
  readonly loss?: 'dice' | 'dice+ce';
  /** Weight of the cross-entropy term. */
  readonly ceWeight?: number;
  /** Smoothing s added to the Dice numerator and denominator. */
  readonly diceSmooth?: number;
  /** Include class 0 (background) in the mean Dice. */
  readonly diceIncludeBackground?: boolean;
}

export const HEAD_LOSS_DEFAULTS = {
  loss: 'dice+ce',
  ceWeight: 1,
  diceSmooth: 1,
  diceIncludeBackground: true,
} as const satisfies HeadLossOptions;

/** Gradient accumulators (overwritten by headLossAndGradient). */
export interface HeadGradient {
  readonly weight: Float64Array;
  readonly bias: Float64Array;
}

/** The head's parameters in float64 (what is trained). */
export interface HeadParameters {
  readonly classes: number;
  readonly features: number;
  /** [C][F] */
  readonly weight: Float64Array;
  readonly bias: Float64Array;
}

/** Samples: features [count][F], class per sample, optional weight per sample. */
export interface HeadSamples {
  readonly features: Float32Array;
  readonly targets: Uint8Array;
  readonly weights?: Float32Array;
}

/**
 * Loss of the head on the samples `indices` of `samples`; writes the gradient into `grad` when
 * given.
 */
export function headLossAndGradient(
  head: HeadParameters,
  samples: HeadSamples,
  indices: ArrayLike<number>,
  options: HeadLossOptions = {},
  grad?: HeadGradient,
): number {
  const { classes: C, features: F, weight, bias } = head;
  const { features: data, targets, weights } = samples;
  const n = indices.length;
  if (n === 0) throw new S2SError('INVALID_ARGUMENT', 'the loss needs at least one sample');
  if (weight.length !== C * F || bias.length !== C) {
    throw new S2SError('INVALID_ARGUMENT', `head arrays do not match ${C} classes x ${F} features`);
  }
  const loss = options.loss ?? HEAD_LOSS_DEFAULTS.loss;
  const ceW = loss === 'dice+ce' ? (options.ceWeight ?? HEAD_LOSS_DEFAULTS.ceWeight) : 0;
  const s = options.diceSmooth ?? HEAD_LOSS_DEFAULTS.diceSmooth;
  const withBg = options.diceIncludeBackground ?? HEAD_LOSS_DEFAULTS.diceIncludeBackground;

  const P = new Float64Array(n * C);
  const inter = new Float64Array(C);
  const sumP = new Float64Array(C);
  const sumY = new Float64Array(C);
  let ce = 0;
  let wTotal = 0;
  for (let m = 0; m < n; m++) {
    const idx = indices[m]!;
    const y = targets[idx]!;
    const wn = weights ? weights[idx]! : 1;
    wTotal += wn;
    if (y >= C) {
      throw new S2SError('INVALID_ARGUMENT', `sample ${idx} has class ${y} but the head has ${C} classes`);
    }
    const x = idx * F;
    let max = -Infinity;
    const row = m * C;
    for (let c = 0; c < C; c++) {
      let z = bias[c]!;
      const wr = c * F;
      for (let f = 0; f < F; f++) z += weight[wr + f]! * data[x + f]!;
      P[row + c] = z;
      if (z > max) max = z;
    }
    let sum = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(P[row + c]! - max);
      P[row + c] = e;
      sum += e;
    }
    for (let c = 0; c < C; c++) {
      const p = P[row + c]! / sum;
      P[row + c] = p;
      sumP[c]! += wn * p;
    }
    inter[y]! += wn * P[row + y]!;
    sumY[y]! += wn;
    ce -= wn * Math.log(Math.max(P[row + y]!, 1e-300));
  }
  if (!(wTotal > 0)) throw new S2SError('INVALID_ARGUMENT', 'the sample weights must be positive');
  const c0 = withBg ? 0 : 1;
  const nD = C - c0;
  if (nD < 1) throw new S2SError('INVALID_ARGUMENT', 'the Dice loss needs at least one class besides the background');
  let diceMean = 0;
  const gNum = new Float64Array(C); // 2 I_c + s
  const gDen = new Float64Array(C); // S_c + s
  for (let c = c0; c < C; c++) {
    gNum[c] = 2 * inter[c]! + s;
    gDen[c] = sumP[c]! + sumY[c]! + s;
    diceMean += gNum[c]! / gDen[c]!;
  }
  diceMean /= nD;
  const value = 1 - diceMean + (ceW * ce) / wTotal;
  if (!grad) return value;

  grad.weight.fill(0);
  grad.bias.fill(0);
  const g = new Float64Array(C);
  for (let m = 0; m < n; m++) {
    const idx = indices[m]!;
    const y = targets[idx]!;
    const wn = weights ? weights[idx]! : 1;
    const row = m * C;
    let dot = 0;
    for (let c = 0; c < C; c++) {
      let gc = 0;
      if (c >= c0) {
        const den = gDen[c]!;
        gc = (-wn * ((c === y ? 2 * den : 0) - gNum[c]!)) / (den * den * nD);
      }
      g[c] = gc;
      dot += P[row + c]! * gc;
    }
    const x = idx * F;
    for (let c = 0; c < C; c++) {
      const p = P[row + c]!;
      const dz = p * (g[c]! - dot) + (ceW * wn * (p - (c === y ? 1 : 0))) / wTotal;
      grad.bias[c]! += dz;
      const wr = c * F;
      for (let f = 0; f < F; f++) grad.weight[wr + f]! += dz * data[x + f]!;
    }
  }
  return value;
}

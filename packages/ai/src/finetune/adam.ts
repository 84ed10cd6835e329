/**
 * Adam (Kingma & Ba 2015) with decoupled weight decay (AdamW, Loshchilov & Hutter 2019), on a
 * float64 parameter vector:
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) + lr * weightDecay * p
 */
import { S2SError } from '@slice2solid/core';

export interface AdamOptions {
  readonly lr?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
  /** Decoupled weight decay (0: plain Adam). */
  readonly weightDecay?: number;
}

export const ADAM_DEFAULTS = {
  lr: 0.001,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
} as const satisfies AdamOptions;

export class Adam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;

  constructor(size: number, options: AdamOptions = {}) {
    this.lr = options.lr ?? ADAM_DEFAULTS.lr;
    this.beta1 = options.beta1 ?? ADAM_DEFAULTS.beta1;
    this.beta2 = options.beta2 ?? ADAM_DEFAULTS.beta2;
    this.eps = options.eps ?? ADAM_DEFAULTS.eps;
    this.weightDecay = options.weightDecay ?? ADAM_DEFAULTS.weightDecay;
    const bad = (what: string, v: number, want: string): never => {
      throw new S2SError('INVALID_ARGUMENT', `Adam ${what} must be ${want}, got ${v}`);
    };
    if (!(this.lr > 0) || !Number.isFinite(this.lr)) bad('learning rate', this.lr, '> 0');
    if (!(this.beta1 >= 0 && this.beta1 < 1)) bad('beta1', this.beta1, 'in [0, 1)');
    if (!(this.beta2 >= 0 && this.beta2 < 1)) bad('beta2', this.beta2, 'in [0, 1)');
    if (!(this.eps > 0)) bad('eps', this.eps, '> 0');
    if (!(this.weightDecay >= 0)) bad('weight decay', this.weightDecay, '>= 0');
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  /** Number of steps taken. */
  get steps(): number {
    return this.t;
  }

  /** One update of `params` in place from the gradient `grad` (same length). */
  step(params: Float64Array, grad: ArrayLike<number>): void {
    if (params.length !== this.m.length || grad.length !== this.m.length) {
      throw new S2SError('INVALID_ARGUMENT', `Adam was made for ${this.m.length} parameters, got ${params.length}`);
    }
    this.t++;
    const { beta1: b1, beta2: b2, lr, eps, weightDecay: wd } = this;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    for (let q = 0; q < params.length; q++) {
      const g = grad[q]!;
      const m = b1 * this.m[q]! + (1 - b1) * g;
      const v = b2 * this.v[q]! + (1 - b2) * g * g;
      this.m[q] = m;
      this.v[q] = v;
      params[q] = params[q]! - (lr * (m / c1)) / (Math.sqrt(v / c2) + eps) - lr * wd * params[q]!;
    }
  }
}

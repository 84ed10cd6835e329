/**
 * The "head" of a segmentation network: its final 1x1x1 convolution, which maps the F feature
 * channels of every voxel to C class logits: logits = W features + b, W [C, F], b [C]. In an
 * exported slice2solid model (docs/training-protocol.md) its initializers are `head.weight`
 * [C, F, 1, 1, 1] and `head.bias` [C], and the model also outputs `features`, the head's input.
 */
import { S2SError } from '@slice2solid/core';
import { readFloatInitializer, readOnnxModel } from '../onnx/read-onnx.js';

export interface HeadWeights {
  /** Number of classes C (output channels). */
  readonly classes: number;
  /** Number of feature channels F. */
  readonly features: number;
  /** W, row-major [C][F]. */
  readonly weight: Float32Array;
  /** b [C]. */
  readonly bias: Float32Array;
}

export interface HeadNames {
  readonly weight: string;
  readonly bias: string;
}

export const HEAD_NAMES_DEFAULTS = { weight: 'head.weight', bias: 'head.bias' } as const satisfies HeadNames;

/** Reads a model's head (a 1x1x1 convolution's weight [C, F, 1, 1, 1] and bias [C]). */
export function readHead(model: Uint8Array, names: HeadNames = HEAD_NAMES_DEFAULTS): HeadWeights {
  const info = readOnnxModel(model);
  const w = info.initializers.find((t) => t.name === names.weight);
  const b = info.initializers.find((t) => t.name === names.bias);
  if (!w || !b) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `the model has no head initializers "${names.weight}" and "${names.bias}" (found: ${[w?.name, b?.name].filter(Boolean).join(', ') || 'neither'})`,
      {
        hint: 'fine-tuning needs a model whose final 1x1x1 convolution has initializers named head.weight and head.bias and which outputs "features" (slice2solid train exports such models)',
      },
    );
  }
  const [c, f, ...rest] = w.dims;
  if (c === undefined || f === undefined || rest.some((d) => d !== 1) || b.dims.length !== 1 || b.dims[0] !== c) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `"${names.weight}" [${w.dims.join(', ')}] and "${names.bias}" [${b.dims.join(', ')}] are not a 1x1x1 convolution head (weight [C, F, 1, 1, 1], bias [C])`,
      { hint: 'only a final pointwise convolution can be fine-tuned' },
    );
  }
  return {
    classes: c,
    features: f,
    weight: readFloatInitializer(model, names.weight, info),
    bias: readFloatInitializer(model, names.bias, info),
  };
}

/** Checks a head's arrays against its sizes. */
export function checkHead(h: HeadWeights): void {
  if (
    !Number.isInteger(h.classes) ||
    !Number.isInteger(h.features) ||
    h.classes < 1 ||
    h.features < 1 ||
    h.weight.length !== h.classes * h.features ||
    h.bias.length !== h.classes
  ) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `a head with ${h.classes} classes and ${h.features} features needs ${h.classes * h.features} weights and ${h.classes} biases, got ${h.weight.length} and ${h.bias.length}`,
    );
  }
}

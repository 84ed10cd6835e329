// A tiny 3-level 3D U-Net built from the operators slice2solid's trainer exports (contract 4):
// Conv 3D (3x3x3, "same" and strided), InstanceNormalization, LeakyRelu, MaxPool, Resize
// (nearest x2 as PyTorch's F.interpolate exports it, and trilinear), Concat, and the 1x1x1 head
// "head.weight"/"head.bias" with outputs "logits" and "features". Random weights: for comparing
// runtimes on the same graph, not for segmenting anything.
import { buildOnnxModel, type NodeSpec, seededRandom, type TensorSpec } from './onnx-builder.js';

export interface UnetOpsModelOptions {
  readonly seed?: number;
  /** Channels of the first level (doubled at each level below). */
  readonly base?: number;
  readonly classes?: number;
}

/** Spatial sizes must be multiples of 4 (two downsamplings). */
export function unetOpsModel(options: UnetOpsModelOptions = {}): Uint8Array {
  const rnd = seededRandom(options.seed ?? 1);
  const base = options.base ?? 4;
  const classes = options.classes ?? 3;
  const inits: TensorSpec[] = [];
  const nodes: NodeSpec[] = [];
  let id = 0;
  const param = (dims: number[], scale: number, name = `p${id++}`): string => {
    const n = dims.reduce((a, b) => a * b, 1);
    inits.push({ name, dims, data: Float32Array.from({ length: n }, () => rnd() * scale) });
    return name;
  };
  const conv = (x: string, cin: number, cout: number, stride = 1, k = 3): string => {
    const w = param([cout, cin, k, k, k], Math.sqrt(3 / (cin * k * k * k)));
    const b = param([cout], 0.1);
    const y = `t${id++}`;
    const p = (k - 1) / 2;
    nodes.push({
      op: 'Conv',
      inputs: [x, w, b],
      outputs: [y],
      attrs: { kernel_shape: [k, k, k], pads: [p, p, p, p, p, p], strides: [stride, stride, stride] },
    });
    return y;
  };
  const constant = (name: string, dims: number[], data: Float32Array): string => {
    inits.push({ name, dims, data });
    return name;
  };
  const norm = (x: string, c: number): string => {
    const s = constant(
      `p${id++}`,
      [c],
      Float32Array.from({ length: c }, () => 1 + 0.5 * rnd()),
    );
    const b = param([c], 0.2);
    const y = `t${id++}`;
    nodes.push({ op: 'InstanceNormalization', inputs: [x, s, b], outputs: [y], attrs: { epsilon: { float: 1e-5 } } });
    return y;
  };
  const act = (x: string): string => {
    const y = `t${id++}`;
    nodes.push({ op: 'LeakyRelu', inputs: [x], outputs: [y], attrs: { alpha: { float: 0.01 } } });
    return y;
  };
  const block = (x: string, cin: number, cout: number, stride = 1): string =>
    act(norm(conv(act(norm(conv(x, cin, cout, stride), cout)), cout, cout), cout));
  const scales = constant('up_scales', [5], new Float32Array([1, 1, 2, 2, 2]));
  const up = (x: string, mode: 'nearest' | 'linear'): string => {
    const y = `t${id++}`;
    nodes.push({
      op: 'Resize',
      inputs: [x, '', scales],
      outputs: [y],
      attrs:
        mode === 'nearest'
          ? { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }
          : { mode: 'linear', coordinate_transformation_mode: 'half_pixel' },
    });
    return y;
  };
  const concat = (a: string, b: string): string => {
    const y = `t${id++}`;
    nodes.push({ op: 'Concat', inputs: [a, b], outputs: [y], attrs: { axis: 1 } });
    return y;
  };

  const e1 = block('image', 1, base);
  // level 2 through MaxPool, level 3 through a strided convolution (the trainer's choice)
  const pooled = `t${id++}`;
  nodes.push({
    op: 'MaxPool',
    inputs: [e1],
    outputs: [pooled],
    attrs: { kernel_shape: [2, 2, 2], strides: [2, 2, 2] },
  });
  const e2 = block(pooled, base, 2 * base);
  const e3 = block(e2, 2 * base, 4 * base, 2);
  const d2 = block(concat(conv(up(e3, 'nearest'), 4 * base, 2 * base), e2), 4 * base, 2 * base);
  const d1 = block(concat(conv(up(d2, 'linear'), 2 * base, base), e1), 2 * base, base);
  nodes.push({ op: 'Identity', inputs: [d1], outputs: ['features'] });
  param([classes, base, 1, 1, 1], 1, 'head.weight');
  param([classes], 0.5, 'head.bias');
  nodes.push({
    op: 'Conv',
    inputs: ['features', 'head.weight', 'head.bias'],
    outputs: ['logits'],
    attrs: { kernel_shape: [1, 1, 1] },
  });
  return buildOnnxModel({
    inputs: [{ name: 'image', dims: ['N', 1, 'D', 'H', 'W'] }],
    outputs: [
      { name: 'logits', dims: ['N', classes, 'D', 'H', 'W'] },
      { name: 'features', dims: ['N', base, 'D', 'H', 'W'] },
    ],
    initializers: inits,
    nodes,
  });
}

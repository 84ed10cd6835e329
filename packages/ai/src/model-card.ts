/**
 * The model card: the JSON file that travels with every ONNX model and says how to feed it
 * and how to read its output (documented field by field in docs/models.md). It is validated
 * on load; every problem is reported with the path of the field, what was found and what is
 * expected, as an S2SError (code MALFORMED_FILE).
 */
import { reorientPlan, S2SError, type Vec3 } from '@slice2solid/core';
import type { Activation } from './sliding-window.js';

export const MODEL_CARD_SCHEMA = 'slice2solid-model-card/1';

/** How one input channel's intensities are normalised before inference. */
export type Normalization =
  /** CT (nnU-Net's "CTNormalization"): clip to [clip[0], clip[1]] (HU), then (x - mean) / std with the training set's statistics. */
  | { readonly type: 'ct'; readonly clip: readonly [number, number]; readonly mean: number; readonly std: number }
  /** Per image z-score over all voxels, or only over non-zero voxels (nnU-Net's MR default with a brain mask). */
  | { readonly type: 'zscore'; readonly region?: 'all' | 'nonzero' }
  /** Clip at this image's lower/upper percentiles, then map the range to [0, 1] ('unit') or z-score it. */
  | {
      readonly type: 'percentile';
      readonly lower: number;
      readonly upper: number;
      readonly map: 'unit' | 'zscore';
    }
  /** Fixed linear map (x - offset) * scale. */
  | { readonly type: 'linear'; readonly offset: number; readonly scale: number }
  | { readonly type: 'none' };

export interface InputChannel {
  readonly name: string;
  /** DICOM modality of the channel: CT, MR, PT... */
  readonly modality: string;
  /** For MR: the sequence (T1, T2, FLAIR...); free text. */
  readonly sequence?: string;
  readonly normalization: Normalization;
}

export interface OutputLabel {
  /** The model output channel this label comes from (0-based). */
  readonly channel: number;
  /** The label value written into the label map (0 = background). */
  readonly value: number;
  readonly name: string;
  /** sRGB colour 0..255 (optional for the background). */
  readonly color?: Vec3;
  /** A coded concept, e.g. SNOMED CT { scheme: 'SCT', value: '10200004', meaning: 'Liver' }. */
  readonly code?: { readonly scheme: string; readonly value: string; readonly meaning: string };
}

export interface MetricSummary {
  /** Label name (as in output.labels). */
  readonly label: string;
  readonly dice?: number;
  /** 95th-percentile Hausdorff distance, mm. */
  readonly hd95?: number;
  /** Average symmetric surface distance, mm. */
  readonly assd?: number;
  /** Surface Dice at `surfaceDiceToleranceMm`. */
  readonly surfaceDice?: number;
  readonly surfaceDiceToleranceMm?: number;
}

export interface ModelCard {
  readonly schema: typeof MODEL_CARD_SCHEMA;
  /** Short identifier, [a-z0-9._-]. */
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /** ONNX file name, relative to the card. */
  readonly file: string;
  /** Lower-case hex SHA-256 of the ONNX file (checked by the model store). */
  readonly sha256?: string;
  readonly input: {
    /** ONNX input name (default: the model's first input). */
    readonly name?: string;
    readonly channels: readonly InputChannel[];
    /** Orientation code the model was trained in (index axes i, j, k point towards these letters), e.g. 'RAS'. */
    readonly orientation: string;
    /** Voxel spacing (i, j, k) in mm after reorientation. */
    readonly spacing: Vec3;
    /** Patch size (i, j, k) in voxels. */
    readonly patchSize: readonly [number, number, number];
    /** Interpolation of the image onto the model grid. */
    readonly interpolation: 'linear' | 'cubic';
  };
  readonly output: {
    /** ONNX output name (default: the model's first output). */
    readonly name?: string;
    readonly activation: Activation;
    /** Number of output channels. */
    readonly channels: number;
    readonly labels: readonly OutputLabel[];
  };
  readonly inference: {
    readonly overlap: number;
    readonly mirrorAxes: readonly number[];
    readonly gaussianSigmaScale: number;
  };
  readonly license: { readonly spdx: string; readonly url?: string; readonly attribution?: string };
  readonly training: {
    readonly summary: string;
    readonly datasets: readonly {
      readonly name: string;
      readonly url?: string;
      readonly license?: string;
      readonly cases?: number;
    }[];
    /** Case ids of the training run's splits (so `evaluate` can test on cases the model never saw). */
    readonly splits?: {
      readonly train: readonly string[];
      readonly val: readonly string[];
      readonly test: readonly string[];
    };
  };
  readonly validation: {
    readonly summary: string;
    readonly cases: number;
    readonly metrics: readonly MetricSummary[];
  };
  readonly intendedUse: string;
  readonly limitations: string;
}

/** Defaults filled in for optional fields. */
export const MODEL_CARD_DEFAULTS = {
  interpolation: 'linear',
  overlap: 0.5,
  mirrorAxes: [],
  gaussianSigmaScale: 0.125,
} as const;

type Json = unknown;

class Checker {
  constructor(private readonly file: string | undefined) {}
  fail(path: string, message: string, hint?: string): never {
    throw new S2SError('MALFORMED_FILE', `model card: ${path} ${message}`, {
      hint: hint ?? 'see docs/models.md for the model card format',
      ...(this.file ? { file: this.file } : {}),
    });
  }
  object(v: Json, path: string): Record<string, Json> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `must be an object, got ${kind(v)}`);
    return v as Record<string, Json>;
  }
  string(o: Record<string, Json>, key: string, path: string, optional = false): string | undefined {
    const v = o[key];
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string' || v.trim() === '')
      this.fail(`${path}.${key}`, `must be a non-empty string, got ${kind(v)}`);
    return v as string;
  }
  number(
    o: Record<string, Json>,
    key: string,
    path: string,
    { min = -Infinity, max = Infinity, integer = false, optional = false, exclusiveMin = false } = {},
  ): number | undefined {
    const v = o[key];
    if (v === undefined && optional) return undefined;
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (exclusiveMin ? v > min : v >= min) &&
      v <= max &&
      (!integer || Number.isInteger(v));
    if (!ok) {
      const range = `${exclusiveMin ? '>' : '>='} ${min}${max < Infinity ? ` and <= ${max}` : ''}`;
      this.fail(
        `${path}.${key}`,
        `must be ${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` ${range}` : ''}, got ${kind(v)}`,
      );
    }
    return v as number;
  }
  triple(o: Record<string, Json>, key: string, path: string, integer: boolean): [number, number, number] {
    const v = o[key];
    const ok =
      Array.isArray(v) &&
      v.length === 3 &&
      v.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0 && (!integer || Number.isInteger(x)));
    if (!ok) {
      this.fail(
        `${path}.${key}`,
        `must be 3 ${integer ? 'positive integers' : 'positive numbers'} (i, j, k), got ${kind(v)}`,
      );
    }
    return [v[0], v[1], v[2]] as [number, number, number];
  }
  oneOf<T extends string>(o: Record<string, Json>, key: string, path: string, allowed: readonly T[], dflt?: T): T {
    const v = o[key];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'string' || !allowed.includes(v as T)) {
      this.fail(`${path}.${key}`, `must be one of ${allowed.join(', ')}, got ${kind(v)}`);
    }
    return v as T;
  }
  array(o: Record<string, Json>, key: string, path: string, nonEmpty = true): Json[] {
    const v = o[key];
    if (!Array.isArray(v) || (nonEmpty && v.length === 0)) {
      this.fail(`${path}.${key}`, `must be a${nonEmpty ? ' non-empty' : 'n'} array, got ${kind(v)}`);
    }
    return v as Json[];
  }
}

function kind(v: Json): string {
  if (v === undefined) return 'nothing (missing)';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function parseNormalization(c: Checker, v: Json, path: string): Normalization {
  const o = c.object(v, path);
  const type = c.oneOf(o, 'type', path, ['ct', 'zscore', 'percentile', 'linear', 'none'] as const);
  switch (type) {
    case 'ct': {
      const clip = o.clip;
      if (
        !Array.isArray(clip) ||
        clip.length !== 2 ||
        !clip.every((x) => typeof x === 'number' && Number.isFinite(x)) ||
        !(clip[0] < clip[1])
      ) {
        c.fail(`${path}.clip`, `must be [low, high] with low < high (HU), got ${kind(clip)}`);
      }
      return {
        type,
        clip: [clip[0], clip[1]],
        mean: c.number(o, 'mean', path)!,
        std: c.number(o, 'std', path, { min: 0, exclusiveMin: true })!,
      };
    }
    case 'zscore':
      return { type, region: c.oneOf(o, 'region', path, ['all', 'nonzero'] as const, 'all') };
    case 'percentile': {
      const lower = c.number(o, 'lower', path, { min: 0, max: 100 })!;
      const upper = c.number(o, 'upper', path, { min: 0, max: 100 })!;
      if (!(lower < upper)) c.fail(`${path}`, `needs lower < upper, got ${lower} and ${upper}`);
      return { type, lower, upper, map: c.oneOf(o, 'map', path, ['unit', 'zscore'] as const) };
    }
    case 'linear':
      return { type, offset: c.number(o, 'offset', path)!, scale: c.number(o, 'scale', path)! };
    default:
      return { type: 'none' };
  }
}

function parseColor(c: Checker, v: Json, path: string): Vec3 {
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => Number.isInteger(x) && x >= 0 && x <= 255)) {
    c.fail(path, `must be 3 integers 0..255 (sRGB), got ${kind(v)}`);
  }
  return [v[0], v[1], v[2]] as Vec3;
}

/**
 * Parses and validates a model card (JSON text, UTF-8 bytes or an already parsed object).
 * `file` names the card in error messages.
 */
export function parseModelCard(source: string | Uint8Array | object, file?: string): ModelCard {
  const c = new Checker(file);
  let raw: Json = source;
  if (typeof source === 'string' || source instanceof Uint8Array) {
    const text = typeof source === 'string' ? source : new TextDecoder().decode(source);
    try {
      raw = JSON.parse(text);
    } catch (cause) {
      throw new S2SError('MALFORMED_FILE', `model card is not valid JSON (${(cause as Error).message})`, {
        hint: 'fix the JSON syntax',
        cause,
        ...(file ? { file } : {}),
      });
    }
  }
  const o = c.object(raw, 'card');
  if (o.schema !== MODEL_CARD_SCHEMA) {
    c.fail(
      'schema',
      `must be "${MODEL_CARD_SCHEMA}", got ${kind(o.schema)}`,
      'this version of slice2solid reads schema 1 cards',
    );
  }
  const name = c.string(o, 'name', 'card')!;
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) c.fail('card.name', `must match [a-z0-9][a-z0-9._-]*, got ${kind(name)}`);
  const sha256 = c.string(o, 'sha256', 'card', true);
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) {
    c.fail('card.sha256', 'must be 64 lower-case hex digits');
  }
  const file_ = c.string(o, 'file', 'card')!;
  if (/^(\/|[a-zA-Z]:)|(^|[\\/])\.\.([\\/]|$)/.test(file_)) {
    c.fail('card.file', `must be a file name relative to the card, without "..", got ${kind(file_)}`);
  }

  // input
  const inp = c.object(o.input, 'input');
  const channels = c.array(inp, 'channels', 'input').map((ch, n): InputChannel => {
    const p = `input.channels[${n}]`;
    const co = c.object(ch, p);
    const sequence = c.string(co, 'sequence', p, true);
    return {
      name: c.string(co, 'name', p)!,
      modality: c.string(co, 'modality', p)!,
      ...(sequence ? { sequence } : {}),
      normalization: parseNormalization(c, co.normalization, `${p}.normalization`),
    };
  });
  const orientation = c.string(inp, 'orientation', 'input')!.toUpperCase();
  try {
    reorientPlan(
      {
        size: [1, 1, 1],
        spacing: [1, 1, 1],
        origin: [0, 0, 0],
        direction: [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
      },
      orientation,
    );
  } catch {
    c.fail('input.orientation', `must be an orientation code such as RAS or LPS, got ${kind(inp.orientation)}`);
  }
  const inputName = c.string(inp, 'name', 'input', true);
  const input = {
    ...(inputName ? { name: inputName } : {}),
    channels,
    orientation,
    spacing: c.triple(inp, 'spacing', 'input', false),
    patchSize: c.triple(inp, 'patchSize', 'input', true),
    interpolation: c.oneOf(
      inp,
      'interpolation',
      'input',
      ['linear', 'cubic'] as const,
      MODEL_CARD_DEFAULTS.interpolation,
    ),
  };

  // output
  const out = c.object(o.output, 'output');
  const nOut = c.number(out, 'channels', 'output', { min: 1, integer: true })!;
  const activation = c.oneOf(out, 'activation', 'output', ['softmax', 'sigmoid', 'none'] as const);
  const labels = c.array(out, 'labels', 'output').map((l, n): OutputLabel => {
    const p = `output.labels[${n}]`;
    const lo = c.object(l, p);
    const code = lo.code === undefined ? undefined : c.object(lo.code, `${p}.code`);
    return {
      channel: c.number(lo, 'channel', p, { min: 0, max: nOut - 1, integer: true })!,
      value: c.number(lo, 'value', p, { min: 0, max: 65535, integer: true })!,
      name: c.string(lo, 'name', p)!,
      ...(lo.color !== undefined ? { color: parseColor(c, lo.color, `${p}.color`) } : {}),
      ...(code
        ? {
            code: {
              scheme: c.string(code, 'scheme', `${p}.code`)!,
              value: c.string(code, 'value', `${p}.code`)!,
              meaning: c.string(code, 'meaning', `${p}.code`)!,
            },
          }
        : {}),
    };
  });
  const seenCh = new Set<number>();
  const seenVal = new Set<number>();
  for (const l of labels) {
    if (seenCh.has(l.channel)) c.fail('output.labels', `lists channel ${l.channel} twice`);
    if (seenVal.has(l.value)) c.fail('output.labels', `uses label value ${l.value} twice`);
    seenCh.add(l.channel);
    seenVal.add(l.value);
    if (l.value > 0 && !l.color) c.fail(`output.labels (${l.name})`, 'needs a color');
  }
  if (activation === 'softmax' && nOut > 1 && seenCh.size !== nOut) {
    c.fail('output.labels', `must name all ${nOut} softmax channels (background included), got ${seenCh.size}`);
  }
  if (activation === 'softmax' && nOut > 1 && !labels.some((l) => l.value === 0)) {
    c.fail('output.labels', 'must map one softmax channel to value 0 (background)');
  }
  if ((activation === 'sigmoid' || nOut === 1) && labels.some((l) => l.value === 0)) {
    c.fail('output.labels', 'with sigmoid (or one) output channels every label is a structure; value 0 is not allowed');
  }
  const outputName = c.string(out, 'name', 'output', true);

  // inference
  const inf = o.inference === undefined ? {} : c.object(o.inference, 'inference');
  const mirror = inf.mirrorAxes === undefined ? [] : c.array(inf, 'mirrorAxes', 'inference', false);
  if (!mirror.every((a) => a === 0 || a === 1 || a === 2) || new Set(mirror).size !== mirror.length) {
    c.fail('inference.mirrorAxes', `must be distinct axes among 0, 1, 2 (i, j, k), got ${kind(mirror)}`);
  }

  // provenance
  const lic = c.object(o.license, 'license');
  const licUrl = c.string(lic, 'url', 'license', true);
  const licAttr = c.string(lic, 'attribution', 'license', true);
  const tr = c.object(o.training, 'training');
  const datasets = c.array(tr, 'datasets', 'training').map((d, n) => {
    const p = `training.datasets[${n}]`;
    const dob = c.object(d, p);
    const url = c.string(dob, 'url', p, true);
    const license = c.string(dob, 'license', p, true);
    const cases = c.number(dob, 'cases', p, { min: 0, integer: true, optional: true });
    return {
      name: c.string(dob, 'name', p)!,
      ...(url ? { url } : {}),
      ...(license ? { license } : {}),
      ...(cases !== undefined ? { cases } : {}),
    };
  });
  let splits: { train: string[]; val: string[]; test: string[] } | undefined;
  if (tr.splits !== undefined) {
    const so = c.object(tr.splits, 'training.splits');
    const ids = (key: 'train' | 'val' | 'test'): string[] => {
      const list = c.array(so, key, 'training.splits', false);
      if (!list.every((x) => typeof x === 'string' && x.length > 0)) {
        c.fail(`training.splits.${key}`, 'must be an array of case ids (strings)');
      }
      return list as string[];
    };
    splits = { train: ids('train'), val: ids('val'), test: ids('test') };
    const seen = new Set<string>();
    for (const id of [...splits.train, ...splits.val, ...splits.test]) {
      if (seen.has(id)) c.fail('training.splits', `lists case ${kind(id)} in more than one split`);
      seen.add(id);
    }
  }
  const va = c.object(o.validation, 'validation');
  const labelNames = new Set(labels.map((l) => l.name));
  const metrics = c.array(va, 'metrics', 'validation', false).map((m, n): MetricSummary => {
    const p = `validation.metrics[${n}]`;
    const mo = c.object(m, p);
    const label = c.string(mo, 'label', p)!;
    if (!labelNames.has(label)) c.fail(`${p}.label`, `names no output label: ${kind(label)}`);
    const r: Record<string, number | string> = { label };
    for (const key of ['dice', 'surfaceDice'] as const) {
      const x = c.number(mo, key, p, { min: 0, max: 1, optional: true });
      if (x !== undefined) r[key] = x;
    }
    for (const key of ['hd95', 'assd', 'surfaceDiceToleranceMm'] as const) {
      const x = c.number(mo, key, p, { min: 0, optional: true });
      if (x !== undefined) r[key] = x;
    }
    if (r.surfaceDice !== undefined && r.surfaceDiceToleranceMm === undefined) {
      c.fail(p, 'gives surfaceDice without surfaceDiceToleranceMm');
    }
    return r as unknown as MetricSummary;
  });

  return {
    schema: MODEL_CARD_SCHEMA,
    name,
    version: c.string(o, 'version', 'card')!,
    description: c.string(o, 'description', 'card')!,
    file: file_,
    ...(sha256 ? { sha256 } : {}),
    input,
    output: { ...(outputName ? { name: outputName } : {}), activation, channels: nOut, labels },
    inference: {
      overlap:
        c.number(inf, 'overlap', 'inference', { min: 0, max: 0.95, optional: true }) ?? MODEL_CARD_DEFAULTS.overlap,
      mirrorAxes: mirror as number[],
      gaussianSigmaScale:
        c.number(inf, 'gaussianSigmaScale', 'inference', { min: 0, exclusiveMin: true, optional: true }) ??
        MODEL_CARD_DEFAULTS.gaussianSigmaScale,
    },
    license: {
      spdx: c.string(lic, 'spdx', 'license')!,
      ...(licUrl ? { url: licUrl } : {}),
      ...(licAttr ? { attribution: licAttr } : {}),
    },
    training: { summary: c.string(tr, 'summary', 'training')!, datasets, ...(splits ? { splits } : {}) },
    validation: {
      summary: c.string(va, 'summary', 'validation')!,
      cases: c.number(va, 'cases', 'validation', { min: 0, integer: true })!,
      metrics,
    },
    intendedUse: c.string(o, 'intendedUse', 'card')!,
    limitations: c.string(o, 'limitations', 'card')!,
  };
}

/** The label value written for each output channel, in channel order (0 for unlisted channels). */
export function labelValuesOf(card: ModelCard): number[] {
  const values = new Array<number>(card.output.channels).fill(0);
  for (const l of card.output.labels) values[l.channel] = l.value;
  return values;
}

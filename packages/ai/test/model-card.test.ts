import { isS2SError } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { labelValuesOf, parseModelCard } from '../src/model-card.js';
import { segmentsFromCard } from '../src/postprocess.js';
import { testCard } from './helpers/cards.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests edit deep JSON freely
type Card = Record<string, any>;
function edit(fn: (c: Card) => void): Card {
  const c = structuredClone(testCard()) as Card;
  fn(c);
  return c;
}

describe('model card', () => {
  it('parses a valid card from text, bytes and objects, filling defaults', () => {
    const text = JSON.stringify(testCard());
    const a = parseModelCard(text);
    const b = parseModelCard(new TextEncoder().encode(text));
    expect(b).toEqual(a);
    expect(a.input.orientation).toBe('RAS');
    expect(a.input.spacing).toEqual([1.5, 1.5, 1.5]);
    expect(a.output.labels[1]!.code).toEqual({ scheme: 'SCT', value: '123037004', meaning: 'Anatomical structure' });
    expect(labelValuesOf(a)).toEqual([0, 1, 2]);
    expect(segmentsFromCard(a).map((s) => [s.value, s.name])).toEqual([
      [1, 'ball'],
      [2, 'box'],
    ]);
    const minimal = parseModelCard(
      edit((c) => {
        delete c.inference;
        delete c.input.interpolation;
      }),
    );
    expect(minimal.inference).toEqual({ overlap: 0.5, mirrorAxes: [], gaussianSigmaScale: 0.125 });
    expect(minimal.input.interpolation).toBe('linear');
  });

  it('names the broken field and what it expected (table)', () => {
    const cases: [string, (c: Card) => void, RegExp][] = [
      ['wrong schema', (c) => (c.schema = 'other/2'), /schema must be "slice2solid-model-card\/1", got "other\/2"/],
      ['bad name', (c) => (c.name = 'My Model'), /card\.name must match/],
      ['escaping file', (c) => (c.file = '../x.onnx'), /card\.file must be a file name relative to the card/],
      ['bad sha', (c) => (c.sha256 = 'abc'), /card\.sha256 must be 64 lower-case hex/],
      ['no channels', (c) => (c.input.channels = []), /input\.channels must be a non-empty array/],
      [
        'bad orientation',
        (c) => (c.input.orientation = 'RAR'),
        /input\.orientation must be an orientation code.*"RAR"/,
      ],
      [
        '2D spacing',
        (c) => (c.input.spacing = [1, 1]),
        /input\.spacing must be 3 positive numbers \(i, j, k\), got \[1,1\]/,
      ],
      ['zero spacing', (c) => (c.input.spacing = [1, 0, 1]), /input\.spacing must be 3 positive numbers/],
      ['fractional patch', (c) => (c.input.patchSize = [16, 16.5, 16]), /input\.patchSize must be 3 positive integers/],
      [
        'bad CT clip',
        (c) => (c.input.channels[0].normalization.clip = [1000, -1000]),
        /input\.channels\[0\]\.normalization\.clip must be \[low, high\] with low < high/,
      ],
      [
        'zero std',
        (c) => (c.input.channels[0].normalization.std = 0),
        /normalization\.std must be a number > 0, got 0/,
      ],
      [
        'unknown normalisation',
        (c) => (c.input.channels[0].normalization = { type: 'magic' }),
        /normalization\.type must be one of ct, zscore, percentile, linear, none, got "magic"/,
      ],
      [
        'percentile order',
        (c) => (c.input.channels[0].normalization = { type: 'percentile', lower: 99, upper: 1, map: 'unit' }),
        /needs lower < upper/,
      ],
      [
        'missing modality',
        (c) => delete c.input.channels[0].modality,
        /input\.channels\[0\]\.modality must be a non-empty string, got nothing \(missing\)/,
      ],
      [
        'bad activation',
        (c) => (c.output.activation = 'relu'),
        /output\.activation must be one of softmax, sigmoid, none/,
      ],
      [
        'channel out of range',
        (c) => (c.output.labels[2].channel = 3),
        /output\.labels\[2\]\.channel must be an integer >= 0 and <= 2, got 3/,
      ],
      ['duplicate value', (c) => (c.output.labels[2].value = 1), /uses label value 1 twice/],
      ['duplicate channel', (c) => (c.output.labels[2].channel = 1), /lists channel 1 twice/],
      ['missing colour', (c) => delete c.output.labels[1].color, /\(ball\) needs a color/],
      ['bad colour', (c) => (c.output.labels[1].color = [0, 0, 256]), /color must be 3 integers 0\.\.255/],
      ['softmax channel unnamed', (c) => c.output.labels.pop(), /must name all 3 softmax channels/],
      [
        'no background',
        (c) => Object.assign(c.output.labels[0], { value: 3, color: [0, 0, 0] }),
        /must map one softmax channel to value 0/,
      ],
      [
        'sigmoid background',
        (c) => {
          c.output.activation = 'sigmoid';
        },
        /value 0 is not allowed/,
      ],
      ['bad mirror axes', (c) => (c.inference.mirrorAxes = [0, 3]), /inference\.mirrorAxes must be distinct axes/],
      ['overlap too big', (c) => (c.inference.overlap = 1), /inference\.overlap must be a number >= 0 and <= 0\.95/],
      ['no licence', (c) => delete c.license, /license must be an object, got nothing \(missing\)/],
      ['metrics for unknown label', (c) => (c.validation.metrics[0].label = 'liver'), /names no output label: "liver"/],
      ['dice above 1', (c) => (c.validation.metrics[0].dice = 1.5), /dice must be a number >= 0 and <= 1/],
      [
        'surface dice without tolerance',
        (c) => (c.validation.metrics[0].surfaceDice = 0.9),
        /without surfaceDiceToleranceMm/,
      ],
      ['no limitations', (c) => (c.limitations = ' '), /card\.limitations must be a non-empty string/],
    ];
    for (const [what, fn, re] of cases) {
      let err: unknown;
      try {
        parseModelCard(edit(fn), 'cards/test.json');
      } catch (e) {
        err = e;
      }
      expect(isS2SError(err), what).toBe(true);
      expect((err as Error).message, what).toMatch(re);
      expect((err as Error).message, what).toMatch(/^cards\/test\.json: model card: /);
      expect((err as { code: string }).code, what).toBe('MALFORMED_FILE');
    }
  });

  it('reports invalid JSON and non-object cards', () => {
    expect(() => parseModelCard('{"schema": ')).toThrow(/model card is not valid JSON/);
    expect(() => parseModelCard('[1,2]')).toThrow(/card must be an object, got \[1,2\]/);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelCard } from '@slice2solid/ai';
import { isS2SError } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test-utils/shared-data.js';
import {
  mergeModelLabels,
  modalityNote,
  modelStructures,
  planModelStructures,
  readModelPackage,
} from '../src/app/model-package.js';

const FIXTURE = join(REPO_ROOT, 'packages', 'ai', 'test', 'fixtures', 'synthetic-unet');
const cardBytes = new Uint8Array(readFileSync(join(FIXTURE, 'model.json')));
const onnxBytes = new Uint8Array(readFileSync(join(FIXTURE, 'model.onnx')));
const cardJson = () => JSON.parse(new TextDecoder().decode(cardBytes)) as Record<string, unknown>;
const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(isS2SError(e), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected the package to be refused');
}

describe('readModelPackage', () => {
  it('opens the synthetic fixture (card + the .onnx it names) and checks its SHA-256', async () => {
    const pkg = await readModelPackage([
      { name: 'model.onnx', bytes: onnxBytes },
      { name: 'model.json', bytes: cardBytes },
    ]);
    expect(pkg.card.name).toBe('synthetic-unet');
    expect(pkg.onnx.length).toBe(onnxBytes.length);
    expect(pkg.verified).toBe(true);
    expect(pkg.cardFile).toBe('model.json');
    expect(pkg.onnxFile).toBe('model.onnx');
    expect(modelStructures(pkg.card).map((s) => s.name)).toEqual(['ellipsoid', 'tube']);
    expect(modelStructures(pkg.card, ['Tube']).map((s) => [s.name, s.value])).toEqual([['tube', 2]]);
  });

  it('refuses bad packages with messages that say what to choose', async () => {
    expect(await refusal(readModelPackage([]))).toMatch(/no model files/);
    expect(await refusal(readModelPackage([{ name: 'model.onnx', bytes: onnxBytes }]))).toMatch(/no model card/);
    expect(
      await refusal(
        readModelPackage([
          { name: 'a.json', bytes: cardBytes },
          { name: 'b.json', bytes: cardBytes },
        ]),
      ),
    ).toMatch(/more than one \.json.*a\.json, b\.json/);
    expect(await refusal(readModelPackage([{ name: 'model.json', bytes: cardBytes }]))).toMatch(
      /names the file "model\.onnx", which is not among the chosen files/,
    );
    expect(
      await refusal(
        readModelPackage([
          { name: 'model.json', bytes: cardBytes },
          { name: 'other.onnx', bytes: onnxBytes },
        ]),
      ),
    ).toMatch(/chosen: other\.onnx/);
    // not JSON, and a card with a field missing: parseModelCard's message with the field's path
    expect(await refusal(readModelPackage([{ name: 'model.json', bytes: enc('{').subarray(0, 1) }]))).toMatch(
      /model card|JSON/i,
    );
    const noLabels = cardJson();
    delete (noLabels.output as Record<string, unknown>).labels;
    expect(
      await refusal(
        readModelPackage([
          { name: 'model.json', bytes: enc(noLabels) },
          { name: 'model.onnx', bytes: onnxBytes },
        ]),
      ),
    ).toMatch(/model card: output\.labels/);
    // a damaged .onnx (SHA-256 differs)
    const damaged = onnxBytes.slice();
    damaged[1000] = damaged[1000]! ^ 0xff;
    expect(
      await refusal(
        readModelPackage([
          { name: 'model.json', bytes: cardBytes },
          { name: 'model.onnx', bytes: damaged },
        ]),
      ),
    ).toMatch(/does not match the SHA-256/);
    // two input channels
    const two = cardJson();
    const input = two.input as { channels: unknown[] };
    input.channels = [input.channels[0], { ...(input.channels[0] as object), name: 'CT2' }];
    expect(
      await refusal(
        readModelPackage([
          { name: 'model.json', bytes: enc(two) },
          { name: 'model.onnx', bytes: onnxBytes },
        ]),
      ),
    ).toMatch(/needs 2 input images/);
  });

  it('notes a modality mismatch', () => {
    const card = parseModelCard(cardBytes);
    expect(modalityNote(card, true)).toBeUndefined();
    expect(modalityNote(card, false)).toMatch(/expects a CT/);
  });
});

describe('model labels -> page structures', () => {
  const card = parseModelCard(cardBytes);
  const seg = (value: number, name: string) => ({ value, name, color: [1, 2, 3] as [number, number, number] });

  it('reuses structures of the same name and gives the others free values', () => {
    const plan = planModelStructures([seg(1, 'bone'), seg(2, 'Tube')], modelStructures(card));
    expect(plan.map((p) => [p.segment.name, p.modelValue, p.pageValue, p.existing])).toEqual([
      ['ellipsoid', 1, 3, false],
      ['tube', 2, 2, true],
    ]);
    expect(plan[0]!.segment.color).toEqual([241, 214, 145]);
  });

  it('replaces the planned structures, keeps the others, and counts voxels', () => {
    // page: 1 = bone (kept), 2 = tube (replaced by the model's tube, value 2 -> page 2), ellipsoid -> 3
    const plan = planModelStructures([seg(1, 'bone'), seg(2, 'tube')], modelStructures(card));
    const labels = Uint8Array.from([1, 1, 2, 2, 0, 0, 0]);
    const model = Uint8Array.from([1, 0, 0, 1, 2, 1, 0]);
    const r = mergeModelLabels(labels, model, plan);
    expect([...r.labels]).toEqual([1, 1, 0, 3, 2, 3, 0]);
    expect(r.voxels).toEqual(
      new Map([
        [3, 2],
        [2, 1],
      ]),
    );
    expect([...labels]).toEqual([1, 1, 2, 2, 0, 0, 0]); // not changed
    expect(() => mergeModelLabels(labels, new Uint8Array(3), plan)).toThrow(/voxels/);
  });
});

// The fixture model made by scripts/make-synthetic-fixture.ts (trained by the PyTorch trainer):
// a valid card whose checksum matches, the contract's outputs and head initializers, and the
// Dice its card claims on unseen synthetic cases, measured again here with onnxruntime-node.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseModelCard } from '../../../src/model-card.js';
import { onnxRuntimeNodeBackend } from '../../../src/node/onnxruntime-node.js';
import { syntheticCase } from '../../../src/train/synthetic.js';
import { readOnnx } from '../../helpers/onnx-reader.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'synthetic-unet');

describe('fixture model synthetic-unet', () => {
  const cardText = readFileSync(join(dir, 'model.json'), 'utf8');
  const onnx = new Uint8Array(readFileSync(join(dir, 'model.onnx')));

  it('has a valid card that matches its ONNX file and the trainer contract', () => {
    const card = parseModelCard(cardText, 'model.json');
    expect(card.sha256).toBe(createHash('sha256').update(onnx).digest('hex'));
    expect(onnx.length).toBeLessThan(1024 * 1024);
    const info = readOnnx(onnx);
    expect(info.ops).not.toContain('ConvTranspose');
    expect(info.initializers.get('head.weight')?.dims).toEqual([3, 8, 1, 1, 1]);
    expect(info.initializers.get('head.weight')?.raw).toBe(true);
    expect(info.initializers.get('head.bias')?.dims).toEqual([3]);
  });

  it('segments unseen synthetic cases with the Dice its card states', async () => {
    const card = JSON.parse(cardText);
    const norm = card.input.channels[0].normalization;
    const session = await onnxRuntimeNodeBackend({ intraOpNumThreads: 1 }).createSession(onnx);
    expect(session.outputNames).toEqual(['logits', 'features']);
    const seeds = [5001, 5002, 5003, 5004, 5005, 5006]; // the card's validation seeds
    const dice = [0, 0];
    for (const seed of seeds) {
      const { image, labels } = syntheticCase(seed);
      const x = new Float32Array(image.data.length);
      for (let v = 0; v < x.length; v++) x[v] = (image.data[v]! - norm.offset) * norm.scale;
      const { logits } = await session.run({ image: { data: x, dims: [1, 1, 48, 48, 48] } }, ['logits']);
      const nv = x.length;
      for (const cls of [1, 2]) {
        let inter = 0;
        let sum = 0;
        for (let v = 0; v < nv; v++) {
          let arg = 0;
          for (let k = 1; k < 3; k++) if (logits!.data[k * nv + v]! > logits!.data[arg * nv + v]!) arg = k;
          const p = arg === cls;
          const g = labels.data[v] === cls;
          if (p && g) inter++;
          sum += (p ? 1 : 0) + (g ? 1 : 0);
        }
        dice[cls - 1]! += (sum ? (2 * inter) / sum : 1) / seeds.length;
      }
    }
    await session.dispose();
    const metrics = card.validation.metrics as { label: string; dice: number }[];
    expect(dice[0]).toBeGreaterThan(0.9);
    expect(dice[1]).toBeGreaterThan(0.9);
    expect(dice[0]).toBeCloseTo(metrics.find((m) => m.label === 'ellipsoid')!.dice, 3);
    expect(dice[1]).toBeCloseTo(metrics.find((m) => m.label === 'tube')!.dice, 3);
  });
});

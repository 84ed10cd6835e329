import { makeGrid, makeLabelMap, makeVolume, reorientVolume, type Volume, voxelCount } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/scribble/random-forest.js';
import {
  applyScribbleModel,
  deserializeScribbleModel,
  SCRIBBLE_SEGMENT_DEFAULTS,
  scribbleSegment,
  serializeScribbleModel,
  trainScribbleModel,
} from '../../src/scribble/scribble-segment.js';
import { dice, strokesFromReference } from './strokes.js';

const SIZE: [number, number, number] = [40, 40, 30];

/**
 * Two regions with the SAME mean intensity and different texture: inside a ball (radius 12 mm)
 * fine-grained noise of amplitude 40, outside smooth noise of amplitude 8; plus, when `decoy` is
 * set, a second textured ball that only appears in slices 22..29 and is background.
 */
function texturePhantom(seed: number, decoy = false): { volume: Volume; ref: Uint8Array; decoyMask: Uint8Array } {
  const rand = seededRandom(seed);
  const grid = makeGrid({ size: SIZE, spacing: [1, 1, 1.5] });
  const n = voxelCount(grid);
  const data = new Float32Array(n);
  const ref = new Uint8Array(n);
  const decoyMask = new Uint8Array(n);
  // smooth background: noise averaged over 3x3 blocks
  const coarse = Float32Array.from({ length: n }, () => rand() - 0.5);
  let p = 0;
  for (let k = 0; k < SIZE[2]; k++) {
    for (let j = 0; j < SIZE[1]; j++) {
      for (let i = 0; i < SIZE[0]; i++, p++) {
        const inBall = (i - 18) ** 2 + (j - 19) ** 2 + ((k - 12) * 1.5) ** 2 <= 144;
        const inDecoy = decoy && (i - 30) ** 2 + (j - 30) ** 2 + ((k - 26) * 1.5) ** 2 <= 36;
        const smooth = coarse[(Math.floor(k / 3) * 40 + Math.floor(j / 3)) * 40 + Math.floor(i / 3)]!;
        data[p] = 100 + (inBall || inDecoy ? 80 * (rand() - 0.5) : 16 * smooth);
        ref[p] = inBall ? 1 : 0;
        decoyMask[p] = inDecoy ? 1 : 0;
      }
    }
  }
  return { volume: makeVolume({ grid, data }), ref, decoyMask };
}

const nxy = SIZE[0] * SIZE[1];
const notOn = (slices: readonly number[]) => (p: number) => !slices.includes(Math.floor(p / nxy));
const strokes = (ref: Uint8Array, slices: number[], seed = 1) =>
  strokesFromReference(ref, SIZE, slices, { inside: 60, near: 60, far: 60, gapPx: 1, nearPx: 3, seed });
const fg = (labels: Uint8Array) => labels.map((v) => (v === 1 ? 1 : 0));

describe('scribbleSegment on synthetic textures', () => {
  it('separates two regions of equal mean by texture (Dice 0.87 on unpainted slices, floor 0.85)', () => {
    const { volume, ref } = texturePhantom(1);
    const painted = [8, 14];
    const r = scribbleSegment(volume, strokes(ref, painted), { keepLargest: [1] });
    const d = dice(fg(r.labels), ref, notOn(painted));
    expect(d).toBeGreaterThan(0.85);
    expect(r.model.classes).toEqual([1, 2]);
    expect(r.model.samples).toEqual([120, 240]);
    // intensity alone (raw voxel, no scales) cannot tell the textures apart
    const raw = scribbleSegment(volume, strokes(ref, painted), { features: { sigmasMm: [], rawIntensity: true } });
    expect(dice(fg(raw.labels), ref, notOn(painted))).toBeLessThan(0.75);
  });

  it('iterative: strokes on a slice through the decoy fix its false positives (Dice 0.66 -> 0.86)', () => {
    const { volume, ref } = texturePhantom(2, true);
    const first = [8, 14];
    const s = strokes(ref, first);
    const r1 = scribbleSegment(volume, s);
    // second round: the user also paints background on slice 26 through the decoy
    const more = strokesFromReference(ref, SIZE, [26], { inside: 0, near: 0, far: 400, gapPx: 1, nearPx: 3, seed: 5 });
    for (let p = 0; p < s.length; p++) if (more[p]) s[p] = more[p]!;
    const r2 = scribbleSegment(volume, s);
    const held = notOn([...first, 26]);
    const d1 = dice(fg(r1.labels), ref, held);
    const d2 = dice(fg(r2.labels), ref, held);
    expect(d1).toBeLessThan(0.75);
    expect(d2).toBeGreaterThan(d1 + 0.1);
    expect(d2).toBeGreaterThan(0.83);
  });

  it('keepLargest drops a separate look-alike blob and gives its voxels to the runner-up class', () => {
    // bright ball (radius 8 mm) and a bright decoy (radius 4 mm) far from it, on mild noise
    const rand = seededRandom(12);
    const grid = makeGrid({ size: SIZE, spacing: [1, 1, 1.5] });
    const n = voxelCount(grid);
    const data = new Float32Array(n);
    const ref = new Uint8Array(n);
    const decoyMask = new Uint8Array(n);
    let p = 0;
    for (let k = 0; k < SIZE[2]; k++) {
      for (let j = 0; j < SIZE[1]; j++) {
        for (let i = 0; i < SIZE[0]; i++, p++) {
          ref[p] = (i - 14) ** 2 + (j - 14) ** 2 + ((k - 9) * 1.5) ** 2 <= 64 ? 1 : 0;
          decoyMask[p] = (i - 31) ** 2 + (j - 31) ** 2 + ((k - 22) * 1.5) ** 2 <= 16 ? 1 : 0;
          data[p] = (ref[p] || decoyMask[p] ? 200 : 50) + 20 * (rand() - 0.5);
        }
      }
    }
    const volume = makeVolume({ grid, data });
    const model = trainScribbleModel(volume, strokes(ref, [7, 11]), { features: { sigmasMm: [1] } });
    const plain = applyScribbleModel(volume, model);
    const kept = applyScribbleModel(volume, model, { keepLargest: [1] });
    let decoyBefore = 0;
    let decoyAfter = 0;
    for (let q = 0; q < n; q++) {
      if (decoyMask[q] && plain.labels[q] === 1) decoyBefore++;
      if (decoyMask[q] && kept.labels[q] === 2) decoyAfter++;
      if (kept.labels[q] !== 1 && kept.labels[q] !== 2) throw new Error(`label ${kept.labels[q]} at ${q}`);
    }
    expect(decoyBefore).toBeGreaterThan(100);
    expect(decoyAfter).toBe(decoyMask.reduce((x, y) => x + y, 0));
    expect(dice(fg(plain.labels), ref)).toBeLessThan(0.95);
    expect(dice(fg(kept.labels), ref)).toBeGreaterThan(0.97);
  });

  it('region: voxels outside are 0, voxels inside match the unrestricted result; probabilities sum to 255', () => {
    const { volume, ref } = texturePhantom(3);
    const model = trainScribbleModel(volume, strokes(ref, [8, 14]));
    const all = applyScribbleModel(volume, model, { probabilities: true });
    const region = new Uint8Array(ref.length);
    for (let p = 0; p < region.length; p++) region[p] = p % 7 === 0 || Math.floor(p / nxy) === 11 ? 1 : 0;
    const part = applyScribbleModel(volume, model, { region });
    const n = ref.length;
    for (let p = 0; p < n; p++) {
      if (part.labels[p] !== (region[p] ? all.labels[p] : 0)) throw new Error(`voxel ${p} differs`);
      const s = all.probabilities![p]! + all.probabilities![n + p]!;
      if (Math.abs(s - 255) > 1) throw new Error(`probabilities at ${p} sum to ${s}`);
      // the label is the most probable class
      const want = all.probabilities![p]! >= all.probabilities![n + p]! ? 1 : 2;
      if (all.probabilities![p] !== all.probabilities![n + p] && all.labels[p] !== want)
        throw new Error(`label at ${p}`);
    }
    expect(part.probabilities).toBeUndefined();
  });

  it('a stored model (JSON) segments exactly like the original; postprocess hooks run last', () => {
    const { volume, ref } = texturePhantom(4);
    const model = trainScribbleModel(volume, makeLabelMap({ grid: volume.grid, data: strokes(ref, [10]) }));
    const back = deserializeScribbleModel(JSON.parse(JSON.stringify(serializeScribbleModel(model))));
    expect(back.featureNames).toEqual(model.featureNames);
    const a = applyScribbleModel(volume, model);
    let calls = 0;
    const b = applyScribbleModel(volume, back, {
      postprocess: [
        (labels, grid, info) => {
          calls++;
          expect(grid).toBe(volume.grid);
          expect(info.classes).toEqual([1, 2]);
          labels[0] = 9;
        },
      ],
    });
    expect(calls).toBe(1);
    expect(b.labels[0]).toBe(9);
    expect(b.labels.subarray(1)).toEqual(a.labels.subarray(1));
    expect(() => deserializeScribbleModel({ ...serializeScribbleModel(model), classes: [1] })).toThrow(
      /forest and the class list/,
    );
    expect(() => deserializeScribbleModel({ format: 'x' })).toThrow(/not a slice2solid scribble model/);
  });

  it('geometry: a model with LPS coordinates applied to a flipped/permuted copy gives the same labels at the same places', () => {
    const { volume, ref } = texturePhantom(5);
    const grid = makeGrid({
      size: SIZE,
      spacing: [1, 1, 1.5],
      origin: [-20, 7, 30],
      direction: [
        [0, 1, 0],
        [-1, 0, 0],
        [0, 0, -1],
      ],
    }); // left-handed, rotated
    const v = { ...volume, grid };
    const model = trainScribbleModel(v, strokes(ref, [8, 14]), { features: { coordinates: true } });
    const a = applyScribbleModel(v, model, { keepLargest: [1] });
    const w = reorientVolume(v, 'LPS');
    expect(w.grid.direction).not.toEqual(v.grid.direction);
    // same voxels (values are distinct floats) carry the same labels
    const labelled = reorientVolume({ ...v, data: Float32Array.from(a.labels) }, 'LPS');
    const b = applyScribbleModel(w, model, { keepLargest: [1] });
    let differ = 0;
    for (let p = 0; p < b.labels.length; p++) if (b.labels[p] !== labelled.data[p]) differ++;
    expect(differ).toBeLessThanOrEqual(b.labels.length * 1e-3);
    expect(dice(fg(a.labels), ref)).toBeGreaterThan(0.85);
  });

  it('bad input is refused with a clear message and hint', () => {
    const { volume, ref } = texturePhantom(6);
    const s = strokes(ref, [8]);
    const one = s.map((v) => (v === 2 ? 0 : v));
    expect(() => scribbleSegment(volume, one)).toThrow(/only class 1; at least two classes/);
    expect(() => scribbleSegment(volume, new Uint8Array(ref.length))).toThrow(/no painted voxels/);
    expect(() => scribbleSegment(volume, new Uint8Array(5))).toThrow(/5 values but the image has/);
    const wide = Uint16Array.from(s);
    wide[0] = 300;
    expect(() => scribbleSegment(volume, wide)).toThrow(/scribble value 300/);
    const other = makeLabelMap({ grid: makeGrid({ size: SIZE, spacing: [2, 1, 1.5] }), data: s });
    expect(() => scribbleSegment(volume, other)).toThrow(/different grid/);
    expect(() => scribbleSegment(volume, s, { keepLargest: [3] })).toThrow(/class 3/);
    expect(() => scribbleSegment(volume, s, { maxSamplesPerClass: 0 })).toThrow(/maxSamplesPerClass/);
    const twoFrames = makeVolume({ grid: volume.grid, data: new Float32Array(ref.length * 2), frames: 2 });
    expect(() => scribbleSegment(twoFrames, s)).toThrow(/frame/);
    expect(() => scribbleSegment(volume, s, { signal: { aborted: true } })).toThrow(/cancelled/);
  });

  it('caps the painted voxels per class (seeded) and reports progress of every stage', () => {
    const { volume, ref } = texturePhantom(7);
    const s = strokes(ref, [8, 14]);
    const stages = new Set<string>();
    const r = scribbleSegment(volume, s, { maxSamplesPerClass: 50, onProgress: (p) => stages.add(p.stage) });
    expect(r.model.samples).toEqual([50, 50]);
    expect([...stages].sort()).toEqual(['random forest', 'scribble features']);
    expect(SCRIBBLE_SEGMENT_DEFAULTS.maxSamplesPerClass).toBeGreaterThan(1000);
    const again = scribbleSegment(volume, s, { maxSamplesPerClass: 50 });
    expect(again.labels).toEqual(r.labels);
  });
});

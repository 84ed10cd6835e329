import { isS2SError, makeGrid, makeVolume, type Vec3, type Volume } from '@slice2solid/core';
import { afterAll, describe, expect, it } from 'vitest';
import { type InferenceSessionLike, makeTensor } from '../src/backend.js';
import { onnxRuntimeNodeBackend } from '../src/node/onnxruntime-node.js';
import { gaussianImportance, patchStarts, slidingWindowInference } from '../src/sliding-window.js';
import { type Conv3dSpec, conv3dModel, referenceConv3d, seededRandom } from './helpers/onnx-builder.js';

const backend = onnxRuntimeNodeBackend({ intraOpNumThreads: 1 });
const sessions: InferenceSessionLike[] = [];
async function open(spec: Conv3dSpec): Promise<InferenceSessionLike> {
  const s = await backend.createSession(conv3dModel(spec));
  sessions.push(s);
  return s;
}
afterAll(async () => {
  for (const s of sessions) await s.dispose();
});

/** A random float32 volume with `cin` interleaved components. */
function randomVolume(size: Vec3, cin: number, seed: number): Volume {
  const rnd = seededRandom(seed);
  const n = size[0] * size[1] * size[2];
  return makeVolume({
    grid: makeGrid({ size, spacing: [0.7, 1.1, 2.5] }),
    data: Float32Array.from({ length: n * cin }, rnd),
    components: cin,
  });
}

/** The whole volume through the model in one run, output channel-major [C][k][j][i]. */
async function wholeRun(session: InferenceSessionLike, v: Volume): Promise<Float32Array> {
  const [nx, ny, nz] = v.grid.size;
  const n = nx * ny * nz;
  const cin = v.components;
  const planar = new Float32Array(n * cin);
  for (let p = 0; p < n; p++) for (let c = 0; c < cin; c++) planar[c * n + p] = v.data[p * cin + c]!;
  const out = await session.run({ input: makeTensor(planar, [1, cin, nz, ny, nx]) });
  return out.logits!.data;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, keep?: (p: number) => boolean): number {
  let worst = 0;
  for (let p = 0; p < a.length; p++) if (!keep || keep(p)) worst = Math.max(worst, Math.abs(a[p]! - b[p]!));
  return worst;
}

const pointwise: Conv3dSpec = {
  inChannels: 2,
  outChannels: 3,
  kernelSize: [1, 1, 1],
  weights: new Float32Array([1.5, -0.5, -1, 2, 0.25, 0.75]),
  bias: new Float32Array([0.1, -0.2, 0.3]),
  relu: true,
};

describe('patch placement', () => {
  it('patchStarts covers the axis evenly from 0 to the end (table)', () => {
    const cases: [number, number, number, number[]][] = [
      [10, 10, 0.5, [0]],
      [7, 10, 0.5, [0]],
      [11, 10, 0.5, [0, 1]],
      [20, 10, 0.5, [0, 5, 10]],
      [21, 10, 0.5, [0, 4, 7, 11]],
      [30, 10, 0, [0, 10, 20]],
      [31, 10, 0, [0, 7, 14, 21]],
    ];
    for (const [size, patch, overlap, want] of cases) expect(patchStarts(size, patch, overlap)).toEqual(want);
  });

  it('the Gaussian importance map peaks at 1 in the centre and is symmetric', () => {
    const g = gaussianImportance([5, 3, 4], 0.125);
    expect(Math.max(...g)).toBeCloseTo(1, 6);
    // k axis: sigma 0.5, centre 1.5, normalised to its largest sample (k = 1 or 2): k = 0 gets exp(-(1.5^2 - 0.5^2) / 0.5)
    expect(g[(0 * 3 + 1) * 5 + 2]).toBeCloseTo(Math.exp(-4), 6);
    expect(g[(1 * 3 + 1) * 5 + 2]).toBeCloseTo(1, 6);
    for (let k = 0; k < 4; k++)
      for (let j = 0; j < 3; j++)
        for (let i = 0; i < 5; i++) expect(g[(k * 3 + j) * 5 + i]).toBe(g[((3 - k) * 3 + (2 - j)) * 5 + (4 - i)]);
    expect(Math.min(...g)).toBeGreaterThan(0);
  });
});

describe('sliding-window inference with a tiny ONNX model', () => {
  it('stitching reproduces a whole-volume run exactly for a pointwise model (odd sizes, padding, batches)', async () => {
    const session = await open(pointwise);
    const v = randomVolume([23, 17, 13], 2, 1);
    const whole = await wholeRun(session, v);
    for (const [patch, batchSize, overlap] of [
      [[8, 8, 8], 1, 0.5],
      [[10, 6, 16], 3, 0.25], // patch larger than the volume along k (padded)
      [[23, 17, 13], 1, 0.5], // one patch
      [[5, 7, 4], 4, 0.6],
    ] as [[number, number, number], number, number][]) {
      const r = await slidingWindowInference(session, v, { patchSize: patch, batchSize, overlap, returnLogits: true });
      expect(r.channels).toBe(3);
      expect(maxAbsDiff(r.logits!, whole)).toBeLessThan(1e-5);
      // labels are the arg-max of the whole-volume output
      const n = 23 * 17 * 13;
      for (let p = 0; p < n; p++) {
        const o = [whole[p]!, whole[n + p]!, whole[2 * n + p]!];
        const best = o.indexOf(Math.max(...o));
        const sorted = [...o].sort((a, b) => b - a);
        if (sorted[0]! - sorted[1]! > 1e-4) expect(r.labels[p]).toBe(best);
      }
    }
  });

  it('stitching a 3x1x5 convolution matches the whole-volume run wherever no patch edge cut its receptive field', async () => {
    const rnd = seededRandom(3);
    const spec: Conv3dSpec = {
      inChannels: 1,
      outChannels: 2,
      kernelSize: [3, 1, 5], // (k, j, i): anisotropic, so a transposed axis would show
      weights: Float32Array.from({ length: 2 * 15 }, rnd),
      bias: new Float32Array([0, 0.5]),
    };
    const session = await open(spec);
    const size: Vec3 = [26, 19, 15];
    const v = randomVolume(size, 1, 5);
    const whole = await wholeRun(session, v);
    // the ONNX whole run is itself right: compare with a plain JS convolution
    expect(maxAbsDiff(whole, referenceConv3d(v.data as Float32Array, size, spec))).toBeLessThan(1e-5);
    const patch: [number, number, number] = [12, 9, 7];
    const r = await slidingWindowInference(session, v, { patchSize: patch, overlap: 0.5, returnLogits: true });
    // voxels within half a kernel of an interior patch face may legitimately differ
    const halo = [2, 0, 1];
    const cut = size.map((s, a) => {
      const near = new Uint8Array(s);
      for (const st of patchStarts(s, patch[a]!, 0.5)) {
        for (const face of [st, st + patch[a]! - 1]) {
          if (face === 0 || face === s - 1) continue;
          for (let d = -halo[a]!; d <= halo[a]!; d++) if (face + d >= 0 && face + d < s) near[face + d] = 1;
        }
      }
      return near;
    });
    const n = size[0] * size[1] * size[2];
    const keep = (p: number): boolean => {
      const q = p % n;
      const i = q % size[0];
      const j = Math.floor(q / size[0]) % size[1];
      const k = Math.floor(q / (size[0] * size[1]));
      return !cut[0]![i] && !cut[1]![j] && !cut[2]![k];
    };
    let kept = 0;
    for (let p = 0; p < n; p++) if (keep(p)) kept++;
    expect(kept).toBeGreaterThan(250);
    expect(maxAbsDiff(r.logits!, whole, keep)).toBeLessThan(1e-5);
    // and the comparison can fail: near cut faces the stitched result does differ
    expect(maxAbsDiff(r.logits!, whole)).toBeGreaterThan(1e-3);
  });

  it('mirroring TTA equals the mean over flipped kernels (exact identity)', async () => {
    const rnd = seededRandom(11);
    const kernel = Float32Array.from({ length: 27 }, rnd);
    const flip = (w: Float32Array, bits: number): Float32Array => {
      const o = new Float32Array(27);
      for (let k = 0; k < 3; k++)
        for (let j = 0; j < 3; j++)
          for (let i = 0; i < 3; i++) {
            const s = ((bits & 4 ? 2 - k : k) * 3 + (bits & 2 ? 2 - j : j)) * 3 + (bits & 1 ? 2 - i : i);
            o[(k * 3 + j) * 3 + i] = w[s]!;
          }
      return o;
    };
    const spec = (w: Float32Array): Conv3dSpec => ({
      inChannels: 1,
      outChannels: 1,
      kernelSize: [3, 3, 3],
      weights: w,
    });
    const size: Vec3 = [9, 8, 7];
    const v = randomVolume(size, 1, 13);
    const session = await open(spec(kernel));
    // mirror i and k: mean of the kernel flipped along each subset of {i, k}
    const variants = [0, 1, 4, 5];
    const runs = await Promise.all(variants.map(async (b) => wholeRun(await open(spec(flip(kernel, b))), v)));
    const n = size[0] * size[1] * size[2];
    const expected = new Float32Array(n);
    for (let p = 0; p < n; p++) expected[p] = runs.reduce((s, r) => s + r[p]!, 0) / variants.length;
    const r = await slidingWindowInference(session, v, {
      patchSize: size,
      mirrorAxes: [0, 2],
      activation: 'none',
      returnLogits: true,
    });
    expect(r.runs).toBe(4);
    expect(maxAbsDiff(r.logits!, expected)).toBeLessThan(1e-5);
    // without TTA the result is the plain convolution, which differs
    const plain = await slidingWindowInference(session, v, { patchSize: size, activation: 'none', returnLogits: true });
    expect(maxAbsDiff(plain.logits!, expected)).toBeGreaterThan(1e-2);
  });

  it('gives uint8 probabilities, label values per channel, progress and bounded working memory', async () => {
    const session = await open(pointwise);
    const size: Vec3 = [30, 20, 40];
    const v = randomVolume(size, 2, 21);
    const seen: number[] = [];
    const r = await slidingWindowInference(session, v, {
      patchSize: [16, 16, 8],
      returnProbabilities: true,
      labelValues: [0, 7, 300],
      onProgress: (p) => seen.push(p.done / p.total),
    });
    expect(r.labels).toBeInstanceOf(Uint16Array);
    expect(new Set(r.labels)).toEqual(new Set([0, 7, 300]));
    const n = 30 * 20 * 40;
    for (let p = 0; p < n; p += 97) {
      const s = r.probabilities!.reduce((t, a) => t + a[p]!, 0);
      expect(Math.abs(s - 255)).toBeLessThanOrEqual(2);
    }
    expect(seen.at(-1)).toBe(1);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    // accumulators hold one patch-deep k slab, not the volume: (3 channels + weight) x 30 x 20 x 8 floats + tensors
    expect(r.workingBytes).toBe(4 * 30 * 20 * 8 * 4 + (2 + 3) * 16 * 16 * 8 * 4);
    await expect(
      slidingWindowInference(session, v, { patchSize: [16, 16, 8], memoryBudgetBytes: 100_000 }),
    ).rejects.toThrow(/over the budget/);
  });

  it('single-channel sigmoid models threshold at probability 0.5', async () => {
    const session = await open({
      inChannels: 1,
      outChannels: 1,
      kernelSize: [1, 1, 1],
      weights: new Float32Array([1]),
    });
    const v = randomVolume([6, 5, 4], 1, 2);
    const r = await slidingWindowInference(session, v, {
      patchSize: [4, 4, 4],
      activation: 'sigmoid',
      labelValues: [5],
    });
    for (let p = 0; p < 120; p++) expect(r.labels[p]).toBe(v.data[p]! > 0 ? 5 : 0);
  });

  it('refuses bad options and stops on abort', async () => {
    const session = await open(pointwise);
    const v = randomVolume([8, 8, 8], 2, 1);
    const bad = async (o: object, re: RegExp) =>
      expect(slidingWindowInference(session, v, { patchSize: [4, 4, 4], ...o })).rejects.toThrow(re);
    await bad({ patchSize: [4, 4] }, /3 positive integers/);
    await bad({ overlap: 1 }, /overlap must be in \[0, 1\)/);
    await bad({ batchSize: 0 }, /batch size/);
    await bad({ mirrorAxes: [0, 0] }, /distinct/);
    await bad({ labelValues: [1, 2] }, /3 output channels but 2 label values/);
    await expect(
      slidingWindowInference(session, makeVolume({ grid: v.grid, data: new Int16Array(512), components: 1 }), {
        patchSize: [4, 4, 4],
      }),
    ).rejects.toThrow(/float32/);
    const wrongChannels = randomVolume([8, 8, 8], 1, 1);
    await expect(slidingWindowInference(session, wrongChannels, { patchSize: [4, 4, 4] })).rejects.toThrow(
      /failed to run/,
    );
    const controller = new AbortController();
    controller.abort();
    await expect(
      slidingWindowInference(session, v, { patchSize: [4, 4, 4], signal: controller.signal }),
    ).rejects.toSatisfy((e: unknown) => isS2SError(e) && e.code === 'ABORTED');
  });

  it('refuses a model whose output shape or values are wrong (never a silent wrong answer)', async () => {
    const v = randomVolume([6, 6, 6], 1, 4);
    const fake = (dims: (b: number) => number[], value = 1): InferenceSessionLike => ({
      inputNames: ['input'],
      outputNames: ['logits'],
      run: async (feeds) => {
        const b = feeds.input!.dims[0]!;
        const d = dims(b);
        return { logits: { data: new Float32Array(d.reduce((x, y) => x * y, 1)).fill(value), dims: d } };
      },
      dispose: async () => {},
    });
    await expect(
      slidingWindowInference(
        fake((b) => [b, 2, 4, 4, 3]),
        v,
        { patchSize: [4, 4, 4] },
      ),
    ).rejects.toThrow(/has shape \[1, 2, 4, 4, 3\], expected \[1, C, 4, 4, 4\]/);
    await expect(
      slidingWindowInference(
        fake((b) => [b, 2, 4, 16]),
        v,
        { patchSize: [4, 4, 4] },
      ),
    ).rejects.toThrow(/has shape/);
    await expect(
      slidingWindowInference(
        fake((b) => [b, 2, 4, 4, 4], Number.NaN),
        v,
        { patchSize: [4, 4, 4] },
      ),
    ).rejects.toThrow(/non-finite output \(NaN\)/);
    const ok = await slidingWindowInference(
      fake((b) => [b, 2, 4, 4, 4]),
      v,
      { patchSize: [4, 4, 4], batchSize: 3 },
    );
    // 2 x 2 x 2 patches; batches never span k layers: each layer of 4 patches takes a run of 3 and a run of 1
    expect([ok.patches, ok.runs]).toEqual([8, 4]);
  });
});

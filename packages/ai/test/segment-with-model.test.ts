import { type Grid, isS2SError, type Volume, voxelCount } from '@slice2solid/core';
import { fillHoles, keepLargest, removeIslands } from '@slice2solid/ops';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InferenceSessionLike } from '../src/backend.js';
import { onnxRuntimeNodeBackend } from '../src/node/onnxruntime-node.js';
import {
  postprocessStructures,
  resolveStructures,
  type StructurePostprocess,
  segmentWithModel,
} from '../src/segment-with-model.js';
import { ball, phantom, rasGrid, thresholdCard, thresholdLabel, thresholdOnnx } from './helpers/threshold-model.js';

let session: InferenceSessionLike;
beforeAll(async () => {
  session = await onnxRuntimeNodeBackend({ intraOpNumThreads: 1 }).createSession(thresholdOnnx());
});
afterAll(async () => {
  await session.dispose();
});

const card = thresholdCard();

function expectedLabels(v: Volume): Uint8Array {
  return Uint8Array.from(v.data, (x) => thresholdLabel(x));
}

describe('segmentWithModel', () => {
  it('labels every source voxel as the model does, on a grid that needs reorienting and resampling back', async () => {
    // an LPS grid (the card wants RAS: i and j are flipped) at the model spacing
    const v = phantom(
      {
        ...rasGrid([40, 36, 30]),
        direction: [
          [1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
      },
      (i, j, k) =>
        ball([12, 18, 15], 6)(i, j, k) ?? (i >= 28 && i < 34 && j >= 5 && j < 12 && k > 3 && k < 9 ? 900 : undefined),
    );
    const progress: string[] = [];
    const { labels, report } = await segmentWithModel(v, card, session, {
      onProgress: (p) => progress.push(p.stage),
    });
    expect(labels.grid).toEqual(v.grid);
    expect(Array.from(labels.data)).toEqual(Array.from(expectedLabels(v)));
    expect(labels.segments.map((s) => [s.value, s.name])).toEqual([
      [1, 'ball'],
      [2, 'box'],
    ]);
    expect(labels.segments[0]!.code?.value).toBe('123037004');
    expect(report.executionProvider).toBe('cpu');
    expect(report.modelGrid.size).toEqual([40, 36, 30]);
    expect(report.voxelsInferred).toBe(40 * 36 * 30);
    expect(report.patches).toBe(4 * 4 * 3); // starts 0,8,16,24 | 0,7,13,20 | 0,7,14
    expect(report.stages.map((s) => s.stage)).toEqual([
      'preprocess',
      'inference',
      'back to source grid',
      'postprocess',
    ]);
    expect(report.memoryEstimateBytes).toBeGreaterThan(40 * 36 * 30 * 4);
    expect(report.structures.find((s) => s.name === 'box')!.voxels).toBe(6 * 7 * 5);
    expect(progress).toContain('sliding-window inference');
  });

  it('keeps only the requested structures; unknown names fail and list the available ones', async () => {
    const v = phantom(
      rasGrid([24, 24, 20]),
      (i, j, k) => ball([6, 6, 6], 3)(i, j, k) ?? (i > 14 && j > 14 && k > 10 ? 900 : undefined),
    );
    const { labels, report } = await segmentWithModel(v, card, session, { structures: ['Box'] });
    const want = Uint8Array.from(expectedLabels(v), (x) => (x === 2 ? 2 : 0));
    expect(Array.from(labels.data)).toEqual(Array.from(want));
    expect(labels.segments.map((s) => s.name)).toEqual(['box']);
    expect(report.structures.map((s) => s.name)).toEqual(['box']);

    const err = await segmentWithModel(v, card, session, { structures: ['liver', 'ball'] }).catch((e) => e);
    expect(isS2SError(err)).toBe(true);
    expect(err.message).toContain('"liver"');
    expect(err.message).toContain('ball, box');
    expect(() => resolveStructures(card, [])).toThrow(/no structure/);
  });

  it('postprocesses per structure: small islands, largest piece, holes', async () => {
    // ball 1 (big, hollow: a shell around -50 HU), ball 2 (small, 3 voxels radius), a 1-voxel speck
    const v = phantom(rasGrid([40, 30, 30]), (i, j, k) => {
      const r2 = (i - 12) ** 2 + (j - 15) ** 2 + (k - 15) ** 2;
      if (r2 <= 64 && r2 > 16) return 200; // shell, hole of radius 4 inside
      if ((i - 31) ** 2 + (j - 15) ** 2 + (k - 15) ** 2 <= 9) return 200;
      if (i === 36 && j === 3 && k === 3) return 200;
      return undefined;
    });
    const raw = await segmentWithModel(v, card, session);
    const ballRaw = raw.report.structures.find((s) => s.name === 'ball')!;
    const big = count(v, (i, j, k) => {
      const r2 = (i - 12) ** 2 + (j - 15) ** 2 + (k - 15) ** 2;
      return r2 <= 64 && r2 > 16;
    });
    const small = count(v, (i, j, k) => (i - 31) ** 2 + (j - 15) ** 2 + (k - 15) ** 2 <= 9);
    const hole = count(v, (i, j, k) => (i - 12) ** 2 + (j - 15) ** 2 + (k - 15) ** 2 <= 16);
    expect(ballRaw.voxels).toBe(big + small + 1);

    const vox = 1.5 ** 3;
    const islands = await segmentWithModel(v, card, session, { postprocess: { minIslandMm3: 2 * vox } });
    expect(islands.report.structures[0]!.voxels).toBe(big + small);
    const largest = await segmentWithModel(v, card, session, { postprocess: { keepLargest: true } });
    expect(largest.report.structures[0]!.voxels).toBe(big);
    const filled = await segmentWithModel(v, card, session, {
      postprocessByStructure: { ball: { keepLargest: true, fillHoles: true } },
    });
    expect(filled.report.structures[0]!.voxels).toBe(big + hole);
    expect(filled.report.structures[0]!.steps).toEqual(['kept the largest piece', 'filled holes']);
    await expect(segmentWithModel(v, card, session, { postprocess: { minIslandMm3: -1 } })).rejects.toThrow(
      /minIslandMm3/,
    );
  });

  it("postprocessStructures works on each structure's box with the whole-grid result (border, holes, islands, neighbours)", () => {
    const grid = rasGrid([30, 26, 22]);
    const [nx, ny, nz] = grid.size;
    const make = () => {
      const d = new Uint8Array(voxelCount(grid));
      let p = 0;
      for (let k = 0; k < nz; k++)
        for (let j = 0; j < ny; j++)
          for (let i = 0; i < nx; i++, p++) {
            const r2 = (i - 8) ** 2 + (j - 12) ** 2 + (k - 10) ** 2;
            if (r2 <= 49 && r2 > 9) d[p] = 1; // a shell touching nothing, hole of radius 3
            if (i >= 20 && j <= 6 && k <= 8) d[p] = 1; // a block in the corner (touches three faces)
            if (i >= 22 && i <= 24 && j >= 2 && j <= 4 && k >= 2 && k <= 4) d[p] = 0; // hole open to nothing
            if (i === 27 && j === 20 && k === 20) d[p] = 1; // a speck
            if (r2 <= 1) d[p] = 2; // structure 2 inside the shell's hole
            if (i >= 12 && i <= 18 && j >= 15 && j <= 21 && k >= 3 && k <= 19 && !(i === 15 && j === 18)) d[p] = 2; // a tube, open along k
          }
      return d;
    };
    const structures = [
      { value: 1, name: 'ball' },
      { value: 2, name: 'box' },
    ];
    const cases: [StructurePostprocess, Record<string, StructurePostprocess>][] = [
      [{ fillHoles: true }, {}],
      [{ fillHoles: 'slice' }, {}],
      [{ keepLargest: true, connectivity: 6 }, { box: { fillHoles: 'slice', minIslandMm3: 10 } }],
      [{ minIslandMm3: 4, fillHoles: true, connectivity: 18 }, {}],
      [{}, { ball: { keepLargest: true } }],
    ];
    let changed = 0;
    for (const [base, by] of cases) {
      const want = make();
      const wantReport = referencePostprocess(want, grid, structures, base, by);
      if (wantReport.some(([before, after]) => before !== after)) changed++;
      const got = make();
      const report = postprocessStructures(got, grid, structures, base, new Map(Object.entries(by)));
      expect(Array.from(got), JSON.stringify([base, by])).toEqual(Array.from(want));
      expect(report.map((r) => [r.voxelsBefore, r.voxels, r.steps])).toEqual(wantReport);
      // a region holding every labelled voxel gives the same
      const again = make();
      postprocessStructures(
        again,
        grid,
        structures,
        base,
        new Map(Object.entries(by)),
        {},
        { start: [1, 0, 0], end: [nx, ny, 21] },
      );
      expect(Array.from(again)).toEqual(Array.from(want));
    }
    expect(changed).toBe(cases.length);
  });

  it('maps uint8 probabilities back when asked (same labels for a model on the source grid)', async () => {
    const v = phantom(rasGrid([24, 20, 18]), ball([10, 10, 9], 5));
    const a = await segmentWithModel(v, card, session, { backToSource: 'probabilities' });
    expect(Array.from(a.labels.data)).toEqual(Array.from(expectedLabels(v)));
  });

  it('stops when the signal is aborted', async () => {
    const v = phantom(rasGrid([24, 20, 18]), ball([10, 10, 9], 5));
    const ac = new AbortController();
    ac.abort();
    await expect(segmentWithModel(v, card, session, { signal: ac.signal })).rejects.toThrow(/cancelled/);
  });
});

/** The per-structure step as it was: whole-grid masks and whole-grid ops. */
function referencePostprocess(
  data: Uint8Array,
  grid: Grid,
  structures: { value: number; name: string }[],
  base: StructurePostprocess,
  by: Record<string, StructurePostprocess>,
): [number, number, string[]][] {
  return structures.map((l) => {
    const post = {
      minIslandMm3: 0,
      keepLargest: false,
      fillHoles: false,
      connectivity: 26,
      ...(by[l.name] ?? base),
    } as const;
    const mask = Uint8Array.from(data, (v) => (v === l.value ? 1 : 0));
    let before = 0;
    for (const x of mask) before += x;
    let m: Uint8Array = mask;
    const steps: string[] = [];
    if (before > 0) {
      if (post.minIslandMm3 > 0) {
        m = removeIslands(m, grid, { minVolumeMm3: post.minIslandMm3, connectivity: post.connectivity });
        steps.push(`removed pieces under ${post.minIslandMm3} mm³`);
      }
      if (post.keepLargest) {
        m = keepLargest(m, grid, { connectivity: post.connectivity });
        steps.push('kept the largest piece');
      }
      if (post.fillHoles) {
        m = fillHoles(m, grid, { mode: post.fillHoles === 'slice' ? 'slice' : '3d' });
        steps.push(post.fillHoles === 'slice' ? 'filled holes per slice' : 'filled holes');
      }
      for (let p = 0; p < data.length; p++) {
        if (mask[p] === 1 && m[p] === 0) data[p] = 0;
        else if (m[p] === 1 && data[p] === 0) data[p] = l.value;
      }
    }
    let after = 0;
    for (const x of data) if (x === l.value) after++;
    return [before, after, steps];
  });
}

function count(v: Volume, inside: (i: number, j: number, k: number) => boolean): number {
  const [nx, ny, nz] = v.grid.size;
  let n = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (inside(i, j, k)) n++;
  return n;
}

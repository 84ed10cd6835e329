import { describe, expect, it } from 'vitest';
import { parseSplits, seededRandom, splitCases, splitCounts, splitOf } from '../../src/train/splits.js';

/** A random dataset: nPatients patients with 1..3 cases each, ids in random order. */
function randomDataset(rnd: () => number, nPatients: number) {
  const cases: { id: string; patient: string }[] = [];
  for (let p = 0; p < nPatients; p++) {
    const k = 1 + Math.floor(rnd() * 3);
    for (let c = 0; c < k; c++) cases.push({ id: `p${p}c${c}`, patient: `P${p}` });
  }
  return cases.sort(() => rnd() - 0.5);
}

describe('splitCases', () => {
  it('never puts one patient on two sides and covers every case once (200 random datasets)', () => {
    const rnd = seededRandom(42);
    for (let t = 0; t < 200; t++) {
      const n = 2 + Math.floor(rnd() * 30);
      const cases = randomDataset(rnd, n);
      const s = splitCases(cases, { seed: t });
      const side = new Map<string, string>();
      for (const c of cases) {
        const where = splitOf(s, c.id);
        const before = side.get(c.patient);
        if (before !== undefined) expect(where).toBe(before);
        side.set(c.patient, where);
      }
      expect(s.train.length + s.val.length + s.test.length).toBe(cases.length);
      expect(new Set([...s.train, ...s.val, ...s.test]).size).toBe(cases.length);
      expect(s.patients.train.length).toBeGreaterThanOrEqual(1);
      expect(s.patients.val.length).toBeGreaterThanOrEqual(1);
      if (n >= 3) expect(s.patients.test.length).toBeGreaterThanOrEqual(1);
      else expect(s.patients.test.length).toBe(0);
    }
  });

  it('is deterministic for a seed, whatever the input order, and differs between seeds', () => {
    const rnd = seededRandom(7);
    const cases = randomDataset(rnd, 20);
    const a = splitCases(cases, { seed: 3 });
    const b = splitCases([...cases].reverse(), { seed: 3 });
    expect(b).toEqual(a);
    const others = [4, 5, 6, 7].map((seed) => splitCases(cases, { seed }).test.join());
    expect(others.some((t) => t !== a.test.join())).toBe(true);
  });

  it('follows the fractions by patient', () => {
    const cases = Array.from({ length: 100 }, (_, n) => ({ id: `c${n}`, patient: `p${n}` }));
    const s = splitCases(cases);
    expect([s.train.length, s.val.length, s.test.length]).toEqual([70, 15, 15]);
    const t = splitCases(cases, { fractions: [8, 1, 1] });
    expect([t.train.length, t.val.length, t.test.length]).toEqual([80, 10, 10]);
  });

  it('applies the small-dataset rules', () => {
    expect(splitCounts(2, [0.7, 0.15, 0.15])).toEqual([1, 1, 0]);
    expect(splitCounts(3, [0.7, 0.15, 0.15])).toEqual([1, 1, 1]);
    expect(splitCounts(5, [0.7, 0.15, 0.15])).toEqual([3, 1, 1]);
    expect(splitCounts(10, [0.8, 0.2, 0])).toEqual([8, 2, 0]);
    expect(() => splitCounts(1, [0.7, 0.15, 0.15])).toThrow(/at least 2/);
    expect(() => splitCounts(5, [0, 0.5, 0.5])).toThrow(/train > 0/);
    const s = splitCases(
      [
        { id: 'a', patient: 'x' },
        { id: 'b', patient: 'y' },
      ],
      {},
    );
    expect(s.warnings.join()).toMatch(/no test split/);
  });

  it('k-fold: every non-test patient is in exactly one validation fold; the test split is the same in every fold', () => {
    const rnd = seededRandom(11);
    for (let t = 0; t < 50; t++) {
      const k = 2 + Math.floor(rnd() * 4);
      const cases = randomDataset(rnd, k + 2 + Math.floor(rnd() * 20));
      const folds = Array.from({ length: k }, (_, fold) => splitCases(cases, { seed: t, kfold: k, fold }));
      const test = folds[0]!.test.join();
      const count = new Map<string, number>();
      for (const f of folds) {
        expect(f.test.join()).toBe(test);
        for (const p of f.patients.val) count.set(p, (count.get(p) ?? 0) + 1);
        for (const p of f.patients.val) expect(f.patients.train).not.toContain(p);
        expect(f.kfold).toEqual({ k, fold: folds.indexOf(f) });
      }
      const nonTest = new Set(cases.map((c) => c.patient));
      for (const p of folds[0]!.patients.test) nonTest.delete(p);
      expect([...count.keys()].sort()).toEqual([...nonTest].sort());
      expect([...count.values()].every((v) => v === 1)).toBe(true);
    }
    expect(() =>
      splitCases(
        [
          { id: 'a', patient: 'a' },
          { id: 'b', patient: 'b' },
        ],
        { kfold: 5 },
      ),
    ).toThrow(/cannot fill 5 folds/);
  });

  it('parseSplits reads back what was saved and refuses a changed dataset', () => {
    const cases = Array.from({ length: 6 }, (_, n) => ({ id: `c${n}`, patient: `p${n}` }));
    const s = splitCases(cases, { seed: 9 });
    expect(parseSplits(JSON.stringify(s), cases)).toEqual(s);
    expect(() => parseSplits(JSON.stringify(s), [...cases, { id: 'new', patient: 'q' }])).toThrow(/no longer matches/);
  });
});

describe('splitCases with splits fixed by the dataset', () => {
  const fixed = [
    { id: 'a1', patient: 'A', split: 'train' },
    { id: 'a2', patient: 'A', split: 'train' },
    { id: 'b', patient: 'B', split: 'test' },
    { id: 'c', patient: 'C', split: 'val' },
  ] as const;

  it('keeps the dataset split, whatever the seed', () => {
    for (const seed of [1, 2, 99]) {
      const s = splitCases(fixed, { seed });
      expect([s.train, s.val, s.test]).toEqual([['a1', 'a2'], ['c'], ['b']]);
      expect(s.patients).toEqual({ train: ['A'], val: ['C'], test: ['B'] });
    }
  });

  it('refuses a patient on two sides, a partly fixed dataset, no training case and k-fold', () => {
    expect(() => splitCases([...fixed, { id: 'a3', patient: 'A', split: 'test' }])).toThrow(
      /patient "A" has cases in both the train and the test split/,
    );
    expect(() => splitCases([...fixed, { id: 'd', patient: 'D' }])).toThrow(/1 do not/);
    expect(() => splitCases([{ id: 'x', patient: 'X', split: 'val' }])).toThrow(/no case in train/);
    expect(() => splitCases(fixed, { kfold: 2 })).toThrow(/--kfold cannot be used/);
  });
});

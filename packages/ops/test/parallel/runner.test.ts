import { S2SError } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { type ParallelRunner, serialRunner, splitRange } from '../../src/parallel/runner.js';

const fake = (threads: number): ParallelRunner => ({ ...serialRunner, threads });

describe('splitRange', () => {
  it.each([
    [10, 1, 1],
    [10, 2, 8],
    [3, 4, 3],
    [300, 2, 8],
    [1, 8, 1],
  ])('[0, %i) over %i threads: %i contiguous ranges covering every index once', (n, threads, parts) => {
    const ranges = splitRange(n, fake(threads));
    expect(ranges.length).toBe(parts);
    let next = 0;
    for (const [s, e] of ranges) {
      expect(s).toBe(next);
      expect(e).toBeGreaterThan(s);
      next = e;
    }
    expect(next).toBe(n);
  });
  it('no runner: one range; empty: none; minSize honoured', () => {
    expect(splitRange(7, undefined)).toEqual([[0, 7]]);
    expect(splitRange(0, fake(4))).toEqual([]);
    for (const [s, e] of splitRange(20, fake(4), 4, 5)) expect(e - s).toBeGreaterThanOrEqual(5);
  });
});

describe('serialRunner', () => {
  it('runs a registered kernel on every range and refuses an unknown name', () => {
    const counter = new Int32Array(1);
    serialRunner.runSlabs('runner.rendezvous', { counter, expected: 1, timeoutMs: 1000 }, [[0, 1]]);
    expect(counter[0]).toBe(1);
    expect(() => serialRunner.runSlabs('no.such.kernel' as 'runner.rendezvous', {}, [[0, 1]])).toThrow(S2SError);
  });
});

import { describe, expect, it } from 'vitest';
import { LabelHistory } from '../src/app/history.js';

describe('LabelHistory', () => {
  it('undoes and redoes whole-volume steps and in-place patches in order', () => {
    const h = new LabelHistory();
    const a = new Uint8Array([0, 0, 0, 0]);
    const b = new Uint8Array([1, 1, 0, 0]); // a threshold made a new array
    h.push({ kind: 'full', label: 'threshold', before: a, after: b });
    let cur: Uint8Array = b;
    cur[3] = 2; // a brush stroke on the current array
    h.push({
      kind: 'patch',
      label: 'brush',
      index: Uint32Array.of(3),
      before: Uint8Array.of(0),
      after: Uint8Array.of(2),
    });
    expect(h.undoLabel).toBe('brush');
    cur = h.undo(cur);
    expect([...cur]).toEqual([1, 1, 0, 0]);
    cur = h.undo(cur);
    expect(cur).toBe(a);
    expect([...cur]).toEqual([0, 0, 0, 0]);
    expect(h.canUndo).toBe(false);
    cur = h.redo(cur);
    expect(cur).toBe(b);
    cur = h.redo(cur);
    expect([...cur]).toEqual([1, 1, 0, 2]);
    expect(h.canRedo).toBe(false);
  });

  it('a new step after undo drops the redo branch', () => {
    const h = new LabelHistory();
    const a = new Uint8Array(2);
    const b = Uint8Array.of(1, 0);
    const c = Uint8Array.of(0, 1);
    h.push({ kind: 'full', label: 'one', before: a, after: b });
    h.undo(b);
    h.push({ kind: 'full', label: 'two', before: a, after: c });
    expect(h.canRedo).toBe(false);
    expect(h.size).toBe(1);
    expect(h.undo(c)).toBe(a);
  });

  it('keeps within its memory budget by dropping the oldest steps', () => {
    const h = new LabelHistory(2500, 50);
    let cur: Uint8Array = new Uint8Array(1000);
    for (let n = 0; n < 5; n++) {
      const next = new Uint8Array(1000).fill(n + 1);
      h.push({ kind: 'full', label: `s${n}`, before: cur, after: next });
      cur = next;
    }
    expect(h.size).toBe(2); // 2 x 1000 bytes fit in 2500, 3 do not
    cur = h.undo(cur);
    cur = h.undo(cur);
    expect(cur[0]).toBe(3); // back to the state after step s2, not further
    expect(h.canUndo).toBe(false);
  });
});

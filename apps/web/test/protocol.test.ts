import { S2SError } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import { errorInfo } from '../src/workers/protocol.js';

describe('errorInfo (worker errors as plain data for the page)', () => {
  it('keeps an S2SError code, message and hint', () => {
    const e = new S2SError('TRUNCATED_FILE', 'the file ends early', { hint: 'copy it again' });
    expect(errorInfo(e)).toEqual({ code: 'TRUNCATED_FILE', message: e.message, hint: 'copy it again' });
    // structured clone turns an error into a plain object: it still works
    expect(errorInfo(structuredClone({ code: e.code, message: e.message, hint: e.hint }))).toMatchObject({
      code: 'TRUNCATED_FILE',
    });
  });

  it('names an allocation failure as out of memory, with what to do', () => {
    const info = errorInfo(new RangeError('Array buffer allocation failed'));
    expect(info.code).toBe('OUT_OF_MEMORY');
    expect(info.hint).toMatch(/command-line/);
  });

  it('anything else is INTERNAL with its message', () => {
    expect(errorInfo(new TypeError('x is not a function'))).toEqual({
      code: 'INTERNAL',
      message: 'x is not a function',
    });
    expect(errorInfo('plain string')).toEqual({ code: 'INTERNAL', message: 'plain string' });
  });
});

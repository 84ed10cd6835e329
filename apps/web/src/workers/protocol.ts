/**
 * Messages between the page and its workers. Every request has an id; the worker answers with
 * any number of 'progress' messages and then one 'done' or 'error'. Big typed arrays travel as
 * transferables (moved, not copied).
 */
import type { Progress } from '@slice2solid/core';

export interface Request {
  readonly id: number;
  readonly op: string;
  readonly payload: unknown;
}

export interface ErrorInfo {
  readonly code: string;
  readonly message: string;
  readonly hint?: string | undefined;
}

export type Reply =
  | { readonly id: number; readonly type: 'progress'; readonly progress: Progress }
  | { readonly id: number; readonly type: 'done'; readonly result: unknown }
  | { readonly id: number; readonly type: 'error'; readonly error: ErrorInfo };

/** An error as plain data (S2SError code, message and hint survive; anything else is INTERNAL). */
export function errorInfo(e: unknown): ErrorInfo {
  if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    const x = e as { code: unknown; message: unknown; hint?: unknown };
    return {
      code: String(x.code),
      message: String(x.message),
      hint: typeof x.hint === 'string' ? x.hint : undefined,
    };
  }
  if (e instanceof RangeError && /allocation|memory|Array buffer/i.test(e.message)) {
    return {
      code: 'OUT_OF_MEMORY',
      message: `the browser ran out of memory (${e.message})`,
      hint: 'close other tabs, or use the command-line tool for very large scans',
    };
  }
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

/**
 * The one error class of slice2solid. Every error has a stable `code` (for programs),
 * a message that says what was wrong, and a `hint` that says what to do about it.
 * Messages must never contain patient identifiers (names, IDs, dates, UIDs).
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'UNSUPPORTED_FORMAT'
  | 'MALFORMED_FILE'
  | 'TRUNCATED_FILE'
  | 'UNSUPPORTED_TRANSFER_SYNTAX'
  | 'DECODE_FAILED'
  | 'NO_PIXEL_DATA'
  | 'MISSING_GEOMETRY'
  | 'INCONSISTENT_SERIES'
  | 'NO_SERIES'
  | 'SERIES_NOT_FOUND'
  | 'GEOMETRY_MISMATCH'
  | 'ABORTED'
  | 'IO_ERROR'
  | 'NOT_IMPLEMENTED'
  /** The PyTorch trainer cannot run here (no Python with torch). */
  | 'TRAINER_UNAVAILABLE'
  /** The trainer ran and failed. */
  | 'TRAINER_FAILED';

export interface S2SErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  /** The file (path or name) the problem was found in, if any. */
  file?: string;
  cause?: unknown;
}

export class S2SError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly file: string | undefined;

  constructor(code: ErrorCode, message: string, options: S2SErrorOptions = {}) {
    const where = options.file ? `${options.file}: ` : '';
    const hint = options.hint ? ` (${options.hint})` : '';
    super(`${where}${message}${hint}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'S2SError';
    this.code = code;
    this.hint = options.hint;
    this.file = options.file;
  }

  /** A copy of this error that names the file it came from (used by loaders that see paths). */
  withFile(file: string): S2SError {
    if (this.file) return this;
    const bare = this.message.replace(this.hint ? ` (${this.hint})` : '', '');
    return new S2SError(this.code, bare, { hint: this.hint, file, cause: this.cause });
  }
}

export function isS2SError(e: unknown): e is S2SError {
  return e instanceof S2SError;
}

/** Throws an S2SError with code INVALID_ARGUMENT unless `condition` holds. */
export function check(condition: unknown, message: string, hint?: string): asserts condition {
  if (!condition) throw new S2SError('INVALID_ARGUMENT', message, hint === undefined ? {} : { hint });
}

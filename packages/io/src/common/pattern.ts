import { S2SError } from '@slice2solid/core';

/**
 * Expands a printf-style file-name pattern with one integer conversion (%d, %i, %u, optionally
 * zero-padded / with a width: %03d) over min..max (inclusive) in steps of `step` (may be negative).
 * Used by NRRD `data file: name.%d 1 93 1` and MetaImage `ElementDataFile = f%03d.raw 1 9 1`.
 */
export function expandFilePattern(fmt: string, minS: string, maxS: string, stepS: string, what: string): string[] {
  const bad = (m: string) =>
    new S2SError('MALFORMED_FILE', `${what}: ${m}`, { hint: 'fix the file-name pattern in the header' });
  const min = Number(minS);
  const max = Number(maxS);
  const step = Number(stepS);
  if (![min, max, step].every(Number.isInteger) || step === 0 || Math.sign(max - min) * Math.sign(step) < 0) {
    throw bad(`bad pattern range ${minS} ${maxS} ${stepS}`);
  }
  const count = Math.floor((max - min) / step) + 1;
  if (count > 1_000_000) throw bad(`the pattern names ${count} files`);
  const m = /%(0?)(\d*)([diu])/.exec(fmt);
  if (!m) throw bad(`the pattern "${fmt}" has no %d`);
  const zero = m[1] === '0';
  const width = m[2] ? Number(m[2]) : 0;
  const out: string[] = [];
  for (let i = 0, v = min; i < count; i++, v += step) {
    const digits = String(Math.abs(v));
    const sign = v < 0 ? '-' : '';
    const s = zero ? sign + digits.padStart(width - sign.length, '0') : (sign + digits).padStart(width, ' ');
    out.push(fmt.slice(0, m.index) + s + fmt.slice(m.index + m[0].length));
  }
  return out;
}

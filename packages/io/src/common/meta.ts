/**
 * Warnings travel on `volume.meta.warnings` as one string, one warning per line, so that they
 * survive every operation that copies meta. Use `volumeWarnings` to read them back as a list.
 */
import type { Volume } from '@slice2solid/core';

export const WARNINGS_KEY = 'warnings';

/** The warnings a reader attached to a volume (empty if none). */
export function volumeWarnings(volume: Pick<Volume, 'meta'>): string[] {
  const w = volume.meta?.[WARNINGS_KEY];
  return typeof w === 'string' && w.length > 0 ? w.split('\n') : [];
}

/** A meta object with the warnings added (unchanged if there are none). */
export function withWarnings(
  meta: Record<string, string | number | boolean>,
  warnings: readonly string[],
): Record<string, string | number | boolean> {
  if (warnings.length === 0) return meta;
  const prev = meta[WARNINGS_KEY];
  const all = [...(typeof prev === 'string' && prev ? prev.split('\n') : []), ...warnings];
  return { ...meta, [WARNINGS_KEY]: all.join('\n') };
}

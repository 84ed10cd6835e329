/**
 * Picks the series a user most likely means, or the one they asked for.
 */
import { S2SError } from '@slice2solid/core';
import type { SeriesGroup } from './group.js';

/** SOP classes / modalities that are not images to build a model from. */
const NON_IMAGE_MODALITIES = new Set(['SEG', 'SR', 'RTSTRUCT', 'RTPLAN', 'RTDOSE', 'PR', 'KO', 'REG', 'DOC', 'RWV']);
const SEG_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.4';
const PREFERRED_MODALITIES = new Set(['CT', 'MR', 'PT', 'NM', 'CBCT', 'XA', 'US']);

export interface SeriesChoice {
  readonly group: SeriesGroup;
  readonly reason: string;
}

/** Why a series is ranked where it is; higher is better. */
export function seriesScore(g: SeriesGroup): { score: number; notes: string[] } {
  const s = g.summary;
  const notes: string[] = [];
  const first = g.images[0]!;
  const modality = (s.modality ?? '').toUpperCase();
  const type = (s.imageType ?? '').toUpperCase();
  let score = 0;
  const nonImage = NON_IMAGE_MODALITIES.has(modality) || first.file.sopClassUID === SEG_SOP_CLASS;
  if (!nonImage) score += 1e12;
  else notes.push(`${modality || 'segmentation'} object`);
  if (g.layout instanceof S2SError) notes.push('cannot be assembled');
  else score += 1e11;
  if (PREFERRED_MODALITIES.has(modality)) score += 1e10;
  const localizer = /LOCALIZER|SCOUT|SURVEY/.test(type);
  if (!localizer) score += 1e9;
  else notes.push('localizer');
  const derived = /\bDERIVED\b|SECONDARY/.test(type);
  if (!derived) score += 1e8;
  else notes.push('derived');
  if (s.size[2] >= 3) score += 1e7;
  else notes.push(`${s.size[2]} slice(s)`);
  // then the most slices, then the most images
  score += Math.min(s.size[2], 9999) * 1e3 + Math.min(s.images, 999);
  return { score, notes };
}

/** Resolves `series` (id, UID, SeriesNumber or list index) or ranks the candidates. */
export function chooseSeries(groups: readonly SeriesGroup[], series?: string | number): SeriesChoice {
  if (groups.length === 0) {
    throw new S2SError('NO_SERIES', 'no DICOM images with pixel data were found', {
      hint: 'check that the folder holds DICOM image files (not only DICOMDIR, reports or structured reports)',
    });
  }
  const list = () =>
    groups
      .map(
        (g) =>
          `${g.summary.index}: #${g.summary.number ?? '?'} ${g.summary.description ?? ''} ${g.summary.size.join('x')}`,
      )
      .join('; ');
  if (series !== undefined && String(series).trim() !== '') {
    const want = String(series).trim();
    const byId = groups.filter((g) => g.summary.id === want);
    if (byId.length === 1) return { group: byId[0]!, reason: 'chosen by series id' };
    const byUid = groups.filter((g) => g.summary.uid === want);
    if (byUid.length >= 1) {
      const best = rank(byUid)[0]!;
      return {
        group: best,
        reason:
          byUid.length > 1
            ? `chosen by series UID (best of ${byUid.length} parts of that UID)`
            : 'chosen by series UID',
      };
    }
    if (/^-?\d+$/.test(want)) {
      const n = Number(want);
      const byNumber = groups.filter((g) => g.summary.number === n);
      if (byNumber.length >= 1) {
        const best = rank(byNumber)[0]!;
        return {
          group: best,
          reason:
            byNumber.length > 1
              ? `chosen by series number ${n} (best of ${byNumber.length} series with that number)`
              : `chosen by series number ${n}`,
        };
      }
      const byIndex = groups[n];
      if (byIndex && n >= 0) return { group: byIndex, reason: `chosen by list index ${n}` };
    }
    throw new S2SError('SERIES_NOT_FOUND', `no series matches "${want}"`, {
      hint: `give a series number, a list index or a series UID; available: ${list()}`,
    });
  }
  if (groups.length === 1) return { group: groups[0]!, reason: 'the only series' };
  const ranked = rank(groups);
  const best = ranked[0]!;
  const { notes } = seriesScore(best);
  const s = best.summary;
  const why = [
    `${s.size[2]} slices`,
    s.frames > 1 ? `${s.frames} volumes` : '',
    s.modality ?? '',
    notes.length ? notes.join(', ') : 'original image',
  ]
    .filter(Boolean)
    .join(', ');
  return {
    group: best,
    reason: `chosen automatically among ${groups.length} series: the largest loadable image series (${why})`,
  };
}

function rank(groups: readonly SeriesGroup[]): SeriesGroup[] {
  return [...groups].sort((a, b) => seriesScore(b).score - seriesScore(a).score || a.summary.index - b.summary.index);
}

/**
 * The geometry report printed by `info` and `demo`: what was found, what was loaded, and where
 * every voxel is in the world. The same facts as text (for people) or JSON (for programs).
 *
 * No patient identifiers: no names, IDs, dates, UIDs, series descriptions or folder paths; series
 * are shown by SeriesNumber, modality and sizes only.
 */
import {
  directionSkew,
  isLeftHanded,
  orientationCode,
  type Vec3,
  valueRange,
  voxelTypeOf,
  worldBounds,
} from '@slice2solid/core';
import type { LoadedInput } from './input.js';

export interface GeometryReport {
  readonly input: {
    readonly kind: string;
    readonly container: string;
    readonly files: number;
    readonly skipped: number;
  };
  readonly series?: readonly {
    readonly index: number;
    readonly number: number | null;
    readonly modality: string | null;
    readonly size: Vec3;
    readonly frames: number;
    readonly files: number;
    readonly images: number;
    readonly orientation: string;
    readonly lossy: boolean;
    readonly split: string | null;
    readonly chosen: boolean;
  }[];
  readonly chosenBecause?: string;
  readonly size: Vec3;
  readonly frames: number;
  readonly components: number;
  readonly spacing: Vec3;
  readonly origin: Vec3;
  /** direction[a] = LPS unit vector of index axis a. */
  readonly direction: readonly [Vec3, Vec3, Vec3];
  readonly orientation: string;
  readonly handedness: 'right' | 'left';
  readonly obliqueDegrees: number;
  readonly skew: number;
  /** LPS bounding box of the voxel centres. */
  readonly bounds: { readonly min: Vec3; readonly max: Vec3 };
  readonly geometry: string;
  readonly tiltDegrees?: number;
  readonly sliceGaps?: readonly number[];
  readonly intensity: { readonly min: number; readonly max: number; readonly units: string; readonly dataType: string };
  readonly rescale?: { readonly slope: number; readonly intercept: number } | 'per-frame';
  readonly warnings: readonly string[];
  readonly skippedFiles: readonly { readonly name: string; readonly reason: string }[];
}

/** Largest angle (degrees) between an index axis and the world axis it is closest to. */
function obliqueness(direction: readonly [Vec3, Vec3, Vec3]): number {
  let worst = 0;
  for (const d of direction) {
    const m = Math.max(Math.abs(d[0]), Math.abs(d[1]), Math.abs(d[2]));
    worst = Math.max(worst, (Math.acos(Math.min(1, m)) * 180) / Math.PI);
  }
  return worst;
}

export function geometryReport(input: LoadedInput): GeometryReport {
  const v = input.volume;
  const g = v.grid;
  const [lo, hi] = worldBounds(g);
  const d = input.dicom;
  // the DICOM loader already measured the range: do not scan the voxels a second time
  const range = d ? d.report.intensityRange : valueRange(v.data);
  const chosenIndex = d?.report.series.index;
  return {
    input: { kind: input.kind, container: input.container, files: input.fileCount, skipped: input.skipped.length },
    ...(d
      ? {
          series: d.series.map((s) => ({
            index: s.index,
            number: s.number ?? null,
            modality: s.modality ?? null,
            size: s.size,
            frames: s.frames,
            files: s.files,
            images: s.images,
            orientation: s.orientation,
            lossy: s.lossy,
            split: s.split ?? null,
            chosen: s.index === chosenIndex,
          })),
          chosenBecause: d.report.reason,
        }
      : {}),
    size: g.size,
    frames: v.frames,
    components: v.components,
    spacing: g.spacing,
    origin: g.origin,
    direction: g.direction,
    orientation: orientationCode(g),
    handedness: isLeftHanded(g) ? 'left' : 'right',
    obliqueDegrees: round(obliqueness(g.direction), 4),
    skew: round(directionSkew(g), 6),
    bounds: { min: lo, max: hi },
    geometry: d ? d.report.geometry : 'exact',
    ...(d ? { tiltDegrees: round(d.report.tiltDegrees, 4), sliceGaps: d.report.sliceGaps } : {}),
    intensity: {
      min: Number.isFinite(range[0]) ? range[0] : 0,
      max: Number.isFinite(range[1]) ? range[1] : 0,
      units: v.units,
      dataType: voxelTypeOf(v.data),
    },
    ...(d ? { rescale: d.report.rescale } : {}),
    warnings: input.warnings,
    skippedFiles: input.skipped,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const num = (x: number, digits = 4): string => {
  const r = round(x, digits);
  return Object.is(r, -0) ? '0' : String(r);
};
const vec = (v: readonly number[], digits = 4): string => v.map((x) => num(x, digits)).join(', ');

export function formatGeometryReport(r: GeometryReport): string {
  const lines: string[] = [];
  const what =
    r.input.kind === 'dicom'
      ? `DICOM ${r.input.container}, ${r.input.files} file(s) read${r.input.skipped ? `, ${r.input.skipped} skipped` : ''}`
      : `${r.input.kind} ${r.input.container}${r.input.files > 1 ? `, ${r.input.files} file(s)` : ''}${r.input.skipped ? `, ${r.input.skipped} skipped` : ''}`;
  lines.push(`Input:        ${what}`);
  if (r.series) {
    lines.push(`Series found: ${r.series.length}`);
    for (const s of r.series) {
      const mark = s.chosen ? '*' : ' ';
      const parts = [
        `#${s.number ?? '?'}`,
        s.modality ?? '?',
        `${s.size.join('x')}${s.frames > 1 ? `x${s.frames}` : ''}`,
        `${s.images} image(s) in ${s.files} file(s)`,
        s.orientation,
      ];
      if (s.lossy) parts.push('lossy');
      if (s.split) parts.push(`split: ${s.split}`);
      lines.push(`  ${mark} [${s.index}] ${parts.join('  ')}`);
    }
    lines.push(`Chosen:       [${r.series.find((s) => s.chosen)?.index ?? '?'}] ${r.chosenBecause ?? ''}`);
  }
  lines.push(
    `Size:         ${r.size.join(' x ')} voxels${r.frames > 1 ? `, ${r.frames} frames` : ''}${r.components > 1 ? `, ${r.components} components` : ''}`,
  );
  lines.push(`Spacing:      ${vec(r.spacing, 6)} mm (i, j, k)`);
  lines.push(
    `Orientation:  ${r.orientation} (${r.handedness}-handed${r.obliqueDegrees > 0.01 ? `, oblique up to ${num(r.obliqueDegrees, 2)} deg` : ''}${r.skew > 1e-4 ? `, axes skewed: max |cos| ${num(r.skew, 4)}` : ''})`,
  );
  lines.push('Direction:    index axis -> LPS unit vector');
  ['i', 'j', 'k'].forEach((a, n) => {
    lines.push(`                ${a}: (${vec(r.direction[n]!, 6)})`);
  });
  lines.push(`Origin:       (${vec(r.origin)}) mm LPS, centre of voxel (0, 0, 0)`);
  lines.push(
    `Extent:       x ${num(r.bounds.min[0], 2)} .. ${num(r.bounds.max[0], 2)}, y ${num(r.bounds.min[1], 2)} .. ${num(r.bounds.max[1], 2)}, z ${num(r.bounds.min[2], 2)} .. ${num(r.bounds.max[2], 2)} mm (voxel centres, LPS)`,
  );
  const geo =
    r.geometry === 'exact'
      ? 'exact (the stored pixels, on a regular grid)'
      : r.geometry === 'regularized'
        ? 'regularized (resampled onto an orthogonal, evenly spaced grid)'
        : 'raw (stored pixels on a sheared / mean-spaced grid)';
  lines.push(`Geometry:     ${geo}`);
  if (r.tiltDegrees !== undefined && r.tiltDegrees > 0) lines.push(`Tilt:         ${num(r.tiltDegrees, 3)} deg`);
  if (r.sliceGaps && r.sliceGaps.length > 1) lines.push(`Slice gaps:   ${r.sliceGaps.join(', ')} mm`);
  lines.push(
    `Intensity:    ${num(r.intensity.min)} .. ${num(r.intensity.max)} ${r.intensity.units === 'arbitrary' ? '(arbitrary units)' : r.intensity.units} (${r.intensity.dataType})`,
  );
  if (r.rescale && r.rescale !== 'per-frame' && (r.rescale.slope !== 1 || r.rescale.intercept !== 0)) {
    lines.push(`Rescale:      slope ${r.rescale.slope}, intercept ${r.rescale.intercept}`);
  } else if (r.rescale === 'per-frame') {
    lines.push('Rescale:      per frame');
  }
  if (r.warnings.length === 0) lines.push('Warnings:     none');
  else {
    lines.push(`Warnings:     ${r.warnings.length}`);
    for (const w of r.warnings) lines.push(`  - ${w}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Checks of a training dataset, case by case (so a large dataset never has to be in memory at
 * once): every (image, labels) pair must share its geometry; labels must mean the same thing in
 * every case; and the class frequencies (voxels and millilitres per label, per case and overall)
 * are reported.
 *
 *   const summaries = cases.map((c) => summarizeCase(c.id, c.patient, c.image, c.labels));
 *   const report = datasetReport(summaries);   // throws on inconsistent labels; warnings for gaps
 */
import { type Grid, type LabelMap, S2SError, type Vec3, type Volume, voxelCount } from '@slice2solid/core';

export interface GeometryCheckOptions {
  /** Largest relative spacing difference accepted. */
  readonly spacingTolerance?: number;
  /** Largest origin distance accepted, as a fraction of the smallest voxel spacing. */
  readonly originToleranceVoxels?: number;
  /** Largest difference accepted between direction cosines. */
  readonly directionTolerance?: number;
}

export const GEOMETRY_CHECK_DEFAULTS = {
  spacingTolerance: 1e-3,
  originToleranceVoxels: 0.1,
  directionTolerance: 1e-3,
} as const satisfies GeometryCheckOptions;

/** What differs between an image's grid and its labels' grid (empty when they agree). */
export function geometryDifferences(image: Grid, labels: Grid, options: GeometryCheckOptions = {}): string[] {
  const o = { ...GEOMETRY_CHECK_DEFAULTS, ...options };
  const out: string[] = [];
  const fmt = (v: readonly number[]) => `[${v.map((x) => +x.toFixed(4)).join(', ')}]`;
  if (image.size.some((n, a) => n !== labels.size[a])) {
    out.push(`size: image ${image.size.join('x')}, labels ${labels.size.join('x')}`);
  }
  if (image.spacing.some((s, a) => Math.abs(s - labels.spacing[a]!) > o.spacingTolerance * s)) {
    out.push(`spacing: image ${fmt(image.spacing)} mm, labels ${fmt(labels.spacing)} mm`);
  }
  const dist = Math.hypot(...image.origin.map((x, a) => x - labels.origin[a]!));
  if (dist > o.originToleranceVoxels * Math.min(...image.spacing)) {
    out.push(`origin: image ${fmt(image.origin)}, labels ${fmt(labels.origin)} (${+dist.toFixed(3)} mm apart)`);
  }
  const dirDiff = Math.max(
    ...image.direction.flatMap((d, a) => d.map((x, r) => Math.abs(x - labels.direction[a]![r]!))),
  );
  if (dirDiff > o.directionTolerance) {
    out.push(`direction: image ${image.direction.map(fmt).join(' ')}, labels ${labels.direction.map(fmt).join(' ')}`);
  }
  return out;
}

/** Throws GEOMETRY_MISMATCH naming the case and what differs, unless image and labels share a grid. */
export function checkCaseGeometry(id: string, image: Grid, labels: Grid, options: GeometryCheckOptions = {}): void {
  const diffs = geometryDifferences(image, labels, options);
  if (diffs.length === 0) return;
  const flipped =
    diffs.length === 1 && diffs[0]!.startsWith('direction') ? ' (the labels may be stored flipped or transposed)' : '';
  throw new S2SError(
    'GEOMETRY_MISMATCH',
    `case "${id}": the image and its labels differ in ${diffs.join('; ')}${flipped}`,
    {
      hint: 'export the labels on the image grid (in 3D Slicer: Export to files with the scan as reference geometry; in ITK-SNAP: save the segmentation of that image), or check that the two files belong together',
    },
  );
}

export interface LabelFrequency {
  readonly value: number;
  readonly name: string;
  readonly voxels: number;
  /** Volume in millilitres. */
  readonly ml: number;
  /** Colour from the case's segment table, when it has one. */
  readonly color?: Vec3;
}

export interface CaseSummary {
  readonly id: string;
  readonly patient: string;
  readonly size: Vec3;
  readonly spacing: Vec3;
  readonly modality: string | undefined;
  readonly units: string;
  /** Every label value present (voxels > 0) or named in the case's segment table. */
  readonly labels: readonly LabelFrequency[];
  readonly backgroundVoxels: number;
}

/** Checks a case's geometry and counts its labels. */
export function summarizeCase(
  id: string,
  patient: string,
  image: Volume,
  labels: LabelMap,
  options: GeometryCheckOptions = {},
): CaseSummary {
  checkCaseGeometry(id, image.grid, labels.grid, options);
  if (image.frames !== 1 || image.components !== 1) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `case "${id}": the image has ${image.frames} frame(s) of ${image.components} component(s); training takes one grey 3D volume`,
      { hint: 'select one frame / convert to greyscale first' },
    );
  }
  const counts = new Map<number, number>();
  const d = labels.data;
  let last = -1;
  let run = 0;
  for (let p = 0; p < d.length; p++) {
    const v = d[p]!;
    if (v === last) {
      run++;
      continue;
    }
    if (last >= 0) counts.set(last, (counts.get(last) ?? 0) + run);
    last = v;
    run = 1;
  }
  if (last >= 0) counts.set(last, (counts.get(last) ?? 0) + run);
  const voxelMl = (labels.grid.spacing[0] * labels.grid.spacing[1] * labels.grid.spacing[2]) / 1000;
  const names = new Map(labels.segments.map((s) => [s.value, s.name]));
  const colors = new Map(labels.segments.map((s) => [s.value, s.color]));
  const values = new Set([...counts.keys(), ...names.keys()]);
  values.delete(0);
  const freq = [...values]
    .sort((a, b) => a - b)
    .map((value) => {
      const voxels = counts.get(value) ?? 0;
      const color = colors.get(value);
      return {
        value,
        name: names.get(value) ?? `label ${value}`,
        voxels,
        ml: voxels * voxelMl,
        ...(color ? { color } : {}),
      };
    });
  const modality = image.meta?.modality ?? image.meta?.Modality;
  return {
    id,
    patient,
    size: image.grid.size,
    spacing: image.grid.spacing,
    modality: typeof modality === 'string' ? modality : undefined,
    units: image.units,
    labels: freq,
    backgroundVoxels: counts.get(0) ?? 0,
  };
}

export interface DatasetLabel {
  readonly value: number;
  readonly name: string;
  /** Cases in which the label has voxels. */
  readonly cases: number;
  readonly voxels: number;
  readonly ml: number;
  /** Share of all voxels of all cases. */
  readonly fraction: number;
  readonly color?: Vec3;
}

export interface DatasetReport {
  readonly cases: number;
  readonly patients: number;
  readonly labels: readonly DatasetLabel[];
  readonly perCase: readonly CaseSummary[];
  readonly warnings: readonly string[];
}

const DEFAULT_NAME = /^label \d+$/;

/**
 * Labels across cases: a value must carry one name everywhere (default names "label N" from files
 * without a segment table agree with any name), and two values may not share a name. A label
 * missing from a case is a warning, as is a label with very few voxels overall.
 */
export function datasetReport(summaries: readonly CaseSummary[]): DatasetReport {
  if (summaries.length === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'the dataset has no cases', { hint: 'add (image, labels) pairs' });
  }
  const byValue = new Map<
    number,
    { name: string; from: string; cases: number; voxels: number; ml: number; color: Vec3 | undefined }
  >();
  for (const s of summaries) {
    for (const l of s.labels) {
      const e = byValue.get(l.value);
      if (!e) {
        byValue.set(l.value, {
          name: l.name,
          from: s.id,
          cases: l.voxels > 0 ? 1 : 0,
          voxels: l.voxels,
          ml: l.ml,
          color: DEFAULT_NAME.test(l.name) ? undefined : l.color,
        });
        continue;
      }
      if (e.name !== l.name && !DEFAULT_NAME.test(l.name)) {
        if (!DEFAULT_NAME.test(e.name)) {
          throw new S2SError(
            'INVALID_ARGUMENT',
            `label value ${l.value} is "${e.name}" in case "${e.from}" but "${l.name}" in case "${s.id}"`,
            {
              hint: 'give every structure the same value and name in all cases (fix the segments.json sidecars or relabel)',
            },
          );
        }
        e.name = l.name;
        e.from = s.id;
        e.color = l.color;
      }
      if (l.voxels > 0) e.cases++;
      e.voxels += l.voxels;
      e.ml += l.ml;
    }
  }
  const names = new Map<string, number>();
  for (const [value, e] of byValue) {
    const other = names.get(e.name);
    if (other !== undefined) {
      throw new S2SError('INVALID_ARGUMENT', `label values ${other} and ${value} are both called "${e.name}"`, {
        hint: 'merge them into one value or rename one',
      });
    }
    names.set(e.name, value);
  }
  let total = 0;
  for (const s of summaries) total += voxelCount({ size: s.size } as Grid);
  const labels = [...byValue]
    .sort((a, b) => a[0] - b[0])
    .map(([value, e]) => ({
      value,
      name: e.name,
      cases: e.cases,
      voxels: e.voxels,
      ml: e.ml,
      fraction: e.voxels / total,
    }));
  if (labels.length === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'no case has any labelled voxel', {
      hint: 'the label files are empty: check that the right files were given',
    });
  }
  const warnings: string[] = [];
  for (const l of labels) {
    if (l.voxels === 0) {
      warnings.push(`label ${l.value} "${l.name}" is named but has no voxels in any case`);
      continue;
    }
    const missing = summaries.filter((s) => !s.labels.some((x) => x.value === l.value && x.voxels > 0));
    if (missing.length > 0) {
      const list = missing.slice(0, 5).map((m) => m.id);
      warnings.push(
        `label "${l.name}" is missing from ${missing.length} case(s): ${list.join(', ')}${missing.length > 5 ? ', ...' : ''}`,
      );
    }
    if (l.fraction < 1e-5) {
      warnings.push(`label "${l.name}" covers only ${l.voxels} voxels in all (${(l.fraction * 100).toPrecision(2)}%)`);
    }
  }
  const modalities = new Set(summaries.map((s) => s.modality).filter((m) => m !== undefined));
  if (modalities.size > 1) warnings.push(`the cases mix modalities: ${[...modalities].join(', ')}`);
  if (summaries.some((s) => s.units === 'HU') && summaries.some((s) => s.units !== 'HU')) {
    warnings.push('some images are in HU and others are not');
  }
  return {
    cases: summaries.length,
    patients: new Set(summaries.map((s) => s.patient)).size,
    labels,
    perCase: summaries,
    warnings,
  };
}

/** The class-frequency table as text lines (for the terminal). */
export function formatDatasetReport(r: DatasetReport): string[] {
  const lines = [`${r.cases} case(s), ${r.patients} patient(s)`];
  const w = Math.max(5, ...r.labels.map((l) => l.name.length));
  lines.push(
    `${'value'.padStart(5)}  ${'label'.padEnd(w)}  ${'cases'.padStart(5)}  ${'voxels'.padStart(11)}  ${'mL'.padStart(10)}  ${'share'.padStart(8)}`,
  );
  for (const l of r.labels) {
    lines.push(
      `${String(l.value).padStart(5)}  ${l.name.padEnd(w)}  ${String(l.cases).padStart(5)}  ${String(l.voxels).padStart(11)}  ${l.ml.toFixed(2).padStart(10)}  ${`${(l.fraction * 100).toFixed(3)}%`.padStart(8)}`,
    );
  }
  return lines;
}

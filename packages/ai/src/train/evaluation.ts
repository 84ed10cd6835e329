/**
 * Evaluation of a model on labelled cases: per case and per structure Dice, HD95, ASSD, surface
 * Dice at a tolerance and volume error, their means over cases, and the reports (a terminal table
 * and a small self-contained HTML page with inline SVG plots). The metrics themselves are
 * ../metrics/compare-labels.ts; running the model is the caller's job (Node: node/train/evaluate.ts).
 */
import type { Grid } from '@slice2solid/core';
import { compareLabels } from '../metrics/compare-labels.js';
import type { MetricSummary, ModelCard } from '../model-card.js';

export interface StructureMetrics {
  readonly label: string;
  readonly value: number;
  readonly dice: number;
  /** mm; Infinity when one of the two is empty and the other is not. */
  readonly hd95: number;
  readonly assd: number;
  readonly surfaceDice: number;
  /** (predicted - reference) / reference * 100; Infinity when the reference is empty and the prediction is not. */
  readonly volumeErrorPercent: number;
  readonly predictedMl: number;
  readonly referenceMl: number;
}

export interface CaseMetrics {
  readonly id: string;
  readonly structures: readonly StructureMetrics[];
}

export interface StructureSummary {
  readonly label: string;
  readonly value: number;
  /** Cases whose reference holds the structure (the means are over these). */
  readonly cases: number;
  readonly dice: number;
  readonly hd95: number;
  readonly assd: number;
  readonly surfaceDice: number;
  readonly volumeErrorPercent: number;
  readonly diceMin: number;
  readonly diceMax: number;
}

export interface EvaluationResult {
  readonly schema: 'slice2solid-evaluation/1';
  readonly model: { readonly name: string; readonly version: string };
  readonly split: string;
  readonly toleranceMm: number;
  readonly cases: readonly CaseMetrics[];
  readonly structures: readonly StructureSummary[];
  readonly meanDice: number;
}

export const EVALUATION_DEFAULTS = { toleranceMm: 1 } as const;

/** Metrics of one case: the prediction and the reference carry the card's label values, on one grid. */
export function evaluateCase(
  id: string,
  predicted: ArrayLike<number>,
  reference: ArrayLike<number>,
  grid: Grid,
  card: ModelCard,
  toleranceMm: number = EVALUATION_DEFAULTS.toleranceMm,
): CaseMetrics {
  const labels = card.output.labels.filter((l) => l.value !== 0);
  const cmp = compareLabels(predicted, reference, grid, { labels: labels.map((l) => l.value), toleranceMm });
  return {
    id,
    structures: cmp.map((c, n) => ({
      label: labels[n]!.name,
      value: c.label,
      dice: c.dice,
      hd95: c.surface!.hd95,
      assd: c.surface!.assd,
      surfaceDice: c.surface!.surfaceDice,
      volumeErrorPercent:
        c.referenceMm3 > 0
          ? ((c.predictedMm3 - c.referenceMm3) / c.referenceMm3) * 100
          : c.predictedMm3 > 0
            ? Infinity
            : 0,
      predictedMl: c.predictedMm3 / 1000,
      referenceMl: c.referenceMm3 / 1000,
    })),
  };
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

/** Means over cases, per structure (cases whose reference lacks the structure are left out). */
export function summarizeEvaluation(
  model: { name: string; version: string },
  split: string,
  toleranceMm: number,
  cases: readonly CaseMetrics[],
): EvaluationResult {
  const order: { label: string; value: number }[] = [];
  for (const c of cases) for (const s of c.structures) if (!order.some((o) => o.value === s.value)) order.push(s);
  const structures = order.map(({ label, value }) => {
    const rows = cases.flatMap((c) => c.structures.filter((s) => s.value === value && s.referenceMl > 0));
    const dice = rows.map((r) => r.dice);
    return {
      label,
      value,
      cases: rows.length,
      dice: mean(dice),
      hd95: mean(rows.map((r) => r.hd95)),
      assd: mean(rows.map((r) => r.assd)),
      surfaceDice: mean(rows.map((r) => r.surfaceDice)),
      volumeErrorPercent: mean(rows.map((r) => r.volumeErrorPercent)),
      diceMin: Math.min(...dice),
      diceMax: Math.max(...dice),
    };
  });
  return {
    schema: 'slice2solid-evaluation/1',
    model,
    split,
    toleranceMm,
    cases,
    structures,
    meanDice: mean(structures.filter((s) => s.cases > 0).map((s) => s.dice)),
  };
}

/** The card's validation metrics from an evaluation (finite values only). */
export function cardMetrics(r: EvaluationResult): MetricSummary[] {
  return r.structures
    .filter((s) => s.cases > 0)
    .map((s) => {
      const m: Record<string, number | string> = { label: s.label };
      if (Number.isFinite(s.dice)) m.dice = s.dice;
      if (Number.isFinite(s.hd95)) m.hd95 = s.hd95;
      if (Number.isFinite(s.assd)) m.assd = s.assd;
      if (Number.isFinite(s.surfaceDice)) {
        m.surfaceDice = s.surfaceDice;
        m.surfaceDiceToleranceMm = r.toleranceMm;
      }
      return m as unknown as MetricSummary;
    });
}

const f = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : Number.isNaN(x) ? '-' : 'inf');

/** The per-case table and the means, for the terminal. */
export function formatEvaluation(r: EvaluationResult): string[] {
  const wId = Math.max(4, ...r.cases.map((c) => c.id.length), 'mean'.length);
  const wL = Math.max(9, ...r.structures.map((s) => s.label.length));
  const head = `${'case'.padEnd(wId)}  ${'structure'.padEnd(wL)}  ${'Dice'.padStart(6)}  ${'HD95 mm'.padStart(8)}  ${'ASSD mm'.padStart(8)}  ${`SD@${r.toleranceMm}mm`.padStart(8)}  ${'vol err %'.padStart(9)}`;
  const row = (id: string, s: Omit<StructureMetrics, 'value' | 'predictedMl' | 'referenceMl'>) =>
    `${id.padEnd(wId)}  ${s.label.padEnd(wL)}  ${f(s.dice).padStart(6)}  ${f(s.hd95, 2).padStart(8)}  ${f(s.assd, 2).padStart(8)}  ${f(s.surfaceDice).padStart(8)}  ${f(s.volumeErrorPercent, 1).padStart(9)}`;
  const lines = [`model ${r.model.name} ${r.model.version}, split ${r.split}, ${r.cases.length} case(s)`, head];
  for (const c of r.cases) for (const s of c.structures) lines.push(row(c.id, s));
  lines.push('-'.repeat(head.length));
  for (const s of r.structures) lines.push(row('mean', s));
  lines.push(`mean Dice over structures: ${f(r.meanDice)}`);
  return lines;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A horizontal strip plot: one dot per case per structure on a 0..max axis, the mean as a bar. */
function stripPlot(
  title: string,
  r: EvaluationResult,
  key: 'dice' | 'surfaceDice' | 'hd95' | 'volumeErrorPercent',
): string {
  const values = r.cases.flatMap((c) => c.structures.map((s) => s[key])).filter(Number.isFinite);
  const unit = key === 'dice' || key === 'surfaceDice';
  let lo = unit ? 0 : Math.min(0, ...values);
  let hi = unit ? 1 : Math.max(1e-9, ...values);
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const W = 520;
  const rowH = 26;
  const left = 140;
  const H = 30 + rowH * r.structures.length + 20;
  const x = (v: number) => left + ((v - lo) / (hi - lo)) * (W - left - 20);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`,
  ];
  parts.push(`<text x="4" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`);
  r.structures.forEach((s, n) => {
    const y = 34 + n * rowH;
    parts.push(`<text x="4" y="${y + 4}" font-size="12">${esc(s.label)}</text>`);
    parts.push(`<line x1="${x(lo)}" y1="${y}" x2="${x(hi)}" y2="${y}" stroke="#ddd"/>`);
    for (const c of r.cases) {
      const v = c.structures.find((q) => q.value === s.value)?.[key];
      if (v !== undefined && Number.isFinite(v)) {
        parts.push(
          `<circle cx="${x(v).toFixed(1)}" cy="${y}" r="4" fill="#3b7dd8" fill-opacity="0.6"><title>${esc(c.id)}: ${f(v)}</title></circle>`,
        );
      }
    }
    const m = s[key];
    if (Number.isFinite(m))
      parts.push(`<line x1="${x(m)}" y1="${y - 8}" x2="${x(m)}" y2="${y + 8}" stroke="#d33" stroke-width="2"/>`);
  });
  const yAxis = 34 + rowH * r.structures.length - 8;
  for (const t of [lo, (lo + hi) / 2, hi]) {
    parts.push(`<text x="${x(t)}" y="${yAxis + 12}" font-size="10" text-anchor="middle">${f(t, unit ? 2 : 1)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** A small self-contained HTML report (inline CSS and SVG, no external assets). */
export function evaluationHtml(r: EvaluationResult): string {
  const rows = r.cases
    .flatMap((c) =>
      c.structures.map(
        (s) =>
          `<tr><td>${esc(c.id)}</td><td>${esc(s.label)}</td><td>${f(s.dice)}</td><td>${f(s.hd95, 2)}</td><td>${f(s.assd, 2)}</td><td>${f(s.surfaceDice)}</td><td>${f(s.volumeErrorPercent, 1)}</td></tr>`,
      ),
    )
    .join('\n');
  const means = r.structures
    .map(
      (s) =>
        `<tr><th>mean (${s.cases})</th><th>${esc(s.label)}</th><th>${f(s.dice)}</th><th>${f(s.hd95, 2)}</th><th>${f(s.assd, 2)}</th><th>${f(s.surfaceDice)}</th><th>${f(s.volumeErrorPercent, 1)}</th></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation of ${esc(r.model.name)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,td:nth-child(2),th:first-child,th:nth-child(2){text-align:left}.plots{display:flex;flex-wrap:wrap;gap:16px;margin:16px 0}</style>
</head><body>
<h1>Evaluation of ${esc(r.model.name)} ${esc(r.model.version)}</h1>
<p>Split <b>${esc(r.split)}</b>, ${r.cases.length} case(s); surface Dice at ${r.toleranceMm} mm. Mean Dice over structures: <b>${f(r.meanDice)}</b>.</p>
<div class="plots">${stripPlot('Dice', r, 'dice')}${stripPlot(`Surface Dice @ ${r.toleranceMm} mm`, r, 'surfaceDice')}${stripPlot('HD95 (mm)', r, 'hd95')}${stripPlot('Volume error (%)', r, 'volumeErrorPercent')}</div>
<table><thead><tr><th>case</th><th>structure</th><th>Dice</th><th>HD95 mm</th><th>ASSD mm</th><th>surface Dice</th><th>volume error %</th></tr></thead>
<tbody>
${rows}
</tbody><tfoot>
${means}
</tfoot></table>
</body></html>
`;
}

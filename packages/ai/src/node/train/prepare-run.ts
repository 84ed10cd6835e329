/// <reference types="node" />
/**
 * Prepares a training run folder from a dataset: discover -> load every case once (geometry and
 * label checks, class frequencies, fingerprint) -> split by patient -> plan -> load again and
 * preprocess every case into `<run>/data/` -> write `plan.json`, `splits.json`,
 * `fingerprint.json` and `dataset.json` (the check report). With `resume`, an existing run
 * folder's plan and splits are kept as they are.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { type RunOptions, S2SError, throwIfAborted } from '@slice2solid/core';
import { type DatasetReport, datasetReport, type GeometryCheckOptions, summarizeCase } from '../../train/checks.js';
import { caseFingerprint, type DatasetFingerprint, datasetFingerprint } from '../../train/fingerprint.js';
import { makePlan, type PlanCase, type PlanOptions, preprocessCase, type TrainPlan } from '../../train/plan.js';
import { type SplitOptions, type Splits, splitCases, splitOf } from '../../train/splits.js';
import { type DatasetCaseRef, discoverDataset, loadDatasetCase } from './dataset.js';

export interface PrepareRunOptions extends RunOptions {
  readonly plan?: PlanOptions;
  readonly split?: SplitOptions;
  readonly geometry?: GeometryCheckOptions;
  /** Keep an existing plan.json / splits.json (and data files) in the run folder. */
  readonly resume?: boolean;
  /** Called with a line of text for each step (for the terminal). */
  readonly log?: (line: string) => void;
}

export interface PreparedRun {
  readonly runDir: string;
  readonly refs: readonly DatasetCaseRef[];
  readonly report: DatasetReport;
  readonly fingerprint: DatasetFingerprint;
  readonly splits: Splits;
  readonly plan: TrainPlan;
  /** True when an existing plan was reused (resume). */
  readonly reused: boolean;
}

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (cause) {
    throw new S2SError('MALFORMED_FILE', `${path} cannot be read`, { cause, hint: 'train into a new --out folder' });
  }
}

function fileId(id: string, used: Set<string>): string {
  let base = id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || 'case';
  if (used.has(base)) {
    let n = 2;
    while (used.has(`${base}_${n}`)) n++;
    base = `${base}_${n}`;
  }
  used.add(base);
  return base;
}

/** Prepares (or, with resume, reopens) a run folder; see the module doc. */
export async function prepareRun(
  dataset: string,
  runDir: string,
  options: PrepareRunOptions = {},
): Promise<PreparedRun> {
  if (endianness() !== 'LE') {
    throw new S2SError('NOT_IMPLEMENTED', 'training data files are little-endian; this machine is big-endian');
  }
  const log = options.log ?? (() => {});
  mkdirSync(join(runDir, 'data'), { recursive: true });
  const refs = await discoverDataset(dataset);
  const planPath = join(runDir, 'plan.json');
  if (options.resume && existsSync(planPath)) {
    const plan = readJson<TrainPlan>(planPath);
    const splits = readJson<Splits>(join(runDir, 'splits.json'));
    const report = readJson<DatasetReport>(join(runDir, 'dataset.json'));
    const fingerprint = readJson<DatasetFingerprint>(join(runDir, 'fingerprint.json'));
    const ids = new Set(plan.cases.map((c) => c.id));
    if (refs.length !== ids.size || refs.some((r) => !ids.has(r.id))) {
      throw new S2SError('INVALID_ARGUMENT', "the dataset no longer matches the run folder's plan.json", {
        hint: 'resume with the dataset the run was started with, or train into a new --out folder',
      });
    }
    for (const c of plan.cases) {
      if (!existsSync(join(runDir, c.image)) || !existsSync(join(runDir, c.labels))) {
        throw new S2SError('IO_ERROR', `the data file of case "${c.id}" is missing from the run folder`, {
          hint: 'train into a new --out folder (without --resume)',
        });
      }
    }
    log(`resuming: reusing plan.json (${plan.cases.length} cases) and splits.json`);
    return { runDir, refs, report, fingerprint, splits, plan, reused: true };
  }

  // pass 1: checks, class frequencies, fingerprint
  const summaries = [];
  const fps = [];
  const orientation = 'RAS';
  for (const [n, ref] of refs.entries()) {
    throwIfAborted(options.signal);
    const c = await loadDatasetCase(ref);
    summaries.push(summarizeCase(c.id, c.patient, c.image, c.labels, options.geometry));
    fps.push(caseFingerprint(c.id, c.image, c.labels, { orientation }));
    options.onProgress?.({ stage: 'check cases', done: n + 1, total: refs.length });
  }
  const report = datasetReport(summaries);
  for (const w of report.warnings) log(`warning: ${w}`);
  const fingerprint = datasetFingerprint(fps, orientation);
  const splits = splitCases(refs, options.split);
  for (const w of splits.warnings) log(`warning: ${w}`);
  const plan0 = makePlan(fingerprint, report, options.plan);

  // pass 2: preprocess into data files
  const used = new Set<string>();
  const cases: PlanCase[] = [];
  for (const [n, ref] of refs.entries()) {
    throwIfAborted(options.signal);
    const c = await loadDatasetCase(ref);
    const pre = preprocessCase(c.id, c.image, c.labels, plan0);
    const f = fileId(c.id, used);
    const image = `data/${f}_img.f32`;
    const labels = `data/${f}_lbl.u8`;
    writeFileSync(join(runDir, image), new Uint8Array(pre.image.buffer, pre.image.byteOffset, pre.image.byteLength));
    writeFileSync(join(runDir, labels), pre.labels);
    cases.push({ id: c.id, patient: c.patient, split: splitOf(splits, c.id), image, labels, size: pre.size });
    options.onProgress?.({ stage: 'preprocess cases', done: n + 1, total: refs.length });
  }
  const plan: TrainPlan = { ...plan0, cases };
  writeJsonAtomic(join(runDir, 'dataset.json'), report);
  writeJsonAtomic(join(runDir, 'fingerprint.json'), fingerprint);
  writeJsonAtomic(join(runDir, 'splits.json'), splits);
  writeJsonAtomic(planPath, plan);
  return { runDir, refs, report, fingerprint, splits, plan, reused: false };
}

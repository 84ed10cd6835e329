/**
 * Train / validation / test splits by PATIENT: all cases of one patient land on the same side,
 * so a model is never validated or tested on a patient it was trained on. Seeded and
 * deterministic (the same cases and seed give the same split, whatever order the cases come in).
 *
 * Small datasets: with 2 patients there is no test split (1 train, 1 validation); with 3 or more
 * every non-zero fraction gets at least one patient and training keeps at least one.
 * K-fold: the test patients are held out first (same for every fold); the remaining patients are
 * dealt into K folds and fold I is the validation split, the other folds train.
 */
import { S2SError } from '@slice2solid/core';

export interface SplitOptions {
  /** Fractions of PATIENTS for train, validation and test (normalised to sum 1). */
  readonly fractions?: readonly [number, number, number];
  readonly seed?: number;
  /** Number of cross-validation folds (>= 2), or undefined for a single split. */
  readonly kfold?: number;
  /** The fold used for validation, 0 <= fold < kfold. */
  readonly fold?: number;
}

export const SPLIT_DEFAULTS = {
  fractions: [0.7, 0.15, 0.15] as readonly [number, number, number],
  seed: 1,
  fold: 0,
} as const;

export const SPLITS_SCHEMA = 'slice2solid-splits/1';

export interface Splits {
  readonly schema: typeof SPLITS_SCHEMA;
  readonly seed: number;
  readonly fractions: readonly [number, number, number];
  readonly kfold?: { readonly k: number; readonly fold: number };
  /** Case ids of each split (sorted). */
  readonly train: readonly string[];
  readonly val: readonly string[];
  readonly test: readonly string[];
  /** Patient ids of each split (sorted). */
  readonly patients: {
    readonly train: readonly string[];
    readonly val: readonly string[];
    readonly test: readonly string[];
  };
  readonly warnings: readonly string[];
}

export interface SplitCase {
  readonly id: string;
  readonly patient: string;
  /** A split fixed by the dataset. When any case has one, every case must, and no patient may span two. */
  readonly split?: 'train' | 'val' | 'test';
}

/** The split the dataset itself fixes (every case names its split), checked to keep patients on one side. */
function fixedSplits(cases: readonly SplitCase[], seed: number): Splits {
  const missing = cases.filter((c) => c.split === undefined);
  if (missing.length > 0) {
    throw new S2SError(
      'INVALID_ARGUMENT',
      `some cases fix their split and ${missing.length} do not (e.g. "${missing[0]!.id}")`,
      { hint: 'give every case a split (train, val or test), or none so that slice2solid splits by patient' },
    );
  }
  const sideOf = new Map<string, string>();
  for (const c of cases) {
    const side = sideOf.get(c.patient);
    if (side !== undefined && side !== c.split) {
      throw new S2SError(
        'INVALID_ARGUMENT',
        `patient "${c.patient}" has cases in both the ${side} and the ${c.split} split`,
        { hint: 'keep all cases of one patient in one split, or the evaluation is not on unseen patients' },
      );
    }
    sideOf.set(c.patient, c.split!);
  }
  const ids = (s: string) => sorted(cases.filter((c) => c.split === s).map((c) => c.id));
  const pts = (s: string) => sorted(new Set(cases.filter((c) => c.split === s).map((c) => c.patient)));
  const n = cases.length;
  const train = ids('train');
  if (train.length === 0) {
    throw new S2SError('INVALID_ARGUMENT', 'the dataset fixes its splits but puts no case in train', {
      hint: 'mark at least one case train',
    });
  }
  const val = ids('val');
  const test = ids('test');
  return {
    schema: SPLITS_SCHEMA,
    seed,
    fractions: [train.length / n, val.length / n, test.length / n],
    train,
    val,
    test,
    patients: { train: pts('train'), val: pts('val'), test: pts('test') },
    warnings: [
      'the splits are fixed by the dataset',
      ...(test.length === 0 ? ['no test case: metrics on the validation cases are not an independent test'] : []),
    ],
  };
}

/** mulberry32: uniform in [0, 1), deterministic for a seed. */
export function seededRandom(seed: number): () => number {
  let a = (Math.imul((seed | 0) ^ 0x2545f491, 0x9e3779b1) + 0x6d2b79f5) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], rnd: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** How many of `n` patients go to train / val / test, with the small-dataset rules. */
export function splitCounts(n: number, fractions: readonly [number, number, number]): [number, number, number] {
  const sum = fractions[0] + fractions[1] + fractions[2];
  if (!(fractions.every((f) => f >= 0 && Number.isFinite(f)) && sum > 0 && fractions[0] > 0)) {
    throw new S2SError('INVALID_ARGUMENT', `split fractions must be >= 0 with train > 0, got ${fractions.join(',')}`, {
      hint: 'e.g. --split 0.7,0.15,0.15',
    });
  }
  const f = fractions.map((x) => x / sum) as [number, number, number];
  if (n < 2) {
    throw new S2SError('INVALID_ARGUMENT', `the dataset has ${n} patient(s); training needs at least 2`, {
      hint: 'one patient to train on and one to validate on; 3 or more to also keep a test patient',
    });
  }
  if (n === 2) return f[1] > 0 || f[2] > 0 ? [1, 1, 0] : [2, 0, 0];
  let test = f[2] > 0 ? Math.max(1, Math.round(n * f[2])) : 0;
  let val = f[1] > 0 ? Math.max(1, Math.round(n * f[1])) : 0;
  while (n - test - val < 1) {
    if (val >= test && val > 1) val--;
    else if (test > 1) test--;
    else if (val > 0 && f[1] <= f[2]) val--;
    else test--;
  }
  return [n - val - test, val, test];
}

function groupByPatient(cases: readonly SplitCase[]): Map<string, string[]> {
  const byPatient = new Map<string, string[]>();
  const ids = new Set<string>();
  for (const c of cases) {
    if (ids.has(c.id)) throw new S2SError('INVALID_ARGUMENT', `case id "${c.id}" appears twice`);
    ids.add(c.id);
    const list = byPatient.get(c.patient) ?? [];
    list.push(c.id);
    byPatient.set(c.patient, list);
  }
  return byPatient;
}

const sorted = (a: Iterable<string>) => [...a].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));

/** Splits cases by patient (see the module doc). */
export function splitCases(cases: readonly SplitCase[], options: SplitOptions = {}): Splits {
  const fractions = options.fractions ?? SPLIT_DEFAULTS.fractions;
  const seed = options.seed ?? SPLIT_DEFAULTS.seed;
  const byPatient = groupByPatient(cases);
  if (cases.some((c) => c.split !== undefined)) {
    if (options.kfold !== undefined) {
      throw new S2SError('INVALID_ARGUMENT', 'the dataset fixes its splits, so --kfold cannot be used', {
        hint: 'remove the split column to cross-validate',
      });
    }
    return fixedSplits(cases, seed);
  }
  const patients = shuffled(sorted(byPatient.keys()), seededRandom(seed));
  const warnings: string[] = [];
  let trainP: string[];
  let valP: string[];
  let testP: string[];
  if (options.kfold !== undefined) {
    const k = options.kfold;
    const fold = options.fold ?? SPLIT_DEFAULTS.fold;
    if (!Number.isInteger(k) || k < 2) {
      throw new S2SError('INVALID_ARGUMENT', `--kfold must be an integer >= 2, got ${k}`, { hint: 'e.g. --kfold 5' });
    }
    if (!Number.isInteger(fold) || fold < 0 || fold >= k) {
      throw new S2SError('INVALID_ARGUMENT', `--fold must be 0..${k - 1}, got ${fold}`);
    }
    const nTest = fractions[2] > 0 && patients.length >= k + 1 ? splitCounts(patients.length, fractions)[2] : 0;
    if (fractions[2] > 0 && nTest === 0)
      warnings.push(`too few patients for a test split next to ${k} folds: no test split`);
    testP = patients.slice(0, nTest);
    const rest = patients.slice(nTest);
    if (rest.length < k) {
      throw new S2SError('INVALID_ARGUMENT', `${rest.length} patient(s) cannot fill ${k} folds`, {
        hint: `use --kfold ${Math.max(2, rest.length)} or fewer`,
      });
    }
    valP = rest.filter((_, n) => n % k === fold);
    trainP = rest.filter((_, n) => n % k !== fold);
  } else {
    const [, nVal, nTest] = splitCounts(patients.length, fractions);
    testP = patients.slice(0, nTest);
    valP = patients.slice(nTest, nTest + nVal);
    trainP = patients.slice(nTest + nVal);
    if (nTest === 0 && fractions[2] > 0) {
      warnings.push('only 2 patients: no test split; metrics on the validation patient are not an independent test');
    }
  }
  const casesOf = (ps: readonly string[]) => sorted(ps.flatMap((p) => byPatient.get(p)!));
  return {
    schema: SPLITS_SCHEMA,
    seed,
    fractions: [fractions[0], fractions[1], fractions[2]],
    ...(options.kfold !== undefined ? { kfold: { k: options.kfold, fold: options.fold ?? SPLIT_DEFAULTS.fold } } : {}),
    train: casesOf(trainP),
    val: casesOf(valP),
    test: casesOf(testP),
    patients: { train: sorted(trainP), val: sorted(valP), test: sorted(testP) },
    warnings,
  };
}

/** Which split a case is in. */
export function splitOf(splits: Pick<Splits, 'train' | 'val' | 'test'>, id: string): 'train' | 'val' | 'test' {
  if (splits.train.includes(id)) return 'train';
  if (splits.val.includes(id)) return 'val';
  if (splits.test.includes(id)) return 'test';
  throw new S2SError('INVALID_ARGUMENT', `case "${id}" is in no split`);
}

/** Parses and checks a saved splits.json against the current cases (for --resume). */
export function parseSplits(text: string, cases: readonly SplitCase[]): Splits {
  let o: Splits;
  try {
    o = JSON.parse(text) as Splits;
  } catch (cause) {
    throw new S2SError('MALFORMED_FILE', 'splits.json is not valid JSON', { cause, hint: 'delete it to split again' });
  }
  if (o.schema !== SPLITS_SCHEMA || !Array.isArray(o.train) || !Array.isArray(o.val) || !Array.isArray(o.test)) {
    throw new S2SError('MALFORMED_FILE', `splits.json is not a ${SPLITS_SCHEMA} file`, {
      hint: 'delete it to split again',
    });
  }
  const all = new Set([...o.train, ...o.val, ...o.test]);
  const missing = cases.filter((c) => !all.has(c.id));
  if (missing.length > 0 || all.size !== cases.length) {
    throw new S2SError('INVALID_ARGUMENT', "the dataset no longer matches the run folder's splits.json", {
      hint: 'train into a new --out folder, or restore the dataset the run was started with',
    });
  }
  return o;
}

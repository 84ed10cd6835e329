/**
 * slice2solid anonymize <in> <out>: DICOM de-identification (PS3.15 E.1 Basic Profile + options)
 * of a file, a folder (recursive) or a zip archive, into a folder or a zip archive.
 *
 * Privacy rules kept here: output names are the new SOP Instance UIDs (folders become dir-NNN),
 * messages name inputs by number, never by path; the report holds counts only; the patient ID
 * mapping file (original -> pseudonym) is written only where the user asks for it.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { isS2SError, S2SError } from '@slice2solid/core';
import type { AttributeActionCounts, BlackoutRect, DeidOption } from '@slice2solid/dicom/deid';
import { writeFileAtomic } from '../write-atomic.js';
import {
  ANONYMIZE_IO_DEFAULTS,
  AtomicWriter,
  BufferPool,
  ReadAhead,
  type ReadAheadFile,
  writeError,
} from './anonymize-writer.js';
import { commandSummary } from './registry.js';
import { type Command, type CommandContext, optFlag, optString, type ParsedArgs, UsageError } from './types.js';

// @slice2solid/dicom/deid (not the whole package) and fflate are imported when the command runs (start-up time).

export const ANONYMIZE_CLI_DEFAULTS = {
  quarantineSuffix: '-quarantine',
  reportName: 'deid-report.json',
} as const;

export const HEAD_SKIN_WARNING =
  'a skin surface of a head (face) is itself identifying: do not share head skin models, or deface them first';

interface InputEntry {
  /** Relative path inside the input (only used to rebuild the folder layout; never printed). */
  readonly rel: string;
  /** A file of a folder input (read by ReadAhead), with its size when listed. */
  readonly file?: ReadAheadFile;
  /** The bytes of a zip member or of a single-file input. */
  readonly bytes?: Uint8Array;
}

/**
 * A file's bytes (its size at open time, as readFileSync reads); a file that shrank while read
 * gives the bytes read. Synchronous (used for a single file or a zip archive).
 */
function readFileInto(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const out = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, out, at, size - at, at);
      if (n === 0) break;
      at += n;
    }
    return at === size ? out : out.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

/** The files of a folder, recursively, in sorted order (with their sizes, for ReadAhead). */
function listFolder(path: string): InputEntry[] {
  const entries: InputEntry[] = [];
  // rel: the names below `path` joined by '/' (what relative(path, p) gives, without resolving each path)
  const walk = (dir: string, rel: string) => {
    for (const n of readdirSync(dir).sort()) {
      const p = join(dir, n);
      const s = statSync(p);
      if (s.isDirectory()) walk(p, `${rel}${n}/`);
      else if (s.isFile()) entries.push({ rel: `${rel}${n}`, file: { path: p, size: s.size } });
    }
  };
  walk(path, '');
  return entries;
}

async function listInput(path: string): Promise<{ entries: InputEntry[]; kind: 'file' | 'folder' | 'zip' }> {
  if (!existsSync(path)) {
    throw new S2SError('IO_ERROR', 'the input does not exist', { hint: 'check the path of <in>' });
  }
  const st = statSync(path);
  if (st.isDirectory()) return { entries: listFolder(path), kind: 'folder' };
  const bytes = readFileInto(path);
  if (bytes.length > 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4) {
    const { unzipSync } = await import('fflate/browser');
    let files: Record<string, Uint8Array>;
    try {
      files = unzipSync(bytes);
    } catch (cause) {
      throw new S2SError('MALFORMED_FILE', 'the zip archive could not be read', {
        hint: 'the archive is damaged',
        cause,
      });
    }
    const entries = Object.keys(files)
      .filter((n) => !n.endsWith('/'))
      .sort()
      .map((n) => ({ rel: n, bytes: files[n]! }));
    return { entries, kind: 'zip' };
  }
  return { entries: [{ rel: 'input.dcm', bytes }], kind: 'file' };
}

/** Maps each input folder to dir-NNN (numbered per parent, in sorted order) so folder names cannot leak. */
function folderNamer(): (rel: string) => string {
  const map = new Map<string, string>();
  const counters = new Map<string, number>();
  return (rel) => {
    const parts = rel.split('/').slice(0, -1);
    let parentOut = '';
    let parentIn = '';
    for (const p of parts) {
      const key = `${parentIn}/${p}`;
      let name = map.get(key);
      if (!name) {
        const n = (counters.get(parentIn) ?? 0) + 1;
        counters.set(parentIn, n);
        name = `${parentOut ? `${parentOut}/` : ''}dir-${String(n).padStart(3, '0')}`;
        map.set(key, name);
      }
      parentIn = key;
      parentOut = name;
    }
    return parentOut;
  };
}

function parseOptions(
  text: string | undefined,
  keepDatesShifted: boolean,
  DEID_OPTIONS: readonly DeidOption[],
): DeidOption[] {
  const out = new Set<DeidOption>();
  if (keepDatesShifted) out.add('retainLongModifiedDates');
  for (const raw of (text ?? '').split(',')) {
    const t = raw.trim();
    if (t === '') continue;
    const aliases: Record<string, DeidOption> = {
      'dates-shifted': 'retainLongModifiedDates',
      'full-dates': 'retainLongFullDates',
      'patient-characteristics': 'retainPatientCharacteristics',
      'device-identity': 'retainDeviceIdentity',
      'institution-identity': 'retainInstitutionIdentity',
      uids: 'retainUIDs',
      'safe-private': 'retainSafePrivate',
      'clean-descriptors': 'cleanDescriptors',
    };
    const o = aliases[t] ?? (DEID_OPTIONS as readonly string[]).find((x) => x === t);
    if (!o) {
      throw new UsageError(
        `unknown profile option "${t}"`,
        `use a comma-separated list of: ${Object.keys(aliases).join(', ')}`,
      );
    }
    out.add(o as DeidOption);
  }
  return [...out];
}

function parseBlackout(values: unknown): BlackoutRect[] {
  const list = Array.isArray(values) ? values : values === undefined ? [] : [values];
  return list.map((v) => {
    const n = String(v)
      .split(',')
      .map((x) => Number(x.trim()));
    if (n.length !== 4 || !n.every((x) => Number.isInteger(x) && x >= 0) || n[2] === 0 || n[3] === 0) {
      throw new UsageError(`--blackout must be x,y,width,height in pixels (integers); got "${String(v)}"`);
    }
    return { x: n[0]!, y: n[1]!, width: n[2]!, height: n[3]! };
  });
}

function readKey(ctx: CommandContext, args: ParsedArgs): string {
  const file = optString(args, 'key-file');
  if (!file) {
    throw new UsageError(
      'anonymize needs a project key: --key-file FILE',
      'create one once and keep it secret, e.g. `head -c 32 /dev/urandom | base64 > project.key`; the same key gives the same UIDs and pseudonyms',
    );
  }
  const p = resolve(ctx.cwd, file);
  if (!existsSync(p)) throw new S2SError('IO_ERROR', 'the key file does not exist', { hint: 'check --key-file' });
  const key = readFileSync(p, 'utf8').trim();
  if (key.length < 16) {
    throw new S2SError('INVALID_ARGUMENT', 'the key in --key-file is shorter than 16 characters', {
      hint: 'use a long random key, e.g. `head -c 32 /dev/urandom | base64`',
    });
  }
  return key;
}

export interface AnonymizeRunSummary {
  readonly tool: 'slice2solid anonymize';
  readonly profile: string;
  readonly tableEdition: string;
  readonly options: readonly DeidOption[];
  readonly files: { written: number; quarantined: number; failed: number; skippedNotDicom: number };
  readonly quarantineReasons: Record<string, number>;
  readonly failures: { input: number; code: string }[];
  readonly attributes: AttributeActionCounts;
  readonly warnings: readonly string[];
}

export const anonymizeCommand: Command = {
  name: 'anonymize',
  summary: commandSummary('anonymize'),
  usage: 'anonymize <in> <out> --key-file K [--keep-dates-shifted] [--profile-options a,b] [--mapping-file M]',
  help: `De-identifies DICOM files with the DICOM PS3.15 Annex E Basic Application Level Confidentiality
Profile. <in> is a DICOM file, a folder (searched recursively) or a .zip; <out> is a folder, or a
.zip when it ends in .zip. Output files are named by their new SOP Instance UID; folders become
dir-001, dir-002... Pixel data is copied bit for bit. Non-DICOM files are skipped, not copied.

  --key-file K            the secret project key (required). Same key: same new UIDs, pseudonyms and
                          date shifts across runs; another key: unrelated ones.
  --keep-dates-shifted    keep dates, shifted by a per-patient whole number of days (intervals kept)
  --profile-options LIST  comma-separated: dates-shifted, full-dates, patient-characteristics,
                          device-identity, institution-identity, uids, safe-private, clean-descriptors
  --mapping-file M        JSON {original Patient ID: pseudonym}. Read if it exists (its pseudonyms are
                          used), updated with new patients. It holds REAL IDs: keep it private, never
                          inside <out>.
  --quarantine DIR        where images likely to carry burned-in text go (default <out>${ANONYMIZE_CLI_DEFAULTS.quarantineSuffix})
  --release-burned-in     do not hold back such images (you checked them)
  --blackout x,y,w,h      black out this rectangle (pixels) in flagged images; repeatable. Works on
                          uncompressed pixel data; those images are then released.
  --report FILE           where to write the JSON report (default <out>/${ANONYMIZE_CLI_DEFAULTS.reportName}, or <out>.report.json for a zip)

Examples:
  slice2solid anonymize study/ study-anon/ --key-file project.key
  slice2solid anonymize study.zip share.zip --key-file project.key --keep-dates-shifted`,
  options: {
    'key-file': { type: 'string' },
    'keep-dates-shifted': { type: 'boolean' },
    'profile-options': { type: 'string' },
    'mapping-file': { type: 'string' },
    quarantine: { type: 'string' },
    'release-burned-in': { type: 'boolean' },
    blackout: { type: 'string', multiple: true },
    report: { type: 'string' },
  },
  minPositionals: 2,
  maxPositionals: 2,
  async run(ctx, args) {
    const summary = await runAnonymize(ctx, args);
    const f = summary.files;
    ctx.stdout.write(
      `de-identified ${f.written} file(s); ${f.quarantined} held back for possible burned-in text; ${f.failed} failed; ${f.skippedNotDicom} non-DICOM skipped\n`,
    );
    for (const w of summary.warnings) ctx.stdout.write(`warning: ${w}\n`);
    return f.failed > 0 ? 1 : 0;
  },
};

/** A folder input, listed and being read ahead (see runAnonymize). */
interface EarlyFolder {
  readonly entries: InputEntry[];
  readonly pool: BufferPool;
  readonly reader: ReadAhead;
}

function folderReader(entries: readonly InputEntry[]): EarlyFolder {
  const pool = new BufferPool(ANONYMIZE_IO_DEFAULTS.readAhead + ANONYMIZE_IO_DEFAULTS.writesInFlight + 2);
  return {
    entries: [...entries],
    pool,
    reader: new ReadAhead(
      entries.map((e) => e.file!),
      pool,
    ),
  };
}

export async function runAnonymize(ctx: CommandContext, args: ParsedArgs): Promise<AnonymizeRunSummary> {
  const inPath = resolve(ctx.cwd, args.positionals[0]!);
  const outPath = resolve(ctx.cwd, args.positionals[1]!);
  const key = readKey(ctx, args);
  // A folder input is listed and its first files are read (on the thread pool) now, while the
  // de-identifier loads. Any problem is left for listInput to report, in its usual place.
  let early: EarlyFolder | undefined;
  try {
    if (statSync(inPath).isDirectory()) early = folderReader(listFolder(inPath));
  } catch {
    early = undefined;
  }
  try {
    return await anonymizeAll(ctx, args, inPath, outPath, key, early);
  } finally {
    early?.reader.stop();
  }
}

async function anonymizeAll(
  ctx: CommandContext,
  args: ParsedArgs,
  inPath: string,
  outPath: string,
  key: string,
  early: EarlyFolder | undefined,
): Promise<AnonymizeRunSummary> {
  const { anonymizeDicom, DEID_OPTIONS, emptyReport, mergeReports, PROFILE_TABLE_EDITION } = await import(
    '@slice2solid/dicom/deid'
  );
  const options = parseOptions(optString(args, 'profile-options'), optFlag(args, 'keep-dates-shifted'), DEID_OPTIONS);
  const blackout = parseBlackout(args.values.blackout);
  const zipOut = outPath.toLowerCase().endsWith('.zip');
  const outBase = zipOut ? outPath.slice(0, -4) : outPath;
  const quarantineDir = resolve(
    ctx.cwd,
    optString(args, 'quarantine') ?? `${outBase}${ANONYMIZE_CLI_DEFAULTS.quarantineSuffix}`,
  );
  const reportPath = resolve(
    ctx.cwd,
    optString(args, 'report') ?? (zipOut ? `${outBase}.report.json` : join(outPath, ANONYMIZE_CLI_DEFAULTS.reportName)),
  );
  const mappingPath = optString(args, 'mapping-file');
  const mappingFile = mappingPath ? resolve(ctx.cwd, mappingPath) : undefined;
  if (mappingFile && !zipOut && (mappingFile + sep).startsWith(outPath + sep)) {
    throw new UsageError('--mapping-file must not be inside <out>: it holds the original patient IDs');
  }
  const map = new Map<string, string>();
  if (mappingFile && existsSync(mappingFile)) {
    try {
      const json = JSON.parse(readFileSync(mappingFile, 'utf8')) as Record<string, unknown>;
      for (const [k, v] of Object.entries(json)) if (typeof v === 'string') map.set(k, v);
    } catch (cause) {
      throw new S2SError('MALFORMED_FILE', 'the mapping file is not valid JSON', {
        hint: 'it must be an object {"original ID": "pseudonym"}',
        cause,
      });
    }
  }
  const { entries, kind } = early ? { entries: early.entries, kind: 'folder' as const } : await listInput(inPath);
  const namer = folderNamer();
  const totals = emptyReport();
  const zipFiles: Record<string, Uint8Array> = {};
  const reasons: Record<string, number> = {};
  const failures: { input: number; code: string }[] = [];
  let written = 0;
  let quarantined = 0;
  let skipped = 0;
  const used = new Set<string>();
  const progress = ctx.run.onProgress;
  // Files are de-identified one by one, in order, on this thread; the files of a folder are read
  // ahead and every output is written on the thread pool meanwhile (see anonymize-writer.ts). An
  // input's buffer is reused once its output is written (the parts hold views of it until then).
  // The loop yields to the event loop now and then so that Ctrl-C gets through.
  const folder = kind === 'folder' ? (early ?? folderReader(entries)) : undefined;
  const writer = new AtomicWriter();
  const madeDirs = new Set<string>();
  const put = async (path: string, parts: readonly Uint8Array[], input: Uint8Array): Promise<void> => {
    writer.check();
    const dir = dirname(path);
    if (!madeDirs.has(dir)) {
      try {
        mkdirSync(dir, { recursive: true });
      } catch (e) {
        throw writeError(path, e);
      }
      madeDirs.add(dir);
    }
    writer.write(path, parts, folder ? () => folder.pool.release(input) : undefined);
    await writer.room();
  };
  const uidCache = new Map<string, string>();
  try {
    for (const [i, entry] of entries.entries()) {
      const label = `input #${i + 1}`;
      progress?.({ stage: 'anonymize', done: i, total: entries.length });
      if (i % 32 === 31) await new Promise((r) => setImmediate(r));
      if (ctx.run.signal?.aborted) throw new S2SError('ABORTED', 'the operation was cancelled');
      let bytes: Uint8Array;
      try {
        bytes = folder ? await folder.reader.get(i) : entry.bytes!;
      } catch {
        failures.push({ input: i + 1, code: 'IO_ERROR' });
        continue;
      }
      let result: ReturnType<typeof anonymizeDicom>;
      try {
        result = anonymizeDicom(bytes, {
          key,
          options,
          patientIdMap: map,
          uidCache,
          blackout,
          quarantineBurnedIn: !optFlag(args, 'release-burned-in'),
          name: label,
        });
      } catch (e) {
        folder?.pool.release(bytes);
        if (!isS2SError(e)) throw e;
        if (e.code === 'UNSUPPORTED_FORMAT' && kind !== 'file') {
          skipped++;
          continue;
        }
        if (kind === 'file') throw e;
        failures.push({ input: i + 1, code: e.code });
        ctx.stderr.write(`${label}: ${e.message}\n`);
        continue;
      }
      mergeReports(totals, result.report);
      const dir = kind === 'file' ? '' : namer(entry.rel);
      let base = result.sopInstanceUID ?? `file-${String(i + 1).padStart(5, '0')}`;
      while (used.has(`${dir}/${base}`)) base = `${base}.${i + 1}`;
      used.add(`${dir}/${base}`);
      const rel = dir ? `${dir}/${base}.dcm` : `${base}.dcm`;
      if (result.quarantine) {
        quarantined++;
        for (const r of result.quarantine.split('; ')) reasons[r] = (reasons[r] ?? 0) + 1;
        await put(join(quarantineDir, rel), result.parts, bytes);
        continue;
      }
      written++;
      // the zip needs its own copy (`bytes` joins the parts) before the input's buffer is reused
      if (zipOut) {
        zipFiles[rel] = result.parts.length === 1 ? result.bytes.slice() : result.bytes;
        folder?.pool.release(bytes);
      } else await put(join(outPath, rel), result.parts, bytes);
    }
  } catch (e) {
    // let the writes already queued finish (or fail) before returning
    folder?.reader.stop();
    await writer.drain().catch(() => {});
    throw e;
  }
  await writer.drain();
  progress?.({ stage: 'anonymize', done: entries.length, total: entries.length });
  if (zipOut) {
    const { zipSync } = await import('fflate/browser');
    writeFileAtomic(outPath, zipSync(zipFiles, { level: 0 }));
  }
  const summary: AnonymizeRunSummary = {
    tool: 'slice2solid anonymize',
    profile: 'DICOM PS3.15 E.1 Basic Application Level Confidentiality Profile',
    tableEdition: PROFILE_TABLE_EDITION,
    options,
    files: { written, quarantined, failed: failures.length, skippedNotDicom: skipped },
    quarantineReasons: reasons,
    failures,
    attributes: totals,
    warnings: [
      HEAD_SKIN_WARNING,
      ...(quarantined > 0
        ? [`${quarantined} image(s) held back in the quarantine folder: check them for burned-in text`]
        : []),
    ],
  };
  writeFileAtomic(reportPath, new TextEncoder().encode(`${JSON.stringify(summary, null, 2)}\n`));
  if (mappingFile) {
    writeFileAtomic(mappingFile, new TextEncoder().encode(`${JSON.stringify(Object.fromEntries(map), null, 2)}\n`));
  }
  return summary;
}

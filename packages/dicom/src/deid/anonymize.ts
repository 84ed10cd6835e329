/**
 * DICOM de-identification: PS3.15 Annex E, Basic Application Level Confidentiality Profile, with
 * the options users need (see docs/deidentification.md for what each action does and why).
 *
 * Works at the byte/element level (element-io.ts): every element we do not change is copied
 * verbatim, so Pixel Data (native or encapsulated) stays bit-identical and the transfer syntax is
 * kept. The profile table is generated from the standard (profile-table.generated.ts).
 */
import { S2SError } from '@slice2solid/core';
// fflate's browser build: the same (synchronous) code as its Node build without the worker_threads shim
// that build loads through createRequire (a few milliseconds of start-up, and only the async API uses it)
import { deflateSync, gunzipSync, inflateSync, unzlibSync } from 'fflate/browser';
import { type BlackoutRect, blackoutPixels, burnedInReasons } from './burned-in.js';
import { dictionaryVR, keywordOf, tagString } from './dictionary.js';
import {
  concatParts,
  type DElement,
  type DItem,
  type Encoding,
  EXPLICIT_LE,
  IMPLICIT_LE,
  isStringVR,
  makeElement,
  readDataset,
  readMetaGroup,
  setString,
  stringValue,
  writeElementParts,
  writeElements,
} from './element-io.js';
import { PROFILE_TABLE } from './profile-table.generated.js';
import type { BasicAction, OptionAction, ProfileOptionName, ProfileTableEntry } from './profile-types.js';
import { safePrivateEntry } from './safe-private.js';
import { hmacSha256, sha256, utf8 } from './sha256.js';

export type { BlackoutRect } from './burned-in.js';

/** The profile options slice2solid offers (a subset of the Table E.1-1 option columns). */
export type DeidOption = Exclude<ProfileOptionName, 'cleanStructuredContent' | 'cleanGraphics'>;

export const DEID_OPTIONS: readonly DeidOption[] = [
  'retainLongModifiedDates',
  'retainLongFullDates',
  'retainPatientCharacteristics',
  'retainDeviceIdentity',
  'retainInstitutionIdentity',
  'retainUIDs',
  'retainSafePrivate',
  'cleanDescriptors',
];

/** CID 7050 code of each option (and of the basic profile, 113100). */
export const DEID_METHOD_CODES: Readonly<Record<DeidOption | 'basic' | 'cleanPixelData', readonly [string, string]>> = {
  basic: ['113100', 'Basic Application Confidentiality Profile'],
  cleanPixelData: ['113101', 'Clean Pixel Data Option'],
  cleanDescriptors: ['113105', 'Clean Descriptors Option'],
  retainLongFullDates: ['113106', 'Retain Longitudinal Temporal Information Full Dates Option'],
  retainLongModifiedDates: ['113107', 'Retain Longitudinal Temporal Information Modified Dates Option'],
  retainPatientCharacteristics: ['113108', 'Retain Patient Characteristics Option'],
  retainDeviceIdentity: ['113109', 'Retain Device Identity Option'],
  retainUIDs: ['113110', 'Retain UIDs Option'],
  retainSafePrivate: ['113111', 'Retain Safe Private Option'],
  retainInstitutionIdentity: ['113112', 'Retain Institution Identity Option'],
};

export interface AnonymizeOptions {
  /** The project key (at least 16 bytes/characters). Same key => same UIDs, pseudonyms and date shifts. */
  readonly key: Uint8Array | string;
  /** Profile options to apply on top of the basic profile. */
  readonly options?: readonly DeidOption[];
  /** Hold back files likely to carry burned-in text (reported in `quarantine`). Default true. */
  readonly quarantineBurnedIn?: boolean;
  /** Rectangles (pixels, every frame) to black out in files flagged for burned-in text. */
  readonly blackout?: readonly BlackoutRect[];
  /** Original Patient ID -> pseudonym. Entries present are used; new pseudonyms are added to it. */
  readonly patientIdMap?: Map<string, string>;
  /**
   * Original UID -> replacement UID, reused and filled in: a cache that spares recomputing the
   * HMAC of UIDs that repeat across the files of a study (Study, Series, Frame of Reference...).
   * Share it only between calls with the same `key` (the replacement depends on the key).
   */
  readonly uidCache?: Map<string, string>;
  /** Date shifts are whole days in [-maxDateShiftDays, -1]. Default 3650. */
  readonly maxDateShiftDays?: number;
  /** A NON-identifying name for error messages (e.g. "file 12"). */
  readonly name?: string;
}

export const ANONYMIZE_DEFAULTS = {
  options: [] as readonly DeidOption[],
  quarantineBurnedIn: true,
  blackout: [] as readonly BlackoutRect[],
  maxDateShiftDays: 3650,
} as const;

/** What happened to attributes, by kind. Never holds values. */
export type ReportAction =
  | 'removed'
  | 'emptied'
  | 'dummy'
  | 'uidReplaced'
  | 'pseudonymized'
  | 'dateShifted'
  | 'cleaned'
  | 'kept'
  | 'added';

export interface AttributeActionCounts {
  readonly byAction: Record<ReportAction, number>;
  /** Keyword (or "(GGGG,EEEE)" / "private") -> action -> count. Listed attributes and every change. */
  readonly byAttribute: Record<string, Partial<Record<ReportAction, number>>>;
  privateRemoved: number;
  privateKept: number;
}

export interface AnonymizeResult {
  /** The de-identified file (joined from `parts` on first access). */
  readonly bytes: Uint8Array;
  /**
   * The same file as consecutive chunks (write them in order, e.g. with writev): unchanged large
   * elements such as Pixel Data are views of the INPUT bytes, not copies, so keep the input
   * unchanged until the parts are written.
   */
  readonly parts: readonly Uint8Array[];
  readonly report: AttributeActionCounts;
  /** Why the file should be held back (likely burned-in text); absent when it may be released. */
  readonly quarantine?: string;
  /** The new SOP Instance UID (safe to use as a file name). */
  readonly sopInstanceUID?: string;
  readonly transferSyntaxUID: string;
  /** The pseudonym that replaced the Patient ID, if there was one. */
  readonly patientPseudonym?: string;
}

export function emptyReport(): AttributeActionCounts {
  return {
    byAction: {
      removed: 0,
      emptied: 0,
      dummy: 0,
      uidReplaced: 0,
      pseudonymized: 0,
      dateShifted: 0,
      cleaned: 0,
      kept: 0,
      added: 0,
    },
    byAttribute: {},
    privateRemoved: 0,
    privateKept: 0,
  };
}

/** Adds `b` into `a` (for totals over many files). */
export function mergeReports(a: AttributeActionCounts, b: AttributeActionCounts): void {
  // for-in (own keys of plain objects, in the order Object.entries gives): no arrays per file
  for (const k in b.byAction) a.byAction[k as ReportAction] += b.byAction[k as ReportAction];
  for (const attr in b.byAttribute) {
    const counts = b.byAttribute[attr]!;
    const t = (a.byAttribute[attr] ??= {});
    for (const k in counts) t[k as ReportAction] = (t[k as ReportAction] ?? 0) + (counts[k as ReportAction] ?? 0);
  }
  a.privateRemoved += b.privateRemoved;
  a.privateKept += b.privateKept;
}

// ---------------------------------------------------------------------------------------------
// Table lookup

const EXACT = new Map<number, ProfileTableEntry>();
const PATTERNS: { mask: number; value: number; entry: ProfileTableEntry }[] = [];
for (const entry of PROFILE_TABLE) {
  if (entry.tag === 'private') continue;
  if (entry.tag.includes('X')) {
    const mask = Number.parseInt(entry.tag.replace(/[0-9A-F]/g, 'F').replace(/X/g, '0'), 16) >>> 0;
    const value = Number.parseInt(entry.tag.replace(/X/g, '0'), 16) >>> 0;
    PATTERNS.push({ mask, value, entry });
  } else EXACT.set(Number.parseInt(entry.tag, 16) >>> 0, entry);
}

/** The Table E.1-1 entry for a (non-private) tag, if listed. Repeating groups (50xx, 60xx) match even groups. */
export function profileEntry(tag: number): ProfileTableEntry | undefined {
  const hit = EXACT.get(tag);
  if (hit) return hit;
  for (const p of PATTERNS) if ((tag & p.mask) >>> 0 === p.value && ((tag >>> 16) & 1) === 0) return p.entry;
  return undefined;
}

type Resolved = 'X' | 'Z' | 'D' | 'K' | 'C' | 'U' | 'U*';

/** The action for a listed attribute under the given options (option columns override the basic one). */
export function effectiveAction(
  entry: ProfileTableEntry,
  options: ReadonlySet<DeidOption>,
): BasicAction | OptionAction {
  // K if any option keeps it, else C if any cleans it, else the first option's action (no array per call)
  if (options.size === 0) return entry.basic;
  let first: OptionAction | undefined;
  let clean = false;
  for (const opt of options) {
    const a = entry.options[opt];
    if (!a) continue;
    if (a === 'K') return 'K';
    if (a === 'C') clean = true;
    first ??= a;
  }
  if (clean) return 'C';
  return first ?? entry.basic;
}

/**
 * Combined codes need IOD knowledge (Type 1/2/3) we do not have per attribute, so we always take
 * the choice that is valid for every type: X/Z -> Z, X/D, Z/D, X/Z/D -> D, X/Z/U* -> U* for
 * sequences (keep and replace the UIDs inside) and Z otherwise. Each choice removes the value.
 */
export function resolveCombined(action: BasicAction | OptionAction, vr: string): Resolved {
  switch (action) {
    case 'X/Z':
      return 'Z';
    case 'X/D':
    case 'Z/D':
    case 'X/Z/D':
      return 'D';
    case 'X/Z/U*':
      return vr === 'SQ' ? 'U*' : 'Z';
    default:
      return action;
  }
}

// ---------------------------------------------------------------------------------------------
// Keyed replacements

function keyBytes(key: Uint8Array | string): Uint8Array {
  const k = typeof key === 'string' ? utf8(key) : key;
  if (k.length < 16) {
    throw new S2SError('INVALID_ARGUMENT', 'the de-identification key is shorter than 16 bytes', {
      hint: 'use a long random project key (e.g. 32 random characters) and keep it secret',
    });
  }
  return k;
}

/** The 2.25 UID that replaces `uid` under `key` (HMAC-SHA256 -> UUIDv8 -> decimal). */
export function replacementUid(key: Uint8Array | string, uid: string): string {
  const h = hmacSha256(keyBytes(key), utf8(`uid\0${uid}`));
  return uuidV8Uid(h);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** "2.25." + the decimal of the UUIDv8 made from the first 16 bytes of `h` (version and variant set). */
function uuidV8Uid(h: Uint8Array): string {
  let hex = '0x';
  for (let i = 0; i < 16; i++) {
    const x = i === 6 ? (h[i]! & 0x0f) | 0x80 : i === 8 ? (h[i]! & 0x3f) | 0x80 : h[i]!;
    hex += HEX[x]!;
  }
  return `2.25.${BigInt(hex).toString(10)}`;
}

/** The default pseudonym for a Patient ID under `key`. */
export function patientPseudonym(key: Uint8Array | string, patientId: string): string {
  const h = hmacSha256(keyBytes(key), utf8(`patient-id\0${patientId}`));
  let s = '';
  for (let i = 0; i < 6; i++) s += h[i]!.toString(16).padStart(2, '0');
  return `ANON-${s.toUpperCase()}`;
}

/** The per-patient date shift in whole days, in [-maxDays, -1]. */
export function dateShiftDays(key: Uint8Array | string, patientId: string, maxDays = 3650): number {
  const h = hmacSha256(keyBytes(key), utf8(`date-shift\0${patientId}`));
  const u = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
  return -(1 + (u % Math.max(1, Math.floor(maxDays))));
}

const DAY_MS = 86_400_000;
function shiftYmd(ymd: string, days: number): string | undefined {
  const y = Number(ymd.slice(0, 4));
  const m = Number(ymd.slice(4, 6));
  const d = Number(ymd.slice(6, 8));
  const t = Date.UTC(y, m - 1, d);
  const check = new Date(t);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) return undefined;
  const s = new Date(t + days * DAY_MS);
  const yy = s.getUTCFullYear();
  if (yy < 1 || yy > 9999) return undefined;
  return `${String(yy).padStart(4, '0')}${String(s.getUTCMonth() + 1).padStart(2, '0')}${String(s.getUTCDate()).padStart(2, '0')}`;
}

/** Shifts a DA value (single, multi-valued or a range); undefined if any part is not a full date. */
export function shiftDA(value: string, days: number): string | undefined {
  const parts: string[] = [];
  for (const v of value.split('\\')) {
    const t = v.trim();
    if (t === '') {
      parts.push('');
      continue;
    }
    const range = /^(\d{8})?-(\d{8})?$/.exec(t);
    if (range) {
      const a = range[1] ? shiftYmd(range[1], days) : '';
      const b = range[2] ? shiftYmd(range[2], days) : '';
      if (a === undefined || b === undefined) return undefined;
      parts.push(`${a}-${b}`);
      continue;
    }
    if (!/^\d{8}$/.test(t)) return undefined;
    const s = shiftYmd(t, days);
    if (s === undefined) return undefined;
    parts.push(s);
  }
  return parts.join('\\');
}

/** Shifts the date part of DT values, keeping time and UTC offset; undefined if a date is partial. */
export function shiftDT(value: string, days: number): string | undefined {
  const parts: string[] = [];
  for (const v of value.split('\\')) {
    const t = v.trim();
    if (t === '') {
      parts.push('');
      continue;
    }
    const m = /^(\d{8})(.*)$/.exec(t);
    if (!m) return undefined;
    const s = shiftYmd(m[1]!, days);
    if (s === undefined) return undefined;
    parts.push(s + m[2]!);
  }
  return parts.join('\\');
}

// ---------------------------------------------------------------------------------------------
// Dummy values

const NUMERIC_SIZE: Record<string, number> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, AT: 4, UV: 8, SV: 8 };

function dummyString(vr: string): string {
  switch (vr) {
    case 'AE':
      return 'ANON';
    case 'AS':
      return '000Y';
    case 'CS':
      return 'ANONYMIZED';
    case 'DA':
      return '19000101';
    case 'DT':
      return '19000101000000';
    case 'TM':
      return '000000';
    case 'DS':
    case 'IS':
      return '0';
    default:
      return 'ANONYMIZED';
  }
}

// ---------------------------------------------------------------------------------------------
// The de-identifier

const TS_IMPLICIT_LE = '1.2.840.10008.1.2';
const TS_EXPLICIT_LE = '1.2.840.10008.1.2.1';
const TS_EXPLICIT_BE = '1.2.840.10008.1.2.2';
const TS_DEFLATED = '1.2.840.10008.1.2.1.99';
const NATIVE_TS = new Set([TS_IMPLICIT_LE, TS_EXPLICIT_LE, TS_EXPLICIT_BE, TS_DEFLATED]);

const PATIENT_NAME = 0x00100010;
const PATIENT_ID = 0x00100020;
const TEXT_VRS = new Set(['LO', 'SH', 'LT', 'ST', 'UT', 'UC', 'PN', 'AE', 'CS', 'UR']);

/** The Implementation Class UID slice2solid writes in the meta header. */
export const IMPLEMENTATION_CLASS_UID = uuidV8Uid(sha256(utf8('slice2solid DICOM writer')));
export const IMPLEMENTATION_VERSION_NAME = 'SLICE2SOLID_01';

interface Ctx {
  readonly key: Uint8Array;
  readonly options: ReadonlySet<DeidOption>;
  readonly report: AttributeActionCounts;
  /** The patient's date shift (computed on first use: most files shift no date). */
  readonly shiftDays: () => number;
  readonly patientIdMap: Map<string, string> | undefined;
  readonly tokens: readonly string[];
  readonly uids: Map<string, string>;
  readonly patientPseudonym: string | undefined;
}

function count(ctx: Ctx, e: DElement | number, action: ReportAction, label?: string): void {
  const tag = typeof e === 'number' ? e : e.tag;
  ctx.report.byAction[action]++;
  const name = label ?? keywordOf(tag) ?? tagString(tag);
  const t = (ctx.report.byAttribute[name] ??= {});
  t[action] = (t[action] ?? 0) + 1;
}

function uidFor(ctx: Ctx, uid: string): string {
  let r = ctx.uids.get(uid);
  if (!r) {
    r = replacementUid(ctx.key, uid);
    ctx.uids.set(uid, r);
  }
  return r;
}

function pseudonymFor(ctx: Ctx, id: string): string {
  const known = ctx.patientIdMap?.get(id);
  if (known !== undefined) return known;
  const p = patientPseudonym(ctx.key, id);
  ctx.patientIdMap?.set(id, p);
  return p;
}

const DATE_LIKE = /\b(\d{8}|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})\b/;

/** C on free text: kept only if it holds no identifying value of this file and nothing date-like. */
function cleanText(ctx: Ctx, s: string): string {
  if (DATE_LIKE.test(s)) return '';
  const upper = s.toUpperCase();
  for (const t of ctx.tokens) if (upper.includes(t)) return '';
  return s;
}

/** Tokens of identifying values (those the profile removes) used by the text cleaner. */
function collectTokens(
  elements: readonly DElement[],
  options: ReadonlySet<DeidOption>,
  out: Set<string>,
  depth = 0,
): void {
  for (const e of elements) {
    if (e.items) {
      for (const it of e.items) collectTokens(it.elements, options, out, depth + 1);
      continue;
    }
    if (!isStringVR(e.vr) || e.vr === 'UI') continue;
    const entry = profileEntry(e.tag);
    const action = entry ? resolveCombined(effectiveAction(entry, options), e.vr) : undefined;
    const value = stringValue(e);
    if (e.vr === 'DA') {
      for (const v of value.split(/[\\-]/)) {
        const m = /^(\d{4})(\d{2})(\d{2})$/.exec(v.trim());
        if (!m) continue;
        const [, y, mo, d] = m;
        out.add(`${y}${mo}${d}`);
      }
      continue;
    }
    if (!action || action === 'K' || action === 'C') continue;
    for (const tok of value.split(/[\\^=,;:\s]+/)) {
      const t = tok.trim().toUpperCase();
      if (t.length >= 3) out.add(t);
    }
  }
}

function processElements(
  ctx: Ctx,
  elements: readonly DElement[],
  depth: number,
): { out: DElement[]; changed: boolean } {
  const out: DElement[] = [];
  let changed = false;
  // Private creators of this item: block byte -> creator, and which blocks keep an element.
  // (made only for items that have private elements; indexed loops: no iterators while the JIT is cold)
  let creators: Map<number, string> | undefined;
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i]!;
    const g = e.tag >>> 16;
    const el = e.tag & 0xffff;
    if (g & 1 && el >= 0x10 && el <= 0xff) (creators ??= new Map()).set((g << 8) | el, stringValue(e));
  }
  let keptBlocks: Set<number> | undefined;
  let creatorSlots: { index: number; e: DElement; block: number }[] | undefined;

  for (let i = 0; i < elements.length; i++) {
    const e = elements[i]!;
    const group = e.tag >>> 16;
    const el = e.tag & 0xffff;
    if (group & 1) {
      if (el >= 0x10 && el <= 0xff) {
        (creatorSlots ??= []).push({ index: out.length, e, block: (group << 8) | el });
        continue;
      }
      const block = (group << 8) | (el >> 8);
      const safe =
        ctx.options.has('retainSafePrivate') && el > 0xff && e.vr !== 'SQ' && !e.items
          ? safePrivateEntry(creators?.get(block), group, el)
          : undefined;
      if (safe) {
        (keptBlocks ??= new Set()).add(block);
        ctx.report.privateKept++;
        count(ctx, e, 'kept', 'private');
        out.push(e);
      } else {
        ctx.report.privateRemoved++;
        count(ctx, e, 'removed', 'private');
        changed = true;
      }
      continue;
    }
    if (el === 0x0000) {
      // Group lengths are retired and would be wrong after editing.
      changed = true;
      continue;
    }
    if (!e.items && profileEntry(e.tag) === undefined) {
      // not in the table and not a sequence: kept as it is, unless a date (the common case, no call)
      const vr = e.vr === 'UN' ? dictionaryVR(e.tag) : e.vr;
      if (vr !== 'DA' && vr !== 'DT') {
        out.push(e);
        continue;
      }
    }
    const r = processElement(ctx, e, depth);
    if (r.changed) changed = true;
    if (r.element) out.push(r.element);
  }
  // Keep a private creator only if an element of its block survived (inserted in tag order).
  for (let i = (creatorSlots?.length ?? 0) - 1; i >= 0; i--) {
    const s = creatorSlots![i]!;
    if (keptBlocks?.has(s.block)) out.splice(s.index, 0, s.e);
    else {
      ctx.report.privateRemoved++;
      count(ctx, s.e, 'removed', 'private');
      changed = true;
    }
  }
  sortByTag(out);
  return { out, changed };
}

/** Sorts elements by tag (stable), skipping the sort (and its scratch arrays) when already in order. */
function sortByTag(elements: DElement[]): void {
  for (let i = 1; i < elements.length; i++) {
    if (elements[i]!.tag < elements[i - 1]!.tag) {
      elements.sort((a, b) => a.tag - b.tag);
      return;
    }
  }
}

function processItems(ctx: Ctx, e: DElement, depth: number): boolean {
  let changed = false;
  const items = e.items ?? [];
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const r = processElements(ctx, it.elements, depth + 1);
    it.elements = r.out;
    if (r.changed) changed = true;
  }
  if (changed) e.dirty = true;
  return changed;
}

function processElement(ctx: Ctx, e: DElement, depth: number): { element?: DElement; changed: boolean } {
  const entry = profileEntry(e.tag);
  const vr = e.vr === 'UN' ? dictionaryVR(e.tag) : e.vr;
  let action: Resolved;
  if (entry) action = resolveCombined(effectiveAction(entry, ctx.options), e.items ? 'SQ' : vr);
  else if (vr === 'DA' || vr === 'DT') {
    // Extension: dates the table does not list are treated like Study Date (see docs).
    action = ctx.options.has('retainLongFullDates') ? 'K' : ctx.options.has('retainLongModifiedDates') ? 'C' : 'Z';
  } else action = 'K';

  // Patient ID and Name: replaced by the pseudonym (a dummy value, which Z allows).
  if ((e.tag === PATIENT_ID || e.tag === PATIENT_NAME) && action === 'Z' && !e.items) {
    if (e.tag === PATIENT_ID) {
      const id = stringValue(e);
      if (id !== '') {
        setString(e, pseudonymFor(ctx, id));
        count(ctx, e, 'pseudonymized');
        return { element: e, changed: true };
      }
    } else if (depth === 0 && ctx.patientPseudonym !== undefined) {
      setString(e, ctx.patientPseudonym);
      count(ctx, e, 'pseudonymized');
      return { element: e, changed: true };
    }
  }

  switch (action) {
    case 'X':
      count(ctx, e, 'removed');
      return { changed: true };
    case 'Z':
      count(ctx, e, 'emptied');
      if (e.value.length === 0 && !e.items?.length) return { element: e, changed: false };
      e.value = new Uint8Array(0);
      if (e.items) e.items = [];
      e.dirty = true;
      return { element: e, changed: true };
    case 'D':
      return { element: dummy(ctx, e, vr), changed: true };
    case 'U':
      if (vr === 'UI' && !e.items) {
        const v = stringValue(e);
        if (v === '') return { element: e, changed: false };
        setString(
          e,
          v
            .split('\\')
            .map((u) => (u.trim() === '' ? '' : uidFor(ctx, u.trim())))
            .join('\\'),
        );
        count(ctx, e, 'uidReplaced');
        return { element: e, changed: true };
      }
      return { element: dummy(ctx, e, vr), changed: true };
    case 'U*':
    case 'K': {
      if (entry) count(ctx, e, 'kept');
      const changed = e.items ? processItems(ctx, e, depth) : false;
      return { element: e, changed };
    }
    case 'C':
      return clean(ctx, e, vr, depth);
  }
}

function dummy(ctx: Ctx, e: DElement, vr: string): DElement {
  count(ctx, e, 'dummy');
  if (e.items || vr === 'SQ') {
    e.items = [{ undefinedLength: false, elements: [] } satisfies DItem];
    e.dirty = true;
    return e;
  }
  if (vr === 'UI') {
    const v = stringValue(e);
    setString(e, v === '' ? uidFor(ctx, 'dummy') : uidFor(ctx, v));
    return e;
  }
  if (isStringVR(vr)) {
    setString(e, dummyString(vr));
    return e;
  }
  const size = NUMERIC_SIZE[vr];
  e.value = new Uint8Array(size ?? Math.max(2, e.value.length + (e.value.length & 1)));
  e.dirty = true;
  return e;
}

function clean(ctx: Ctx, e: DElement, vr: string, depth: number): { element?: DElement; changed: boolean } {
  if (e.items) {
    count(ctx, e, 'cleaned');
    return { element: e, changed: processItems(ctx, e, depth) };
  }
  const v = stringValue(e);
  if ((vr === 'DA' || vr === 'DT') && ctx.options.has('retainLongModifiedDates')) {
    if (v === '') return { element: e, changed: false };
    const days = ctx.shiftDays();
    const shifted = vr === 'DA' ? shiftDA(v, days) : shiftDT(v, days);
    if (shifted === undefined) {
      count(ctx, e, 'emptied');
      e.value = new Uint8Array(0);
      e.dirty = true;
    } else {
      count(ctx, e, 'dateShifted');
      setString(e, shifted);
    }
    return { element: e, changed: true };
  }
  if (vr === 'TM' && ctx.options.has('retainLongModifiedDates')) {
    // Whole-day shifts leave times of day unchanged.
    count(ctx, e, 'kept');
    return { element: e, changed: false };
  }
  if (TEXT_VRS.has(vr)) {
    count(ctx, e, 'cleaned');
    const c = cleanText(ctx, v);
    if (c === v) return { element: e, changed: false };
    e.value = new Uint8Array(0);
    e.dirty = true;
    return { element: e, changed: true };
  }
  count(ctx, e, 'emptied');
  e.value = new Uint8Array(0);
  e.dirty = true;
  return { element: e, changed: true };
}

// ---------------------------------------------------------------------------------------------
// File level

interface Container {
  meta: DElement[];
  hadMeta: boolean;
  dataset: Uint8Array;
  transferSyntax: string;
  enc: Encoding;
}

const VALID_VRS = new Set(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '),
);

function looksExplicit(b: Uint8Array, pos: number): boolean {
  if (pos + 6 > b.length) return false;
  const vr = String.fromCharCode(b[pos + 4]!, b[pos + 5]!);
  return VALID_VRS.has(vr);
}

function notDicom(name: string | undefined): never {
  throw new S2SError('UNSUPPORTED_FORMAT', 'this is not a DICOM file (no DICM marker and no readable data elements)', {
    hint: 'give DICOM files (.dcm, or files without extension from a scanner or PACS export)',
    ...(name ? { file: name } : {}),
  });
}

function openContainer(input: Uint8Array, name: string | undefined): Container {
  let bytes = input;
  if (bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (cause) {
      throw new S2SError('MALFORMED_FILE', 'the gzip-compressed file could not be decompressed', {
        hint: 'the archive is damaged; copy it again',
        cause,
        ...(name ? { file: name } : {}),
      });
    }
  }
  let metaStart = -1;
  if (bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d) {
    metaStart = 132;
  } else if (bytes.length >= 8 && bytes[0] === 0x02 && bytes[1] === 0x00 && looksExplicit(bytes, 0)) metaStart = 0;
  let meta: DElement[] = [];
  let datasetStart = 0;
  if (metaStart >= 0) {
    const m = readMetaGroup(bytes, metaStart, name);
    meta = m.elements;
    datasetStart = m.end;
  }
  const tsEl = meta.find((e) => e.tag === 0x00020010);
  let ts = tsEl ? stringValue(tsEl).replace(/\0/g, '').trim() : '';
  let rest = bytes.subarray(datasetStart);
  if (rest.length < 8) {
    if (metaStart < 0) notDicom(name);
    throw new S2SError('TRUNCATED_FILE', 'the file has a header but no data set', {
      hint: 'the file is cut short; copy it again from the source',
      ...(name ? { file: name } : {}),
    });
  }
  if (ts === '') {
    // No transfer syntax: sniff byte order and VR encoding from the first element.
    const g = rest[0]! | (rest[1]! << 8);
    const gBE = (rest[0]! << 8) | rest[1]!;
    const big = g > 0x00ff && gBE <= 0x00ff && gBE > 0;
    if (big) ts = TS_EXPLICIT_BE;
    else ts = looksExplicit(rest, 0) ? TS_EXPLICIT_LE : TS_IMPLICIT_LE;
    if (metaStart < 0) {
      const group = big ? gBE : g;
      if (group === 0 || group > 0x0100) notDicom(name);
    }
  }
  if (ts === TS_DEFLATED) {
    try {
      rest = inflateSync(rest);
    } catch {
      try {
        rest = unzlibSync(rest);
      } catch (cause) {
        throw new S2SError('MALFORMED_FILE', 'the deflated data set could not be decompressed', {
          hint: 'the file is damaged; copy it again',
          cause,
          ...(name ? { file: name } : {}),
        });
      }
    }
  }
  const enc: Encoding =
    ts === TS_IMPLICIT_LE ? IMPLICIT_LE : ts === TS_EXPLICIT_BE ? { explicit: true, little: false } : EXPLICIT_LE;
  return { meta, hadMeta: metaStart >= 0, dataset: rest, transferSyntax: ts, enc };
}

function codeItem(code: readonly [string, string]): DItem {
  return {
    undefinedLength: false,
    elements: [
      makeElement(0x00080100, 'SH', code[0]),
      makeElement(0x00080102, 'SH', 'DCM'),
      makeElement(0x00080104, 'LO', code[1]),
    ],
  };
}

const METHOD_NAME = 'slice2solid PS3.15 Basic Application Confidentiality Profile';

function upsert(elements: DElement[], e: DElement): void {
  const i = elements.findIndex((x) => x.tag === e.tag);
  if (i >= 0) elements[i] = e;
  else elements.push(e);
}

function addDeidAttributes(
  ctx: Ctx,
  elements: DElement[],
  oldMethodValues: readonly string[],
  options: readonly DeidOption[],
  cleanedPixels: boolean,
): void {
  const codes: (readonly [string, string])[] = [DEID_METHOD_CODES.basic];
  if (cleanedPixels) codes.push(DEID_METHOD_CODES.cleanPixelData);
  for (const o of options) codes.push(DEID_METHOD_CODES[o]);
  upsert(elements, makeElement(0x00120062, 'CS', 'YES'));
  // Keep an earlier de-identification's record and add ours.
  const values = [...oldMethodValues];
  values.push(METHOD_NAME, ...options.map((o) => DEID_METHOD_CODES[o][1].slice(0, 64)));
  upsert(elements, makeElement(0x00120063, 'LO', values.join('\\')));
  const oldSeq = elements.find((e) => e.tag === 0x00120064);
  const items: DItem[] = oldSeq?.items ? [...oldSeq.items] : [];
  const have = new Set(
    items.map((it) => {
      const cv = it.elements.find((e) => e.tag === 0x00080100);
      return cv ? stringValue(cv) : '';
    }),
  );
  for (const c of codes) if (!have.has(c[0])) items.push(codeItem(c));
  upsert(elements, makeElement(0x00120064, 'SQ', new Uint8Array(0), items));
  const temporal = ctx.options.has('retainLongFullDates')
    ? 'UNMODIFIED'
    : ctx.options.has('retainLongModifiedDates')
      ? 'MODIFIED'
      : 'REMOVED';
  upsert(elements, makeElement(0x00280303, 'CS', temporal));
  if (cleanedPixels) upsert(elements, makeElement(0x00280301, 'CS', 'NO'));
  for (const t of [0x00120062, 0x00120063, 0x00120064, 0x00280303]) count(ctx, t, 'added');
  sortByTag(elements);
}

function buildMeta(
  container: Container,
  dataset: readonly DElement[],
  ctx: Ctx,
): { bytes: Uint8Array; sopInstanceUID: string | undefined } {
  const find = (tag: number): string | undefined => {
    const e = dataset.find((x) => x.tag === tag);
    return e ? stringValue(e).replace(/\0/g, '').trim() : undefined;
  };
  const sopInstance = find(0x00080018);
  const old = new Map(container.meta.map((e) => [e.tag, e]));
  const meta: DElement[] = [];
  meta.push(makeElement(0x00020001, 'OB', new Uint8Array([0, 1])));
  const sopClass =
    (old.get(0x00020002) ? stringValue(old.get(0x00020002)!).replace(/\0/g, '') : undefined) ?? find(0x00080016);
  if (sopClass) meta.push(makeElement(0x00020002, 'UI', sopClass));
  let mediaInstance = old.get(0x00020003) ? stringValue(old.get(0x00020003)!).replace(/\0/g, '') : undefined;
  if (sopInstance) mediaInstance = sopInstance;
  else if (mediaInstance && !ctx.options.has('retainUIDs')) mediaInstance = uidFor(ctx, mediaInstance);
  if (mediaInstance) meta.push(makeElement(0x00020003, 'UI', mediaInstance));
  if (old.has(0x00020003)) count(ctx, 0x00020003, ctx.options.has('retainUIDs') ? 'kept' : 'uidReplaced');
  meta.push(makeElement(0x00020010, 'UI', container.transferSyntax));
  meta.push(makeElement(0x00020012, 'UI', IMPLEMENTATION_CLASS_UID));
  meta.push(makeElement(0x00020013, 'SH', IMPLEMENTATION_VERSION_NAME));
  // Source/Sending/Receiving AE Titles name devices; private meta information is dropped.
  const ae = ctx.options.has('retainDeviceIdentity') ? [0x00020016, 0x00020017, 0x00020018] : [];
  for (const t of ae) {
    const e = old.get(t);
    if (e) meta.push(makeElement(t, 'AE', stringValue(e)));
  }
  for (const t of [0x00020016, 0x00020017, 0x00020018, 0x00020100, 0x00020102]) {
    if (old.has(t) && !ae.includes(t)) count(ctx, t, 'removed');
  }
  sortByTag(meta);
  const body = writeElements(meta, EXPLICIT_LE);
  const groupLength = new Uint8Array(4);
  new DataView(groupLength.buffer).setUint32(0, body.length, true);
  const all = writeElements([makeElement(0x00020000, 'UL', groupLength)], EXPLICIT_LE);
  const out = new Uint8Array(all.length + body.length);
  out.set(all);
  out.set(body, all.length);
  return { bytes: out, sopInstanceUID: sopInstance };
}

/**
 * De-identifies one DICOM file (Part 10, or a bare data set) under PS3.15 E.1 Basic Profile plus
 * the chosen options. Pure and synchronous: bytes in, bytes out. Throws S2SError on input that is
 * not DICOM or is damaged; never returns half a file.
 */
export function anonymizeDicom(input: Uint8Array, options: AnonymizeOptions): AnonymizeResult {
  const key = keyBytes(options.key);
  const opts = new Set(options.options ?? ANONYMIZE_DEFAULTS.options);
  for (const o of opts) {
    if (!DEID_OPTIONS.includes(o)) {
      throw new S2SError('INVALID_ARGUMENT', `unknown de-identification option "${String(o)}"`, {
        hint: `use one of: ${DEID_OPTIONS.join(', ')}`,
      });
    }
  }
  if (opts.has('retainLongFullDates') && opts.has('retainLongModifiedDates')) {
    throw new S2SError('INVALID_ARGUMENT', 'retainLongFullDates and retainLongModifiedDates exclude each other', {
      hint: 'choose one of them',
    });
  }
  const name = options.name;
  const container = openContainer(input, name);
  const original = readDataset(container.dataset, container.enc, name);
  if (original.length === 0) notDicom(name);
  const reasons = burnedInReasons(original);

  const patientIdEl = original.find((e) => e.tag === PATIENT_ID);
  const patientId = patientIdEl ? stringValue(patientIdEl) : '';
  const tokens = new Set<string>();
  if (opts.has('cleanDescriptors') || opts.has('retainPatientCharacteristics')) collectTokens(original, opts, tokens);
  let shift: number | undefined;
  const ctx: Ctx = {
    key,
    options: opts,
    report: emptyReport(),
    shiftDays: () =>
      (shift ??= dateShiftDays(key, patientId, options.maxDateShiftDays ?? ANONYMIZE_DEFAULTS.maxDateShiftDays)),
    patientIdMap: options.patientIdMap,
    tokens: [...tokens],
    uids: options.uidCache ?? new Map(),
    patientPseudonym: undefined,
  };
  const pseudonym = patientId !== '' ? pseudonymFor(ctx, patientId) : undefined;
  const ctx2: Ctx = { ...ctx, patientPseudonym: pseudonym };

  const oldMethod = original.find((e) => e.tag === 0x00120063);
  const oldMethodValues = oldMethod
    ? stringValue(oldMethod)
        .split('\\')
        .filter((v) => v.trim() !== '')
    : [];
  const { out } = processElements(ctx2, original, 0);

  let quarantine: string | undefined;
  let cleanedPixels = false;
  if (reasons.length > 0) {
    const rects = options.blackout ?? ANONYMIZE_DEFAULTS.blackout;
    if (rects.length > 0) {
      const why = blackoutPixels(out, rects, NATIVE_TS.has(container.transferSyntax), container.enc.little);
      if (why === undefined) cleanedPixels = true;
      else quarantine = `${reasons.join('; ')}; black-out not possible: ${why}`;
    } else if (options.quarantineBurnedIn ?? ANONYMIZE_DEFAULTS.quarantineBurnedIn) quarantine = reasons.join('; ');
  }
  const appliedOptions = DEID_OPTIONS.filter((o) => opts.has(o));
  addDeidAttributes(ctx2, out, oldMethodValues, appliedOptions, cleanedPixels);

  const meta = buildMeta(container, out, ctx2);
  const head = 132 + meta.bytes.length;
  let parts: Uint8Array[];
  if (container.transferSyntax === TS_DEFLATED) {
    const deflated = deflateSync(writeElements(out, container.enc));
    const bytes = new Uint8Array(head + deflated.length);
    bytes.set(deflated, head);
    parts = [bytes];
  } else parts = writeElementParts(out, container.enc, head);
  const first = parts[0]!;
  first.set([0x44, 0x49, 0x43, 0x4d], 128);
  first.set(meta.bytes, 132);
  let joined: Uint8Array | undefined;
  return {
    get bytes() {
      joined ??= concatParts(parts);
      return joined;
    },
    parts,
    report: ctx2.report,
    transferSyntaxUID: container.transferSyntax,
    ...(quarantine !== undefined ? { quarantine } : {}),
    ...(meta.sopInstanceUID !== undefined ? { sopInstanceUID: meta.sopInstanceUID } : {}),
    ...(pseudonym !== undefined ? { patientPseudonym: pseudonym } : {}),
  };
}

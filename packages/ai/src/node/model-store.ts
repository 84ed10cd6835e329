/**
 * The local model store (Node only). A model package is a folder holding `model.json` (the card,
 * docs/models.md) and the ONNX file its `file` field names. Two places hold packages:
 *
 *  - built-in models: the repository's top-level `models/<name>/` folder, found from this
 *    module's location (works from `src/` and from `dist/`); read-only;
 *  - the user store: `$SLICE2SOLID_MODELS`, or `~/.slice2solid/models`; `addModel` copies a
 *    package there and `removeModel` deletes it.
 *
 * Nothing is ever downloaded. Resolving a model validates the card and checks the ONNX file's
 * SHA-256 against the card's `sha256` (a mismatch is an error: the file is not the one the card
 * describes). A user-store model shadows a built-in one of the same name.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S2SError } from '@slice2solid/core';
import { type ModelCard, parseModelCard } from '../model-card.js';

export const MODEL_CARD_FILE = 'model.json';

export interface ModelStoreOptions {
  /** The user store folder (default: $SLICE2SOLID_MODELS or ~/.slice2solid/models). */
  readonly store?: string;
  /** The built-in models folder (default: the repository's top-level models/). */
  readonly builtin?: string;
}

export type ModelSource = 'builtin' | 'user' | 'path';

export interface ModelEntry {
  readonly name: string;
  readonly source: ModelSource;
  readonly dir: string;
  /** The validated card; undefined when the package is broken (see `problem`). */
  readonly card?: ModelCard;
  /** Why the package cannot be used (bad card, missing ONNX file). */
  readonly problem?: string;
  /** A user-store model of the same name hides this one. */
  readonly shadowed?: boolean;
  readonly onnxBytes?: number;
}

export interface ResolvedModel {
  readonly card: ModelCard;
  readonly onnx: Uint8Array;
  readonly dir: string;
  readonly source: ModelSource;
  /** Hex SHA-256 of the ONNX file (checked against the card when it gives one). */
  readonly sha256: string;
  readonly warnings: readonly string[];
}

/** The user store folder. */
export function userModelsDir(options: ModelStoreOptions = {}, env: NodeJS.ProcessEnv = process.env): string {
  if (options.store) return resolve(options.store);
  const fromEnv = env.SLICE2SOLID_MODELS;
  if (fromEnv && fromEnv.trim() !== '') return resolve(fromEnv);
  return join(homedir(), '.slice2solid', 'models');
}

/**
 * The built-in models folder: `models/` at the repository root (this file is
 * packages/ai/{src,dist}/node/model-store.*), or a `models/` folder shipped inside the package.
 */
export function builtinModelsDir(options: ModelStoreOptions = {}): string {
  if (options.builtin) return resolve(options.builtin);
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '..', '..', '..', '..', 'models'), resolve(here, '..', '..', 'models')];
  return candidates.find((c) => existsSync(c)) ?? candidates[0]!;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function readCardAt(cardPath: string): { card: ModelCard; raw: Record<string, unknown> } {
  let text: string;
  try {
    text = readFileSync(cardPath, 'utf8');
  } catch (cause) {
    throw new S2SError('IO_ERROR', `the model card ${basename(cardPath)} cannot be read`, {
      hint: `a model package is a folder with ${MODEL_CARD_FILE} and the ONNX file it names`,
      file: cardPath,
      cause,
    });
  }
  const card = parseModelCard(text, cardPath);
  return { card, raw: JSON.parse(text) as Record<string, unknown> };
}

/** The card path of a package folder or card file. */
function cardPathOf(path: string): string {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) {
    throw new S2SError('IO_ERROR', `no model package at ${path}`, {
      hint: `give a folder holding ${MODEL_CARD_FILE} (or the card itself), or the name of a model from "slice2solid models list"`,
    });
  }
  return st.isDirectory() ? join(path, MODEL_CARD_FILE) : path;
}

function entriesIn(dir: string, source: 'builtin' | 'user'): ModelEntry[] {
  if (!existsSync(dir)) return [];
  const out: ModelEntry[] = [];
  for (const name of readdirSync(dir).sort()) {
    const pkg = join(dir, name);
    if (!statSync(pkg).isDirectory() || !existsSync(join(pkg, MODEL_CARD_FILE))) continue;
    try {
      const { card } = readCardAt(join(pkg, MODEL_CARD_FILE));
      const onnx = join(pkg, card.file);
      if (!existsSync(onnx)) {
        out.push({ name: card.name, source, dir: pkg, card, problem: `the ONNX file ${card.file} is missing` });
      } else {
        out.push({ name: card.name, source, dir: pkg, card, onnxBytes: statSync(onnx).size });
      }
    } catch (e) {
      out.push({ name, source, dir: pkg, problem: (e as Error).message });
    }
  }
  return out;
}

/** Every model package in the user store and the built-in folder (user first), broken ones included. */
export function listModels(options: ModelStoreOptions = {}): ModelEntry[] {
  const user = entriesIn(userModelsDir(options), 'user');
  const names = new Set(user.map((e) => e.name));
  const builtin = entriesIn(builtinModelsDir(options), 'builtin').map((e) =>
    names.has(e.name) ? { ...e, shadowed: true } : e,
  );
  return [...user, ...builtin];
}

function looksLikePath(s: string): boolean {
  return s.includes('/') || s.includes('\\') || s.endsWith('.json') || s === '.' || s === '..';
}

function loadPackage(cardPath: string, source: ModelSource): ResolvedModel {
  const { card } = readCardAt(cardPath);
  const dir = dirname(cardPath);
  const onnxPath = join(dir, card.file);
  let onnx: Uint8Array;
  try {
    onnx = new Uint8Array(readFileSync(onnxPath));
  } catch (cause) {
    throw new S2SError('IO_ERROR', `the model "${card.name}" has no ONNX file ${card.file} next to its card`, {
      hint: 'the card\'s "file" field must name the .onnx file in the same folder',
      file: cardPath,
      cause,
    });
  }
  const sha256 = sha256Hex(onnx);
  const warnings: string[] = [];
  if (card.sha256 === undefined) {
    warnings.push(`the card of "${card.name}" gives no sha256, so the ONNX file could not be checked`);
  } else if (card.sha256 !== sha256) {
    throw new S2SError(
      'MALFORMED_FILE',
      `the ONNX file of "${card.name}" does not match its card (sha256 ${sha256.slice(0, 12)}..., the card says ${card.sha256.slice(0, 12)}...)`,
      { hint: 'the file was changed or replaced; reinstall the model package', file: onnxPath },
    );
  }
  return { card, onnx, dir, source, sha256, warnings };
}

/**
 * Loads a model by name (user store first, then built-in) or by path (a package folder or its
 * card), validating the card and the ONNX checksum.
 */
export function resolveModel(nameOrPath: string, options: ModelStoreOptions & { cwd?: string } = {}): ResolvedModel {
  const asPath = resolve(options.cwd ?? process.cwd(), nameOrPath);
  if (looksLikePath(nameOrPath) || (existsSync(asPath) && !/^[a-z0-9][a-z0-9._-]*$/.test(nameOrPath))) {
    return loadPackage(cardPathOf(asPath), 'path');
  }
  for (const [dir, source] of [
    [userModelsDir(options), 'user'],
    [builtinModelsDir(options), 'builtin'],
  ] as const) {
    const hit = entriesIn(dir, source).find((e) => e.name === nameOrPath);
    if (hit) return loadPackage(join(hit.dir, MODEL_CARD_FILE), source);
  }
  if (existsSync(asPath)) return loadPackage(cardPathOf(asPath), 'path');
  const known = listModels(options)
    .filter((e) => !e.problem && !e.shadowed)
    .map((e) => e.name);
  throw new S2SError('INVALID_ARGUMENT', `no model called "${nameOrPath}"`, {
    hint:
      known.length > 0
        ? `installed models: ${known.join(', ')}; or give the path of a model package folder`
        : 'no model is installed: add one with "slice2solid models add <folder>", or give the path of a model package folder',
  });
}

export interface AddModelOptions extends ModelStoreOptions {
  /** Replace a user-store model of the same name. */
  readonly force?: boolean;
}

/**
 * Copies a model package (folder or card path) into the user store as `<store>/<name>/`: the
 * card (with `sha256` filled in when it had none), the ONNX file and any LICENSE / README /
 * NOTICE files. The copy is written to a temporary folder and renamed into place.
 */
export function addModel(dirOrCard: string, options: AddModelOptions = {}): ModelEntry {
  const cardPath = cardPathOf(resolve(dirOrCard));
  const pkg = loadPackage(cardPath, 'path');
  const { raw } = readCardAt(cardPath);
  const store = userModelsDir(options);
  const target = join(store, pkg.card.name);
  if (existsSync(target) && !options.force) {
    throw new S2SError('INVALID_ARGUMENT', `the model store already has a model called "${pkg.card.name}"`, {
      hint: 'remove it first ("slice2solid models remove <name>") or add with --force to replace it',
    });
  }
  mkdirSync(store, { recursive: true });
  const tmp = join(store, `.${pkg.card.name}.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(tmp);
  try {
    writeFileSync(join(tmp, MODEL_CARD_FILE), `${JSON.stringify({ ...raw, sha256: pkg.sha256 }, null, 2)}\n`);
    writeFileSync(join(tmp, pkg.card.file), pkg.onnx);
    for (const f of readdirSync(pkg.dir)) {
      if (/^(LICEN[SC]E|README|NOTICE)/i.test(f) && statSync(join(pkg.dir, f)).isFile()) {
        copyFileSync(join(pkg.dir, f), join(tmp, f));
      }
    }
    if (existsSync(target)) rmSync(target, { recursive: true });
    renameSync(tmp, target);
  } catch (cause) {
    rmSync(tmp, { recursive: true, force: true });
    throw new S2SError('IO_ERROR', `the model could not be copied into ${store}`, {
      hint: 'check that the folder is writable (or set SLICE2SOLID_MODELS to another folder)',
      cause,
    });
  }
  return { name: pkg.card.name, source: 'user', dir: target, card: pkg.card, onnxBytes: pkg.onnx.length };
}

/** Deletes a model from the user store (built-in models cannot be removed). */
export function removeModel(name: string, options: ModelStoreOptions = {}): { dir: string } {
  const hit = entriesIn(userModelsDir(options), 'user').find((e) => e.name === name);
  if (!hit) {
    const builtin = entriesIn(builtinModelsDir(options), 'builtin').some((e) => e.name === name);
    throw new S2SError(
      'INVALID_ARGUMENT',
      builtin
        ? `"${name}" is a built-in model; built-in models cannot be removed`
        : `the model store has no model called "${name}"`,
      { hint: 'see "slice2solid models list"' },
    );
  }
  rmSync(hit.dir, { recursive: true });
  return { dir: hit.dir };
}

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isS2SError } from '@slice2solid/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addModel,
  builtinModelsDir,
  listModels,
  removeModel,
  resolveModel,
  userModelsDir,
} from '../../src/node/model-store.js';
import { thresholdCardJson, thresholdOnnx } from '../helpers/threshold-model.js';

const root = mkdtempSync(join(tmpdir(), 's2s-model-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes a model package folder; returns its path. */
function writePackage(dir: string, card: Record<string, unknown> = thresholdCardJson()): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify(card));
  writeFileSync(join(dir, 'model.onnx'), thresholdOnnx());
  writeFileSync(join(dir, 'LICENSE.txt'), 'Apache-2.0');
  writeFileSync(join(dir, 'checkpoint.pt'), 'not copied');
  return dir;
}

describe('model store', () => {
  const store = join(root, 'store');
  const builtin = join(root, 'builtin');
  const opts = { store, builtin };

  it('finds the user store from the option, $SLICE2SOLID_MODELS or the home folder, and the built-in folder from the package', () => {
    expect(userModelsDir({ store: '/x/y' })).toBe('/x/y');
    expect(userModelsDir({}, { SLICE2SOLID_MODELS: '/a/b' })).toBe('/a/b');
    expect(userModelsDir({}, {})).toMatch(/\.slice2solid[\\/]models$/);
    expect(builtinModelsDir()).toMatch(/[\\/]models$/);
    expect(listModels({ store: join(root, 'none'), builtin: join(root, 'none2') })).toEqual([]);
  });

  it('adds a package (card with its checksum, ONNX, licence), lists, resolves and removes it', () => {
    const src = writePackage(join(root, 'run1'));
    const added = addModel(src, opts);
    expect(added.name).toBe('tiny-threshold');
    expect(added.dir).toBe(join(store, 'tiny-threshold'));
    const copied = JSON.parse(readFileSync(join(added.dir, 'model.json'), 'utf8'));
    expect(copied.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(join(added.dir, 'LICENSE.txt'), 'utf8')).toBe('Apache-2.0');
    expect(() => readFileSync(join(added.dir, 'checkpoint.pt'))).toThrow();

    const list = listModels(opts);
    expect(list.map((e) => [e.name, e.source])).toEqual([['tiny-threshold', 'user']]);
    const r = resolveModel('tiny-threshold', opts);
    expect(r.source).toBe('user');
    expect(Array.from(r.onnx)).toEqual(Array.from(thresholdOnnx()));
    expect(r.sha256).toBe(copied.sha256);
    expect(r.warnings).toEqual([]);
    // by path: the source folder (no sha256 in its card: a warning) or the card file
    const byPath = resolveModel(src, opts);
    expect(byPath.source).toBe('path');
    expect(byPath.warnings.join(' ')).toMatch(/no sha256/);
    expect(resolveModel(join(src, 'model.json'), opts).card.name).toBe('tiny-threshold');

    expect(() => addModel(src, opts)).toThrow(/already has a model called "tiny-threshold"/);
    expect(addModel(src, { ...opts, force: true }).name).toBe('tiny-threshold');

    removeModel('tiny-threshold', opts);
    expect(listModels(opts)).toEqual([]);
    expect(() => removeModel('tiny-threshold', opts)).toThrow(/no model called "tiny-threshold"/);
  });

  it('lets a user model shadow a built-in one; built-in models cannot be removed', () => {
    writePackage(join(builtin, 'tiny'), thresholdCardJson({ name: 'tiny' }));
    expect(resolveModel('tiny', opts).source).toBe('builtin');
    addModel(join(builtin, 'tiny'), opts);
    const list = listModels(opts);
    expect(list.map((e) => [e.name, e.source, e.shadowed ?? false])).toEqual([
      ['tiny', 'user', false],
      ['tiny', 'builtin', true],
    ]);
    expect(resolveModel('tiny', opts).source).toBe('user');
    removeModel('tiny', opts);
    expect(() => removeModel('tiny', opts)).toThrow(/built-in models cannot be removed/);
  });

  it('rejects a changed ONNX file, a broken card, a missing ONNX file and unknown names, with clear messages', () => {
    const pkg = writePackage(join(root, 'bad'), thresholdCardJson({ name: 'bad', sha256: 'a'.repeat(64) }));
    const err = (() => {
      try {
        resolveModel(pkg, opts);
      } catch (e) {
        return e;
      }
    })();
    expect(isS2SError(err)).toBe(true);
    expect((err as Error).message).toMatch(/does not match its card/);

    const broken = join(builtin, 'broken');
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, 'model.json'), JSON.stringify(thresholdCardJson({ name: 'broken', input: {} })));
    const noOnnx = join(builtin, 'noonnx');
    mkdirSync(noOnnx, { recursive: true });
    writeFileSync(join(noOnnx, 'model.json'), JSON.stringify(thresholdCardJson({ name: 'noonnx' })));
    const list = listModels(opts);
    expect(list.find((e) => e.name === 'broken')!.problem).toMatch(/input\.channels/);
    expect(list.find((e) => e.name === 'noonnx')!.problem).toMatch(/ONNX file model\.onnx is missing/);
    expect(() => resolveModel('noonnx', opts)).toThrow(/no ONNX file model\.onnx/);
    expect(() => resolveModel('liver-xl', opts)).toThrow(/no model called "liver-xl".*installed models: tiny/);
    expect(() => addModel(join(root, 'nowhere'), opts)).toThrow(/no model package at/);
  });
});

import { makeGrid, makeVolume } from '@slice2solid/core';
import { describe, expect, it } from 'vitest';
import {
  buildModel,
  geometryRecord,
  HEAD_SKIN_WARNING,
  hashInputFiles,
  inputRecord,
  makeRunRecord,
  RUN_RECORD_SCHEMA,
  runRecordJson,
  runRecordName,
  sha256Hex,
} from '../../src/index.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('hashes', () => {
  it('sha256Hex matches the FIPS 180-2 test vectors', async () => {
    expect(await sha256Hex(enc('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    // a view into a larger buffer hashes only its own bytes
    const big = enc('xxabcxx');
    expect(await sha256Hex(big.subarray(2, 5))).toBe(await sha256Hex(enc('abc')));
  });

  it('one file: its hash; several: the hash of the per-file digests joined by newlines', async () => {
    const one = await hashInputFiles([{ bytes: enc('abc') }]);
    expect(one).toEqual({ sha256: await sha256Hex(enc('abc')), bytes: 3 });
    const two = await hashInputFiles([{ bytes: enc('abc') }, { bytes: enc('de') }]);
    const each = [await sha256Hex(enc('abc')), await sha256Hex(enc('de'))];
    expect(two.fileSha256).toEqual(each);
    expect(two.sha256).toBe(await sha256Hex(enc(each.join('\n'))));
    expect(two.bytes).toBe(5);
    // order matters (a different series order is a different input)
    const swapped = await hashInputFiles([{ bytes: enc('de') }, { bytes: enc('abc') }]);
    expect(swapped.sha256).not.toBe(two.sha256);
  });
});

describe('run record', () => {
  const grid = makeGrid({
    size: [4, 5, 6],
    spacing: [0.5, 0.75, 2],
    origin: [10, -20, 30],
    direction: [
      [0, 1, 0],
      [1, 0, 0],
      [0, 0, 1],
    ],
  });

  it('geometry: size, spacing, origin, direction, orientation code and handedness', () => {
    expect(geometryRecord(grid)).toEqual({
      size: [4, 5, 6],
      spacingMm: [0.5, 0.75, 2],
      originMm: [10, -20, 30],
      direction: [
        [0, 1, 0],
        [1, 0, 0],
        [0, 0, 1],
      ],
      orientation: 'PLS',
      leftHanded: true,
    });
  });

  it('copies nothing from the header but the modality code (fake identifiers in meta stay out)', () => {
    const volume = makeVolume({
      grid,
      data: new Int16Array(120),
      units: 'HU',
      meta: {
        modality: 'CT',
        seriesDescription: 'Head DOE^JOHN 1970-01-01',
        PatientName: 'DOE^JOHN',
        PatientID: 'MRN-12345678',
        StudyInstanceUID: '1.2.840.113619.2.55.3.1234',
        StudyDate: '20240102',
        manufacturer: 'ACME',
      },
    });
    const rec = inputRecord({ kind: 'dicom', grid, hashes: { sha256: 'f'.repeat(64), bytes: 240 }, files: 1, volume });
    expect(rec).toMatchObject({ kind: 'dicom', modality: 'CT', units: 'HU', voxelType: 'int16', files: 1, bytes: 240 });
    const json = JSON.stringify(rec);
    for (const bad of ['DOE', 'JOHN', 'MRN-12345678', '1.2.840', '20240102', '1970', 'Head', 'ACME']) {
      expect(json).not.toContain(bad);
    }
    // a modality that is not a plain code is dropped too
    const odd = makeVolume({ grid, data: new Int16Array(120), meta: { modality: 'DOE^JOHN' } });
    expect(inputRecord({ kind: 'x', grid, hashes: { sha256: '0', bytes: 0 }, files: 1, volume: odd }).modality).toBe(
      undefined,
    );
  });

  it('a whole record from buildModel: schema, steps, metrics, warnings; outputs without folders; NaN as null', async () => {
    const data = new Int16Array(120).fill(-1000);
    data[2 + 2 * 4 + 3 * 20] = 500;
    data[1 + 2 * 4 + 3 * 20] = 500;
    const volume = makeVolume({ grid, data, units: 'HU' });
    const model = await buildModel(volume, { segment: { preset: 'skin' }, smoothIterations: 2 });
    expect(model.warnings).toContain(HEAD_SKIN_WARNING);
    const rec = makeRunRecord({
      tool: { name: 'slice2solid', version: '9.9.9' },
      command: 'convert',
      runAt: new Date('2030-05-06T07:08:09Z'),
      seconds: 1.23456,
      input: inputRecord({ kind: 'phantom', grid, hashes: { sha256: 'a'.repeat(64), bytes: 240 }, files: 1, volume }),
      steps: model.steps,
      outputs: [{ file: '/home/someone/DOE_JOHN/skin.stl', format: 'stl', bytes: 84, sha256: 'b'.repeat(64) }],
      metrics: { ...model.metrics, nothing: Number.NaN },
      accuracy: model.accuracy,
      warnings: model.warnings,
    });
    expect(rec.schema).toBe(RUN_RECORD_SCHEMA);
    expect(rec.runAt).toBe('2030-05-06T07:08:09.000Z');
    expect(rec.seconds).toBe(1.235);
    expect(rec.outputs[0]!.file).toBe('skin.stl');
    const json = runRecordJson(rec);
    const back = JSON.parse(json);
    expect(back.metrics.nothing).toBe(null);
    expect(back.steps.map((s: { step: string }) => s.step)).toEqual(['segment', 'surface', 'smooth', 'accuracy']);
    expect(back.warnings).toContain(HEAD_SKIN_WARNING);
    expect(json).not.toContain('DOE_JOHN');
    expect(json).not.toContain('/home');
  });

  it('runRecordName replaces the model extension', () => {
    expect(runRecordName('out/skull.stl')).toBe('skull.run.json');
    expect(runRecordName('a.b.GLB')).toBe('a.b.run.json');
    expect(runRecordName('model.3mf')).toBe('model.run.json');
    expect(runRecordName('noext')).toBe('noext.run.json');
  });
});

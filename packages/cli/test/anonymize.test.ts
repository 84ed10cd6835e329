import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { dataPath, itData } from '../../../test-utils/shared-data.js';
import { makeElement } from '../../dicom/src/deid/element-io.js';
import { containsBytes, FAKE, fixtureFile } from '../../dicom/test/deid-fixture.js';
import { anonymizeCommand, HEAD_SKIN_WARNING, runAnonymize } from '../src/commands/anonymize.js';
import { ANONYMIZE_IO_DEFAULTS } from '../src/commands/anonymize-writer.js';
import type { CommandContext, ParsedArgs } from '../src/commands/types.js';

const root = mkdtempSync(join(tmpdir(), 's2s-anon-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function ctx(cwd: string) {
  let out = '';
  let err = '';
  const c: CommandContext = {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    cwd,
    debug: false,
    run: {},
  };
  return { c, out: () => out, err: () => err };
}

function args(positionals: string[], values: ParsedArgs['values'] = {}): ParsedArgs {
  return { positionals, values };
}

function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

const PHI = [
  FAKE.patientName,
  'Johnathan',
  'Doe',
  FAKE.patientId,
  FAKE.birthDate,
  FAKE.accession,
  FAKE.institution,
  FAKE.studyDate,
  FAKE.studyUid,
  FAKE.sopUid,
];

function setup(name: string) {
  const dir = join(root, name);
  const input = join(dir, 'in', 'Doe_Johnathan', FAKE.patientId);
  mkdirSync(input, { recursive: true });
  writeFileSync(join(input, `${FAKE.patientName}-1.dcm`), fixtureFile({ sopUid: '1.2.3.4.5.6.7.31' }));
  writeFileSync(join(input, `${FAKE.accession}-2.dcm`), fixtureFile({ sopUid: '1.2.3.4.5.6.7.32' }));
  writeFileSync(join(input, 'scout-burned.dcm'), fixtureFile({ sopUid: '1.2.3.4.5.6.7.33', burnedIn: 'YES' }));
  writeFileSync(join(input, 'notes.txt'), `patient ${FAKE.patientName}`);
  writeFileSync(join(input, 'broken.dcm'), fixtureFile().subarray(0, 400));
  writeFileSync(join(dir, 'project.key'), 'cli-test-key-0123456789abcdef\n');
  return dir;
}

describe('slice2solid anonymize (folders, zip, quarantine, report, mapping)', () => {
  it('folder in -> folder out: no identifier in any written byte or file name; report counts only', async () => {
    const dir = setup('folder');
    const { c, out } = ctx(dir);
    const code = await anonymizeCommand.run(
      c,
      args(['in', 'out'], { 'key-file': 'project.key', 'mapping-file': 'private/map.json' }),
    );
    expect(code).toBe(1); // the truncated file failed
    const written = allFiles(join(dir, 'out'));
    const quarantined = allFiles(join(dir, 'out-quarantine'));
    expect(written.filter((p) => p.endsWith('.dcm'))).toHaveLength(2);
    expect(quarantined).toHaveLength(1);
    for (const p of [...written, ...quarantined]) {
      const rel = relative(dir, p);
      for (const v of PHI) expect(rel.includes(v), `${rel} names ${v}`).toBe(false);
      expect(rel).toMatch(/^(out|out-quarantine)\/(dir-\d{3}\/)*(2\.25\.\d+\.dcm|deid-report\.json)$/);
      const bytes = new Uint8Array(readFileSync(p));
      for (const v of PHI) expect(containsBytes(bytes, v), `${rel} contains ${v}`).toBe(false);
    }
    expect(written.some((p) => p.includes('.partial-'))).toBe(false);
    const report = JSON.parse(readFileSync(join(dir, 'out', 'deid-report.json'), 'utf8'));
    expect(report.files).toEqual({ written: 2, quarantined: 1, failed: 1, skippedNotDicom: 1 });
    expect(report.attributes.byAttribute.PatientName.pseudonymized).toBe(3);
    expect(report.warnings).toContain(HEAD_SKIN_WARNING);
    expect(out()).toContain('warning: a skin surface of a head');
    // the mapping file is the one place the original ID is written, where the user asked
    const map = JSON.parse(readFileSync(join(dir, 'private', 'map.json'), 'utf8'));
    expect(Object.keys(map)).toEqual([FAKE.patientId]);
  });

  it('zip in -> zip out, same UIDs on a second run with the same key, mapping file reused', async () => {
    const dir = setup('zip');
    const files: Record<string, Uint8Array> = {};
    for (const p of allFiles(join(dir, 'in'))) files[relative(join(dir, 'in'), p)] = new Uint8Array(readFileSync(p));
    writeFileSync(join(dir, 'study.zip'), zipSync(files));
    writeFileSync(join(dir, 'map.json'), JSON.stringify({ [FAKE.patientId]: 'SUBJ-007' }));
    const { c } = ctx(dir);
    await runAnonymize(c, args(['study.zip', 'share.zip'], { 'key-file': 'project.key', 'mapping-file': 'map.json' }));
    const first = unzipSync(new Uint8Array(readFileSync(join(dir, 'share.zip'))));
    await runAnonymize(c, args(['study.zip', 'share2.zip'], { 'key-file': 'project.key', 'mapping-file': 'map.json' }));
    const second = unzipSync(new Uint8Array(readFileSync(join(dir, 'share2.zip'))));
    expect(Object.keys(first).sort()).toEqual(Object.keys(second).sort());
    expect(Object.keys(first)).toHaveLength(2);
    for (const [name, bytes] of Object.entries(first)) {
      for (const v of PHI) expect(containsBytes(bytes, v)).toBe(false);
      expect(containsBytes(bytes, 'SUBJ-007')).toBe(true);
      expect(name).toMatch(/^dir-001\/dir-001\/2\.25\.\d+\.dcm$/);
    }
    expect(JSON.parse(readFileSync(join(dir, 'share.report.json'), 'utf8')).files.written).toBe(2);
  });

  it('refuses to run without a key, and a mapping file inside <out>', async () => {
    const dir = setup('usage');
    const { c } = ctx(dir);
    await expect(runAnonymize(c, args(['in', 'out']))).rejects.toThrow(/project key/);
    await expect(
      runAnonymize(c, args(['in', 'out'], { 'key-file': 'project.key', 'mapping-file': 'out/map.json' })),
    ).rejects.toThrow(/must not be inside/);
    await expect(
      runAnonymize(c, args(['in', 'out'], { 'key-file': 'project.key', 'profile-options': 'keep-everything' })),
    ).rejects.toThrow(/unknown profile option/);
  });

  it('a single malformed file: clear error, nothing written', async () => {
    const dir = setup('single');
    const { c } = ctx(dir);
    await expect(
      runAnonymize(c, args(['in/Doe_Johnathan/PID-778899/broken.dcm', 'single-out'], { 'key-file': 'project.key' })),
    ).rejects.toThrow(/TRUNCATED|cut short|ends inside/);
    expect(() => statSync(join(dir, 'single-out'))).toThrow();
  });

  it('a folder of many files (read ahead and written on the thread pool) gives exactly the files of the in-memory zip path', async () => {
    const dir = join(root, 'many');
    // more files than buffers in flight (read ahead + written), so buffers are reused; 3 held back
    const n = Math.max(40, ANONYMIZE_IO_DEFAULTS.readAhead + ANONYMIZE_IO_DEFAULTS.writesInFlight + 8);
    for (let i = 0; i < n; i++) {
      // a large unchanged element (> 4 KiB) is written as a view of the (reused) input buffer
      const lut = new Uint8Array(6000 + 2 * i);
      for (let k = 0; k < lut.length; k++) lut[k] = (k * 31 + i * 7) & 0xff;
      const sub = join(dir, 'in', `series-${i % 3}`);
      mkdirSync(sub, { recursive: true });
      writeFileSync(
        join(sub, `${FAKE.patientName}-${i}.dcm`),
        fixtureFile({
          sopUid: `1.2.3.4.5.6.8.${i}`,
          ...(i % 17 === 5 ? { burnedIn: 'YES' } : {}),
          extra: [makeElement(0x00281201, 'OW', lut)],
        }),
      );
    }
    writeFileSync(join(dir, 'in', 'series-1', 'notes.txt'), 'not DICOM');
    writeFileSync(join(dir, 'project.key'), 'cli-test-key-0123456789abcdef\n');
    const { c } = ctx(dir);
    const a = await runAnonymize(c, args(['in', 'out'], { 'key-file': 'project.key' }));
    const b = await runAnonymize(c, args(['in', 'out.zip'], { 'key-file': 'project.key', quarantine: 'q-zip' }));
    expect(a.files).toEqual(b.files);
    expect(a.files.quarantined).toBe(3);
    expect(a.files.written + a.files.quarantined).toBe(n);
    const zipped = unzipSync(new Uint8Array(readFileSync(join(dir, 'out.zip'))));
    const written = allFiles(join(dir, 'out')).filter((p) => p.endsWith('.dcm'));
    expect(written.map((p) => relative(join(dir, 'out'), p)).sort()).toEqual(Object.keys(zipped).sort());
    for (const p of written) {
      const want = zipped[relative(join(dir, 'out'), p)]!;
      expect(Buffer.compare(readFileSync(p), want), p).toBe(0);
    }
    // held-back files: written the same way by the folder run and the zip run
    const q1 = allFiles(join(dir, 'out-quarantine')).map((p) => relative(join(dir, 'out-quarantine'), p));
    expect(q1).toHaveLength(3);
    expect(allFiles(join(dir, 'q-zip')).map((p) => relative(join(dir, 'q-zip'), p))).toEqual(q1);
    for (const r of q1) {
      expect(Buffer.compare(readFileSync(join(dir, 'out-quarantine', r)), readFileSync(join(dir, 'q-zip', r))), r).toBe(
        0,
      );
    }
    expect(readdirSync(join(dir, 'out')).some((f) => f.includes('.partial-'))).toBe(false);
  });

  itData('cookies folder: all three held back as secondary captures, none of their fake PHI anywhere', async () => {
    const dir = join(root, 'cookies');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'k.key'), 'cookie-test-key-0123456789abcdef');
    const { c } = ctx(dir);
    const s = await runAnonymize(
      c,
      args([dataPath('dicom-deid-fake-phi-cookies'), 'out'], { 'key-file': 'k.key', 'keep-dates-shifted': true }),
    );
    expect(s.files.quarantined).toBe(3);
    const csv = readFileSync(dataPath('dicom-deid-fake-phi-cookies', 'identifying_attributes_pydicom.csv'), 'utf8');
    const values = csv
      .trim()
      .split(/\r?\n/)
      .slice(1)
      .map((l) => l.split(',').slice(4).join(','))
      .filter((v) => v.length >= 3 && !/^\d{6}$/.test(v)); // times of day are kept under the dates-shifted option
    for (const p of allFiles(dir)) {
      if (p.endsWith('.key')) continue;
      const bytes = new Uint8Array(readFileSync(p));
      for (const v of values) expect(containsBytes(bytes, v), `${relative(dir, p)} has ${v}`).toBe(false);
      expect(containsBytes(bytes, strToU8('20131210'))).toBe(false); // the study date, shifted
    }
  });
});

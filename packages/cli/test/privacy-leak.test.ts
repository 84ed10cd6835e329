// Issue 5, "no leaks elsewhere": run every command of the pipeline on a DICOM series carrying
// fake patient identifiers (in the headers AND in the folder and file names) and search every
// byte written — output files, sidecars, run records, stdout, stderr — for those values.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeGrid } from '@slice2solid/core';
import { writeCtSeries } from '@slice2solid/dicom';
import { makeCtHeadPhantom } from '@slice2solid/ops';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXPLICIT_LE,
  makeElement,
  readDataset,
  readMetaGroup,
  writeElements,
} from '../../dicom/src/deid/element-io.js';
import { runCli } from '../src/cli.js';

const FAKE = {
  patientName: 'Quixote^Alonso',
  patientId: 'MRN-5551234',
  birthDate: '19470823',
  accession: 'ACCX99821',
  institution: 'Hospital de la Mancha',
  studyDate: '20190704',
  referring: 'Panza^Sancho',
  studyDescription: 'CT HEAD Quixote',
};
/** Byte strings that must never appear in anything we write (also case-folded and '^'-split forms). */
const NEEDLES = [
  FAKE.patientName,
  'Quixote',
  'Alonso',
  FAKE.patientId,
  '5551234',
  FAKE.birthDate,
  FAKE.accession,
  FAKE.institution,
  'Mancha',
  FAKE.studyDate,
  'Panza',
  'Sancho',
];

function withFakePhi(bytes: Uint8Array): Uint8Array {
  const { end } = readMetaGroup(bytes, 132);
  const elements = readDataset(bytes.subarray(end), EXPLICIT_LE).filter(
    (e) => ![0x00080020, 0x00080050, 0x00080080, 0x00080090, 0x00081030, 0x00100030].includes(e.tag),
  );
  elements.push(
    makeElement(0x00080020, 'DA', FAKE.studyDate),
    makeElement(0x00080050, 'SH', FAKE.accession),
    makeElement(0x00080080, 'LO', FAKE.institution),
    makeElement(0x00080090, 'PN', FAKE.referring),
    makeElement(0x00081030, 'LO', FAKE.studyDescription),
    makeElement(0x00100030, 'DA', FAKE.birthDate),
  );
  elements.sort((a, b) => a.tag - b.tag);
  const body = writeElements(elements, EXPLICIT_LE);
  const out = new Uint8Array(end + body.length);
  out.set(bytes.subarray(0, end), 0);
  out.set(body, end);
  return out;
}

function containsAny(haystack: Uint8Array, needles: readonly string[]): string | undefined {
  const text = Buffer.from(haystack).toString('latin1').toLowerCase();
  const utf16 = Buffer.from(haystack).toString('utf16le').toLowerCase();
  for (const n of needles) {
    const l = n.toLowerCase();
    if (text.includes(l) || utf16.includes(l)) return n;
  }
  return undefined;
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

const root = mkdtempSync(join(tmpdir(), 's2s-privacy-'));
// the input folder itself is named after the (fake) patient, as PACS exports often are
const input = join(root, 'Quixote_Alonso', FAKE.patientId);
const outDir = join(root, 'out');
let console = '';

async function cli(...argv: string[]): Promise<number> {
  const sink = { write: (t: string) => void (console += t) };
  return runCli(argv, { stdout: sink, stderr: sink, cwd: root });
}

beforeAll(() => {
  mkdirSync(input, { recursive: true });
  mkdirSync(outDir, { recursive: true });
  const grid = makeGrid({ size: [48, 52, 40], spacing: [4, 4, 5], origin: [-94, -102, -97.5] });
  const phantom = makeCtHeadPhantom({ grid });
  const files = writeCtSeries(phantom, {
    patientName: FAKE.patientName,
    patientId: FAKE.patientId,
    seriesDescription: `Head ${FAKE.patientName}`,
    allowQuantization: true,
  });
  for (const [n, f] of files.entries()) writeFileSync(join(input, `${FAKE.patientId}_${n}.dcm`), withFakePhi(f.bytes));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('no patient identifier leaks into anything slice2solid writes', () => {
  it('the fixture really carries the fake identifiers', () => {
    const first = allFiles(input)[0]!;
    expect(containsAny(readFileSync(first), [FAKE.patientName])).toBe(FAKE.patientName);
    expect(containsAny(readFileSync(first), [FAKE.institution])).toBe(FAKE.institution);
    expect(containsAny(new TextEncoder().encode(first), [FAKE.patientId])).toBe(FAKE.patientId);
  });

  it('runs info, volume, segment, stats, convert and mesh, and none of their bytes hold an identifier', async () => {
    const o = (name: string) => join(outDir, name);
    const runs: [string, number][] = [];
    const run = async (...argv: string[]) => runs.push([argv.join(' '), await cli(...argv)]);
    await run('info', input);
    await run('info', input, '--json');
    await run('volume', input, o('vol.nii.gz'));
    await run('volume', input, o('vol.nrrd'));
    await run('volume', input, o('vol.mha'));
    await run('segment', input, o('bone.nii.gz'), '--preset', 'bone', '--keep-largest');
    await run('segment', input, o('bone.seg.nrrd'), '--preset', 'bone');
    await run('segment', input, o('bone-seg.dcm'), '--preset', 'bone');
    await run('stats', o('bone.nii.gz'), '--image', input);
    await run('stats', o('bone.nii.gz'), '--json');
    for (const ext of ['stl', 'glb', 'obj', 'ply', '3mf'])
      await run('convert', input, o(`skull.${ext}`), '--preset', 'bone');
    await run('convert', input, o('skin.stl'), '--preset', 'skin');
    await run('mesh', o('bone.nii.gz'), o('from-labels.glb'));
    // every command must have succeeded, or we would be checking nothing
    expect(runs.filter(([, code]) => code !== 0)).toEqual([]);

    const written = allFiles(outDir);
    expect(written.length).toBeGreaterThanOrEqual(15);
    expect(written.some((f) => f.endsWith('.run.json'))).toBe(true);
    const leaks: string[] = [];
    for (const f of written) {
      const hit = containsAny(readFileSync(f), NEEDLES) ?? containsAny(new TextEncoder().encode(f), NEEDLES);
      if (hit) leaks.push(`${f.slice(outDir.length + 1)}: ${hit}`);
    }
    const hit = containsAny(new TextEncoder().encode(console), NEEDLES);
    if (hit) leaks.push(`console output: ${hit}`);
    expect(leaks).toEqual([]);
    // the skin surface of a head identifies a person: the summary says so
    expect(console.toLowerCase()).toContain('identif');
  }, 300_000);
});

// De-identification on every DICOM file in ../shared/data (in memory, no files written).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { isS2SError } from '@slice2solid/core';
import { expect } from 'vitest';
import { dataPath, describeData, itData, SHARED_DATA } from '../../../test-utils/shared-data.js';
import { type DataSet, dicomParser } from '../src/dataset.js';
import {
  anonymizeDicom,
  type DeidOption,
  effectiveAction,
  profileEntry,
  resolveCombined,
} from '../src/deid/anonymize.js';
import { dictionaryVR } from '../src/deid/dictionary.js';
import { parseDicom } from '../src/index.js';
import { containsBytes } from './deid-fixture.js';

const KEY = 'shared-data-test-key-0123456789';

function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

function isDicomCandidate(path: string, b: Uint8Array): boolean {
  const dicm = b.length > 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;
  return dicm || /\.dcm(\.gz)?$/.test(path);
}

/** Leaf values by path ("x00081140[0].x00081155"), read by dicom-parser (independent of our reader). */
function leaves(ds: DataSet, prefix = '', out = new Map<string, { tag: number; vr?: string; bytes: Uint8Array }>()) {
  for (const [k, el] of Object.entries(ds.elements)) {
    const tag = Number.parseInt(k.slice(1), 16) >>> 0;
    const path = prefix + k;
    if (el.items) {
      el.items.forEach((it, i) => {
        if (it.dataSet) leaves(it.dataSet, `${path}[${i}].`, out);
      });
      continue;
    }
    if (el.length === 0xffffffff || el.dataOffset + el.length > ds.byteArray.length) continue;
    out.set(path, {
      tag,
      ...(el.vr ? { vr: el.vr } : {}),
      bytes: ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length),
    });
  }
  return out;
}

const trim = (b: Uint8Array) => new TextDecoder('latin1').decode(b).replace(/[\0 ]+$/, '');

function tryParse(b: Uint8Array): DataSet | undefined {
  try {
    return dicomParser.parseDicom(b);
  } catch {
    return undefined;
  }
}

function actionOf(tag: number, vr: string, options: ReadonlySet<DeidOption>): string {
  const entry = profileEntry(tag);
  if (entry) return resolveCombined(effectiveAction(entry, options), vr);
  return vr === 'DA' || vr === 'DT' ? 'Z' : 'K';
}

const GEOMETRY_FIELDS = [
  'position',
  'orientation',
  'pixelSpacing',
  'sliceThickness',
  'rescaleSlope',
  'rescaleIntercept',
] as const;

describeData('de-identification on ../shared/data', () => {
  const files = HAVE() ? allFiles(SHARED_DATA).filter((p) => !p.includes('dicom-robustness')) : [];
  function HAVE() {
    try {
      return statSync(dataPath('MANIFEST.md')).isFile();
    } catch {
      return false;
    }
  }

  itData('cookies: every checklist attribute is removed or replaced; no fake value anywhere in the output', () => {
    const csv = readFileSync(dataPath('dicom-deid-fake-phi-cookies', 'identifying_attributes_pydicom.csv'), 'utf8');
    const rows = csv
      .trim()
      .split(/\r?\n/)
      .slice(1)
      .map((line) => {
        const m = /^([^,]+),"\(([0-9A-F]{4}),([0-9A-F]{4})\)",([^,]+),([A-Z]{2}),(.*)$/i.exec(line)!;
        return { file: m[1]!, tag: `x${m[2]!.toLowerCase()}${m[3]!.toLowerCase()}`, keyword: m[4]!, value: m[6]! };
      });
    expect(rows.length).toBeGreaterThan(30);
    const byFile = new Map<string, typeof rows>();
    for (const r of rows) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);
    const allValues = new Set(rows.map((r) => r.value).filter((v) => v.length >= 3));
    const outputs: Uint8Array[] = [];
    for (const [file, list] of byFile) {
      const input = new Uint8Array(readFileSync(dataPath('dicom-deid-fake-phi-cookies', file)));
      const r = anonymizeDicom(input, { key: KEY });
      expect(r.quarantine, 'secondary capture photo must be held back').toMatch(/secondary capture/);
      outputs.push(r.bytes);
      const out = dicomParser.parseDicom(r.bytes);
      for (const row of list) {
        const el = out.elements[row.tag];
        const now = el ? trim(r.bytes.subarray(el.dataOffset, el.dataOffset + el.length)) : undefined;
        expect(now, `${file} ${row.keyword}`).not.toBe(row.value);
      }
    }
    for (const bytes of outputs) {
      for (const v of allValues) {
        const forms = [v, v.replace(/ /g, '^'), v.toUpperCase(), v.toLowerCase(), v.replace(/ /g, '^').toUpperCase()];
        for (const f of forms) expect(containsBytes(bytes, f), `"${f}" leaked`).toBe(false);
        const utf16 = new Uint8Array(v.length * 2);
        for (let i = 0; i < v.length; i++) utf16[i * 2] = v.charCodeAt(i);
        expect(containsBytes(bytes, utf16), `"${v}" leaked as UTF-16`).toBe(false);
      }
    }
  });

  itData('every DICOM file: no non-K attribute keeps its value; pixels bit-identical; same geometry on reload', () => {
    const none = new Set<DeidOption>();
    let checked = 0;
    let independent = 0;
    let geometry = 0;
    for (const path of files) {
      const input = new Uint8Array(readFileSync(path));
      if (!isDicomCandidate(path, input)) continue;
      const name = relative(SHARED_DATA, path);
      let r: ReturnType<typeof anonymizeDicom>;
      try {
        r = anonymizeDicom(input, { key: KEY, name });
      } catch (e) {
        // the only shared file that cannot be anonymized is the deliberately truncated one
        expect(isS2SError(e), name).toBe(true);
        expect(name).toMatch(/too_short/);
        continue;
      }
      checked++;
      const a = tryParse(input);
      const b = tryParse(r.bytes);
      if (a) {
        expect(b, `${name}: output must parse where input did`).toBeDefined();
        independent++;
        const before = leaves(a);
        const after = leaves(b!);
        for (const [p, v] of before) {
          const group = v.tag >>> 16;
          if (group === 0x0002 || v.tag === 0x7fe00010) continue;
          const now = after.get(p);
          if (group & 1) {
            expect(now, `${name} ${p}: private attribute kept`).toBeUndefined();
            continue;
          }
          const vr = v.vr ?? dictionaryVR(v.tag);
          const action = actionOf(v.tag, vr, none);
          const old = trim(v.bytes);
          if (action === 'K' || action === 'U*' || old === '') continue;
          if (now) expect(trim(now.bytes), `${name} ${p} (${action}) kept its value`).not.toBe(old);
        }
        const pa = a.elements.x7fe00010;
        const pb = b!.elements.x7fe00010;
        if (pa) {
          expect(pb, `${name}: pixel data lost`).toBeDefined();
          const x = input.subarray(pa.dataOffset, pa.dataOffset + pa.length);
          const y = r.bytes.subarray(pb!.dataOffset, pb!.dataOffset + pb!.length);
          expect(Buffer.compare(Buffer.from(x), Buffer.from(y)), `${name}: pixel data changed`).toBe(0);
        }
      }
      let fa: ReturnType<typeof parseDicom> | undefined;
      try {
        fa = parseDicom(input);
      } catch {
        fa = undefined;
      }
      if (fa) {
        const fb = parseDicom(r.bytes);
        geometry++;
        expect([fb.rows, fb.columns, fb.numberOfFrames, fb.transferSyntaxUID]).toEqual([
          fa.rows,
          fa.columns,
          fa.numberOfFrames,
          fa.transferSyntaxUID,
        ]);
        for (let i = 0; i < fa.frames.length; i++) {
          for (const k of GEOMETRY_FIELDS)
            expect(fb.frames[i]![k], `${name} frame ${i} ${k}`).toEqual(fa.frames[i]![k]);
        }
      }
    }
    expect(checked).toBeGreaterThan(450);
    expect(independent).toBeGreaterThan(400);
    expect(geometry).toBeGreaterThan(400);
  });

  itData('Retain Safe Private keeps what mosaics and Philips scaling need: same parsed volume facts', () => {
    const wanted = [
      'dicom-mr-siemens-mosaic-orientation',
      'dicom-mr-philips-classic',
      'dicom-mr-ge-siemens-nih/dicom/20180918Si',
    ];
    let n = 0;
    for (const path of files.filter((p) => wanted.some((w) => p.includes(w)))) {
      const input = new Uint8Array(readFileSync(path));
      if (!isDicomCandidate(path, input)) continue;
      const fa = parseDicom(input);
      const r = anonymizeDicom(input, { key: KEY, options: ['retainSafePrivate'] });
      const fb = parseDicom(r.bytes);
      expect([fb.mosaicSlices, fb.mosaicNormal, fb.philipsScaleSlope]).toEqual([
        fa.mosaicSlices,
        fa.mosaicNormal,
        fa.philipsScaleSlope,
      ]);
      n++;
    }
    expect(n).toBeGreaterThan(20);
  });

  itData('malformed inputs from dicom-robustness: a clear S2SError or a valid result, never a crash', () => {
    const dir = dataPath('dicom-robustness');
    let errors = 0;
    let ok = 0;
    for (const path of allFiles(dir)) {
      if (/\.(txt|md|csv)$/.test(path)) continue;
      const name = relative(dir, path);
      const input = new Uint8Array(readFileSync(path));
      try {
        const r = anonymizeDicom(input, { key: KEY, name });
        expect(tryParse(r.bytes) ?? parseDicom(r.bytes), name).toBeDefined();
        ok++;
      } catch (e) {
        expect(isS2SError(e), `${name}: ${String(e)}`).toBe(true);
        expect((e as Error).message.length).toBeGreaterThan(20);
        errors++;
      }
    }
    expect(errors).toBeGreaterThanOrEqual(2); // MR_truncated and rtplan_truncated at least
    expect(ok).toBeGreaterThan(20);
  });

  const haveGdcm =
    spawnSync('gdcmanon', ['--version']).status !== null && spawnSync('openssl', ['version']).status === 0;
  (haveGdcm || process.env.CI ? itData : itData.skip)(
    'side by side with gdcmanon (basic profile): we remove or replace at least every attribute it does',
    () => {
      const tmp = mkdtempSync(join(tmpdir(), 's2s-gdcmanon-'));
      try {
        execFileSync(
          'openssl',
          [
            'req',
            '-x509',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-days',
            '1',
            '-subj',
            '/CN=s2s-test',
            '-keyout',
            join(tmp, 'key.pem'),
            '-out',
            join(tmp, 'cert.pem'),
          ],
          { stdio: 'ignore' },
        );
        // one file per dataset folder keeps this fast
        const seen = new Set<string>();
        const sample: string[] = [];
        for (const p of files) {
          const dir = relative(SHARED_DATA, p).split('/').slice(0, 2).join('/');
          const b = readFileSync(p);
          if (seen.has(dir) || !isDicomCandidate(p, new Uint8Array(b)) || p.endsWith('.gz')) continue;
          seen.add(dir);
          sample.push(p);
        }
        const differences = new Map<string, number>();
        let compared = 0;
        let withGeometry = 0;
        for (const [i, p] of sample.entries()) {
          const input = new Uint8Array(readFileSync(p));
          const a = tryParse(input);
          if (!a) continue;
          const inFile = join(tmp, `in${i}.dcm`);
          const outFile = join(tmp, `gdcm${i}.dcm`);
          writeFileSync(inFile, input);
          const res = spawnSync('gdcmanon', ['-e', '-c', join(tmp, 'cert.pem'), '--continue', inFile, outFile]);
          if (res.status !== 0) continue;
          const g = tryParse(new Uint8Array(readFileSync(outFile)));
          const oursBytes = anonymizeDicom(input, { key: KEY }).bytes;
          const ours = tryParse(oursBytes);
          if (!g || !ours) continue;
          compared++;
          // DCMTK and GDCM read our output, with the same geometry attributes as the input
          const oursFile = join(tmp, `ours${i}.dcm`);
          writeFileSync(oursFile, oursBytes);
          const geo = (f: string) =>
            spawnSync('dcmdump', ['-q', '+P', '0020,0032', '+P', '0020,0037', '+P', '0028,0030', f], {
              encoding: 'utf8',
            });
          // every geometry value in our output is one of the input's (private sequences, which may
          // nest geometry copies, are gone), and none is lost where the input has it
          const dIn = geo(inFile);
          const dOut = geo(oursFile);
          expect(dOut.status, `dcmdump on our output of ${p}`).toBe(0);
          const inLines = new Set(dIn.stdout.split('\n'));
          for (const line of dOut.stdout.split('\n')) expect(inLines.has(line), `${p}: ${line}`).toBe(true);
          expect(dOut.stdout.includes('ImagePositionPatient')).toBe(dIn.stdout.includes('ImagePositionPatient'));
          if (dOut.stdout.includes('ImagePositionPatient')) withGeometry++;
          expect(spawnSync('gdcminfo', [oursFile]).status, `gdcminfo on our output of ${p}`).toBe(0);
          const before = leaves(a);
          const byGdcm = leaves(g);
          const byUs = leaves(ours);
          for (const [path, v] of before) {
            if (v.tag >>> 16 === 0x0002 || v.tag === 0x7fe00010) continue;
            const old = trim(v.bytes);
            const gv = byGdcm.get(path);
            const gdcmChanged = !gv || trim(gv.bytes) !== old;
            if (!gdcmChanged || old === '') continue;
            const uv = byUs.get(path);
            if (uv && trim(uv.bytes) === old)
              differences.set(path.replace(/\[\d+\]/g, '[]'), (differences.get(path) ?? 0) + 1);
          }
        }
        expect(compared).toBeGreaterThan(8);
        expect(withGeometry).toBeGreaterThan(5);
        expect([...differences.keys()], 'attributes gdcmanon changed but we kept').toEqual([]);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  );
});

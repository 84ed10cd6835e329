#!/usr/bin/env node
// Benchmark (not a test): de-identify the 300-file CT series bench-data/ct_dicom with
// slice2solid (in-process, files read and written) and with gdcmanon (basic profile) in the same run.
//   node --conditions=source --import tsx scripts/bench-deid.mjs   (or after `npm run build`: node scripts/bench-deid.mjs)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SERIES = join(ROOT, 'bench-data', 'ct_dicom');
if (!existsSync(SERIES)) {
  console.log('generating bench-data (flock /tmp/s2s-benchdata.lock)...');
  execFileSync(
    'flock',
    [
      '/tmp/s2s-benchdata.lock',
      'sh',
      '-c',
      `[ -f bench-data/ct.json ] || /usr/bin/python3 ${join(ROOT, '..', 'shared', 'bench', 'make_phantom.py')} ct bench-data`,
    ],
    { cwd: ROOT, stdio: 'inherit' },
  );
}
const { anonymizeDicom } = await import('@slice2solid/dicom');
const files = readdirSync(SERIES)
  .filter((n) => !n.startsWith('.'))
  .sort();
const tmp = mkdtempSync(join(tmpdir(), 's2s-bench-deid-'));
const KEY = 'bench-key-0123456789abcdef0123';
const runs = Number(process.env.RUNS ?? 3);

function ours() {
  const out = join(tmp, 'ours');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  const t0 = performance.now();
  for (const n of files) {
    const r = anonymizeDicom(readFileSync(join(SERIES, n)), { key: KEY });
    writeFileSync(join(out, `${r.sopInstanceUID}.dcm`), r.bytes);
  }
  return performance.now() - t0;
}

let gdcm;
const haveGdcm = spawnSync('gdcmanon', ['--version']).status !== null;
if (haveGdcm) {
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
      '/CN=bench',
      '-keyout',
      join(tmp, 'key.pem'),
      '-out',
      join(tmp, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  gdcm = () => {
    const out = join(tmp, 'gdcm');
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out);
    const t0 = performance.now();
    execFileSync('gdcmanon', ['-e', '-c', join(tmp, 'cert.pem'), '--continue', '-i', SERIES, '-o', out], {
      stdio: 'ignore',
    });
    return performance.now() - t0;
  };
}
const bytes = files.reduce((s, n) => s + readFileSync(join(SERIES, n)).length, 0);
const best = (f) => Math.min(...Array.from({ length: runs }, f));
const tOurs = best(ours);
const tGdcm = gdcm ? best(gdcm) : undefined;
console.log(`series: ${files.length} files, ${(bytes / 1048576).toFixed(1)} MiB; best of ${runs}`);
console.log(
  `slice2solid anonymizeDicom: ${tOurs.toFixed(0)} ms (${((files.length / tOurs) * 1000).toFixed(0)} files/s)`,
);
if (tGdcm !== undefined)
  console.log(`gdcmanon -e (basic profile): ${tGdcm.toFixed(0)} ms (ratio ours/gdcm = ${(tOurs / tGdcm).toFixed(2)})`);
else console.log('gdcmanon not installed: no comparison');
rmSync(tmp, { recursive: true, force: true });

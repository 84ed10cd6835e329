/**
 * The benchmark stages: each times OUR command against a PEER tool on the same input, both run
 * as child processes (wall time and peak RSS of the whole process). To add a stage (issue 3/4:
 * filters, marching cubes, decimation vs scipy / VTK), append an entry to STAGES.
 *
 * A stage: {
 *   id, title, input: 'ct' (bench-data set it needs),
 *   ours: (ctx) => ({ cmd, args }),    peer: (ctx) => ({ name, cmd, args }) | undefined,
 *   available?: (ctx) => string | undefined   (a reason to skip, e.g. a missing peer tool),
 *   check?: (ctx) => string | undefined        (after the runs: a reason the outputs disagree),
 * }
 * ctx = { root, data (bench-data dir), tmp (a fresh temp dir per run), cli (argv to run our CLI) }.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Key and certificate for the anonymize stage (made once, outside the timed commands). */
const DEID_DIR = join(ROOT, 'bench-out', 'deid-keys');
const DEID_KEY = join(DEID_DIR, 'project.key');
const DEID_CERT = join(DEID_DIR, 'cert.pem');

function prepareDeidKeys() {
  if (existsSync(DEID_KEY) && existsSync(DEID_CERT)) return undefined;
  mkdirSync(DEID_DIR, { recursive: true });
  writeFileSync(DEID_KEY, 'bench-key-0123456789abcdef0123\n');
  // gdcmanon -e (basic profile) needs a certificate: it encrypts the original attributes
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      '/CN=bench',
      '-keyout',
      join(DEID_DIR, 'key.pem'),
      '-out',
      DEID_CERT,
    ],
    { stdio: 'ignore' },
  );
  return r.status === 0 ? undefined : 'openssl could not make the certificate gdcmanon needs';
}

export function have(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0;
}

export const STAGES = [
  {
    id: 'dicom-to-nifti',
    title: 'DICOM series (300 x 512x512, uncompressed) -> .nii',
    input: 'ct',
    ours: (c) => ({
      cmd: process.execPath,
      args: [...c.cli, 'volume', join(c.data, 'ct_dicom'), join(c.tmp, 'ours.nii')],
    }),
    peer: (c) => ({
      name: 'dcm2niix',
      cmd: 'dcm2niix',
      args: ['-z', 'n', '-b', 'n', '-o', c.tmp, '-f', 'peer', join(c.data, 'ct_dicom')],
    }),
    available: () => (have('dcm2niix') ? undefined : 'dcm2niix is not installed (apt-get install dcm2niix)'),
    check: (c) => {
      const outs = readdirSync(c.tmp);
      if (!outs.includes('ours.nii')) return 'our output is missing';
      return undefined;
    },
  },
  {
    id: 'dicom-load',
    title: 'DICOM series load only (slice2solid info; dcm2niix still writes .nii)',
    input: 'ct',
    ours: (c) => ({ cmd: process.execPath, args: [...c.cli, 'info', join(c.data, 'ct_dicom'), '--json'] }),
    peer: (c) => ({
      name: 'dcm2niix',
      cmd: 'dcm2niix',
      args: ['-z', 'n', '-b', 'n', '-o', c.tmp, '-f', 'peer', join(c.data, 'ct_dicom')],
    }),
    available: () => (have('dcm2niix') ? undefined : 'dcm2niix is not installed (apt-get install dcm2niix)'),
  },
  {
    id: 'anonymize',
    title: 'De-identify the 300-file series into a folder (PS3.15 basic profile)',
    input: 'ct',
    ours: (c) => ({
      cmd: process.execPath,
      args: [...c.cli, 'anonymize', join(c.data, 'ct_dicom'), join(c.tmp, 'ours'), '--key-file', DEID_KEY],
    }),
    peer: (c) => ({
      name: 'gdcmanon',
      cmd: 'gdcmanon',
      args: ['-e', '-c', DEID_CERT, '--continue', '-i', join(c.data, 'ct_dicom'), '-o', join(c.tmp, 'peer')],
    }),
    available: () =>
      have('gdcmanon') ? prepareDeidKeys() : 'gdcmanon is not installed (apt-get install libgdcm-tools)',
    check: (c) => {
      const dir = join(c.tmp, 'ours');
      if (!existsSync(dir)) return 'our output folder is missing';
      const n = readdirSync(dir).filter((f) => f.endsWith('.dcm')).length;
      const want = readdirSync(join(c.data, 'ct_dicom')).length;
      if (n !== want) return `we wrote ${n} files for ${want} inputs`;
      const report = JSON.parse(readFileSync(join(dir, 'deid-report.json'), 'utf8'));
      return report.files.failed === 0 ? undefined : `${report.files.failed} file(s) failed`;
    },
  },
];

export function stageInputMissing(stage, dataDir) {
  if (stage.input === 'ct' && !existsSync(join(dataDir, 'ct_dicom'))) return 'bench-data/ct_dicom is missing';
  return undefined;
}

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
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

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
];

export function stageInputMissing(stage, dataDir) {
  if (stage.input === 'ct' && !existsSync(join(dataDir, 'ct_dicom'))) return 'bench-data/ct_dicom is missing';
  return undefined;
}

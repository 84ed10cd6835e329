#!/usr/bin/env node
// Benchmark of the ops filters against scipy.ndimage on the same volume in the same run
// (a benchmark, not a test). Each operation runs in its own fresh process, ours (Node) and
// scipy's (/usr/bin/python3), so wall time and peak RSS are measured per operation.
//
//   node scripts/bench-ops.mjs [--volume bench-data/ct.nii] [--out bench-out/ops.json] [--only gaussian,edt]
//                              [--threads N] [--repeat R]
//
// Gaussian, median and closing run on a worker-thread ParallelRunner (@slice2solid/ops/node) with
// --threads threads (default: every core; 1 = single-threaded, no runner); its start-up (once
// per process, like a thread pool) is reported apart as runnerStartS and not in `seconds`.
// scipy.ndimage is single-threaded. --repeat R runs each side R times (fresh processes) and
// keeps the median time.
//
// The volume is generated if missing (512x512x300 int16 CT phantom, 0.7x0.7x1.0 mm) with
// ../shared/bench/make_phantom.py or $S2S_MAKE_PHANTOM. Operations: Gaussian sigma 1 mm,
// median radius 1 (3x3x3), connected components (26) of > 300 HU, Euclidean distance transform
// of that mask (mm), closing of that mask with a 2 mm ball.
//
// Programmatic use: import { benchOps } from './bench-ops.mjs'; await benchOps({ volumePath, out }).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const PYTHON = '/usr/bin/python3';
export const OPS = ['gaussian', 'median', 'cc26', 'edt', 'close2mm'];

// ---------------------------------------------------------------------------------------------
// child: ours
async function childOurs(op, volumePath, threads) {
  const { readNifti } = await import('@slice2solid/io');
  const ops = await import('@slice2solid/ops');
  let parallel;
  let runnerStartS = 0;
  if (threads > 1 && (op === 'gaussian' || op === 'median' || op === 'close2mm')) {
    const { createWorkerRunner } = await import('@slice2solid/ops/node');
    const t = performance.now();
    parallel = await createWorkerRunner({ threads });
    runnerStartS = (performance.now() - t) / 1000;
  }
  const volume = readNifti(new Uint8Array(readFileSync(volumePath)));
  const { grid } = volume;
  let mask;
  if (op !== 'gaussian' && op !== 'median') {
    mask = new Uint8Array(volume.data.length);
    for (let p = 0; p < mask.length; p++) mask[p] = volume.data[p] > 300 ? 1 : 0;
  }
  globalThis.gc?.();
  const base = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let summary;
  switch (op) {
    case 'gaussian': {
      const out = ops.gaussian(volume, { sigmaMm: 1, mode: 'nearest', parallel });
      summary = { checksum: sum(out.data) };
      break;
    }
    case 'median': {
      const out = ops.median(volume, { radius: 1, parallel });
      summary = { checksum: sum(out.data) };
      break;
    }
    case 'cc26': {
      const out = ops.connectedComponents(mask, grid, { connectivity: 26 });
      summary = { components: out.count };
      break;
    }
    case 'edt': {
      const out = ops.edt(mask, grid);
      summary = { checksum: sum(out), max: max(out) };
      break;
    }
    case 'close2mm': {
      const out = ops.close(mask, grid, { radiusMm: 2, parallel });
      summary = { voxels: sum(out) };
      break;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await parallel?.close();
  return {
    seconds,
    cpuS: (cpu.user + cpu.system) / 1e6,
    threads: parallel ? threads : 1,
    runnerStartS,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    baseRssMB: base / 2 ** 20,
    size: grid.size,
    spacing: grid.spacing,
    ...summary,
  };
}

function sum(a) {
  let s = 0;
  for (let p = 0; p < a.length; p++) s += a[p];
  return s;
}
function max(a) {
  let m = -Infinity;
  for (let p = 0; p < a.length; p++) if (a[p] > m) m = a[p];
  return m;
}

// ---------------------------------------------------------------------------------------------
// child: scipy
const PY = `
import sys, json, time, resource, numpy as np, scipy.ndimage as ndi
op, path = sys.argv[1], sys.argv[2]
raw = open(path, 'rb').read()
hdr = np.frombuffer(raw[:348], dtype=np.uint8)
dim = np.frombuffer(raw[40:56], dtype='<i2')
datatype = int(np.frombuffer(raw[70:72], dtype='<i2')[0])
pixdim = np.frombuffer(raw[76:108], dtype='<f4')
vox_offset = int(np.frombuffer(raw[108:112], dtype='<f4')[0])
assert datatype == 4, 'expected int16 NIfTI'
nx, ny, nz = int(dim[1]), int(dim[2]), int(dim[3])
sx, sy, sz = float(pixdim[1]), float(pixdim[2]), float(pixdim[3])
vol = np.frombuffer(raw, dtype='<i2', count=nx*ny*nz, offset=vox_offset).reshape(nz, ny, nx).copy()
del raw
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
mask = vol > 300 if op not in ('gaussian', 'median') else None
base = rss()
t0 = time.perf_counter()
c0 = time.process_time()
if op == 'gaussian':
    out = ndi.gaussian_filter(vol, sigma=(1/sz, 1/sy, 1/sx), mode='nearest', truncate=4.0, output=np.float32)
    summary = {'checksum': float(out.sum(dtype=np.float64))}
elif op == 'median':
    out = ndi.median_filter(vol, size=3, mode='nearest')
    summary = {'checksum': float(out.sum(dtype=np.float64))}
elif op == 'cc26':
    out, n = ndi.label(mask, structure=np.ones((3, 3, 3), bool))
    summary = {'components': int(n)}
elif op == 'edt':
    out = ndi.distance_transform_edt(mask, sampling=(sz, sy, sx))
    summary = {'checksum': float(out.sum()), 'max': float(out.max())}
elif op == 'close2mm':
    r = 2.0
    R = [int(r / s) for s in (sz, sy, sx)]
    zz, yy, xx = np.mgrid[-R[0]:R[0]+1, -R[1]:R[1]+1, -R[2]:R[2]+1]
    ball = (zz*sz)**2 + (yy*sy)**2 + (xx*sx)**2 <= r*r*(1+1e-6)
    out = ndi.binary_closing(mask, structure=ball)
    summary = {'voxels': int(out.sum())}
seconds = time.perf_counter() - t0
res = {'seconds': seconds, 'cpuS': time.process_time() - c0, 'peakRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'baseRssMB': base}
res.update(summary)
print('RESULT ' + json.dumps(res))
`;

// ---------------------------------------------------------------------------------------------
// parent

function ensureVolume(volumePath) {
  if (existsSync(volumePath)) return;
  const outDir = dirname(volumePath);
  const maker = process.env.S2S_MAKE_PHANTOM ?? '../shared/bench/make_phantom.py';
  console.error(`[bench-ops] ${volumePath} missing: generating the ct phantom with ${maker}`);
  const r = spawnSync('flock', ['/tmp/s2s-benchdata.lock', PYTHON, maker, 'ct', outDir], { stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(volumePath)) throw new Error(`could not generate ${volumePath}`);
}

function runChild(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, maxBuffer: 1 << 24 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) return { error: (r.stderr || r.stdout || String(r.error)).slice(-2000) };
  return JSON.parse(line.slice(7));
}

/** Runs `once` R times and keeps the run with the median time (all times listed in `runs`). */
function medianOf(repeat, once) {
  const runs = [];
  for (let r = 0; r < repeat; r++) runs.push(once());
  const ok = runs.filter((x) => x.seconds !== undefined).sort((a, b) => a.seconds - b.seconds);
  if (ok.length === 0) return runs[0];
  const mid = ok[(ok.length - 1) >> 1];
  return repeat > 1 ? { ...mid, runs: runs.map((x) => x.seconds ?? null) } : mid;
}

export async function benchOps({
  volumePath = join(ROOT, 'bench-data/ct.nii'),
  out,
  only,
  threads = availableParallelism(),
  repeat = 1,
} = {}) {
  volumePath = resolve(volumePath);
  ensureVolume(volumePath);
  const volumeMB = (512 * 512 * 300 * 2) / 2 ** 20;
  const rows = [];
  for (const op of only ?? OPS) {
    const ours = medianOf(repeat, () =>
      runChild(process.execPath, [
        '--conditions=source',
        '--import',
        'tsx',
        '--expose-gc',
        fileURLToPath(import.meta.url),
        '--child',
        op,
        volumePath,
        String(threads),
      ]),
    );
    const scipy = medianOf(repeat, () => runChild(PYTHON, ['-c', PY, op, volumePath]));
    const row = { op, ours, scipy };
    if (ours.seconds && scipy.seconds) row.speedup = scipy.seconds / ours.seconds;
    rows.push(row);
    const fmt = (r) =>
      r.error
        ? `ERROR ${r.error.split('\n').slice(-3).join(' ')}`
        : `${r.seconds.toFixed(2)} s (CPU ${r.cpuS.toFixed(2)} s)${r.threads > 1 ? ` (${r.threads} threads)` : ''}${r.runs ? ` [runs ${r.runs.map((x) => x?.toFixed(2)).join(', ')}]` : ''}, peak RSS ${r.peakRssMB.toFixed(0)} MB (+${(r.peakRssMB - r.baseRssMB).toFixed(0)} MB over the loaded input)`;
    console.log(`${op.padEnd(9)} ours: ${fmt(ours)}`);
    console.log(
      `${''.padEnd(9)} scipy: ${fmt(scipy)}${row.speedup ? `  -> ours ${row.speedup.toFixed(2)}x faster` : ''}`,
    );
    const {
      seconds: _a,
      peakRssMB: _b,
      baseRssMB: _c,
      size: _d,
      spacing: _e,
      threads: _t,
      runnerStartS: _s,
      runs: _r,
      cpuS: _u,
      ...oursSummary
    } = ours;
    const { seconds: _f, peakRssMB: _g, baseRssMB: _h, runs: _q, cpuS: _v, ...scipySummary } = scipy;
    console.log(`${''.padEnd(9)} results: ours ${JSON.stringify(oursSummary)} scipy ${JSON.stringify(scipySummary)}`);
  }
  const report = {
    volume: volumePath,
    volumeMB,
    date: new Date().toISOString(),
    node: process.version,
    cores: availableParallelism(),
    threads,
    repeat,
    rows,
  };
  if (out) {
    mkdirSync(dirname(resolve(out)), { recursive: true });
    writeFileSync(out, JSON.stringify(report, null, 2));
  }
  return report;
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  const res = await childOurs(argv[1], argv[2], Number(argv[3] ?? 1));
  console.log(`RESULT ${JSON.stringify(res)}`);
} else if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const get = (k) => {
    const i = argv.indexOf(k);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  await benchOps({
    volumePath: get('--volume'),
    out: get('--out'),
    only: get('--only')?.split(','),
    threads: get('--threads') ? Number(get('--threads')) : undefined,
    repeat: get('--repeat') ? Number(get('--repeat')) : undefined,
  });
}

#!/usr/bin/env node
// Benchmark of the WHOLE `slice2solid convert` (a benchmark, not a test) against a VTK Python
// pipeline doing the same job, in the same run:
//
//   ours: slice2solid convert bench-data/ct_dicom out.stl --lower 300 --smooth 20 --decimate 0.1
//         (load the 300-file DICOM series, threshold, anti-aliased marching cubes, windowed-sinc 20,
//         decimation to 10%, closed-surface repair, accuracy report, binary STL + run record)
//         and the same with --no-accuracy (VTK computes no accuracy report), and on one thread
//         (S2S_THREADS=1; it must write the same model, byte for byte: checked)
//   VTK:  vtkNIFTIImageReader reads bench-data/ct.nii (the same voxels) -> vtkFlyingEdges3D 300 ->
//         vtkWindowedSincPolyDataFilter 20 (pass band 0.1) -> vtkCleanPolyData -> vtkQuadricDecimation 0.9
//         -> vtkSTLWriter
//         (the settings of scripts/bench-surface.mjs)
//
// Each run is its own process under /usr/bin/time, so wall time and peak RSS are the whole
// process's. Prints a table and writes JSON.
//
//   node scripts/bench-convert.mjs [--runs 1] [--out bench-out/convert.json]
//
// Uses packages/cli/dist when built (npm run build), else the TypeScript sources through tsx.
// The input is generated if missing (flock'd, ../shared/bench/make_phantom.py or $S2S_MAKE_PHANTOM).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = '/usr/bin/python3';
const ISO = 300;
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const RUNS = Number(arg('runs', process.env.RUNS ?? 1));
const OUT = resolve(ROOT, arg('out', 'bench-out/convert.json'));

const SERIES = join(ROOT, 'bench-data', 'ct_dicom');
const NIFTI = join(ROOT, 'bench-data', 'ct.nii');
if (!existsSync(join(ROOT, 'bench-data', 'ct.json'))) {
  const maker = process.env.S2S_MAKE_PHANTOM ?? join(ROOT, '..', 'shared', 'bench', 'make_phantom.py');
  console.log('generating bench-data (flock /tmp/s2s-benchdata.lock)...');
  execFileSync(
    'flock',
    ['/tmp/s2s-benchdata.lock', 'sh', '-c', `[ -f bench-data/ct.json ] || ${PYTHON} ${maker} ct bench-data`],
    { cwd: ROOT, stdio: 'inherit' },
  );
}

const DIST = join(ROOT, 'packages', 'cli', 'dist', 'main.js');
const cliArgs = existsSync(DIST)
  ? [DIST]
  : [
      '--conditions=source',
      '--import',
      join(ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs'),
      join(ROOT, 'packages', 'cli', 'src', 'main.ts'),
    ];

const VTK_SCRIPT = `
import sys, time
import vtk
t0 = time.perf_counter()
r = vtk.vtkNIFTIImageReader(); r.SetFileName(sys.argv[1]); r.Update()
t1 = time.perf_counter()
fe = vtk.vtkFlyingEdges3D(); fe.SetInputConnection(r.GetOutputPort()); fe.SetValue(0, ${ISO})
fe.ComputeNormalsOff(); fe.ComputeGradientsOff(); fe.ComputeScalarsOff(); fe.Update()
t2 = time.perf_counter()
ws = vtk.vtkWindowedSincPolyDataFilter(); ws.SetInputData(fe.GetOutput())
ws.SetNumberOfIterations(20); ws.SetPassBand(0.1); ws.BoundarySmoothingOn(); ws.NonManifoldSmoothingOn(); ws.NormalizeCoordinatesOn(); ws.Update()
t3 = time.perf_counter()
# vtkCleanPolyData first: flying edges on integer voxels that equal the iso-value exactly makes
# coincident points and zero-area triangles, on which vtkQuadricDecimation stops early (0.2-4 %
# removed instead of 90 %); merged, it reaches the target.
cl = vtk.vtkCleanPolyData(); cl.SetInputData(ws.GetOutput()); cl.Update()
qd = vtk.vtkQuadricDecimation(); qd.SetInputData(cl.GetOutput()); qd.SetTargetReduction(0.9); qd.Update()
t4 = time.perf_counter()
w = vtk.vtkSTLWriter(); w.SetInputData(qd.GetOutput()); w.SetFileName(sys.argv[2]); w.SetFileTypeToBinary(); w.Write()
t5 = time.perf_counter()
print("load %.2f s, surface %.2f s (%d triangles), smooth %.2f s, decimate %.2f s (%d triangles), write %.2f s" % (t1-t0, t2-t1, fe.GetOutput().GetNumberOfCells(), t3-t2, t4-t3, qd.GetOutput().GetNumberOfCells(), t5-t4))
`;

/** Runs a command under /usr/bin/time -v: wall seconds, peak RSS (MB), output. */
function timed(cmd, args, cwd, env = process.env) {
  const r = spawnSync('/usr/bin/time', ['-v', cmd, ...args], { cwd, env, encoding: 'utf8', maxBuffer: 1 << 26 });
  const err = r.stderr ?? '';
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(err);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
  if (r.status !== 0 || !wall || !rss) {
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${err}`);
  }
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  const user = /User time \(seconds\): ([\d.]+)/.exec(err);
  const sys = /System time \(seconds\): ([\d.]+)/.exec(err);
  const cpuSeconds = Number(user?.[1] ?? Number.NaN) + Number(sys?.[1] ?? Number.NaN);
  return { seconds, cpuSeconds, peakRssMb: Math.round(Number(rss[1]) / 1024), stdout: r.stdout };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const tmp = mkdtempSync(join(tmpdir(), 's2s-bench-convert-'));
const pyFile = join(tmp, 'vtk_pipeline.py');
writeFileSync(pyFile, VTK_SCRIPT);
const variants = {
  ours: ['convert', SERIES, join(tmp, 'ours.stl'), '--lower', String(ISO), '--smooth', '20', '--decimate', '0.1'],
  oursNoAccuracy: [
    'convert',
    SERIES,
    join(tmp, 'ours-noacc.stl'),
    '--lower',
    String(ISO),
    '--smooth',
    '20',
    '--decimate',
    '0.1',
    '--no-accuracy',
  ],
};
// the same convert on one thread (S2S_THREADS=1): its model must be the same, byte for byte
variants.oursOneThread = variants.ours.map((a) => (a.endsWith('ours.stl') ? join(tmp, 'ours-1t.stl') : a));
const envOf = (name) => (name === 'oursOneThread' ? { ...process.env, S2S_THREADS: '1' } : process.env);
const results = { ours: [], oursNoAccuracy: [], oursOneThread: [], vtk: [] };
const loadBefore = loadavg();
let oursSummary = '';
let vtkStages = '';
try {
  for (let run = 0; run < RUNS; run++) {
    for (const [name, a] of Object.entries(variants)) {
      const r = timed(process.execPath, [...cliArgs, ...a], ROOT, envOf(name));
      results[name].push(r);
      if (name === 'ours') oursSummary = r.stdout;
    }
    const v = timed(PYTHON, [pyFile, NIFTI, join(tmp, 'vtk.stl')], ROOT);
    results.vtk.push(v);
    vtkStages = v.stdout.trim();
  }
  const loadAfter = loadavg();
  const sha = (f) =>
    createHash('sha256')
      .update(readFileSync(join(tmp, f)))
      .digest('hex');
  const sameModelOneThread = sha('ours.stl') === sha('ours-1t.stl');
  if (!sameModelOneThread) throw new Error('the one-thread convert wrote a different model');
  const record = JSON.parse(readFileSync(join(tmp, 'ours.run.json'), 'utf8'));
  // threads the model steps ran on (convert uses the free cores; see its --help)
  const threadsOf = (f) =>
    JSON.parse(readFileSync(join(tmp, f), 'utf8')).steps.find((x) => x.step === 'surface')?.options?.threads ?? 1;
  const threads = {
    ours: threadsOf('ours.run.json'),
    oursNoAccuracy: threadsOf('ours-noacc.run.json'),
    oursOneThread: threadsOf('ours-1t.run.json'),
  };
  const summary = Object.fromEntries(
    Object.entries(results).map(([k, rs]) => [
      k,
      {
        seconds: median(rs.map((r) => r.seconds)),
        cpuSeconds: median(rs.map((r) => r.cpuSeconds)),
        allSeconds: rs.map((r) => r.seconds),
        peakRssMb: Math.max(...rs.map((r) => r.peakRssMb)),
        runs: rs.length,
      },
    ]),
  );
  const out = {
    input:
      'bench-data/ct_dicom (512x512x300 int16 CT phantom, 300 DICOM files); VTK reads the same voxels from bench-data/ct.nii',
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      node: process.version,
      loadAverage: { before: loadBefore, after: loadAfter },
      date: new Date().toISOString(),
    },
    sameModelOneThread,
    threads,
    summary,
    speedup: {
      ours: summary.vtk.seconds / summary.ours.seconds,
      oursNoAccuracy: summary.vtk.seconds / summary.oursNoAccuracy.seconds,
      oursOneThread: summary.vtk.seconds / summary.oursOneThread.seconds,
    },
    ours: {
      triangles: record.metrics.triangles,
      watertight: record.metrics.closedManifold,
      accuracy: record.accuracy,
      steps: record.steps.map((s) => ({ step: s.step, seconds: s.seconds })),
      stlBytes: statSync(join(tmp, 'ours.stl')).size,
    },
    vtk: { stages: vtkStages, stlBytes: statSync(join(tmp, 'vtk.stl')).size },
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(out, null, 2)}\n`);
  console.log(oursSummary);
  console.log(`VTK: ${vtkStages}`);
  console.log('\n| pipeline | threads | wall s (median) | CPU s (user+sys) | peak RSS MB |');
  console.log('|---|---|---|---|---|');
  for (const [k, s] of Object.entries(summary)) {
    console.log(
      `| ${k} | ${threads[k] ?? 'TBB'} | ${s.seconds.toFixed(2)} | ${s.cpuSeconds.toFixed(2)} | ${s.peakRssMb} |`,
    );
  }
  console.log(
    `\nspeed-up vs VTK: ${out.speedup.ours.toFixed(2)}x (with accuracy report), ${out.speedup.oursNoAccuracy.toFixed(2)}x (without), ${out.speedup.oursOneThread.toFixed(2)}x (one thread; same model: ${sameModelOneThread})`,
  );
  console.log(
    `load average (1, 5, 15 min) before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')}`,
  );
  console.log(`wrote ${OUT}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

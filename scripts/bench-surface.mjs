#!/usr/bin/env node
// Benchmark of surface extraction and refinement against VTK in the same run (a benchmark, not a
// test): marching cubes at 300 HU, windowed-sinc smoothing (20 iterations, pass band 0.1) and
// decimation to 10% of the triangles, on the 512x512x300 CT phantom.
//
//   npx tsc -b packages/cli && node scripts/bench-surface.mjs [--volume bench-data/ct.nii]
//     [--dicom bench-data/ct_dicom] [--reps 3] [--threads 2] [--out .bench-out/surface.json]
//
// Ours runs in one Node process, VTK 9 (Debian python3-vtk9: vtkFlyingEdges3D,
// vtkWindowedSincPolyDataFilter, vtkQuadricDecimation) in one /usr/bin/python3 process; each
// reports wall time and CPU time per stage (extraction and smoothing: the median of --reps runs)
// and the process's peak RSS after each stage (cumulative). VTK reads the NIfTI and uses its SMP
// backend (TBB: all cores). Ours reads the NIfTI too ('read', for comparison) but extracts from
// the same voxels loaded from the DICOM series ('readDicom'), which the DICOM loader puts on a
// SharedArrayBuffer under Node, so the worker threads read them without a copy. Extraction and
// smoothing run on one thread ('extract', 'smooth') and on a worker ParallelRunner of --threads
// threads ('extract-mt', 'smooth-mt'; skipped with --threads 1), whose results must be
// bit-identical to the one-thread results (checked). The volume is generated if missing with
// ../shared/bench/make_phantom.py.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const PYTHON = '/usr/bin/python3';
const ISO = 300;

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const median = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];

/** Runs fn `reps` times; wall and user+system CPU seconds of the median-wall run, and its result. */
function timed(reps, fn) {
  const runs = [];
  let result;
  for (let r = 0; r < reps; r++) {
    const c = process.cpuUsage();
    const t = performance.now();
    result = fn();
    const s = (performance.now() - t) / 1000;
    const u = process.cpuUsage(c);
    runs.push({ s, cpuS: (u.user + u.system) / 1e6 });
  }
  const s = median(runs.map((x) => x.s));
  return { result, s, cpuS: runs.find((x) => x.s === s).cpuS, allS: runs.map((x) => +x.s.toFixed(3)) };
}

async function childOurs(volumePath, dicomPath, reps, threads) {
  const { readNifti } = await import('@slice2solid/io');
  const ops = await import('@slice2solid/ops');
  const rss = () => Math.round(process.resourceUsage().maxRSS / 1024);
  const hash = (a) =>
    createHash('sha1')
      .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
      .digest('hex');
  const out = {};
  let t = performance.now();
  const nifti = readNifti(new Uint8Array(readFileSync(volumePath)));
  out.read = { s: (performance.now() - t) / 1000, peakRssMiB: rss() };
  // extraction runs on the same voxels loaded from the DICOM series, which the DICOM loader puts
  // on a SharedArrayBuffer under Node: the worker threads read them without a copy
  let volume = nifti;
  if (dicomPath && existsSync(dicomPath)) {
    const { loadDicomSeries } = await import('@slice2solid/dicom');
    const { readdirSync } = await import('node:fs');
    t = performance.now();
    const files = readdirSync(dicomPath)
      .sort()
      .map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(dicomPath, name))) }));
    volume = (await loadDicomSeries(files)).volume;
    out.readDicom = { s: (performance.now() - t) / 1000, peakRssMiB: rss() };
    if (volume.grid.size.join('x') !== nifti.grid.size.join('x')) throw new Error('DICOM and NIfTI sizes differ');
  }
  const onShared = typeof SharedArrayBuffer !== 'undefined' && volume.data.buffer instanceof SharedArrayBuffer;
  const ex = timed(reps, () => ops.marchingCubes(volume, { isoValue: ISO }));
  const mesh = ex.result;
  out.extract = {
    s: ex.s,
    cpuS: ex.cpuS,
    allS: ex.allS,
    peakRssMiB: rss(),
    triangles: mesh.indices.length / 3,
    vertices: mesh.positions.length / 3,
    voxelsOnSharedMemory: onShared,
  };
  if (threads > 1) {
    // extraction by z-slabs on `threads` threads; voxels not on shared memory would be copied
    // there first (inside the timed call)
    const { createWorkerRunner } = await import('@slice2solid/ops/node');
    const parallel = await createWorkerRunner({ threads });
    try {
      const mt = timed(reps, () => ops.marchingCubes(volume, { isoValue: ISO, parallel }));
      if (hash(mt.result.positions) !== hash(mesh.positions) || hash(mt.result.indices) !== hash(mesh.indices)) {
        throw new Error('threaded extraction differs');
      }
      // cpuS counts this thread only (the workers are other threads of the process)
      out['extract-mt'] = {
        s: mt.s,
        allS: mt.allS,
        peakRssMiB: rss(),
        threads,
        identical: true,
        voxelsOnSharedMemory: onShared,
      };
    } finally {
      await parallel.close();
    }
  }
  const sm = timed(reps, () => ops.smoothWindowedSinc(mesh, { iterations: 20, passBand: 0.1 }));
  const smooth = sm.result;
  out.smooth = { s: sm.s, cpuS: sm.cpuS, allS: sm.allS, peakRssMiB: rss() };
  if (threads > 1) {
    const { createWorkerRunner } = await import('@slice2solid/ops/node');
    const parallel = await createWorkerRunner({ threads });
    try {
      const mt = timed(reps, () => ops.smoothWindowedSinc(mesh, { iterations: 20, passBand: 0.1, parallel }));
      if (hash(mt.result.positions) !== hash(smooth.positions)) throw new Error('threaded smoothing differs');
      // cpuS counts this thread only (the workers are other threads of the process)
      out['smooth-mt'] = { s: mt.s, allS: mt.allS, peakRssMiB: rss(), threads, identical: true };
    } finally {
      await parallel.close();
    }
  }
  t = performance.now();
  const { mesh: dec } = await ops.decimate(smooth, { targetRatio: 0.1 });
  out.decimate = { s: (performance.now() - t) / 1000, peakRssMiB: rss(), triangles: dec.indices.length / 3 };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

const VTK_SCRIPT = `
import json, resource, sys, time
import vtk
rss = lambda: round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
reps = int(sys.argv[2])
def timed(fn):
    runs = []
    for _ in range(reps):
        c = time.process_time(); t = time.perf_counter(); res = fn()
        runs.append((time.perf_counter() - t, time.process_time() - c, res))
    runs.sort(key=lambda r: r[0])
    s, cpu, res = runs[len(runs) // 2]
    return res, s, cpu, [round(r[0], 3) for r in runs]
out = {}
t = time.perf_counter()
r = vtk.vtkNIFTIImageReader(); r.SetFileName(sys.argv[1]); r.Update()
out['read'] = {'s': time.perf_counter() - t, 'peakRssMiB': rss()}
def extract():
    fe = vtk.vtkFlyingEdges3D(); fe.SetInputConnection(r.GetOutputPort()); fe.SetValue(0, ${ISO})
    fe.ComputeNormalsOff(); fe.ComputeGradientsOff(); fe.ComputeScalarsOff(); fe.Update()
    return fe.GetOutput()
m, s, cpu, alls = timed(extract)
out['extract'] = {'s': s, 'cpuS': cpu, 'allS': alls, 'peakRssMiB': rss(), 'triangles': m.GetNumberOfCells(), 'vertices': m.GetNumberOfPoints()}
def smooth():
    ws = vtk.vtkWindowedSincPolyDataFilter(); ws.SetInputData(m); ws.SetNumberOfIterations(20); ws.SetPassBand(0.1)
    ws.BoundarySmoothingOn(); ws.NonManifoldSmoothingOn(); ws.NormalizeCoordinatesOn(); ws.Update()
    return ws.GetOutput()
sm, s, cpu, alls = timed(smooth)
out['smooth'] = {'s': s, 'cpuS': cpu, 'allS': alls, 'peakRssMiB': rss()}
t = time.perf_counter()
# vtkCleanPolyData first: flying edges on integer voxels that equal the iso-value exactly makes
# coincident points and zero-area triangles, on which vtkQuadricDecimation stops early (0.2-4 %
# removed instead of 90 %); merged, it reaches the target.
cl = vtk.vtkCleanPolyData(); cl.SetInputData(sm); cl.Update()
qd = vtk.vtkQuadricDecimation(); qd.SetInputData(cl.GetOutput()); qd.SetTargetReduction(0.9); qd.Update()
out['decimate'] = {'s': time.perf_counter() - t, 'peakRssMiB': rss(), 'triangles': qd.GetOutput().GetNumberOfCells()}
out['smp_backend'] = vtk.vtkSMPTools.GetBackend() if hasattr(vtk.vtkSMPTools, 'GetBackend') else 'unknown'
out['smp_threads'] = vtk.vtkSMPTools.GetEstimatedNumberOfThreads() if hasattr(vtk.vtkSMPTools, 'GetEstimatedNumberOfThreads') else 'unknown'
out['vtk_version'] = vtk.vtkVersion.GetVTKVersion()
print(json.dumps(out))
`;

async function main() {
  const reps = Number(arg('reps', '3'));
  const threads = Number(arg('threads', '2'));
  if (process.argv.includes('--child-ours')) return childOurs(arg('volume'), arg('dicom'), reps, threads);
  const volumePath = resolve(ROOT, arg('volume', 'bench-data/ct.nii'));
  const dicomPath = resolve(ROOT, arg('dicom', 'bench-data/ct_dicom'));
  if (!existsSync(volumePath)) {
    const r = spawnSync(
      'flock',
      [
        '/tmp/s2s-benchdata.lock',
        'sh',
        '-c',
        `[ -f bench-data/ct.json ] || ${PYTHON} ../shared/bench/make_phantom.py ct bench-data`,
      ],
      {
        cwd: ROOT,
        stdio: 'inherit',
      },
    );
    if (r.status !== 0) throw new Error('could not generate the benchmark volume');
  }
  const run = (cmd, args) => {
    const t = performance.now();
    const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
    const res = JSON.parse(r.stdout.trim().split('\n').at(-1));
    res.processWallS = (performance.now() - t) / 1000;
    return res;
  };
  const ours = run(process.execPath, [
    fileURLToPath(import.meta.url),
    '--child-ours',
    '--volume',
    volumePath,
    '--dicom',
    dicomPath,
    '--reps',
    String(reps),
    '--threads',
    String(threads),
  ]);
  const vtk = run(PYTHON, ['-c', VTK_SCRIPT, volumePath, String(reps)]);
  const stages = [
    'read',
    ...(ours.readDicom ? ['readDicom'] : []),
    'extract',
    ...(ours['extract-mt'] ? ['extract-mt'] : []),
    'smooth',
    ...(ours['smooth-mt'] ? ['smooth-mt'] : []),
    'decimate',
  ];
  const rows = stages.map((stage) => {
    const v = vtk[stage.replace('-mt', '').replace('readDicom', 'read')];
    const o = ours[stage];
    return {
      stage,
      oursS: +o.s.toFixed(3),
      vtkS: +v.s.toFixed(3),
      ratio: +(o.s / v.s).toFixed(2),
      oursCpuS: o.cpuS === undefined ? '' : +o.cpuS.toFixed(3),
      vtkCpuS: v.cpuS === undefined ? '' : +v.cpuS.toFixed(3),
      oursPeakRssMiB: o.peakRssMiB,
      vtkPeakRssMiB: v.peakRssMiB,
    };
  });
  console.table(rows);
  console.log(
    `triangles: ours ${ours.extract.triangles} -> ${ours.decimate.triangles}; VTK ${vtk.extract.triangles} -> ${vtk.decimate.triangles} (VTK ${vtk.vtk_version}, SMP backend ${vtk.smp_backend}, ${vtk.smp_threads} threads; ours: extract and smooth 1 thread, extract-mt / smooth-mt ${threads} threads, bit-identical to 1 thread; voxels ${ours.extract.voxelsOnSharedMemory ? 'loaded from the DICOM series onto shared memory (no copy)' : 'copied to shared memory inside extract-mt'}; median of ${reps})`,
  );
  const outPath = resolve(ROOT, arg('out', '.bench-out/surface.json'));
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(
    outPath,
    `${JSON.stringify({ volume: volumePath, iso: ISO, reps, node: process.version, rows, ours, vtk }, null, 1)}\n`,
  );
  console.log(`written ${join(outPath)}`);
}

await main();

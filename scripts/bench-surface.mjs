#!/usr/bin/env node
// Benchmark of surface extraction and refinement against VTK in the same run (a benchmark, not a
// test): marching cubes at 300 HU, windowed-sinc smoothing (20 iterations, pass band 0.1) and
// decimation to 10% of the triangles, on the 512x512x300 CT phantom.
//
//   npx tsc -b packages/ops packages/io && node scripts/bench-surface.mjs [--volume bench-data/ct.nii] [--out .bench-out/surface.json]
//
// Ours runs in one Node process, VTK 9 (Debian python3-vtk9: vtkFlyingEdges3D,
// vtkWindowedSincPolyDataFilter, vtkQuadricDecimation) in one /usr/bin/python3 process; each
// reports wall time per stage and the process's peak RSS after each stage (cumulative).
// The volume is generated if missing with /work/shared/bench/make_phantom.py.
import { spawnSync } from 'node:child_process';
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

async function childOurs(volumePath) {
  const { readNifti } = await import('@slice2solid/io');
  const ops = await import('@slice2solid/ops');
  const rss = () => Math.round(process.resourceUsage().maxRSS / 1024);
  const out = {};
  let t = performance.now();
  const volume = readNifti(new Uint8Array(readFileSync(volumePath)));
  out.read = { s: (performance.now() - t) / 1000, peakRssMiB: rss() };
  t = performance.now();
  const mesh = ops.marchingCubes(volume, { isoValue: ISO });
  out.extract = {
    s: (performance.now() - t) / 1000,
    peakRssMiB: rss(),
    triangles: mesh.indices.length / 3,
    vertices: mesh.positions.length / 3,
  };
  t = performance.now();
  const smooth = ops.smoothWindowedSinc(mesh, { iterations: 20, passBand: 0.1 });
  out.smooth = { s: (performance.now() - t) / 1000, peakRssMiB: rss() };
  t = performance.now();
  const { mesh: dec } = await ops.decimate(smooth, { targetRatio: 0.1 });
  out.decimate = { s: (performance.now() - t) / 1000, peakRssMiB: rss(), triangles: dec.indices.length / 3 };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

const VTK_SCRIPT = `
import json, resource, sys, time
import vtk
rss = lambda: round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
out = {}
t = time.perf_counter()
r = vtk.vtkNIFTIImageReader(); r.SetFileName(sys.argv[1]); r.Update()
out['read'] = {'s': time.perf_counter() - t, 'peakRssMiB': rss()}
t = time.perf_counter()
fe = vtk.vtkFlyingEdges3D(); fe.SetInputConnection(r.GetOutputPort()); fe.SetValue(0, ${ISO})
fe.ComputeNormalsOff(); fe.ComputeGradientsOff(); fe.ComputeScalarsOff(); fe.Update()
m = fe.GetOutput()
out['extract'] = {'s': time.perf_counter() - t, 'peakRssMiB': rss(), 'triangles': m.GetNumberOfCells(), 'vertices': m.GetNumberOfPoints()}
t = time.perf_counter()
ws = vtk.vtkWindowedSincPolyDataFilter(); ws.SetInputData(m); ws.SetNumberOfIterations(20); ws.SetPassBand(0.1)
ws.BoundarySmoothingOn(); ws.NonManifoldSmoothingOn(); ws.NormalizeCoordinatesOn(); ws.Update()
out['smooth'] = {'s': time.perf_counter() - t, 'peakRssMiB': rss()}
t = time.perf_counter()
qd = vtk.vtkQuadricDecimation(); qd.SetInputData(ws.GetOutput()); qd.SetTargetReduction(0.9); qd.Update()
out['decimate'] = {'s': time.perf_counter() - t, 'peakRssMiB': rss(), 'triangles': qd.GetOutput().GetNumberOfCells()}
out['smp_backend'] = vtk.vtkSMPTools.GetBackend() if hasattr(vtk.vtkSMPTools, 'GetBackend') else 'unknown'
print(json.dumps(out))
`;

async function main() {
  if (process.argv.includes('--child-ours')) return childOurs(arg('volume'));
  const volumePath = resolve(ROOT, arg('volume', 'bench-data/ct.nii'));
  if (!existsSync(volumePath)) {
    const r = spawnSync(
      'flock',
      [
        '/tmp/s2s-benchdata.lock',
        'sh',
        '-c',
        `[ -f bench-data/ct.json ] || ${PYTHON} /work/shared/bench/make_phantom.py ct bench-data`,
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
  const ours = run(process.execPath, [fileURLToPath(import.meta.url), '--child-ours', '--volume', volumePath]);
  const vtk = run(PYTHON, ['-c', VTK_SCRIPT, volumePath]);
  const rows = ['read', 'extract', 'smooth', 'decimate'].map((stage) => ({
    stage,
    oursS: +ours[stage].s.toFixed(3),
    vtkS: +vtk[stage].s.toFixed(3),
    ratio: +(ours[stage].s / vtk[stage].s).toFixed(2),
    oursPeakRssMiB: ours[stage].peakRssMiB,
    vtkPeakRssMiB: vtk[stage].peakRssMiB,
  }));
  console.table(rows);
  console.log(
    `triangles: ours ${ours.extract.triangles} -> ${ours.decimate.triangles}; VTK ${vtk.extract.triangles} -> ${vtk.decimate.triangles} (VTK SMP backend: ${vtk.smp_backend})`,
  );
  const outPath = resolve(ROOT, arg('out', '.bench-out/surface.json'));
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, `${JSON.stringify({ volume: volumePath, iso: ISO, rows, ours, vtk }, null, 1)}\n`);
  console.log(`written ${join(outPath)}`);
}

await main();

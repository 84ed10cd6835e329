#!/usr/bin/env node
/**
 * npm run bench:ai [-- --model DIR] [--structures liver] [--threads N] [--backend node|web]
 *                     [--checkpoint PT] [--no-python] [--no-build] [--only full,look-first,python,web]
 *                     [--before DIR] [--repeat N] [--organs liver,spleen,kidney_left]
 *
 * AI inference benchmark (issue 6), not a test:
 * 1. bench-data/ai_ct_512x512x300.nii: the TotalSegmentator example torso CT (../shared/data,
 *    3 mm) resampled linearly to 512x512x300 by scripts/bench-ai.py (made once, under
 *    flock /tmp/s2s-benchdata.lock).
 * 2. The model package (model.json + ONNX): --model, else models/ct-torso-small, else a
 *    PLACEHOLDER built once into bench-data/ai-placeholder-liver (the trainer's U-Net trained
 *    for a few minutes on the liver of the very CT the benchmark resamples: timing and look-first
 *    agreement only, not accuracy), else (no PyTorch) the trainer's synthetic fixture
 *    packages/ai/test/fixtures/synthetic-unet.
 * 3. Each in its own process under /usr/bin/time (wall seconds, peak RSS of that run alone):
 *    segmentWithModel on the full volume; segmentWithModel with roiFirst for one structure;
 *    the same model in Python (onnxruntime if importable, else PyTorch on the trainer's
 *    checkpoint: --checkpoint, or checkpoint.pt / best.pt / checkpoints/best.pt beside the card).
 *    CPU seconds (user + system) are reported next to wall seconds: on a shared machine the
 *    wall time also counts waiting for a core.
 *    With `--only ...,web`, the full-volume run once more on onnxruntime-web (WebAssembly, in Node).
 *    With `--before DIR` (a copy of the repository before a change, built, with its own
 *    node_modules resolving @slice2solid/* to that copy), its scripts/bench-ai-run.mjs runs the
 *    full and look-first modes too, interleaved with this tree's ('full (before)', 'look-first
 *    (before)'), so that before and after come from the same run. `--repeat N` runs every
 *    slice2solid mode N times (interleaved) and keeps the fastest wall time of each. With
 *    `--organs a,b,c` the full runs keep those structures and look-first runs once per organ
 *    ('look-first a', ...), each compared with the full run on its organ.
 * 4. Dice between the label volumes (look-first vs full, Python vs full, before vs full) for that
 *    structure; prints a table, the stage times of segmentWithModel per run, and writes
 *    bench-out/ai/summary.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, type as osType, release, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = join(ROOT, 'bench-data');
const OUT = join(ROOT, 'bench-out', 'ai');
const PYTHON = '/usr/bin/python3';
const TIME = '/usr/bin/time';
const SHARED = resolve(ROOT, '..', 'shared', 'data', 'totalsegmentator-ct-mr');
const CT = join(DATA, 'ai_ct_512x512x300.nii');
const SIZE = [512, 512, 300];

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    structures: { type: 'string' },
    threads: { type: 'string', default: '0' },
    backend: { type: 'string', default: 'node' },
    checkpoint: { type: 'string' },
    only: { type: 'string', default: 'full,look-first,python' },
    'no-python': { type: 'boolean' },
    'no-build': { type: 'boolean' },
    before: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    organs: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  const text = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  console.log(text.slice(text.indexOf('/**') + 3, text.indexOf('*/')).replace(/^ \* ?/gm, ''));
  process.exit(0);
}
const only = new Set(values.only.split(','));
if (values['no-python']) only.delete('python');
if (!['node', 'web'].includes(values.backend)) fail('--backend must be node or web');

function fail(msg) {
  console.error(`bench:ai: ${msg}`);
  process.exit(2);
}

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} failed (exit code ${r.status})`);
  return r;
}

// ---------------------------------------------------------------------------------------------
// 1. the 512x512x300 CT
if (!existsSync(CT.replace(/\.nii$/, '.json'))) {
  const src = join(SHARED, 'example_ct.nii.gz');
  if (!existsSync(src)) fail(`${src} not found (expected ../shared/data beside the repository)`);
  console.log(`bench-data/${relative(DATA, CT)}: resampling ${relative(ROOT, src)} to ${SIZE.join('x')} ...`);
  const py = `[ -f ${JSON.stringify(CT.replace(/\.nii$/, '.json'))} ] || ${PYTHON} scripts/bench-ai.py resample ${JSON.stringify(src)} ${JSON.stringify(CT)} ${SIZE.join(' ')}`;
  mkdirSync(DATA, { recursive: true });
  sh('flock', ['/tmp/s2s-benchdata.lock', 'sh', '-c', py]);
}

// ---------------------------------------------------------------------------------------------
// 2. the model
function resolveModelDir() {
  if (values.model) {
    const d = resolve(values.model);
    if (!existsSync(join(d, 'model.json'))) fail(`--model ${values.model}: no model.json in that folder`);
    return { dir: d, placeholder: false };
  }
  const shipped = join(ROOT, 'models', 'ct-torso-small');
  if (existsSync(join(shipped, 'model.json'))) return { dir: shipped, placeholder: false };
  const d = join(DATA, 'ai-placeholder-liver');
  const fixture = join(ROOT, 'packages/ai/test/fixtures/synthetic-unet');
  const haveTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  if (!existsSync(join(d, 'model.json')) && !haveTorch && existsSync(join(fixture, 'model.json'))) {
    console.log("no shipped model and no PyTorch to make a placeholder: using the trainer's synthetic fixture");
    return { dir: fixture, placeholder: true };
  }
  if (!existsSync(join(d, 'model.json'))) {
    console.log('no shipped model yet: training a PLACEHOLDER liver model (minutes, once) ...');
    const py = `[ -f ${JSON.stringify(join(d, 'model.json'))} ] || ${PYTHON} scripts/bench-ai.py placeholder-liver ${JSON.stringify(d)} --ct ${JSON.stringify(join(SHARED, 'example_ct.nii.gz'))} --seg ${JSON.stringify(join(SHARED, 'example_seg_fast_force_split.nii.gz'))}`;
    sh('flock', ['/tmp/s2s-benchdata.lock', 'sh', '-c', py]);
  }
  return { dir: d, placeholder: true };
}
const model = resolveModelDir();
const card = JSON.parse(readFileSync(join(model.dir, 'model.json'), 'utf8'));
model.placeholder ||= /placeholder|fixture/i.test(`${card.name} ${card.description ?? ''}`);
const names = card.output.labels.filter((l) => l.value > 0).map((l) => l.name);
const structure =
  values.organs ??
  values.structures ??
  ['liver', 'kidney_left', 'kidney_right', 'kidney', 'spleen'].find((n) => names.includes(n)) ??
  names[0];
if (!structure) fail(`the model ${card.name} has no foreground label`);
const structureValues = structure
  .split(',')
  .map((s) => card.output.labels.find((l) => l.name.toLowerCase() === s.trim().toLowerCase())?.value);
if (structureValues.some((v) => v === undefined)) fail(`the model has no structure "${structure}" (it has ${names})`);

// ---------------------------------------------------------------------------------------------
// 3. build, then the timed runs
if (!values['no-build']) {
  console.log('building packages/ai and packages/io (tsc -b) ...');
  sh(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'packages/ai', 'packages/io']);
}
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

function timed(name, cmd, args, cwd = ROOT) {
  const dir = join(OUT, name);
  mkdirSync(dir, { recursive: true });
  const timeFile = join(dir, 'time.txt');
  console.log(
    `\n== ${name}: ${relative(ROOT, cmd) || cmd} ${args.map((a) => (a.startsWith(ROOT) ? relative(ROOT, a) : a)).join(' ')}`,
  );
  const r = spawnSync(TIME, ['-f', '%e %M %U %S', '-o', timeFile, cmd, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const [wall, rssKb, user, sys] = existsSync(timeFile)
    ? readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number)
    : [Number.NaN, Number.NaN, Number.NaN, Number.NaN];
  return {
    status: r.status,
    stdout: r.stdout ?? '',
    wallSeconds: wall,
    cpuSeconds: user + sys,
    peakRssMB: rssKb / 1024,
    dir,
  };
}

const BEFORE = values.before ? resolve(values.before) : undefined;
if (BEFORE && !existsSync(join(BEFORE, 'scripts/bench-ai-run.mjs')))
  fail(`--before ${values.before}: no scripts/bench-ai-run.mjs there`);
const repeat = Math.max(1, Number(values.repeat) || 1);
const argsFor = (runner, backend) => [
  runner,
  '--image',
  CT,
  '--model',
  model.dir,
  '--threads',
  values.threads,
  '--backend',
  backend,
];
const results = {};
// 'web': the full-volume run again on onnxruntime-web's WebAssembly provider (in Node)
const plan = [];
const organs = values.organs ? values.organs.split(',').map((x) => x.trim()) : undefined;
for (const mode of ['full', 'look-first', 'web']) {
  if (!only.has(mode)) continue;
  for (const organ of mode === 'look-first' && organs ? organs : [undefined]) {
    const name = organ ? `${mode} ${organ}` : mode;
    const structures = organ ?? structure;
    if (BEFORE && mode !== 'web') plan.push({ name: `${name} (before)`, mode, root: BEFORE, structures });
    plan.push({ name, mode, root: ROOT, structures });
  }
}
const lookName = plan.find((p) => p.mode === 'look-first' && p.root === ROOT)?.name;
for (let rep = 0; rep < repeat; rep++) {
  for (const p of plan) {
    const runner = join(p.root, 'scripts/bench-ai-run.mjs');
    const dirName = p.name.replace(/ \(before\)$/, '-before').replace(/ /g, '-');
    const r = timed(
      dirName,
      process.execPath,
      [
        ...argsFor(runner, p.mode === 'web' ? 'web' : values.backend),
        '--out',
        join(OUT, dirName),
        '--structures',
        p.structures,
        ...(p.mode === 'look-first' ? ['--roi-first'] : []),
      ],
      p.root,
    );
    if (r.status !== 0) fail(`the ${p.name} run failed (exit code ${r.status})`);
    const rep0 = JSON.parse(readFileSync(join(r.dir, 'report.json'), 'utf8'));
    const prev = results[p.name];
    const all = [
      ...(prev?.all ?? []),
      { wallSeconds: r.wallSeconds, cpuSeconds: r.cpuSeconds, peakRssMB: r.peakRssMB },
    ];
    if (!prev || r.wallSeconds < prev.wallSeconds) results[p.name] = { ...r, report: rep0, all };
    else prev.all = all;
  }
}

let pythonNote;
if (only.has('python')) {
  const ck = [
    values.checkpoint,
    join(model.dir, 'checkpoint.pt'),
    join(model.dir, 'best.pt'),
    join(model.dir, 'checkpoints', 'best.pt'),
  ].find((p) => p && existsSync(p));
  const hasOrt = spawnSync(PYTHON, ['-c', 'import onnxruntime'], { stdio: 'ignore' }).status === 0;
  const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  if (!hasOrt && !(hasTorch && ck)) {
    pythonNote = `no Python runtime was available for this model: onnxruntime is not installed for ${PYTHON}${
      hasTorch ? ' and no PyTorch checkpoint of the model was found (--checkpoint)' : ' and neither is PyTorch'
    }`;
    console.log(`\n== python: skipped (${pythonNote})`);
  } else {
    const out = join(OUT, 'python', 'labels.raw');
    const r = timed('python', PYTHON, [
      join(ROOT, 'scripts/bench-ai.py'),
      'infer',
      CT,
      model.dir,
      out,
      ...(ck && !hasOrt ? ['--checkpoint', ck] : []),
      '--threads',
      values.threads,
    ]);
    const line = r.stdout.trim().split('\n').pop() ?? '{}';
    let info;
    try {
      info = JSON.parse(line);
    } catch {
      info = { error: `no result line on stdout (exit code ${r.status})` };
    }
    if (r.status !== 0 || info.error) pythonNote = `the Python run failed: ${info.error ?? `exit code ${r.status}`}`;
    else results.python = { ...r, report: info };
  }
}

// ---------------------------------------------------------------------------------------------
// 4. agreement and table
function readLabels(dir, type) {
  const b = readFileSync(join(dir, 'labels.raw'));
  const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  return type === 'Uint16Array' ? new Uint16Array(ab) : new Uint8Array(ab);
}
function dice(a, b, v) {
  let inter = 0;
  let na = 0;
  let nb = 0;
  for (let p = 0; p < a.length; p++) {
    const x = a[p] === v;
    const y = b[p] === v;
    if (x) na++;
    if (y) nb++;
    if (x && y) inter++;
  }
  return na + nb === 0 ? 'both empty' : (2 * inter) / (na + nb);
}
const full = results.full ? readLabels(results.full.dir, results.full.report.labelType) : undefined;
const agreement = {};
const order = [...new Set(plan.map((p) => p.name)), 'python'];
for (const mode of order) {
  if (mode === 'full' || !full || !results[mode]) continue;
  const wantStructures = plan.find((p) => p.name === mode)?.structures ?? structure;
  const other = readLabels(results[mode].dir, mode === 'python' ? 'Uint8Array' : results[mode].report.labelType);
  if (other.length !== full.length) {
    agreement[mode] = `size mismatch (${other.length} vs ${full.length} voxels)`;
    continue;
  }
  agreement[mode] = Object.fromEntries(
    wantStructures.split(',').map((n) => {
      const v = card.output.labels.find((l) => l.name.toLowerCase() === n.trim().toLowerCase())?.value;
      return [n, dice(other, full, v)];
    }),
  );
}

const rows = [];
for (const mode of order) {
  const r = results[mode];
  if (!r) continue;
  const rep = r.report.report ?? r.report;
  const inference =
    mode === 'python' ? r.report.stages?.inference : rep.stages?.find((s) => s.stage.startsWith('inference'))?.seconds;
  rows.push({
    mode,
    run:
      mode === 'python'
        ? `Python (${r.report.runtime})`
        : `slice2solid ${mode.startsWith('web') ? mode.replace('web', 'full') : mode} (${r.report.backend}, ${rep.executionProvider})`,
    stages: mode === 'python' ? r.report.stages : rep.stages,
    segmentSeconds:
      mode === 'python' ? undefined : r.report.stages?.find((x) => x.stage === 'segmentWithModel')?.seconds,
    memoryEstimateMB: mode === 'python' ? undefined : rep.memoryEstimateBytes / 2 ** 20,
    wallSecondsAll: r.all?.map((x) => x.wallSeconds),
    wallSeconds: r.wallSeconds,
    cpuSeconds: r.cpuSeconds,
    inferenceSeconds: inference,
    patches: mode === 'python' ? r.report.patches : rep.patches,
    peakRssMB: r.peakRssMB,
    diceVsFull: mode === 'full' ? 1 : agreement[mode],
  });
}
const lf = lookName ? results[lookName]?.report.report.lookFirst : undefined;
const lfBefore = lookName ? results[`${lookName} (before)`]?.report.report.lookFirst : undefined;
// every look-first run against the full run of the same code
const speedups = {};
for (const p of plan) {
  if (p.mode !== 'look-first') continue;
  const fullName = p.root === ROOT ? 'full' : 'full (before)';
  const f = rows.find((r) => r.mode === fullName);
  const l = rows.find((r) => r.mode === p.name);
  if (!f || !l) continue;
  speedups[p.name] = {
    wall: f.wallSeconds / l.wallSeconds,
    cpu: f.cpuSeconds / l.cpuSeconds,
    segmentWithModel: f.segmentSeconds / l.segmentSeconds,
    inference: f.inferenceSeconds / l.inferenceSeconds,
    box: results[p.name].report.report.lookFirst?.box,
    growSteps: results[p.name].report.report.lookFirst?.growSteps,
    voxelSpeedup: results[p.name].report.report.lookFirst?.voxelSpeedup,
  };
}
const summary = {
  date: new Date().toISOString(),
  machine: { os: `${osType()} ${release()}`, cpu: cpus()[0]?.model, cores: cpus().length, memGB: totalmem() / 2 ** 30 },
  node: process.version,
  image: { file: relative(ROOT, CT), size: SIZE },
  model: {
    dir: relative(ROOT, model.dir),
    name: card.name,
    placeholder: model.placeholder,
    spacing: card.input.spacing,
    patchSize: card.input.patchSize,
  },
  structure,
  threads: Number(values.threads),
  rows,
  speedups,
  lookFirst: lf,
  ...(lfBefore ? { lookFirstBefore: lfBefore } : {}),
  pythonNote,
};
writeFileSync(join(OUT, 'summary.json'), JSON.stringify(summary, null, 2));

const fmt = (x, d = 1) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '-');
console.log(
  `\nAI inference, ${SIZE.join('x')} CT, model ${card.name}${model.placeholder ? ' (PLACEHOLDER)' : ''}, structure ${structure}`,
);
console.log('| run | wall s | CPU s | inference s | patches | peak RSS MB | Dice vs full |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
for (const r of rows) {
  const d =
    typeof r.diceVsFull === 'number'
      ? fmt(r.diceVsFull, 4)
      : typeof r.diceVsFull === 'object'
        ? Object.entries(r.diceVsFull)
            .map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v, 4) : v}`)
            .join(', ')
        : String(r.diceVsFull ?? '-');
  console.log(
    `| ${r.run} | ${fmt(r.wallSeconds)} | ${fmt(r.cpuSeconds)} | ${fmt(r.inferenceSeconds)} | ${r.patches ?? '-'} | ${fmt(r.peakRssMB, 0)} | ${d} |`,
  );
}
console.log('\nsegmentWithModel stages, seconds (look-first: coarse input + coarse pass, box input + box passes)');
console.log(
  '| run | preprocess | inference | back to source | postprocess | segmentWithModel | memory estimate MB | peak RSS MB |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  if (r.mode === 'python' || !Array.isArray(r.stages)) continue;
  const st = (name) => r.stages.find((x) => x.stage.startsWith(name))?.seconds;
  const look = results[r.mode]?.report.report.lookFirst;
  const inf = look
    ? `${fmt(st('inference'), 2)} (${fmt(look.coarseInputSeconds ?? Number.NaN, 2)} + ${fmt(look.coarseSeconds - (look.coarseInputSeconds ?? 0), 2)}, ${fmt(look.fineInputSeconds ?? Number.NaN, 2)} + ${fmt(look.fineSeconds - (look.fineInputSeconds ?? 0), 2)})`
    : fmt(st('inference'), 2);
  console.log(
    `| ${r.run} | ${fmt(st('preprocess'), 2)} | ${inf} | ${fmt(st('back to source'), 2)} | ${fmt(st('postprocess'), 2)} | ${fmt(r.segmentSeconds, 2)} | ${fmt(r.memoryEstimateMB, 0)} | ${fmt(r.peakRssMB, 0)} |`,
  );
}
console.log('');
for (const [name, sp] of Object.entries(speedups)) {
  console.log(
    `${name} vs full: ${fmt(sp.wall, 2)}x (wall), ${fmt(sp.cpu, 2)}x (CPU), ${fmt(sp.segmentWithModel, 2)}x (segmentWithModel), ${fmt(sp.inference, 2)}x (inference stage); ${fmt(sp.voxelSpeedup, 2)}x fewer voxels inferred, box ${JSON.stringify(sp.box)}, grow steps ${sp.growSteps}`,
  );
}
if (pythonNote) console.log(`python: ${pythonNote}`);
for (const w of results.full?.report.report.warnings ?? []) console.log(`warning (full run): ${w}`);
console.log(`\nwrote ${relative(ROOT, join(OUT, 'summary.json'))}`);

#!/usr/bin/env node
// Benchmark of the web app (a benchmark, not a test): the 512x512x300 CT DICOM series of
// bench-data/ct_dicom dropped on the page in headless Chromium, bone preset, model built, STL
// downloaded; next to the same job on the CLI in the same run:
//
//   web: open the folder in the "Open scan folder" input -> "Ready" -> Threshold preset bone ->
//        Apply threshold -> Build model -> Download STL (the app's default model settings)
//   CLI: slice2solid convert bench-data/ct_dicom out.stl --preset bone --watertight (the app's
//        defaults: the same model options, with the manifold-3d check the app's box turns on)
//
// Times: drop -> loaded (Ready), threshold, model built (downloadable), STL saved; memory: peak
// RSS (VmHWM) of the page's renderer process (JS heap, typed arrays, WebAssembly and the workers
// it hosts; dedicated workers run in the renderer process) and the main thread's peak JS heap
// from CDP Performance.getMetrics, sampled every 100 ms. The CLI runs under /usr/bin/time -v.
//
//   node scripts/bench-web.mjs [--out bench-out/web.json] [--series bench-data/ct_dicom]
//
// Needs: /usr/bin/chromium (Debian), npm run build (packages/cli/dist) and npm run build:web
// (apps/web/dist). The series is generated if missing (flock'd, ../shared/bench/make_phantom.py).
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PYTHON = '/usr/bin/python3';
const CHROMIUM = process.env.S2S_CHROMIUM ?? '/usr/bin/chromium';
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const OUT = resolve(ROOT, arg('out', 'bench-out/web.json'));
const SERIES = resolve(ROOT, arg('series', 'bench-data/ct_dicom'));
const TIMEOUT = 30 * 60_000;

if (!existsSync(CHROMIUM)) fail(`Chromium not found at ${CHROMIUM}: apt-get install chromium`);
const WEB_DIST = process.env.S2S_WEB_DIST ?? join(ROOT, 'apps', 'web', 'dist');
if (!existsSync(join(WEB_DIST, 'index.html'))) fail('the web app is not built: npm run build:web');
const CLI_DIST = join(ROOT, 'packages', 'cli', 'dist');
if (!existsSync(join(CLI_DIST, 'main.js')) || !existsSync(join(CLI_DIST, 'serve', 'static-server.js'))) {
  fail('the CLI is not built: npm run build');
}
if (!existsSync(SERIES) && SERIES === join(ROOT, 'bench-data', 'ct_dicom')) {
  const maker = process.env.S2S_MAKE_PHANTOM ?? join(ROOT, '..', 'shared', 'bench', 'make_phantom.py');
  console.log('generating bench-data/ct_dicom (flock /tmp/s2s-benchdata.lock)...');
  execFileSync(
    'flock',
    ['/tmp/s2s-benchdata.lock', 'sh', '-c', `[ -d bench-data/ct_dicom ] || ${PYTHON} ${maker} ct bench-data --no-nii`],
    { cwd: ROOT, stdio: 'inherit' },
  );
}
const files = readdirSync(SERIES);
const seriesBytes = files.reduce((s, f) => s + statSync(join(SERIES, f)).size, 0);

function fail(message) {
  console.error(`bench-web: ${message}`);
  process.exit(1);
}

/** Peak RSS (VmHWM, MB) of the Chromium renderer processes among `pids`. */
function rendererPeaksMb(pids) {
  const peaks = [];
  for (const pid of pids) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      peaks.push({ pid, mb: Number(status.match(/VmHWM:\s+(\d+) kB/)?.[1] ?? 0) / 1024 });
    } catch {
      // the process ended
    }
  }
  return peaks;
}

/** The pids of the processes descending from `root`. */
function descendants(root) {
  const parent = new Map();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parent.set(Number(pid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // ended
    }
  }
  const out = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parent) {
      if (!out.has(pid) && out.has(ppid)) {
        out.add(pid);
        grew = true;
      }
    }
  }
  return out;
}

async function benchWeb() {
  const { startStaticServer } = await import(join(CLI_DIST, 'serve', 'static-server.js'));
  const server = await startStaticServer({ root: WEB_DIST, port: 0 });
  const profile = mkdtempSync(join(tmpdir(), 's2s-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--enable-unsafe-swiftshader',
    ],
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
  });
  // the browser process: the one started with our --user-data-dir (a persistent context has no Browser object)
  const browserPid = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .find((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmd.includes(`--user-data-dir=${profile}`) && !cmd.includes('--type=');
      } catch {
        return false;
      }
    });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  let heapPeak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        const { metrics } = await cdp.send('Performance.getMetrics');
        const used = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0;
        if (used > heapPeak) heapPeak = used;
      } catch {
        // page busy or closing
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const control = (name) =>
    page.getByRole('button', { name, exact: true }).or(page.getByRole('link', { name, exact: true }));
  const ready = () =>
    page.locator('[data-testid=status]', { hasText: /\bReady\b/ }).waitFor({ state: 'visible', timeout: TIMEOUT });
  try {
    await page.goto(server.url);
    const t0 = performance.now();
    await page.getByLabel('Open scan folder', { exact: true }).setInputFiles(SERIES);
    await page.locator('[data-testid=geometry-report]').waitFor({ state: 'visible', timeout: TIMEOUT });
    await ready();
    const tLoaded = performance.now();
    await page.getByLabel('Threshold preset', { exact: true }).selectOption('bone');
    await control('Apply threshold').click();
    await ready();
    const tSegmented = performance.now();
    await control('Build model').click();
    const report = page.locator('[data-testid=model-report][data-triangles]');
    await report.waitFor({ state: 'attached', timeout: TIMEOUT });
    await ready();
    const stl = control('Download STL');
    await stl.waitFor({ state: 'visible', timeout: TIMEOUT });
    const tModel = performance.now();
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: TIMEOUT }), stl.click()]);
    const path = await download.path();
    const tSaved = performance.now();
    const stlBytes = statSync(path).size;
    sampling = false;
    await sampler;
    // the renderers are descendants of the browser process (through the zygote)
    const renderers = browserPid ? rendererPeaksMb(descendants(browserPid)) : [];
    return {
      seconds: {
        load: (tLoaded - t0) / 1000,
        threshold: (tSegmented - tLoaded) / 1000,
        model: (tModel - tSegmented) / 1000,
        download: (tSaved - tModel) / 1000,
        dropToDownloadable: (tModel - t0) / 1000,
        dropToSaved: (tSaved - t0) / 1000,
      },
      triangles: Number(await report.getAttribute('data-triangles')),
      volumeMl: Number(await report.getAttribute('data-volume-ml')),
      watertight: await report.getAttribute('data-watertight'),
      stlBytes,
      peakRendererRssMb: renderers.length ? Math.max(...renderers.map((r) => r.mb)) : null,
      peakMainThreadJsHeapMb: heapPeak / 2 ** 20,
      errors,
    };
  } finally {
    sampling = false;
    await sampler;
    await context.close();
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

function benchCli() {
  const work = mkdtempSync(join(tmpdir(), 's2s-bench-cli-'));
  try {
    const args = [
      join(CLI_DIST, 'main.js'),
      'convert',
      SERIES,
      join(work, 'bone.stl'),
      '--preset',
      'bone',
      '--watertight',
      '--json',
    ];
    const r = spawnSync('/usr/bin/time', ['-v', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) fail(`slice2solid convert failed: ${r.stderr}`);
    const wall = r.stderr.match(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/);
    const seconds = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : Number.NaN;
    const rss = Number(r.stderr.match(/Maximum resident set size \(kbytes\): (\d+)/)?.[1] ?? 0) / 1024;
    const json = JSON.parse(r.stdout);
    return {
      seconds,
      triangles: json.metrics.triangles,
      volumeMl: json.metrics.volumeMl,
      watertight: json.metrics.watertight ?? json.metrics.closedManifold,
      peakRssMb: rss,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const chromiumVersion = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).stdout.trim();
console.log(
  `series: ${files.length} files, ${(seriesBytes / 2 ** 20).toFixed(0)} MiB; ${chromiumVersion}; ${cpus().length} cores`,
);
const web = await benchWeb();
console.log('web:', JSON.stringify(web));
const cli = benchCli();
console.log('cli:', JSON.stringify(cli));

const f = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));
console.log(`
| job (512x512x300 CT, bone) | drop -> downloadable STL | triangles | volume mL | peak memory |
|---|---|---|---|---|
| web app, headless Chromium | ${f(web.seconds.dropToDownloadable)} s (load ${f(web.seconds.load)}, threshold ${f(web.seconds.threshold)}, model ${f(web.seconds.model)}; STL saved +${f(web.seconds.download)}) | ${web.triangles} | ${f(web.volumeMl, 2)} | renderer ${f(web.peakRendererRssMb, 0)} MB RSS (main-thread JS heap ${f(web.peakMainThreadJsHeapMb, 0)} MB) |
| CLI convert | ${f(cli.seconds)} s (whole process) | ${cli.triangles} | ${f(cli.volumeMl, 2)} | ${f(cli.peakRssMb, 0)} MB RSS |
`);
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(
  OUT,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, memGiB: totalmem() / 2 ** 30, chromium: chromiumVersion },
      series: { files: files.length, bytes: seriesBytes },
      web,
      cli,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${OUT}`);

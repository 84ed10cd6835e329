/// <reference types="node" />
/**
 * The web app end to end in headless Chromium (see ./harness.ts): a real CT DICOM series (20
 * slices of 512x512) loaded through the folder input, the bone preset applied, the model built and
 * downloaded as STL; the STL is parsed here and checked against the CLI's `convert` on the same
 * series with the same settings (triangles, volume, watertight). Then the screenshots of the
 * three slice views and the 3D view against the committed baselines, keyboard reachability and
 * accessible names of every control, and malformed uploads.
 *
 * The page is driven only through the DOM contract of the app (labels, roles, data-testid).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseModelCard, segmentWithModel, syntheticCase } from '@slice2solid/ai';
import { onnxRuntimeNodeBackend } from '@slice2solid/ai/node';
import type { Grid, Mesh, Volume } from '@slice2solid/core';
import { loadDicomSeries } from '@slice2solid/dicom';
import { readNifti, writeNifti } from '@slice2solid/io';
import { meshMetrics, THRESHOLD_PRESETS, threshold, weld } from '@slice2solid/ops';
import type { Download, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../../../packages/cli/src/cli.js';
import { dataPath, REPO_ROOT } from '../../../../test-utils/shared-data.js';
import { type ViewName, viewGeometry } from '../../src/app/view-geometry.js';
import { type AppSession, control, describeE2E, openApp, stableScreenshot, waitReady } from './harness.js';
import { compareWithBaseline } from './png-compare.js';

const SERIES = dataPath('totalsegmentator-ct-mr', 'example_ct_dicom');

/** The controls of the DOM contract that are buttons (or download links). */
const BUTTONS = ['Apply threshold', 'Build model', 'Undo', 'Redo', 'Learn from strokes', 'Clear strokes', 'Run model'];
const DOWNLOADS = [
  'Download STL',
  'Download GLB',
  'Download OBJ',
  'Download PLY',
  'Download 3MF',
  'Download label map (NIfTI)',
  'Download run record',
];

/** Binary or ASCII STL -> welded indexed mesh (identical positions merged). */
export function parseStl(bytes: Uint8Array): Mesh {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.length >= 84 ? view.getUint32(80, true) : -1;
  let soup: Float32Array;
  if (count >= 0 && 84 + 50 * count === bytes.length) {
    soup = new Float32Array(9 * count);
    for (let t = 0; t < count; t++) {
      for (let k = 0; k < 9; k++) soup[9 * t + k] = view.getFloat32(84 + 50 * t + 12 + 4 * k, true);
    }
  } else {
    const text = new TextDecoder().decode(bytes);
    if (!/^\s*solid/.test(text)) throw new Error(`not an STL file (${bytes.length} bytes)`);
    const values: number[] = [];
    for (const m of text.matchAll(/vertex\s+(\S+)\s+(\S+)\s+(\S+)/g)) values.push(+m[1]!, +m[2]!, +m[3]!);
    soup = Float32Array.from(values);
  }
  const indices = new Uint32Array(soup.length / 3);
  for (let i = 0; i < indices.length; i++) indices[i] = i;
  return weld({ positions: soup, indices });
}

interface CliModel {
  triangles: number;
  volumeMm3: number;
  closedManifold: boolean;
}

/** `slice2solid convert <series> bone.stl --preset bone --watertight` in-process: the reference result. */
async function cliReference(work: string): Promise<CliModel> {
  let out = '';
  let err = '';
  // the app's model defaults: BUILD_MODEL_DEFAULTS with the manifold-3d watertight check on
  const code = await runCli(['convert', SERIES, 'bone.stl', '--preset', 'bone', '--watertight', '--json'], {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s), isTTY: false },
    cwd: work,
  });
  if (code !== 0) throw new Error(`slice2solid convert failed (${code}): ${err}`);
  const m = meshMetrics(parseStl(new Uint8Array(readFileSync(join(work, 'bone.stl')))));
  const reported = JSON.parse(out) as { metrics: { triangles: number; volumeMm3: number } };
  expect(m.triangles).toBe(reported.metrics.triangles);
  return { triangles: m.triangles, volumeMm3: m.volumeMm3, closedManifold: m.closedManifold };
}

describeE2E('web app in headless Chromium: CT series -> bone -> STL', () => {
  let s: AppSession;
  let work: string;
  let reference: CliModel;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 's2s-e2e-'));
    s = await openApp();
    reference = await cliReference(work);
  }, 120_000);

  afterAll(async () => {
    await s?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('says nothing is uploaded, and loads the DICOM folder: series list, geometry report, Ready', async () => {
    const { page } = s;
    await expect(page.locator('[data-testid=privacy-banner]').textContent()).resolves.toMatch(/upload|leaves|local/i);
    expect(readdirSync(SERIES)).toHaveLength(20);
    await page.getByLabel('Open scan folder', { exact: true }).setInputFiles(SERIES);
    await page.locator('[data-testid=geometry-report]').waitFor({ state: 'visible', timeout: 60_000 });
    await waitReady(page);
    expect(await page.locator('[data-testid=series-list] button').count()).toBeGreaterThanOrEqual(1);
    // the geometry of the series: 512 x 512 x 20 voxels
    expect(await page.locator('[data-testid=geometry-report]').textContent()).toMatch(/512\D{1,3}512\D{1,3}20\b/);
    // no error shown (an empty alert region may stay in the page)
    await expect(page.getByRole('alert').filter({ hasText: /\S/ }).count()).resolves.toBe(0);
  });

  it('bone preset -> model -> STL download: triangles, volume as the CLI, watertight', async () => {
    const { page } = s;
    await page.getByLabel('Threshold preset', { exact: true }).selectOption('bone');
    await control(page, 'Apply threshold').click();
    await waitReady(page);
    await control(page, 'Build model').click();
    const report = page.locator('[data-testid=model-report][data-triangles]');
    await report.waitFor({ state: 'attached', timeout: 90_000 });
    await waitReady(page);

    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 60_000 }),
      control(page, 'Download STL').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.stl$/i);
    const path = await download.path();
    const mesh = parseStl(new Uint8Array(readFileSync(path)));
    const m = meshMetrics(mesh);
    expect(m.triangles).toBeGreaterThan(0);
    // watertight: every edge shared by exactly two consistently wound triangles, outward normals
    expect(m.boundaryEdges).toBe(0);
    expect(m.nonManifoldEdges).toBe(0);
    expect(m.inconsistentEdges).toBe(0);
    expect(m.volumeMm3).toBeGreaterThan(0);
    console.info(
      `web STL: ${m.triangles} triangles, ${m.volumeMl.toFixed(2)} mL; CLI convert: ${reference.triangles} triangles, ${(reference.volumeMm3 / 1000).toFixed(2)} mL`,
    );
    // the same model as `slice2solid convert --preset bone` on the same series (within 2%)
    expect(Math.abs(m.volumeMm3 - reference.volumeMm3) / reference.volumeMm3).toBeLessThan(0.02);
    expect(Math.abs(m.triangles - reference.triangles) / reference.triangles).toBeLessThan(0.1);
    // the model report on the page tells the truth about the file
    expect(Number(await report.getAttribute('data-triangles'))).toBe(m.triangles);
    const volumeMl = Number(await report.getAttribute('data-volume-ml'));
    expect(Math.abs(volumeMl - m.volumeMl) / m.volumeMl).toBeLessThan(0.005);
    expect(await report.getAttribute('data-watertight')).toBe('true');
  });

  it('the other downloads: GLB, OBJ, PLY, 3MF, the label map (NIfTI) and the run record', async () => {
    const { page } = s;
    // every download of the page (OBJ and the label maps bring a companion file just after)
    const downloads: Download[] = [];
    const collect = (d: Download) => downloads.push(d);
    page.on('download', collect);
    const expected: Record<string, RegExp> = {
      'Download GLB': /\.glb$/,
      'Download OBJ': /\.obj$/,
      'Download PLY': /\.ply$/,
      'Download 3MF': /\.3mf$/,
      'Download label map (NIfTI)': /\.nii(\.gz)?$/,
      'Download run record': /\.json$/,
    };
    const got = new Map<string, { name: string; bytes: Uint8Array }>();
    try {
      for (const [name, ext] of Object.entries(expected)) {
        const before = downloads.length;
        await control(page, name).click();
        await expect
          .poll(() => downloads.slice(before).some((d) => ext.test(d.suggestedFilename())), {
            timeout: 60_000,
            message: `a ${ext} download from "${name}"`,
          })
          .toBe(true);
        const d = downloads.slice(before).find((x) => ext.test(x.suggestedFilename()))!;
        got.set(name, { name: d.suggestedFilename(), bytes: new Uint8Array(readFileSync(await d.path())) });
        await waitReady(page);
      }
      // let the companions of the last ones arrive before the next test
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      page.off('download', collect);
    }
    const file = (n: string) => got.get(n)!;
    expect(file('Download GLB').name).toMatch(/\.glb$/);
    expect(new TextDecoder().decode(file('Download GLB').bytes.subarray(0, 4))).toBe('glTF');
    expect(file('Download OBJ').name).toMatch(/\.obj$/);
    expect(new TextDecoder().decode(file('Download OBJ').bytes)).toMatch(/^v /m);
    expect(file('Download PLY').name).toMatch(/\.ply$/);
    expect(new TextDecoder().decode(file('Download PLY').bytes.subarray(0, 3))).toBe('ply');
    expect(file('Download 3MF').name).toMatch(/\.3mf$/);
    expect([...file('Download 3MF').bytes.subarray(0, 2)]).toEqual([0x50, 0x4b]); // a zip
    // the label map: the scan's grid, with bone voxels
    const nii = file('Download label map (NIfTI)');
    expect(nii.name).toMatch(/\.nii(\.gz)?$/);
    const labels = readNifti(nii.bytes);
    expect([...labels.grid.size]).toEqual([512, 512, 20]);
    let set = 0;
    for (let n = 0; n < labels.data.length; n++) if (labels.data[n] !== 0) set++;
    expect(set).toBeGreaterThan(1000);
    // the run record: the model's numbers, and no UID or file name of the scan
    const rec = file('Download run record');
    expect(rec.name).toMatch(/\.json$/);
    const text = new TextDecoder().decode(rec.bytes);
    const record = JSON.parse(text) as { schema: string; metrics: { triangles: number } };
    expect(record.schema).toBe('slice2solid/run-record');
    expect(record.metrics.triangles).toBe(
      Number(await page.locator('[data-testid=model-report]').getAttribute('data-triangles')),
    );
    const uidRoot = readdirSync(SERIES)[0]!.replace(/^CT\./, '').split('.').slice(0, 9).join('.');
    expect(uidRoot.length).toBeGreaterThan(10);
    expect(text).not.toContain(uidRoot);
  });

  it('the three slice views and the 3D view match the baselines', async () => {
    const { page } = s;
    const failures: string[] = [];
    for (const view of ['axial', 'coronal', 'sagittal', '3d']) {
      const shot = await stableScreenshot(page.locator(`[data-testid=view-${view}]`));
      try {
        // SwiftShader renders the same pixels on every x86-64 machine; the tolerance covers
        // anti-aliasing and font rasterisation differences
        const r = compareWithBaseline(`view-${view}`, shot, { maxMismatch: 0.01 });
        console.info(`view-${view}: ${r.width}x${r.height}, ${(r.mismatch * 100).toFixed(3)}% of the pixels differ`);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
    expect(failures).toEqual([]);
  });

  it('keyboard: Tab reaches every control of the page, and every focusable element has an accessible name', async () => {
    const { page } = s;
    // Undo and Redo work from the keyboard (Undo enables Redo); Redo restores the state
    const undo = control(page, 'Undo');
    const redo = control(page, 'Redo');
    await undo.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => redo.isEnabled(), { timeout: 30_000 }).toBe(true);

    // walk the Tab order from the top of the page, marking each element reached
    // (from a temporary focus target at the very start of the body: blur() alone would leave the
    // sequential navigation starting point at the last focused control)
    await page.evaluate(() => {
      const start = document.createElement('span');
      start.tabIndex = -1;
      start.id = 'e2e-tab-start';
      document.body.prepend(start);
      start.focus();
    });
    const order: string[] = [];
    for (let i = 0; i < 200; i++) {
      await page.keyboard.press('Tab');
      const seen = await page.evaluate((n) => {
        const el = document.activeElement as HTMLElement | null;
        if (!el || el === document.body) return 'body';
        if (el.dataset.e2eTab !== undefined) return 'again';
        el.dataset.e2eTab = String(n);
        return `${el.tagName.toLowerCase()}${el.getAttribute('type') ? `[type=${el.getAttribute('type')}]` : ''} "${el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 40) ?? ''}"`;
      }, i);
      if (seen === 'again' || (seen === 'body' && order.length > 0)) break;
      if (seen !== 'body') order.push(seen);
    }
    await page.evaluate(() => document.getElementById('e2e-tab-start')?.remove());
    expect(order.length).toBeGreaterThan(5);

    const contract: { what: string; locator: ReturnType<typeof control> }[] = [
      { what: 'input "Open scan files"', locator: page.getByLabel('Open scan files', { exact: true }) },
      { what: 'input "Open scan folder"', locator: page.getByLabel('Open scan folder', { exact: true }) },
      { what: 'select "Window preset"', locator: page.getByLabel('Window preset', { exact: true }) },
      { what: 'select "Threshold preset"', locator: page.getByLabel('Threshold preset', { exact: true }) },
      { what: 'input "Open model files"', locator: page.getByLabel('Open model files', { exact: true }) },
      {
        what: 'checkbox "Look first"',
        locator: page.getByRole('checkbox', { name: /^Look first/ }),
      },
      {
        what: 'checkbox "Keep the largest piece only"',
        locator: page.getByLabel('Keep the largest piece only', { exact: true }),
      },
      ...[...BUTTONS, ...DOWNLOADS].map((name) => ({ what: `button "${name}"`, locator: control(page, name) })),
    ];
    const unreachable: string[] = [];
    for (const c of contract) {
      if ((await c.locator.count()) !== 1) {
        unreachable.push(`${c.what}: ${await c.locator.count()} element(s) found`);
        continue;
      }
      const state = await c.locator.evaluate((el) => ({
        tab: (el as HTMLElement).dataset.e2eTab,
        disabled: (el as HTMLButtonElement).disabled === true,
        tabIndex: (el as HTMLElement).tabIndex,
      }));
      // a disabled control is skipped by Tab; it must be reachable once enabled
      if (state.tab === undefined && !(state.disabled && state.tabIndex >= 0)) {
        unreachable.push(`${c.what}: not reached by Tab`);
      }
    }
    expect(unreachable, `Tab order: ${order.join(' > ')}`).toEqual([]);

    // accessible names from Chromium's accessibility tree
    const cdp = await s.context.newCDPSession(page);
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as {
      nodes: {
        ignored: boolean;
        role?: { value: string };
        name?: { value: string };
        properties?: { name: string; value: { value: unknown } }[];
      }[];
    };
    const focusable = nodes
      .filter((n) => !n.ignored && n.properties?.some((p) => p.name === 'focusable' && p.value.value === true))
      .filter((n) => !['RootWebArea', 'WebArea'].includes(n.role?.value ?? ''));
    expect(focusable.length).toBeGreaterThanOrEqual(order.length);
    const unnamed = focusable.filter((n) => !(n.name?.value ?? '').trim()).map((n) => n.role?.value ?? '?');
    expect(unnamed, 'focusable elements without an accessible name (roles)').toEqual([]);
    await cdp.detach();

    await redo.focus();
    await page.keyboard.press('Enter');
    await waitReady(page);
  });

  it('nothing left the machine: every request was a GET to the app itself; no page errors', () => {
    const foreign = s.requests.filter(
      (r) => !(r.url.startsWith(`${s.origin}/`) || r.url.startsWith('blob:') || r.url.startsWith('data:')),
    );
    expect(foreign).toEqual([]);
    expect(s.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(s.errors).toEqual([]);
  });
});

describeE2E('web app in headless Chromium: malformed uploads', () => {
  let s: AppSession;

  beforeAll(async () => {
    s = await openApp();
  }, 60_000);

  afterAll(async () => {
    await s?.close();
  });

  it('random bytes named .dcm and truncated files show a clear alert; then a valid load works', async () => {
    const { page } = s;
    const files = page.getByLabel('Open scan files', { exact: true });
    // the message: an alert region with text (an empty alert region may stay in the page)
    const alert = page.getByRole('alert').filter({ hasText: /\S/ });

    // deterministic "random" bytes (no DICM marker, no data elements)
    let x = 12345;
    const noise = Buffer.alloc(200);
    for (let i = 0; i < noise.length; i++) noise[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    const first = readdirSync(SERIES).sort()[0]!;
    const slice = readFileSync(join(SERIES, first));
    const bad = [
      { name: 'noise.dcm', mimeType: 'application/dicom', buffer: noise },
      {
        name: 'rtplan_truncated.dcm',
        mimeType: 'application/dicom',
        buffer: readFileSync(dataPath('dicom-robustness', 'pydicom', 'rtplan_truncated.dcm')),
      },
      { name: 'half-slice.dcm', mimeType: 'application/dicom', buffer: slice.subarray(0, slice.length >> 1) },
    ];
    const messages: string[] = [];
    for (const [i, file] of bad.entries()) {
      // a fresh page for each bad file, so that each message is its own (the last error stays
      // on the page for the valid load below)
      if (i > 0) {
        await page.reload({ waitUntil: 'load' });
        await expect.poll(() => alert.count()).toBe(0);
      }
      await files.setInputFiles(file);
      await expect
        .poll(async () => ((await alert.count()) > 0 ? ((await alert.first().textContent()) ?? '').trim() : ''), {
          timeout: 30_000,
          message: `an alert for ${file.name}`,
        })
        .toMatch(/\S/);
      const text = ((await alert.first().textContent()) ?? '').trim();
      // a sentence that says what is wrong, not a stack trace or a bare code
      expect(text.length, `${file.name}: "${text}"`).toBeGreaterThan(15);
      expect(text, file.name).toMatch(/dicom|file|image|scan|read|load/i);
      expect(text, file.name).not.toMatch(/\bat \S+ \(|TypeError|undefined|\[object/);
      messages.push(text);
      // the page is still usable: the inputs are there and enabled
      expect(await files.isEnabled()).toBe(true);
    }
    console.info(`messages shown:\n  ${messages.join('\n  ')}`);
    expect(
      messages.some((m) => /truncat|cut short|ends|incomplete/i.test(m)),
      messages.join(' | '),
    ).toBe(true);

    // then the real series loads
    const paths = readdirSync(SERIES).map((f) => join(SERIES, f));
    await files.setInputFiles(paths);
    await page.locator('[data-testid=geometry-report]').waitFor({ state: 'visible', timeout: 60_000 });
    await waitReady(page);
    expect(await page.locator('[data-testid=geometry-report]').textContent()).toMatch(/512\D{1,3}512\D{1,3}20\b/);
    expect(s.errors.filter((e) => e.startsWith('page error'))).toEqual([]);
  });
});

describeE2E('web app in headless Chromium: behind the access token', () => {
  let s: AppSession;

  beforeAll(async () => {
    s = await openApp({ token: 'e2e-token-0123456789abcdef' });
  }, 60_000);

  afterAll(async () => {
    await s?.close();
  });

  it('the ?token= address opens the app; its scripts, workers and WebAssembly load with the HttpOnly cookie', async () => {
    const { page } = s;
    expect(new URL(page.url()).search).toBe(''); // the token left the address bar
    expect(await page.evaluate(() => document.cookie)).toBe(''); // HttpOnly: not visible to scripts
    await page.getByLabel('Open scan folder', { exact: true }).setInputFiles(SERIES);
    await page.locator('[data-testid=geometry-report]').waitFor({ state: 'visible', timeout: 60_000 });
    await waitReady(page);
    expect(await page.locator('[data-testid=geometry-report]').textContent()).toMatch(/512\D{1,3}512\D{1,3}20\b/);
    expect(s.errors).toEqual([]);
    // and without the cookie the server answers 403
    const other = await fetch(s.origin);
    expect(other.status).toBe(403);
  });
});

// ---------- scribble assistant and AI model ----------

/** The screen point (client pixels) of voxel ijk's centre in a slice view (SliceView's fit: the slice in mm, centred). */
async function voxelPoint(page: Page, view: ViewName, grid: Grid, ijk: readonly number[]): Promise<[number, number]> {
  const g = viewGeometry(grid, view);
  const box = (await page.locator(`[data-testid=view-${view}]`).boundingBox())!;
  const W = Math.round(box.width);
  const H = Math.round(box.height);
  const wMm = g.u.n * g.u.spacing;
  const hMm = g.v.n * g.v.spacing;
  const scale = Math.min(W / wMm, H / hMm);
  const ox = (W - wMm * scale) / 2;
  const oy = (H - hMm * scale) / 2;
  const a = ijk[g.u.axis]!;
  const b = ijk[g.v.axis]!;
  const x = ox + ((g.u.flip ? g.u.n - 1 - a : a) + 0.5) * ((wMm * scale) / g.u.n);
  const y = oy + ((g.v.flip ? g.v.n - 1 - b : b) + 0.5) * ((hMm * scale) / g.v.n);
  return [box.x + (x * box.width) / W, box.y + (y * box.height) / H];
}

/** Moves a view to `slice` (0-based) with the keyboard, as a user would (arrow keys on the focused view). */
async function goToSlice(page: Page, view: ViewName, slice: number): Promise<void> {
  const canvas = page.locator(`[data-testid=view-${view}]`);
  await canvas.focus();
  for (let i = 0; i < 1000; i++) {
    const m = /slice (\d+) of/.exec((await canvas.getAttribute('aria-label')) ?? '');
    const now = Number(m?.[1]) - 1;
    if (now === slice) return;
    await page.keyboard.press(now < slice ? 'ArrowUp' : 'ArrowDown');
  }
  throw new Error(`could not reach slice ${slice} of the ${view} view`);
}

function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

/**
 * Voxels of one slice (`axis` fixed at `slice`) to paint with a 1 mm brush: `count` where the
 * reference holds 1 in the whole 3x3 neighbourhood in the plane, and `count` where it holds 0
 * (half of them within 4 voxels of the reference, so the boundary is taught).
 */
function strokePoints(
  ref: Uint8Array,
  size: readonly number[],
  axis: 0 | 1 | 2,
  slice: number,
  count: number,
  seed: number,
): { structure: number[][]; background: number[][] } {
  const [ni, nj] = size as [number, number, number];
  const at = (ijk: number[]) => ref[ijk[0]! + ni * (ijk[1]! + nj * ijk[2]!)]!;
  const [ua, va] = [0, 1, 2].filter((a) => a !== axis) as [number, number];
  const r = 1;
  const inside: number[][] = [];
  const near: number[][] = [];
  const far: number[][] = [];
  for (let v = r; v < size[va]! - r; v += 2) {
    for (let u = r; u < size[ua]! - r; u += 2) {
      const ijk = [0, 0, 0];
      ijk[axis] = slice;
      let ones = 0;
      let total = 0;
      let ring = 0;
      for (let dv = -4; dv <= 4; dv++) {
        for (let du = -4; du <= 4; du++) {
          const q = [...ijk];
          q[ua] = u + du;
          q[va] = v + dv;
          if (q[ua]! < 0 || q[va]! < 0 || q[ua]! >= size[ua]! || q[va]! >= size[va]!) continue;
          const x = at(q);
          if (Math.abs(du) <= r && Math.abs(dv) <= r) {
            ones += x;
            total++;
          } else ring += x;
        }
      }
      ijk[ua] = u;
      ijk[va] = v;
      if (ones === total) inside.push(ijk);
      else if (ones === 0) (ring > 0 ? near : far).push(ijk);
    }
  }
  const rand = prng(seed);
  const pick = (list: number[][], k: number) => {
    const out: number[][] = [];
    const copy = [...list];
    while (out.length < k && copy.length > 0) out.push(copy.splice(Math.floor(rand() * copy.length), 1)[0]!);
    return out;
  };
  return {
    structure: pick(inside, count),
    background: [...pick(near, count >> 1), ...pick(far, count - (count >> 1))],
  };
}

/**
 * Corrections where a result is wrong on one slice: structure strokes on missed voxels (reference
 * 1, result 0) and background strokes on false ones (reference 0, result 1), each where the
 * reference is the same under the whole 1 mm brush disc (the voxel and its 4 neighbours in the plane).
 */
function correctionPoints(
  ref: Uint8Array,
  result: ArrayLike<number>,
  size: readonly number[],
  axis: 0 | 1 | 2,
  slice: number,
  count: number,
  seed: number,
): { structure: number[][]; background: number[][] } {
  const [ni, nj] = size as [number, number, number];
  const lin = (q: number[]) => q[0]! + ni * (q[1]! + nj * q[2]!);
  const [ua, va] = [0, 1, 2].filter((a) => a !== axis) as [number, number];
  const missed: number[][] = [];
  const wrong: number[][] = [];
  for (let v = 1; v < size[va]! - 1; v++) {
    for (let u = 1; u < size[ua]! - 1; u++) {
      const ijk = [0, 0, 0];
      ijk[axis] = slice;
      ijk[ua] = u;
      ijk[va] = v;
      const p = lin(ijk);
      const got = result[p] ? 1 : 0;
      if (got === ref[p]) continue;
      let same = true;
      for (let dv = -1; dv <= 1 && same; dv++) {
        for (let du = -1; du <= 1 && same; du++) {
          if (du !== 0 && dv !== 0) continue; // the 1 mm brush disc: the voxel and its 4 neighbours
          const q = [...ijk];
          q[ua] = u + du;
          q[va] = v + dv;
          if (ref[lin(q)] !== ref[p]) same = false;
        }
      }
      if (same) (ref[p] ? missed : wrong).push(ijk);
    }
  }
  const rand = prng(seed);
  const pick = (list: number[][]) => {
    const copy = [...list];
    const out: number[][] = [];
    while (out.length < count && copy.length > 0) out.push(copy.splice(Math.floor(rand() * copy.length), 1)[0]!);
    return out;
  };
  return { structure: pick(missed), background: pick(wrong) };
}

async function paintPoints(page: Page, view: ViewName, grid: Grid, points: number[][], tool: string): Promise<void> {
  await page.getByLabel(tool, { exact: true }).check();
  for (const p of points) {
    const [x, y] = await voxelPoint(page, view, grid, p);
    await page.mouse.click(x, y);
  }
}

function diceOf(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let inter = 0;
  let na = 0;
  let nb = 0;
  for (let p = 0; p < a.length; p++) {
    const x = a[p] ? 1 : 0;
    const y = b[p] ? 1 : 0;
    na += x;
    nb += y;
    inter += x & y;
  }
  return na + nb === 0 ? 1 : (2 * inter) / (na + nb);
}

async function downloadLabelMap(page: Page): Promise<Volume> {
  const [d] = await Promise.all([
    page.waitForEvent('download', { timeout: 60_000 }),
    control(page, 'Download label map (NIfTI)').click(),
  ]);
  const v = readNifti(new Uint8Array(readFileSync(await d.path())));
  await waitReady(page);
  // the segment table follows the image
  await new Promise((r) => setTimeout(r, 800));
  return v;
}

describeE2E('web app in headless Chromium: scribble assistant on the CT series', () => {
  let s: AppSession;
  let volume: Volume;
  let reference: Uint8Array;

  beforeAll(async () => {
    s = await openApp();
    const files = readdirSync(SERIES).map((name) => ({
      name,
      bytes: new Uint8Array(readFileSync(join(SERIES, name))),
    }));
    volume = (await loadDicomSeries(files)).volume;
    const bone = THRESHOLD_PRESETS.bone;
    reference = threshold(volume, { lower: bone.lower, upper: bone.upper });
  }, 120_000);

  afterAll(async () => {
    await s?.close();
  });

  it('strokes on a few slices of a bone reference -> Learn from strokes -> a bone structure (Dice against the threshold), undoable, iterative', async () => {
    const { page } = s;
    const grid = volume.grid;
    await page.getByLabel('Open scan folder', { exact: true }).setInputFiles(SERIES);
    await page.locator('[data-testid=geometry-report]').waitFor({ state: 'visible', timeout: 60_000 });
    await waitReady(page);
    await page.getByLabel('Brush radius (mm)', { exact: true }).fill('1');
    const counts = page.locator('[data-testid=scribble-counts]');
    const alert = page.getByRole('alert').filter({ hasText: /\S/ });

    const axial = viewGeometry(grid, 'axial');
    const coronal = viewGeometry(grid, 'coronal');
    const first = strokePoints(reference, grid.size, axial.sliceAxis, 4, 40, 1);
    await goToSlice(page, 'axial', 4);
    await paintPoints(page, 'axial', grid, first.structure, 'Scribble: structure strokes');
    // only one class painted: a clear message, nothing runs
    await control(page, 'Learn from strokes').click();
    await expect
      .poll(async () => (await alert.count()) > 0 && (await alert.first().textContent()))
      .toMatch(/background.+strokes/);
    await paintPoints(page, 'axial', grid, first.background, 'Scribble: background strokes');
    for (const [k, seed] of [
      [10, 2],
      [16, 3],
    ] as const) {
      const pts = strokePoints(reference, grid.size, axial.sliceAxis, k, 40, seed);
      await goToSlice(page, 'axial', k);
      await paintPoints(page, 'axial', grid, pts.structure, 'Scribble: structure strokes');
      await paintPoints(page, 'axial', grid, pts.background, 'Scribble: background strokes');
    }
    // and one coronal slice: strokes work on any view
    const cor = strokePoints(reference, grid.size, coronal.sliceAxis, 256, 20, 4);
    await goToSlice(page, 'coronal', 256);
    await paintPoints(page, 'coronal', grid, cor.structure, 'Scribble: structure strokes');
    await paintPoints(page, 'coronal', grid, cor.background, 'Scribble: background strokes');
    const painted = {
      s: Number(await counts.getAttribute('data-structure')),
      b: Number(await counts.getAttribute('data-background')),
    };
    expect(painted.s).toBeGreaterThan(100);
    expect(painted.b).toBeGreaterThan(100);

    const t0 = Date.now();
    await control(page, 'Learn from strokes').click();
    await waitReady(page, 300_000);
    const seconds = (Date.now() - t0) / 1000;
    await expect(alert.count()).resolves.toBe(0);
    const structure = page.locator('#structures li').first();
    const voxels = Number(await structure.getAttribute('data-voxels'));
    expect(voxels).toBeGreaterThan(1000);
    const labels1 = await downloadLabelMap(page);
    expect([...labels1.grid.size]).toEqual([...grid.size]);
    const dice1 = diceOf(labels1.data, reference);

    // undo brings the empty structure back, redo the result
    await control(page, 'Undo').click();
    await expect.poll(() => structure.getAttribute('data-voxels')).toBe('0');
    await control(page, 'Redo').click();
    await expect.poll(() => structure.getAttribute('data-voxels')).toBe(String(voxels));

    // iterate: strokes where the result is wrong on one more slice, learn again
    // (on the unpainted axial slice where it is most wrong)
    let fix = { slice: -1, structure: [] as number[][], background: [] as number[][] };
    for (let k = 0; k < axial.slices; k++) {
      if ([4, 10, 16].includes(k)) continue;
      const c = correctionPoints(reference, labels1.data, grid.size, axial.sliceAxis, k, 40, 5);
      if (c.structure.length + c.background.length > fix.structure.length + fix.background.length)
        fix = { slice: k, ...c };
    }
    const more = fix;
    expect(more.structure.length + more.background.length).toBeGreaterThan(10);
    await goToSlice(page, 'axial', more.slice);
    await paintPoints(page, 'axial', grid, more.structure, 'Scribble: structure strokes');
    await paintPoints(page, 'axial', grid, more.background, 'Scribble: background strokes');
    await control(page, 'Learn from strokes').click();
    await waitReady(page, 300_000);
    const labels2 = await downloadLabelMap(page);
    const dice2 = diceOf(labels2.data, reference);
    let refCount = 0;
    for (let p = 0; p < reference.length; p++) refCount += reference[p]!;
    console.info(
      `scribble: ${painted.s} structure + ${painted.b} background stroke voxels on 4 slices -> ${voxels} voxels (bone threshold ${refCount}), Dice ${dice1.toFixed(4)} (learned in ${seconds.toFixed(1)} s); after ${more.structure.length} + ${more.background.length} corrections on axial slice ${more.slice}: Dice ${dice2.toFixed(4)}`,
    );
    expect(dice1).toBeGreaterThan(0.88);
    // the corrections help
    expect(dice2).toBeGreaterThan(dice1);

    // Cancel stops learning at once: the structure and the strokes stay as they were
    const voxels2 = await structure.getAttribute('data-voxels');
    await control(page, 'Learn from strokes').click();
    await control(page, 'Cancel').click();
    await expect.poll(() => page.locator('[data-testid=status]').textContent()).toMatch(/cancelled/);
    expect(await structure.getAttribute('data-voxels')).toBe(voxels2);
    expect(Number(await counts.getAttribute('data-structure'))).toBeGreaterThan(painted.s - 1);

    // clearing the strokes leaves the structure alone
    await control(page, 'Clear strokes').click();
    await expect.poll(() => counts.getAttribute('data-structure')).toBe('0');
    expect(Number(await structure.getAttribute('data-voxels'))).toBeGreaterThan(1000);
    expect(s.errors).toEqual([]);
  }, 900_000);
});

describeE2E('web app in headless Chromium: AI model opened from disk (synthetic fixture)', () => {
  const FIXTURE = join(REPO_ROOT, 'packages', 'ai', 'test', 'fixtures', 'synthetic-unet');
  let s: AppSession;
  let work: string;
  let niiPath: string;
  let node: { all: Map<number, number>; tubeLookFirst: number };

  const countsOf = (data: ArrayLike<number>) => {
    const m = new Map<number, number>();
    for (let p = 0; p < data.length; p++) if (data[p]) m.set(data[p]!, (m.get(data[p]!) ?? 0) + 1);
    return m;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 's2s-e2e-model-'));
    // an image the model knows: a synthetic case it never saw in training
    const { image } = syntheticCase(5001);
    niiPath = join(work, 'synthetic-5001.nii');
    writeFileSync(niiPath, writeNifti(image));
    // the reference: segmentWithModel in Node (onnxruntime-node) on the same file as the page reads
    const volume = readNifti(new Uint8Array(readFileSync(niiPath)));
    const card = parseModelCard(readFileSync(join(FIXTURE, 'model.json')));
    const session = await onnxRuntimeNodeBackend({ intraOpNumThreads: 1 }).createSession(
      new Uint8Array(readFileSync(join(FIXTURE, 'model.onnx'))),
    );
    const all = await segmentWithModel(volume, card, session);
    const lf = await segmentWithModel(volume, card, session, { structures: ['tube'], roiFirst: true });
    node = { all: countsOf(all.labels.data), tubeLookFirst: countsOf(lf.labels.data).get(2) ?? 0 };
    await session.dispose();
    s = await openApp();
  }, 120_000);

  afterAll(async () => {
    await s?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('an invalid card shows a clear message; the fixture opens, runs in a worker (onnxruntime-web) and gives the structures of Node', async () => {
    const { page } = s;
    const alert = page.getByRole('alert').filter({ hasText: /\S/ });
    const alertText = async () => ((await alert.count()) > 0 ? ((await alert.first().textContent()) ?? '') : '');
    await page.getByLabel('Open scan files', { exact: true }).setInputFiles(niiPath);
    await page.locator('[data-testid=geometry-report]').waitFor({ state: 'visible', timeout: 60_000 });
    await waitReady(page);
    const modelFiles = page.getByLabel('Open model files', { exact: true });
    const runModel = control(page, 'Run model');
    expect(await runModel.isDisabled()).toBe(true);

    const cardText = readFileSync(join(FIXTURE, 'model.json'), 'utf8');
    const onnx = readFileSync(join(FIXTURE, 'model.onnx'));
    const broken = JSON.parse(cardText) as { output: Record<string, unknown> };
    delete broken.output.labels;
    const messages: string[] = [];
    for (const files of [
      // a card without output labels
      [
        { name: 'model.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(broken)) },
        { name: 'model.onnx', mimeType: 'application/octet-stream', buffer: onnx },
      ],
      // not JSON at all
      [{ name: 'model.json', mimeType: 'application/json', buffer: Buffer.from('{"schema": ') }],
      // the card without the .onnx it names
      [{ name: 'model.json', mimeType: 'application/json', buffer: Buffer.from(cardText) }],
    ]) {
      const before = messages.at(-1) ?? '';
      await modelFiles.setInputFiles(files);
      await expect
        .poll(async () => ((await alertText()).trim() !== before ? await alertText() : ''), { timeout: 30_000 })
        .toMatch(/\S/);
      const text = (await alertText()).trim();
      expect(text).toMatch(/model card|model\.onnx/);
      expect(text).not.toMatch(/\bat \S+ \(|TypeError|undefined|\[object/);
      messages.push(text);
      expect(await runModel.isDisabled()).toBe(true);
    }
    console.info(`model card messages:\n  ${messages.join('\n  ')}`);
    expect(messages[0]).toMatch(/output\.labels/);
    expect(messages[2]).toMatch(/"model\.onnx", which is not among the chosen files/);

    // the fixture: card + ONNX chosen together
    await modelFiles.setInputFiles([join(FIXTURE, 'model.json'), join(FIXTURE, 'model.onnx')]);
    await page.locator('[data-testid=model-info][data-model=synthetic-unet]').waitFor({ timeout: 60_000 });
    await waitReady(page, 120_000);
    expect(await alertText()).toBe('');
    expect(await page.locator('[data-testid=model-info]').textContent()).toMatch(/SHA-256 checked/);
    await runModel.click();
    await waitReady(page, 300_000);
    expect(await alertText()).toBe('');
    const report = page.locator('[data-testid=model-run-report]');
    expect(await report.getAttribute('data-provider')).toBe('wasm');
    console.info(`model run: ${await report.locator('h3').textContent()}`);
    const voxelsOf = async (name: string) =>
      Number(await page.locator(`#structures li[data-name="${name}"]`).getAttribute('data-voxels'));
    const web = { ellipsoid: await voxelsOf('ellipsoid'), tube: await voxelsOf('tube') };
    console.info(
      `model: web ${JSON.stringify(web)} voxels; Node (onnxruntime-node) ellipsoid ${node.all.get(1)}, tube ${node.all.get(2)}`,
    );
    for (const [name, value] of [
      ['ellipsoid', 1],
      ['tube', 2],
    ] as const) {
      const want = node.all.get(value) ?? 0;
      expect(want).toBeGreaterThan(100);
      expect(Math.abs(web[name] - want) / want, name).toBeLessThan(0.01);
    }
    // the card's colours
    expect(await page.getByLabel('Colour of ellipsoid', { exact: true }).inputValue()).toBe('#f1d691');

    // a .onnx that is not a model (card without a checksum): refused with a message; the fixture stays open
    const noSha = JSON.parse(cardText) as Record<string, unknown>;
    delete noSha.sha256;
    await modelFiles.setInputFiles([
      { name: 'model.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(noSha)) },
      { name: 'model.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('not an onnx model at all') },
    ]);
    await expect.poll(alertText, { timeout: 60_000 }).toMatch(/could not load the model|ONNX/i);
    console.info(`bad .onnx message: ${(await alertText()).trim()}`);
    await waitReady(page);

    // only the tube, looking first: the same tube as Node's look-first run
    await page.getByLabel('Segment ellipsoid with the model', { exact: true }).uncheck();
    await page.getByRole('checkbox', { name: /^Look first/ }).check();
    const ellipsoidBefore = await voxelsOf('ellipsoid');
    await runModel.click();
    await waitReady(page, 300_000);
    expect(await alertText()).toBe('');
    const tube = await voxelsOf('tube');
    console.info(`look-first, tube only: web ${tube} voxels, Node ${node.tubeLookFirst}`);
    expect(Math.abs(tube - node.tubeLookFirst) / node.tubeLookFirst).toBeLessThan(0.01);
    expect(await voxelsOf('ellipsoid')).toBe(ellipsoidBefore);
    expect(await page.getByLabel('Segment ellipsoid with the model', { exact: true }).isChecked()).toBe(false);
    // the model step is undoable like the others
    await control(page, 'Undo').click();
    await expect.poll(() => voxelsOf('tube')).toBe(web.tube);
    expect(s.errors).toEqual([]);
    const foreign = s.requests.filter((r) => !(r.url.startsWith(`${s.origin}/`) || /^(blob|data):/.test(r.url)));
    expect(foreign).toEqual([]);
  }, 600_000);
});

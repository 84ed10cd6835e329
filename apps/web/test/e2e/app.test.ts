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
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Mesh } from '@slice2solid/core';
import { readNifti } from '@slice2solid/io';
import { meshMetrics, weld } from '@slice2solid/ops';
import type { Download } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../../../packages/cli/src/cli.js';
import { dataPath } from '../../../../test-utils/shared-data.js';
import { type AppSession, control, describeE2E, openApp, stableScreenshot, waitReady } from './harness.js';
import { compareWithBaseline } from './png-compare.js';

const SERIES = dataPath('totalsegmentator-ct-mr', 'example_ct_dicom');

/** The controls of the DOM contract that are buttons (or download links). */
const BUTTONS = ['Apply threshold', 'Build model', 'Undo', 'Redo'];
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

/// <reference types="node" />
/**
 * End-to-end harness: the built web app (apps/web/dist) served by `slice2solid serve`'s static
 * server (in-process, port 0) and driven in Debian's headless Chromium through playwright-core.
 * No browser is ever downloaded: the executable is /usr/bin/chromium (or $S2S_CHROMIUM).
 *
 * Without Chromium or without the app build the e2e suites are skipped with a message; in CI
 * (CI set) they fail instead, so that a broken setup cannot pass by skipping.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { describe, it } from 'vitest';
import { type StaticServer, startStaticServer } from '../../../../packages/cli/src/serve/static-server.js';
import { HAVE_SHARED_DATA, REPO_ROOT } from '../../../../test-utils/shared-data.js';

/** The app build to serve: apps/web/dist (or $S2S_WEB_DIST, e.g. a build in another folder). */
export const WEB_DIST = process.env.S2S_WEB_DIST ?? join(REPO_ROOT, 'apps', 'web', 'dist');
export const CHROMIUM = process.env.S2S_CHROMIUM ?? '/usr/bin/chromium';

/** Chromium switches: headless, no sandbox (CI containers run as root), nothing phoning home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // WebGL (the 3D view) on the CPU rasteriser SwiftShader: the same pixels on every machine
  '--enable-unsafe-swiftshader',
];

/** Why the e2e suites cannot run here, or undefined when they can. */
export function e2eMissing(): string | undefined {
  if (!existsSync(CHROMIUM)) {
    return `Chromium not found at ${CHROMIUM} (install the Debian package: apt-get install chromium)`;
  }
  if (!existsSync(join(WEB_DIST, 'index.html'))) {
    return 'the web app is not built (apps/web/dist/index.html is missing; run `npm run build:web`)';
  }
  if (!HAVE_SHARED_DATA) return '../shared/data is absent';
  return undefined;
}

let warned = false;

/**
 * `describe` for browser tests: skipped with a message when Chromium, the app build or the shared
 * data is missing; in CI a missing prerequisite is a failing test instead.
 */
export const describeE2E = ((name: string, fn: () => void) => {
  const missing = e2eMissing();
  if (!missing) return describe(name, fn);
  if (process.env.CI) {
    return describe(name, () => {
      it('has its prerequisites (CI runs every browser test)', () => {
        throw new Error(`e2e prerequisites missing in CI: ${missing}`);
      });
    });
  }
  if (!warned) {
    warned = true;
    console.warn(`[slice2solid e2e] skipping browser tests: ${missing}`);
  }
  return describe.skip(`${name} [skipped: ${missing}]`, () => {
    it('needs Chromium and the web app build', () => {});
  });
}) as (name: string, fn: () => void) => void;

export interface AppSession {
  readonly page: Page;
  readonly context: BrowserContext;
  readonly server: StaticServer;
  /** The app's origin, e.g. http://127.0.0.1:43123 */
  readonly origin: string;
  /** Uncaught page errors, console errors and failed requests (HTTP >= 400), in order. */
  readonly errors: string[];
  /** Every request the page made: method and URL. */
  readonly requests: { method: string; url: string }[];
  close(): Promise<void>;
}

export const VIEWPORT = { width: 1280, height: 900 } as const;

/**
 * Serves the app build on a free port and opens it in a fresh headless Chromium profile; with a
 * token, the server requires it (as for a non-loopback address) and the page is opened through
 * the `?token=` address.
 */
export async function openApp(options: { token?: string } = {}): Promise<AppSession> {
  const server = await startStaticServer({ root: WEB_DIST, port: 0, ...options });
  const origin = new URL(server.url).origin;
  const profile = mkdtempSync(join(tmpdir(), 's2s-e2e-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: VIEWPORT,
      deviceScaleFactor: 1,
      acceptDownloads: true,
      colorScheme: 'light',
      reducedMotion: 'reduce',
      locale: 'en-US',
      timezoneId: 'UTC',
    });
  } catch (e) {
    await server.close();
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  const requests: { method: string; url: string }[] = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // failed loads are recorded with their URL from the responses below
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
      errors.push(`console error: ${m.text()}`);
  });
  page.on('response', (r) => {
    // the browser asks for /favicon.ico by itself; the app does not need one
    if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico')
      errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  context.on('request', (r) => requests.push({ method: r.method(), url: r.url() }));
  await page.goto(server.url, { waitUntil: 'load' });
  return {
    page,
    context,
    server,
    origin,
    errors,
    requests,
    async close() {
      await context.close().catch(() => {});
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A button or (download) link with this accessible name. */
export function control(page: Page, name: string): Locator {
  return page.getByRole('button', { name, exact: true }).or(page.getByRole('link', { name, exact: true }));
}

/** Waits until the status line says "Ready" and no progress is shown. */
export async function waitReady(page: Page, timeout = 60_000): Promise<void> {
  await page.locator('[data-testid=status]', { hasText: /\bReady\b/ }).waitFor({ state: 'visible', timeout });
}

/** Waits for a screenshot of `locator` that does not change between two shots (rendering settled). */
export async function stableScreenshot(locator: Locator, tries = 8): Promise<Buffer> {
  let last = await locator.screenshot({ animations: 'disabled', caret: 'hide' });
  for (let i = 0; i < tries; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const next = await locator.screenshot({ animations: 'disabled', caret: 'hide' });
    if (next.equals(last)) return next;
    last = next;
  }
  return last;
}

/**
 * `slice2solid serve` and its static file server: started on port 0 over a temporary folder and
 * queried with raw HTTP requests (raw, so that `..` and encoded separators reach the server as
 * sent instead of being normalised by a URL parser).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test-utils/shared-data.js';
import { runCli } from '../src/cli.js';
import { SERVE_DEFAULTS } from '../src/commands/serve.js';
import {
  isLoopbackHost,
  resolveFile,
  type StaticServer,
  startStaticServer,
  tokenCookieName,
} from '../src/serve/static-server.js';
import { defaultWebAppDir, findWebApp } from '../src/serve/web-app.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, init: { method?: string; headers?: Record<string, string> } = {}) {
  return new Promise<Reply>((ok, fail) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers ?? {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

const SECRET = 'top-secret-outside-the-app';
let work: string;
let app: string;
let server: StaticServer;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 's2s-serve-'));
  app = join(work, 'app');
  mkdirSync(join(app, 'assets'), { recursive: true });
  mkdirSync(join(app, 'empty'));
  writeFileSync(join(app, 'index.html'), '<!doctype html><title>s2s</title>');
  writeFileSync(join(app, 'assets', 'main.js'), 'console.log(1);');
  writeFileSync(join(app, 'assets', 'worker.mjs'), 'export {};');
  writeFileSync(join(app, 'assets', 'codec.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  writeFileSync(join(app, 'assets', 'style.css'), 'body{}');
  writeFileSync(join(app, 'assets', 'data.xyz'), 'x');
  writeFileSync(join(app, '.env'), SECRET);
  writeFileSync(join(work, 'secret.txt'), SECRET);
  symlinkSync(join(work, 'secret.txt'), join(app, 'link.txt'));
  server = await startStaticServer({ root: app, port: 0 });
});

afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('static server on loopback', () => {
  it('binds 127.0.0.1 on the port asked, needs no token and prints a plain address', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.token).toBeUndefined();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
  });

  it('serves index.html at / with the security headers', async () => {
    const r = await get(server.port, '/');
    expect(r.status).toBe(200);
    expect(r.body).toContain('<title>s2s</title>');
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toMatch(/\*|https?:|'unsafe-eval'/);
    expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['referrer-policy']).toBe('no-referrer');
    expect(r.headers['set-cookie']).toBeUndefined();
  });

  it('gives each file its MIME type (wasm, mjs, js, css; unknown ones as octet-stream)', async () => {
    const types: Record<string, string> = {
      '/assets/main.js': 'text/javascript; charset=utf-8',
      '/assets/worker.mjs': 'text/javascript; charset=utf-8',
      '/assets/codec.wasm': 'application/wasm',
      '/assets/style.css': 'text/css; charset=utf-8',
      '/assets/data.xyz': 'application/octet-stream',
      '/index.html': 'text/html; charset=utf-8',
    };
    for (const [path, type] of Object.entries(types)) {
      const r = await get(server.port, path);
      expect(r.status, path).toBe(200);
      expect(r.headers['content-type'], path).toBe(type);
      expect(r.headers['cross-origin-embedder-policy'], path).toBe('require-corp');
    }
    const wasm = await get(server.port, '/assets/codec.wasm');
    expect(wasm.headers['content-length']).toBe('8');
  });

  it('answers HEAD with the headers and no body; refuses other methods with 405', async () => {
    const h = await get(server.port, '/assets/main.js', { method: 'HEAD' });
    expect(h.status).toBe(200);
    expect(h.headers['content-length']).toBe(String('console.log(1);'.length));
    expect(h.body).toBe('');
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const r = await get(server.port, '/index.html', { method });
      expect(r.status, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
  });

  it('never serves a file outside the folder, a hidden file or a link leading out', async () => {
    const attempts = [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/%252e%252e/secret.txt',
      '/.env',
      '/assets/%2e/../.env',
      '/link.txt',
      '/index.html%00.js',
      `/${'..%2f'.repeat(8)}etc/passwd`,
      '/%E0%A4%A',
    ];
    for (const path of attempts) {
      const r = await get(server.port, path);
      expect([400, 403, 404], path).toContain(r.status);
      expect(r.body, path).not.toContain(SECRET);
      expect(r.body, path).not.toContain('root:');
    }
    expect(resolveFile(app, '/../secret.txt')).toBe('forbidden');
    expect(resolveFile(app, '/link.txt')).toBe('forbidden');
    expect(resolveFile(app, '/nothing-here.js')).toBeUndefined();
  });

  it('lists no directory: a folder without index.html is 404, a missing file is 404', async () => {
    expect((await get(server.port, '/empty/')).status).toBe(404);
    const assets = await get(server.port, '/assets/');
    expect(assets.status).toBe(404);
    expect(assets.body).not.toContain('main.js');
    expect((await get(server.port, '/missing.js')).status).toBe(404);
  });

  it('refuses a Host header that is not a loopback name (DNS rebinding)', async () => {
    const r = await get(server.port, '/', { headers: { Host: 'evil.example:8417' } });
    expect(r.status).toBe(421);
    expect(r.body).not.toContain('<title>');
    expect((await get(server.port, '/', { headers: { Host: `localhost:${server.port}` } })).status).toBe(200);
  });
});

describe('static server with a token', () => {
  it('a non-loopback address gets a random token; without it every request is 403; no token at all is refused', async () => {
    const s = await startStaticServer({ root: app, host: '0.0.0.0', port: 0 });
    try {
      expect(s.token).toMatch(/^[\w-]{32}$/);
      expect(s.url).toMatch(new RegExp(`\\?token=${s.token}$`));
      for (const path of ['/', '/index.html', '/assets/main.js', '/?token=wrong']) {
        const r = await get(s.port, path, { headers: { Host: 'scanner-pc.local' } });
        expect(r.status, path).toBe(403);
        expect(r.body).not.toContain('<title>');
      }
    } finally {
      await s.close();
    }
    const other = await startStaticServer({ root: app, host: '0.0.0.0', port: 0 });
    expect(other.token).not.toBe(undefined);
    await other.close();
    await expect(startStaticServer({ root: app, host: '0.0.0.0', port: 0, token: false })).rejects.toThrow(
      /token is required/,
    );
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('192.168.1.5')).toBe(false);
    expect(isLoopbackHost('localhost.evil.example')).toBe(false);
  });

  it('the token in the URL sets an HttpOnly SameSite=Strict cookie that then opens every file', async () => {
    const token = 'test-token-0123456789abcdef';
    const s = await startStaticServer({ root: app, host: '127.0.0.1', port: 0, token });
    try {
      const first = await get(s.port, `/?token=${token}`);
      expect(first.status).toBe(303);
      expect(first.headers.location).toBe('/');
      const cookie = String(first.headers['set-cookie']);
      const TOKEN_COOKIE = tokenCookieName(s.port);
      expect(cookie).toContain(`${TOKEN_COOKIE}=${token}`);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Strict');
      const headers = { Cookie: `other=1; ${TOKEN_COOKIE}=${token}` };
      const page = await get(s.port, '/', { headers });
      expect(page.status).toBe(200);
      expect(page.body).toContain('<title>s2s</title>');
      expect((await get(s.port, '/assets/codec.wasm', { headers })).status).toBe(200);
      expect((await get(s.port, '/', { headers: { Cookie: `${TOKEN_COOKIE}=${token}x` } })).status).toBe(403);
      expect((await get(s.port, '/assets/main.js')).status).toBe(403);
    } finally {
      await s.close();
    }
  });
});

describe('slice2solid serve', () => {
  function capture() {
    let text = '';
    return { out: { write: (t: string) => (text += t) }, text: () => text };
  }

  async function waitFor(check: () => string | undefined): Promise<string> {
    for (let i = 0; i < 200; i++) {
      const v = check();
      if (v) return v;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('timed out');
  }

  it('prints the address, serves the app until stopped, then exits 0', async () => {
    const out = capture();
    const err = capture();
    const stop = new AbortController();
    const done = runCli(['serve', '--port', '0', '--dir', app], {
      stdout: out.out,
      stderr: err.out,
      cwd: work,
      signal: stop.signal,
    });
    const url = await waitFor(() => out.text().match(/web app: (http:\/\/127\.0\.0\.1:\d+\/)\n/)?.[1]);
    expect(out.text()).toContain('nothing is uploaded');
    const port = Number(new URL(url).port);
    const r = await get(port, '/');
    expect(r.status).toBe(200);
    expect(r.body).toContain('<title>s2s</title>');
    stop.abort();
    expect(await done).toBe(0);
    expect(err.text()).toBe('');
    await expect(get(port, '/')).rejects.toThrow();
  });

  it('falls back to a free port when the default one is taken', async () => {
    const blocker = createServer();
    const blocked = await new Promise<boolean>((ok) => {
      blocker.once('error', () => ok(false)); // taken already: the fallback is exercised anyway
      blocker.listen(SERVE_DEFAULTS.port, '127.0.0.1', () => ok(true));
    });
    const out = capture();
    const stop = new AbortController();
    const done = runCli(['serve', '--dir', app], { stdout: out.out, stderr: out.out, cwd: work, signal: stop.signal });
    try {
      const url = await waitFor(() => out.text().match(/web app: (http:\S+)\n/)?.[1]);
      expect(Number(new URL(url).port)).not.toBe(SERVE_DEFAULTS.port);
      expect((await get(Number(new URL(url).port), '/')).status).toBe(200);
    } finally {
      stop.abort();
      await done;
      if (blocked) blocker.close();
    }
  });

  it('on a non-loopback host prints a URL with the token and a warning', async () => {
    const out = capture();
    const stop = new AbortController();
    const done = runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--dir', app], {
      stdout: out.out,
      stderr: out.out,
      cwd: work,
      signal: stop.signal,
    });
    const url = await waitFor(() => out.text().match(/web app: (http:\S+)\n/)?.[1]);
    expect(url).toMatch(/\?token=[\w-]{32}$/);
    expect(out.text()).toContain('access token');
    const port = Number(new URL(url).port);
    expect((await get(port, '/')).status).toBe(403);
    expect((await get(port, `/${new URL(url).search}`)).status).toBe(303);
    stop.abort();
    expect(await done).toBe(0);
  });

  it('says how to build the app when it is missing; rejects bad options', async () => {
    expect(defaultWebAppDir().replace(/[\\/]$/, '')).toBe(join(REPO_ROOT, 'apps', 'web', 'dist'));
    expect(() => findWebApp(join(work, 'empty-build'))).toThrow(/index\.html is missing/);
    const out = capture();
    expect(await runCli(['serve', '--dir', 'app/empty'], { stdout: out.out, stderr: out.out, cwd: work })).toBe(1);
    expect(out.text()).toMatch(/error: no web app in .*index\.html is missing/);
    const bad = capture();
    expect(await runCli(['serve', '--port', 'x', '--dir', app], { stdout: bad.out, stderr: bad.out, cwd: work })).toBe(
      2,
    );
    const tok = capture();
    expect(
      await runCli(['serve', '--token', 'abcdefghijklmnopq', '--dir', app], {
        stdout: tok.out,
        stderr: tok.out,
        cwd: work,
      }),
    ).toBe(2);
    expect(tok.text()).toContain('--token is only for a non-loopback --host');
  });
});

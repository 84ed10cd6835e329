/**
 * The static file server behind `slice2solid serve`: serves the built web app (a folder of static
 * files) over plain HTTP on `node:http`, with nothing else: GET and HEAD only, no directory
 * listing, no path outside the folder, no request logging, no upload handling (the app uploads
 * nothing; the scan is read in the browser).
 *
 * - Bound to a loopback address by default. A request whose Host header is not a loopback name is
 *   refused (421) so that a web page elsewhere cannot reach the server through DNS rebinding.
 * - Bound to any other address, a random token is required: it is given once in the URL
 *   (`?token=...`), then kept in an HttpOnly SameSite=Strict cookie; requests without it get 403.
 * - Every response carries a Content-Security-Policy allowing only this origin (plus the blob:,
 *   data: and 'wasm-unsafe-eval' the app needs for workers, downloads and WebAssembly), COOP/COEP
 *   (cross-origin isolation, needed for WebAssembly threads), nosniff and no-referrer.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, realpathSync, type Stats, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';

/** Content types by file extension (lower case, with the dot). */
export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
};

export function mimeTypeOf(path: string): string {
  return MIME_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** The Content-Security-Policy of every response. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "connect-src 'self' blob: data:",
  "img-src 'self' blob: data:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "media-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
};

/**
 * Name of the cookie that carries the access token; one per port, since cookies are shared by
 * all the ports of a host.
 */
export function tokenCookieName(port: number): string {
  return `s2s_token_${port}`;
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    h === 'localhost' ||
    h === '::1' ||
    h === '0:0:0:0:0:0:0:1' ||
    /^127(\.\d{1,3}){3}$/.test(h) ||
    h === '::ffff:127.0.0.1'
  );
}

export interface StaticServerOptions {
  /** The folder to serve (must hold index.html). */
  readonly root: string;
  /** Address to bind (default 127.0.0.1). */
  readonly host?: string;
  /** Port (default 0: any free port). */
  readonly port?: number;
  /**
   * Access token. Default: a random one when `host` is not a loopback address, none otherwise.
   * `false` is refused for a non-loopback host.
   */
  readonly token?: string | false;
}

export interface StaticServer {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  /** The address to open, with `?token=` when a token is required. */
  readonly url: string;
  readonly token: string | undefined;
  close(): Promise<void>;
}

/** Starts the server; rejects with the listen error (e.g. EADDRINUSE). */
export async function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const host = options.host ?? '127.0.0.1';
  const loopback = isLoopbackHost(host);
  if (!loopback && options.token === false) {
    throw new Error(`a token is required to serve on the non-loopback address ${host}`);
  }
  const token =
    options.token === false
      ? undefined
      : (options.token ?? (loopback ? undefined : randomBytes(24).toString('base64url')));
  const root = realpathSync(resolve(options.root));
  const config: HandlerConfig = { root, token, loopback, port: 0 };
  const server = createServer((req, res) => {
    try {
      handle(req, res, config);
    } catch {
      if (!res.headersSent) send(res, 500, 'Internal server error\n');
      else res.destroy();
    }
  });
  // a request never carries a body worth reading: drop slow or big ones
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const port = (server.address() as AddressInfo).port;
  config.port = port;
  // the "any address" hosts are reached through loopback on this machine
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}/${token ? `?token=${token}` : ''}`;
  return {
    server,
    host,
    port,
    url,
    token,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}

interface HandlerConfig {
  readonly root: string;
  readonly token: string | undefined;
  readonly loopback: boolean;
  /** The port listened on (names the token cookie). */
  port: number;
}

function send(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(text, 'utf8');
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(body.length),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function handle(req: IncomingMessage, res: ServerResponse, cfg: HandlerConfig): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'Method not allowed: this server only serves files (GET, HEAD)\n', { Allow: 'GET, HEAD' });
    req.resume();
    return;
  }
  if (cfg.loopback) {
    // DNS rebinding: a loopback server answers only to loopback host names
    const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (!isLoopbackHost(hostHeader)) {
      send(res, 421, 'Misdirected request: this server answers only to localhost\n');
      return;
    }
  }
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    send(res, 400, 'Bad request\n');
    return;
  }
  if (cfg.token !== undefined) {
    const given = url.searchParams.get('token');
    if (given !== null && sameSecret(given, cfg.token)) {
      // keep the token in a cookie and drop it from the address bar
      url.searchParams.delete('token');
      const rest = url.searchParams.toString();
      send(res, 303, 'See other\n', {
        Location: `${url.pathname}${rest ? `?${rest}` : ''}`,
        'Set-Cookie': `${tokenCookieName(cfg.port)}=${cfg.token}; HttpOnly; SameSite=Strict; Path=/`,
      });
      return;
    }
    const cookie = cookieValue(req, tokenCookieName(cfg.port));
    if (cookie === undefined || !sameSecret(cookie, cfg.token)) {
      send(res, 403, 'Forbidden: open the address with the ?token=... printed by `slice2solid serve`\n');
      return;
    }
  }
  const file = resolveFile(cfg.root, url.pathname);
  if (file === 'forbidden') {
    send(res, 403, 'Forbidden\n');
    return;
  }
  if (!file) {
    send(res, 404, 'Not found\n');
    return;
  }
  const html = file.path.endsWith('.html');
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': mimeTypeOf(file.path),
    'Content-Length': String(file.stats.size),
    'Last-Modified': file.stats.mtime.toUTCString(),
    // hashed asset names change with their content; the page itself is always revalidated
    'Cache-Control': html ? 'no-cache' : 'public, max-age=0, must-revalidate',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file.path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/**
 * The file a URL path names inside `root`: a regular file, or `index.html` of a folder; undefined
 * when there is none; 'forbidden' for paths that try to leave the folder or name hidden files.
 */
export function resolveFile(root: string, pathname: string): { path: string; stats: Stats } | 'forbidden' | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return 'forbidden';
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return 'forbidden';
  const parts = decoded.split('/').filter((p) => p !== '' && p !== '.');
  // '..' segments and hidden files (.env, .git) are refused outright, whatever they resolve to
  if (parts.some((p) => p.startsWith('.'))) return 'forbidden';
  let path = join(root, ...parts);
  if (path !== root && !path.startsWith(root + sep)) return 'forbidden';
  let stats: Stats;
  try {
    stats = statSync(path);
    if (stats.isDirectory()) {
      path = join(path, 'index.html');
      stats = statSync(path);
    }
    if (!stats.isFile()) return undefined;
    // a symbolic link must not lead out of the folder
    const real = realpathSync(path);
    if (!real.startsWith(root + sep)) return 'forbidden';
  } catch {
    return undefined;
  }
  return { path, stats };
}

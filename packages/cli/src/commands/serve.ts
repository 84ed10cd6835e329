/** slice2solid serve [--host H] [--port P] [--open] [--dir D] */
import { spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { S2SError } from '@slice2solid/core';
import { isLoopbackHost, type StaticServer, startStaticServer } from '../serve/static-server.js';
import { findWebApp } from '../serve/web-app.js';
import { int } from './common.js';
import { commandSummary } from './registry.js';
import { type Command, optFlag, optString, UsageError } from './types.js';

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  /** Tried first; when it is taken (and --port was not given) any free port is used. */
  port: 8417,
} as const;

export const serveCommand: Command = {
  name: 'serve',
  summary: commandSummary('serve'),
  usage: 'serve [--host H] [--port P] [--open] [--dir D]',
  help: `Serves the slice2solid web app on this machine and prints its address: open it in a browser,
drop a scan, segment it and download the 3D model. The scan is read and processed inside the
browser; nothing is uploaded (the server only hands out the app's own files).
  --host H      address to listen on (default ${SERVE_DEFAULTS.host}: this machine only). Any other
                address needs the random access token printed in the URL (?token=...)
  --port P      port (default ${SERVE_DEFAULTS.port}, or a free one when that is taken; 0 = any free port)
  --token T     the access token to require instead of a random one (non-loopback --host only)
  --open        open the address in the default browser
  --dir D       serve this web app build instead of the repository's apps/web/dist
Stop it with Ctrl+C.

The app must be built first: npm run build:web (in the repository root).

Examples:
  slice2solid serve --open
  slice2solid serve --host 0.0.0.0 --port 8080`,
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    token: { type: 'string' },
    open: { type: 'boolean' },
    dir: { type: 'string' },
  },
  minPositionals: 0,
  maxPositionals: 0,
  async run(ctx, args) {
    const host = optString(args, 'host') ?? SERVE_DEFAULTS.host;
    if (host.trim() === '') throw new UsageError('--host must not be empty');
    const portGiven = int(args, 'port', 0);
    if (portGiven !== undefined && portGiven > 65535) throw new UsageError(`--port must be 0..65535, got ${portGiven}`);
    const token = optString(args, 'token');
    if (token !== undefined && isLoopbackHost(host)) {
      throw new UsageError('--token is only for a non-loopback --host', 'on 127.0.0.1 no token is needed');
    }
    if (token !== undefined && !/^[\w-]{16,}$/.test(token)) {
      throw new UsageError('--token must be at least 16 letters, digits, "-" or "_"');
    }
    const dir = optString(args, 'dir');
    const root = findWebApp(dir === undefined ? undefined : resolve(ctx.cwd, dir));

    let server: StaticServer;
    try {
      server = await listen(root, host, portGiven, token);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const hint =
        err.code === 'EADDRINUSE'
          ? 'choose another --port, or --port 0 for any free one'
          : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND'
            ? 'give an address of this machine, e.g. 127.0.0.1 or 0.0.0.0'
            : 'check --host and --port';
      throw new S2SError('IO_ERROR', `cannot listen on ${host}:${portGiven ?? SERVE_DEFAULTS.port}: ${err.message}`, {
        hint,
      });
    }
    ctx.stdout.write(`slice2solid web app: ${server.url}\n`);
    if (host === '0.0.0.0' || host === '::') {
      // all interfaces: the addresses other machines can use
      const addresses = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a && !a.internal && a.family === 'IPv4')
        .map((a) => a!.address);
      for (const a of addresses)
        ctx.stdout.write(`  also: ${server.url.replace(/\/\/[^/]+\//, `//${a}:${server.port}/`)}\n`);
    }
    if (server.token) {
      ctx.stdout.write(
        `Listening on ${host}: other machines can reach it; the address above carries the access token (keep it private).\n`,
      );
    }
    ctx.stdout.write('Scans are processed in the browser; nothing is uploaded. Press Ctrl+C to stop.\n');
    if (optFlag(args, 'open')) openInBrowser(server.url, ctx.stderr);

    const signal = ctx.run.signal;
    await new Promise<void>((done) => {
      if (!signal) return; // no way to stop it but ending the process
      if (signal.aborted) return done();
      if (signal instanceof AbortSignal) signal.addEventListener('abort', () => done(), { once: true });
      else {
        const timer = setInterval(() => {
          if (signal.aborted) {
            clearInterval(timer);
            done();
          }
        }, 200);
      }
    });
    await server.close();
    ctx.stdout.write('stopped\n');
    return 0;
  },
};

async function listen(root: string, host: string, port: number | undefined, token: string | undefined) {
  const opts = { root, host, ...(token === undefined ? {} : { token }) };
  if (port !== undefined) return startStaticServer({ ...opts, port });
  try {
    return await startStaticServer({ ...opts, port: SERVE_DEFAULTS.port });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    return startStaticServer({ ...opts, port: 0 });
  }
}

function openInBrowser(url: string, stderr: { write(s: string): unknown }): void {
  const [cmd, ...args] =
    process.platform === 'darwin'
      ? ['open', url]
      : process.platform === 'win32'
        ? ['cmd', '/c', 'start', '""', url]
        : ['xdg-open', url];
  try {
    const child = spawn(cmd!, args, { detached: true, stdio: 'ignore' });
    child.on('error', () => stderr.write(`note: could not open a browser; open ${url} yourself\n`));
    child.unref();
  } catch {
    stderr.write(`note: could not open a browser; open ${url} yourself\n`);
  }
}

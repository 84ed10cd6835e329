/** Where the built web app is: `apps/web/dist` of the repository this CLI belongs to. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S2SError } from '@slice2solid/core';

/**
 * `apps/web/dist` beside this package. This file is `packages/cli/src/serve/web-app.ts` in the
 * sources and `packages/cli/dist/serve/web-app.js` when built: both are four levels below the
 * repository root.
 */
export function defaultWebAppDir(): string {
  return fileURLToPath(new URL('../../../../apps/web/dist/', import.meta.url));
}

/** The folder to serve: `dir` when given, else the repository's build; an S2SError saying how to build it when it is missing. */
export function findWebApp(dir?: string): string {
  const root = dir ?? defaultWebAppDir();
  if (!existsSync(join(root, 'index.html'))) {
    throw new S2SError(
      'IO_ERROR',
      dir
        ? `no web app in ${dir}: index.html is missing`
        : 'the web app is not built yet (apps/web/dist/index.html is missing)',
      {
        hint: dir
          ? 'give the folder of a web app build (the one holding index.html)'
          : 'run `npm run build:web` in the repository root, then run `slice2solid serve` again',
      },
    );
  }
  return root;
}

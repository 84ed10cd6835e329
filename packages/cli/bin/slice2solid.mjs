#!/usr/bin/env node
// The installed `slice2solid` command. It is a committed file (not a build output) so that npm can
// link it and make it executable at install time; the CLI itself is built into ../dist by `npm run build`.
try {
  await import('../dist/main.js');
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/main.js')) {
    console.error('error: slice2solid is not built yet\nhint: run `npm run build` in the repository root');
    process.exit(1);
  }
  throw e;
}

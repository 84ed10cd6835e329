import { createLogger, defineConfig } from 'vite';

// The WASM glue of the DICOM codecs and manifold-3d mentions fs/path/module for its Node code
// path, which never runs in a browser; Vite's notes about externalizing them are noise.
const logger = createLogger();
const warn = logger.warn;
logger.warn = (msg, options) => {
  if (msg.includes('has been externalized for browser compatibility')) return;
  warn(msg, options);
};

// Relative asset paths: the static build works from any folder of any static server.
// Workspace packages resolve to their TypeScript sources (the `source` export condition), so the
// web build does not need the packages' dist.
export default defineConfig({
  base: './',
  root: import.meta.dirname,
  customLogger: logger,
  resolve: { conditions: ['source', 'module', 'browser', 'development|production'] },
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    reportCompressedSize: false,
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});

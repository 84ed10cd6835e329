// Node-only entry of @slice2solid/ops ('@slice2solid/ops/node'): worker-thread parallelism.
export * from './worker-runner.js';

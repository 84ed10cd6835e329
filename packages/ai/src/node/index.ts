export * from './model-store.js';
export * from './onnxruntime-node.js';
export * from './train/dataset.js';
export * from './train/evaluate.js';
export * from './train/monitor.js';
export * from './train/prepare-run.js';
export * from './train/trainer-process.js';

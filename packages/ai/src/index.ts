export * from './backend.js';
export * from './metrics/compare-labels.js';
export * from './metrics/overlap.js';
export * from './metrics/surface-distance.js';
export * from './model-card.js';
export * from './postprocess.js';
export * from './preprocess.js';
export * from './sliding-window.js';

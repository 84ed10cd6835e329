export * from './backend.js';
export * from './model-card.js';
export * from './postprocess.js';
export * from './preprocess.js';
export * from './sliding-window.js';

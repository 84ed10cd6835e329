export * from './adam.js';
export * from './apply-fine-tuned-head.js';
export * from './evaluate-model-dice.js';
export * from './fine-tune-head.js';
export * from './head.js';
export * from './head-loss.js';
export * from './labels-to-model-grid.js';
export * from './sample-features.js';

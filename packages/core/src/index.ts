export * from './errors.js';
export * from './grid.js';
export * from './mesh.js';
export * from './progress.js';
export * from './reorient.js';
export * from './segment-colors.js';
export * from './volume.js';

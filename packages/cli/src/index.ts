export * from './cli.js';
export * from './commands/index.js';
export * from './input.js';
export * from './output.js';
export * from './progress.js';
export * from './report.js';

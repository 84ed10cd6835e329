/**
 * The command registry (see ./registry.ts: commands are listed there and loaded lazily).
 */
export * from './registry.js';
export * from './types.js';

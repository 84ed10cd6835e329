// The slab kernels a ParallelRunner can run, by name. A worker thread imports this table, so
// it lists only pure functions of (args, start, end) that write disjoint parts of their output.
import { gaussianColumns, gaussianSlices } from '../filters/gaussian-passes.js';

export const KERNELS = {
  'gaussian.slices': gaussianSlices,
  'gaussian.columns': gaussianColumns,
} as const;

export type KernelName = keyof typeof KERNELS;

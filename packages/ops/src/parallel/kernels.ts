// The slab kernels a ParallelRunner can run, by name. A worker thread imports this table, so
// it lists only pure functions of (args, start, end) that write disjoint parts of their output.
import { gaussianColumns, gaussianSlices } from '../filters/gaussian-passes.js';
import { medianSlices } from '../filters/median.js';
import {
  sincFirstPass,
  sincStepPass,
  smoothCountPass,
  smoothFillPass,
  smoothListsPass,
  smoothPackPass,
} from '../mesh/smooth-kernels.js';
import { ballDilate, ballPack } from '../morphology/ball-bits.js';
import { simplifyGroups } from '../pipeline/decimate-closed.js';
import { accuracyToMask, accuracyToMesh } from '../pipeline/model-accuracy.js';
import { antialiasXY, antialiasZ } from '../surface/antialias-mask.js';
import { classifyPlanes, countLayers, sweepLayersKernel } from '../surface/marching-cubes.js';

/** Arguments of 'runner.rendezvous', a self-test of runners (see rendezvous()). */
export interface RendezvousArgs {
  /** counter[0] counts arrivals. */
  readonly counter: Int32Array;
  readonly expected: number;
  readonly timeoutMs: number;
}

/**
 * Self-test kernel: each range arrives and waits until `expected` ranges have arrived, so it
 * succeeds only if that many ranges really run at the same time (on different threads).
 */
export function rendezvous(args: RendezvousArgs, _start: number, _end: number): void {
  const { counter, expected, timeoutMs } = args;
  Atomics.add(counter, 0, 1);
  Atomics.notify(counter, 0);
  const until = Date.now() + timeoutMs;
  for (;;) {
    const now = Atomics.load(counter, 0);
    if (now >= expected) return;
    const left = until - Date.now();
    if (left <= 0) throw new Error(`rendezvous timed out: ${now} of ${expected} ranges arrived`);
    Atomics.wait(counter, 0, now, left);
  }
}

export const KERNELS = {
  'gaussian.slices': gaussianSlices,
  'gaussian.columns': gaussianColumns,
  'median.slices': medianSlices,
  'ball.pack': ballPack,
  'ball.dilate': ballDilate,
  'runner.rendezvous': rendezvous,
  'sinc.first': sincFirstPass,
  'sinc.step': sincStepPass,
  'smooth.lists': smoothListsPass,
  'smooth.count': smoothCountPass,
  'smooth.fill': smoothFillPass,
  'smooth.pack': smoothPackPass,
  'mc.classify': classifyPlanes,
  'mc.count': countLayers,
  'mc.sweep': sweepLayersKernel,
  'aa.xy': antialiasXY,
  'aa.z': antialiasZ,
  'decimate.groups': simplifyGroups,
  'accuracy.toMask': accuracyToMask,
  'accuracy.toMesh': accuracyToMesh,
} as const;

export type KernelName = keyof typeof KERNELS;

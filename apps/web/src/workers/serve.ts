/**
 * Worker side of the protocol: `serve({ op: handler })`. A handler gets the payload and a
 * progress callback and returns `{ result, transfer }`.
 */
import type { Progress } from '@slice2solid/core';
import { errorInfo, type Reply, type Request } from './protocol.js';

export type Handler = (
  payload: never,
  onProgress: (p: Progress) => void,
) => Promise<{ result: unknown; transfer?: Transferable[] }> | { result: unknown; transfer?: Transferable[] };

interface WorkerScope {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(message: Reply, transfer?: Transferable[]): void;
}

export function serve(handlers: Record<string, Handler>): void {
  const scope = globalThis as unknown as WorkerScope;
  // requests are handled one after the other (the page sends one at a time per worker anyway)
  let queue = Promise.resolve();
  scope.onmessage = (e) => {
    const { id, op, payload } = e.data;
    queue = queue.then(async () => {
      let last = 0;
      const onProgress = (progress: Progress) => {
        const now = performance.now();
        if (now - last < 50 && progress.done < progress.total) return;
        last = now;
        scope.postMessage({ id, type: 'progress', progress });
      };
      try {
        const handler = handlers[op];
        if (!handler) throw new Error(`unknown operation ${op}`);
        const { result, transfer } = await handler(payload as never, onProgress);
        scope.postMessage({ id, type: 'done', result }, transfer ?? []);
      } catch (err) {
        scope.postMessage({ id, type: 'error', error: errorInfo(err) });
      }
    });
  };
}

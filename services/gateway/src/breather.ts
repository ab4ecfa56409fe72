import { setImmediate as nextTurn } from 'node:timers/promises';

/** How long one slice of CPU work may hold the event loop before it lets others run. */
export const SLICE_MS = 10;

/**
 * A check to call between small steps of a long piece of CPU work (building
 * a large export): once the current slice has run for `sliceMs`, it waits
 * for the next turn of the event loop, so `/healthz`, the stream and other
 * requests run between slices. Cheap when the slice is not over.
 */
export function breather(sliceMs = SLICE_MS): () => Promise<void> | undefined {
  let sliceStart = performance.now();
  return () => {
    if (performance.now() - sliceStart < sliceMs) return undefined;
    return nextTurn().then(() => {
      sliceStart = performance.now();
    });
  };
}

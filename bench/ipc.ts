/**
 * What a bench child process (a worker, ours or the skeleton's) answers over IPC: `ready` once it
 * polls, and `{ type: 'rss' }` -> its resident memory after a forced GC (run with --expose-gc).
 */
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'rss'; rssMb: number; heapUsedMb: number; gc: boolean }
  | { type: 'failed'; message: string };
export type ParentMessage = { type: 'rss' } | { type: 'stop' };

const MB = 1024 * 1024;

export function serveIpc(onStop: () => Promise<void>): void {
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'rss') {
      const gc = (globalThis as { gc?: () => void }).gc;
      // Twice: the first pass finalizes what the second frees (weak refs, external buffers).
      gc?.();
      gc?.();
      const mem = process.memoryUsage();
      send({
        type: 'rss',
        rssMb: Math.round(mem.rss / MB),
        heapUsedMb: Math.round(mem.heapUsed / MB),
        gc: Boolean(gc),
      });
    } else if (m.type === 'stop') {
      void onStop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    }
  });
  // The bench gone (crashed, Ctrl-C): do not outlive it.
  process.on('disconnect', () => void onStop().finally(() => process.exit(0)));
}

export function send(m: ChildMessage): void {
  process.send?.(m);
}

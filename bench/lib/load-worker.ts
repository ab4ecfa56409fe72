/**
 * The load process: the parent (bench/lib/load.ts) forks it and asks it, over
 * IPC, to run operations from load-ops.ts one at a time. Load is generated
 * here so that no server and no floor shares a process with its clients.
 */
import { loadOps, releaseAll, type LoadOps } from './load-ops.js';

interface Request {
  id: number;
  op: keyof LoadOps;
  args: unknown;
}

process.on('message', (request: Request) => {
  const run = loadOps[request.op] as (args: unknown) => Promise<unknown>;
  Promise.resolve()
    .then(() => run(request.args))
    .then(
      (value) => process.send!({ id: request.id, ok: true, value }),
      (error: unknown) =>
        process.send!({
          id: request.id,
          ok: false,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        }),
    );
});

// The parent went away (finished, or crashed): close the clients and leave.
process.once('disconnect', () => {
  void releaseAll().finally(() => process.exit(0));
});

process.send!({ ready: true });

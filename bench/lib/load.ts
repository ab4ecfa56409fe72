import { fork } from 'node:child_process';
import path from 'node:path';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import type { LoadOps } from './load-ops.js';
import { processUsage, type ProcessUsage } from './processes.js';

/** A load process of its own, running the operations of load-ops.ts when asked. */
export interface LoadGenerator {
  pid: number;
  run<Op extends keyof LoadOps>(op: Op, args: Parameters<LoadOps[Op]>[0]): ReturnType<LoadOps[Op]>;
  usage(): ProcessUsage;
  close(): Promise<void>;
}

type Reply =
  { ready: true } | { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export async function startLoadGenerator(label: string): Promise<LoadGenerator> {
  const child = fork(path.join(REPOSITORY_ROOT, 'bench/lib/load-worker.ts'), [], {
    cwd: REPOSITORY_ROOT,
    execArgv: ['--import', 'tsx'],
    // Structured clone keeps Infinity and typed values intact across the channel.
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let exitedWith: string | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitedWith = `load process ${label} exited (${signal ?? code})`;
      for (const waiter of pending.values()) waiter.reject(new Error(exitedWith));
      pending.clear();
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    child.once('exit', () => reject(new Error(exitedWith)));
    child.on('message', (reply: Reply) => {
      if ('ready' in reply) return resolve();
      const waiter = pending.get(reply.id);
      pending.delete(reply.id);
      if (reply.ok) waiter?.resolve(reply.value);
      else waiter?.reject(new Error(`${label}: ${reply.error}`));
    });
  });
  return {
    pid: child.pid!,
    run(op, args) {
      if (exitedWith) return Promise.reject(new Error(exitedWith)) as ReturnType<LoadOps[typeof op]>;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ id, op, args });
      }) as ReturnType<LoadOps[typeof op]>;
    },
    usage: () => processUsage(child.pid!),
    async close() {
      if (exitedWith) return;
      child.disconnect();
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
    },
  };
}

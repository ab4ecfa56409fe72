import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy a test puts between a service and PostgreSQL, so the database
 * can be made unreachable for that service alone: the shared server is never
 * stopped. `cut()` resets every open connection and every new one until
 * `restore()`; `cutWhen()` resets the one connection that is about to send
 * a statement, before the statement reaches the server.
 */
export interface TcpProxy {
  /** `postgres://…` through the proxy, to the given database. */
  url(database: string): string;
  cut(): void;
  restore(): void;
  /** Resolves once a client message containing `text` was stopped and its connection reset. */
  cutWhen(text: string): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; server: Socket }>();
  let refusing = false;
  let trap: { text: string; fired: () => void } | undefined;

  const reset = (pair: { client: Socket; server: Socket }) => {
    pairs.delete(pair);
    pair.client.resetAndDestroy();
    pair.server.resetAndDestroy();
  };

  const server: Server = createServer((client) => {
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair = { client, server: upstream };
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => {
      if (trap && chunk.includes(trap.text)) {
        const { fired } = trap;
        trap = undefined;
        reset(pair);
        fired();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      if (!pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');

  return {
    url: (database) => `postgres://postgres@127.0.0.1:${address.port}/${database}`,
    cut() {
      refusing = true;
      for (const pair of [...pairs]) reset(pair);
    },
    restore() {
      refusing = false;
    },
    cutWhen(text) {
      return new Promise((resolve) => (trap = { text, fired: resolve }));
    },
    async close() {
      refusing = true;
      for (const pair of [...pairs]) reset(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

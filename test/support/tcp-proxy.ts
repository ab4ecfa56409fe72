import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePort } from '@renkei/testing';

export interface TcpProxy {
  /** The port services connect to instead of the target's. */
  port: number;
  /** Refuses new connections and resets every open one: the target is unreachable. */
  cut(): Promise<void>;
  /** Listens again on the same port: the target is back. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP proxy the test controls, between services and a server (PostgreSQL
 * at 127.0.0.1:5432): cutting it makes the server unreachable for those
 * services alone, without stopping a server other suites share.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const port = await freePort();
  const open = new Set<Socket>();
  let server: Server | undefined;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer((client) => {
        const upstream = connect(target.port, target.host);
        open.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          open.delete(client);
          open.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        server = next;
        resolve();
      });
    });

  const cut = async () => {
    const closing = server;
    server = undefined;
    // resetAndDestroy: the service sees ECONNRESET at once, as when a server's host goes away.
    for (const socket of open) socket.resetAndDestroy();
    open.clear();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };

  await listen();
  return {
    port,
    cut,
    async restore() {
      if (!server) await listen();
    },
    close: cut,
  };
}

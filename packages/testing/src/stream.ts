import WebSocket from 'ws';
import { serverFrameSchema, type ServerFrame } from '@renkei/schema';

export interface StreamClient {
  /** Every frame received so far, validated against the shared schema. */
  frames: ServerFrame[];
  next(predicate: (frame: ServerFrame) => boolean, timeoutMs?: number): Promise<ServerFrame>;
  close(): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens `GET /v1/stream` with the token in the header (default) or the query string. */
export async function openStream(
  gatewayUrl: string,
  token: string,
  { via = 'header' }: { via?: 'header' | 'query' } = {},
): Promise<StreamClient> {
  const base = gatewayUrl.replace(/^http/, 'ws') + '/v1/stream';
  const socket =
    via === 'header'
      ? new WebSocket(base, { headers: { authorization: `Bearer ${token}` } })
      : new WebSocket(`${base}?access_token=${encodeURIComponent(token)}`);
  const frames: ServerFrame[] = [];
  const waiters = new Set<{
    predicate: (frame: ServerFrame) => boolean;
    resolve: (frame: ServerFrame) => void;
  }>();
  socket.on('message', (data, isBinary) => {
    if (isBinary) throw new Error('the gateway sent a binary frame');
    const frame = serverFrameSchema.parse(JSON.parse(data.toString()));
    frames.push(frame);
    for (const waiter of waiters) {
      if (waiter.predicate(frame)) {
        waiters.delete(waiter);
        waiter.resolve(frame);
      }
    }
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (request, response) => {
      request.destroy();
      reject(new Error(`stream refused with HTTP ${response.statusCode}`));
    });
  });
  return {
    frames,
    closed,
    next(predicate, timeoutMs = 30_000) {
      const seen = frames.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(frames)}`));
        }, timeoutMs);
        const waiter = {
          predicate,
          resolve: (frame: ServerFrame) => {
            clearTimeout(timer);
            resolve(frame);
          },
        };
        waiters.add(waiter);
      });
    },
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close();
      await closed;
    },
  };
}

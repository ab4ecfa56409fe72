import {
  createStreamClientWith,
  type Connect,
  type StreamClient,
  type StreamClientOptions,
} from './client.js';

export * from './exports.js';

/** What this client uses of the platform's WebSocket. */
interface PlatformWebSocket {
  readonly readyState: number;
  binaryType: string;
  onopen: (() => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
type PlatformWebSocketConstructor = new (url: string) => PlatformWebSocket;

/**
 * Browsers cannot set headers on a WebSocket: the token travels as
 * `access_token`, and the browser adds the page's `Origin`, which the
 * gateway checks against its allow-list.
 */
export const connectWithPlatformWebSocket: Connect = (url, token, handlers) => {
  const Platform = (globalThis as { WebSocket?: PlatformWebSocketConstructor }).WebSocket;
  if (!Platform) throw new Error('this platform has no WebSocket');
  const withToken = new URL(url);
  withToken.searchParams.set('access_token', token);
  const socket = new Platform(withToken.toString());
  socket.binaryType = 'arraybuffer';
  socket.onopen = () => handlers.onOpen();
  socket.onmessage = (event) => {
    if (typeof event.data === 'string') handlers.onText(event.data);
    else handlers.onBinary();
  };
  let ended = false;
  const end = (info: { code: number; reason: string }) => {
    if (ended) return;
    ended = true;
    handlers.onClose(info);
  };
  // A refused upgrade shows in a browser only as an abnormal closure (1006).
  socket.onclose = (event) => end({ code: event.code, reason: event.reason });
  return {
    send: (text) => socket.send(text),
    close: (code, reason) => {
      socket.onmessage = null;
      socket.close(code, reason);
      // Over a dead network the closing handshake never finishes: this connection is over now.
      end({ code, reason });
    },
  };
};

/** A stream client for browsers (the console). */
export function createStreamClient(options: StreamClientOptions): StreamClient {
  return createStreamClientWith(connectWithPlatformWebSocket, options);
}

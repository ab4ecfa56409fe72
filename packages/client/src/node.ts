import WebSocket from 'ws';
import {
  createStreamClientWith,
  type Connect,
  type StreamClient,
  type StreamClientOptions,
} from './client.js';

export * from './exports.js';

/**
 * Node.js 20 has no WebSocket of its own: `ws` carries the token in the
 * `Authorization` header and sends no `Origin`, as a tool that is not a
 * browser should.
 */
export const connectWithWs: Connect = (url, token, handlers) => {
  let ended = false;
  const end = (info: { code: number; reason: string; httpStatus?: number }) => {
    if (ended) return;
    ended = true;
    handlers.onClose(info);
  };
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  socket.on('open', () => handlers.onOpen());
  socket.on('message', (data, isBinary) => {
    if (isBinary) handlers.onBinary();
    else handlers.onText(Array.isArray(data) ? Buffer.concat(data).toString() : data.toString());
  });
  // The upgrade was answered with an HTTP error: say which, unlike a browser can.
  socket.on('unexpected-response', (request, response) => {
    request.destroy();
    end({ code: 1006, reason: `HTTP ${response.statusCode}`, httpStatus: response.statusCode ?? 0 });
  });
  // Errors end in 'close'; without a listener they would be thrown.
  socket.on('error', () => undefined);
  socket.once('close', (code, reason) => end({ code, reason: reason.toString() }));
  return {
    send: (text) => socket.send(text),
    close: (code, reason) => {
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(code, reason);
    },
  };
};

/** A stream client for Node.js. */
export function createStreamClient(options: StreamClientOptions): StreamClient {
  return createStreamClientWith(connectWithWs, options);
}

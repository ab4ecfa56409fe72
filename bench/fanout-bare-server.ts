/**
 * The floor of bench/fanout.ts, run as a child process of it: a bare `ws`
 * server that broadcasts a pre-serialised payload to every client, with
 * nothing of the hub in the way (no feed, no policy, no filters). It speaks
 * to its parent over IPC.
 *
 *   → { cmd: 'broadcast', count, rate, bytes }  ← { done: true, sent }
 */
import { WebSocketServer } from 'ws';

interface Broadcast {
  cmd: 'broadcast';
  count: number;
  rate: number;
  bytes: number;
}

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
server.on('listening', () => {
  const { port } = server.address() as { port: number };
  process.send!({ port });
});

// CLOCK_MONOTONIC: one clock for every process on the machine, so times taken in two processes compare.
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A JSON text frame of exactly `bytes` bytes carrying the time it was sent. */
function payload(sequence: number, bytes: number): Buffer {
  const head = JSON.stringify({ type: 'alert', sequence, sentAt: now(), pad: '' });
  return Buffer.from(head.replace('"pad":""', `"pad":"${'x'.repeat(Math.max(0, bytes - head.length))}"`));
}

async function broadcast({ count, rate, bytes }: Broadcast): Promise<number> {
  const started = performance.now();
  let sent = 0;
  for (let sequence = 0; sequence < count; sequence += 1) {
    const due = started + (sequence * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    // Serialised once, the same bytes to every client: the best a broadcast can do.
    const data = payload(sequence, bytes);
    for (const client of server.clients) {
      client.send(data, { binary: false });
      sent += 1;
    }
  }
  return sent;
}

process.on('message', (message: Broadcast) => {
  if (message.cmd === 'broadcast')
    void broadcast(message).then((sent) => process.send!({ done: true, sent }));
});
process.on('disconnect', () => process.exit(0));

/**
 * The subscribers of the fan-out scenario (bench/fanout.ts), run as a child process of it so that
 * reading a few hundred thousand frames a second does not starve the
 * writers. The same code reads from the gateway and from the bare server.
 *
 *   → { cmd: 'connect', url, headers: [...one per subscriber] }  ← { connected }
 *   → { cmd: 'collect', expected }  ← { delivered, lastDeliveryAt, arrivals: [{ key, at }] }
 */
import WebSocket from 'ws';

interface Connect {
  cmd: 'connect';
  url: string;
  headers: Record<string, string>[];
}
interface Collect {
  cmd: 'collect';
  expected: number;
}

/** One subscriber in this many parses its frames to measure latency; the others only count. */
const PROBE_EVERY = 10;

// CLOCK_MONOTONIC: one clock for every process on the machine, so times taken in two processes compare.
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let sockets: WebSocket[] = [];
let delivered = 0;
let lastDeliveryAt = 0;
let arrivals: { key: string; at: number }[] = [];

/** What the sender can find its send time by: the bare server's timestamp, or the gateway's alert id. */
function keyOf(text: string): string | undefined {
  const frame = JSON.parse(text) as { sentAt?: number; alert?: { id: string } };
  return frame.sentAt !== undefined ? String(frame.sentAt) : frame.alert?.id;
}

async function connect({ url, headers }: Connect): Promise<void> {
  sockets = [];
  delivered = 0;
  lastDeliveryAt = 0;
  arrivals = [];
  for (let first = 0; first < headers.length; first += 50) {
    await Promise.all(
      headers.slice(first, first + 50).map((header, k) => {
        const socket = new WebSocket(url, { headers: header, perMessageDeflate: false });
        sockets.push(socket);
        const probe = (first + k) % PROBE_EVERY === 0;
        let greeted = false;
        return new Promise<void>((resolve, reject) => {
          socket.on('error', reject);
          socket.on('message', (data: Buffer) => {
            // The gateway greets first; the bare server does not. Only then, and on probes, is a frame decoded.
            if (!greeted) {
              greeted = true;
              if (data.toString('utf8', 0, 17) === '{"type":"welcome"') return;
            }
            delivered += 1;
            lastDeliveryAt = now();
            if (probe) {
              const key = keyOf(data.toString());
              if (key !== undefined) arrivals.push({ key, at: lastDeliveryAt });
            }
          });
          socket.on('open', () => resolve());
        });
      }),
    );
  }
}

async function collect({ expected }: Collect) {
  // Until everything arrived, or nothing more has for five seconds.
  let last = -1;
  let quietSince = now();
  while (delivered < expected) {
    await sleep(100);
    if (delivered !== last) {
      last = delivered;
      quietSince = now();
    } else if (now() - quietSince > 5_000) break;
  }
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) return resolve();
          socket.once('close', () => resolve());
          socket.close();
        }),
    ),
  );
  return { delivered, lastDeliveryAt, arrivals };
}

process.on('message', (message: Connect | Collect) => {
  if (message.cmd === 'connect')
    void connect(message).then(() => process.send!({ connected: sockets.length }));
  if (message.cmd === 'collect') void collect(message).then((result) => process.send!(result));
});
process.on('disconnect', () => process.exit(0));

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A self-signed certificate for `localhost` and 127.0.0.1, made with openssl for one test run. */
export interface TestCertificate {
  key: string;
  cert: string;
  /** The certificate's file: a webhook sender trusts it through DELIVERY_CA_FILE. */
  certFile: string;
  remove(): void;
}

export function createTestCertificate(): TestCertificate {
  const dir = mkdtempSync(path.join(tmpdir(), 'renkei-cert-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return {
    key: readFileSync(keyFile, 'utf8'),
    cert: readFileSync(certFile, 'utf8'),
    certFile,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface ReceivedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  at: number;
}

/** An HTTPS webhook receiver: records every request by path, and answers as each path is told to. */
export interface WebhookReceiver {
  /** `https://localhost:<port>` */
  url: string;
  port: number;
  received(path: string): ReceivedRequest[];
  /** The next `times` requests to `path` are answered with `status` (and `location`, for a redirect). */
  failNext(path: string, times: number, status?: number, location?: string): void;
  /** The next `times` requests to `path` are never answered (until the receiver closes). */
  hangNext(path: string, times: number): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(certificate: TestCertificate): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const failures = new Map<string, { times: number; status: number; location: string | undefined }>();
  const hangs = new Map<string, number>();
  const server: Server = createServer(
    { key: certificate.key, cert: certificate.cert },
    (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const requestPath = request.url ?? '/';
        requests.push({
          path: requestPath,
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        });
        const hang = hangs.get(requestPath) ?? 0;
        if (hang > 0) {
          hangs.set(requestPath, hang - 1);
          return;
        }
        const failure = failures.get(requestPath);
        if (failure && failure.times > 0) {
          failure.times -= 1;
          response.writeHead(failure.status, failure.location ? { location: failure.location } : {});
          response.end('not now');
          return;
        }
        response.writeHead(204);
        response.end();
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://localhost:${port}`,
    port,
    received: (requestPath) => requests.filter((r) => r.path === requestPath),
    hangNext: (requestPath, times) => hangs.set(requestPath, times),
    failNext: (requestPath, times, status = 503, location) =>
      failures.set(requestPath, { times, status, location }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

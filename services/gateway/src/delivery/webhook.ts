import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';
import { isHostAllowed, judgeResolved, parseWebhookUrl, refusedAddress } from '@renkei/delivery';

/** Where webhooks may go: the operator's allow-list, the hub's own addresses, extra CAs. */
export interface WebhookGuard {
  allowedHosts: readonly string[];
  /** Addresses of this machine: a webhook may never point back at the hub. */
  ownAddresses: readonly string[];
  /**
   * The CA certificates receivers are verified with, when the operator adds
   * some (`DELIVERY_CA_FILE`): Node's bundled roots plus those, since a `ca`
   * option replaces the roots rather than adding to them. Unset: the roots.
   */
  ca?: string[];
}

/** Every address of this machine's interfaces. */
export function hostAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((entries) =>
    (entries ?? []).map((entry) => entry.address),
  );
}

/** Why a URL is refused as a webhook (a 400 naming `url`), or null. Resolves the host unless allow-listed. */
export async function refusedWebhookUrl(text: string, guard: WebhookGuard): Promise<string | null> {
  const parsed = parseWebhookUrl(text);
  if (!parsed.ok) return parsed.reason;
  const { host } = parsed.target;
  if (isHostAllowed(host, guard.allowedHosts)) return null;
  if (isIP(host)) {
    const refusal = refusedAddress(host, guard.ownAddresses);
    return refusal ? `points at ${host} (${refusal})` : null;
  }
  const addresses = await resolveAll(host).catch(() => null);
  if (!addresses) return 'names a host that does not resolve';
  const judged = judgeResolved(addresses, guard.ownAddresses);
  return judged.ok ? null : judged.reason;
}

function resolveAll(host: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses: LookupAddress[]) =>
      error ? reject(error) : resolve(addresses.map((a) => a.address)),
    ),
  );
}

/** A connection-time refusal: the host now resolves somewhere it may not. */
class RefusedTarget extends Error {
  override readonly name = 'RefusedTarget';
}

/**
 * The `lookup` the request connects with: it resolves the host itself,
 * judges every address, and hands the socket the one it judged, so a DNS
 * answer that changed since the endpoint was created (rebinding) is caught
 * at every connection and cannot be swapped between check and connect.
 */
function guardedLookup(guard: WebhookGuard): LookupFunction {
  return (hostname, options, callback) => {
    const allowed = isHostAllowed(hostname, guard.allowedHosts);
    resolveAll(hostname).then(
      (addresses) => {
        const judged = allowed
          ? addresses.length > 0
            ? ({ ok: true, address: addresses[0]! } as const)
            : ({ ok: false, reason: 'does not resolve to any address' } as const)
          : judgeResolved(addresses, guard.ownAddresses);
        if (!judged.ok) return callback(new RefusedTarget(`${hostname} ${judged.reason}`), '', 0);
        const family = isIP(judged.address);
        if ((options as { all?: boolean }).all) {
          (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [
            { address: judged.address, family },
          ]);
        } else callback(null, judged.address, family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

export interface WebhookResult {
  statusCode: number | null;
  latencyMs: number;
  ok: boolean;
  error: string | null;
}

/**
 * POSTs one signed body. A 2xx answer is delivered; anything else (another
 * status, a redirect, which is never followed, a refused address, a
 * timeout) is a failed attempt. The answer's body is read and dropped.
 */
export function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  guard: WebhookGuard,
  timeoutMs: number,
  /** Ends the attempt early (the gateway is closing); the delivery stays pending. */
  signal?: AbortSignal,
): Promise<WebhookResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const parsed = parseWebhookUrl(url);
  if (!parsed.ok)
    return Promise.resolve({ statusCode: null, latencyMs: 0, ok: false, error: `url ${parsed.reason}` });
  const { host } = parsed.target;
  // An address in the URL is never looked up, so it is judged here.
  if (isIP(host) && !isHostAllowed(host, guard.allowedHosts)) {
    const refusal = refusedAddress(host, guard.ownAddresses);
    if (refusal)
      return Promise.resolve({ statusCode: null, latencyMs: 0, ok: false, error: `${host} is ${refusal}` });
  }
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: WebhookResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const req = request(
      parsed.target.url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'Renkei-Webhook/1',
          ...headers,
        },
        lookup: guardedLookup(guard),
        ...(signal ? { signal } : {}),
        // One connection per attempt: a pooled socket would skip the lookup, and the check with it.
        agent: false,
        ...(guard.ca ? { ca: guard.ca } : {}),
      },
      (response) => {
        const statusCode = response.statusCode ?? null;
        response.resume();
        response.on('end', () => {
          const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
          finish({ statusCode, latencyMs: elapsed(), ok, error: ok ? null : `answered ${statusCode}` });
        });
        response.on('error', (error) =>
          finish({ statusCode, latencyMs: elapsed(), ok: false, error: error.message }),
        );
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (error) =>
      finish({ statusCode: null, latencyMs: elapsed(), ok: false, error: error.message }),
    );
    req.end(body);
  });
}

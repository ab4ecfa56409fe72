import type { PartnerFeedCredentials } from '@renkei/schema';
import { authorizationHeader } from './credentials.js';
import { FeedPollError, type GetJson } from './poll.js';

export interface FeedHttpOptions {
  credentials?: PartnerFeedCredentials | undefined;
  /** One request's deadline, headers and body together. */
  timeoutMs: number;
  /** The largest body read; a larger one fails the poll rather than the process's memory. */
  maxBytes: number;
  /** Aborts requests in flight when the service closes. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/**
 * The poller's GET: the feed's credentials, a deadline, a bound on the body,
 * no redirects followed (a redirect would carry the partner's credentials to
 * wherever it points).
 */
export function feedGetJson(options: FeedHttpOptions): GetJson {
  const doFetch = options.fetch ?? fetch;
  const authorization = authorizationHeader(options.credentials);
  return async (url, accept) => {
    const signals = [AbortSignal.timeout(options.timeoutMs), ...(options.signal ? [options.signal] : [])];
    let response: Response;
    try {
      response = await doFetch(url, {
        headers: { accept, ...(authorization ? { authorization } : {}) },
        redirect: 'manual',
        signal: AbortSignal.any(signals),
      });
    } catch (error) {
      throw new FeedPollError(`${url}: ${(error as Error).message}`, { cause: error });
    }
    const text = await readBounded(response, options.maxBytes, url);
    let body: unknown;
    try {
      body = text.length ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (response.status === 200 && body === undefined)
      throw new FeedPollError(`${url}: the body is not JSON`);
    return { status: response.status, headers: response.headers, body };
  };
}

async function readBounded(response: Response, maxBytes: number, url: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new FeedPollError(
      `${url}: the body is ${declared} bytes, more than PARTNER_FEED_MAX_RESPONSE_BYTES (${maxBytes})`,
    );
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of response.body) {
      total += chunk.byteLength;
      if (total > maxBytes) {
        await response.body.cancel().catch(() => undefined);
        throw new FeedPollError(
          `${url}: the body is more than PARTNER_FEED_MAX_RESPONSE_BYTES (${maxBytes})`,
        );
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof FeedPollError) throw error;
    throw new FeedPollError(`${url}: ${(error as Error).message}`, { cause: error });
  }
  return Buffer.concat(chunks).toString('utf8');
}

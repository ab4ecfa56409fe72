import { normaliseOrigin } from '@renkei/http';

/**
 * Which browser pages may open the stream. Browsers send `Origin` on every
 * WebSocket upgrade and do not apply the same-origin policy to WebSockets,
 * so without this check any site a logged-in analyst visits could open the
 * stream with a token it found (cross-site WebSocket hijacking). Tools that
 * are not browsers send no `Origin` and are let through: they hold their
 * token themselves.
 */
export interface OriginPolicy {
  isAllowed(origin: string | undefined): boolean;
  /** Adds the gateway's own address once it listens (the console is served from it). */
  allowOwn(url: string): void;
  /** The origins allowed, for the start-up log. */
  list(): string[];
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

export function createOriginPolicy(configured: readonly string[] = []): OriginPolicy {
  const allowed = new Set<string>();
  for (const origin of configured) {
    const normal = normaliseOrigin(origin);
    if (normal) allowed.add(normal);
  }
  return {
    isAllowed(origin) {
      if (origin === undefined) return true;
      const normal = normaliseOrigin(origin);
      return normal !== null && allowed.has(normal);
    },
    allowOwn(url) {
      const own = new URL(url);
      if (LOOPBACK_NAMES.includes(own.hostname)) {
        // Whichever name a local browser uses for the same loopback listener.
        for (const name of LOOPBACK_NAMES)
          allowed.add(`${own.protocol}//${name}${own.port ? `:${own.port}` : ''}`);
      } else if (own.hostname !== '0.0.0.0' && own.hostname !== '[::]') {
        allowed.add(own.origin);
      }
    },
    list: () => [...allowed],
  };
}

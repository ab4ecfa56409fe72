import type { Organisation, OrganisationSubmission } from '@renkei/schema';
import type { OrganisationRegistry } from './cache.js';

/**
 * A registry that never changes, for a process with no database to read it
 * from (tests of what happens without PostgreSQL). Every organisation is enabled.
 */
export function fixedRegistry(organisations: readonly OrganisationSubmission[]): OrganisationRegistry {
  const at = new Date(0).toISOString();
  const byId = new Map<string, Organisation>(
    organisations.map((o) => [
      o.id,
      { ...o, language: o.language ?? 'ja', enabled: true, createdAt: at, updatedAt: at },
    ]),
  );
  return {
    get: (id) => byId.get(id),
    list: () => [...byId.values()],
    refresh: async () => undefined,
    onChange: () => () => undefined,
    close: async () => undefined,
  };
}

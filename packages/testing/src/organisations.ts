import { migrate, type Pool } from '@renkei/db';
import type { OrganisationKind, Sector } from '@renkei/schema';

export interface TestOrganisation {
  id: string;
  sector: Sector;
  kind: OrganisationKind;
  name?: string;
}

/**
 * Organisations the suites use, by the kind of member they play. A token is
 * honoured only for a registered organisation, so each suite registers those
 * it mints tokens for with {@link registerOrganisations}.
 */
export const TEST_ORGANISATIONS = {
  gsoc: { id: 'gsoc', sector: 'central-government', kind: 'gsoc' },
  mlitCsirt: { id: 'mlit-csirt', sector: 'central-government', kind: 'agency' },
  mhlwCsirt: { id: 'mhlw-csirt', sector: 'central-government', kind: 'agency' },
  soumuCsirt: { id: 'soumu-csirt', sector: 'central-government', kind: 'agency' },
  financeCeptar: { id: 'finance-ceptar', sector: 'finance', kind: 'ceptar' },
  waterCeptar: { id: 'water-ceptar', sector: 'water', kind: 'ceptar' },
  railCeptar: { id: 'rail-ceptar', sector: 'railway', kind: 'ceptar' },
  acmeBank: { id: 'acme-bank', sector: 'finance', kind: 'operator' },
} as const satisfies Record<string, TestOrganisation>;

/**
 * Registers organisations (enabled) in a test database, applying the
 * migrations first if the services have not yet. Registering one again
 * updates its sector and kind and enables it.
 */
export async function registerOrganisations(
  database: { pool: Pool },
  organisations: readonly TestOrganisation[],
): Promise<void> {
  await migrate(database.pool);
  for (const organisation of organisations) {
    await database.pool.query(
      `INSERT INTO organisations (id, name, sector, kind) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET name = $2, sector = $3, kind = $4, enabled = true, updated_at = now()`,
      [
        organisation.id,
        organisation.name ?? `${organisation.id} (test)`,
        organisation.sector,
        organisation.kind,
      ],
    );
  }
}

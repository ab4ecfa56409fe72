import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from '@renkei/runtime';

/**
 * docs/OPERATIONS.md ("Database roles") shows operators, table by table,
 * what each service's role may do; the migration that grants it is the truth.
 * The two must say the same, or the table misleads whoever reviews access.
 */
const SERVICES = ['ingest', 'correlator', 'gateway'] as const;

function grantsInMigration(): Map<string, string> {
  const sql = readFileSync(
    path.join(REPOSITORY_ROOT, 'infra/postgres/migrations/0017_service_roles.sql'),
    'utf8',
  );
  const grants = new Map<string, string>();
  for (const match of sql.matchAll(/\('(ingest|correlator|gateway)', '([a-z_]+)', '([^']+)'\)/g)) {
    grants.set(`${match[2]} ${match[1]}`, match[3]!);
  }
  return grants;
}

function grantsInDocs(): Map<string, string> {
  const docs = readFileSync(path.join(REPOSITORY_ROOT, 'docs/OPERATIONS.md'), 'utf8');
  const section = docs.slice(docs.indexOf('## Database roles'));
  const grants = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = /^\| `([a-z_]+)` +\|(.*)\|$/.exec(line);
    if (!cells) continue;
    const columns = cells[2]!.split('|').map((cell) => cell.trim());
    expect(columns).toHaveLength(SERVICES.length);
    SERVICES.forEach((service, index) => {
      if (columns[index] !== '—') grants.set(`${cells[1]} ${service}`, columns[index]!);
    });
  }
  return grants;
}

describe('the database roles table in docs/OPERATIONS.md', () => {
  it('lists exactly the grants of migration 0017', () => {
    const migration = grantsInMigration();
    expect(migration.size).toBeGreaterThan(40);
    expect(Object.fromEntries(grantsInDocs())).toEqual(Object.fromEntries(migration));
  });
});

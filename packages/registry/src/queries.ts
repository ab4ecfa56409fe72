import { recordAudit } from '@renkei/audit';
import { withTransaction, type Pool, type Queryable } from '@renkei/db';
import { RenkeiError } from '@renkei/runtime';
import type { Organisation, OrganisationChange, OrganisationSubmission, Sector } from '@renkei/schema';

interface OrganisationRow {
  id: string;
  name: string;
  sector: Organisation['sector'];
  kind: Organisation['kind'];
  language: Organisation['language'];
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

const COLUMNS = 'id, name, sector, kind, language, enabled, created_at, updated_at';

function toOrganisation(row: OrganisationRow): Organisation {
  return {
    id: row.id,
    name: row.name,
    sector: row.sector,
    kind: row.kind,
    language: row.language,
    enabled: row.enabled,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function listOrganisations(db: Queryable): Promise<Organisation[]> {
  const { rows } = await db.query<OrganisationRow>(`SELECT ${COLUMNS} FROM organisations ORDER BY id`);
  return rows.map(toOrganisation);
}

export async function findOrganisation(db: Queryable, id: string): Promise<Organisation | undefined> {
  const { rows } = await db.query<OrganisationRow>(`SELECT ${COLUMNS} FROM organisations WHERE id = $1`, [
    id,
  ]);
  return rows[0] && toOrganisation(rows[0]);
}

/** Enabled organisations in any of these sectors (all sectors when null), the GSOC left out. */
export async function organisationsInSectors(
  db: Queryable,
  sectors: readonly Sector[] | null,
): Promise<Organisation[]> {
  const { rows } = await db.query<OrganisationRow>(
    `SELECT ${COLUMNS} FROM organisations
      WHERE enabled AND kind <> 'gsoc' AND ($1::text[] IS NULL OR sector = ANY($1::text[]))
      ORDER BY id`,
    [sectors],
  );
  return rows.map(toOrganisation);
}

/** Who made a change to the registry, for the audit log. */
export interface Actor {
  subject: string;
  organisationId: string | null;
}

/** Registers an organisation and audits it, together. An id already taken is a 409. */
export async function registerOrganisation(
  pool: Pool,
  submission: OrganisationSubmission,
  actor: Actor,
): Promise<Organisation> {
  return withTransaction(pool, async (db) => {
    const { rows } = await db.query<OrganisationRow>(
      `INSERT INTO organisations (id, name, sector, kind, language) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO NOTHING
       RETURNING ${COLUMNS}`,
      [submission.id, submission.name, submission.sector, submission.kind, submission.language ?? 'ja'],
    );
    if (!rows[0]) {
      throw new RenkeiError('RENKEI_CONFLICT', `organisation ${submission.id} is already registered`);
    }
    await recordAudit(db, {
      kind: 'organisation.added',
      actor: actor.subject,
      organisationId: actor.organisationId,
      object: submission.id,
      outcome: 'success',
      details: {
        name: submission.name,
        sector: submission.sector,
        kind: submission.kind,
        language: submission.language ?? 'ja',
      },
    });
    return toOrganisation(rows[0]);
  });
}

/**
 * Enables or disables an organisation and audits it, together. Disabling
 * refuses its tokens from the next request on and closes its open streams.
 * Returns undefined for an unknown id.
 */
export async function setOrganisationEnabled(
  pool: Pool,
  id: string,
  enabled: boolean,
  actor: Actor,
): Promise<Organisation | undefined> {
  return withTransaction(pool, async (db) => {
    const { rows } = await db.query<OrganisationRow>(
      `UPDATE organisations SET enabled = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, enabled],
    );
    if (!rows[0]) return undefined;
    await recordAudit(db, {
      kind: enabled ? 'organisation.enabled' : 'organisation.disabled',
      actor: actor.subject,
      organisationId: actor.organisationId,
      object: id,
      outcome: 'success',
    });
    return toOrganisation(rows[0]);
  });
}

/**
 * Changes an organisation's name or language and audits what changed (from
 * and to), together. Returns undefined for an unknown id.
 */
export async function changeOrganisation(
  pool: Pool,
  id: string,
  change: OrganisationChange,
  actor: Actor,
): Promise<Organisation | undefined> {
  return withTransaction(pool, async (db) => {
    const before = await db.query<OrganisationRow>(
      `SELECT ${COLUMNS} FROM organisations WHERE id = $1 FOR UPDATE`,
      [id],
    );
    if (!before.rows[0]) return undefined;
    const { rows } = await db.query<OrganisationRow>(
      `UPDATE organisations SET name = coalesce($2, name), language = coalesce($3, language), updated_at = now()
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, change.name ?? null, change.language ?? null],
    );
    const [was, now] = [before.rows[0], rows[0]!];
    await recordAudit(db, {
      kind: 'organisation.changed',
      actor: actor.subject,
      organisationId: actor.organisationId,
      object: id,
      outcome: 'success',
      details: Object.fromEntries(
        (['name', 'language'] as const)
          .filter((field) => was[field] !== now[field])
          .map((field) => [field, { from: was[field], to: now[field] }]),
      ),
    });
    return toOrganisation(now);
  });
}

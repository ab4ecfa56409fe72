import { createHmac } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import { MAX_INDICATORS_PER_REPORT, type Indicator, type ReportSubmission } from '@renkei/schema';

/** Namespace of the STIX ids Renkei exports (a fixed random UUID: changing it changes every id). */
export const STIX_EXPORT_NAMESPACE = 'b48d4886-52b6-4fe0-bf29-42fe978876c7';

/**
 * A STIX id that depends only on a stable name, so the same view exported
 * twice gives the same object (STIX 2.1 allows UUIDv5 ids for any object).
 */
export function stixId(type: string, name: string): string {
  return `${type}--${uuidv5(name, STIX_EXPORT_NAMESPACE)}`;
}

/**
 * The key and scope of the report ids an import derives. The key is the
 * hub's own secret (`deriveHubKey(secret, 'import-id')`), so nobody outside
 * the hub can compute an id from public inputs and learn from a 409 (or an
 * "already accepted") that an organisation imported a given bundle or event.
 */
export interface ImportIds {
  /** At least 32 bytes, secret to the hub. */
  key: Uint8Array;
  /** Who imports (the submitting organisation's id): each scope names its own reports. */
  scope: string;
}

/**
 * A report id that depends only on who imported what, so a retried import is
 * stored once, and that only this hub can compute: HMAC-SHA256 under the
 * hub's key, its first 128 bits written as a UUID of version 8 (RFC 9562's
 * custom layout), which every UUID parser accepts.
 */
export function importedReportId(ids: ImportIds, parts: readonly string[]): string {
  if (ids.key.length < 32) throw new Error('an import id key is at least 32 bytes');
  const bytes = createHmac('sha256', ids.key)
    // JSON keeps the parts apart whatever they contain.
    .update(JSON.stringify([ids.scope, ...parts]))
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Who names an import's reports, and which source object and version they are made of. */
export interface SourceNaming {
  ids: ImportIds;
  /** The source object, as the id has always named it: `['stix', containerId]`, `['misp', eventUuid]`. */
  name: readonly string[];
  /** The source's version time, ISO 8601 in UTC (STIX `modified`, MISP `timestamp`). */
  version: string;
}

/** A source with no version time of its own: every copy of it is the same version. */
export const UNVERSIONED = '1970-01-01T00:00:00.000Z';

export interface ReportParts {
  submissions: ReportSubmission[];
  /** The part (0-based) that holds each indicator, by {@link partKey}. */
  partOf: Map<string, number>;
}

export function partKey(indicator: Pick<Indicator, 'type' | 'value'>): string {
  return `${indicator.type}\u0000${indicator.value}`;
}

/**
 * A report as large as its source: one report when its indicators fit in
 * one, else consecutive parts of at most `MAX_INDICATORS_PER_REPORT`, each
 * titled "(part n of m)" and carrying the same `source.id`, so nothing of the
 * source is dropped and its reports stay linked. The work is bounded by the
 * import's own bounds (20,000 objects or attributes: at most 20 parts and
 * 20,000 indicators, as one request of `POST /v1/reports` × 20 would be).
 * Ids: a whole source keeps the id it always had (the name and version); a
 * part adds its number.
 */
export function reportParts(
  base: Omit<ReportSubmission, 'indicators' | 'id' | 'source'>,
  indicators: readonly Indicator[],
  naming: SourceNaming | undefined,
): ReportParts {
  const parts = Math.max(1, Math.ceil(indicators.length / MAX_INDICATORS_PER_REPORT));
  const partOf = new Map<string, number>();
  const submissions = Array.from({ length: parts }, (_, n): ReportSubmission => {
    const slice = indicators.slice(n * MAX_INDICATORS_PER_REPORT, (n + 1) * MAX_INDICATORS_PER_REPORT);
    for (const indicator of slice) partOf.set(partKey(indicator), n);
    const suffix = parts > 1 ? ` (part ${n + 1} of ${parts})` : '';
    const title = suffix
      ? `${base.title.slice(0, MAX_TITLE - suffix.length).trimEnd()}${suffix}`
      : base.title;
    return {
      ...(naming
        ? {
            id: importedReportId(naming.ids, [
              ...naming.name,
              naming.version,
              ...(parts > 1 ? [`part ${n + 1} of ${parts}`] : []),
            ]),
          }
        : {}),
      ...base,
      title,
      indicators: slice,
      ...(naming
        ? {
            source: {
              id: importedReportId(naming.ids, ['source', ...naming.name]),
              version: naming.version,
              part: n + 1,
              parts,
            },
          }
        : {}),
    };
  });
  return { submissions, partOf };
}

const MAX_TITLE = 200;

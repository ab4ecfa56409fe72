import { createHash } from 'node:crypto';
import { recordAudit } from '@renkei/audit';
import { principalOf, type Sealer } from '@renkei/auth';
import type { Pool } from '@renkei/db';
import { errorReplies, invalidField, type HttpServer } from '@renkei/http';
import { indicatorKey, type CanonicalIndicator, type WarningListMatcher } from '@renkei/indicators';
import {
  alertCarrying,
  isAnalyst,
  reportInSearch,
  searchesAlertTitles,
  searchScope,
  viewAlert,
  warningSectorFilter,
  type SearchScope,
  type Viewer,
} from '@renkei/policy';
import {
  lookupAnswerSchema,
  lookupRequestSchema,
  searchAnswerSchema,
  searchParametersSchema,
  type AlertHit,
  type AlertRecord,
  type AlertView,
  type IndicatorHit,
  type LookupAnswer,
  type ReportHit,
  type SearchAnswer,
  type SearchParameters,
  type SightingsSummary,
  type WarningHit,
  type WarningRecord,
} from '@renkei/schema';
import {
  MAX_SEARCH_OFFSET,
  packPage,
  readLookupValue,
  readQuery,
  searchFingerprint,
  unpackPage,
  type ReadQuery,
  type SearchGroup,
} from '@renkei/search';
import {
  addressesWithin,
  alertsCarrying,
  alertsTitled,
  exclusionsNow,
  NO_FILTERS,
  searchReports,
  searchWarnings,
  summariseSightings,
  type AlertWithTriage,
  type ReportFilters,
  type ReportRow,
  type SummaryRow,
} from '../queries/search.js';

/** Alerts of one indicator read to find those the viewer's view lists: more than any indicator gathers. */
const MAX_ALERT_CANDIDATES = 500;
/** Alerts one lookup result lists, newest first. */
const MAX_ALERTS_PER_VALUE = 50;
/** A network search looks for alerts of at most this many of its addresses (the first in address order). */
const MAX_NETWORK_ADDRESSES = 1_000;
/** The largest lookup body: 10,000 values of a few hundred bytes each, with room. */
export const MAX_LOOKUP_BODY_BYTES = 8 * 1024 * 1024;

export interface SearchDeps {
  pool: Pool;
  /** Seals search paging positions (the hub secret's `search-page` key). */
  searchPages: Sealer;
  /** The warning lists the correlators load: a lookup names the one that would suppress a value. */
  warningLists: WarningListMatcher;
}

/**
 * `GET /v1/search` and `POST /v1/lookup`: "have we seen this?". Analysts get
 * everything, organisations named; anyone else only what its view of the hub
 * holds (`packages/policy/src/search.ts`), read in SQL through that view, so
 * a report it may not know of changes nothing in any answer.
 */
export function searchRoutes(app: HttpServer, deps: SearchDeps): void {
  app.get(
    '/v1/search',
    {
      schema: {
        summary:
          'Search indicators, reports, alerts and warnings: an indicator as written, a network, a CVE, text',
        description:
          'Groups what matched: indicators (first and last seen, reports, organisations, sectors), reports, ' +
          "alerts and warnings, each paged with its own `next` token. Members see only their view's content: " +
          "their own reports named, others' CLEAR and GREEN ones without names.",
        tags: ['search'],
        querystring: searchParametersSchema,
        response: {
          200: searchAnswerSchema,
          ...errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_RATE_LIMITED', 'RENKEI_UNAVAILABLE'),
        },
      },
    },
    async (request): Promise<SearchAnswer> => {
      const viewer = principalOf(request);
      const parameters = request.query;
      const read = readQuery(parameters.q);
      if (!read.ok) throw invalidField('q', read.reason);
      if (
        parameters.since &&
        parameters.until &&
        Date.parse(parameters.since) >= Date.parse(parameters.until)
      )
        throw invalidField('until', 'is not after since');
      const search = new Search(deps, viewer, read.query, parameters);
      const answer = await search.answer();
      await recordAudit(deps.pool, {
        kind: 'search.performed',
        actor: viewer.subject,
        organisationId: viewer.organisationId,
        object: null,
        outcome: 'success',
        details: {
          query: answer.query,
          filters: {
            type: parameters.type ?? null,
            sector: parameters.sector ?? null,
            since: parameters.since ?? null,
            until: parameters.until ?? null,
            exercise: parameters.exercise,
          },
          page: search.page?.group ?? null,
          results: {
            indicators: answer.indicators.items.length,
            reports: answer.reports.items.length,
            alerts: answer.alerts.items.length,
            warnings: answer.warnings.items.length,
          },
        },
      });
      return answer;
    },
  );

  app.post(
    '/v1/lookup',
    {
      bodyLimit: MAX_LOOKUP_BODY_BYTES,
      // A read with a body: spends the read budget (read-costs.ts), not the write limit.
      config: { read: true },
      schema: {
        summary: 'Look up to 10,000 values of any types at once, as written',
        description:
          'Per value, in order: its canonical form, whether the caller knows of it, its sightings, the alerts ' +
          'it is part of and the warning list or exclusion that suppresses it. A value only others reported at ' +
          'AMBER or stricter is answered exactly as a value nobody reported.',
        tags: ['search'],
        body: lookupRequestSchema,
        response: {
          200: lookupAnswerSchema,
          ...errorReplies(
            'RENKEI_INVALID_REQUEST',
            'RENKEI_PAYLOAD_TOO_LARGE',
            'RENKEI_RATE_LIMITED',
            'RENKEI_UNAVAILABLE',
          ),
        },
      },
    },
    async (request, reply) => {
      const viewer = principalOf(request);
      const { values, exercise } = request.body;
      const answer = await lookup(deps, viewer, values, exercise, ({ canonical, known }) =>
        recordAudit(deps.pool, {
          kind: 'lookup.performed',
          actor: viewer.subject,
          organisationId: viewer.organisationId,
          object: null,
          outcome: 'success',
          details: {
            values: values.length,
            indicators: canonical.filter(Boolean).length,
            known,
            exercise,
            // What was asked, without storing 10^4 values: the list's digest and its first few.
            digest: createHash('sha256').update(canonical.join('\n')).digest('hex'),
            first: canonical.filter(Boolean).slice(0, 20),
          },
        }),
      );
      // Bytes, as the STIX export sends: 10^4 results built as the typed LookupAnswer skip a second
      // validation that would cost more than the database's part (the integration test validates them).
      return reply
        .header('content-type', 'application/json; charset=utf-8')
        .send(Buffer.from(JSON.stringify(answer)) as unknown as LookupAnswer);
    },
  );
}

/** One search request: the query as read, the filters, and the one group a `page` continues. */
class Search {
  readonly page: { group: SearchGroup; offset: number } | undefined;
  readonly #filters: ReportFilters;
  readonly #fingerprint: number;
  readonly #scope: SearchScope;
  #summary: Promise<SummaryRow[]> | undefined;

  constructor(
    private readonly deps: SearchDeps,
    private readonly viewer: Viewer,
    private readonly query: ReadQuery,
    private readonly parameters: SearchParameters,
  ) {
    this.#filters = {
      exercise: parameters.exercise,
      sector: parameters.sector ?? null,
      since: parameters.since ?? null,
      until: parameters.until ?? null,
    };
    this.#scope = searchScope(viewer);
    this.#fingerprint = searchFingerprint([
      ['query', queryView(query)],
      ['type', parameters.type ?? null],
      ['sector', this.#filters.sector],
      ['since', this.#filters.since],
      ['until', this.#filters.until],
      ['exercise', this.#filters.exercise],
      ['limit', parameters.limit],
    ]);
    if (parameters.page !== undefined) {
      const packed = deps.searchPages.open(parameters.page);
      const page = packed === undefined ? undefined : unpackPage(packed, this.#fingerprint);
      if (!page) throw invalidField('page', 'is not a page of this search');
      this.page = page;
    }
  }

  async answer(): Promise<SearchAnswer> {
    const wanted = (group: SearchGroup) => this.page === undefined || this.page.group === group;
    const offset = (group: SearchGroup) => (this.page?.group === group ? this.page.offset : 0);
    const none = { items: [], next: null };
    const [indicators, reports, alerts, warnings] = await Promise.all([
      wanted('indicators') ? this.#indicators(offset('indicators')) : none,
      wanted('reports') ? this.#reports(offset('reports')) : none,
      wanted('alerts') ? this.#alerts(offset('alerts')) : none,
      wanted('warnings') ? this.#warnings(offset('warnings')) : none,
    ]);
    return { query: queryView(this.query), indicators, reports, alerts, warnings };
  }

  /** An indicator query whose type the `type` filter excludes, or a text query with one: nothing matches. */
  get #typeExcluded(): boolean {
    const { type } = this.parameters;
    if (type === undefined) return false;
    if (this.query.kind === 'indicator') return this.query.indicator.type !== type;
    if (this.query.kind === 'network') return this.query.type !== type;
    return true;
  }

  #page<T>(group: SearchGroup, offset: number, rows: readonly T[]): { items: T[]; next: string | null } {
    const { limit } = this.parameters;
    const nextOffset = offset + limit;
    const more = rows.length > limit && nextOffset <= MAX_SEARCH_OFFSET;
    return {
      items: rows.slice(0, limit),
      next: more
        ? this.deps.searchPages.seal(packPage({ group, offset: nextOffset }, this.#fingerprint))
        : null,
    };
  }

  #window(offset: number) {
    return { offset, limit: this.parameters.limit + 1 };
  }

  /** The summary of the indicator sought (an indicator query), read once per request. */
  #indicatorSummary(indicator: CanonicalIndicator): Promise<SummaryRow[]> {
    this.#summary ??= summariseSightings(this.deps.pool, [indicator], this.#scope, this.#filters);
    return this.#summary;
  }

  async #indicators(offset: number) {
    if (this.#typeExcluded) return this.#page('indicators', offset, []);
    if (this.query.kind === 'indicator') {
      const rows = offset === 0 ? await this.#indicatorSummary(this.query.indicator) : [];
      return this.#page('indicators', offset, rows.map(indicatorHit));
    }
    if (this.query.kind === 'network') {
      const addresses = await addressesWithin(
        this.deps.pool,
        this.query,
        this.#scope,
        this.#filters,
        this.#window(offset),
      );
      const summaries = new Map(
        (await summariseSightings(this.deps.pool, addresses, this.#scope, this.#filters)).map((row) => [
          `${row.type}:${row.value}`,
          row,
        ]),
      );
      const rows = addresses.flatMap((address) => {
        const row = summaries.get(`${address.type}:${address.value}`);
        return row ? [indicatorHit(row)] : [];
      });
      return this.#page('indicators', offset, rows);
    }
    return this.#page('indicators', offset, []);
  }

  async #reports(offset: number) {
    if (this.#typeExcluded) return this.#page('reports', offset, []);
    const match =
      this.query.kind === 'indicator'
        ? { kind: 'indicator' as const, ...this.query.indicator }
        : this.query.kind === 'network'
          ? this.query
          : { kind: 'text' as const, pattern: this.query.pattern, scope: this.query.scope };
    const rows = await searchReports(this.deps.pool, match, this.#scope, this.#filters, this.#window(offset));
    return this.#page(
      'reports',
      offset,
      rows.flatMap((row) => {
        const hit = reportHit(this.viewer, row);
        return hit ? [hit] : [];
      }),
    );
  }

  async #alerts(offset: number) {
    if (this.#typeExcluded) return this.#page('alerts', offset, []);
    const { pool } = this.deps;
    let hits: AlertHit[] = [];
    if (this.query.kind === 'indicator') {
      const indicator = this.query.indicator;
      // A member with no report of the value it may read sees no alert of it: nothing more is read,
      // so a value only hidden reports carry costs what a value nobody reported does.
      const readable = isAnalyst(this.viewer) || (await this.#indicatorSummary(indicator)).length > 0;
      const alerts = readable
        ? await alertsCarrying(pool, [indicatorKey(indicator)], this.#filters.exercise, MAX_ALERT_CANDIDATES)
        : [];
      hits = newestFirst(
        alerts.flatMap(({ record, triage }) => {
          const view = alertCarrying(this.viewer, record, indicator);
          return view ? [alertHit(view, triage)] : [];
        }),
      ).slice(offset, offset + this.parameters.limit + 1);
    } else if (this.query.kind === 'network') {
      // The network's addresses the viewer's view holds, then each alert carrying one of them, as the
      // viewer would see it for that address: a member is told of no address only hidden reports carry.
      const addresses = await addressesWithin(pool, this.query, this.#scope, this.#filters, {
        offset: 0,
        limit: MAX_NETWORK_ADDRESSES,
      });
      const wanted = new Map(addresses.map((address) => [`${address.type}:${address.value}`, address]));
      const alerts =
        wanted.size > 0
          ? await alertsCarrying(pool, [...wanted.keys()], this.#filters.exercise, MAX_ALERT_CANDIDATES)
          : [];
      hits = newestFirst(
        alerts.flatMap(({ record, triage }) => {
          for (const indicator of carriedOf(record, wanted)) {
            const view = alertCarrying(this.viewer, record, indicator);
            if (view) return [alertHit(view, triage)];
          }
          return [];
        }),
      ).slice(offset, offset + this.parameters.limit + 1);
    } else if (this.query.kind === 'text' && searchesAlertTitles(this.viewer)) {
      const alerts = await alertsTitled(pool, this.query, this.#filters.exercise, this.#window(offset));
      hits = alerts.flatMap(({ record, triage }) => {
        const view = viewAlert(this.viewer, record);
        return view ? [alertHit(view, triage)] : [];
      });
    }
    return this.#page('alerts', offset, hits);
  }

  async #warnings(offset: number) {
    if (this.#typeExcluded) return this.#page('warnings', offset, []);
    const audience = warningSectorFilter(this.viewer);
    if (audience === 'none') return this.#page('warnings', offset, []);
    const sector = audience === 'all' ? this.#filters.sector : audience.sector;
    const match =
      this.query.kind === 'indicator'
        ? { kind: 'indicator' as const, key: indicatorKey(this.query.indicator) }
        : this.query.kind === 'network'
          ? this.query
          : { kind: 'text' as const, pattern: this.query.pattern, scope: this.query.scope };
    const records = await searchWarnings(this.deps.pool, match, sector, this.#filters, this.#window(offset));
    return this.#page('warnings', offset, records.map(warningHit));
  }
}

/**
 * Every value's answer, in the request's order. Only values the viewer's
 * view holds a report of are looked for in alerts, so a value only reports
 * hidden from it carry is answered, and costs, as a value nobody reported.
 */
async function lookup(
  deps: SearchDeps,
  viewer: Viewer,
  values: readonly string[],
  exercise: boolean,
  /** Records what was asked and found, once that is known: beside the read of the alerts, not after it. */
  audit: (facts: { canonical: string[]; known: number }) => Promise<void>,
): Promise<LookupAnswer> {
  const read = values.map((value) => readLookupValue(value));
  const unique = new Map<string, CanonicalIndicator>();
  for (const result of read) {
    if (result.ok) unique.set(indicatorKey(result.query.indicator), result.query.indicator);
  }
  const keys = [...unique.values()];
  const [summaries, exclusions] = await Promise.all([
    summariseSightings(deps.pool, keys, searchScope(viewer), { exercise, ...NO_FILTERS }),
    exclusionsNow(deps.pool, keys),
  ]);
  const summaryOf = new Map(summaries.map((row) => [`${row.type}:${row.value}`, sightingsSummary(row)]));
  const known = [...summaryOf.keys()];
  const canonical = read.map((result) => (result.ok ? indicatorKey(result.query.indicator) : ''));
  const [carried] = await Promise.all([
    alertsCarrying(deps.pool, known, exercise, Number.MAX_SAFE_INTEGER),
    audit({ canonical, known: canonical.filter((key) => summaryOf.has(key)).length }),
  ]);
  const alertsOf = new Map<string, AlertHit[]>();
  for (const { record, triage } of carried) {
    for (const indicator of carriedOf(record, summaryOf)) {
      const view = alertCarrying(viewer, record, indicator);
      const key = indicatorKey(indicator);
      if (view) alertsOf.set(key, [...(alertsOf.get(key) ?? []), alertHit(view, triage)]);
    }
  }
  const suppression = new Map(
    keys.map((indicator, index) => [
      indicatorKey(indicator),
      deps.warningLists.match(indicator) ?? exclusions.get(index) ?? null,
    ]),
  );
  return {
    results: read.map((result, index) => {
      const value = values[index]!;
      if (!result.ok) {
        return {
          value,
          canonical: null,
          error: result.reason,
          known: false,
          sightings: null,
          alerts: [],
          suppressedBy: null,
        };
      }
      const { indicator } = result.query;
      const key = indicatorKey(indicator);
      const sightings = summaryOf.get(key) ?? null;
      return {
        value,
        canonical: { type: indicator.type, value: indicator.value },
        known: sightings !== null,
        sightings,
        alerts: newestFirst(alertsOf.get(key) ?? []).slice(0, MAX_ALERTS_PER_VALUE),
        suppressedBy: suppression.get(key) ?? null,
      };
    }),
  };
}

/** The indicators of the record that the lookup asked for and the viewer knows. */
function carriedOf(record: AlertRecord, known: ReadonlyMap<string, unknown>): CanonicalIndicator[] {
  return record.indicators
    .filter((indicator) => known.has(`${indicator.type}:${indicator.value}`))
    .map(({ type, value }) => ({ type, value }));
}

function newestFirst(hits: AlertHit[]): AlertHit[] {
  return hits.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.id.localeCompare(b.id));
}

function queryView(query: ReadQuery): SearchAnswer['query'] {
  switch (query.kind) {
    case 'indicator':
      return { kind: 'indicator', indicator: query.indicator, readAs: query.readAs };
    case 'network':
      return query;
    case 'text':
      return { kind: 'text', text: query.text, scope: query.scope };
  }
}

function sightingsSummary(row: SummaryRow): SightingsSummary {
  return {
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    reportCount: row.report_count,
    organisationCount: row.organisation_count,
    sectors: row.sectors,
    organisations: row.organisations,
  };
}

function indicatorHit(row: SummaryRow): IndicatorHit {
  return { type: row.type as IndicatorHit['type'], value: row.value, ...sightingsSummary(row) };
}

function reportHit(viewer: Viewer, row: ReportRow): ReportHit | undefined {
  const presence = reportInSearch(
    viewer,
    { organisationId: row.organisation_id, tlp: row.tlp as ReportHit['tlp'] },
    { viewerReportedIt: false },
  );
  // SQL read only what the viewer may read; the policy says once more how it appears.
  if (presence !== 'named' && presence !== 'anonymised') return undefined;
  return {
    id: row.id,
    title: row.title,
    category: row.category as ReportHit['category'],
    severity: row.severity as ReportHit['severity'],
    tlp: row.tlp as ReportHit['tlp'],
    sector: row.sector,
    organisationId: presence === 'named' ? row.organisation_id : null,
    detectedAt: row.detected_at,
    receivedAt: row.received_at,
    exercise: row.exercise,
    labels: row.labels,
  };
}

function alertHit(view: AlertView, triage: AlertWithTriage['triage']): AlertHit {
  return {
    id: view.id,
    kind: view.kind,
    severity: view.severity,
    title: view.title,
    version: view.version,
    triageStatus: triage,
    updatedAt: view.updatedAt,
  };
}

function warningHit(record: WarningRecord): WarningHit {
  return {
    id: record.id,
    title: record.title,
    severity: record.severity,
    tlp: record.tlp,
    publishedAt: record.publishedAt,
    exercise: record.exercise,
  };
}

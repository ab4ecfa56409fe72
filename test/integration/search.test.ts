import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupCommand } from '@renkei/cli';
import {
  correlationSettings,
  correlatorConfigSchema,
  processChunk,
  type ChunkItem,
  type CorrelationContext,
} from '@renkei/correlator';
import type { HttpApp } from '@renkei/http';
import { loadWarningLists } from '@renkei/indicators/load';
import { createLogger } from '@renkei/runtime';
import {
  lookupAnswerSchema,
  readableReportSchema,
  REPORT_ENVELOPE_SCHEMA,
  reportEnvelopeSchema,
  searchAnswerSchema,
  type LookupAnswer,
  type SearchAnswer,
  type Sector,
  type Tlp,
} from '@renkei/schema';
import { TEST_ORGANISATIONS, type TestDatabase, type TestKeys } from '@renkei/testing';
import {
  startInProcessGateway,
  type InProcessGateway,
} from '../../services/gateway/test/support/in-process.js';

const { gsoc, mlitCsirt, mhlwCsirt, financeCeptar, acmeBank } = TEST_ORGANISATIONS;
const NOW = Date.now();
const HOUR = 3_600_000;

interface Stored {
  org: { id: string; sector: Sector };
  tlp: Tlp;
  title: string;
  description?: string;
  indicators: { type: string; value: string }[];
  hoursAgo: number;
}

/** A 400's first named field, beside the answer's own fields. */
type Refusal = { fields?: { field: string }[]; field?: string };
const withField = <T extends Refusal>(body: T): T =>
  body.fields?.[0] ? { ...body, field: body.fields[0].field } : body;

/**
 * `GET /v1/search` and `POST /v1/lookup` on a real database, with reports
 * stored by the correlator's own code (`processChunk`, as it stores a
 * fetched chunk), so sightings, derived hosts and alerts are the hub's.
 */
describe('search and lookup', () => {
  const logger = createLogger('search-test', 'silent');
  let database: TestDatabase;
  let keys: TestKeys;
  let gateway: InProcessGateway;
  let http: HttpApp;
  const tokens: Record<'analyst' | 'finance' | 'mlit' | 'acme', string> = {
    analyst: '',
    finance: '',
    mlit: '',
    acme: '',
  };
  const ids = new Map<string, string>();
  let offset = 0;

  async function store(context: CorrelationContext, reports: Record<string, Stored>): Promise<void> {
    const items: ChunkItem[] = Object.entries(reports).map(([name, report]) => {
      const id = randomUUID();
      ids.set(name, id);
      const envelope = reportEnvelopeSchema.parse({
        schema: REPORT_ENVELOPE_SCHEMA,
        id,
        organisationId: report.org.id,
        sector: report.org.sector,
        submittedBy: `${report.org.id}-user`,
        receivedAt: new Date(NOW - report.hoursAgo * HOUR + 1_000).toISOString(),
        contentSha256: 'a'.repeat(64),
        report: {
          id,
          title: report.title,
          ...(report.description ? { description: report.description } : {}),
          category: 'phishing',
          severity: 'high',
          tlp: report.tlp,
          detectedAt: new Date(NOW - report.hoursAgo * HOUR).toISOString(),
          indicators: report.indicators,
        },
      });
      offset += 1;
      return { envelope, at: { topic: 'renkei.reports.v1', partition: 0, offset: String(offset) } };
    });
    await processChunk(database.pool, items, context);
  }

  beforeAll(async () => {
    gateway = await startInProcessGateway({
      organisations: [gsoc, mlitCsirt, mhlwCsirt, financeCeptar, acmeBank],
      logger,
      registryPollMs: 1_000,
    });
    ({ database, keys, http } = gateway);
    tokens.analyst = await keys.token({ org: gsoc.id, sector: gsoc.sector, roles: ['analyst'], sub: 'ana' });
    tokens.finance = await keys.token({
      org: financeCeptar.id,
      sector: financeCeptar.sector,
      roles: ['ceptar'],
    });
    tokens.mlit = await keys.token({ org: mlitCsirt.id, sector: mlitCsirt.sector, roles: ['reporter'] });
    tokens.acme = await keys.token({ org: acmeBank.id, sector: acmeBank.sector, roles: ['reporter'] });

    const context: CorrelationContext = {
      settings: correlationSettings(
        correlatorConfigSchema.parse({ DATABASE_URL: database.url, KAFKA_BROKERS: '127.0.0.1:9092' }),
      ),
      warningLists: await loadWarningLists({ extraDir: undefined, disabled: [] }),
    };
    await store(context, {
      // A URL two organisations reported, written plainly.
      urlByMlit: {
        org: mlitCsirt,
        tlp: 'GREEN',
        title: '標的型攻撃メールによる認証情報の窃取',
        description: 'Spear-phishing against procurement staff',
        indicators: [{ type: 'url', value: 'https://evil.example/login' }],
        hoursAgo: 30,
      },
      urlByMhlw: {
        org: mhlwCsirt,
        tlp: 'AMBER',
        title: 'Credential phishing page',
        indicators: [{ type: 'url', value: 'https://evil.example/login' }],
        hoursAgo: 20,
      },
      // The finance CEPTAR's own report (AMBER), and a GREEN one of another organisation.
      ownByFinance: {
        org: financeCeptar,
        tlp: 'AMBER',
        title: 'Invoice lure',
        indicators: [
          { type: 'domain', value: 'invoice-portal.example' },
          { type: 'ipv4', value: '198.51.100.23' },
        ],
        hoursAgo: 10,
      },
      greenByAcme: {
        org: acmeBank,
        tlp: 'GREEN',
        title: 'Same invoice lure at the bank',
        indicators: [{ type: 'domain', value: 'invoice-portal.example' }],
        hoursAgo: 9,
      },
      // AMBER co-report of an indicator the finance CEPTAR reported: counted, never shown.
      amberCoReport: {
        org: mhlwCsirt,
        tlp: 'AMBER',
        title: 'Scanner seen at the ministry',
        indicators: [{ type: 'ipv4', value: '198.51.100.23' }],
        hoursAgo: 8,
      },
      // An address two organisations of two sectors reported at GREEN: an alert of a network.
      netByMlit: {
        org: mlitCsirt,
        tlp: 'GREEN',
        title: 'Scanner at the network edge',
        indicators: [{ type: 'ipv4', value: '91.92.93.94' }],
        hoursAgo: 3,
      },
      netByAcme: {
        org: acmeBank,
        tlp: 'GREEN',
        title: 'Scanner at the bank edge',
        indicators: [{ type: 'ipv4', value: '91.92.93.94' }],
        hoursAgo: 2,
      },
      // Values only others reported at AMBER, AMBER+STRICT and RED.
      amberOnly: {
        org: mlitCsirt,
        tlp: 'AMBER',
        title: 'Internal lateral movement',
        indicators: [
          { type: 'domain', value: 'amber-only.example' },
          { type: 'ipv4', value: '203.0.113.77' },
        ],
        hoursAgo: 5,
      },
      amberOnlyAgain: {
        org: mhlwCsirt,
        tlp: 'RED',
        title: 'Internal lateral movement, again',
        indicators: [
          { type: 'domain', value: 'amber-only.example' },
          { type: 'ipv4', value: '203.0.113.77' },
        ],
        hoursAgo: 4,
      },
    });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const search = async (token: string, query: Record<string, string>) => {
    const response = await http.app.inject({
      method: 'GET',
      url: `/v1/search?${new URLSearchParams(query).toString()}`,
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: response.statusCode, body: withField(response.json<SearchAnswer & Refusal>()) };
  };
  const lookup = async (token: string, values: unknown) => {
    const response = await http.app.inject({
      method: 'POST',
      url: '/v1/lookup',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ values }),
    });
    return {
      status: response.statusCode,
      contentType: response.headers['content-type'],
      body: withField(response.json<LookupAnswer & Refusal>()),
    };
  };
  /** An answer without the echo of what was asked: what it says about the hub. */
  const found = ({ query: _query, ...groups }: SearchAnswer) => groups;

  it("finds an analyst's defanged URL as the plain one two organisations reported, both named", async () => {
    const { status, body } = await search(tokens.analyst, { q: 'hxxps://evil[.]example/login' });
    expect(status).toBe(200);
    searchAnswerSchema.parse(body);
    expect(body.query).toEqual({
      kind: 'indicator',
      indicator: { type: 'url', value: 'https://evil.example/login' },
      readAs: 'url',
    });
    expect(body.indicators.items).toEqual([
      expect.objectContaining({
        type: 'url',
        value: 'https://evil.example/login',
        reportCount: 2,
        organisationCount: 2,
        organisations: [mhlwCsirt.id, mlitCsirt.id],
        sectors: ['central-government'],
      }),
    ]);
    expect(body.reports.items.map((r) => [r.id, r.organisationId])).toEqual([
      [ids.get('urlByMhlw'), mhlwCsirt.id],
      [ids.get('urlByMlit'), mlitCsirt.id],
    ]);
    // The shared-indicator alert of the URL, as analysts see it.
    expect(body.alerts.items).toEqual([
      expect.objectContaining({ kind: 'shared-indicator', triageStatus: 'new', version: 1 }),
    ]);
    // The host is a sighting of both reports too: searching it finds them.
    const host = await search(tokens.analyst, { q: 'EVIL[.]EXAMPLE' });
    expect(host.body.reports.items.map((r) => r.id).sort()).toEqual(
      [ids.get('urlByMhlw'), ids.get('urlByMlit')].sort(),
    );
  });

  it("finds a member's own report named and another's GREEN one anonymised, with AMBER co-reports only counted", async () => {
    const { body } = await search(tokens.finance, { q: 'invoice-portal[.]example' });
    expect(body.reports.items.map((r) => [r.id, r.organisationId, r.tlp])).toEqual([
      [ids.get('greenByAcme'), null, 'GREEN'],
      [ids.get('ownByFinance'), financeCeptar.id, 'AMBER'],
    ]);
    expect(body.indicators.items).toEqual([
      expect.objectContaining({
        reportCount: 2,
        organisationCount: 2,
        organisations: [financeCeptar.id],
        sectors: ['finance'],
      }),
    ]);
    // Its own and a GREEN report: the member's view of the shared-indicator alert.
    expect(body.alerts.items).toHaveLength(1);

    // The address it reported that another organisation reported at AMBER: counted, nothing else.
    const address = await search(tokens.finance, { q: '198.51.100.23' });
    expect(address.body.indicators.items).toEqual([
      expect.objectContaining({
        reportCount: 2,
        organisationCount: 2,
        organisations: [financeCeptar.id],
        sectors: ['finance'],
      }),
    ]);
    expect(address.body.reports.items.map((r) => r.id)).toEqual([ids.get('ownByFinance')]);
    // Without its own report the AMBER one would not count: the acme bank sees nothing of the address.
    const other = await search(tokens.acme, { q: '198.51.100.23' });
    expect(found(other.body)).toEqual(found((await search(tokens.acme, { q: '198.51.100.99' })).body));
  });

  it('gives a member the same answer for a value only others reported at AMBER or stricter as for a random value', async () => {
    for (const [hidden, random] of [
      ['amber-only[.]example', `never-${randomUUID().slice(0, 8)}.example`],
      ['203.0.113.77', '203.0.113.78'],
    ] as const) {
      const [a, b] = await Promise.all([
        search(tokens.finance, { q: hidden }),
        search(tokens.finance, { q: random }),
      ]);
      expect(a.status).toBe(200);
      expect(found(a.body)).toEqual(found(b.body));
      expect(found(a.body)).toEqual({
        indicators: { items: [], next: null },
        reports: { items: [], next: null },
        alerts: { items: [], next: null },
        warnings: { items: [], next: null },
      });
    }
    // The analyst sees them, named.
    const analyst = await search(tokens.analyst, { q: 'amber-only.example' });
    expect(analyst.body.indicators.items[0]?.organisations).toEqual([mhlwCsirt.id, mlitCsirt.id]);

    const [a, b] = await Promise.all([
      lookup(tokens.finance, ['amber-only[.]example', '203.0.113.77']),
      lookup(tokens.finance, ['never-seen.example', '203.0.113.78']),
    ]);
    const withoutValues = (answer: LookupAnswer) =>
      answer.results.map(({ value: _v, canonical: _c, ...rest }) => rest);
    expect(withoutValues(a.body)).toEqual(withoutValues(b.body));
    expect(a.body.results[0]).toMatchObject({ known: false, sightings: null, alerts: [] });
  });

  it('finds Japanese text by a substring, and English text in descriptions', async () => {
    for (const token of [tokens.analyst, tokens.finance]) {
      const { body } = await search(token, { q: '標的型' });
      expect(body.query).toEqual({ kind: 'text', text: '標的型', scope: 'all' });
      expect(body.reports.items.map((r) => r.id)).toEqual([ids.get('urlByMlit')]);
    }
    // Two characters: no trigram, matched against the newest rows.
    const short = await search(tokens.analyst, { q: '窃取' });
    expect(short.body.query).toMatchObject({ scope: 'recent' });
    expect(short.body.reports.items.map((r) => r.id)).toEqual([ids.get('urlByMlit')]);
    const english = await search(tokens.analyst, { q: 'PROCUREMENT staff' });
    expect(english.body.reports.items.map((r) => r.id)).toEqual([ids.get('urlByMlit')]);
    // A member never finds another's AMBER report by its text.
    expect((await search(tokens.finance, { q: 'lateral movement' })).body.reports.items).toEqual([]);
    expect((await search(tokens.analyst, { q: 'lateral movement' })).body.reports.items).toHaveLength(2);
  });

  it('searches a network, and filters by type, sector and time', async () => {
    const { body } = await search(tokens.analyst, { q: '198.51.100.0/24' });
    expect(body.query).toEqual({ kind: 'network', type: 'ipv4', cidr: '198.51.100.0/24' });
    expect(body.indicators.items.map((i) => i.value)).toEqual(['198.51.100.23']);
    expect(body.reports.items).toHaveLength(2);
    expect(
      (await search(tokens.analyst, { q: '198.51.100.0/24', type: 'domain' })).body.reports.items,
    ).toEqual([]);
    // The alerts of its addresses, as each address's own search gives them, and the warnings
    // naming an address in it.
    const warning = await http.app.inject({
      method: 'POST',
      url: '/v1/warnings',
      headers: { authorization: `Bearer ${tokens.analyst}`, 'content-type': 'application/json' },
      payload: JSON.stringify({
        title: 'Scanning from 91.92.93.0/24',
        body: 'Block the range at the edge.',
        severity: 'medium',
        tlp: 'GREEN',
        sectors: 'all',
        indicators: [{ type: 'ipv4', value: '91.92.93.5' }],
      }),
    });
    expect(warning.statusCode, warning.body).toBe(201);
    for (const token of [tokens.analyst, tokens.finance]) {
      const network = (await search(token, { q: '91.92.93.0/24' })).body;
      const single = (await search(token, { q: '91.92.93.94' })).body;
      expect(single.alerts.items.length).toBeGreaterThan(0);
      expect(network.alerts.items).toEqual(single.alerts.items);
      expect(network.warnings.items.map((w) => w.title)).toEqual(['Scanning from 91.92.93.0/24']);
      expect((await search(token, { q: '91.92.94.0/24' })).body.warnings.items).toEqual([]);
    }
    expect(found((await search(tokens.finance, { q: '203.0.113.0/24' })).body)).toEqual(
      found((await search(tokens.finance, { q: '192.0.2.0/24' })).body),
    );
    const finance = await search(tokens.analyst, { q: '198.51.100.0/24', sector: 'finance' });
    expect(finance.body.reports.items.map((r) => r.id)).toEqual([ids.get('ownByFinance')]);
    const recent = await search(tokens.analyst, {
      q: 'invoice-portal.example',
      since: new Date(NOW - 9.5 * HOUR).toISOString(),
    });
    expect(recent.body.reports.items.map((r) => r.id)).toEqual([ids.get('greenByAcme')]);
  });

  it('pages one group by a sealed token that opens for the same search only', async () => {
    const first = await search(tokens.analyst, { q: 'lateral movement', limit: '1' });
    expect(first.body.reports.items).toHaveLength(1);
    const next = first.body.reports.next;
    expect(next).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const second = await search(tokens.analyst, { q: 'lateral movement', limit: '1', page: next! });
    expect(second.status).toBe(200);
    expect(second.body.reports.items).toHaveLength(1);
    expect(second.body.reports.items[0]!.id).not.toBe(first.body.reports.items[0]!.id);
    expect(second.body.reports.next).toBeNull();
    // Only the paged group is filled.
    expect(second.body.indicators.items).toEqual([]);
    const elsewhere = await search(tokens.analyst, { q: 'lateral', limit: '1', page: next! });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.field).toBe('page');
  });

  it('answers a lookup of 10,000 values of mixed types in order', async () => {
    const values = Array.from({ length: 10_000 }, (_, i) => {
      switch (i % 5) {
        case 0:
          return `host-${i}[.]example`;
        case 1:
          return `198.51.${Math.floor(i / 256) % 256}.${i % 256}`;
        case 2:
          return i === 2 ? 'hxxps://evil[.]example/login' : `https://site-${i}.example/p`;
        case 3:
          return i === 3 ? 'invoice-portal.example' : `not an indicator ${i}`;
        default:
          return i === 4 ? '8.8.8.8' : (i % 64).toString(16).padStart(2, '0').repeat(16);
      }
    });
    const { status, body, contentType } = await lookup(tokens.analyst, values);
    expect(status).toBe(200);
    expect(contentType).toBe('application/json; charset=utf-8');
    lookupAnswerSchema.parse(body);
    expect(body.results).toHaveLength(10_000);
    expect(body.results.map((r) => r.value)).toEqual(values);
    expect(body.results[0]!.canonical).toEqual({ type: 'domain', value: 'host-0.example' });
    expect(body.results[8]!).toMatchObject({ canonical: null, known: false, error: expect.any(String) });
    expect(body.results[2]).toMatchObject({
      canonical: { type: 'url', value: 'https://evil.example/login' },
      known: true,
      sightings: { reportCount: 2, organisations: [mhlwCsirt.id, mlitCsirt.id] },
      alerts: [expect.objectContaining({ kind: 'shared-indicator' })],
    });
    expect(body.results[3]).toMatchObject({ known: true, sightings: { reportCount: 2 } });
    // A public resolver is on a shipped warning list.
    expect(body.results[4]).toMatchObject({ known: false, suppressedBy: expect.any(String) });
    expect(body.results.filter((r) => r.known)).toHaveLength(2);
  });

  it('names an exclusion that suppresses a value now', async () => {
    const id = randomUUID();
    await database.pool.query(
      `INSERT INTO exclusions (id, type, canonical, network, note, created_by, created_at)
       VALUES ($1, 'ipv4', NULL, '45.76.10.0/24', 'our scanners', 'ana', now())`,
      [id],
    );
    const { body } = await lookup(tokens.mlit, ['45.76.10.9', '45.76.11.9']);
    expect(body.results.map((r) => r.suppressedBy)).toEqual([`local exclusion ${id}`, null]);
  });

  it('audits who searched and looked up what, with how many results', async () => {
    await search(tokens.finance, { q: 'invoice-portal.example' });
    await lookup(tokens.finance, ['invoice-portal.example', 'x.example']);
    const { rows } = await database.pool.query<{
      kind: string;
      actor: string;
      organisation_id: string;
      details: Record<string, unknown>;
    }>(
      `SELECT kind, actor, organisation_id, details FROM audit_events
        WHERE kind IN ('search.performed', 'lookup.performed') AND organisation_id = $1 ORDER BY id DESC LIMIT 2`,
      [financeCeptar.id],
    );
    expect(rows.map((row) => row.kind)).toEqual(['lookup.performed', 'search.performed']);
    expect(rows[0]!.details).toMatchObject({
      values: 2,
      indicators: 2,
      known: 1,
      first: ['domain:invoice-portal.example', 'domain:x.example'],
    });
    expect(rows[1]!.details).toMatchObject({
      query: { kind: 'indicator', indicator: { type: 'domain', value: 'invoice-portal.example' } },
      results: { indicators: 1, reports: 2, alerts: 1, warnings: 0 },
    });
  });

  it('answers `renkei lookup` through the gateway, in CSV', async () => {
    const viaGateway = (async (url: URL, init: RequestInit) => {
      const response = await http.app.inject({
        method: 'POST',
        url: url.pathname,
        headers: init.headers as Record<string, string>,
        payload: init.body as string,
      });
      return new Response(response.body, { status: response.statusCode });
    }) as typeof fetch;
    const out = await lookupCommand(
      ['-', '--format', 'csv', '--token', tokens.finance],
      {},
      {
        stdin: async () => 'invoice-portal[.]example\namber-only.example\n',
        fetch: viaGateway,
      },
    );
    const [header, mine, hidden] = out.split('\r\n');
    expect(header).toMatch(/^value,type,canonical,known,reports,organisations,/);
    expect(mine).toMatch(/^invoice-portal\[\.\]example,domain,invoice-portal\.example,yes,2,finance-ceptar,/);
    expect(hidden).toBe('amber-only.example,domain,amber-only.example,no,,,,,,,,');
  });

  it('reads one report as search shows it: own and, to analysts, any named; others’ GREEN anonymised; the rest 404 as if missing', async () => {
    const read = async (token: string, id: string) => {
      const response = await http.app.inject({
        method: 'GET',
        url: `/v1/reports/${id}`,
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
    };
    const analyst = await read(tokens.analyst, ids.get('amberOnlyAgain')!);
    expect(analyst.status).toBe(200);
    expect(readableReportSchema.parse(analyst.body)).toMatchObject({
      organisationId: mhlwCsirt.id,
      tlp: 'RED',
      indicators: [
        { type: 'domain', value: 'amber-only.example' },
        { type: 'ipv4', value: '203.0.113.77' },
      ],
    });
    const own = await read(tokens.finance, ids.get('ownByFinance')!);
    expect(own.body).toMatchObject({ organisationId: financeCeptar.id, title: 'Invoice lure', tlp: 'AMBER' });
    const green = await read(tokens.finance, ids.get('urlByMlit')!);
    expect(green.body).toMatchObject({
      organisationId: null,
      title: '標的型攻撃メールによる認証情報の窃取',
      description: 'Spear-phishing against procurement staff',
      indicators: [{ type: 'url', value: 'https://evil.example/login' }],
    });
    // Another organisation's AMBER (even a co-report of the viewer's own indicator) and RED:
    // the same answer as an id nobody used, but for the id it names.
    const missing = randomUUID();
    const nobody = await read(tokens.finance, missing);
    expect(nobody.status).toBe(404);
    for (const name of ['amberCoReport', 'amberOnly', 'amberOnlyAgain']) {
      const id = ids.get(name)!;
      const hidden = await read(tokens.finance, id);
      expect({ status: hidden.status, body: JSON.stringify(hidden.body).replaceAll(id, missing) }).toEqual({
        status: 404,
        body: JSON.stringify(nobody.body),
      });
    }
    expect((await read(tokens.finance, 'not-a-uuid')).status).toBe(400);
  });

  it('refuses bad input with a 400 naming the field', async () => {
    expect((await search(tokens.analyst, { q: '   ' })).body.field).toBe('q');
    expect((await search(tokens.analyst, { q: '203.0.113.7/24' })).body).toMatchObject({
      field: 'q',
    });
    expect((await search(tokens.analyst, { q: 'x', page: 'A'.repeat(22) })).body.field).toBe('page');
    expect(
      (await search(tokens.analyst, { q: 'x', since: '2026-12-01T00:00:00Z', until: '2026-11-01T00:00:00Z' }))
        .body.field,
    ).toBe('until');
    const tooMany = await lookup(
      tokens.analyst,
      Array.from({ length: 10_001 }, () => 'a.example'),
    );
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.field).toBe('values');
    const empty = await lookup(tokens.analyst, []);
    expect(empty.status).toBe(400);
  });
});

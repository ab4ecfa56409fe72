import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  taxiiErrorSchema,
  taxiiStatusSchema,
  type AlertPage,
  type ImportAnswer,
  type ReadableReport,
  type ReportStatusView,
  type SearchAnswer,
} from '@renkei/schema';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import { TLP2_MARKING_IDS, type StixBundle } from '@renkei/stix';
import { eventually, startTestHub, TEST_ORGANISATIONS, type TestHub } from '@renkei/testing';

const TAXII = 'application/taxii+json;version=2.1';
const GREEN = TLP2_MARKING_IDS.GREEN;

const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/**
 * Issue 21 on real services: partners' data as it comes. A source larger than
 * one report is kept whole in linked parts; the same objects re-sent (a new
 * bundle id) or edited (a new MISP timestamp) stay one report per source
 * object, with exactly-once alerts; context names come back in exports and
 * search; every TAXII error is a TAXII error resource.
 */
describe('partner imports', () => {
  const { mlitCsirt, financeCeptar, gsoc, waterCeptar } = TEST_ORGANISATIONS;
  let hub: TestHub<'agency' | 'bank' | 'water' | 'analyst'>;
  let ingestUrl: string;
  let gatewayUrl: string;
  let tokens: typeof hub.tokens;

  beforeAll(async () => {
    hub = await startTestHub({
      organisations: [mlitCsirt, financeCeptar, gsoc, waterCeptar],
      actors: {
        agency: { organisation: mlitCsirt, roles: ['reporter'] },
        bank: { organisation: financeCeptar, roles: ['ceptar'] },
        water: { organisation: waterCeptar, roles: ['ceptar'] },
        analyst: { organisation: gsoc, roles: ['analyst'] },
      },
      gatewayEnv: { TAXII_CACHE_MS: '0' },
      gatewayAfterIngest: true,
    });
    ({ ingestUrl, gatewayUrl, tokens } = hub);
  }, 180_000);

  afterAll(async () => {
    if (hub) expect(await hub.close()).toEqual(hub.services.map(() => 0));
  });

  const post = async (route: string, token: string, body: unknown) => {
    let response: Response | undefined;
    await eventually(async () => {
      response = await fetch(`${ingestUrl}${route}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status, await response.clone().text()).not.toBe(503);
    });
    return response!;
  };
  const imported = async (route: string, token: string, body: unknown): Promise<ImportAnswer> => {
    const response = await post(route, token, body);
    expect(response.status, await response.clone().text()).toBe(202);
    return (await response.json()) as ImportAnswer;
  };
  const processed = async (id: string, token: string): Promise<ReportStatusView> => {
    let view: ReportStatusView | undefined;
    await eventually(
      async () => {
        const response = await fetch(`${ingestUrl}/v1/reports/${id}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        view = (await response.json()) as ReportStatusView;
        expect(view.status).toBe('processed');
      },
      { timeoutMs: 60_000 },
    );
    return view!;
  };
  const alertsCarrying = async (value: string) => {
    const response = await fetch(`${gatewayUrl}/v1/alerts?limit=200`, {
      headers: { authorization: `Bearer ${tokens.analyst}` },
    });
    expect(response.status).toBe(200);
    const page = (await response.json()) as AlertPage;
    return page.items.filter(
      (alert) => alert.kind === 'shared-indicator' && alert.indicators.some((i) => i.value === value),
    );
  };
  /**
   * The alerts carrying a value once `count` of them are listed: an alert is
   * stored with its report, but listed once the feed relay has sequenced it,
   * a moment later (longer on a loaded machine).
   */
  const listedAlertsCarrying = (value: string, count: number) =>
    eventually(async () => {
      const alerts = await alertsCarrying(value);
      expect(alerts).toHaveLength(count);
      return alerts;
    });
  const mispEvent = (uuid: string, timestamp: number, attributes: { uuid: string; value: string }[]) => ({
    Event: {
      uuid,
      info: 'Partner event',
      date: '2026-11-20',
      timestamp: String(timestamp),
      threat_level_id: '2',
      Tag: [{ name: 'tlp:green' }, { name: 'misp-galaxy:threat-actor="Sofacy"' }],
      Galaxy: [{ type: 'threat-actor', GalaxyCluster: [{ value: 'Sofacy' }] }],
      Attribute: attributes.map((attribute) => ({
        uuid: attribute.uuid,
        type: 'domain',
        category: 'Network activity',
        to_ids: true,
        value: attribute.value,
      })),
    },
  });

  it('keeps a 2,500-indicator source whole, in linked reports, each listed in the answer', async () => {
    const attributes = Array.from({ length: 2_500 }, (_, i) => ({
      uuid: uuid(0x10000 + i),
      value: `host-${i}.big-source.example`,
    }));
    const answer = await imported(
      '/v1/misp/events',
      tokens.agency,
      mispEvent('5f0c4c1e-0000-4000-8000-000000002500', 1_763_600_000, attributes),
    );
    expect(answer.summary).toMatchObject({ items: 2_500, mapped: 2_500, unmapped: 0, reportsAccepted: 3 });
    expect(answer.reports.map((r) => [r.status, r.part, r.parts, r.indicators])).toEqual([
      ['accepted', 1, 3, 1_000],
      ['accepted', 2, 3, 1_000],
      ['accepted', 3, 3, 500],
    ]);
    expect(new Set(answer.reports.map((r) => r.sourceRef)).size).toBe(1);
    expect(answer.reports[0]!.sourceRef).toMatch(/^[0-9a-f-]{36}$/);
    // Every attribute says which part holds it.
    expect(answer.items.every((item) => item.reports?.length === 1)).toBe(true);
    const stored = new Set<string>();
    for (const report of answer.reports) {
      const view = await processed(report.id!, tokens.agency);
      expect(view.report.title).toMatch(/\(part \d of 3\)$/);
      for (const indicator of view.report.indicators) stored.add(indicator.value);
    }
    expect(stored.size).toBe(2_500);
    expect(stored).toEqual(new Set(attributes.map((a) => a.value)));
  }, 120_000);

  it('makes one report of the same bundle under two bundle ids, and its own for another organisation', async () => {
    const objects = [
      {
        type: 'report',
        spec_version: '2.1',
        id: `report--${uuid(0x501)}`,
        created: '2026-11-20T00:00:00.000Z',
        modified: '2026-11-20T00:00:00.000Z',
        published: '2026-11-20T00:00:00.000Z',
        name: 'Re-sent partner report',
        object_refs: [`indicator--${uuid(0x502)}`],
        object_marking_refs: [GREEN],
      },
      {
        type: 'indicator',
        spec_version: '2.1',
        id: `indicator--${uuid(0x502)}`,
        created: '2026-11-20T00:00:00.000Z',
        modified: '2026-11-20T00:00:00.000Z',
        pattern: "[domain-name:value = 'resent.example']",
        pattern_type: 'stix',
        valid_from: '2026-11-20T00:00:00.000Z',
        object_marking_refs: [GREEN],
      },
    ];
    const first = await imported('/v1/stix/bundles', tokens.agency, {
      type: 'bundle',
      id: `bundle--${uuid(0x511)}`,
      objects,
    });
    const second = await imported('/v1/stix/bundles', tokens.agency, {
      type: 'bundle',
      id: `bundle--${uuid(0x512)}`,
      objects,
    });
    expect(first.reports[0]!.status).toBe('accepted');
    expect(second.reports[0]).toMatchObject({ status: 'already-accepted', id: first.reports[0]!.id });
    // Without a container: the same objects are the same report too, whatever the bundle's id.
    const bare = (bundle: number) => ({
      type: 'bundle',
      id: `bundle--${uuid(bundle)}`,
      objects: [objects[1]],
    });
    const bareFirst = await imported('/v1/stix/bundles', tokens.agency, bare(0x521));
    const bareSecond = await imported('/v1/stix/bundles', tokens.agency, bare(0x522));
    expect(bareSecond.reports[0]).toMatchObject({ status: 'already-accepted', id: bareFirst.reports[0]!.id });

    const other = await imported('/v1/stix/bundles', tokens.bank, {
      type: 'bundle',
      id: `bundle--${uuid(0x511)}`,
      objects,
    });
    expect(other.reports[0]!.status).toBe('accepted');
    expect(other.reports[0]!.id).not.toBe(first.reports[0]!.id);
    expect(other.reports[0]!.sourceRef).not.toBe(first.reports[0]!.sourceRef);
  }, 60_000);

  it('updates the report of an edited MISP event: removed values stop alerting, kept ones count once', async () => {
    const event = '5f0c4c1e-0000-4000-8000-0000000ed170';
    const kept = { uuid: uuid(0x601), value: 'kept.edited.example' };
    const removed = { uuid: uuid(0x602), value: 'removed.edited.example' };
    const added = { uuid: uuid(0x603), value: 'added.edited.example' };
    const v1 = await imported(
      '/v1/misp/events',
      tokens.agency,
      mispEvent(event, 1_763_600_000, [kept, removed]),
    );
    const v1Id = v1.reports[0]!.id!;
    await processed(v1Id, tokens.agency);
    // The bank shares the kept value: one shared-indicator alert, agency and bank.
    const bankReport = async (value: string, token = tokens.bank) => {
      const response = await post('/v1/reports', token, {
        title: `Sighting of ${value}`,
        category: 'phishing',
        severity: 'high',
        tlp: 'GREEN',
        detectedAt: '2026-11-21T00:00:00Z',
        indicators: [{ type: 'domain', value }],
      });
      expect(response.status).toBe(202);
      return ((await response.json()) as { id: string }).id;
    };
    await processed(await bankReport(kept.value), tokens.bank);
    const before = await listedAlertsCarrying(kept.value, 1);
    expect(before).toHaveLength(1);
    expect(before[0]!.reportIds).toHaveLength(2);
    const versionBefore = before[0]!.version;

    // The edit: a new timestamp, one attribute removed, one added.
    const v2 = await imported(
      '/v1/misp/events',
      tokens.agency,
      mispEvent(event, 1_763_700_000, [kept, added]),
    );
    const v2Id = v2.reports[0]!.id!;
    expect(v2Id).not.toBe(v1Id);
    expect(v2.reports[0]!.sourceRef).toBe(v1.reports[0]!.sourceRef);
    const v2View = await processed(v2Id, tokens.agency);
    expect(v2View.report.indicators.map((i) => i.value).sort()).toEqual([added.value, kept.value]);
    // The kept value is counted in v1 already: v2 does not join or re-version its alert.
    const after = await alertsCarrying(kept.value);
    expect(after).toHaveLength(1);
    expect(after[0]!.version).toBe(versionBefore);
    expect(after[0]!.reportIds).not.toContain(v2Id);

    // Wherever the report is shown, v1 points at the version that replaced it.
    const shown = await fetch(`${gatewayUrl}/v1/reports/${v1Id}`, {
      headers: { authorization: `Bearer ${tokens.agency}` },
    });
    expect(((await shown.json()) as ReadableReport).supersededBy).toBe(v2Id);

    // Another organisation reports the removed value after the edit: it no longer alerts.
    // The added one does, with the new version.
    await processed(await bankReport(removed.value, tokens.water), tokens.water);
    await processed(await bankReport(added.value, tokens.water), tokens.water);
    const addedAlerts = await listedAlertsCarrying(added.value, 1);
    expect(addedAlerts).toHaveLength(1);
    expect(addedAlerts[0]!.reportIds).toContain(v2Id);
    expect(await alertsCarrying(removed.value)).toHaveLength(0);

    // An earlier version arriving late changes nothing: when the bank now reports the removed
    // value, it alerts with the water sector's report only, never with the agency's.
    const stale = await imported(
      '/v1/misp/events',
      tokens.agency,
      mispEvent(event, 1_763_650_000, [removed]),
    );
    const staleId = stale.reports[0]!.id!;
    await processed(staleId, tokens.agency);
    await processed(await bankReport(removed.value), tokens.bank);
    const removedAlerts = await listedAlertsCarrying(removed.value, 1);
    expect(removedAlerts).toHaveLength(1);
    expect(removedAlerts[0]!.organisationCount).toBe(2);
    expect(removedAlerts[0]!.reportIds).not.toContain(v1Id);
    expect(removedAlerts[0]!.reportIds).not.toContain(staleId);
  }, 180_000);

  it('keeps threat actors and malware as labels: shown, searchable, and exported again', async () => {
    const answer = await imported('/v1/stix/bundles', tokens.agency, {
      type: 'bundle',
      id: `bundle--${uuid(0x701)}`,
      objects: [
        {
          type: 'report',
          spec_version: '2.1',
          id: `report--${uuid(0x702)}`,
          created: '2026-11-20T00:00:00.000Z',
          modified: '2026-11-20T00:00:00.000Z',
          published: '2026-11-20T00:00:00.000Z',
          name: 'Context partner report',
          object_refs: [`indicator--${uuid(0x703)}`, `threat-actor--${uuid(0x704)}`],
          object_marking_refs: [GREEN],
        },
        {
          type: 'indicator',
          spec_version: '2.1',
          id: `indicator--${uuid(0x703)}`,
          created: '2026-11-20T00:00:00.000Z',
          modified: '2026-11-20T00:00:00.000Z',
          pattern: "[domain-name:value = 'context.example']",
          pattern_type: 'stix',
          valid_from: '2026-11-20T00:00:00.000Z',
          object_marking_refs: [GREEN],
        },
        {
          type: 'threat-actor',
          spec_version: '2.1',
          id: `threat-actor--${uuid(0x704)}`,
          created: '2026-11-20T00:00:00.000Z',
          modified: '2026-11-20T00:00:00.000Z',
          name: 'Comment Panda Test',
        },
        {
          type: 'malware',
          spec_version: '2.1',
          id: `malware--${uuid(0x705)}`,
          created: '2026-11-20T00:00:00.000Z',
          modified: '2026-11-20T00:00:00.000Z',
          name: 'Poison Ivy Test',
          is_family: true,
        },
        {
          type: 'relationship',
          spec_version: '2.1',
          id: `relationship--${uuid(0x706)}`,
          created: '2026-11-20T00:00:00.000Z',
          modified: '2026-11-20T00:00:00.000Z',
          relationship_type: 'indicates',
          source_ref: `indicator--${uuid(0x703)}`,
          target_ref: `malware--${uuid(0x705)}`,
        },
      ],
    });
    const report = answer.reports[0]!;
    expect(report.labels).toEqual(['threat-actor:Comment Panda Test', 'malware:Poison Ivy Test']);
    expect(answer.items.find((item) => item.type === 'threat-actor')).toMatchObject({ status: 'context' });
    await processed(report.id!, tokens.agency);

    const exported = await fetch(`${gatewayUrl}/v1/stix/bundle`, {
      headers: { authorization: `Bearer ${tokens.agency}` },
    });
    const bundle = (await exported.json()) as StixBundle;
    const sdo = bundle.objects.find((o) => o.type === 'report' && o.name === 'Context partner report');
    expect(sdo?.labels).toEqual(
      expect.arrayContaining(['threat-actor:Comment Panda Test', 'malware:Poison Ivy Test']),
    );

    for (const token of [tokens.agency, tokens.bank]) {
      const search = await fetch(`${gatewayUrl}/v1/search?q=${encodeURIComponent('Comment Panda')}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(search.status).toBe(200);
      const found = ((await search.json()) as SearchAnswer).reports.items.find((hit) => hit.id === report.id);
      expect(found?.labels).toContain('threat-actor:Comment Panda Test');
    }
  }, 60_000);

  it('refuses a STIX 2.0 bundle with a message naming spec_version', async () => {
    const response = await post('/v1/stix/bundles', tokens.agency, {
      type: 'bundle',
      id: `bundle--${uuid(0x801)}`,
      spec_version: '2.0',
      objects: [],
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { fields: { field: string; message: string }[] };
    expect(body.fields[0]).toMatchObject({ field: 'spec_version' });
    expect(body.fields[0]!.message).toMatch(/2\.1 only/);
  });

  describe('TAXII errors and statuses', () => {
    const taxii = (route: string, init: RequestInit & { token?: string | null } = {}) => {
      const { token = tokens.agency, headers, ...rest } = init;
      return fetch(`${gatewayUrl}${route}`, {
        ...rest,
        headers: {
          accept: TAXII,
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(headers as Record<string, string> | undefined),
        },
      });
    };
    const collections = async () => {
      const response = await taxii('/taxii2/renkei/collections/');
      return ((await response.json()) as { collections: { id: string; title: string; can_write: boolean }[] })
        .collections;
    };
    const expectTaxiiError = async (response: Response, status: number) => {
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toBe(TAXII);
      const body = taxiiErrorSchema.parse(await response.json());
      expect(body.http_status).toBe(String(status));
      return body;
    };

    it('answers every error the TAXII routes give as a TAXII error resource with the TAXII media type', async () => {
      const all = await collections();
      const own = all.find((c) => c.can_write)!;
      const community = all.find((c) => c.title.startsWith('Renkei community'))!;
      const envelope = JSON.stringify({ objects: [] });

      // 401: no token, and a token that is not one (the shared authentication hook).
      await expectTaxiiError(await taxii('/taxii2/', { token: null }), 401);
      await expectTaxiiError(await taxii('/taxii2/', { token: 'not-a-token' }), 401);
      // 403: a collection that cannot be added to.
      const forbidden = await taxii(`/taxii2/renkei/collections/${community.id}/objects/`, {
        method: 'POST',
        headers: { 'content-type': TAXII },
        body: envelope,
      });
      expect((await expectTaxiiError(forbidden, 403)).error_code).toBe('RENKEI_FORBIDDEN');
      // 404: a collection, an object, a status, a route that do not exist.
      await expectTaxiiError(await taxii(`/taxii2/renkei/collections/${uuid(1)}/`), 404);
      await expectTaxiiError(
        await taxii(`/taxii2/renkei/collections/${own.id}/objects/indicator--${uuid(2)}/`),
        404,
      );
      await expectTaxiiError(await taxii(`/taxii2/renkei/status/${uuid(3)}/`), 404);
      await expectTaxiiError(await taxii('/taxii2/renkei/no-such-thing/'), 404);
      // 405: a method the route does not have.
      await expectTaxiiError(await taxii('/taxii2/renkei/collections/', { method: 'DELETE' }), 405);
      // 406: an Accept TAXII cannot answer.
      await expectTaxiiError(await taxii('/taxii2/', { headers: { accept: 'text/html' } }), 406);
      // 400: a bad query parameter (the shared validation), a bad next.
      const badQuery = await expectTaxiiError(
        await taxii(`/taxii2/renkei/collections/${own.id}/objects/?added_after=yesterday`),
        400,
      );
      expect(JSON.stringify(badQuery.details)).toContain('added_after');
      await expectTaxiiError(await taxii(`/taxii2/renkei/collections/${own.id}/objects/?next=nope`), 400);
      // 415: an add that is not TAXII JSON.
      const wrongType = await taxii(`/taxii2/renkei/collections/${own.id}/objects/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: envelope,
      });
      await expectTaxiiError(wrongType, 415);
      const plain = await taxii(`/taxii2/renkei/collections/${own.id}/objects/`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: envelope,
      });
      await expectTaxiiError(plain, 415);
      // 400: a body that is not JSON (the shared body parser).
      const broken = await taxii(`/taxii2/renkei/collections/${own.id}/objects/`, {
        method: 'POST',
        headers: { 'content-type': TAXII },
        body: '{"objects": [',
      });
      await expectTaxiiError(broken, 400);
    });

    it('gives status resources with every required field, counts that add up, and pendings', async () => {
      const own = (await collections()).find((c) => c.can_write)!;
      const add = await taxii(`/taxii2/renkei/collections/${own.id}/objects/`, {
        method: 'POST',
        headers: { 'content-type': TAXII },
        body: JSON.stringify({
          objects: [
            {
              type: 'indicator',
              spec_version: '2.1',
              id: `indicator--${uuid(0x901)}`,
              created: '2026-11-20T00:00:00.000Z',
              modified: '2026-11-20T00:00:00.000Z',
              pattern: "[domain-name:value = 'status.example']",
              pattern_type: 'stix',
              valid_from: '2026-11-20T00:00:00.000Z',
              object_marking_refs: [GREEN],
            },
            { type: 'indicator', id: 'not an id' },
          ],
        }),
      });
      expect(add.status).toBe(202);
      expect(add.headers.get('content-type')).toBe(TAXII);
      const status = taxiiStatusSchema.parse(await add.json());
      expect(status).toMatchObject({
        status: 'complete',
        total_count: 2,
        success_count: 1,
        failure_count: 1,
      });
      expect(status.pendings).toEqual([]);
      const again = await taxii(`/taxii2/renkei/status/${status.id}/`);
      expect(taxiiStatusSchema.parse(await again.json())).toEqual(status);
      // A STIX 2.0 add fails every object, naming spec_version.
      const old = await taxii(`/taxii2/renkei/collections/${own.id}/objects/`, {
        method: 'POST',
        headers: { 'content-type': TAXII },
        body: JSON.stringify({
          objects: [{ type: 'indicator', id: `indicator--${uuid(0x902)}`, spec_version: '2.0' }],
        }),
      });
      const refused = taxiiStatusSchema.parse(await old.json());
      expect(refused.failure_count).toBe(1);
      expect(refused.failures![0]!.message).toMatch(/spec_version/);
    });
  });

  it('reads the OASIS example bundle with a malware it indicates, keeping the malware as a label', async () => {
    const file = path.join(
      REPOSITORY_ROOT,
      'packages/stix/test/fixtures/vendor/stix-examples/ctidoc_indicator-for-malicious-url.json',
    );
    const bundle = JSON.parse(await readFile(file, 'utf8')) as StixBundle;
    const answer = await imported('/v1/stix/bundles?tlp=GREEN', tokens.bank, bundle);
    expect(answer.reports[0]!.status).toBe('accepted');
    const malware = bundle.objects.find((o) => o.type === 'malware')!;
    expect(answer.reports[0]!.labels).toContain(`malware:${malware.name as string}`);
  });
});

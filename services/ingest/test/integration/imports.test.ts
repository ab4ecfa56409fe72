import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpApp } from '@renkei/http';
import { createLogger } from '@renkei/runtime';
import type { ImportAnswer, ReportEnvelope } from '@renkei/schema';
import { TLP1_MARKING_IDS, TLP2_MARKING_IDS } from '@renkei/stix';
import {
  readWholeTopic,
  TEST_ORGANISATIONS,
  type ControllableProducer,
  type TestKeys,
} from '@renkei/testing';
import { startInProcessIngest, type InProcessIngest } from '../support/in-process.js';

const HUB_KEY = randomBytes(32);

/** RFC 9562 UUIDv5, as import ids were named before issue 16. */
function uuidv5(name: string, namespace: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replaceAll('-', ''), 'hex'))
    .update(name)
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const times = {
  spec_version: '2.1',
  created: '2026-11-01T00:00:00.000Z',
  modified: '2026-11-01T00:00:00.000Z',
};
const green = { object_marking_refs: [TLP2_MARKING_IDS.GREEN] };
const indicator = (n: number, pattern: string, extra: Record<string, unknown> = {}) => ({
  type: 'indicator',
  id: `indicator--${uuid(n)}`,
  ...times,
  pattern,
  pattern_type: 'stix',
  valid_from: '2026-11-01T00:00:00.000Z',
  ...extra,
});

/** A STIX report container of `refs`. */
const sdoReport = (n: number, refs: string[]) => ({
  type: 'report',
  id: `report--${uuid(n)}`,
  ...times,
  name: `Report ${n}`,
  report_types: ['threat-report'],
  object_refs: refs,
});

/** Every mapped object and every mapped pattern form, in one report container. */
function everyMappedForm() {
  const objects: Record<string, unknown>[] = [
    indicator(1, "[ipv4-addr:value = '198.51.100.7']"),
    indicator(2, "[ipv6-addr:value = '2001:db8::7']"),
    indicator(3, "[domain-name:value = 'c2.evil.example']"),
    indicator(4, "[url:value = 'https://evil.example/login']"),
    indicator(5, "[email-addr:value = 'ceo@evil.example']"),
    indicator(6, `[file:hashes.'SHA-256' = '${'a'.repeat(64)}']`),
    indicator(7, `[file:hashes.MD5 = '${'b'.repeat(32)}']`),
    indicator(8, `[file:hashes.'SHA-1' = '${'c'.repeat(40)}']`),
    indicator(9, "[domain-name:value = 'or-one.example'] OR [ipv4-addr:value = '203.0.113.9']"),
    {
      type: 'observed-data',
      id: `observed-data--${uuid(10)}`,
      ...times,
      first_observed: '2026-10-30T00:00:00.000Z',
      last_observed: '2026-10-30T00:00:00.000Z',
      number_observed: 1,
      object_refs: [`domain-name--${uuid(11)}`],
    },
    { type: 'domain-name', spec_version: '2.1', id: `domain-name--${uuid(11)}`, value: 'observed.example' },
    {
      type: 'sighting',
      id: `sighting--${uuid(12)}`,
      ...times,
      sighting_of_ref: `indicator--${uuid(13)}`,
      first_seen: '2026-10-31T00:00:00.000Z',
    },
    indicator(13, "[domain-name:value = 'sighted.example']"),
    {
      type: 'vulnerability',
      id: `vulnerability--${uuid(14)}`,
      ...times,
      name: 'CVE-2024-3400',
      external_references: [{ source_name: 'cve', external_id: 'CVE-2024-3400' }],
    },
    indicator(15, "[ipv4-addr:value = '198.51.100.0/24']"),
    indicator(16, "[domain-name:value = 'a.example'] AND [domain-name:value = 'b.example']"),
    indicator(17, "[ipv4-addr:value = 'broken"),
  ];
  const report = {
    type: 'report',
    id: `report--${uuid(100)}`,
    ...times,
    name: 'Every mapped form',
    published: '2026-11-01T00:00:00.000Z',
    report_types: ['threat-report'],
    object_refs: objects.map((o) => o.id),
    labels: ['renkei:category=malware', 'renkei:severity=high'],
    ...green,
  };
  return { type: 'bundle', id: `bundle--${uuid(999)}`, objects: [report, ...objects] };
}

/**
 * STIX and MISP imports on the real ingest path: reports go through the same
 * batcher, so a 202 means Kafka holds them, and a retried import adds none.
 */
describe('imports on ingest', () => {
  const logger = createLogger('ingest-imports-test', 'silent');
  let keys: TestKeys;
  let ingest: InProcessIngest;
  let kafka: ControllableProducer;
  let http: HttpApp;
  let reportsTopic: string;
  let reporter: string;
  let otherReporter: string;
  const { mlitCsirt, financeCeptar } = TEST_ORGANISATIONS;

  beforeAll(async () => {
    ingest = await startInProcessIngest({
      organisations: [mlitCsirt, financeCeptar],
      logger,
      clientId: 'imports-test',
      importIdKey: HUB_KEY,
    });
    ({ keys, kafka, http, reportsTopic } = ingest);
    reporter = await keys.token({ org: 'mlit-csirt', sector: 'central-government', roles: ['reporter'] });
    otherReporter = await keys.token({ org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] });
  });

  afterAll(async () => {
    await ingest?.close();
  });

  const post = (url: string, body: unknown, contentType = 'application/json', token = reporter) =>
    http.app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const stix = (body: unknown, contentType = 'application/stix+json;version=2.1', token = reporter) =>
    post('/v1/stix/bundles', body, contentType, token);
  const misp = (body: unknown, token = reporter) => post('/v1/misp/events', body, 'application/json', token);
  const onTopic = async () => readWholeTopic<ReportEnvelope>(reportsTopic);

  it('imports every mapped object and pattern into one report Kafka holds, and says what it left out', async () => {
    const response = await stix(everyMappedForm());
    expect(response.statusCode, response.body).toBe(202);
    const answer = response.json<ImportAnswer>();
    expect(answer.format).toBe('stix-2.1');
    expect(answer.reports).toHaveLength(1);
    const [report] = answer.reports;
    expect(report).toMatchObject({ status: 'accepted', tlp: 'GREEN', source: { type: 'report' } });
    const envelope = (await onTopic()).find((message) => message.id === report!.id)!;
    expect(envelope.organisationId).toBe('mlit-csirt');
    expect(envelope.report.category).toBe('malware');
    expect(envelope.report.severity).toBe('high');
    expect(envelope.report.indicators.map((i) => `${i.type}:${i.value}`).sort()).toEqual(
      [
        'ipv4:198.51.100.7',
        'ipv6:2001:db8::7',
        'domain:c2.evil.example',
        'url:https://evil.example/login',
        'email:ceo@evil.example',
        `sha256:${'a'.repeat(64)}`,
        `md5:${'b'.repeat(32)}`,
        `sha1:${'c'.repeat(40)}`,
        'domain:or-one.example',
        'ipv4:203.0.113.9',
        'domain:observed.example',
        'domain:sighted.example',
        'cve:CVE-2024-3400',
      ].sort(),
    );
    const reasonOf = (n: number) =>
      answer.items.find((item) => item.id === `indicator--${uuid(n)}`)?.reason?.code;
    expect(reasonOf(15)).toBe('unsupported-pattern');
    expect(reasonOf(16)).toBe('unsupported-pattern');
    expect(reasonOf(17)).toBe('pattern-syntax');
    expect(answer.summary.reportsAccepted).toBe(1);
    expect(answer.summary.unmapped).toBe(3);
  });

  it('makes one report per grouping and incident, each with its own TLP, from e-mail and network patterns', async () => {
    const amber = { object_marking_refs: [TLP2_MARKING_IDS.AMBER] };
    const response = await stix({
      type: 'bundle',
      id: `bundle--${uuid(1_500)}`,
      objects: [
        {
          type: 'grouping',
          id: `grouping--${uuid(1_501)}`,
          ...times,
          name: 'A grouping',
          context: 'suspicious-activity',
          object_refs: [`indicator--${uuid(1_502)}`],
          ...green,
        },
        indicator(1_502, "[email-message:from_ref.value = 'billing@phish.example']"),
        {
          type: 'incident',
          id: `incident--${uuid(1_503)}`,
          ...times,
          name: 'An incident',
          ...amber,
        },
        indicator(1_504, "[network-traffic:dst_ref.value = '203.0.113.44']"),
        {
          type: 'relationship',
          id: `relationship--${uuid(1_505)}`,
          ...times,
          relationship_type: 'indicates',
          source_ref: `indicator--${uuid(1_504)}`,
          target_ref: `incident--${uuid(1_503)}`,
          ...amber,
        },
      ],
    });
    expect(response.statusCode, response.body).toBe(202);
    const answer = response.json<ImportAnswer>();
    expect(answer.reports.map((r) => [r.source.type, r.status, r.tlp, r.indicators])).toEqual([
      ['grouping', 'accepted', 'GREEN', 1],
      ['incident', 'accepted', 'AMBER', 1],
    ]);
    const messages = await onTopic();
    const [grouping, incident] = answer.reports.map((r) => messages.find((m) => m.id === r.id)!);
    expect(grouping!.report.indicators).toEqual([
      expect.objectContaining({ type: 'email', value: 'billing@phish.example' }),
    ]);
    expect(incident!.report.indicators).toEqual([
      expect.objectContaining({ type: 'ipv4', value: '203.0.113.44' }),
    ]);
  });

  it('names a TAXII envelope (no bundle id) from its content, so sending it again stores nothing twice', async () => {
    const envelope = { objects: [indicator(1_600, "[domain-name:value = 'envelope.example']", green)] };
    const first = (await stix(envelope)).json<ImportAnswer>();
    const second = (await stix(envelope)).json<ImportAnswer>();
    expect(first.sourceId).toMatch(
      /^bundle--[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(second.reports[0]).toMatchObject({ status: 'already-accepted', id: first.reports[0]!.id });
  });

  it('stores a retried import once, and answers it as already accepted', async () => {
    const bundle = {
      type: 'bundle',
      id: `bundle--${uuid(2_000)}`,
      objects: [indicator(2_001, "[domain-name:value = 'retry.example']", green)],
    };
    const first = (await stix(bundle, 'application/json')).json<ImportAnswer>();
    const second = (await stix(bundle)).json<ImportAnswer>();
    expect(first.reports[0]!.status).toBe('accepted');
    expect(second.reports[0]).toMatchObject({ status: 'already-accepted', id: first.reports[0]!.id });
    expect((await onTopic()).filter((message) => message.id === first.reports[0]!.id)).toHaveLength(1);
    // Another organisation importing the same bundle makes its own report.
    const other = (await stix(bundle, undefined, otherReporter)).json<ImportAnswer>();
    expect(other.reports[0]!.id).not.toBe(first.reports[0]!.id);
  });

  it('reads TLP 1.0 markings, and refuses a bundle with none, naming the field', async () => {
    const tlp1 = await stix({
      type: 'bundle',
      id: `bundle--${uuid(3_000)}`,
      objects: [
        indicator(3_001, "[domain-name:value = 'tlp1.example']", {
          object_marking_refs: [TLP1_MARKING_IDS.AMBER],
        }),
      ],
    });
    expect(tlp1.json<ImportAnswer>().reports[0]).toMatchObject({ status: 'accepted', tlp: 'AMBER' });

    const unmarked = await stix(fixture('stix-examples/ctidoc_indicator-for-malicious-url.json'));
    expect(unmarked.statusCode).toBe(400);
    expect(unmarked.json()).toMatchObject({
      code: 'RENKEI_INVALID_REQUEST',
      fields: [{ field: 'object_marking_refs', message: expect.stringContaining('?tlp=') }],
    });
  });

  it('imports an unmarked bundle with the TLP its sender declares, in the query or a header', async () => {
    const body = fixture('stix-examples/ctidoc_indicator-for-malicious-url.json');
    const declared = await post('/v1/stix/bundles?tlp=GREEN', body, 'application/stix+json;version=2.1');
    expect(declared.statusCode, declared.body).toBe(202);
    const [report] = declared.json<ImportAnswer>().reports;
    expect(report).toMatchObject({ status: 'accepted', tlp: 'GREEN' });
    expect(report!.notes).toContain('TLP GREEN as the sender declared it for what carries no marking');
    const byHeader = await http.app.inject({
      method: 'POST',
      url: '/v1/stix/bundles',
      headers: {
        authorization: `Bearer ${reporter}`,
        'content-type': 'application/json',
        'renkei-declared-tlp': 'GREEN',
      },
      payload: body,
    });
    // The same bundle and TLP again: the same report, answered again.
    expect(byHeader.statusCode, byHeader.body).toBe(202);
    expect(byHeader.json<ImportAnswer>().reports[0]!.id).toBe(report!.id);
    const disagreeing = await http.app.inject({
      method: 'POST',
      url: '/v1/stix/bundles?tlp=AMBER',
      headers: {
        authorization: `Bearer ${reporter}`,
        'content-type': 'application/json',
        'renkei-declared-tlp': 'GREEN',
      },
      payload: body,
    });
    expect(disagreeing.statusCode).toBe(400);
    expect(disagreeing.json()).toMatchObject({ fields: [{ field: 'tlp' }] });
    const invalid = await post('/v1/stix/bundles?tlp=PURPLE', body, 'application/json');
    expect(invalid.statusCode).toBe(400);
  });

  it('imports the OASIS example with a TLP marking, and refuses one with nothing to map as a 422', async () => {
    const marked = await stix(fixture('stix-examples/ctidoc_using-marking-definitions.json'));
    expect(marked.statusCode, marked.body).toBe(202);
    expect(marked.json<ImportAnswer>().reports[0]).toMatchObject({ status: 'accepted', tlp: 'AMBER' });

    const bare = await stix(fixture('stix-examples/schemas_malicious-email-indicator-with-attachment.json'));
    expect(bare.statusCode).toBe(422);
    expect(bare.json().code).toBe('RENKEI_IMPORT_REFUSED');
    expect(bare.json().fields[0].field).toBe('reports[0]');
  });

  it('answers malformed bundles with a 4xx or per-object reasons, never a 500', async () => {
    const broken = await stix('{"type": "bundle", "objects": [');
    expect(broken.statusCode).toBe(400);
    expect(broken.json().code).toBe('RENKEI_INVALID_REQUEST');

    const notBundle = await stix({ hello: 'world' });
    expect(notBundle.statusCode).toBe(400);
    expect(notBundle.json().fields[0].field).toBe('objects');

    const array = await stix([1, 2, 3]);
    expect(array.statusCode).toBe(400);

    const partial = await stix({
      type: 'bundle',
      id: `bundle--${uuid(4_000)}`,
      objects: [
        { id: `indicator--${uuid(4_001)}`, pattern: "[domain-name:value = 'x.example']" },
        { type: 'indicator', pattern: "[domain-name:value = 'y.example']" },
        indicator(4_002, "[domain-name:value = 'unknown-marking.example']", {
          object_marking_refs: [`marking-definition--${uuid(4_999)}`],
        }),
        indicator(4_003, "[file:name = 'evil.exe']", green),
        indicator(4_004, "[domain-name:value = 'kept.example']", green),
        'not an object',
      ],
    });
    expect(partial.statusCode, partial.body).toBe(202);
    const answer = partial.json<ImportAnswer>();
    expect(answer.reports[0]!.status).toBe('accepted');
    expect(answer.items.map((item) => item.reason?.code ?? item.status)).toEqual([
      'invalid-object',
      'invalid-object',
      'unknown-marking',
      'unsupported-pattern',
      'mapped',
      'invalid-object',
    ]);

    const wrongType = await stix(JSON.stringify(everyMappedForm()), 'text/plain');
    expect(wrongType.statusCode).toBe(415);
  });

  // Issue 16: a bundle without a valid id was a 500 (through a TAXII add, a 503 "retry" for ever).
  it.each([
    ['no id', { type: 'bundle' }],
    ['an id that is no bundle id', { type: 'bundle', id: 'bundle--nope' }],
    ['an id of another type', { type: 'bundle', id: `report--${uuid(5_100)}` }],
    ['an id that is a number', { type: 'bundle', id: 42 }],
    ['an id but no type', { id: 'x' }],
  ])('refuses a bundle with %s with a 400 naming id', async (_what, fields) => {
    const response = await stix({
      ...fields,
      objects: [indicator(5_101, "[domain-name:value = 'no-id.example']", green)],
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toMatchObject({ code: 'RENKEI_INVALID_REQUEST', fields: [{ field: 'id' }] });
  });

  // Issue 16: ids were UUIDv5 of the organisation and the bundle's id and version, so another
  // organisation could compute one and learn from a 409 that this one imported the bundle.
  it('names imported reports with ids nobody outside the hub can compute', async () => {
    const bundle = {
      type: 'bundle',
      id: `bundle--${uuid(5_200)}`,
      objects: [indicator(5_201, "[domain-name:value = 'oracle.example']", green)],
    };
    const answer = (await stix(bundle)).json<ImportAnswer>();
    const id = answer.reports[0]!.id!;
    const computable = uuidv5(
      JSON.stringify(['stix', 'mlit-csirt', bundle.id, '']),
      'f0e056a8-f1ff-47cc-b148-2d66a13cc42d',
    );
    expect(id).not.toBe(computable);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Still idempotent within the hub.
    expect((await stix(bundle)).json<ImportAnswer>().reports[0]).toMatchObject({
      status: 'already-accepted',
      id,
    });
  });

  // The report made of this bundle is over the broker's message limit: the import was a 500.
  it('refuses a report too large to store as too-large, never a 500, and imports the others', async () => {
    const quoted = (i: number) => `${'\u300c'.repeat(170)}big-${i}.example${'\u300d'.repeat(170)}`;
    const objects: Record<string, unknown>[] = [
      {
        ...sdoReport(5_300, [...Array.from({ length: 1000 }, (_, i) => `indicator--${uuid(5_400 + i)}`)]),
        ...green,
      },
      { ...sdoReport(5_301, [`indicator--${uuid(5_399)}`]), ...green },
      indicator(5_399, "[domain-name:value = 'small.example']", green),
    ];
    for (let i = 0; i < 1000; i += 1) {
      objects.push(indicator(5_400 + i, `[domain-name:value = '${quoted(i)}']`, green));
    }
    const response = await stix({ type: 'bundle', id: `bundle--${uuid(5_302)}`, objects });
    expect(response.statusCode, response.body.slice(0, 500)).toBe(202);
    const answer = response.json<ImportAnswer>();
    expect(answer.reports.map((r) => [r.status, r.reason?.code])).toEqual([
      ['refused', 'too-large'],
      ['accepted', undefined],
    ]);
  });

  it('handles a bundle of 10,000 objects in one request', async () => {
    const objects: Record<string, unknown>[] = [];
    for (let i = 0; i < 10_000; i++) {
      const octets = `${(i >> 8) & 255}.${i & 255}`;
      objects.push(indicator(10_000 + i, `[ipv4-addr:value = '10.20.${octets}']`, green));
    }
    const response = await stix({ type: 'bundle', id: `bundle--${uuid(5_000)}`, objects });
    expect(response.statusCode, response.body.slice(0, 500)).toBe(202);
    const answer = response.json<ImportAnswer>();
    expect(answer.summary.items).toBe(10_000);
    // One report holds at most 1,000 indicators: the source is split into ten linked reports, none dropped.
    expect(answer.summary.mapped).toBe(10_000);
    expect(answer.reports.map((report) => [report.status, report.part, report.parts])).toEqual(
      Array.from({ length: 10 }, (_, i) => ['accepted', i + 1, 10]),
    );
    expect(new Set(answer.reports.map((report) => report.sourceRef)).size).toBe(1);
    const topic = await onTopic();
    for (const report of answer.reports) {
      const envelope = topic.find((message) => message.id === report.id)!;
      expect(envelope.report.indicators).toHaveLength(1_000);
      expect(envelope.report.source).toMatchObject({ id: report.sourceRef, part: report.part, parts: 10 });
    }
  });

  it('refuses a bundle over the object limit with a 400 naming objects', async () => {
    const objects = Array.from({ length: 20_001 }, (_, i) => ({ type: 'x', id: `x--${uuid(i)}` }));
    const response = await stix({ type: 'bundle', id: `bundle--${uuid(6_000)}`, objects });
    expect(response.statusCode).toBe(400);
    expect(response.json().fields[0].field).toBe('objects');
  });

  it('answers 503 when Kafka does not acknowledge, and the retry stores the reports once', async () => {
    const bundle = {
      type: 'bundle',
      id: `bundle--${uuid(7_000)}`,
      objects: [indicator(7_001, "[domain-name:value = 'outage.example']", green)],
    };
    const brokerDown = Object.assign(new Error('Connection error: connect ECONNREFUSED'), {
      name: 'KafkaJSConnectionError',
      retriable: true,
    });
    kafka.inject({ kind: 'fail', error: brokerDown });
    const failed = await stix(bundle);
    expect(failed.statusCode).toBe(503);
    const retried = await stix(bundle);
    expect(retried.statusCode).toBe(202);
    const id = retried.json<ImportAnswer>().reports[0]!.id;
    expect((await onTopic()).filter((message) => message.id === id)).toHaveLength(1);
  });

  describe('MISP', () => {
    it('imports the CIRCL example event with its tlp:white tag as CLEAR', async () => {
      const response = await misp(fixture('misp/circl_xorist_ransomware_57c4445b.json'));
      expect(response.statusCode, response.body).toBe(202);
      const answer = response.json<ImportAnswer>();
      expect(answer.format).toBe('misp');
      expect(answer.reports[0]).toMatchObject({ status: 'accepted', tlp: 'CLEAR', indicators: 3 });
      expect((await onTopic()).some((message) => message.id === answer.reports[0]!.id)).toBe(true);
      const again = (await misp(fixture('misp/circl_xorist_ransomware_57c4445b.json'))).json<ImportAnswer>();
      expect(again.reports[0]!.status).toBe('already-accepted');
    });

    it('refuses an event without a tlp: tag, naming Event.Tag', async () => {
      const response = await misp(fixture('misp/ursnif_with_sightings.json'));
      expect(response.statusCode).toBe(400);
      expect(response.json().fields).toEqual([{ field: 'Event.Tag', message: expect.any(String) }]);
    });

    it('imports an event without a tlp: tag under the TLP the sender declares with ?tlp=', async () => {
      const response = await post(
        '/v1/misp/events?tlp=GREEN',
        fixture('misp/ursnif_with_sightings.json'),
        'application/json',
        reporter,
      );
      expect(response.statusCode, response.body).toBe(202);
      const [report] = response.json<ImportAnswer>().reports;
      expect(report).toMatchObject({ status: 'accepted', tlp: 'GREEN' });
      expect(report!.notes).toContain('TLP GREEN as the sender declared it: the event has no tlp: tag');
      expect(
        (await post('/v1/misp/events?tlp=PINK', {}, 'application/json', reporter)).json().fields,
      ).toEqual([{ field: 'tlp', message: expect.any(String) }]);
    });

    it('maps composites and lists unmapped attributes with reasons', async () => {
      const response = await misp({
        Event: {
          uuid: uuid(8_000),
          info: 'Composite attributes',
          date: '2026-11-20',
          timestamp: '1795000000',
          threat_level_id: '1',
          Tag: [{ name: 'tlp:amber' }],
          Attribute: [
            { type: 'domain|ip', value: 'mixed.example|198.51.100.20' },
            { type: 'ip-dst|port', value: '198.51.100.21|443' },
            { type: 'filename|sha256', value: `drop.exe|${'d'.repeat(64)}` },
            { type: 'email-src', value: 'sender@evil.example' },
            { type: 'vulnerability', value: 'CVE-2023-4966' },
            { type: 'regkey', value: 'HKLM\\Software\\Evil' },
            { type: 'md5', value: 'abc' },
          ],
        },
      });
      expect(response.statusCode, response.body).toBe(202);
      const answer = response.json<ImportAnswer>();
      expect(answer.reports[0]).toMatchObject({ status: 'accepted', tlp: 'AMBER', indicators: 6 });
      expect(answer.items.map((item) => item.reason?.code ?? item.status)).toEqual([
        'mapped',
        'mapped',
        'mapped',
        'mapped',
        'mapped',
        'unsupported-type',
        'invalid-value',
      ]);
      const envelope = (await onTopic()).find((message) => message.id === answer.reports[0]!.id)!;
      expect(envelope.report.severity).toBe('high');
    });

    // Issue 16: an event without uuid was a 500.
    it.each([
      ['no uuid', {}, 'Event.uuid'],
      ['a uuid that is not one', { uuid: 'event-1' }, 'Event.uuid'],
      ['a uuid that is an object', { uuid: { a: 1 } }, 'Event.uuid'],
      [
        'attributes that are no list',
        { uuid: uuid(8_100), Attribute: { type: 'domain' } },
        'Event.Attribute',
      ],
      ['objects that are no list', { uuid: uuid(8_101), Object: 'file' }, 'Event.Object'],
    ])('answers an event with %s with a 400 naming the field', async (_what, fields, field) => {
      const response = await misp({
        Event: {
          info: 'Malformed',
          date: '2026-11-20',
          Tag: [{ name: 'tlp:green' }],
          Attribute: [{ type: 'domain', value: 'malformed.example' }],
          ...fields,
        },
      });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json()).toMatchObject({ code: 'RENKEI_INVALID_REQUEST', fields: [{ field }] });
    });

    it('answers a body that is not an event with a 400 naming Event', async () => {
      const response = await misp({ event: {} });
      expect(response.statusCode).toBe(400);
      expect(response.json().fields[0].field).toBe('Event');
    });
  });
});

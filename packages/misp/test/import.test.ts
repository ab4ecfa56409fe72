import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_INDICATORS_PER_REPORT, reportSubmissionSchema } from '@renkei/schema';
import {
  MAX_MISP_ATTRIBUTES,
  importMispEvent,
  type MispImportOptions,
  type MispImportResult,
} from '@renkei/misp';

const RECEIVED_AT = '2026-03-01T00:00:00.000Z';
const HUB_KEY = Buffer.alloc(32, 1);
const options: MispImportOptions = { receivedAt: RECEIVED_AT };
const SHA256 = 'b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68';
const SHA1 = '77b0c41b7d340b8a3d903f21347bbf06aa766b5b';
const MD5 = '0749bae92ca336a02c83d126e04ec628';

function vendor(name: string): {
  Event: Record<string, unknown> & { Attribute: Array<Record<string, unknown>> };
} {
  return JSON.parse(readFileSync(new URL(`./fixtures/vendor/${name}`, import.meta.url), 'utf8'));
}

function event(fields: Record<string, unknown>, attributes: unknown[] = [], objects: unknown[] = []) {
  return {
    Event: {
      uuid: '5b646415-7b48-40d5-86b4-c0070acd0835',
      info: 'Phishing wave against ministries',
      date: '2026-02-10',
      threat_level_id: '2',
      timestamp: '1770000000',
      Tag: [{ name: 'tlp:amber' }],
      Attribute: attributes,
      Object: objects,
      ...fields,
    },
  };
}

let uuidCounter = 0;
function attribute(type: string, value: string, extra: Record<string, unknown> = {}) {
  uuidCounter++;
  return {
    uuid: `5b6464ca-0000-4000-8000-${String(uuidCounter).padStart(12, '0')}`,
    type,
    value,
    category: 'Network activity',
    to_ids: true,
    deleted: false,
    disable_correlation: false,
    ...extra,
  };
}

function ok(result: MispImportResult) {
  if (!result.ok) throw new Error(`refused: ${result.error.code}: ${result.error.message}`);
  return result;
}

function ready(result: MispImportResult) {
  const { report } = ok(result);
  if (report.status !== 'ready') throw new Error(`report refused: ${JSON.stringify(report)}`);
  expect(reportSubmissionSchema.safeParse(report.submissions[0]!).success).toBe(true);
  return report.submissions[0]!;
}

function reasons(result: MispImportResult) {
  return ok(result).attributes.map((a) => (a.status === 'mapped' ? 'mapped' : a.reason.code));
}

describe('importMispEvent: the PyMISP samples', () => {
  it('maps the CIRCL Xorist event (tlp:white) to a CLEAR report of its three hashes', () => {
    const result = importMispEvent(JSON.stringify(vendor('circl_xorist_ransomware_57c4445b.json')), options);
    expect(ready(result)).toEqual({
      title: 'Ransomware - Xorist',
      category: 'other',
      // threat_level_id 3 is MISP's "low".
      severity: 'low',
      tlp: 'CLEAR',
      detectedAt: '2016-08-29T00:00:00.000Z',
      indicators: [
        { type: 'md5', value: MD5 },
        { type: 'sha1', value: SHA1 },
        { type: 'sha256', value: SHA256 },
      ],
      exercise: false,
      // The event's tags other than TLP, kept as context.
      labels: [
        'circl:incident-classification="malware"',
        'ms-caro-malware:malware-type="Ransom"',
        'malware_classification:malware-category="Ransomware"',
      ],
    });
    expect(
      ok(result).attributes.map((a) => [a.type, a.status === 'mapped' ? 'mapped' : a.reason.code]),
    ).toEqual([
      ['link', 'unsupported-type'],
      ['link', 'unsupported-type'],
      ['comment', 'unsupported-type'],
      ['text', 'unsupported-type'],
      ['filename', 'unsupported-type'],
      ['md5', 'mapped'],
      ['sha1', 'mapped'],
      ['sha256', 'mapped'],
      ['regkey|value', 'unsupported-type'],
    ]);
  });

  it('refuses the Ursnif event as published: it has no tlp: tag', () => {
    const result = importMispEvent(vendor('ursnif_with_sightings.json'), options);
    expect(ok(result).report).toEqual({
      notes: [],
      status: 'refused',
      reason: { code: 'no-tlp-tag', message: 'the event has no tlp: tag, and Renkei never assumes one' },
    });
    expect(ok(result).attributes[0]).toMatchObject({
      status: 'unmapped',
      reason: { code: 'report-refused' },
      notes: ['sighted once in MISP', 'it would bring: domain ooiasjdnqjwbeasdasd.com'],
    });
  });

  it("imports the Ursnif event with the TLP its sender declares (a partner feed's default), noted", () => {
    const result = importMispEvent(vendor('ursnif_with_sightings.json'), {
      ...options,
      declaredTlp: 'GREEN',
    });
    const { report } = ok(result);
    if (report.status !== 'ready') throw new Error(`refused: ${JSON.stringify(report)}`);
    expect(report.submissions.map((s) => s.tlp)).toEqual(['GREEN']);
    expect(report.notes).toContain('TLP GREEN as the sender declared it: the event has no tlp: tag');
  });

  it('keeps a tag over a declared TLP: the event says what it is', () => {
    const sample = vendor('circl_xorist_ransomware_57c4445b.json');
    const { report } = ok(importMispEvent(sample, { ...options, declaredTlp: 'AMBER' }));
    if (report.status !== 'ready') throw new Error('refused');
    expect(report.submissions.map((s) => s.tlp)).toEqual(['CLEAR']);
    expect(report.notes.join(' ')).not.toContain('declared');
  });

  it('leaves out the Ursnif attributes sighted as false positives once the event is tagged', () => {
    const sample = vendor('ursnif_with_sightings.json');
    sample.Event.Tag = [...(sample.Event.Tag as unknown[]), { name: 'tlp:green' }];
    const result = importMispEvent(sample, options);
    expect(ready(result)).toMatchObject({
      title: 'Ursnif, MALWAREMESSIAGH',
      tlp: 'GREEN',
      severity: 'low',
      detectedAt: '2018-08-01T00:00:00.000Z',
      indicators: [
        { type: 'domain', value: 'ooiasjdnqjwbeasdasd.com' },
        { type: 'url', value: 'http://sistemait.it/softaculous/backup/client.rar' },
      ],
    });
    expect(ok(result).attributes.map((a) => (a.status === 'mapped' ? 'mapped' : a.reason.message))).toEqual([
      'mapped',
      'sighted as a false positive once',
      'sighted as a false positive once',
      // This one also carries an expiration; the false positive decides.
      'sighted as a false positive once',
      'mapped',
    ]);
  });
});

describe('importMispEvent: attribute types', () => {
  it('maps every simple type, with the side of the traffic or mail as the role', () => {
    const result = importMispEvent(
      event({}, [
        attribute('ip-src', '198.51.100.1'),
        attribute('ip-dst', '2001:db8::2'),
        attribute('ip-dst', '198.51.100[.]3'),
        attribute('domain', 'evil.example'),
        attribute('hostname', 'mail.evil.example'),
        attribute('url', 'http://evil.example/a'),
        attribute('email-src', 'phish@evil.example'),
        attribute('email-dst', 'drop@evil.example'),
        attribute('md5', MD5),
        attribute('sha1', SHA1),
        attribute('sha256', SHA256),
        attribute('vulnerability', 'CVE-2024-3400', { to_ids: false }),
      ]),
      options,
    );
    expect(ready(result).indicators).toEqual([
      { type: 'ipv4', value: '198.51.100.1', role: 'source' },
      { type: 'ipv6', value: '2001:db8::2', role: 'destination' },
      { type: 'ipv4', value: '198.51.100[.]3', role: 'destination' },
      { type: 'domain', value: 'evil.example' },
      { type: 'domain', value: 'mail.evil.example' },
      { type: 'url', value: 'http://evil.example/a' },
      { type: 'email', value: 'phish@evil.example', role: 'source' },
      { type: 'email', value: 'drop@evil.example', role: 'destination' },
      { type: 'md5', value: MD5 },
      { type: 'sha1', value: SHA1 },
      { type: 'sha256', value: SHA256 },
      { type: 'cve', value: 'CVE-2024-3400' },
    ]);
  });

  it('maps composite types part by part and notes the parts Renkei has no type for', () => {
    const result = importMispEvent(
      event({}, [
        attribute('domain|ip', 'evil.example|198.51.100.4'),
        attribute('domain|ip', 'evil6.example|2001:db8::4'),
        attribute('ip-dst|port', '198.51.100.5|443'),
        attribute('ip-src|port', '2001:db8::5|8080'),
        attribute('hostname|port', 'c2.evil.example|8443'),
        attribute('filename|md5', 'invoice.exe|' + MD5),
        attribute('filename|sha1', 'invoice.exe|' + SHA1),
        attribute('filename|sha256', 'in|voice.exe|' + SHA256),
      ]),
      options,
    );
    expect(ready(result).indicators).toEqual([
      { type: 'domain', value: 'evil.example' },
      { type: 'ipv4', value: '198.51.100.4' },
      { type: 'domain', value: 'evil6.example' },
      { type: 'ipv6', value: '2001:db8::4' },
      { type: 'ipv4', value: '198.51.100.5', role: 'destination' },
      { type: 'ipv6', value: '2001:db8::5', role: 'source' },
      { type: 'domain', value: 'c2.evil.example' },
      { type: 'md5', value: MD5 },
      { type: 'sha1', value: SHA1 },
      { type: 'sha256', value: SHA256 },
    ]);
    const notes = ok(result).attributes.map((a) => a.notes);
    expect(notes[2]).toEqual(['port "443" not mapped: Renkei has no such indicator']);
    expect(notes[7]).toEqual(['file name "in|voice.exe" not mapped: Renkei has no such indicator']);
  });

  it('maps the attributes inside objects and says which object each came from', () => {
    const result = importMispEvent(
      event(
        {},
        [],
        [
          {
            name: 'file',
            uuid: '6b646415-7b48-40d5-86b4-c0070acd0835',
            Attribute: [
              attribute('filename', 'dropper.exe', { object_relation: 'filename' }),
              attribute('sha256', SHA256, { object_relation: 'sha256' }),
            ],
          },
          {
            name: 'domain-ip',
            Attribute: [attribute('domain', 'evil.example'), attribute('ip-dst', '198.51.100.6')],
          },
          { name: 'deleted-object', deleted: true, Attribute: [attribute('domain', 'gone.example')] },
          'not an object',
        ],
      ),
      options,
    );
    expect(ready(result).indicators).toEqual([
      { type: 'sha256', value: SHA256 },
      { type: 'domain', value: 'evil.example' },
      { type: 'ipv4', value: '198.51.100.6', role: 'destination' },
    ]);
    expect(ok(result).attributes.map((a) => [a.position, a.object, a.status])).toEqual([
      ['Object[0].Attribute[0]', 'file', 'unmapped'],
      ['Object[0].Attribute[1]', 'file', 'mapped'],
      ['Object[1].Attribute[0]', 'domain-ip', 'mapped'],
      ['Object[1].Attribute[1]', 'domain-ip', 'mapped'],
      ['Object[2].Attribute[0]', 'deleted-object', 'unmapped'],
    ]);
  });

  it('gives a reason for every attribute it cannot map', () => {
    const result = importMispEvent(
      event({}, [
        'a string',
        { value: 'x' },
        { type: 'domain' },
        attribute('regkey', 'HKLM\\Run'),
        // Names of Object.prototype, which a plain lookup table would answer with a function.
        attribute('toString', 'x'),
        attribute('constructor', 'x'),
        attribute('ip-dst', 'evil.example'),
        attribute('ip-dst', '198.51.100.0/24'),
        attribute('domain|ip', 'evil.example'),
        attribute('md5', 'not-a-hash'),
        attribute('vulnerability', 'Log4Shell'),
        attribute('domain', 'deleted.example', { deleted: true }),
        attribute('domain', 'quiet.example', { disable_correlation: true }),
        attribute('domain', 'secret.example', { Tag: [{ name: 'tlp:ex:chr' }] }),
      ]),
      options,
    );
    expect(
      ok(result).attributes.map((a) =>
        a.status === 'mapped' ? 'mapped' : [a.reason.code, a.reason.message],
      ),
    ).toEqual([
      ['invalid-attribute', 'not a JSON object'],
      ['invalid-attribute', 'no type'],
      ['invalid-attribute', 'no value (a string)'],
      ['unsupported-type', 'MISP type regkey has no Renkei indicator type'],
      ['unsupported-type', 'MISP type toString has no Renkei indicator type'],
      ['unsupported-type', 'MISP type constructor has no Renkei indicator type'],
      ['invalid-value', '"evil.example" is not an IPv4 or IPv6 address'],
      ['invalid-value', '"198.51.100.0/24" is not an IPv4 or IPv6 address'],
      ['invalid-value', 'a domain|ip value is two values joined by "|"'],
      ['invalid-value', '"not-a-hash" is not a valid md5: is not a md5 (32 hexadecimal digits)'],
      ['invalid-value', '"Log4Shell" is not a valid cve: is not a CVE id (CVE-YYYY-NNNN…)'],
      ['deleted', 'deleted in MISP'],
      ['correlation-disabled', 'correlation is disabled for it in MISP'],
      ['unknown-tlp-tag', 'tlp:ex:chr is not a TLP level Renkei can honour'],
    ]);
    // Nothing mapped, but the event is still an incident report.
    expect(ready(result).indicators).toEqual([]);
  });

  it('maps nothing from an event whose correlation is disabled', () => {
    const result = importMispEvent(
      event({ disable_correlation: true }, [attribute('domain', 'a.example')]),
      options,
    );
    expect(reasons(result)).toEqual(['correlation-disabled']);
  });

  it('gives each observable once, keeping the first role', () => {
    const result = importMispEvent(
      event({}, [attribute('ip-src', '198.51.100.1'), attribute('ip-dst', '198.51.100.1')]),
      options,
    );
    expect(ready(result).indicators).toEqual([{ type: 'ipv4', value: '198.51.100.1', role: 'source' }]);
    expect(reasons(result)).toEqual(['mapped', 'mapped']);
  });
});

describe('importMispEvent: TLP', () => {
  it.each([
    ['tlp:white', 'CLEAR'],
    ['tlp:clear', 'CLEAR'],
    ['TLP:GREEN', 'GREEN'],
    ['tlp:amber', 'AMBER'],
    ['tlp:amber+strict', 'AMBER+STRICT'],
    ['tlp:red', 'RED'],
  ])('reads %s as %s', (tag, tlp) => {
    expect(ready(importMispEvent(event({ Tag: [{ name: tag }] }), options)).tlp).toBe(tlp);
  });

  it('takes the most restrictive of several tags, in either shape MISP writes them', () => {
    const result = importMispEvent(
      event({ Tag: [{ name: 'tlp:green' }], EventTag: [{ Tag: { name: 'tlp:amber+strict' } }] }),
      options,
    );
    expect(ready(result).tlp).toBe('AMBER+STRICT');
  });

  it('raises the report to the TLP of an attribute tagged more restrictively, and says which', () => {
    const result = importMispEvent(
      event({ Tag: [{ name: 'tlp:green' }] }, [
        attribute('domain', 'a.example', { Tag: [{ name: 'tlp:clear' }] }),
        attribute('domain', 'b.example', { AttributeTag: [{ Tag: { name: 'tlp:red' } }] }),
      ]),
      options,
    );
    expect(ready(result).tlp).toBe('RED');
    expect(ok(result).report.notes).toEqual(['TLP raised from GREEN to RED: Attribute[1] is tagged tlp:red']);
  });

  it.each([
    [[], 'no-tlp-tag'],
    [[{ name: 'misp-galaxy:banker="Gozi"' }], 'no-tlp-tag'],
    [[{ name: 'tlp:unclear' }], 'unknown-tlp-tag'],
    [[{ name: 'tlp:green' }, { name: 'tlp:ex:chr' }], 'unknown-tlp-tag'],
  ])('refuses an event tagged %j (%s), never assuming a TLP', (tags, code) => {
    const result = importMispEvent(event({ Tag: tags }, [attribute('domain', 'a.example')]), options);
    expect(ok(result).report).toMatchObject({ status: 'refused', reason: { code } });
    expect(ok(result).attributes[0]).toMatchObject({
      status: 'unmapped',
      reason: { code: 'report-refused' },
      notes: ['it would bring: domain a.example'],
    });
  });
});

describe('importMispEvent: sightings', () => {
  const sighting = (type: string, dateSighting: string) => ({
    type,
    date_sighting: dateSighting,
    source: '',
  });
  const before = String(Date.parse('2026-02-01T00:00:00Z') / 1000);
  const after = String(Date.parse('2026-04-01T00:00:00Z') / 1000);

  it('leaves out an attribute sighted as a false positive, whatever else was sighted', () => {
    const result = importMispEvent(
      event({}, [
        attribute('domain', 'a.example', {
          Sighting: [sighting('0', before), sighting('1', before), sighting('1', after)],
        }),
      ]),
      options,
    );
    expect(ok(result).attributes[0]).toMatchObject({
      reason: { code: 'false-positive', message: 'sighted as a false positive 2 times' },
    });
  });

  it('leaves out an attribute that expired before the hub received the event, and notes a later expiry', () => {
    const result = importMispEvent(
      event({}, [
        attribute('domain', 'old.example', { Sighting: [sighting('2', before)] }),
        attribute('domain', 'live.example', {
          Sighting: [sighting('2', after), sighting('0', before), sighting('0', before)],
        }),
      ]),
      options,
    );
    expect(ok(result).attributes[0]).toMatchObject({
      reason: { code: 'expired', message: 'expired on 2026-02-01T00:00:00.000Z' },
    });
    expect(ok(result).attributes[1]).toMatchObject({
      status: 'mapped',
      notes: ['expires on 2026-04-01T00:00:00.000Z', 'sighted 2 times in MISP'],
    });
    expect(ready(result).indicators).toEqual([{ type: 'domain', value: 'live.example' }]);
  });

  // Found by the fuzz test (seed -833899788): String() of an object runs its toString, which can throw.
  it('takes a sighting type or threat level that is neither text nor a number as no value, never a throw', () => {
    const hostile = { toString: 1e308 };
    const result = importMispEvent(
      event({ threat_level_id: 'toString' }, [
        attribute('domain', 'odd.example', { Sighting: [{ type: hostile, date_sighting: before }] }),
      ]),
      options,
    );
    expect(ok(result).attributes[0]).toMatchObject({ status: 'mapped' });
    expect(ready(result).severity).toBe('medium');
    expect(() =>
      importMispEvent(event({ threat_level_id: hostile }, [attribute('domain', 'b.example')]), options),
    ).not.toThrow();
  });
});

describe('importMispEvent: the event', () => {
  it.each([
    ['1', undefined, 'high'],
    ['2', undefined, 'medium'],
    [3, undefined, 'low'],
    ['4', 'critical', 'critical'],
    [undefined, undefined, 'medium'],
  ] as const)('reads threat level %j (fallback %s) as %s', (level, fallback, severity) => {
    const result = importMispEvent(event({ threat_level_id: level }), {
      ...options,
      ...(fallback ? { severity: fallback } : {}),
    });
    expect(ready(result).severity).toBe(severity);
  });

  it('dates the report by the event date, else its timestamp, else the receipt', () => {
    expect(ready(importMispEvent(event({}), options)).detectedAt).toBe('2026-02-10T00:00:00.000Z');
    expect(ready(importMispEvent(event({ date: 'soon' }), options)).detectedAt).toBe(
      new Date(1_770_000_000_000).toISOString(),
    );
    expect(ready(importMispEvent(event({ date: undefined, timestamp: undefined }), options)).detectedAt).toBe(
      RECEIVED_AT,
    );
  });

  it('takes the category from the caller and the exercise flag from the caller or an exercise tag', () => {
    expect(ready(importMispEvent(event({}), { ...options, category: 'phishing' }))).toMatchObject({
      category: 'phishing',
      exercise: false,
    });
    expect(ready(importMispEvent(event({}), { ...options, exercise: true })).exercise).toBe(true);
    const tagged = event({ Tag: [{ name: 'tlp:green' }, { name: 'exercise:cyber-europe="2026"' }] });
    expect(ready(importMispEvent(tagged, options)).exercise).toBe(true);
  });

  it('makes the title storable and short enough, and names an event without one', () => {
    const long = ready(importMispEvent(event({ info: `x\u0000${'y'.repeat(300)}` }), options));
    expect(long.title).toHaveLength(200);
    expect(long.title.startsWith('x\uFFFDy')).toBe(true);
    expect(ready(importMispEvent(event({ info: '  ' }), options)).title).toBe(
      'MISP event 5b646415-7b48-40d5-86b4-c0070acd0835',
    );
  });

  it('refuses, and says why, a report that would not pass the report schema', () => {
    const result = importMispEvent(
      event({ date: undefined, timestamp: undefined }, [attribute('domain', 'a.example')]),
      {
        receivedAt: 'not a time',
      },
    );
    expect(ok(result).report).toMatchObject({
      status: 'refused',
      reason: { code: 'invalid-report', message: expect.stringContaining('detectedAt') },
    });
    expect(reasons(result)).toEqual(['report-refused']);
  });

  it('gives report ids derived under the hub key when asked, the same for the same event', () => {
    const ids = { key: HUB_KEY, scope: 'finance-ceptar' };
    const first = ready(importMispEvent(event({}), { ...options, ids })).id;
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ready(importMispEvent(event({}), { ...options, ids })).id).toBe(first);
    expect(ready(importMispEvent(event({ timestamp: '1770000001' }), { ...options, ids })).id).not.toBe(
      first,
    );
    // Not computable without the key: another hub (another secret) derives another id.
    const otherHub = { key: Buffer.alloc(32, 7), scope: 'finance-ceptar' };
    expect(ready(importMispEvent(event({}), { ...options, ids: otherHub })).id).not.toBe(first);
    expect(ready(importMispEvent(event({}), options)).id).toBeUndefined();
  });

  it(`splits an event of more than ${MAX_INDICATORS_PER_REPORT} indicators into linked parts, dropping none`, () => {
    const attributes = Array.from({ length: MAX_INDICATORS_PER_REPORT + 5 }, (_, i) =>
      attribute('domain', `d${i}.example`),
    );
    const result = importMispEvent(event({}, attributes), {
      ...options,
      ids: { key: Buffer.alloc(32, 7), scope: 'org' },
    });
    const report = ok(result).report;
    if (report.status !== 'ready') throw new Error('the event is one ready source');
    expect(report.submissions.map((s) => s.indicators.length)).toEqual([MAX_INDICATORS_PER_REPORT, 5]);
    expect(report.submissions.map((s) => s.source?.part)).toEqual([1, 2]);
    expect(new Set(report.submissions.map((s) => s.source?.id)).size).toBe(1);
    expect(new Set(report.submissions.map((s) => s.id)).size).toBe(2);
    expect(report.submissions[1]!.title).toMatch(/\(part 2 of 2\)$/);
    expect(reasons(result).every((code) => code === 'mapped')).toBe(true);
  });
});

describe('importMispEvent: input that is not an event', () => {
  it('maps a bare event (without the {"Event": …} wrapper) as the wrapped one', () => {
    const wrapped = event({}, [attribute('domain', 'bare.example'), attribute('ip-dst', '198.51.100.9')]);
    expect(importMispEvent(wrapped.Event, options)).toEqual(importMispEvent(wrapped, options));
    expect(ready(importMispEvent(wrapped.Event, options)).indicators).toHaveLength(2);
  });

  it('reads a url without a scheme as http, and says so', () => {
    const result = ok(
      importMispEvent(
        event({}, [attribute('url', 'www.whitewall.top/wp-includes/x.php'), attribute('url', 'not a url')]),
        options,
      ),
    );
    expect(result.attributes[0]).toMatchObject({
      status: 'mapped',
      indicators: [{ type: 'url', value: 'http://www.whitewall.top/wp-includes/x.php' }],
      notes: ['no scheme: read as http://www.whitewall.top/wp-includes/x.php'],
    });
    expect(result.attributes[1]).toMatchObject({ status: 'unmapped', reason: { code: 'invalid-value' } });
  });

  it.each([
    ['broken JSON text', '{"Event": {', 'invalid-json'],
    ['an array', [], 'not-an-event'],
    // Taken as an event once bare, it still needs what every event has.
    ['a bare event without a uuid', { info: 'x', Attribute: [] }, 'invalid-event'],
    ['an object that is no event at all', { name: 'x' }, 'not-an-event'],
    ['a search response', { response: [{ Event: {} }] }, 'not-an-event'],
    ['an Event that is not an object', { Event: 'x' }, 'not-an-event'],
  ])('refuses %s as a whole (%s)', (_, input, code) => {
    expect(importMispEvent(input, options)).toMatchObject({ ok: false, error: { code } });
  });

  it(`refuses more than ${MAX_MISP_ATTRIBUTES} attributes, naming the limit`, () => {
    const attributes = Array.from({ length: MAX_MISP_ATTRIBUTES + 1 }, () => ({
      type: 'domain',
      value: 'a.example',
    }));
    const result = importMispEvent(event({}, attributes), options);
    expect(result).toMatchObject({ ok: false, error: { code: 'too-many-attributes' } });
    if (!result.ok) expect(result.error.message).toContain(String(MAX_MISP_ATTRIBUTES));
  });
});

import { v5 as uuidv5 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { MAX_INDICATORS_PER_REPORT, TLP_LEVELS, reportSubmissionSchema, type Tlp } from '@renkei/schema';
import {
  MAX_BUNDLE_OBJECTS,
  MAX_DESCRIPTION_LENGTH,
  MAX_TITLE_LENGTH,
  TLP1_MARKING_IDS,
  TLP2_MARKING_IDS,
  importStixBundle,
  importedReportId,
  tlpMarkingDefinition,
  type StixImportOptions,
} from '@renkei/stix';
import { RECEIVED_AT, bundle, indicator, marking, ok, outcome, ready, sco, sdo, uuid } from './support.js';

const options: StixImportOptions = { receivedAt: RECEIVED_AT };
const HUB_KEY = Buffer.alloc(32, 1);
const importBundle = (input: unknown, extra: Partial<StixImportOptions> = {}) =>
  importStixBundle(input, { ...options, ...extra });

const SHA256 = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c';
const MD5 = '0749bae92ca336a02c83d126e04ec628';
const SHA1 = '77b0c41b7d340b8a3d903f21347bbf06aa766b5b';

describe('importStixBundle: input that is not a bundle', () => {
  it.each([
    ['broken JSON text', '{"type": "bundle", "objects": [', 'invalid-json'],
    ['JSON text of an array', '[]', 'not-a-bundle'],
    ['null', null, 'not-a-bundle'],
    ['a number', 42, 'not-a-bundle'],
    ['another type', { type: 'report', id: `report--${uuid(1)}`, objects: [] }, 'not-a-bundle'],
    ['no objects', { type: 'bundle', id: `bundle--${uuid(1)}` }, 'not-a-bundle'],
    [
      'objects that are not a list',
      { type: 'bundle', id: `bundle--${uuid(1)}`, objects: {} },
      'not-a-bundle',
    ],
  ])('%s is refused as a whole (%s)', (_, input, code) => {
    const result = importBundle(input);
    expect(result).toMatchObject({ ok: false, error: { code } });
    if (!result.ok) expect(result.error.message.length).toBeGreaterThan(5);
  });

  it(`refuses more than ${MAX_BUNDLE_OBJECTS} objects at once, naming the limit`, { timeout: 60_000 }, () => {
    const objects = Array.from({ length: MAX_BUNDLE_OBJECTS + 1 }, (_, i) =>
      sco('ipv4-addr', i, { value: '10.0.0.1' }),
    );
    const result = importBundle(bundle(...objects));
    expect(result).toMatchObject({ ok: false, error: { code: 'too-many-objects' } });
    if (!result.ok) expect(result.error.message).toContain(String(MAX_BUNDLE_OBJECTS));
  });

  it('reads JSON text and parsed JSON alike', () => {
    const input = bundle(indicator(1, "[domain-name:value = 'evil.example']", marking('GREEN')));
    expect(importBundle(JSON.stringify(input))).toEqual(importBundle(input));
  });

  it('reads a TAXII envelope, which has no type and no id', () => {
    const result = importBundle({
      objects: [indicator(1, "[domain-name:value = 'evil.example']", marking('GREEN'))],
    });
    expect(ok(result).bundleId).toBeNull();
    expect(ok(result).reports[0]!.source).toEqual({ type: 'bundle', id: null });
    expect(ready(result).title).toBe('STIX objects: 1 without a report');
  });

  it('answers an empty bundle with a refused report, not an error', () => {
    const result = importBundle(bundle());
    expect(ok(result).reports).toEqual([
      {
        source: { type: 'bundle', id: `bundle--${uuid(999_999)}` },
        objectIds: [],
        notes: [],
        status: 'refused',
        reason: { code: 'no-indicator', message: 'the bundle holds nothing Renkei maps to an indicator' },
      },
    ]);
  });
});

describe('importStixBundle: objects that are not STIX objects', () => {
  const good = indicator(1, "[domain-name:value = 'evil.example']", marking('GREEN'));
  const input = bundle(
    good,
    'a string',
    null,
    { id: `indicator--${uuid(2)}`, pattern: "[domain-name:value = 'x.example']" },
    { type: 'indicator', pattern: "[domain-name:value = 'x.example']" },
    { type: 'indicator', id: `malware--${uuid(3)}` },
    { type: 'indicator', id: 'indicator--not-a-uuid' },
    { type: 'Not A Type', id: `x--${uuid(4)}` },
  );

  it('gives each a reason and still maps the rest', () => {
    const result = importBundle(input);
    expect(ready(result).indicators).toEqual([{ type: 'domain', value: 'evil.example' }]);
    const reasons = ok(result)
      .objects.slice(1)
      .map((object) =>
        object.status === 'unmapped' ? [object.reason.code, object.reason.message] : object.status,
      );
    expect(reasons).toEqual([
      ['invalid-object', 'not a JSON object'],
      ['invalid-object', 'not a JSON object'],
      ['invalid-object', 'no type'],
      ['invalid-object', 'no id'],
      ['invalid-object', `id "malware--${uuid(3)}" is not "indicator--" followed by a UUID`],
      ['invalid-object', 'id "indicator--not-a-uuid" is not "indicator--" followed by a UUID'],
      ['invalid-object', 'type "Not A Type" is not a STIX type name'],
    ]);
    expect(outcome(result, 3)).toMatchObject({ id: `indicator--${uuid(2)}`, type: null });
  });

  it('keeps the latest version of an object, whatever the order, and says so of the others', () => {
    const older = indicator(5, "[domain-name:value = 'old.example']", {
      ...marking('GREEN'),
      modified: '2025-01-01T00:00:00.000Z',
    });
    const newer = {
      ...older,
      pattern: "[domain-name:value = 'new.example']",
      modified: '2025-02-01T00:00:00.000Z',
    };
    for (const objects of [
      [older, newer],
      [newer, older],
    ]) {
      const result = importBundle(bundle(...objects));
      expect(ready(result).indicators).toEqual([{ type: 'domain', value: 'new.example' }]);
      const olderAt = objects.indexOf(older);
      expect(outcome(result, olderAt)).toMatchObject({
        status: 'unmapped',
        reason: {
          code: 'superseded',
          message: `object ${1 - olderAt} has the same id and is a later version`,
        },
      });
    }
  });

  it('keeps the last of identical repeats', () => {
    const one = indicator(6, "[domain-name:value = 'a.example']", marking('GREEN'));
    const result = importBundle(bundle(one, one));
    expect(outcome(result, 0)).toMatchObject({
      reason: { code: 'superseded', message: 'object 1 has the same id and is repeated after it' },
    });
    expect(outcome(result, 1)).toMatchObject({ status: 'mapped' });
  });
});

describe('importStixBundle: indicators', () => {
  const patterns: Array<[string, string, string]> = [
    ["[ipv4-addr:value = '198.51.100.7']", 'ipv4', '198.51.100.7'],
    ["[ipv6-addr:value = '2001:db8::7']", 'ipv6', '2001:db8::7'],
    ["[domain-name:value = 'evil.example']", 'domain', 'evil.example'],
    ["[url:value = 'http://evil.example/a']", 'url', 'http://evil.example/a'],
    ["[email-addr:value = 'phish@evil.example']", 'email', 'phish@evil.example'],
    [`[file:hashes.'SHA-256' = '${SHA256}']`, 'sha256', SHA256],
    [`[file:hashes.MD5 = '${MD5}']`, 'md5', MD5],
    [`[file:hashes.'SHA-1' = '${SHA1}']`, 'sha1', SHA1],
  ];

  it('maps every simple pattern into one report for a bundle without containers', () => {
    const result = importBundle(
      bundle(...patterns.map(([pattern], i) => indicator(i, pattern, marking('GREEN')))),
    );
    const submission = ready(result);
    expect(submission.indicators).toEqual(patterns.map(([, type, value]) => ({ type, value })));
    expect(reportSubmissionSchema.safeParse(submission).success).toBe(true);
    expect(ok(result).objects.map((object) => object.status)).toEqual(patterns.map(() => 'mapped'));
    expect(outcome(result, 5)).toMatchObject({
      reports: [0],
      indicators: [{ type: 'sha256', value: SHA256 }],
    });
    expect(ok(result).reports[0]!.objectIds).toEqual(patterns.map((_, i) => `indicator--${uuid(i)}`));
  });

  it('maps several comparisons joined by OR from one indicator', () => {
    const result = importBundle(
      bundle(
        indicator(
          1,
          "[ipv4-addr:value = '198.51.100.1' OR ipv6-addr:value = '2001:db8::1' OR url:value = 'http://a.example/']",
          marking('AMBER'),
        ),
      ),
    );
    expect(ready(result).indicators).toEqual([
      { type: 'ipv4', value: '198.51.100.1' },
      { type: 'ipv6', value: '2001:db8::1' },
      { type: 'url', value: 'http://a.example/' },
    ]);
  });

  it('lists an unsupported pattern as unsupported and maps nothing from it', () => {
    const result = importBundle(
      bundle(
        indicator(
          1,
          "[ipv4-addr:value = '198.51.100.1'] FOLLOWEDBY [domain-name:value = 'a.example']",
          marking('GREEN'),
        ),
        indicator(2, "[ipv4-addr:value = '198.51.100.1'", marking('GREEN')),
        indicator(3, 'alert tcp any any -> any 80', { ...marking('GREEN'), pattern_type: 'snort' }),
        indicator(4, "[domain-name:value = 'kept.example']", marking('GREEN')),
      ),
    );
    expect(ready(result).indicators).toEqual([{ type: 'domain', value: 'kept.example' }]);
    expect(outcome(result, 0)).toMatchObject({
      status: 'unmapped',
      reason: { code: 'unsupported-pattern', message: 'FOLLOWEDBY (observations in sequence) is not mapped' },
    });
    expect(outcome(result, 1)).toMatchObject({ status: 'unmapped', reason: { code: 'pattern-syntax' } });
    expect(outcome(result, 2)).toMatchObject({
      status: 'unmapped',
      reason: { code: 'unsupported-pattern', message: 'pattern_type "snort" is not STIX patterning' },
    });
  });

  it('reads STIX 2.0 indicators, which have no pattern_type', () => {
    const old = indicator(1, "[domain-name:value = 'evil.example']", marking('GREEN'));
    delete (old as Record<string, unknown>).pattern_type;
    expect(ready(importBundle(bundle(old))).indicators).toEqual([{ type: 'domain', value: 'evil.example' }]);
  });

  it('maps nothing from a revoked indicator, nor from one without a pattern', () => {
    const result = importBundle(
      bundle(
        indicator(1, "[domain-name:value = 'a.example']", { ...marking('GREEN'), revoked: true }),
        indicator(2, "[domain-name:value = 'b.example']", { ...marking('GREEN'), pattern: 7 }),
      ),
    );
    expect(outcome(result, 0)).toMatchObject({ reason: { code: 'revoked' } });
    expect(outcome(result, 1)).toMatchObject({
      reason: { code: 'invalid-object', message: 'an indicator needs a pattern (a string)' },
    });
    expect(ok(result).reports[0]).toMatchObject({ status: 'refused', reason: { code: 'no-indicator' } });
  });

  it('carries the mapping notes of a partly mapped pattern', () => {
    const result = importBundle(
      bundle(indicator(1, "[domain-name:value = 'a.example' OR mutex:name = 'm']", marking('GREEN'))),
    );
    expect(outcome(result, 0)).toMatchObject({
      status: 'mapped',
      notes: ['alternative not mapped: mutex:name has no Renkei indicator type'],
    });
  });
});

describe('importStixBundle: observed data, sightings, vulnerabilities, observables', () => {
  it('maps the observables of an observed-data objects dictionary, recipients and unmapped types aside', () => {
    const observed = sdo('observed-data', 1, {
      ...marking('AMBER'),
      first_observed: '2025-05-01T10:00:00Z',
      last_observed: '2025-05-01T11:00:00Z',
      number_observed: 1,
      objects: {
        '0': { type: 'ipv4-addr', value: '198.51.100.1' },
        '1': { type: 'ipv6-addr', value: '2001:db8::1' },
        '2': { type: 'domain-name', value: 'evil.example' },
        '3': { type: 'url', value: 'http://evil.example/x' },
        '4': { type: 'email-addr', value: 'phish@evil.example' },
        '5': { type: 'email-addr', value: 'victim@agency.example' },
        '6': { type: 'email-message', is_multipart: false, from_ref: '4', to_refs: ['5'] },
        '7': { type: 'file', name: 'a.exe', hashes: { MD5: MD5, 'SHA-256': SHA256, 'SHA-512': 'ab' } },
        '8': { type: 'mutex', name: 'Global\\m' },
        '9': 'not an object',
      },
    });
    const result = importBundle(bundle(observed));
    const submission = ready(result);
    expect(submission.indicators).toEqual([
      { type: 'ipv4', value: '198.51.100.1' },
      { type: 'ipv6', value: '2001:db8::1' },
      { type: 'domain', value: 'evil.example' },
      { type: 'url', value: 'http://evil.example/x' },
      { type: 'email', value: 'phish@evil.example' },
      { type: 'md5', value: MD5 },
      { type: 'sha256', value: SHA256 },
    ]);
    expect(submission.tlp).toBe('AMBER');
    expect(submission.detectedAt).toBe('2025-05-01T10:00:00.000Z');
    expect(outcome(result, 0)).toMatchObject({
      status: 'mapped',
      notes: [
        'objects.5: a recipient address is not an indicator',
        'objects.6: email-message objects are not indicators themselves; the addresses they refer to map from their own objects',
        'objects.7: hash SHA-512 not mapped: Renkei has no indicator type for it',
        'objects.7: file name "a.exe" not mapped: Renkei has no file-name indicator',
        'objects.8: mutex objects carry no indicator Renkei maps',
        'objects.9 is not an observable with a type',
      ],
    });
  });

  it('maps observables an observed-data refers to, each taking the stricter TLP of the two', () => {
    const objects = [
      sdo('observed-data', 1, {
        ...marking('GREEN'),
        first_observed: '2025-05-01T10:00:00Z',
        last_observed: '2025-05-01T10:00:00Z',
        number_observed: 1,
        object_refs: [`ipv4-addr--${uuid(2)}`, `domain-name--${uuid(3)}`, `ipv4-addr--${uuid(4)}`],
      }),
      sco('ipv4-addr', 2, { value: '198.51.100.2' }),
      sco('domain-name', 3, { value: 'evil.example', ...marking('RED') }),
    ];
    const result = importBundle(bundle(...objects));
    const submission = ready(result);
    expect(submission.indicators).toEqual([
      { type: 'ipv4', value: '198.51.100.2' },
      { type: 'domain', value: 'evil.example' },
    ]);
    expect(submission.tlp).toBe('RED');
    expect(outcome(result, 0)).toMatchObject({ notes: [`ipv4-addr--${uuid(4)} is not in the bundle`] });
    // The unmarked address is covered by the observed-data's marking.
    expect(outcome(result, 1)).toMatchObject({ status: 'mapped', reports: [0] });
  });

  it('maps a sighting through what it sighted, dated by its first_seen', () => {
    const objects = [
      indicator(1, "[url:value = 'http://paypa1.example']"),
      sdo('sighting', 2, {
        ...marking('AMBER+STRICT'),
        first_seen: '2025-06-01T09:00:00Z',
        last_seen: '2025-06-01T09:30:00Z',
        count: 3,
        sighting_of_ref: `indicator--${uuid(1)}`,
        observed_data_refs: [`observed-data--${uuid(3)}`],
        where_sighted_refs: [`identity--${uuid(9)}`],
      }),
      sdo('observed-data', 3, {
        first_observed: '2025-06-01T08:00:00Z',
        last_observed: '2025-06-01T08:00:00Z',
        number_observed: 1,
        objects: { '0': { type: 'ipv4-addr', value: '198.51.100.3' } },
      }),
    ];
    const result = importBundle(bundle(...objects));
    const submission = ready(result);
    expect(submission.indicators).toEqual([
      { type: 'url', value: 'http://paypa1.example' },
      { type: 'ipv4', value: '198.51.100.3' },
    ]);
    expect(submission.tlp).toBe('AMBER+STRICT');
    expect(submission.detectedAt).toBe('2025-06-01T08:00:00.000Z');
    // The indicator itself is unmarked but the sighting that names it is marked.
    expect(outcome(result, 0)).toMatchObject({ status: 'mapped' });
    expect(outcome(result, 1)).toMatchObject({ status: 'mapped', indicators: submission.indicators });
  });

  it('says why a sighting of something unmapped brings nothing', () => {
    const result = importBundle(
      bundle(
        sdo('malware', 1, { name: 'x', is_family: false }),
        sdo('sighting', 2, { ...marking('GREEN'), sighting_of_ref: `malware--${uuid(1)}` }),
        sdo('sighting', 3, { ...marking('GREEN'), sighting_of_ref: `indicator--${uuid(7)}` }),
        sdo('sighting', 4, { ...marking('GREEN') }),
      ),
    );
    expect(outcome(result, 1)).toMatchObject({
      reason: { code: 'no-indicator' },
      notes: [`malware--${uuid(1)}: malware is not mapped`],
    });
    expect(outcome(result, 2)).toMatchObject({ notes: [`indicator--${uuid(7)} is not in the bundle`] });
    expect(outcome(result, 3)).toMatchObject({
      reason: { code: 'invalid-object', message: 'a sighting needs sighting_of_ref' },
    });
  });

  it('maps a vulnerability by its CVE external reference or its CVE name', () => {
    const result = importBundle(
      bundle(
        sdo('vulnerability', 1, {
          ...marking('CLEAR'),
          name: 'PAN-OS command injection',
          external_references: [
            { source_name: 'cve', external_id: 'CVE-2024-3400' },
            { source_name: 'vendor', url: 'https://security.example/' },
          ],
        }),
        sdo('vulnerability', 2, { ...marking('CLEAR'), name: 'CVE-2021-44228' }),
        sdo('vulnerability', 3, { ...marking('CLEAR'), name: 'A weakness without an id' }),
        sdo('vulnerability', 4, {
          ...marking('CLEAR'),
          name: 'x',
          external_references: [{ source_name: 'cve', external_id: 'CVE-24' }],
        }),
      ),
    );
    expect(ready(result).indicators).toEqual([
      { type: 'cve', value: 'CVE-2024-3400' },
      { type: 'cve', value: 'CVE-2021-44228' },
    ]);
    expect(outcome(result, 2)).toMatchObject({ reason: { code: 'no-indicator' } });
    expect(outcome(result, 3)).toMatchObject({ reason: { code: 'invalid-value' } });
  });

  it('maps observables at the top level of a bundle, and says why others are not', () => {
    const result = importBundle(
      bundle(
        sco('ipv4-addr', 1, { value: '198.51.100.9', ...marking('GREEN') }),
        sco('file', 2, { hashes: { 'SHA-1': SHA1 }, ...marking('GREEN') }),
        sco('ipv4-addr', 3, { value: '198.51.100.0/24', ...marking('GREEN') }),
        sco('mutex', 4, { name: 'm', ...marking('GREEN') }),
        sco('email-addr', 5, { value: 'victim@agency.example', ...marking('GREEN') }),
        sco('email-message', 6, {
          is_multipart: false,
          to_refs: [`email-addr--${uuid(5)}`],
          ...marking('GREEN'),
        }),
        sco('url', 7, { ...marking('GREEN') }),
      ),
    );
    expect(ready(result).indicators).toEqual([
      { type: 'ipv4', value: '198.51.100.9' },
      { type: 'sha1', value: SHA1 },
    ]);
    expect(outcome(result, 2)).toMatchObject({
      reason: { code: 'invalid-value', message: '"198.51.100.0/24" is a network range, not an address' },
    });
    expect(outcome(result, 3)).toMatchObject({ reason: { code: 'unsupported-type' } });
    expect(outcome(result, 4)).toMatchObject({
      reason: {
        code: 'no-indicator',
        message: 'a recipient of an e-mail message is a victim, not an indicator',
      },
    });
    expect(outcome(result, 5)).toMatchObject({ reason: { code: 'unsupported-type' } });
    expect(outcome(result, 6)).toMatchObject({
      reason: { code: 'invalid-value', message: 'a url needs a value (a string)' },
    });
  });

  it('says identities, relationships and other SDOs are not mapped, and why', () => {
    const result = importBundle(
      bundle(
        sdo('identity', 1, { name: 'Alpha' }),
        sdo('relationship', 2, { relationship_type: 'indicates', source_ref: 'a', target_ref: 'b' }),
        sdo('malware', 3, { name: 'x', is_family: true }),
        sdo('x-custom-thing', 4, {}),
      ),
    );
    expect(ok(result).objects.map((object) => object.status === 'unmapped' && object.reason)).toEqual([
      {
        code: 'unsupported-type',
        message: 'identities are not mapped: the submitting organisation comes from the token',
      },
      {
        code: 'unsupported-type',
        message: 'relationships are not mapped: reports take their objects from object_refs',
      },
      { code: 'unsupported-type', message: 'malware objects carry no indicator Renkei maps' },
      { code: 'unsupported-type', message: 'x-custom-thing objects carry no indicator Renkei maps' },
    ]);
  });
});

describe('importStixBundle: TLP', () => {
  it.each(TLP_LEVELS)('reads the canonical TLP 2.0 marking of %s', (tlp) => {
    const result = importBundle(bundle(indicator(1, "[domain-name:value = 'a.example']", marking(tlp))));
    expect(ready(result).tlp).toBe(tlp);
  });

  it.each([
    ['CLEAR', 'CLEAR'],
    ['GREEN', 'GREEN'],
    ['AMBER', 'AMBER'],
    ['RED', 'RED'],
  ] as const)('reads the TLP 1.0 marking id of %s as %s', (level, tlp) => {
    const input = bundle(
      indicator(1, "[domain-name:value = 'a.example']", { object_marking_refs: [TLP1_MARKING_IDS[level]] }),
    );
    expect(ready(importBundle(input)).tlp).toBe(tlp);
  });

  it('reads TLP marking definitions the bundle defines under ids of its own', () => {
    const own1 = sdo('marking-definition', 50, { definition_type: 'tlp', definition: { tlp: 'amber' } });
    const own2 = sdo('marking-definition', 51, {
      extensions: {
        'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d': {
          extension_type: 'property-extension',
          tlp_2_0: 'amber+strict',
        },
      },
    });
    const own3 = sdo('marking-definition', 52, { definition_type: 'TLP', definition: { tlp: 'TLP:RED' } });
    for (const [definition, tlp] of [
      [own1, 'AMBER'],
      [own2, 'AMBER+STRICT'],
      [own3, 'RED'],
    ] as const) {
      const input = bundle(
        definition,
        indicator(1, "[domain-name:value = 'a.example']", { object_marking_refs: [definition.id] }),
      );
      const result = importBundle(input);
      expect(ready(result).tlp).toBe(tlp);
      expect(outcome(result, 0)).toEqual({
        index: 0,
        id: definition.id,
        type: 'marking-definition',
        status: 'context',
        detail: `TLP:${tlp} marking`,
      });
    }
  });

  it('keeps the canonical level when a bundle redefines a canonical id as something looser', () => {
    const forged = {
      ...tlpMarkingDefinition('RED'),
      extensions: {
        'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d': {
          extension_type: 'property-extension',
          tlp_2_0: 'clear',
        },
      },
    };
    const input = bundle(forged, indicator(1, "[domain-name:value = 'a.example']", marking('RED')));
    expect(ready(importBundle(input)).tlp).toBe('RED');
  });

  it('accepts the canonical marking objects in the bundle and statement markings beside TLP', () => {
    const statement = sdo('marking-definition', 60, {
      definition_type: 'statement',
      definition: { statement: 'Copyright Example' },
    });
    const input = bundle(
      tlpMarkingDefinition('GREEN'),
      statement,
      indicator(1, "[domain-name:value = 'a.example']", {
        object_marking_refs: [TLP2_MARKING_IDS.GREEN, statement.id],
      }),
    );
    const result = importBundle(input);
    expect(ready(result).tlp).toBe('GREEN');
    expect(outcome(result, 1)).toMatchObject({
      status: 'context',
      detail: 'statement marking: not a sharing restriction',
    });
  });

  it('does not map an object with a marking it cannot read, even beside a TLP', () => {
    const strange = sdo('marking-definition', 70, { definition_type: 'pap', definition: { pap: 'red' } });
    const input = bundle(
      strange,
      indicator(1, "[domain-name:value = 'a.example']", {
        object_marking_refs: [TLP2_MARKING_IDS.GREEN, strange.id],
      }),
      indicator(2, "[domain-name:value = 'b.example']", {
        object_marking_refs: [TLP2_MARKING_IDS.GREEN, `marking-definition--${uuid(71)}`],
      }),
      indicator(3, "[domain-name:value = 'c.example']", { object_marking_refs: 'not a list' }),
      indicator(4, "[domain-name:value = 'kept.example']", marking('GREEN')),
    );
    const result = importBundle(input);
    expect(ready(result).indicators).toEqual([{ type: 'domain', value: 'kept.example' }]);
    expect(outcome(result, 0)).toMatchObject({ status: 'unmapped', reason: { code: 'unknown-marking' } });
    expect(outcome(result, 1)).toMatchObject({
      reason: {
        code: 'unknown-marking',
        message: expect.stringContaining('neither a TLP marking nor a statement'),
      },
    });
    expect(outcome(result, 2)).toMatchObject({
      reason: {
        code: 'unknown-marking',
        message: expect.stringContaining('is not defined in the bundle and is not a TLP marking'),
      },
    });
    expect(outcome(result, 3)).toMatchObject({
      reason: { code: 'unknown-marking', message: expect.stringContaining('not a list') },
    });
  });

  it('applies granular TLP markings to the whole object', () => {
    const input = bundle(
      indicator(1, "[domain-name:value = 'a.example']", {
        ...marking('GREEN'),
        granular_markings: [
          { selectors: ['pattern'], marking_ref: TLP2_MARKING_IDS.RED },
          { selectors: ['description'], lang: 'ja' },
        ],
      }),
    );
    expect(ready(importBundle(input)).tlp).toBe('RED');
  });

  it('gives a report the most restrictive TLP of what it carries, and says which object raised it', () => {
    const input = bundle(
      sdo('report', 10, {
        ...marking('GREEN'),
        name: 'Mixed',
        published: '2025-01-02T00:00:00Z',
        object_refs: [`indicator--${uuid(1)}`, `indicator--${uuid(2)}`, `indicator--${uuid(3)}`],
      }),
      indicator(1, "[domain-name:value = 'a.example']"),
      indicator(2, "[domain-name:value = 'b.example']", marking('AMBER')),
      indicator(3, "[domain-name:value = 'c.example']", marking('CLEAR')),
    );
    const result = importBundle(input);
    expect(ready(result).tlp).toBe('AMBER');
    expect(ok(result).reports[0]!.notes).toContain(
      `TLP raised from GREEN to AMBER: indicator--${uuid(2)} is marked AMBER`,
    );
  });

  it('refuses a container without a TLP marking, even when what it carries is marked', () => {
    const input = bundle(
      sdo('report', 10, {
        name: 'Unmarked',
        published: '2025-01-02T00:00:00Z',
        object_refs: [`indicator--${uuid(1)}`],
      }),
      indicator(1, "[domain-name:value = 'a.example']", marking('GREEN')),
    );
    const result = importBundle(input);
    expect(ok(result).reports[0]).toMatchObject({
      status: 'refused',
      reason: {
        code: 'no-tlp-marking',
        message: expect.stringMatching(
          /^the report carries no TLP marking, and Renkei never assumes one: declare one with `tlp`/,
        ),
      },
    });
    expect(outcome(result, 0)).toMatchObject({ status: 'unmapped', reason: { code: 'no-tlp-marking' } });
    expect(outcome(result, 1)).toMatchObject({
      status: 'unmapped',
      reason: { code: 'report-refused', message: expect.stringContaining(`report--${uuid(10)} was refused`) },
      notes: ['it would bring: domain a.example'],
    });
  });

  it('refuses a container with a marking it cannot read', () => {
    const input = bundle(
      sdo('report', 10, {
        object_marking_refs: [TLP2_MARKING_IDS.GREEN, `marking-definition--${uuid(71)}`],
        name: 'Strange',
        published: '2025-01-02T00:00:00Z',
        object_refs: [`indicator--${uuid(1)}`],
      }),
      indicator(1, "[domain-name:value = 'a.example']"),
    );
    expect(ok(importBundle(input)).reports[0]).toMatchObject({
      status: 'refused',
      reason: { code: 'unknown-marking' },
    });
  });

  it('refuses a bundle none of whose objects is marked, and says what each would have brought', () => {
    const result = importBundle(bundle(indicator(1, "[domain-name:value = 'a.example']")));
    expect(ok(result).reports[0]).toMatchObject({ status: 'refused', reason: { code: 'no-tlp-marking' } });
    expect(outcome(result, 0)).toMatchObject({
      status: 'unmapped',
      reason: { code: 'no-tlp-marking' },
      notes: ['it would bring: domain a.example'],
    });
  });

  it('maps the marked objects of a partly marked bundle and leaves the unmarked out', () => {
    const result = importBundle(
      bundle(
        indicator(1, "[domain-name:value = 'a.example']"),
        indicator(2, "[domain-name:value = 'b.example']", marking('AMBER')),
      ),
    );
    expect(ready(result)).toMatchObject({
      tlp: 'AMBER',
      indicators: [{ type: 'domain', value: 'b.example' }],
    });
    expect(outcome(result, 0)).toMatchObject({ status: 'unmapped', reason: { code: 'no-tlp-marking' } });
  });
});

describe('importStixBundle: containers', () => {
  const report = (n: number, refs: string[], extra: Record<string, unknown> = {}) =>
    sdo('report', n, {
      ...marking('GREEN'),
      name: `Report ${n}`,
      published: '2025-01-10T00:00:00Z',
      object_refs: refs,
      ...extra,
    });

  it('makes one report per container, with its name, description and publication time', () => {
    const input = bundle(
      report(10, [`indicator--${uuid(1)}`], { description: 'Beaconing seen from two ministries.' }),
      sdo('grouping', 11, {
        ...marking('AMBER'),
        name: 'Grouped',
        context: 'suspicious-activity',
        object_refs: [`indicator--${uuid(2)}`],
      }),
      indicator(1, "[domain-name:value = 'a.example']"),
      indicator(2, "[domain-name:value = 'b.example']"),
    );
    const result = importBundle(input, { category: 'targeted-attack', severity: 'high' });
    expect(ok(result).reports.map((r) => r.source)).toEqual([
      { type: 'report', id: `report--${uuid(10)}` },
      { type: 'grouping', id: `grouping--${uuid(11)}` },
    ]);
    expect(ready(result, 0)).toEqual({
      title: 'Report 10',
      description: 'Beaconing seen from two ministries.',
      category: 'targeted-attack',
      severity: 'high',
      tlp: 'GREEN',
      detectedAt: '2025-01-10T00:00:00.000Z',
      indicators: [{ type: 'domain', value: 'a.example' }],
      exercise: false,
    });
    // A grouping has no publication time: its creation time stands in.
    expect(ready(result, 1)).toMatchObject({
      title: 'Grouped',
      tlp: 'AMBER',
      detectedAt: '2025-01-01T00:00:00.000Z',
    });
    expect(outcome(result, 0)).toMatchObject({ status: 'mapped', reports: [0], indicators: [] });
    expect(outcome(result, 2)).toMatchObject({ status: 'mapped', reports: [0] });
    expect(outcome(result, 3)).toMatchObject({ status: 'mapped', reports: [1] });
  });

  it('puts an object two containers share in both reports', () => {
    const input = bundle(
      report(10, [`indicator--${uuid(1)}`]),
      report(11, [`indicator--${uuid(1)}`]),
      indicator(1, "[domain-name:value = 'a.example']"),
    );
    const result = importBundle(input);
    expect(ready(result, 0).indicators).toEqual(ready(result, 1).indicators);
    expect(outcome(result, 2)).toMatchObject({ status: 'mapped', reports: [0, 1] });
  });

  it('leaves out objects no container refers to, and says so', () => {
    const result = importBundle(
      bundle(
        report(10, [`indicator--${uuid(1)}`]),
        indicator(1, "[domain-name:value = 'a.example']"),
        indicator(2, "[domain-name:value = 'b.example']", marking('GREEN')),
      ),
    );
    expect(ok(result).reports).toHaveLength(1);
    expect(outcome(result, 2)).toMatchObject({ status: 'unmapped', reason: { code: 'outside-container' } });
  });

  it('notes references to objects the bundle does not hold and containers inside containers', () => {
    const missing = Array.from({ length: 7 }, (_, i) => `indicator--${uuid(100 + i)}`);
    const result = importBundle(
      bundle(
        report(10, [...missing, `report--${uuid(11)}`]),
        report(11, [`indicator--${uuid(1)}`]),
        indicator(1, "[domain-name:value = 'a.example']"),
      ),
    );
    expect(ok(result).reports[0]!.notes).toEqual([
      `report--${uuid(11)} is a container of its own and becomes its own report`,
      `7 referenced objects are not in the bundle: ${missing.slice(0, 5).join(', ')}, …`,
    ]);
    expect(ready(result, 0).indicators).toEqual([]);
    expect(ready(result, 1).indicators).toEqual([{ type: 'domain', value: 'a.example' }]);
  });

  it('finds what belongs to an incident through relationships and sightings of it', () => {
    const incident = sdo('incident', 20, {
      ...marking('AMBER'),
      name: 'Intrusion at a ministry',
      description: 'Lateral movement.',
    });
    const input = bundle(
      incident,
      indicator(1, "[ipv4-addr:value = '198.51.100.20']"),
      sdo('relationship', 2, {
        relationship_type: 'indicates',
        source_ref: `indicator--${uuid(1)}`,
        target_ref: incident.id,
      }),
      sdo('sighting', 3, {
        sighting_of_ref: incident.id,
        first_seen: '2025-07-01T00:00:00Z',
        observed_data_refs: [`observed-data--${uuid(4)}`],
      }),
      sdo('observed-data', 4, {
        first_observed: '2025-07-01T00:00:00Z',
        last_observed: '2025-07-01T00:00:00Z',
        number_observed: 1,
        objects: { '0': { type: 'domain-name', value: 'c2.example' } },
      }),
      sdo('relationship', 5, {
        relationship_type: 'related-to',
        source_ref: incident.id,
        target_ref: `vulnerability--${uuid(6)}`,
      }),
      sdo('vulnerability', 6, { name: 'CVE-2023-4966' }),
    );
    const result = importBundle(input);
    expect(ready(result)).toMatchObject({
      title: 'Intrusion at a ministry',
      description: 'Lateral movement.',
      tlp: 'AMBER',
      detectedAt: '2025-07-01T00:00:00.000Z',
      indicators: [
        { type: 'ipv4', value: '198.51.100.20' },
        { type: 'domain', value: 'c2.example' },
        { type: 'cve', value: 'CVE-2023-4966' },
      ],
    });
    expect(outcome(result, 2)).toEqual({
      index: 2,
      id: `relationship--${uuid(2)}`,
      type: 'relationship',
      status: 'context',
      detail: `puts indicator--${uuid(1)} in ${incident.id}`,
    });
    expect(outcome(result, 3)).toMatchObject({ status: 'mapped', reports: [0] });
  });

  it('refuses a report or grouping without object_refs', () => {
    const result = importBundle(
      bundle(sdo('grouping', 11, { ...marking('GREEN'), name: 'g', context: 'x' })),
    );
    expect(ok(result).reports[0]).toMatchObject({
      status: 'refused',
      reason: { code: 'invalid-object', message: 'a grouping needs object_refs, a list of ids' },
    });
    expect(outcome(result, 0)).toMatchObject({ status: 'unmapped', reason: { code: 'invalid-object' } });
  });

  it('reads category, severity and the exercise flag from labels Renkei writes', () => {
    const input = bundle(
      report(10, [`indicator--${uuid(1)}`], {
        labels: ['renkei:category=phishing', 'renkei:severity=critical', 'exercise'],
      }),
      report(11, [`indicator--${uuid(1)}`], {
        labels: ['renkei:category=not-a-category'],
        x_renkei_exercise: true,
      }),
      indicator(1, "[domain-name:value = 'a.example']"),
    );
    const result = importBundle(input, { category: 'malware' });
    expect(ready(result, 0)).toMatchObject({ category: 'phishing', severity: 'critical', exercise: true });
    expect(ready(result, 1)).toMatchObject({ category: 'malware', severity: 'medium', exercise: true });
    expect(ready(importBundle(input, { exercise: true }), 0).exercise).toBe(true);
  });

  it('makes text storable and cuts it to the report schema’s bounds, saying so', () => {
    const input = bundle(
      report(10, [`indicator--${uuid(1)}`], {
        name: `A\u0000${'t'.repeat(300)}`,
        description: `\uD800${'d'.repeat(MAX_DESCRIPTION_LENGTH + 10)}`,
      }),
      indicator(1, "[domain-name:value = 'a.example']"),
    );
    const result = importBundle(input);
    const submission = ready(result);
    expect(submission.title).toHaveLength(MAX_TITLE_LENGTH);
    expect(submission.title.startsWith('A\uFFFDttt')).toBe(true);
    expect(submission.title.endsWith('…')).toBe(true);
    expect(submission.description).toHaveLength(MAX_DESCRIPTION_LENGTH);
    expect(submission.description!.startsWith('\uFFFDddd')).toBe(true);
    expect(ok(result).reports[0]!.notes).toEqual([
      `the title was cut to ${MAX_TITLE_LENGTH} characters`,
      `the description was cut to ${MAX_DESCRIPTION_LENGTH} characters`,
    ]);
    expect(reportSubmissionSchema.safeParse(submission).success).toBe(true);
  });

  it('falls back to the receipt time when nothing in the bundle is dated', () => {
    const undated = indicator(1, "[domain-name:value = 'a.example']", marking('GREEN'));
    delete (undated as Record<string, unknown>).created;
    expect(ready(importBundle(bundle(undated))).detectedAt).toBe(RECEIVED_AT);
  });

  it('refuses, and says why, a report that would not pass the report schema', () => {
    const undated = indicator(1, "[domain-name:value = 'a.example']", marking('GREEN'));
    delete (undated as Record<string, unknown>).created;
    const result = importBundle(bundle(undated), { receivedAt: 'not a time' });
    expect(ok(result).reports[0]).toMatchObject({
      status: 'refused',
      objectIds: [],
      reason: { code: 'invalid-report', message: expect.stringContaining('detectedAt') },
    });
    expect(outcome(result, 0)).toMatchObject({ status: 'unmapped', reason: { code: 'report-refused' } });
  });

  it('gives report ids derived under the hub key, so importing twice gives the same ids', () => {
    const input = bundle(
      report(10, [`indicator--${uuid(1)}`]),
      indicator(1, "[domain-name:value = 'a.example']"),
    );
    const acme = { key: HUB_KEY, scope: 'acme-bank' };
    const first = ready(importBundle(input, { ids: acme }));
    expect(first.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(reportSubmissionSchema.shape.id.safeParse(first.id).success).toBe(true);
    expect(ready(importBundle(input, { ids: acme })).id).toBe(first.id);
    expect(ready(importBundle(input, { ids: { ...acme, scope: 'beta-bank' } })).id).not.toBe(first.id);
    const updated = bundle(
      report(10, [`indicator--${uuid(1)}`], { modified: '2025-03-01T00:00:00.000Z' }),
      indicator(1, "[domain-name:value = 'a.example']"),
    );
    expect(ready(importBundle(updated, { ids: acme })).id).not.toBe(first.id);
    expect(ready(importBundle(input)).id).toBeUndefined();
  });

  // Issue 16: the ids were UUIDv5 of public inputs, so another organisation could compute
  // one and learn from a 409 that acme-bank had imported this bundle.
  it('gives ids nobody without the hub key can compute: not the old UUIDv5, and another hub gets others', () => {
    const input = bundle(
      report(10, [`indicator--${uuid(1)}`]),
      indicator(1, "[domain-name:value = 'a.example']"),
    );
    const id = ready(importBundle(input, { ids: { key: HUB_KEY, scope: 'acme-bank' } })).id;
    const version = '2025-01-01T00:00:00.000Z';
    const publicName = uuidv5(
      JSON.stringify(['stix', 'acme-bank', `report--${uuid(10)}`, version]),
      'f0e056a8-f1ff-47cc-b148-2d66a13cc42d',
    );
    expect(id).not.toBe(publicName);
    const otherHub = { key: Buffer.alloc(32, 7), scope: 'acme-bank' };
    expect(ready(importBundle(input, { ids: otherHub })).id).not.toBe(id);
    expect(() => importedReportId({ key: Buffer.alloc(16), scope: 'acme-bank' }, ['x'])).toThrow(/32 bytes/);
  });
});

// The machine is shared: a generous timeout keeps these from failing under load; speed is measured in
// bench/stix-import.ts, not here.
const LARGE = { timeout: 60_000 };

describe('importStixBundle: size', () => {
  it('answers 10,000 objects one by one', LARGE, () => {
    const objects: unknown[] = [];
    for (let i = 0; i < 10_000; i++) {
      if (i % 10 === 9) objects.push({ type: 'indicator', pattern: 'missing id' });
      else if (i % 10 === 8)
        objects.push(
          indicator(
            i,
            `[ipv4-addr:value = '10.${i >> 16}.${(i >> 8) & 255}.${i & 255}'] WITHIN 5 SECONDS`,
            marking('GREEN'),
          ),
        );
      else
        objects.push(
          indicator(
            i,
            `[ipv4-addr:value = '10.${i >> 16}.${(i >> 8) & 255}.${i & 255}']`,
            marking(i % 10 === 0 ? 'AMBER' : 'GREEN'),
          ),
        );
    }
    const result = ok(importBundle(bundle(...objects)));
    expect(result.objects).toHaveLength(10_000);
    const counts = new Map<string, number>();
    for (const object of result.objects) {
      const key = object.status === 'unmapped' ? object.reason.code : object.status;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    // Nothing is dropped for size: 8,000 indicators are 8 linked reports of 1,000.
    expect(Object.fromEntries(counts)).toEqual({
      mapped: 8000,
      'unsupported-pattern': 1000,
      'invalid-object': 1000,
    });
    expect(result.reports).toHaveLength(8000 / MAX_INDICATORS_PER_REPORT);
    for (const report of result.reports) {
      if (report.status !== 'ready') throw new Error('every part is ready');
      expect(report.submission.indicators).toHaveLength(MAX_INDICATORS_PER_REPORT);
      expect(report.submission.tlp).toBe('AMBER');
      expect(reportSubmissionSchema.safeParse(report.submission).success).toBe(true);
    }
  });

  it('answers 10,000 sightings of one indicator inside a report', LARGE, () => {
    const objects: unknown[] = [
      sdo('report', 1, {
        ...marking('GREEN'),
        name: 'Many sightings',
        published: '2025-01-01T00:00:00Z',
        object_refs: [] as string[],
      }),
      indicator(2, "[domain-name:value = 'a.example']"),
    ];
    for (let i = 0; i < 9_998; i++) {
      const sighting = sdo('sighting', 10 + i, {
        sighting_of_ref: `indicator--${uuid(2)}`,
        first_seen: '2025-02-01T00:00:00Z',
      });
      (objects[0] as { object_refs: string[] }).object_refs.push(sighting.id);
      objects.push(sighting);
    }
    const result = ok(importBundle(bundle(...objects)));
    expect(result.objects).toHaveLength(10_000);
    expect(result.objects.every((object) => object.status === 'mapped')).toBe(true);
    expect(ready(result)).toMatchObject({
      indicators: [{ type: 'domain', value: 'a.example' }],
      detectedAt: '2025-02-01T00:00:00.000Z',
    });
  });
});

describe('importStixBundle: every answer passes the report schema', () => {
  it.each(TLP_LEVELS)('%s', (tlp: Tlp) => {
    const result = importBundle(bundle(indicator(1, "[domain-name:value = 'a.example']", marking(tlp))));
    expect(reportSubmissionSchema.parse(ready(result))).toMatchObject({ tlp, exercise: false });
  });
});

import { describe, expect, it } from 'vitest';
import {
  formatPattern,
  mapPattern,
  MAX_PATTERN_COMPARISONS,
  MAX_PATTERN_DEPTH,
  MAX_PATTERN_LENGTH,
} from '@renkei/stix';
import { parsePattern } from '../src/pattern/parse.js';

const SHA256 = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c';
const SHA1 = '77b0c41b7d340b8a3d903f21347bbf06aa766b5b';
const MD5 = '0749bae92ca336a02c83d126e04ec628';

function indicators(pattern: string) {
  const mapped = mapPattern(pattern);
  if (!mapped.ok) throw new Error(`expected ${pattern} to map, got ${mapped.code}: ${mapped.reason}`);
  return mapped.indicators;
}

function refusal(pattern: string) {
  const mapped = mapPattern(pattern);
  if (mapped.ok)
    throw new Error(`expected ${pattern} to be refused, got ${JSON.stringify(mapped.indicators)}`);
  return mapped;
}

describe('mapPattern: what maps', () => {
  it.each([
    ["[ipv4-addr:value = '198.51.100.7']", 'ipv4', '198.51.100.7'],
    ["[ipv6-addr:value = '2001:db8::7']", 'ipv6', '2001:db8::7'],
    ["[domain-name:value = 'evil.example']", 'domain', 'evil.example'],
    ["[url:value = 'http://x4z9arb.cn/4712/']", 'url', 'http://x4z9arb.cn/4712/'],
    ["[email-addr:value = 'phish@evil.example']", 'email', 'phish@evil.example'],
    ["[email-message:from_ref.value = 'phish@evil.example']", 'email', 'phish@evil.example'],
    ["[email-message:sender_ref.value = 'phish@evil.example']", 'email', 'phish@evil.example'],
    [`[file:hashes.'SHA-256' = '${SHA256}']`, 'sha256', SHA256],
    [`[file:hashes.'SHA-1' = '${SHA1}']`, 'sha1', SHA1],
    [`[file:hashes.MD5 = '${MD5}']`, 'md5', MD5],
    [`[file:hashes.'MD5' = '${MD5}']`, 'md5', MD5],
    [`[file:hashes.SHA256 = '${SHA256}']`, 'sha256', SHA256],
    [`[file:hashes.sha1 = '${SHA1}']`, 'sha1', SHA1],
    ["[network-traffic:dst_ref.value = '203.0.113.9']", 'ipv4', '203.0.113.9'],
    ["[network-traffic:src_ref.value = '2001:db8::9']", 'ipv6', '2001:db8::9'],
    // `==` is the grammar's other spelling of equality.
    ["[domain-name:value == 'evil.example']", 'domain', 'evil.example'],
  ])('%s', (pattern, type, value) => {
    expect(indicators(pattern)).toEqual([{ type, value }]);
  });

  it('keeps every comparison joined by OR, inside one observation and across observations', () => {
    expect(
      indicators(
        "[ipv4-addr:value = '198.51.100.1' OR ipv4-addr:value = '198.51.100.2' OR domain-name:value = 'a.example'] OR [url:value = 'http://b.example/']",
      ),
    ).toEqual([
      { type: 'ipv4', value: '198.51.100.1' },
      { type: 'ipv4', value: '198.51.100.2' },
      { type: 'domain', value: 'a.example' },
      { type: 'url', value: 'http://b.example/' },
    ]);
  });

  it('reads IN as a list of equalities', () => {
    expect(indicators("[ipv4-addr:value IN ('198.51.100.1', '198.51.100.2')]")).toEqual([
      { type: 'ipv4', value: '198.51.100.1' },
      { type: 'ipv4', value: '198.51.100.2' },
    ]);
  });

  it('reads parentheses around comparisons and around observations', () => {
    expect(indicators("([(domain-name:value = 'a.example' OR (domain-name:value = 'b.example'))])")).toEqual([
      { type: 'domain', value: 'a.example' },
      { type: 'domain', value: 'b.example' },
    ]);
  });

  it('unescapes quotes and backslashes in string literals', () => {
    expect(indicators("[url:value = 'http://x.example/it\\'s\\\\here']")).toEqual([
      { type: 'url', value: "http://x.example/it's\\here" },
    ]);
  });

  it('keeps OR and AND inside quoted strings as text', () => {
    expect(indicators("[url:value = 'http://x.example/?a=1 OR b AND [c]']")).toEqual([
      { type: 'url', value: 'http://x.example/?a=1 OR b AND [c]' },
    ]);
  });

  it('gives each observable once, however often the pattern names it', () => {
    expect(indicators("[domain-name:value = 'a.example'] OR [domain-name:value = 'a.example']")).toEqual([
      { type: 'domain', value: 'a.example' },
    ]);
  });

  it('trims values and nothing more: canonical forms are the indicators package’s', () => {
    expect(indicators("[domain-name:value = '  Evil[.]Example  ']")).toEqual([
      { type: 'domain', value: 'Evil[.]Example' },
    ]);
  });

  it('maps the hashes of one file joined by AND, and notes the file name it drops', () => {
    const mapped = mapPattern(
      `[file:name = 'a.exe' AND file:hashes.MD5 = '${MD5}' AND file:hashes.'SHA-1' = '${SHA1}']`,
    );
    expect(mapped).toEqual({
      ok: true,
      indicators: [
        { type: 'md5', value: MD5 },
        { type: 'sha1', value: SHA1 },
      ],
      notes: ['file name "a.exe" not mapped: Renkei has no file-name indicator'],
    });
  });

  it('maps a network-traffic address declared with its type, the way MISP writes it', () => {
    expect(
      indicators(
        "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.9']",
      ),
    ).toEqual([{ type: 'ipv4', value: '203.0.113.9' }]);
  });

  it('keeps the mappable alternatives of an OR and notes the others', () => {
    const mapped = mapPattern("[ipv4-addr:value = '198.51.100.1' OR mutex:name = 'Global\\\\x']");
    expect(mapped).toEqual({
      ok: true,
      indicators: [{ type: 'ipv4', value: '198.51.100.1' }],
      notes: ['alternative not mapped: mutex:name has no Renkei indicator type'],
    });
  });
});

describe('mapPattern: what is refused, never guessed', () => {
  it.each([
    ["[ipv4-addr:value = '198.51.100.1'] AND [domain-name:value = 'a.example']", 'AND between observations'],
    ["[ipv4-addr:value = '198.51.100.1'] FOLLOWEDBY [domain-name:value = 'a.example']", 'FOLLOWEDBY'],
    ["[ipv4-addr:value = '198.51.100.1'] WITHIN 300 SECONDS", 'WITHIN qualifier'],
    ["[ipv4-addr:value = '198.51.100.1'] REPEATS 5 TIMES", 'REPEATS qualifier'],
    [
      "[ipv4-addr:value = '198.51.100.1'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
      'START … STOP qualifier',
    ],
    ["[email-message:subject MATCHES '^[IMPORTANT] Please Review Before']", 'MATCHES operator'],
    ["[domain-name:value LIKE '%.evil.example']", 'LIKE operator'],
    ["[ipv4-addr:value ISSUBSET '198.51.100.0/24']", 'ISSUBSET operator'],
    ["[ipv4-addr:value != '198.51.100.1']", 'the != operator'],
    ["[ipv4-addr:value <> '198.51.100.1']", 'the != operator'],
    ['[file:size > 1000]', 'the > operator'],
    ["[ipv4-addr:value NOT = '198.51.100.1']", 'NOT ='],
    ["[ipv4-addr:value NOT IN ('198.51.100.1')]", 'NOT IN'],
    ['[EXISTS windows-registry-key:values]', 'EXISTS'],
    [
      "[domain-name:value = 'a.example' AND domain-name:resolves_to_refs[*].value = '198.51.100.1']",
      'AND joins',
    ],
    [
      "[network-traffic:src_ref.value = '198.51.100.1' AND network-traffic:dst_ref.value = '198.51.100.2']",
      'AND joins',
    ],
    ["[mutex:name = 'x']", 'mutex:name has no Renkei indicator type'],
    // The OASIS example's certificate pattern: the type is why, not the AND.
    [
      "[x509-certificate:issuer = 'C=ZA, ST=Western Cape, L=Cape Town' AND x509-certificate:subject = 'C=ZA, O=Thawte'  ]",
      'x509-certificate:issuer has no Renkei indicator type (no x509-certificate is mapped)',
    ],
    ["[file:hashes.'SHA-512' = 'ab']", "file:hashes.'SHA-512' has no Renkei indicator type"],
    ["[file:name = 'a.exe' AND file:hashes.'SHA-512' = 'ab']", 'the file has no hash Renkei maps'],
    ["[email-message:to_refs[*].value = 'victim@example.org']", 'has no Renkei indicator type'],
    ['[ipv4-addr:value = 5]', 'compared with a number'],
    ["[ipv4-addr:value = '198.51.100.0/24']", 'is a network range'],
    ["[network-traffic:dst_ref.value = 'evil.example']", 'is not an IPv4 or IPv6 address'],
    [
      "[network-traffic:dst_ref.type = 'ipv6-addr' AND network-traffic:dst_ref.value = '198.51.100.1']",
      'declared as ipv6-addr',
    ],
    ["[file:hashes.MD5 = 'abc']", 'is not a valid md5'],
    ["[ipv4-addr:value = '   ']", 'is empty'],
    ['[ipv4-addr:value IN ()]', 'matches nothing'],
  ])('%s is unsupported (%s)', (pattern, reason) => {
    const mapped = refusal(pattern);
    expect(mapped.code).toBe('unsupported-pattern');
    expect(mapped.reason).toContain(reason);
  });

  it('names every alternative when none of an OR maps', () => {
    const mapped = refusal("[mutex:name = 'x' OR file:size > 10]");
    expect(mapped.reason).toBe(
      'no alternative maps: mutex:name has no Renkei indicator type; the > operator on file:size is not mapped (only = and IN are)',
    );
  });

  it.each([
    ['', 'expected "[" or "(" to open an observation at position 0, found the end of the pattern'],
    ["ipv4-addr:value = '1.2.3.4'", 'expected "[" or "(" to open an observation at position 0'],
    ["[ipv4-addr:value = '1.2.3.4'", 'expected "]" at position 28'],
    ["[ipv4-addr:value = '1.2.3.4]", 'the string starting at position 19 is not closed'],
    ["[url:value = 'a\\nb']", 'invalid escape "\\\\n" at position 15'],
    ["[ipv4-addr:value = '1.2.3.4' and domain-name:value = 'a']", 'expected "]" at position 29, found "and"'],
    ["[ipv4-addr:value '1.2.3.4']", 'expected a comparison operator'],
    ["[ipv4-addr = '1.2.3.4']", 'expected ":"'],
    ["[ipv4-addr:value = '1.2.3.4'] OR", 'expected "[" or "(" to open an observation at position 32'],
    [
      "[ipv4-addr:value = '1.2.3.4'] [domain-name:value = 'a']",
      'expected the end of the pattern at position 30',
    ],
    ["[ipv4-addr:value = '1.2.3.4'] WITHIN SECONDS", 'expected a number'],
    ["[ipv4-addr:value = '1.2.3.4'] START '2016' STOP t'2017'", "expected a timestamp literal t'…'"],
    ["[ipv4-addr:value IN '1.2.3.4']", 'expected "("'],
    ["[file:hashes[x] = 'a']", 'expected a list index or "*"'],
    ["[ipv4-addr:value = '1.2.3.4'] ; DROP", 'unexpected character ";" at position 30'],
  ])('%j is a syntax error', (pattern, reason) => {
    const mapped = refusal(pattern);
    expect(mapped.code).toBe('pattern-syntax');
    expect(mapped.reason).toContain(reason);
  });

  it(`refuses patterns longer than ${MAX_PATTERN_LENGTH} characters before reading them`, () => {
    const mapped = refusal(`[url:value = '${'a'.repeat(MAX_PATTERN_LENGTH)}']`);
    expect(mapped).toMatchObject({ code: 'pattern-syntax', reason: expect.stringContaining('longer than') });
  });

  it(`refuses nesting deeper than ${MAX_PATTERN_DEPTH} levels without exhausting the stack`, () => {
    const deep = `${'('.repeat(5000)}[ipv4-addr:value = '1.2.3.4']${')'.repeat(5000)}`;
    expect(refusal(deep).reason).toContain(`nested deeper than ${MAX_PATTERN_DEPTH} levels`);
    const fine = `${'('.repeat(MAX_PATTERN_DEPTH - 1)}[ipv4-addr:value = '1.2.3.4']${')'.repeat(MAX_PATTERN_DEPTH - 1)}`;
    expect(indicators(fine)).toEqual([{ type: 'ipv4', value: '1.2.3.4' }]);
  });

  it(`refuses more than ${MAX_PATTERN_COMPARISONS} comparisons or set values`, () => {
    const comparisons = Array.from({ length: MAX_PATTERN_COMPARISONS + 1 }, () => "a:b='1'");
    expect(refusal(`[${comparisons.join(' OR ')}]`).reason).toContain(
      `more than ${MAX_PATTERN_COMPARISONS} comparisons`,
    );
    const addresses = Array.from(
      { length: MAX_PATTERN_COMPARISONS + 1 },
      (_, i) => `'10.0.${i >> 8}.${i & 255}'`,
    );
    expect(refusal(`[ipv4-addr:value IN (${addresses.join(',')})]`).reason).toContain(
      `a set has more than ${MAX_PATTERN_COMPARISONS} values`,
    );
    const mapped = indicators(
      `[ipv4-addr:value IN (${addresses.slice(0, MAX_PATTERN_COMPARISONS).join(',')})]`,
    );
    expect(mapped).toHaveLength(MAX_PATTERN_COMPARISONS);
  });
});

describe('parsePattern', () => {
  it('gives AND precedence over OR, and OR over FOLLOWEDBY', () => {
    const parsed = parsePattern(
      "[a:x = '1' OR a:y = '2' AND a:z = '3'] FOLLOWEDBY [b:x = '1'] OR [c:x = '1'] AND [d:x = '1']",
    );
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const expression = parsed.expression;
    expect(expression.kind).toBe('followedby');
    if (expression.kind !== 'followedby') return;
    const [first, second] = expression.operands;
    expect(first).toMatchObject({
      kind: 'observation',
      comparison: { kind: 'or', operands: [{ kind: 'test' }, { kind: 'and', operands: [{}, {}] }] },
    });
    expect(second).toMatchObject({
      kind: 'or',
      operands: [
        { kind: 'observation' },
        { kind: 'and', operands: [{ kind: 'observation' }, { kind: 'observation' }] },
      ],
    });
  });

  it('reads every literal kind and qualifiers that follow one another', () => {
    const parsed = parsePattern(
      "[x:a = -5 OR x:b = 2.5 OR x:c = true OR x:d = h'ff' OR x:e = b'AQ==' OR x:f = t'2020-01-01T00:00:00Z'] WITHIN 5 SECONDS REPEATS 2 TIMES",
    );
    expect(parsed).toMatchObject({
      ok: true,
      expression: {
        kind: 'qualified',
        qualifier: { kind: 'REPEATS', times: 2 },
        operand: { kind: 'qualified', qualifier: { kind: 'WITHIN', seconds: 5 } },
      },
    });
  });
});

describe('formatPattern', () => {
  it.each([
    ['ipv4', '198.51.100.1', "[ipv4-addr:value = '198.51.100.1']"],
    ['ipv6', '2001:db8::1', "[ipv6-addr:value = '2001:db8::1']"],
    ['domain', 'evil.example', "[domain-name:value = 'evil.example']"],
    ['url', "http://x.example/it's\\", "[url:value = 'http://x.example/it\\'s\\\\']"],
    ['email', 'a@evil.example', "[email-addr:value = 'a@evil.example']"],
    ['md5', MD5, `[file:hashes.MD5 = '${MD5}']`],
    ['sha1', SHA1, `[file:hashes.'SHA-1' = '${SHA1}']`],
    ['sha256', SHA256, `[file:hashes.'SHA-256' = '${SHA256}']`],
  ] as const)('%s %s', (type, value, pattern) => {
    expect(formatPattern(type, value)).toBe(pattern);
    // What is written reads back as the same indicator.
    expect(indicators(pattern)).toEqual([{ type, value }]);
  });

  it('writes any text so that it reads back unchanged', () => {
    for (const value of ["'", '\\', "\\'", "''\\\\", 'http://x.example/\u3042?q=\'"]) OR [', ' spaced ']) {
      const parsed = parsePattern(formatPattern('url', value));
      expect(parsed).toMatchObject({
        ok: true,
        expression: { kind: 'observation', comparison: { kind: 'test', value: { kind: 'string', value } } },
      });
    }
  });
});

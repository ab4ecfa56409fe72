import { describe, expect, it } from 'vitest';
import { TLP_LEVELS, type Principal, type Role, type Sector, type Tlp } from '@renkei/schema';
import { canChangeReportTlp, judgeTlpChange, tightensTlp, tlpAfterChanges } from '@renkei/policy';

function viewer(roles: Role[], organisationId = 'acme-bank', sector: Sector = 'finance'): Principal {
  return { subject: `${organisationId}-user`, organisationId, sector, roles };
}

describe('tightening a report TLP', () => {
  // Every pair, written out: the order is the one thing this rule must get right.
  const table: [Tlp, Tlp, ReturnType<typeof judgeTlpChange>][] = [
    ['CLEAR', 'CLEAR', 'unchanged'],
    ['CLEAR', 'GREEN', 'tightens'],
    ['CLEAR', 'AMBER', 'tightens'],
    ['CLEAR', 'AMBER+STRICT', 'tightens'],
    ['CLEAR', 'RED', 'tightens'],
    ['GREEN', 'CLEAR', 'loosens'],
    ['GREEN', 'GREEN', 'unchanged'],
    ['GREEN', 'AMBER', 'tightens'],
    ['GREEN', 'AMBER+STRICT', 'tightens'],
    ['GREEN', 'RED', 'tightens'],
    ['AMBER', 'CLEAR', 'loosens'],
    ['AMBER', 'GREEN', 'loosens'],
    ['AMBER', 'AMBER', 'unchanged'],
    ['AMBER', 'AMBER+STRICT', 'tightens'],
    ['AMBER', 'RED', 'tightens'],
    ['AMBER+STRICT', 'CLEAR', 'loosens'],
    ['AMBER+STRICT', 'GREEN', 'loosens'],
    ['AMBER+STRICT', 'AMBER', 'loosens'],
    ['AMBER+STRICT', 'AMBER+STRICT', 'unchanged'],
    ['AMBER+STRICT', 'RED', 'tightens'],
    ['RED', 'CLEAR', 'loosens'],
    ['RED', 'GREEN', 'loosens'],
    ['RED', 'AMBER', 'loosens'],
    ['RED', 'AMBER+STRICT', 'loosens'],
    ['RED', 'RED', 'unchanged'],
  ];

  it('covers every pair of labels', () => {
    expect(table).toHaveLength(TLP_LEVELS.length ** 2);
    expect(new Set(table.map(([from, to]) => `${from}>${to}`)).size).toBe(TLP_LEVELS.length ** 2);
  });

  it.each(table)('%s to %s %s', (from, to, judgement) => {
    expect(judgeTlpChange(from, to)).toBe(judgement);
    expect(tightensTlp(from, to)).toBe(judgement === 'tightens');
  });

  it('never lets AMBER+STRICT go back to AMBER, the same-rank leak', () => {
    expect(tightensTlp('AMBER+STRICT', 'AMBER')).toBe(false);
    expect(tightensTlp('AMBER', 'AMBER+STRICT')).toBe(true);
  });

  it('ends at the most restrictive label asked for, whatever order the changes came in', () => {
    expect(tlpAfterChanges('GREEN', [])).toBe('GREEN');
    expect(tlpAfterChanges('GREEN', ['RED', 'AMBER'])).toBe('RED');
    expect(tlpAfterChanges('GREEN', ['AMBER', 'RED'])).toBe('RED');
    expect(tlpAfterChanges('AMBER', ['GREEN', 'CLEAR'])).toBe('AMBER');
    expect(tlpAfterChanges('CLEAR', ['AMBER', 'AMBER+STRICT', 'AMBER'])).toBe('AMBER+STRICT');
  });
});

describe('who may change a report TLP', () => {
  const report = { organisationId: 'acme-bank' };

  it.each([
    ['a reporter of the reporting organisation', viewer(['reporter']), true],
    ['a CEPTAR user of the reporting organisation', viewer(['ceptar']), true],
    ['an analyst of the GSOC', viewer(['analyst'], 'gsoc', 'central-government'), true],
    [
      'an administrator of the GSOC (no analyst role)',
      viewer(['admin'], 'gsoc', 'central-government'),
      false,
    ],
    ['a reporter of another organisation in the same sector', viewer(['reporter'], 'other-bank'), false],
    ['a CEPTAR of the same sector', viewer(['ceptar'], 'finance-ceptar'), false],
    ['a reporter of another sector', viewer(['reporter'], 'rail-co', 'railway'), false],
  ])('%s: %s', (_who, principal, allowed) => {
    expect(canChangeReportTlp(principal, report)).toBe(allowed);
  });

  it('an administrator of the reporting organisation itself, without a reporting role, may not', () => {
    expect(canChangeReportTlp(viewer(['admin'], 'acme-bank'), report)).toBe(false);
  });
});

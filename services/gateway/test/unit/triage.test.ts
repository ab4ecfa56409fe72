import { describe, expect, it } from 'vitest';
import { TRIAGE_STATUSES, TRIAGE_TRANSITIONS, canMoveTriage, type TriageStatus } from '@renkei/schema';
import { tokenStillValid } from '../../src/routes/stream.js';
import { nextTriageState } from '../../src/triage.js';

const state = (status: TriageStatus, assignee: string | null = null) => ({ status, assignee });

describe('triage rules', () => {
  it('moves forward, possibly skipping steps, and reopens closed alerts only for investigation', () => {
    const allowed = TRIAGE_STATUSES.flatMap((from) =>
      TRIAGE_STATUSES.filter((to) => canMoveTriage(from, to)).map((to) => `${from}→${to}`),
    );
    expect(allowed).toEqual([
      'new→acknowledged',
      'new→investigating',
      'new→resolved',
      'new→false-positive',
      'acknowledged→investigating',
      'acknowledged→resolved',
      'acknowledged→false-positive',
      'investigating→resolved',
      'investigating→false-positive',
      'resolved→investigating',
      'false-positive→investigating',
    ]);
    for (const status of TRIAGE_STATUSES) expect(TRIAGE_TRANSITIONS[status]).not.toContain('new');
  });

  it('gives the state after a status change, with its note', () => {
    expect(
      nextTriageState(state('new', 'kenji'), { kind: 'status', status: 'investigating', note: 'C2 seen' }),
    ).toEqual({
      state: state('investigating', 'kenji'),
      note: 'C2 seen',
    });
    expect(nextTriageState(state('new'), { kind: 'status', status: 'acknowledged' })).toEqual({
      state: state('acknowledged'),
      note: null,
    });
  });

  it('refuses a move the rules do not allow, and one that changes nothing', () => {
    expect(nextTriageState(state('resolved'), { kind: 'status', status: 'acknowledged' })).toEqual({
      refused: 'an alert cannot move from resolved to acknowledged',
    });
    expect(nextTriageState(state('investigating'), { kind: 'status', status: 'investigating' })).toEqual({
      refused: 'the alert is already investigating',
    });
    expect(nextTriageState(state('new', 'kenji'), { kind: 'assignee', assignee: 'kenji' })).toEqual({
      refused: 'already assigned to kenji',
    });
    expect(nextTriageState(state('new'), { kind: 'assignee', assignee: null })).toEqual({
      refused: 'nobody is assigned',
    });
  });

  it('assigns, unassigns and annotates without touching the status', () => {
    expect(nextTriageState(state('acknowledged'), { kind: 'assignee', assignee: 'aiko' })).toEqual({
      state: state('acknowledged', 'aiko'),
      note: null,
    });
    expect(nextTriageState(state('acknowledged', 'aiko'), { kind: 'assignee', assignee: null })).toEqual({
      state: state('acknowledged'),
      note: null,
    });
    expect(nextTriageState(state('resolved', 'aiko'), { kind: 'note', text: 'closed with the ISP' })).toEqual(
      {
        state: state('resolved', 'aiko'),
        note: 'closed with the ISP',
      },
    );
  });
});

describe('the default access re-check', () => {
  const principal = { subject: 's', organisationId: 'gsoc', sector: 'finance' as const, roles: [] };
  it('keeps a stream whose token has not expired and closes one whose token has', () => {
    const now = Date.parse('2026-11-28T00:00:00Z');
    expect(tokenStillValid({ ...principal, expiresAt: '2026-11-28T00:00:01.000Z' }, now)).toBe(true);
    expect(tokenStillValid({ ...principal, expiresAt: '2026-11-28T00:00:00.000Z' }, now)).toBe(false);
    expect(tokenStillValid(principal, now)).toBe(true);
  });
});

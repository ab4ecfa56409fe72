import { describe, expect, it } from 'vitest';
import type { SupervisorState } from '../src/state.js';
import { describeStatus } from '../src/status.js';

const now = Date.parse('2026-12-07T12:00:00Z');
const state: SupervisorState = {
  pid: 100,
  startedAt: '2026-12-07T10:00:00Z',
  services: [
    {
      name: 'correlator',
      state: 'running',
      pid: 101,
      startedAt: '2026-12-07T10:00:01Z',
      restarts: 0,
      lastExit: null,
      nextStartAt: null,
      readyUrl: 'http://127.0.0.1:7402/readyz',
      logFile: '/x/correlator.log',
    },
    {
      name: 'ingest',
      state: 'waiting',
      pid: null,
      startedAt: null,
      restarts: 3,
      lastExit: { code: null, signal: 'SIGKILL', at: '2026-12-07T11:59:58Z' },
      nextStartAt: '2026-12-07T12:00:04Z',
      readyUrl: 'http://127.0.0.1:7400/readyz',
      logFile: '/x/ingest.log',
    },
  ],
};

describe('npm run status', () => {
  it('shows each service with pid, uptime, restarts, readiness and its last stop', () => {
    const { text, healthy } = describeStatus(state, true, { correlator: 200, ingest: null }, now);
    expect(healthy).toBe(false);
    const lines = text.split('\n');
    expect(lines[0]).toBe('Renkei supervisor: pid 100, up 2h 0m');
    expect(lines[1]).toMatch(/^service\s+state\s+pid\s+uptime\s+restarts\s+ready\s+last stop$/);
    expect(lines[2]).toMatch(/^correlator\s+running\s+101\s+1h 59m\s+0\s+yes\s+-$/);
    expect(lines[3]).toMatch(
      /^ingest\s+waiting\s+-\s+-\s+3\s+no answer\s+SIGKILL at 2026-12-07T11:59:58Z; next start in 4s$/,
    );
  });

  it('is healthy only when every service answers ready', () => {
    expect(describeStatus(state, true, { correlator: 200, ingest: 200 }, now).healthy).toBe(true);
    expect(describeStatus(state, true, { correlator: 200, ingest: 503 }, now).text).toContain('no (503)');
  });

  it('says how to start a hub that is not running', () => {
    for (const result of [describeStatus(undefined, false, {}, now), describeStatus(state, false, {}, now)]) {
      expect(result.healthy).toBe(false);
      expect(result.text).toMatch(/not running.*npm run up/);
    }
  });
});

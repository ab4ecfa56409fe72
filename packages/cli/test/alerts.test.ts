import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError, runCommand } from '@renkei/cli';
import type { StreamEvent } from '@renkei/client';
import { alertRecordFixture } from '@renkei/testing';
import { formatEvent, parseTailOptions } from '../src/alerts.js';

const env = { RENKEI_TOKEN: 'from-env' };

describe('renkei alerts tail: options', () => {
  it('reads the filter from the flags, kinds and sectors repeated or comma-separated', () => {
    const options = parseTailOptions(
      [
        '--min-severity',
        'high',
        '--kind',
        'campaign,shared-indicator',
        '--kind',
        'sector-surge',
        '--sector',
        'water',
        '--exercise',
        'false',
        '--json',
      ],
      env,
    );
    expect(options).toMatchObject({
      url: 'http://127.0.0.1:7401',
      token: 'from-env',
      json: true,
      after: undefined,
      filter: {
        minSeverity: 'high',
        kinds: ['campaign', 'shared-indicator', 'sector-surge'],
        sectors: ['water'],
        exercise: false,
      },
    });
    expect(parseTailOptions(['--token', 't', '--url', 'https://renkei.example'], {})).toMatchObject({
      url: 'https://renkei.example',
      token: 't',
      filter: {},
    });
    expect(parseTailOptions([], { ...env, RENKEI_GATEWAY_URL: 'http://gw:1' }).url).toBe('http://gw:1');
  });

  it('takes a cursor that begins with a dash as the value of --after', () => {
    // Sealed cursors are base64url: one in 64 begins with "-" (found in a full run).
    const cursor = '-AbCdEfGhIjKlMnOpQrStU';
    expect(parseTailOptions(['--after', cursor, '--json'], env)).toMatchObject({ after: cursor, json: true });
    expect(parseTailOptions([`--after=${cursor}`], env).after).toBe(cursor);
  });

  it('names the option that is wrong', () => {
    const wrong: [string[], RegExp][] = [
      [['--min-severity', 'severe'], /^--min-severity: /],
      [['--kind', 'campaign,apt'], /^--kind: /],
      [['--sector', 'space'], /^--sector: /],
      [['--exercise', 'maybe'], /^--exercise: /],
      [['--after', 'x1'], /^--after: /],
      [['--colour'], /Unknown option '--colour'/],
    ];
    for (const [args, message] of wrong) {
      expect(() => parseTailOptions(args, env)).toThrow(UsageError);
      expect(() => parseTailOptions(args, env)).toThrow(message);
    }
    expect(() => parseTailOptions([], {})).toThrow(/^--token: required/);
  });

  it('resumes from the cursor kept in a file, unless --after says otherwise', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'renkei-tail-'));
    try {
      const file = path.join(dir, 'cursor');
      expect(parseTailOptions(['--cursor-file', file], env).after).toBeUndefined();
      // Cursors are opaque tokens the gateway gave out; the file keeps one as it came.
      const kept = 'k4x8Qm2Zp0vN7sTq1YcW9A';
      const given = 'Z2yq8_Lr-3mNw0PaXe5TbQ';
      await writeFile(file, `${kept}\n`);
      expect(parseTailOptions(['--cursor-file', file], env).after).toBe(kept);
      expect(parseTailOptions(['--cursor-file', file, '--after', given], env).after).toBe(given);
      await writeFile(file, '1234\n');
      expect(() => parseTailOptions(['--cursor-file', file], env)).toThrow(/does not hold a cursor/);
      await writeFile(file, 'yesterday');
      expect(() => parseTailOptions(['--cursor-file', file], env)).toThrow(/does not hold a cursor/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is reached through the dispatcher, which refuses other subcommands', async () => {
    await expect(runCommand(['alerts', 'list'], env)).rejects.toThrow(/usage: renkei alerts tail/);
    await expect(runCommand(['alerts', 'tail', '--exercise', 'x'], env)).rejects.toThrow(/--exercise/);
  });
});

describe('renkei alerts tail: one line per event', () => {
  it('writes cursor, time and what happened', () => {
    const alert = alertRecordFixture({ exercise: true, severity: 'critical' });
    const events: StreamEvent[] = [
      {
        type: 'alert',
        cursor: 'c41c41c41c41c41c41c41c4',
        alert: {
          id: alert.id,
          version: 2,
          kind: alert.kind,
          severity: alert.severity,
          tlp: alert.tlp,
          title: alert.title,
          reasons: alert.reasons,
          indicators: alert.indicators,
          sectors: alert.sectors,
          organisationCount: 2,
          reportIds: [],
          relatedAlertIds: [],
          tooCommon: false,
          createdAt: alert.createdAt,
          updatedAt: alert.updatedAt,
          exercise: true,
        },
      },
      {
        type: 'alert-update',
        cursor: 'c42c42c42c42c42c42c42c4',
        update: {
          alertId: alert.id,
          status: 'investigating',
          assignee: 'aiko',
          note: 'C2 up',
          by: 'kenji',
          at: '2026-11-28T01:00:00.000Z',
        },
      },
      { type: 'gap', after: 'g2g2g2g2g2g2g2g2g2g2g2', resumeFrom: 'g40g40g40g40g40g40g40g' },
    ];
    const lines = events.map(formatEvent);
    expect(lines[0]).toBe(
      `#c41c41c41c41c41c41c41c4  2026-11-28T00:00:00.000Z  alert  CRITICAL  GREEN  shared-indicator v2  ${alert.title} [exercise]  (${alert.id})`,
    );
    expect(lines[1]).toBe(
      `#c42c42c42c42c42c42c42c4  2026-11-28T01:00:00.000Z  triage  investigating  assigned to aiko  by kenji  "C2 up"  (${alert.id})`,
    );
    expect(lines[2]).toMatch(/^gap: events after #g2g2g2g2g2g2g2g2g2g2g2 up to #g40g40g40g40g40g40g40g /);
    for (const line of lines) expect(line).not.toContain('\n');
  });
});

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SCENARIO_TEMPLATES_DIR } from '@renkei/exercise';
import { runCommand } from '../src/commands.js';
import { exerciseCommand } from '../src/exercise.js';

const templates = fileURLToPath(SCENARIO_TEMPLATES_DIR);

describe('renkei exercise validate', () => {
  it('passes the shipped templates', async () => {
    for (const file of ['targeted-attack-finance-telecom.json', 'cross-sector-ddos.json']) {
      expect(await runCommand(['exercise', 'validate', path.join(templates, file)], {})).toMatch(
        /: valid \(4 injects, 4 expectations\)$/,
      );
    }
  });

  it('names the path of each problem', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'renkei-scenario-'));
    const file = path.join(dir, 'bad.json');
    await writeFile(
      file,
      JSON.stringify({
        schema: 'renkei.exercise-scenario.v1',
        id: 'bad',
        version: 1,
        title: { ja: 'あ', en: 'a' },
        description: { ja: 'あ', en: 'a' },
        participants: [{ sector: 'finance' }],
        injects: [
          {
            id: 'w',
            at: 'PT5M',
            kind: 'warning',
            warning: { title: 't', body: 'b', severity: 'low', tlp: 'GREEN', sectors: 'all' },
          },
        ],
        expectations: [{ id: 'a', kind: 'acknowledge', after: 'w', within: 'soon' }],
      }),
    );
    await expect(runCommand(['exercise', 'validate', file], {})).rejects.toThrow(
      'expectations[0].within: is not an ISO 8601 duration',
    );
  });

  it('says how to use it', async () => {
    await expect(runCommand(['exercise', 'run'], {})).rejects.toThrow('exercise run FILE [--speed N]');
  });
});

describe('renkei exercise archive and purge', () => {
  const RUN = '0b7e4c1a-3f1e-4e8a-9a51-2f3c4d5e6f70';
  const gateway = (answers: Record<string, unknown>) => {
    const calls: string[] = [];
    const fetch = (async (url: URL, init: RequestInit) => {
      const key = `${init.method} ${url.pathname}`;
      calls.push(key);
      return new Response(JSON.stringify(answers[key] ?? { code: 'RENKEI_NOT_FOUND' }), {
        status: key in answers ? 200 : 404,
      });
    }) as unknown as typeof globalThis.fetch;
    return { calls, io: { err: () => undefined, fetch } };
  };

  it('archives with POST …/archive and purges with DELETE, printing what went', async () => {
    const { calls, io } = gateway({
      [`POST /v1/exercises/${RUN}/archive`]: { id: RUN, archivedAt: '2026-12-07T18:00:00.000Z' },
      [`DELETE /v1/exercises/${RUN}`]: {
        id: RUN,
        purged: { reports: 3, alerts: 1, warnings: 1, acknowledgements: 2, triage: 1, kept: 0 },
      },
    });
    const env = { RENKEI_TOKEN: 't', RENKEI_GATEWAY_URL: 'http://gateway.test' };
    expect(await exerciseCommand(['archive', RUN], env, io)).toBe(
      `run ${RUN}: report archived at 2026-12-07T18:00:00.000Z`,
    );
    expect(await exerciseCommand(['purge', RUN], env, io)).toBe(
      `run ${RUN}: purged 3 reports, 1 alerts, 1 warnings, 2 acknowledgements, 1 triage changes`,
    );
    expect(calls).toEqual([`POST /v1/exercises/${RUN}/archive`, `DELETE /v1/exercises/${RUN}`]);
  });

  it('fails with the gateway’s answer when the run cannot be purged', async () => {
    const { io } = gateway({});
    await expect(exerciseCommand(['purge', RUN], { RENKEI_TOKEN: 't' }, io)).rejects.toThrow(
      'the gateway answered 404',
    );
  });
});

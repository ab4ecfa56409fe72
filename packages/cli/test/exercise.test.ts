import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SCENARIO_TEMPLATES_DIR } from '@renkei/exercise';
import { runCommand } from '../src/commands.js';

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

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { checkScenario, formatDuration, type AfterActionReport } from '@renkei/exercise';
import { exerciseScenarioSchema, type ExerciseRunView } from '@renkei/schema';
import { CommandFailure } from './interop.js';
import { gatewayCall } from './gateway-call.js';
import { UsageError } from './usage.js';

export const EXERCISE_USAGE = `  exercise validate FILE
        check a scenario file's shape and references (organisations are checked when it is planned)
  exercise run FILE [--speed N] [--url URL] [--token TOKEN]
        plan and start a run on the gateway, follow it to the end, print the summary (analyst token)
  exercise status ID [--url URL] [--token TOKEN]
        a run's state, injects and expectations
  exercise report ID [--format json|csv|html] [--lang ja|en] [--url URL] [--token TOKEN]
        the after-action report
  exercise archive ID [--url URL] [--token TOKEN]
        freeze an ended run's after-action report, so its items may be purged
  exercise purge ID [--url URL] [--token TOKEN]
        remove every item of an archived run (reports, alerts, warnings, acknowledgements, triage)`;

export interface ExerciseIo {
  err: (line: string) => void;
  fetch?: typeof fetch;
  /** How long `run` waits between looks at the run. */
  pollMs?: number;
}

const defaultIo = (): ExerciseIo => ({ err: (line) => process.stderr.write(line + '\n') });

export async function exerciseCommand(
  args: string[],
  env: Record<string, string | undefined>,
  io: ExerciseIo = defaultIo(),
): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      speed: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      format: { type: 'string' },
      lang: { type: 'string' },
    },
  });
  const [action, target, ...extra] = positionals;
  if (!action || !target || extra.length > 0) throw new UsageError(`usage:\n${EXERCISE_USAGE}`);
  const base = values.url ?? env.RENKEI_GATEWAY_URL ?? 'http://127.0.0.1:7401';
  const call = async (method: string, path: string, body?: unknown) => {
    const token = values.token ?? env.RENKEI_TOKEN;
    if (!token) throw new UsageError('a token is needed: --token or RENKEI_TOKEN (pnpm renkei token …)');
    const { status, text } = await gatewayCall(io.fetch, new URL(path, base), token, method, body);
    if (status >= 400) throw new CommandFailure(`the gateway answered ${status}: ${text}`);
    return text;
  };

  switch (action) {
    case 'validate': {
      const scenario = await readScenario(target);
      // The shape and everything but the registry: here every organisation the file names is
      // known, enabled and in every sector it names; the gateway checks them against the registry.
      const parsed = exerciseScenarioSchema.safeParse(scenario);
      const named = parsed.success
        ? [
            ...parsed.data.participants.flatMap((p) => ('organisation' in p ? [p.organisation] : [])),
            ...parsed.data.injects.flatMap((i) =>
              i.kind === 'report' ? [i.from] : i.kind === 'information-request' ? [i.to] : [],
            ),
            ...parsed.data.expectations.flatMap((e) => (e.kind === 'report' ? [e.participant] : [])),
          ]
        : [];
      const checked = checkScenario(
        scenario,
        (id) => ({ id, sector: 'central-government', enabled: true }),
        () => [...new Set(named)],
      );
      if (!checked.ok) {
        throw new CommandFailure(checked.issues.map((issue) => `${issue.path}: ${issue.message}`).join('\n'));
      }
      const { injects, expectations } = exerciseScenarioSchema.parse(scenario);
      return `${target}: valid (${injects.length} injects, ${expectations.length} expectations)`;
    }
    case 'run': {
      const speed = values.speed === undefined ? 1 : Number(values.speed);
      if (!Number.isInteger(speed) || speed < 1 || speed > 600)
        throw new UsageError('--speed: a whole number 1–600');
      const scenario = await readScenario(target);
      const { id } = JSON.parse(await call('POST', '/v1/exercises', { scenario, speed })) as { id: string };
      await call('POST', `/v1/exercises/${id}/start`);
      io.err(`run ${id} started at speed ${speed}`);
      let run: ExerciseRunView;
      let seen = 0;
      for (;;) {
        run = JSON.parse(await call('GET', `/v1/exercises/${id}`)) as ExerciseRunView;
        const sent = run.injects.filter((inject) => inject.sentAt !== null);
        for (const inject of sent.slice(seen)) io.err(`  sent ${inject.id} (${inject.kind}, ${inject.at})`);
        seen = sent.length;
        if (run.state === 'completed' || run.state === 'aborted') break;
        await new Promise((resolve) => setTimeout(resolve, io.pollMs ?? 1_000));
      }
      const report = JSON.parse(await call('GET', `/v1/exercises/${id}/report`)) as AfterActionReport;
      return summary(report);
    }
    case 'status':
      return JSON.stringify(JSON.parse(await call('GET', `/v1/exercises/${target}`)), null, 2);
    case 'report': {
      const format = values.format ?? 'json';
      const lang = values.lang ?? 'en';
      if (!['json', 'csv', 'html'].includes(format)) throw new UsageError('--format: json, csv or html');
      if (!['ja', 'en'].includes(lang)) throw new UsageError('--lang: ja or en');
      return (await call('GET', `/v1/exercises/${target}/report?format=${format}&lang=${lang}`)).trimEnd();
    }
    case 'archive': {
      const { archivedAt } = JSON.parse(await call('POST', `/v1/exercises/${target}/archive`)) as {
        archivedAt: string;
      };
      return `run ${target}: report archived at ${archivedAt}`;
    }
    case 'purge': {
      const { purged } = JSON.parse(await call('DELETE', `/v1/exercises/${target}`)) as {
        purged: Record<'reports' | 'alerts' | 'warnings' | 'acknowledgements' | 'triage' | 'kept', number>;
      };
      return [
        `run ${target}: purged ${purged.reports} reports, ${purged.alerts} alerts, ${purged.warnings} warnings, ` +
          `${purged.acknowledgements} acknowledgements, ${purged.triage} triage changes`,
        ...(purged.kept > 0 ? [`kept ${purged.kept} items another run still holds`] : []),
      ].join('\n');
    }
    default:
      throw new UsageError(`usage:\n${EXERCISE_USAGE}`);
  }
}

async function readScenario(file: string): Promise<unknown> {
  const text = file === '-' ? readFileSync(0, 'utf8') : await readFile(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CommandFailure(`${file}: not JSON (${(error as Error).message})`);
  }
}

/** What `run` prints at the end: the figures a debrief starts from. */
export function summary(report: AfterActionReport): string {
  const { expectations, acknowledgement } = report;
  return [
    `${report.run.scenario.title.en} (${report.run.scenario.id} v${report.run.scenario.version}), run ${report.run.id}: ${report.run.state}`,
    `expectations: ${expectations.met} met, ${expectations.late} late, ${expectations.missed} missed, ${expectations.pending} pending of ${expectations.total}`,
    `time to acknowledge (median, scenario time): ${formatDuration(acknowledgement.medianMs)}`,
    ...acknowledgement.bySector.map(
      (row) =>
        `  ${row.sector}: ${row.acknowledged}/${row.expected} acknowledged, median ${formatDuration(row.medianMs)}`,
    ),
  ].join('\n');
}

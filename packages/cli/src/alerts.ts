import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createStreamClient, StreamClientError, type StreamEvent, type StreamStatus } from '@renkei/client';
import {
  alertKindSchema,
  cursorSchema,
  sectorSchema,
  severitySchema,
  type StreamFilter,
} from '@renkei/schema';
import { UsageError } from './usage.js';

export const ALERTS_USAGE = `usage: renkei alerts tail [options]

Follows the live feed, one line per event, resuming by cursor across
interruptions (a gateway restart, a network blip) until interrupted.

options:
  --url URL            the gateway (default: $RENKEI_GATEWAY_URL or http://127.0.0.1:7401)
  --token TOKEN        a token (default: $RENKEI_TOKEN)
  --min-severity SEV   low | medium | high | critical
  --kind KIND          an alert kind; repeat or separate with commas
  --sector SECTOR      alerts touching this sector; repeat or separate with commas
  --exercise BOOL      true: drills only; false: real incidents only
  --after CURSOR       start after this cursor (replays what followed it)
  --cursor-file PATH   resume from the cursor kept in this file, and keep it there
  --json               print each event as its JSON frame
`;

export interface AlertsIo {
  /** One line per event. */
  out: (line: string) => void;
  /** Connection news, for people. */
  err: (line: string) => void;
  /** Ends the tail (Ctrl-C). */
  signal?: AbortSignal;
}

const defaultIo = (): AlertsIo => {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  return {
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    signal: controller.signal,
  };
};

export async function alertsCommand(
  args: string[],
  env: Record<string, string | undefined>,
  io?: AlertsIo,
): Promise<string> {
  const [subcommand, ...rest] = args;
  if (subcommand !== 'tail') throw new UsageError(ALERTS_USAGE);
  const options = parseTailOptions(rest, env);
  await tail(options, io ?? defaultIo());
  return '';
}

interface TailOptions {
  url: string;
  token: string;
  filter: StreamFilter;
  after: string | undefined;
  cursorFile: string | undefined;
  json: boolean;
}

const list = (values: string[] | undefined) => values?.flatMap((value) => value.split(',')).filter(Boolean);

/**
 * A sealed cursor may begin with `-` (base64url), which `parseArgs` would
 * take for an option: `--after -Xy…` becomes `--after=-Xy…`, as a person
 * means it.
 */
export function attachCursorValues(args: readonly string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (arg === '--after' && next !== undefined && next.startsWith('-') && !next.startsWith('--')) {
      joined.push(`--after=${next}`);
      i += 1;
    } else joined.push(arg);
  }
  return joined;
}

/** Reads the options, naming the one that is wrong. */
export function parseTailOptions(args: string[], env: Record<string, string | undefined>): TailOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: attachCursorValues(args),
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        'min-severity': { type: 'string' },
        kind: { type: 'string', multiple: true },
        sector: { type: 'string', multiple: true },
        exercise: { type: 'string' },
        after: { type: 'string' },
        'cursor-file': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${ALERTS_USAGE}`);
  }
  const check = <T>(option: string, parse: () => T): T => {
    try {
      return parse();
    } catch {
      throw new UsageError(`--${option}: not valid; see \`renkei alerts tail --help\`\n\n${ALERTS_USAGE}`);
    }
  };
  const token = values.token ?? env.RENKEI_TOKEN;
  if (!token) throw new UsageError('--token: required (or set RENKEI_TOKEN); mint one with `renkei token`');
  const url = values.url ?? env.RENKEI_GATEWAY_URL ?? 'http://127.0.0.1:7401';
  check('url', () => new URL(url));
  const kinds = list(values.kind);
  const sectors = list(values.sector);
  const exercise = values.exercise;
  if (exercise !== undefined && exercise !== 'true' && exercise !== 'false')
    throw new UsageError(`--exercise: must be true or false, not "${exercise}"`);
  const filter: StreamFilter = {
    ...(values['min-severity']
      ? { minSeverity: check('min-severity', () => severitySchema.parse(values['min-severity'])) }
      : {}),
    ...(kinds ? { kinds: check('kind', () => kinds.map((kind) => alertKindSchema.parse(kind))) } : {}),
    ...(sectors
      ? { sectors: check('sector', () => sectors.map((sector) => sectorSchema.parse(sector))) }
      : {}),
    ...(exercise === undefined ? {} : { exercise: exercise === 'true' }),
  };
  const cursorFile = values['cursor-file'];
  const kept = cursorFile ? readCursorFile(cursorFile) : undefined;
  const after = values.after ?? kept;
  if (after !== undefined) check('after', () => cursorSchema.parse(after));
  return { url, token, filter, after, cursorFile, json: values.json };
}

function readCursorFile(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (!cursorSchema.safeParse(text).success)
    throw new UsageError(`--cursor-file: ${file} does not hold a cursor`);
  return text;
}

/** Written beside and renamed over, so an interrupted write never leaves half a cursor. */
function keepCursor(file: string, cursor: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, cursor + '\n');
  renameSync(temporary, file);
}

async function tail(options: TailOptions, io: AlertsIo): Promise<void> {
  const client = createStreamClient({
    url: options.url,
    token: options.token,
    filter: options.filter,
    ...(options.after === undefined ? {} : { after: options.after }),
    onStatus: (status) => io.err(describeStatus(status)),
  });
  const stop = () => void client.close();
  io.signal?.addEventListener('abort', stop, { once: true });
  try {
    for await (const event of client) {
      io.out(options.json ? JSON.stringify(event) : formatEvent(event));
      if (options.cursorFile && client.cursor) keepCursor(options.cursorFile, client.cursor);
    }
  } catch (error) {
    if (error instanceof StreamClientError) throw new UsageError(`the stream stopped: ${error.message}`);
    throw error;
  } finally {
    io.signal?.removeEventListener('abort', stop);
    await client.close();
  }
}

function describeStatus(status: StreamStatus): string {
  switch (status.state) {
    case 'connecting':
      return `connecting to ${status.url}${status.attempt > 0 ? ` (attempt ${status.attempt + 1})` : ''}`;
    case 'open':
      return `watching as ${status.principal.subject} (${status.principal.organisationId})`;
    case 'closed':
      return `disconnected (${status.code}${status.reason ? ` ${status.reason}` : ''})${
        status.retryInMs === null ? '' : `; reconnecting in ${status.retryInMs} ms`
      }`;
  }
}

/** One line for people: cursor, time, what happened. */
export function formatEvent(event: StreamEvent): string {
  switch (event.type) {
    case 'gap':
      return `gap: events after #${event.after} up to #${event.resumeFrom} are older than the feed keeps; going on from #${event.resumeFrom}`;
    case 'alert': {
      const { alert } = event;
      return [
        `#${event.cursor}`,
        alert.updatedAt,
        'alert',
        alert.severity.toUpperCase(),
        alert.tlp,
        `${alert.kind} v${alert.version}`,
        alert.title + (alert.exercise ? ' [exercise]' : ''),
        `(${alert.id})`,
      ].join('  ');
    }
    case 'alert-update': {
      const { update } = event;
      return [
        `#${event.cursor}`,
        update.at,
        'triage',
        update.status,
        update.assignee ? `assigned to ${update.assignee}` : 'unassigned',
        `by ${update.by}`,
        ...(update.note ? [JSON.stringify(update.note)] : []),
        `(${update.alertId})`,
      ].join('  ');
    }
    case 'warning': {
      const { warning } = event;
      const sectors = warning.sectors === 'all' ? 'all sectors' : warning.sectors.join(',');
      return [
        `#${event.cursor}`,
        warning.publishedAt,
        'warning',
        warning.severity.toUpperCase(),
        warning.tlp,
        `to ${sectors}`,
        warning.title + (warning.exercise ? ' [exercise]' : ''),
        `(${warning.id})`,
      ].join('  ');
    }
    case 'warning-ack':
      return [
        `#${event.cursor}`,
        event.ack.at,
        'ack',
        `${event.ack.organisationId} by ${event.ack.by}`,
        `(${event.ack.warningId})`,
      ].join('  ');
    case 'exercise': {
      const { exercise } = event;
      if (exercise.audience === 'participant') {
        return [`#${event.cursor}`, exercise.task.sentAt, 'exercise task', exercise.task.message.en].join(
          '  ',
        );
      }
      const { run } = exercise;
      const counts = ['met', 'late', 'missed', 'pending']
        .map((status) => `${run.expectations.filter((o) => o.status === status).length} ${status}`)
        .join(', ');
      return [`#${event.cursor}`, 'exercise', run.state, run.scenario.title.en, counts, `(${run.id})`].join(
        '  ',
      );
    }
  }
}

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { importAnswerSchema, tlpSchema, type ImportAnswer } from '@renkei/schema';
import { UsageError } from './usage.js';

export const IMPORT_USAGE = `  import stix FILE [--tlp TLP] | import misp FILE [--json] [--url URL] [--token TOKEN]
        import a STIX 2.1 bundle or a MISP event through ingest ($RENKEI_INGEST_URL, $RENKEI_TOKEN);
        --tlp declares the TLP of what the bundle leaves unmarked (CLEAR, GREEN, AMBER, AMBER+STRICT, RED)`;
export const EXPORT_USAGE = `  export stix [--since TIME] [--limit N] [--url URL] [--token TOKEN] > bundle.json
        what the token may see, as a STIX 2.1 bundle, from the gateway ($RENKEI_GATEWAY_URL)`;

/** A command that ran but failed: its message is for people, no stack. */
export class CommandFailure extends Error {
  override readonly name = 'CommandFailure';
}

export interface InteropIo {
  /** Notes for people (stderr). */
  err: (line: string) => void;
  fetch?: typeof fetch;
}

const defaultIo = (): InteropIo => ({ err: (line) => process.stderr.write(line + '\n') });

export function tokenFrom(value: string | undefined, env: Record<string, string | undefined>): string {
  const token = value ?? env.RENKEI_TOKEN;
  if (!token) throw new UsageError('a token is needed: --token or RENKEI_TOKEN (pnpm renkei token …)');
  return token;
}

export async function importCommand(
  args: string[],
  env: Record<string, string | undefined>,
  io: InteropIo = defaultIo(),
): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      url: { type: 'string' },
      token: { type: 'string' },
      tlp: { type: 'string' },
    },
  });
  const [format, file, ...extra] = positionals;
  if ((format !== 'stix' && format !== 'misp') || !file || extra.length > 0) {
    throw new UsageError(`usage:\n${IMPORT_USAGE}`);
  }
  if (values.tlp !== undefined && (format !== 'stix' || !tlpSchema.safeParse(values.tlp).success)) {
    throw new UsageError(`--tlp: one of ${tlpSchema.options.join(', ')}, for a STIX bundle`);
  }
  const token = tokenFrom(values.token, env);
  const base = values.url ?? env.RENKEI_INGEST_URL ?? 'http://127.0.0.1:7400';
  const body = await readFile(file);
  const response = await (io.fetch ?? fetch)(
    new URL(
      format === 'stix'
        ? `/v1/stix/bundles${values.tlp ? `?tlp=${encodeURIComponent(values.tlp)}` : ''}`
        : '/v1/misp/events',
      base,
    ),
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': format === 'stix' ? 'application/stix+json;version=2.1' : 'application/json',
      },
      body,
    },
  );
  const payload: unknown = await response.json().catch(() => undefined);
  if (response.status !== 202) throw new CommandFailure(describeError(response.status, payload));
  const answer = importAnswerSchema.parse(payload);
  return values.json ? JSON.stringify(answer, null, 2) : formatImportAnswer(answer);
}

export async function exportCommand(
  args: string[],
  env: Record<string, string | undefined>,
  io: InteropIo = defaultIo(),
): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      since: { type: 'string' },
      limit: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
    },
  });
  if (positionals.length !== 1 || positionals[0] !== 'stix') throw new UsageError(`usage:\n${EXPORT_USAGE}`);
  if (values.since !== undefined && Number.isNaN(Date.parse(values.since))) {
    throw new UsageError(`--since: "${values.since}" is not a time (2026-11-30T00:00:00Z)`);
  }
  const token = tokenFrom(values.token, env);
  const url = new URL('/v1/stix/bundle', values.url ?? env.RENKEI_GATEWAY_URL ?? 'http://127.0.0.1:7401');
  if (values.since !== undefined) url.searchParams.set('since', new Date(values.since).toISOString());
  url.searchParams.set('limit', values.limit ?? '10000');
  const response = await (io.fetch ?? fetch)(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  if (response.status !== 200) {
    throw new CommandFailure(describeError(response.status, safeJson(text)));
  }
  const next = response.headers.get('renkei-next-since');
  if (next) io.err(`renkei: more than --limit items; run again with --since ${next} for the rest`);
  return text;
}

/** What an import became, for people: one line per report, then what was not mapped and why. */
export function formatImportAnswer(answer: ImportAnswer): string {
  const lines = answer.reports.map((report) => {
    const source = `${report.source.type}${report.source.id ? ` ${report.source.id}` : ''}`;
    const what =
      report.status === 'accepted' || report.status === 'already-accepted'
        ? `report ${report.id} ${report.status} (TLP:${report.tlp}, ${report.indicators} indicators)`
        : `${report.status}: ${report.reason?.code ?? ''} ${report.reason?.message ?? ''}`.trim();
    return [`${source}: ${what}`, ...report.notes.map((note) => `  note: ${note}`)].join('\n');
  });
  const { summary } = answer;
  lines.push(
    `${summary.items} ${answer.format === 'misp' ? 'attributes' : 'objects'}: ${summary.mapped} mapped, ` +
      `${summary.context} context, ${summary.unmapped} not mapped`,
  );
  for (const item of answer.items) {
    if (item.status !== 'unmapped') continue;
    lines.push(
      `  ${item.position} ${item.id ?? item.type ?? ''}: ${item.reason?.code}: ${item.reason?.message}`,
    );
  }
  return lines.join('\n');
}

export function describeError(status: number, payload: unknown): string {
  const error = payload as { code?: string; message?: string; fields?: { field: string; message: string }[] };
  if (!error?.code) return `the server answered ${status}`;
  const fields = (error.fields ?? []).map((f) => `\n  ${f.field}: ${f.message}`).join('');
  return `${error.code} (${status}): ${error.message ?? ''}${fields}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

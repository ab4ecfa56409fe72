import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  formatLookupCsv,
  lookupAnswerSchema,
  lookupRow,
  MAX_LOOKUP_VALUES,
  type LookupResult,
} from '@renkei/schema';
import { CommandFailure, describeError, tokenFrom } from './interop.js';
import { UsageError } from './usage.js';

export const LOOKUP_USAGE = `  lookup FILE|- [--format table|json|csv] [--exercise] [--url URL] [--token TOKEN]
        have we seen these? one value a line, any types, as written (defanged too), from the gateway`;

const FORMATS = ['table', 'json', 'csv'] as const;
type Format = (typeof FORMATS)[number];

export interface LookupIo {
  /** The values when FILE is `-`. */
  stdin?: () => Promise<string>;
  fetch?: typeof fetch;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `renkei lookup FILE|-`: every value of the file (one a line; blank lines and
 * lines starting with `#` skipped), looked up in requests of at most 10,000
 * values, answered in the file's order.
 */
export async function lookupCommand(
  args: string[],
  env: Record<string, string | undefined>,
  io: LookupIo = {},
): Promise<string> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'table' },
      exercise: { type: 'boolean', default: false },
      url: { type: 'string' },
      token: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`usage:\n${LOOKUP_USAGE}`);
  const format = values.format as Format;
  if (!FORMATS.includes(format)) throw new UsageError(`--format: one of ${FORMATS.join(', ')}`);
  const token = tokenFrom(values.token, env);
  const [source] = positionals as [string];
  const text = source === '-' ? await (io.stdin ?? readStdin)() : await readFile(source, 'utf8');
  const lines = text
    .split(/\r?\n/u)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
  if (lines.length === 0) throw new UsageError(`no values in ${source === '-' ? 'standard input' : source}`);

  const url = new URL('/v1/lookup', values.url ?? env.RENKEI_GATEWAY_URL ?? 'http://127.0.0.1:7401');
  const results: LookupResult[] = [];
  for (let start = 0; start < lines.length; start += MAX_LOOKUP_VALUES) {
    const response = await (io.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        values: lines.slice(start, start + MAX_LOOKUP_VALUES),
        exercise: values.exercise,
      }),
    });
    const payload: unknown = await response.json().catch(() => undefined);
    if (response.status !== 200) throw new CommandFailure(describeError(response.status, payload));
    results.push(...lookupAnswerSchema.parse(payload).results);
  }
  switch (format) {
    case 'json':
      return JSON.stringify({ results }, null, 2);
    case 'csv':
      return formatLookupCsv(results);
    case 'table':
      return formatLookupTable(results);
  }
}

/** Aligned columns for people: what each value is, whether it is known, how widely and where it stops. */
export function formatLookupTable(results: readonly LookupResult[]): string {
  const shown = [
    'value',
    'canonical',
    'known',
    'reports',
    'organisations',
    'last_seen',
    'alerts',
    'suppressed_by',
  ] as const;
  const rows = results.map((result) => {
    const cells = lookupRow(result);
    return shown.map((column) =>
      column === 'canonical' && result.error
        ? `(${result.error})`
        : column === 'alerts'
          ? String(result.alerts.length || '')
          : cells[column],
    );
  });
  const header = shown.map((column) => column.replace('_', ' '));
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((cells) => cells[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const known = results.filter((result) => result.known).length;
  return [line(header), ...rows.map(line), `${results.length} values, ${known} known`].join('\n');
}

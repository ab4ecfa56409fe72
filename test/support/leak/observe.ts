import WebSocket from 'ws';
import { sleep } from '@renkei/testing';

/** One request a viewer made and what it got, before canonicalisation. */
export interface Exchange {
  /** Which path of the hub this is about, for the report: `alerts`, `stream`, `stix`, `taxii`, `warnings`… */
  path: string;
  request: string;
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** How long it took (never compared): where a large run spends its time. */
  ms?: number;
}

export interface ObservePlan {
  /** Every alert id of the whole history (world A), the same list in every world: asked one by one. */
  alertIds: readonly string[];
  /** Every warning id of the history, likewise. */
  warningIds: readonly string[];
  /** Every report id of the history, likewise: each read as a report page (`GET /v1/reports/:id`). */
  reportIds: readonly string[];
  /**
   * Moments a client might have last looked, as `since` and `added_after`: the
   * end of each step the viewer may know of, in this world's own timeline.
   */
  probeTimes: readonly string[];
  /**
   * Ask for TAXII objects one by one and after each moment: `all` of them
   * (objects and manifest), or only `groupings` (alerts: what hidden reports
   * join), and the manifest alone after each moment. Each builds the whole collection.
   */
  objects: 'all' | 'groupings';
  /**
   * The warning every history ends with: a replay is complete once it came.
   * Then the stream must stay quiet for `quietMs` (nothing may follow it).
   */
  lastWarningId: string;
  quietMs: number;
  /** The viewer's stream, watched live through the whole history. */
  live: { exchange: Exchange; frames: unknown[] };
  /**
   * Every indicator value of the whole history (world A's list, the same in
   * every world): searched one by one and looked up all at once, with a value
   * nobody reported, so a hidden report of any of them would show.
   */
  searchValues: readonly string[];
}

const MAX_PAGES = 200;
const TRANSIENT_RETRIES = 5;
const isTransient = (status: number) => status === 503 || status === 429;
const TAXII_ACCEPT = 'application/taxii+json;version=2.1';

/**
 * Everything one viewer may ask the gateway, in one fixed order: the same
 * requests in world A and world B (requests made of what came back, such as
 * the next page, are made of that world's own answers, so they differ only
 * after an answer did).
 */
export async function observe(gatewayUrl: string, token: string, plan: ObservePlan): Promise<Exchange[]> {
  const exchanges: Exchange[] = [];
  /** One request as the viewer makes it; `payload` makes it a POST of that JSON. */
  const ask = async (
    path: string,
    request: string,
    { accept, payload }: { accept?: string; payload?: unknown },
  ) => {
    const began = Date.now();
    const send = () =>
      fetch(`${gatewayUrl}${request}`, {
        headers: {
          authorization: `Bearer ${token}`,
          ...(accept ? { accept } : {}),
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(payload === undefined ? {} : { method: 'POST', body: JSON.stringify(payload) }),
      });
    let response = await send();
    let text = await response.text();
    // A 503 (the database or export worker did not answer in time on a loaded machine) or a
    // 429 is what a client retries after Retry-After; it says nothing about the view. One
    // that lasts through every retry is recorded as it came, and differs between the worlds.
    for (let attempt = 1; attempt <= TRANSIENT_RETRIES && isTransient(response.status); attempt += 1) {
      const after = Number(response.headers.get('retry-after'));
      await sleep(Math.min(Number.isFinite(after) && after > 0 ? after * 1_000 : 500, 2_000));
      response = await send();
      text = await response.text();
    }
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Kept as text: a body that is not JSON is compared as it came.
    }
    const headers = Object.fromEntries(response.headers.entries());
    const exchange = {
      path,
      request: payload === undefined ? request : `${request} ${JSON.stringify(payload)}`,
      status: response.status,
      headers,
      body,
      ms: Date.now() - began,
    };
    exchanges.push(exchange);
    return exchange;
  };
  const get = (path: string, request: string, accept?: string) => ask(path, request, { accept });
  const post = (path: string, request: string, payload: unknown) => ask(path, request, { payload });
  const field = (exchange: Exchange, name: string): string | undefined => {
    const value = (exchange.body as Record<string, unknown> | null)?.[name];
    return typeof value === 'string' ? value : undefined;
  };
  const q = (params: Record<string, string | number | undefined>) => {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params))
      if (value !== undefined) search.set(name, String(value));
    const text = search.toString();
    return text ? `?${text}` : '';
  };

  // Alerts: one page, pages backwards, pages forwards from the start and from every cursor.
  const full = await get('alerts', `/v1/alerts${q({ limit: 200 })}`);
  let before: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const answer = await get('alerts (pages back)', `/v1/alerts${q({ limit: 4, before })}`);
    before = field(answer, 'nextBefore');
    if (answer.status !== 200 || before === undefined) break;
  }
  // Forwards from the start: a decimal position where cursors are positions, else the
  // first cursor the live stream gave (what a client resumes from).
  const firstCursor = (plan.live.frames as { cursor?: unknown }[]).find((f) => typeof f.cursor === 'string')
    ?.cursor as string | undefined;
  let after = '0';
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const answer = await get('alerts (pages forward)', `/v1/alerts${q({ limit: 4, after })}`);
    if (page === 0 && after === '0' && answer.status === 400 && firstCursor !== undefined) {
      after = firstCursor;
      page = -1;
      continue;
    }
    const next = field(answer, 'nextAfter');
    const items = (answer.body as { items?: unknown[] } | null)?.items ?? [];
    if (answer.status !== 200 || next === undefined || (items.length === 0 && next === after)) break;
    after = next;
  }
  const items = ((full.body as { items?: { cursor?: unknown }[] } | null)?.items ?? []).map((item) =>
    typeof item.cursor === 'string' ? item.cursor : undefined,
  );
  for (const cursor of items) {
    if (cursor !== undefined)
      await get('alerts (after a cursor)', `/v1/alerts${q({ limit: 3, after: cursor })}`);
  }
  for (const id of plan.alertIds) await get('alert', `/v1/alerts/${id}`);

  // Warnings.
  await get('warnings', `/v1/warnings${q({ limit: 200 })}`);
  before = undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const answer = await get('warnings (pages back)', `/v1/warnings${q({ limit: 1, before })}`);
    before = field(answer, 'nextBefore');
    if (answer.status !== 200 || before === undefined) break;
  }
  for (const id of plan.warningIds) await get('warning', `/v1/warnings/${id}`);
  for (const id of plan.reportIds) await get('report', `/v1/reports/${id}`);

  // The stream: watched live through the whole history (opened before its first step),
  // replayed from the start (a decimal position; refused where cursors are sealed),
  // resumed from some of the live cursors, and filtered.
  exchanges.push(plan.live.exchange);
  const cursors = plan.live.frames
    .map((frame) => (frame as { cursor?: unknown }).cursor)
    .filter((cursor): cursor is string => typeof cursor === 'string');
  const resumed = [...new Set([0, Math.floor(cursors.length / 2), cursors.length - 2])]
    .map((at) => cursors[at])
    .filter((cursor): cursor is string => cursor !== undefined)
    .map((cursor) => ({ after: cursor }));
  const streams = await Promise.all(
    [
      { after: '0' },
      ...resumed,
      { after: '0', minSeverity: 'high' },
      ...resumed.slice(0, 1).map((r) => ({ ...r, minSeverity: 'high' })),
    ].map((query) => stream(gatewayUrl, token, query, plan)),
  );
  exchanges.push(...streams.map((m) => m.exchange));

  // STIX: whole, in pages of one followed by Renkei-Next-Since, and since each moment.
  await get('stix', `/v1/stix/bundle`);
  let since: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const answer = await get('stix (pages)', `/v1/stix/bundle${q({ limit: 1, since })}`);
    since = answer.headers['renkei-next-since'];
    if (answer.status !== 200 || since === undefined) break;
  }
  for (const time of plan.probeTimes) {
    await get('stix (since)', `/v1/stix/bundle${q({ since: time })}`);
    await get('stix (since, limit 1)', `/v1/stix/bundle${q({ since: time, limit: 1 })}`);
  }

  // Search: every value of the history, one defanged, text every report and warning
  // holds (paged one report at a time), and one lookup of them all with a value nobody reported.
  for (const value of plan.searchValues) await get('search', `/v1/search${q({ q: value })}`);
  const [sample] = plan.searchValues;
  if (sample !== undefined)
    await get('search (defanged)', `/v1/search${q({ q: sample.replaceAll('.', '[.]') })}`);
  await get('search (text)', `/v1/search${q({ q: 'Warning' })}`);
  let page: string | undefined;
  for (let n = 0; n < MAX_PAGES; n += 1) {
    const answer = await get('search (text, pages)', `/v1/search${q({ q: 'Report', limit: 2, page })}`);
    const reports = (answer.body as { reports?: { next?: unknown } } | null)?.reports;
    page = typeof reports?.next === 'string' ? reports.next : undefined;
    if (answer.status !== 200 || page === undefined) break;
  }
  await post('lookup', '/v1/lookup', { values: [...plan.searchValues, 'nobody-reported.leak.example'] });

  // TAXII: every collection the viewer may read; objects and manifest whole, in pages
  // followed by `next`, and after each moment; objects and their versions one by one.
  const root = '/taxii2/renkei/collections/';
  const listing = await get('taxii', root, TAXII_ACCEPT);
  const collections = ((listing.body as { collections?: { id: string }[] } | null)?.collections ?? []).map(
    (c) => c.id,
  );
  for (const id of collections) {
    const base = `${root}${id}/`;
    await get('taxii', base, TAXII_ACCEPT);
    const objects = await get('taxii objects', `${base}objects/`, TAXII_ACCEPT);
    await get('taxii manifest', `${base}manifest/`, TAXII_ACCEPT);
    for (const [kind, limit] of [
      ['objects', 10],
      ['manifest', 10],
    ] as const) {
      let next: string | undefined;
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const answer = await get(
          `taxii ${kind} (pages)`,
          `${base}${kind}/${q({ limit, next })}`,
          TAXII_ACCEPT,
        );
        next = field(answer, 'next');
        if (answer.status !== 200 || next === undefined) break;
      }
    }
    for (const time of plan.probeTimes) {
      if (plan.objects === 'all')
        await get('taxii objects (added_after)', `${base}objects/${q({ added_after: time })}`, TAXII_ACCEPT);
      await get('taxii manifest (added_after)', `${base}manifest/${q({ added_after: time })}`, TAXII_ACCEPT);
    }
    const ids = ((objects.body as { objects?: { id: string; type: string }[] } | null)?.objects ?? [])
      .filter((object) => plan.objects === 'all' || object.type === 'grouping')
      .map((object) => object.id);
    for (const objectId of ids) {
      await get('taxii object', `${base}objects/${objectId}/`, TAXII_ACCEPT);
      await get('taxii versions', `${base}objects/${objectId}/versions/`, TAXII_ACCEPT);
    }
  }
  return exchanges;
}

/** A stream being read: {@link StreamReading.finish} waits for the end of the history and closes it. */
export interface StreamReading {
  finish(): Promise<{ exchange: Exchange; frames: unknown[] }>;
}

/**
 * Opens the stream and records the upgrade's status and headers and every
 * text frame; `finish` waits until the history's last warning came and
 * nothing followed it for `quietMs` (or 60 s passed: what came is compared
 * as it is), then closes it.
 */
export async function openStream(
  gatewayUrl: string,
  token: string,
  query: Record<string, string>,
  { lastWarningId, quietMs }: Pick<ObservePlan, 'lastWarningId' | 'quietMs'>,
  path = 'stream',
): Promise<StreamReading> {
  const search = new URLSearchParams(query).toString();
  const request = `/v1/stream${search ? `?${search}` : ''}`;
  const socket = new WebSocket(`${gatewayUrl.replace(/^http/, 'ws')}${request}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const frames: unknown[] = [];
  let last = Date.now();
  let ended = false;
  socket.on('message', (data, isBinary) => {
    const text = data.toString();
    try {
      const frame = (isBinary ? { binary: text } : JSON.parse(text)) as {
        type?: unknown;
        warning?: { id?: unknown };
      };
      // Set aside: a heartbeat comes on the gateway's timer and carries only the time it was sent,
      // nothing of the history; where it falls among the events depends on the clock alone.
      if (frame.type === 'heartbeat' && Object.keys(frame).join() === 'type,at') return;
      last = Date.now();
      if (frame.warning?.id === lastWarningId) ended = true;
      frames.push(frame);
    } catch {
      last = Date.now();
      frames.push({ text });
    }
  });
  const opened = await new Promise<{ status: number; headers: Record<string, string>; body?: string }>(
    (resolve) => {
      socket.once('upgrade', (response) =>
        resolve({ status: response.statusCode ?? 0, headers: flatHeaders(response.headers) }),
      );
      socket.once('unexpected-response', (req, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => {
          req.destroy();
          resolve({ status: response.statusCode ?? 0, headers: flatHeaders(response.headers), body });
        });
      });
      socket.once('error', () => resolve({ status: 0, headers: {} }));
    },
  );
  if (opened.status === 101 && socket.readyState !== WebSocket.OPEN)
    await new Promise((resolve) => socket.once('open', resolve));
  return {
    async finish() {
      if (opened.status === 101) {
        const deadline = Date.now() + 60_000;
        while ((!ended || Date.now() - last < quietMs) && Date.now() < deadline) await sleep(25);
        const closed = new Promise((resolve) => socket.once('close', resolve));
        socket.close();
        await closed;
      }
      let body: unknown = frames;
      if (opened.body !== undefined) {
        try {
          body = JSON.parse(opened.body);
        } catch {
          body = opened.body;
        }
      }
      return { exchange: { path, request, status: opened.status, headers: opened.headers, body }, frames };
    },
  };
}

async function stream(
  gatewayUrl: string,
  token: string,
  query: Record<string, string>,
  plan: Pick<ObservePlan, 'lastWarningId' | 'quietMs'>,
): Promise<{ exchange: Exchange; frames: unknown[] }> {
  return (await openStream(gatewayUrl, token, query, plan)).finish();
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]],
    ),
  );
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestKeys } from '@renkei/testing';
import { Canonicaliser, firstDifference, type SetAside } from './canonical.js';
import { knownSteps, LEAK_VIEWERS, viewerName, type LeakViewer } from './hidden.js';
import {
  CI_SIZE,
  describeHistory,
  endOfHistory,
  generateHistory,
  type HistorySize,
  type Step,
} from './history.js';
import { observe, openStream, type Exchange, type ObservePlan, type StreamReading } from './observe.js';
import { runSteps, startWorld, tokensFrom, writeHubSecret, type World } from './worlds.js';

export { CI_SIZE, describeHistory, generateHistory, type HistorySize, type Step } from './history.js';
export { LEAK_VIEWERS, viewerName, type LeakViewer } from './hidden.js';

/**
 * What two runs of the same history may legitimately differ in, set aside
 * before comparing (and, in `observe.ts`, the stream's `heartbeat` frames,
 * `{type, at}` only, sent on the gateway's timer). Nothing else is: bodies, status codes and every other
 * header (lengths, `Renkei-Next-Since`, `X-TAXII-Date-Added-*`, content
 * types) are compared, with times and tokens canonicalised (`canonical.ts`).
 */
export const SET_ASIDE: readonly SetAside[] = [
  { header: 'date', why: 'the time of the request, the same whatever the hub holds' },
  {
    header: 'sec-websocket-accept',
    why: "the hash of the client's own random Sec-WebSocket-Key (RFC 6455), nothing of the hub's",
  },
];

export interface LeakCheckOptions {
  seed: number;
  size?: HistorySize;
  viewers?: readonly LeakViewer[];
  /** Ask TAXII for every object one by one, not just groupings (large runs). */
  everyObject?: boolean;
  /**
   * `since` and `added_after` at the end of every step the viewer may know
   * of (large runs), or only at the end of the last such step before each
   * hidden one and of the last step (CI): where a hidden write would show.
   */
  everyMoment?: boolean;
  /** Viewers observed at once. */
  concurrency?: number;
  /**
   * A check of the check: every world B runs the whole history too, so any
   * `differs` finding is noise of the harness (timing, canonicalisation),
   * not a leak.
   */
  control?: boolean;
  /** Leave each world's database in place (their URLs are logged), to inspect a finding. */
  keepDatabases?: boolean;
  /** How long a stream replay must stay quiet to count as complete. */
  quietMs?: number;
  log?: (message: string) => void;
}

export interface Finding {
  viewer: string;
  path: string;
  /** `differs`: world A and B answered differently; `hidden time`: a time of a step the viewer may not know of; `stray time`: a time of no step. */
  kind: 'differs' | 'hidden time' | 'stray time';
  detail: string;
}

export interface LeakCheckResult {
  seed: number;
  steps: Step[];
  /** Each world B: the viewers it serves and the steps it leaves out. */
  worlds: { viewers: string[]; hidden: number[] }[];
  findings: Finding[];
  /** What the viewers received in world A, summed: the test is only as good as what it saw. */
  coverage: {
    alertKinds: string[];
    listedAlerts: number;
    streamAlertFrames: number;
    stixGroupings: number;
    taxiiObjects: number;
    warnings: number;
    /** Items of every group of every search by value; and values a lookup found known. */
    searchHits: number;
    lookupKnown: number;
    exchanges: number;
  };
  timings: Record<string, number>;
  /** Milliseconds spent waiting for answers, per path, summed over viewers and worlds. */
  requestMs: Record<string, number>;
}

/**
 * The differential leak check (issue 16): runs the seed's history once whole
 * (world A) and, for each distinct set of steps some viewer may not know of,
 * once without them (world B), then asks every path of the gateway as each
 * viewer in both worlds and compares. Returns what differed; throws only
 * when the run itself could not be made.
 */
export async function runLeakCheck(options: LeakCheckOptions): Promise<LeakCheckResult> {
  const log = options.log ?? (() => undefined);
  const steps = generateHistory(options.seed, options.size ?? CI_SIZE);
  const viewers = options.viewers ?? LEAK_VIEWERS;
  const timings: Record<string, number> = {};
  let clock = Date.now();
  const lap = (name: string) => {
    timings[name] = Date.now() - clock;
    clock = Date.now();
  };

  const keys = await createTestKeys();
  const secretDir = await mkdtemp(path.join(tmpdir(), 'renkei-leak-'));
  const worlds: World[] = [];
  const spares: Promise<World>[] = [];
  try {
    const hubSecretFile = await writeHubSecret(secretDir);
    const tokens = tokensFrom(keys);
    const every = new Set(steps.map((_, i) => i));
    const keepDatabase = options.keepDatabases ?? false;
    const start = async (name: string) => {
      const world = await startWorld(name, new Set(), { keys, hubSecretFile, keepDatabase });
      if (keepDatabase) log(`world ${name}: ${world.database.url}`);
      return world;
    };
    const a = await start('A');
    a.steps = every;
    worlds.push(a);
    // World B hubs start while A runs: at most one per organisation is needed.
    const organisations = [...new Set(viewers.map((v) => v.org))];
    for (const org of organisations) spares.push(start(`B-${org}`));
    lap('start world A');
    // Every viewer watches the stream live through the history, as a member would.
    const streamPlan = { lastWarningId: endOfHistory(steps), quietMs: options.quietMs ?? 300 };
    const watch = async (world: World, viewer: LeakViewer) =>
      openStream(
        world.gatewayUrl,
        await tokens.token(viewer.org, viewer.role),
        {},
        streamPlan,
        'stream (live)',
      );
    const liveA = new Map<string, StreamReading>();
    for (const viewer of viewers) liveA.set(viewerName(viewer), await watch(a, viewer));
    log(`seed ${options.seed}: ${steps.length} steps in world A`);
    await runSteps([a], tokens, steps);
    lap('run world A');

    const known = new Map<string, Set<number>>();
    for (const viewer of viewers)
      known.set(viewerName(viewer), await knownSteps(a.database.pool, steps, viewer));
    const groups = new Map<string, { steps: Set<number>; viewers: LeakViewer[] }>();
    for (const viewer of viewers) {
      const set = options.control ? every : known.get(viewerName(viewer))!;
      if (set.size === steps.length && !options.control) continue;
      const key = [...set].join(',');
      const group = groups.get(key) ?? { steps: set, viewers: [] };
      group.viewers.push(viewer);
      groups.set(key, group);
    }
    const started = await Promise.all(spares.splice(0));
    const worldOf = new Map<string, World>();
    let used = 0;
    for (const group of groups.values()) {
      const world = started[used] ?? (await start(`B-${used}`));
      used += 1;
      world.steps = group.steps;
      worlds.push(world);
      for (const viewer of group.viewers) worldOf.set(viewerName(viewer), world);
    }
    await Promise.all(started.slice(used).map((world) => world.close()));
    const liveB = new Map<string, StreamReading>();
    for (const viewer of viewers) {
      const world = worldOf.get(viewerName(viewer));
      if (world) liveB.set(viewerName(viewer), await watch(world, viewer));
    }
    lap('start worlds B');
    if (options.control) log('control run: every world B runs the whole history');
    log(
      `${groups.size} worlds B: ${[...groups.values()].map((g) => `${steps.length - g.steps.size} hidden`).join(', ')}`,
    );
    await runSteps(worlds.slice(1), tokens, steps);
    lap('run worlds B');

    const { rows } = await a.database.pool.query<{ id: string; kind: string }>(
      `SELECT id, record->>'kind' AS kind FROM alerts ORDER BY id`,
    );
    const alertIds = rows.map((row) => row.id);
    const { lastWarningId } = streamPlan;
    const warningIds = steps.flatMap((step) => (step.kind === 'warning' ? [step.id] : []));
    const reportIds = steps.flatMap((step) => (step.kind === 'report' ? [step.id] : []));
    const searchValues = [
      ...new Set(
        steps.flatMap((step) =>
          step.kind === 'report' || step.kind === 'warning' ? step.indicators.map((i) => i.value) : [],
        ),
      ),
    ].sort();
    const findings: Finding[] = [];
    const coverage = {
      alertKinds: [...new Set(rows.map((row) => row.kind))].sort(),
      listedAlerts: 0,
      streamAlertFrames: 0,
      stixGroupings: 0,
      taxiiObjects: 0,
      warnings: 0,
      searchHits: 0,
      lookupKnown: 0,
      exchanges: 0,
    };
    const byViewer = new Map<string, Finding[]>();
    const requestMs: Record<string, number> = {};
    const observeOne = async (viewer: LeakViewer) => {
      const name = viewerName(viewer);
      const knownSet = known.get(name)!;
      const b = worldOf.get(name) ?? a;
      const token = await tokens.token(viewer.org, viewer.role);
      const probed = probeSteps(knownSet, steps.length, options.everyMoment ?? false);
      const [liveOfA, liveOfB] = await Promise.all([liveA.get(name)!.finish(), liveB.get(name)?.finish()]);
      const planFor = (world: World): ObservePlan => ({
        alertIds,
        warningIds,
        reportIds,
        probeTimes: world.spans
          .filter((span) => probed.has(span.step))
          .map((span) => new Date(span.end).toISOString()),
        objects: options.everyObject ? 'all' : 'groupings',
        lastWarningId,
        quietMs: options.quietMs ?? 300,
        live: world === a ? liveOfA : liveOfB!,
        searchValues,
      });
      const [seenA, seenB] = await Promise.all([
        observe(a.gatewayUrl, token, planFor(a)),
        b === a ? Promise.resolve(undefined) : observe(b.gatewayUrl, token, planFor(b)),
      ]);
      count(coverage, seenA);
      for (const exchange of [...seenA, ...(seenB ?? [])])
        requestMs[exchange.path] = (requestMs[exchange.path] ?? 0) + (exchange.ms ?? 0);
      byViewer.set(name, compareWorlds(name, a, b, seenA, seenB, knownSet));
    };
    const queue = [...viewers];
    await Promise.all(
      Array.from({ length: options.concurrency ?? 5 }, async () => {
        for (let viewer = queue.shift(); viewer; viewer = queue.shift()) await observeOne(viewer);
      }),
    );
    for (const viewer of viewers) findings.push(...byViewer.get(viewerName(viewer))!);
    lap('observe');
    return {
      seed: options.seed,
      steps,
      worlds: [...groups.values()].map((group) => ({
        viewers: group.viewers.map(viewerName),
        hidden: steps.flatMap((_, i) => (group.steps.has(i) ? [] : [i])),
      })),
      findings,
      coverage,
      timings,
      requestMs,
    };
  } finally {
    await Promise.all([
      ...worlds.map((world) => world.close()),
      ...spares.map((spare) =>
        spare.then(
          (world) => world.close(),
          () => undefined,
        ),
      ),
    ]);
    await keys.remove();
    await rm(secretDir, { recursive: true, force: true });
  }
}

/** The steps after which the viewer polls exports: see {@link LeakCheckOptions.everyMoment}. */
function probeSteps(known: Set<number>, count: number, every: boolean): Set<number> {
  if (every) return known;
  const before = new Set<number>();
  let last: number | undefined;
  for (let step = 0; step < count; step += 1) {
    if (known.has(step)) last = step;
    else if (last !== undefined) before.add(last);
  }
  // At most four (CI's budget): spread over the history, and the end.
  const chosen = [...before];
  const probed = new Set(
    chosen.length <= 3 ? chosen : [0, 1, 2].map((i) => chosen[Math.floor((i * chosen.length) / 3)]!),
  );
  if (last !== undefined) probed.add(last);
  return probed;
}

/** Every difference between the two worlds for one viewer, the first one per path, and every misplaced time. */
function compareWorlds(
  viewer: string,
  a: World,
  b: World,
  seenA: Exchange[],
  seenB: Exchange[] | undefined,
  known: Set<number>,
): Finding[] {
  const findings: Finding[] = [];
  const canonA = canonicalise(a, seenA);
  const inA = canonA.exchanges;
  const reported = new Set<string>();
  for (const time of canonA.times) {
    const hidden = 'step' in time.origin && !known.has(time.origin.step);
    const stray = 'outside' in time.origin;
    if (!hidden && !stray) continue;
    const kind = hidden ? 'hidden time' : 'stray time';
    const key = `${kind} ${time.path}`;
    if (reported.has(key)) continue;
    reported.add(key);
    findings.push({
      viewer,
      path: time.path,
      kind,
      detail: hidden
        ? `world A gave a time written by step ${(time.origin as { step: number }).step}, which this viewer may not know of, at ${time.where}`
        : `world A gave a time written outside every step (${(time.origin as { outside: string }).outside}) at ${time.where}: a time of the request, not set aside`,
    });
  }
  if (!seenB) return findings;
  const canonB = canonicalise(b, seenB);
  const inB = canonB.exchanges;
  const stray = canonB.times.find((time) => 'outside' in time.origin);
  if (stray) {
    findings.push({
      viewer,
      path: stray.path,
      kind: 'stray time',
      detail: `world B gave a time written outside every step at ${stray.where}`,
    });
  }
  const byPath = (exchanges: Exchange[]) => {
    const groups = new Map<string, Exchange[]>();
    for (const exchange of exchanges)
      groups.set(exchange.path, [...(groups.get(exchange.path) ?? []), exchange]);
    return groups;
  };
  const groupsA = byPath(inA);
  const groupsB = byPath(inB);
  for (const path of new Set([...groupsA.keys(), ...groupsB.keys()])) {
    const listA = groupsA.get(path) ?? [];
    const listB = groupsB.get(path) ?? [];
    for (let i = 0; i < Math.max(listA.length, listB.length); i += 1) {
      const x = listA[i];
      const y = listB[i];
      const difference = firstDifference(x ?? '(no such request)', y ?? '(no such request)');
      if (!difference) continue;
      findings.push({
        viewer,
        path,
        kind: 'differs',
        detail:
          `request ${i + 1} of ${Math.max(listA.length, listB.length)}: A ${x?.request ?? '(none)'} | B ${y?.request ?? '(none)'}; ` +
          `at ${difference.pointer || '/'}: A ${brief(difference.a)} | B ${brief(difference.b)}`,
      });
      break;
    }
  }
  return findings;
}

/**
 * Each path canonicalised on its own (labels count from 1 in each), so a
 * difference on one path does not shift the labels of every later one.
 */
function canonicalise(world: World, exchanges: readonly Exchange[]) {
  const perPath = new Map<string, Canonicaliser>();
  const canonical = exchanges.map((exchange, i) => {
    let canon = perPath.get(exchange.path);
    if (!canon) perPath.set(exchange.path, (canon = new Canonicaliser(world.spans, SET_ASIDE)));
    return canon.exchange(exchange, i);
  });
  const times = [...perPath].flatMap(([path, canon]) => canon.times.map((time) => ({ ...time, path })));
  return { exchanges: canonical, times };
}

function brief(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function count(coverage: LeakCheckResult['coverage'], exchanges: readonly Exchange[]): void {
  coverage.exchanges += exchanges.length;
  for (const exchange of exchanges) {
    const body = exchange.body as Record<string, unknown> | unknown[] | null;
    if (exchange.path === 'alerts' && body && !Array.isArray(body))
      coverage.listedAlerts += (body.items as unknown[] | undefined)?.length ?? 0;
    if (exchange.path === 'warnings' && body && !Array.isArray(body))
      coverage.warnings += (body.items as unknown[] | undefined)?.length ?? 0;
    if (exchange.path === 'stream (live)' && Array.isArray(body))
      coverage.streamAlertFrames += body.filter((f) => (f as { type?: string }).type === 'alert').length;
    if (exchange.path === 'stix' && body && !Array.isArray(body))
      coverage.stixGroupings += ((body.objects as { type: string }[] | undefined) ?? []).filter(
        (o) => o.type === 'grouping',
      ).length;
    if (exchange.path === 'taxii objects' && body && !Array.isArray(body))
      coverage.taxiiObjects += (body.objects as unknown[] | undefined)?.length ?? 0;
    if (exchange.path === 'search' && body && !Array.isArray(body))
      for (const group of ['indicators', 'reports', 'alerts', 'warnings'])
        coverage.searchHits += (body[group] as { items?: unknown[] } | undefined)?.items?.length ?? 0;
    if (exchange.path === 'lookup' && body && !Array.isArray(body))
      coverage.lookupKnown += ((body.results as { known?: boolean }[] | undefined) ?? []).filter(
        (r) => r.known,
      ).length;
  }
}

/** The whole result as text: the seed and history to reproduce it, what was hidden, and every finding. */
export function formatLeakReport(result: LeakCheckResult): string {
  const lines = [
    `seed ${result.seed} (reproduce: LEAK_SEED=${result.seed}, or npm run leak-check -- --seed ${result.seed})`,
    'history:',
    describeHistory(result.steps),
    'worlds B:',
    ...result.worlds.map((w) => `  ${w.viewers.join(', ')}: without steps ${w.hidden.join(', ')}`),
    `coverage: ${JSON.stringify(result.coverage)}`,
    `findings (${result.findings.length}), by path:`,
    ...summarise(result.findings).map((line) => `  ${line}`),
    'every finding (the first per viewer and path):',
    ...result.findings.map((f) => `  [${f.kind}] ${f.viewer} ${f.path}: ${f.detail}`),
  ];
  return lines.join('\n');
}

/** One line per path and kind of finding, with the viewers it concerns. */
export function summarise(findings: readonly Finding[]): string[] {
  const groups = new Map<string, Set<string>>();
  for (const finding of findings) {
    const key = `${finding.path} [${finding.kind}]`;
    groups.set(key, (groups.get(key) ?? new Set()).add(finding.viewer));
  }
  return [...groups].map(
    ([key, viewers]) => `${key}: ${viewers.size} viewer(s) (${[...viewers].join(', ')})`,
  );
}

import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { buildConsoleIfMissing, freePort, seedAlerts, sharedKafkaEnv } from '@renkei/testing';
import { round } from './lib/stats.js';
import type { BenchContext, Scenario } from './lib/scenario.js';

const CHROMIUM = process.env.RENKEI_CHROMIUM ?? '/usr/bin/chromium';

interface PageFigures {
  /** Frames drawn per second (requestAnimationFrame callbacks). */
  fps: number;
  /** The longest main-thread task (Long Tasks API; tasks under 50 ms are not reported, so 0 means none over 50). */
  longestTaskMs: number;
  /** Tasks over 50 ms. */
  longTasks: number;
  /** Main-thread busy time over wall time (the DevTools protocol's `TaskDuration`). */
  busyShare: number;
}

/**
 * The console's page under a watch floor's load (issue 19): a hub holding
 * 10,000 alerts, all of them loaded into an analyst's list, then 30 new
 * alerts a second for 30 seconds through the real pipeline (two reports per
 * alert, ingest → Kafka → correlator → PostgreSQL → gateway → the page's
 * stream). Frames per second and the longest main-thread task during the
 * burst, against the same page idle in the same run.
 */
export const consolePage: Scenario = {
  name: 'console',
  title: 'Console page: 10,000 alerts loaded, 30 new alerts a second',
  settings: {
    alerts: { description: 'alerts in the hub (and in the page) before the burst', full: 10_000, smoke: 300 },
    rate: { description: 'new alerts per second during the burst', full: 30, smoke: 5 },
    seconds: { description: 'seconds the idle and burst phases each last', full: 30, smoke: 3 },
  },
  async run(context) {
    buildConsoleIfMissing();
    const count = context.setting('alerts');
    const rate = context.setting('rate');
    const seconds = context.setting('seconds');
    // Seeded before any service starts, so live events take the feed positions after them.
    const database = await context.createDatabase();
    context.log(`seeding ${count} alerts`);
    await seedAlerts(database.pool, count);
    const { gateway, ingest } = await startServices(context, database.url);

    const tokens = {
      analyst: await context.token({ org: 'gsoc', sector: 'central-government', roles: ['analyst'] }),
      first: await context.token({ org: 'bench-csirt', sector: 'finance', roles: ['reporter'] }),
      second: await context.token({ org: 'mlit-csirt', sector: 'central-government', roles: ['reporter'] }),
    };
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    context.defer(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(gateway);
    await page.getByTestId('token').fill(tokens.analyst);
    await page.getByTestId('signin').click();
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor({ timeout: 60_000 });
    context.log('loading every alert into the page');
    const loadStarted = performance.now();
    for (;;) {
      const footer = (await page.getByTestId('feed-footer').textContent()) ?? '';
      if (footer.includes('All alerts loaded')) break;
      const more = page.getByTestId('load-older');
      if (await more.isVisible()) await more.click();
      await page.waitForTimeout(50);
      if (performance.now() - loadStarted > 600_000)
        throw new Error(`the page never loaded all alerts: ${footer}`);
    }
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const loaded = Number(
      /of (\d+) loaded/.exec((await page.getByTestId('feed-footer').textContent())!)?.[1],
    );
    context.log(`${loaded} alerts in the page after ${round(loadSeconds, 1)} s`);
    await page.getByTestId('feed-viewport').evaluate((viewport) => viewport.scrollTo(0, 0));

    context.log(`idle page for ${seconds} s`);
    const idle = await measure(page, seconds);
    context.log(`burst: ${rate} new alerts a second for ${seconds} s`);
    const burstDone = burst(ingest, [tokens.first, tokens.second], rate, seconds);
    // BENCH_PROFILE=<dir>: the page's CPU profile during the burst too (open it in Chrome DevTools).
    const profile = process.env.BENCH_PROFILE
      ? path.resolve(process.env.BENCH_PROFILE, `console-page-burst-${Date.now()}.cpuprofile`)
      : undefined;
    // BENCH_TRACE=<file>: a DevTools timeline of the burst (where the long tasks' time goes: script, style, layout).
    if (process.env.BENCH_TRACE)
      await browser.startTracing(page, {
        path: path.resolve(process.env.BENCH_TRACE),
        // BENCH_TRACE_CATEGORIES adds categories, e.g. disabled-by-default-devtools.timeline.invalidationTracking
        // (which element's change restyled or laid out what).
        categories: [
          'devtools.timeline',
          'disabled-by-default-devtools.timeline',
          ...(process.env.BENCH_TRACE_CATEGORIES?.split(',').filter(Boolean) ?? []),
        ],
      });
    const during = await measure(page, seconds, profile);
    if (process.env.BENCH_TRACE) await browser.stopTracing();
    const { sent, failed } = await burstDone;
    // What the page shows once the burst has passed through the pipeline.
    await page.waitForTimeout(3_000);
    const after = Number(/of (\d+) loaded/.exec((await page.getByTestId('feed-footer').textContent())!)?.[1]);

    const goals = [
      {
        goal: 'no main-thread task over 100 ms during the burst',
        figure: `${during.longestTaskMs} ms`,
        met: during.longestTaskMs <= 100,
      },
      { goal: '≥ 30 frames/s during the burst', figure: `${during.fps} frames/s`, met: during.fps >= 30 },
    ];
    return {
      figures: {
        alerts: count,
        loaded,
        loadSeconds: round(loadSeconds, 1),
        rate,
        seconds,
        sent,
        after,
        idle,
        during,
      },
      tables: [
        {
          columns: ['phase', 'frames/s', 'longest task (ms)', 'tasks over 50 ms', 'main thread busy'],
          rows: [
            [
              'idle, every alert loaded',
              idle.fps,
              idle.longestTaskMs,
              idle.longTasks,
              `${round(idle.busyShare * 100, 1)} %`,
            ],
            [
              `${rate} new alerts/s`,
              during.fps,
              during.longestTaskMs,
              during.longTasks,
              `${round(during.busyShare * 100, 1)} %`,
            ],
            [
              'burst over idle',
              idle.fps > 0 ? `${round(during.fps / idle.fps, 2)}×` : null,
              null,
              null,
              idle.busyShare > 0 ? `${round(during.busyShare / idle.busyShare, 2)}×` : null,
            ],
          ],
        },
      ],
      goals,
      notes: [
        `${loaded} alerts in the analyst's list (loaded in ${round(loadSeconds, 1)} s, 200 a page); ${sent} alerts raised during the burst (two reports each; ${failed} reports refused or failed), ${after} in the list 3 s after it.`,
        'Chromium (Debian) headless at 1280×800; frames counted with requestAnimationFrame, long tasks with the Long Tasks API, busy time from the DevTools protocol (Performance.getMetrics TaskDuration).',
      ],
    };
  },
};

async function startServices(context: BenchContext, databaseUrl: string) {
  const prefix = context.topicPrefix();
  const common = {
    DATABASE_URL: databaseUrl,
    ...(await sharedKafkaEnv(prefix)),
    AUTH_JWKS_FILE: context.jwksFile,
    RATE_LIMIT_WRITES_MAX: '100000000',
  };
  // All three at once: the gateway is told where ingest will listen, so it need not wait for it.
  const ingestPort = await freePort();
  const [, ingest, gateway] = await Promise.all([
    context.startProcess({
      label: 'console-correlator',
      script: 'services/correlator/src/main.ts',
      portVariable: 'CORRELATOR_PORT',
      env: common,
    }),
    context.startProcess({
      label: 'console-ingest',
      script: 'services/ingest/src/main.ts',
      portVariable: 'INGEST_PORT',
      port: ingestPort,
      env: common,
    }),
    context.startProcess({
      label: 'console-gateway',
      script: 'services/gateway/src/main.ts',
      portVariable: 'GATEWAY_PORT',
      env: {
        ...common,
        GATEWAY_INGEST_URL: `http://127.0.0.1:${ingestPort}`,
        GATEWAY_FEED_POLL_MS: '200',
      },
    }),
  ]);
  return { gateway: gateway.url, ingest: ingest.url };
}

/** Frames and long tasks over `seconds`, measured in the page; busy time through the DevTools protocol. */
async function measure(page: Page, seconds: number, profileFile?: string): Promise<PageFigures> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  if (profileFile) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.start');
  }
  const taskDuration = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((metric) => metric.name === 'TaskDuration')?.value ?? 0;
  };
  const busyBefore = await taskDuration();
  const started = performance.now();
  const inPage = await page.evaluate<{ frames: number; longest: number; long: number }>(
    `((ms) => new Promise((resolve) => {
      let frames = 0;
      let longest = 0;
      let long = 0;
      const observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          long += 1;
          longest = Math.max(longest, entry.duration);
        }
      });
      observer.observe({ type: 'longtask' });
      const end = performance.now() + ms;
      const frame = () => {
        frames += 1;
        if (performance.now() < end) requestAnimationFrame(frame);
        else {
          observer.disconnect();
          resolve({ frames, longest, long });
        }
      };
      requestAnimationFrame(frame);
    }))(${seconds * 1000})`,
  );
  const wall = (performance.now() - started) / 1000;
  const busy = (await taskDuration()) - busyBefore;
  if (profileFile) {
    const { profile } = await cdp.send('Profiler.stop');
    mkdirSync(path.dirname(profileFile), { recursive: true });
    writeFileSync(profileFile, JSON.stringify(profile));
  }
  await cdp.detach();
  return {
    fps: round(inPage.frames / seconds, 1),
    longestTaskMs: round(inPage.longest, 0),
    longTasks: inPage.long,
    busyShare: wall > 0 ? busy / wall : 0,
  };
}

/**
 * `rate` alerts a second for `seconds`: two organisations report one new
 * indicator each time. A refused or failed request is counted, not thrown:
 * on a busy machine one may fail, and the page's figures still stand.
 */
async function burst(
  ingest: string,
  tokens: string[],
  rate: number,
  seconds: number,
): Promise<{ sent: number; failed: number }> {
  const tag = randomUUID().slice(0, 8);
  const sends: Promise<boolean>[] = [];
  const started = performance.now();
  for (let n = 0; n < rate * seconds; n += 1) {
    const due = started + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const indicator = { type: 'domain', value: `burst-${tag}-${n}.example` };
    for (const token of tokens)
      sends.push(
        fetch(`${ingest}/v1/reports`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            title: `Burst ${n}`,
            category: 'phishing',
            severity: n % 10 === 0 ? 'critical' : 'high',
            tlp: 'GREEN',
            detectedAt: new Date().toISOString(),
            indicators: [indicator],
          }),
        }).then(
          (response) => response.status === 202,
          () => false,
        ),
      );
  }
  const answers = await Promise.all(sends);
  return { sent: rate * seconds, failed: answers.filter((ok) => !ok).length };
}

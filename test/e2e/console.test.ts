import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from '@renkei/runtime';
import type { ReportSubmission } from '@renkei/schema';
import {
  createTestDatabase,
  createTestKeys,
  deleteTopicsWithPrefix,
  eventually,
  freePort,
  randomTopicPrefix,
  registerOrganisations,
  spawnServices,
  waitUntilReady,
  TEST_ORGANISATIONS,
  type ServiceProcess,
  type TestDatabase,
  type TestKeys,
  buildConsoleIfMissing,
} from '@renkei/testing';

/** Where each scenario leaves a picture of its last state (git ignores `.renkei/`). */
const SCREENSHOTS = path.join(REPOSITORY_ROOT, '.renkei', 'e2e-screenshots');
const CHROMIUM = process.env.RENKEI_CHROMIUM ?? '/usr/bin/chromium';

/**
 * The console in a real browser (Debian's chromium, driven by playwright-core)
 * against the real stack: ingest, correlator and gateway as processes, the
 * shared broker, a database of the suite's own. One stack for every scenario.
 */
describe('the console in a browser', () => {
  let database: TestDatabase;
  let keys: TestKeys;
  let prefix: string;
  let browser: Browser;
  const services: ServiceProcess[] = [];
  const contexts: BrowserContext[] = [];
  let ingestUrl: string;
  let gatewayUrl: string;
  const tokens = {} as Record<'analyst' | 'analyst2' | 'mlit' | 'mhlw' | 'finance' | 'water', string>;

  beforeAll(async () => {
    // `npm test` builds it first; a run of this file alone builds it here.
    buildConsoleIfMissing();
    mkdirSync(SCREENSHOTS, { recursive: true });
    [database, keys] = await Promise.all([createTestDatabase(), createTestKeys()]);
    prefix = randomTopicPrefix();
    // Ports chosen first: each service's settings name the other's origin.
    const [ingestPort, gatewayPort] = [await freePort(), await freePort()];
    ingestUrl = `http://127.0.0.1:${ingestPort}`;
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const env = { DATABASE_URL: database.url, KAFKA_TOPIC_PREFIX: prefix, AUTH_JWKS_FILE: keys.jwksFile };
    const started = await spawnServices([
      { name: 'correlator', env },
      {
        name: 'ingest',
        env: { ...env, INGEST_PORT: String(ingestPort), INGEST_ALLOWED_ORIGINS: gatewayUrl },
      },
      {
        name: 'gateway',
        env: {
          ...env,
          GATEWAY_PORT: String(gatewayPort),
          GATEWAY_INGEST_URL: ingestUrl,
          GATEWAY_DEV_MODE: 'true',
          GATEWAY_FEED_POLL_MS: '200',
        },
      },
    ]);
    services.push(...started);
    const { gsoc, mlitCsirt, mhlwCsirt, financeCeptar, waterCeptar } = TEST_ORGANISATIONS;
    await registerOrganisations(database, [gsoc, mlitCsirt, mhlwCsirt, financeCeptar, waterCeptar]);
    await Promise.all([waitUntilReady(ingestUrl), waitUntilReady(gatewayUrl)]);
    tokens.analyst = await keys.token({
      org: 'gsoc',
      sector: 'central-government',
      roles: ['analyst'],
      sub: 'sato',
    });
    tokens.analyst2 = await keys.token({
      org: 'gsoc',
      sector: 'central-government',
      roles: ['analyst'],
      sub: 'suzuki',
    });
    tokens.mlit = await keys.token({ org: 'mlit-csirt', sector: 'central-government', roles: ['reporter'] });
    tokens.mhlw = await keys.token({ org: 'mhlw-csirt', sector: 'central-government', roles: ['reporter'] });
    tokens.finance = await keys.token({ org: 'finance-ceptar', sector: 'finance', roles: ['ceptar'] });
    tokens.water = await keys.token({ org: 'water-ceptar', sector: 'water', roles: ['ceptar'] });
    // The services' registry copies follow the registration by themselves: wait until they have.
    await eventually(async () => {
      const answers = await Promise.all([
        fetch(`${gatewayUrl}/v1/alerts`, { headers: { authorization: `Bearer ${tokens.analyst}` } }),
        fetch(`${gatewayUrl}/v1/warnings`, { headers: { authorization: `Bearer ${tokens.water}` } }),
        fetch(`${ingestUrl}/v1/reports/${randomUUID()}`, {
          headers: { authorization: `Bearer ${tokens.mlit}` },
        }),
      ]);
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 404]);
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  afterAll(async () => {
    await Promise.all(contexts.map((context) => context.close().catch(() => undefined)));
    await browser?.close();
    const codes = await Promise.all(services.map((service) => service.stop()));
    expect(codes, 'every service drains and exits 0 on SIGTERM').toEqual(services.map(() => 0));
    await database?.drop();
    await keys?.remove();
    await deleteTopicsWithPrefix(prefix);
  });

  /** A browser profile of its own (one person), at the size the console is made for. */
  const openPage = async (locale = 'en-GB'): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale });
    contexts.push(context);
    const page = await context.newPage();
    // Any script the CSP or the page refuses shows here and fails the test below.
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(`${error.name}: ${error.message}`));
    (page as Page & { problems: string[] }).problems = problems;
    await page.goto(gatewayUrl);
    return page;
  };

  const signIn = async (page: Page, token: string) => {
    await page.getByTestId('token').fill(token);
    await page.getByTestId('signin').click();
    await page
      .locator('[data-testid="connection"][data-state="live"], [data-testid="signin-error"]:not(:empty)')
      .first()
      .waitFor();
    expect(await page.getByTestId('signin-error').allTextContents(), 'sign-in refused').toEqual([]);
  };

  const shoot = (page: Page, name: string) =>
    page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: false });

  const report = (overrides: Partial<ReportSubmission> = {}): ReportSubmission => ({
    title: 'Spear-phishing with a malicious attachment',
    category: 'targeted-attack',
    severity: 'high',
    tlp: 'GREEN',
    detectedAt: new Date().toISOString(),
    indicators: [],
    ...overrides,
  });
  const submit = async (token: string, body: ReportSubmission) => {
    const response = await fetch(`${ingestUrl}/v1/reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  };

  it('shows an alert live, and a second analyst sees its acknowledgement without reloading', async () => {
    const [first, second] = await Promise.all([openPage(), openPage()]);
    await Promise.all([signIn(first, tokens.analyst), signIn(second, tokens.analyst2)]);
    const domain = `login-${randomUUID().slice(0, 8)}.example`;
    await submit(tokens.mlit, report({ indicators: [{ type: 'domain', value: domain }] }));
    await submit(
      tokens.mhlw,
      report({ category: 'phishing', indicators: [{ type: 'domain', value: domain.replace(/\./g, '[.]') }] }),
    );

    const row = first.getByTestId('feed-row').first();
    await row.waitFor({ timeout: 30_000 });
    await expect.poll(() => row.getAttribute('class')).toContain('fresh');
    expect(await row.textContent()).toContain('central government');
    await expect.poll(() => second.getByTestId('feed-row').count(), { timeout: 30_000 }).toBe(1);
    await shoot(first, 'analyst-feed');

    // By keyboard: the row's link, then the triage button.
    await row.getByRole('link').focus();
    await first.keyboard.press('Enter');
    await first.getByTestId('detail-title').waitFor();
    expect(await first.getByTestId('indicators').textContent()).toContain(domain.replace(/\./g, '[.]'));
    expect(await first.getByTestId('contributions').textContent()).toContain('mhlw-csirt');
    await first.getByTestId('triage-acknowledged').focus();
    await first.keyboard.press('Enter');
    await first.locator('[data-testid="detail-status"][data-status="acknowledged"]').waitFor();
    await first.locator('[data-testid="timeline"] li', { hasText: 'sato' }).waitFor();

    // The other analyst's list moves on by itself: an alert-update frame, no reload.
    await second
      .locator('[data-testid="feed-row"] [data-testid="triage-status"][data-status="acknowledged"]')
      .waitFor({ timeout: 15_000 });
    // A third organisation joins: the open detail shows the new version without a reload.
    await submit(
      tokens.finance,
      report({ category: 'phishing', indicators: [{ type: 'domain', value: domain }] }),
    );
    await first
      .locator('[data-testid="contributions"]', { hasText: 'finance-ceptar' })
      .waitFor({ timeout: 30_000 });
    expect(await first.locator('[data-testid="timeline"] li', { hasText: /^.*Version 2/ }).count()).toBe(1);
    await shoot(first, 'alert-detail');
    expect((first as Page & { problems: string[] }).problems).toEqual([]);

    // A fresh load shows where triage stands from the list itself.
    await second.reload();
    await second
      .locator('[data-testid="feed-row"] [data-testid="triage-status"][data-status="acknowledged"]')
      .waitFor();
    // Exercise traffic is announced and marked.
    expect(await second.getByTestId('exercise-banner').isVisible()).toBe(false);
    const drill = `drill-${randomUUID().slice(0, 8)}.example`;
    for (const token of [tokens.mlit, tokens.mhlw])
      await submit(token, report({ exercise: true, indicators: [{ type: 'domain', value: drill }] }));
    await second
      .locator('[data-testid="feed-row"].exercise', { hasText: drill })
      .waitFor({ timeout: 30_000 });
    expect(await second.getByTestId('exercise-banner').isVisible()).toBe(true);
    // Filters narrow the list and become the stream's subscription.
    await second.getByTestId('filter-severity').selectOption('critical');
    await second.getByTestId('filter-apply').click();
    await expect.poll(() => second.getByTestId('feed-row').count()).toBe(0);
  });

  it('lets a CSIRT user submit a report, flagging a bad indicator before sending, and see it processed', async () => {
    const page = await openPage();
    // Demo sign-in: the gateway runs in development mode here.
    await page.getByTestId('demo-org').selectOption('mlit-csirt');
    await page.getByTestId('demo-submit').click();
    await page
      .locator('[data-testid="connection"][data-state="live"], [data-testid="signin-error"]:not(:empty)')
      .first()
      .waitFor();
    // Signed in, the sign-in form (and its error line) is gone.
    const refused = await page.getByTestId('signin-error').allTextContents();
    expect(refused, 'demo sign-in refused').toEqual([]);
    await page.getByTestId('nav-reports').click();

    await page.getByTestId('r-title').fill('Credential phishing against procurement');
    await page.getByTestId('r-category').selectOption('phishing');
    await page.getByTestId('r-indicators').fill('hxxps://portal-login[.]example/x\nipv4 010.1.1.1');
    expect(await page.getByTestId('indicator-valid').textContent()).toContain(
      'https://portal-login.example/x',
    );
    await page.getByTestId('indicator-invalid').waitFor();
    await page.getByTestId('r-submit').click();
    expect(await page.getByTestId('r-indicators-error').textContent()).toMatch(/^Line 2: /);
    expect(await page.getByTestId('r-message').textContent()).toBe('Fix the marked fields before sending.');
    const mine = page.locator('[data-testid="my-report"]', {
      hasText: 'Credential phishing against procurement',
    });
    expect(await mine.count(), 'nothing was sent').toBe(0);

    await page.getByTestId('r-indicators').fill('hxxps://portal-login[.]example/x\nipv4 10.1.1.1');
    await page.getByTestId('r-submit').click();
    await expect.poll(() => page.getByTestId('r-message').textContent()).toMatch(/^Sent: /);
    await mine
      .locator('[data-testid="my-report-status"][data-status="processed"]')
      .waitFor({ timeout: 30_000 });
    await shoot(page, 'report-submission');
    expect((page as Page & { problems: string[] }).problems).toEqual([]);
  });

  it('carries a warning to the CEPTAR of its sector only, and its acknowledgement back to the analyst', async () => {
    const [analyst, finance, water] = await Promise.all([openPage(), openPage(), openPage()]);
    await Promise.all([
      signIn(analyst, tokens.analyst),
      signIn(finance, tokens.finance),
      signIn(water, tokens.water),
    ]);
    for (const page of [analyst, finance, water]) await page.getByTestId('nav-warnings').click();

    const title = `Phishing kit aimed at banks ${randomUUID().slice(0, 6)}`;
    await analyst.getByTestId('w-title').fill(title);
    await analyst.getByTestId('w-body').fill('Block portal-login[.]example at the proxy.');
    await analyst.getByTestId('w-sector-finance').check();
    await analyst.getByTestId('w-publish').click();
    await expect.poll(() => analyst.getByTestId('warning-message').textContent()).toBe('Published.');

    const arrived = finance.locator('[data-testid="warning"]', { hasText: title });
    await arrived.waitFor({ timeout: 15_000 });
    await arrived.getByTestId('ack').click();
    await arrived.getByTestId('acked').waitFor();

    await analyst
      .locator('[data-testid="warning"]', { hasText: title })
      .locator('[data-testid="ack-org"]', { hasText: 'finance-ceptar' })
      .waitFor({ timeout: 15_000 });
    // By now the water CEPTAR's stream has carried everything up to the acknowledgement.
    expect(await water.locator('[data-testid="warning"]', { hasText: title }).count()).toBe(0);
    await water.reload();
    await water.locator('[data-testid="connection"][data-state="live"]').waitFor();
    expect(await water.locator('[data-testid="warnings"]').textContent()).not.toContain(title);
    await shoot(analyst, 'warning-acknowledged');
  });

  it('shows a report title holding HTML as text', async () => {
    const title = '<img src=x onerror="window.__renkeiXss=1">Outage';
    const id = await submit(tokens.mhlw, report({ title }));
    const page = await openPage();
    await signIn(page, tokens.mhlw);
    await page.getByTestId('nav-reports').click();
    const cell = page.locator(`[data-report-id="${id}"] [data-testid="my-report-title"]`);
    await cell.waitFor();
    expect(await cell.textContent()).toBe(title);
    expect(await page.locator('[data-testid="my-reports"] img').count()).toBe(0);
    expect(await page.evaluate('window.__renkeiXss')).toBeUndefined();
    await shoot(page, 'html-as-text');
  });

  it('keeps a token pasted before the hub’s console settings arrive', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    // The settings answer is held back until the token is in the form: the form is drawn again then.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let settingsAsked = false;
    await page.route('**/console-config.json', async (route) => {
      settingsAsked = true;
      await held;
      await route.continue();
    });
    await page.goto(gatewayUrl);
    await page.getByTestId('token').fill(tokens.analyst);
    await expect.poll(() => settingsAsked).toBe(true);
    release();
    // Drawn again with the settings: this hub is in dev mode, so the demo sign-in appears.
    await page.getByTestId('demo-signin').waitFor();
    expect(await page.getByTestId('token').inputValue()).toBe(tokens.analyst);
    await page.getByTestId('signin').click();
    await page
      .locator('[data-testid="connection"][data-state="live"], [data-testid="signin-error"]:not(:empty)')
      .first()
      .waitFor();
    expect(await page.getByTestId('signin-error').allTextContents()).toEqual([]);
  });

  it('searches a defanged value, pivots to its indicator and report pages, and looks many values up as CSV', async () => {
    const domain = `pivot-${randomUUID().slice(0, 8)}.example`;
    const defanged = domain.replace(/\./g, '[.]');
    const greenTitle = `標的型攻撃メール ${domain}`;
    const greenId = await submit(
      tokens.mlit,
      report({
        title: greenTitle,
        description: 'Lure sent to procurement',
        indicators: [{ type: 'domain', value: domain }],
        labels: ['threat-actor:APT1', 'malware:Poison Ivy'],
      }),
    );
    const amberTitle = `Ministry-only sighting ${domain}`;
    await submit(
      tokens.mhlw,
      report({
        title: amberTitle,
        tlp: 'AMBER',
        category: 'phishing',
        indicators: [{ type: 'domain', value: domain }],
      }),
    );
    // Both stored and correlated before the pages ask.
    await eventually(
      async () => {
        const response = await fetch(`${gatewayUrl}/v1/search?q=${domain}`, {
          headers: { authorization: `Bearer ${tokens.analyst}` },
        });
        const answer = (await response.json()) as {
          reports: { items: unknown[] };
          alerts: { items: unknown[] };
        };
        expect([answer.reports.items.length, answer.alerts.items.length]).toEqual([2, 1]);
      },
      { timeoutMs: 30_000 },
    );

    const page = await openPage();
    await signIn(page, tokens.analyst);
    await page.getByTestId('search-box').fill(defanged.toUpperCase());
    await page.getByTestId('search-submit').click();
    await page.getByTestId('hit-indicator').first().waitFor();
    expect(await page.getByTestId('search-status').textContent()).toContain(defanged);
    expect(await page.getByTestId('hit-report').count()).toBe(2);
    expect(await page.getByTestId('hit-labels').allTextContents()).toEqual([
      'threat-actor:APT1malware:Poison Ivy',
    ]);
    expect(await page.getByTestId('group-reports').textContent()).toContain('mhlw-csirt');
    expect(await page.getByTestId('hit-alert').count()).toBe(1);

    await page.getByTestId('hit-indicator').first().getByRole('link').click();
    await page.getByTestId('indicator-summary').waitFor();
    expect(await page.getByTestId('indicator-reports').textContent()).toBe('2');
    expect(await page.getByTestId('timeline-report').count()).toBe(2);
    expect(await page.getByTestId('timeline-alert').count()).toBe(1);
    await shoot(page, 'search-indicator');

    await page.getByTestId('timeline-report').getByRole('link', { name: greenTitle }).click();
    await page.getByTestId('report-title').waitFor();
    expect(await page.getByTestId('report-title').textContent()).toContain(greenTitle);
    expect(page.url()).toContain(greenId);
    expect(await page.getByTestId('report-indicators').textContent()).toContain(defanged);
    expect(await page.getByTestId('report-page').textContent()).toContain('mlit-csirt');
    expect(await page.getByTestId('report-labels').getByRole('link').allTextContents()).toEqual([
      'threat-actor:APT1',
      'malware:Poison Ivy',
    ]);
    await shoot(page, 'report-labels');

    await page.getByTestId('nav-lookup').click();
    await page
      .getByTestId('lookup-values')
      .fill(`${defanged}\nnever-${randomUUID().slice(0, 8)}.example\nnot a value`);
    await page.getByTestId('lookup-submit').click();
    await expect.poll(() => page.getByTestId('lookup-row').count()).toBe(3);
    expect(
      await page
        .getByTestId('lookup-row')
        .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-known'))),
    ).toEqual(['true', 'false', 'false']);
    // The page's CSP allows no fetch of blob: addresses; the download is what a person gets.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('lookup-csv').click(),
    ]);
    expect(download.suggestedFilename()).toBe('renkei-lookup.csv');
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe(
      'value,type,canonical,known,reports,organisations,first_seen,last_seen,sectors,alerts,suppressed_by,error',
    );
    expect(lines[1]).toContain(`domain,${domain},yes,2,`);
    expect(lines).toHaveLength(4);
    await shoot(page, 'lookup');
    expect((page as Page & { problems: string[] }).problems).toEqual([]);

    // A member, in Japanese: its view only (the GREEN report, unnamed; never the AMBER one of another organisation).
    const member = await openPage('ja-JP');
    await signIn(member, tokens.finance);
    await member.getByTestId('search-box').fill(defanged);
    await member.getByTestId('search-submit').click();
    await member.getByTestId('hit-report').first().waitFor();
    const reports = await member.getByTestId('group-reports').textContent();
    expect(reports).toContain(greenTitle);
    expect(reports).toContain('他組織');
    expect(reports).not.toContain(amberTitle);
    expect(reports).not.toContain('mlit-csirt');
    expect(await member.getByTestId('hit-report').count()).toBe(1);
    expect(
      await member.evaluate<boolean>(
        'document.documentElement.scrollWidth <= document.documentElement.clientWidth',
      ),
      'no horizontal scroll at 1280×800',
    ).toBe(true);
    await shoot(member, 'search-ja');
  });

  it('shows analysts an exercise board that moves live, and a participant only its own task', async () => {
    const domain = `drill-${randomUUID().slice(0, 8)}.example`;
    const scenario = {
      schema: 'renkei.exercise-scenario.v1',
      id: 'console-drill',
      version: 1,
      title: { ja: 'コンソール演習', en: 'Console drill' },
      description: { ja: '試験用', en: 'For the test' },
      participants: [{ sector: 'finance' }, { organisation: 'water-ceptar' }],
      injects: [
        {
          id: 'sighting',
          at: 'PT0M',
          kind: 'report',
          from: 'mlit-csirt',
          report: {
            title: 'Phishing (exercise)',
            category: 'phishing',
            severity: 'high',
            tlp: 'GREEN',
            indicators: [{ type: 'domain', value: domain }],
          },
        },
        {
          id: 'warn',
          at: 'PT1M',
          kind: 'warning',
          warning: {
            title: '訓練の注意喚起',
            body: 'Block it',
            severity: 'high',
            tlp: 'GREEN',
            sectors: ['finance', 'water'],
          },
        },
        {
          id: 'ask',
          at: 'PT2M',
          kind: 'information-request',
          to: 'water-ceptar',
          message: { ja: '観測の有無を報告してください', en: 'Report whether you see it' },
        },
      ],
      expectations: [{ id: 'ack', kind: 'acknowledge', after: 'warn', within: 'PT30M' }],
    };
    const created = await fetch(`${gatewayUrl}/v1/exercises`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.analyst}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scenario, speed: 60 }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    const page = await openPage();
    await signIn(page, tokens.analyst);
    const water = await openPage('ja-JP');
    await signIn(water, tokens.water);
    await page.getByTestId('nav-exercises').click();
    await page.locator(`[data-testid="exercise-run"][data-run-id="${id}"] a`).click();
    await page.getByTestId('exercise-title').waitFor();
    expect(await page.getByTestId('exercise-state').getAttribute('data-state')).toBe('scheduled');
    expect(await page.locator('[data-testid="exercise-inject"][data-sent="true"]').count()).toBe(0);

    const started = await fetch(`${gatewayUrl}/v1/exercises/${id}/start`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.analyst}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(started.status).toBe(200);
    // Moved by the run's stream frames, without a reload.
    await expect
      .poll(() => page.locator('[data-testid="exercise-inject"][data-sent="true"]').count(), {
        timeout: 30_000,
      })
      .toBe(3);
    expect(await page.getByTestId('exercise-state').getAttribute('data-state')).toBe('running');
    const outcomes = page.locator(
      '[data-testid="exercise-participant"][data-participant="water-ceptar"] [data-testid="exercise-outcome"]',
    );
    expect(await outcomes.getAttribute('data-status')).toBe('pending');
    await water.getByTestId('nav-exercises').click();
    // The water CEPTAR acknowledges the warning: the analyst's board shows it met.
    const warning = await eventually(async () => {
      const response = await fetch(`${gatewayUrl}/v1/warnings`, {
        headers: { authorization: `Bearer ${tokens.water}` },
      });
      const items = ((await response.json()) as { items: { id: string; title: string }[] }).items;
      const found = items.find((item) => item.title === '訓練の注意喚起');
      expect(found).toBeDefined();
      return found!;
    });
    const acked = await fetch(`${gatewayUrl}/v1/warnings/${warning.id}/ack`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.water}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(acked.status).toBe(200);
    await expect.poll(() => outcomes.getAttribute('data-status'), { timeout: 30_000 }).toBe('met');
    await shoot(page, 'exercise-board');

    // The participant sees its own task, in its language, and never the scoring.
    await water.locator('[data-testid="exercise-task"][data-inject="ask"]').waitFor({ timeout: 30_000 });
    expect(await water.getByTestId('exercise-tasks').textContent()).toContain('観測の有無を報告してください');
    expect(await water.getByTestId('exercise-outcome').count()).toBe(0);
    await shoot(water, 'exercise-task-ja');
    expect((page as Page & { problems: string[] }).problems).toEqual([]);
  });

  it('turns the page Japanese with the language switch', async () => {
    const page = await openPage('en-US');
    await signIn(page, tokens.analyst);
    expect(await page.locator('h1').textContent()).toBe('Renkei console');
    await page.getByTestId('language').click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('連携 コンソール');
    expect(await page.evaluate('document.documentElement.lang')).toBe('ja');
    expect(await page.getByTestId('connection').textContent()).toBe('ライブ');
    expect(await page.locator('[data-testid="feed"] .feed-head').textContent()).toContain('深刻度');
    await shoot(page, 'japanese');

    // A browser that prefers Japanese gets it from the start.
    const japanese = await openPage('ja-JP');
    await expect.poll(() => japanese.locator('h2').first().textContent()).toBe('サインイン');
  });
});

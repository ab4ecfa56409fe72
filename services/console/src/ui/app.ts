import { createStreamClient, StreamClientError, type StreamClient, type StreamEvent } from '@renkei/client';
import {
  ALERT_KINDS,
  SECTORS,
  SEVERITIES,
  type AlertDetail,
  type AlertKind,
  type AlertSummary,
  type AlertView,
  type MyReport,
  type Sector,
  type Severity,
  type StreamFilter,
  type TriageStatus,
  type WarningView,
} from '@renkei/schema';
import {
  ApiError,
  createApi,
  fetchConsoleConfig,
  fetchDemoIdentities,
  mintDemoToken,
  tokenClaims,
  type Api,
  type ConsoleConfig,
} from '../api.js';
import {
  ageText,
  CATALOGUES,
  phraseText,
  preferredLanguage,
  translate,
  vocabularyName,
  type Language,
  type MessageKey,
  type Phrase,
} from '../i18n.js';
import {
  applyTriageStatus,
  clearFeed,
  connectionState,
  createFeedIndex,
  heatLevel,
  isEscalation,
  matchesFilter,
  middleTruncate,
  showsExercise,
  sortFeed,
  summaryWait,
  upsertFeed,
  visibleRange,
  type FeedAlert,
  type FeedSort,
  type LinkFacts,
} from '../model.js';
import { renderAdmin, type AdminScreen } from './admin.js';
import { renderDetail } from './detail.js';
import { newExerciseState, renderExercises, takeRun, takeTask } from './exercises.js';
import { append, dataValue, el, fill, replaceChildren } from './dom.js';
import { renderReports } from './reports.js';
import { renderSearchPage, searchBox, searchRouteOf, type SearchRoute } from './search.js';
import { renderWarnings } from './warnings.js';

const TOKEN_KEY = 'renkei.token';
const LANGUAGE_KEY = 'renkei.language';
const THEME_KEY = 'renkei.theme';
const NOTIFY_KEY = 'renkei.notify';
const SOUND_KEY = 'renkei.sound';
const HIGHLIGHT_MS = 8_000;
/** The highlight fades in four steps over HIGHLIGHT_MS. */
const HIGHLIGHT_STEPS = 4;
const HIGHLIGHT_STEP_MS = HIGHLIGHT_MS / HIGHLIGHT_STEPS;
/** Which step of its highlight a row that arrived live shows: 0 (full) to 3 (faintest), -1 none. */
const highlightStep = (arrivedAt: number | undefined, now: number) =>
  arrivedAt === undefined || now - arrivedAt >= HIGHLIGHT_MS
    ? -1
    : Math.max(0, Math.floor((now - arrivedAt) / HIGHLIGHT_STEP_MS));
/** One row of the alert list, in CSS pixels (style.css `.feed-row` says the same). */
export const ROW_HEIGHT = 34;
const PAGE_SIZE = 200;
/** How long the page handles stream events before it lets a frame be drawn. */
const EVENT_SLICE_MS = 8;
/** How many alert events the list takes per frame drawn while it is on screen (about 240 a second). */
const ALERTS_PER_FRAME = 4;
/** The longest a paced stream waits for a frame that does not come. */
const FRAME_WAIT_MS = 100;

export interface Session {
  token: string;
  api: Api;
  subject: string;
  organisationId: string;
  sector: string;
  roles: string[];
  stream: StreamClient;
}

export type Route =
  | { name: 'feed' }
  | { name: 'alert'; id: string }
  | { name: 'warnings'; fromAlert?: string }
  | { name: 'reports' }
  | { name: 'admin'; screen: AdminScreen }
  | { name: 'exercises'; id?: string }
  | SearchRoute;

/**
 * What the page modules share: the session, the language and its helpers,
 * and ways to ask for a repaint. Each page is a function of this and a
 * `main` element; this file owns the state and the stream.
 */
export interface ConsoleContext {
  session: () => Session | null;
  language: () => Language;
  t: (key: MessageKey, params?: Record<string, string | number>) => string;
  /** A message whose placeholders may be elements (data values). */
  tf: (key: MessageKey, params: Record<string, Node | string | number>) => (Node | string)[];
  name: (group: 'kind' | 'sector' | 'category', value: string) => string;
  names: (group: 'sector' | 'category', values: readonly string[]) => string;
  dateTime: (iso: string) => string;
  time: (iso: string) => HTMLTimeElement;
  reason: (error: unknown) => string;
  severityBadge: (severity: Severity) => HTMLElement;
  statusText: (status: TriageStatus) => string;
  alertTitle: (alert: AlertView) => string;
  alertReasons: (alert: AlertView) => string[];
  isAnalyst: () => boolean;
  isAdmin: () => boolean;
  isRecipient: () => boolean;
  /** Sets what the current view repaints on each change; called once per animation frame at most. */
  setRefresh: (refresh: () => void) => void;
  scheduleRefresh: () => void;
  /** A refused or failed request: a 401 ends the session (sign in again, the page kept). */
  failed: (error: unknown) => string;
  feed: () => readonly FeedAlert[];
  /** One alert of the feed by id, without a scan. */
  feedAlert: (alertId: string) => FeedAlert | undefined;
  warnings: () => WarningView[];
  setWarnings: (next: WarningView[]) => void;
  ownAcks: Map<string, string | null>;
  warningAcks: Map<string, Map<string, string>>;
  warningPending: Map<string, string[]>;
  loadWarningAcks: (id: string) => Promise<void>;
  myReports: () => MyReport[];
  loadMyReports: () => Promise<void>;
  currentRoute: () => Route;
  /** Detail pages register here to hear of new versions and triage of the alert they show. */
  onAlertChange: (listener: ((alertId: string) => void) | null) => void;
  lastDetail: { value: AlertDetail | null };
}

export function startConsole(root: HTMLElement): void {
  const gatewayUrl = window.location.origin;
  let language: Language =
    (localStorage.getItem(LANGUAGE_KEY) as Language | null) ?? preferredLanguage(navigator.languages);
  const savedTheme = localStorage.getItem(THEME_KEY);
  let theme: 'light' | 'dark' =
    savedTheme === 'dark' || savedTheme === 'light'
      ? savedTheme
      : window.matchMedia?.('(prefers-color-scheme: dark)').matches
        ? 'dark'
        : 'light';
  let notify = localStorage.getItem(NOTIFY_KEY) === 'true';
  let sound = localStorage.getItem(SOUND_KEY) === 'true';
  let config: ConsoleConfig = { ingestUrl: 'http://127.0.0.1:7400', devMode: false, heartbeatMs: 30_000 };
  let session: Session | null = null;
  /** Set when the hub ended the session (token expired or revoked): the page state is kept for the next sign-in. */
  let sessionEnded = false;
  let draftToken = '';
  const feed = createFeedIndex();
  /** Counts changes to `feed` (changed in place): the shown list is made again only when it moved. */
  let feedVersion = 0;
  /** Older alerts: the cursor of the next page back, null when all are loaded. */
  let nextBefore: string | null = null;
  let loadingOlder = false;
  let filter: StreamFilter = {};
  let sort: FeedSort = { by: 'time', descending: true };
  const selected = new Set<string>();
  let summary: AlertSummary | null = null;
  const link: LinkFacts = { socket: 'connecting', lastFrameAt: undefined, heartbeatMs: 30_000 };
  let unread = 0;
  let warnings: WarningView[] = [];
  const warningAcks = new Map<string, Map<string, string>>();
  const warningPending = new Map<string, string[]>();
  const ownAcks = new Map<string, string | null>();
  const lastDetail: { value: AlertDetail | null } = { value: null };
  let myReports: MyReport[] = [];
  const exercises = newExerciseState();
  let refreshView: () => void = () => undefined;
  let alertListener: ((alertId: string) => void) | null = null;

  const t = (key: MessageKey, params?: Record<string, string | number>) => translate(language, key, params);
  const tf = (key: MessageKey, params: Record<string, Node | string | number>) =>
    fill(CATALOGUES[language][key], params).map((part) =>
      typeof part === 'number' ? String(part) : part,
    ) as (Node | string)[];
  const name = (group: 'kind' | 'sector' | 'category', value: string) =>
    vocabularyName(language, group, value);
  const names = (group: 'sector' | 'category', values: readonly string[]) =>
    values.map((value) => name(group, value)).join(language === 'ja' ? '、' : ', ');
  // Every time in the reader's own zone, the zone named.
  // One formatter per language: making one costs far more than using it, and every row shows times
  // (a CPU profile of a burst over 10,000 alerts had a quarter of drawing the rows in making them).
  const formatters = new Map<Language, Intl.DateTimeFormat>();
  // Formatting is to the second and still costs a third of a millisecond on a busy machine: a burst's
  // alerts, many to a second, share one. Kept per language, dropped when it grows past a few screens.
  const formatted = new Map<string, string>();
  const dateTime = (iso: string) => {
    const second = `${language}|${Math.floor(Date.parse(iso) / 1000)}`;
    const known = formatted.get(second);
    if (known !== undefined) return known;
    if (formatted.size >= 512) formatted.clear();
    const text = formatWithZone(iso);
    formatted.set(second, text);
    return text;
  };
  const formatWithZone = (iso: string) => {
    let format = formatters.get(language);
    if (!format) {
      format = new Intl.DateTimeFormat(language === 'ja' ? 'ja-JP' : 'en-GB', {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        timeZoneName: 'short',
      });
      formatters.set(language, format);
    }
    return format.format(new Date(iso));
  };
  const time = (iso: string) => el('time', { datetime: iso, 'data-value': '' }, dateTime(iso));
  const isAnalyst = () => session?.roles.includes('analyst') ?? false;
  const isAdmin = () => session?.roles.includes('admin') ?? false;
  const isRecipient = () => session?.roles.some((role) => role === 'reporter' || role === 'ceptar') ?? false;
  const reason = (error: unknown) => {
    if (error instanceof ApiError) {
      const key = `error.${error.code}` as MessageKey;
      return key in CATALOGUES[language] ? t(key) : t('error.other', { status: error.status });
    }
    if (error instanceof TypeError) return t('error.network');
    return String((error as Error)?.message ?? error);
  };
  const failed = (error: unknown) => {
    if (error instanceof ApiError && error.status === 401) endSession();
    return reason(error);
  };
  const severityBadge = (severity: Severity) =>
    el('span', { class: `severity severity-${severity}` }, t(`severity.${severity}` as MessageKey));
  const statusText = (status: TriageStatus) => t(`status.${status}` as MessageKey);
  const phrase = (part: 'title' | 'reason', value: Phrase | undefined, english: string) =>
    (value && phraseText(language, part, value, dateTime)) ?? english;
  const alertTitle = (alert: AlertView) => phrase('title', alert.text?.title, alert.title);
  const alertReasons = (alert: AlertView) =>
    alert.text
      ? alert.text.reasons.map((r, index) => phrase('reason', r, alert.reasons[index] ?? ''))
      : alert.reasons;

  // ----- routing -----
  const currentRoute = (): Route => {
    const hash = window.location.hash.replace(/^#\/?/, '');
    const [page, id] = hash.split('/');
    if (page === 'alert' && id) return { name: 'alert', id };
    if (page === 'warnings') return id ? { name: 'warnings', fromAlert: id } : { name: 'warnings' };
    if (page === 'reports') return { name: 'reports' };
    if (page === 'exercises') return id ? { name: 'exercises', id } : { name: 'exercises' };
    if (page === 'admin')
      return {
        name: 'admin',
        screen:
          (['watchlist', 'exclusions', 'organisations', 'audit'] as const).find((s) => s === id) ??
          'watchlist',
      };
    return searchRouteOf(window.location.hash) ?? { name: 'feed' };
  };
  window.addEventListener('hashchange', () => {
    if (currentRoute().name === 'feed') markRead();
    render();
  });

  // ----- attention -----
  const showTitle = () => {
    document.title =
      unread > 0 ? t('title.unread', { count: unread, title: t('app.title') }) : t('app.title');
  };
  const markRead = () => {
    unread = 0;
    showTitle();
  };
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && currentRoute().name === 'feed') markRead();
  });
  const beep = () => {
    const Audio = (window as { AudioContext?: typeof AudioContext }).AudioContext;
    if (!Audio) return;
    const context = new Audio();
    const tone = context.createOscillator();
    const gain = context.createGain();
    tone.frequency.value = 880;
    gain.gain.value = 0.15;
    tone.connect(gain).connect(context.destination);
    tone.start();
    tone.stop(context.currentTime + 0.25);
    tone.onended = () => void context.close();
  };
  const attend = (heading: MessageKey, body: string) => {
    if (sound) beep();
    if (notify && 'Notification' in window && Notification.permission === 'granted')
      new Notification(t(heading), { body, tag: body });
  };

  // ----- the page frame -----
  const connectionBadge = el('span', { class: 'connection', role: 'status', 'data-testid': 'connection' });
  const showConnection = () => {
    const state = connectionState(link, Date.now());
    const text =
      state.state === 'failed'
        ? t('conn.failed', { reason: state.reason })
        : state.state === 'reconnecting' && state.silentForSeconds !== null && link.lastFrameAt !== undefined
          ? t('conn.reconnectingSince', { seconds: state.silentForSeconds })
          : t(`conn.${state.state}` as MessageKey);
    connectionBadge.className = `connection connection-${state.state}`;
    connectionBadge.setAttribute('data-state', state.state);
    if (connectionBadge.textContent !== text) connectionBadge.textContent = text;
  };
  setInterval(showConnection, 1_000);

  const settingsMenu = () => {
    const box = (id: string, label: MessageKey, checked: boolean, change: (on: boolean) => void) => {
      const input = el('input', { type: 'checkbox', id, 'data-testid': id, checked });
      input.addEventListener('change', () => change(input.checked));
      return el('label', { for: id, class: 'inline' }, input, ` ${t(label)}`);
    };
    return el(
      'details',
      { class: 'settings', 'data-testid': 'settings' },
      el('summary', {}, t('settings.title')),
      el(
        'div',
        { class: 'settings-panel' },
        box('setting-theme', 'settings.theme', theme === 'dark', (on) => {
          theme = on ? 'dark' : 'light';
          localStorage.setItem(THEME_KEY, theme);
          document.documentElement.dataset.theme = theme;
        }),
        box('setting-notify', 'settings.notify', notify, (on) => {
          notify = on;
          localStorage.setItem(NOTIFY_KEY, String(on));
          if (on && 'Notification' in window && Notification.permission === 'default')
            void Notification.requestPermission();
        }),
        box('setting-sound', 'settings.sound', sound, (on) => {
          sound = on;
          localStorage.setItem(SOUND_KEY, String(on));
        }),
      ),
    );
  };

  const header = () => {
    document.documentElement.lang = language;
    document.documentElement.dataset.theme = theme;
    showTitle();
    const nav = session
      ? el(
          'nav',
          { 'aria-label': t('app.title') },
          el('a', { href: '#/feed', 'data-testid': 'nav-feed' }, t('nav.feed')),
          el('a', { href: '#/warnings', 'data-testid': 'nav-warnings' }, t('nav.warnings')),
          isRecipient() && el('a', { href: '#/reports', 'data-testid': 'nav-reports' }, t('nav.reports')),
          (isAnalyst() || isRecipient()) &&
            el('a', { href: '#/exercises', 'data-testid': 'nav-exercises' }, t('nav.exercises')),
          (isAnalyst() || isAdmin()) &&
            el(
              'a',
              {
                href: `#/admin/${isAdmin() && !isAnalyst() ? 'organisations' : 'watchlist'}`,
                'data-testid': 'nav-admin',
              },
              t('nav.admin'),
            ),
        )
      : null;
    return el(
      'header',
      { class: 'top' },
      el('h1', {}, t('app.title')),
      nav,
      session &&
        searchBox(
          context,
          (() => {
            const route = currentRoute();
            return route.name === 'search' ? route.q : '';
          })(),
        ),
      session && connectionBadge,
      session &&
        el(
          'span',
          { class: 'who', 'data-testid': 'who' },
          ...tf('signin.as', {
            subject: dataValue(session.subject),
            organisation: dataValue(session.organisationId),
            roles: session.roles
              .map((role) => t(`role.${role}` as MessageKey))
              .join(language === 'ja' ? '、' : ', '),
          }),
        ),
      settingsMenu(),
      el(
        'button',
        {
          type: 'button',
          'data-testid': 'language',
          lang: language === 'ja' ? 'en' : 'ja',
          'aria-label': t('lang.switchLabel'),
          on: {
            click: () => {
              language = language === 'ja' ? 'en' : 'ja';
              localStorage.setItem(LANGUAGE_KEY, language);
              render();
            },
          },
        },
        t('lang.switch'),
      ),
      session &&
        el(
          'button',
          { type: 'button', 'data-testid': 'sign-out', on: { click: () => void signOut() } },
          t('signin.signOut'),
        ),
    );
  };

  const context: ConsoleContext = {
    session: () => session,
    language: () => language,
    t,
    tf,
    name,
    names,
    dateTime,
    time,
    reason,
    severityBadge,
    statusText,
    alertTitle,
    alertReasons,
    isAnalyst,
    isAdmin,
    isRecipient,
    setRefresh: (refresh) => (refreshView = refresh),
    scheduleRefresh: () => scheduleRefresh(),
    failed,
    feed: () => feed.list,
    feedAlert: (alertId) => feed.byId.get(alertId),
    warnings: () => warnings,
    setWarnings: (next) => (warnings = next),
    ownAcks,
    warningAcks,
    warningPending,
    loadWarningAcks: (id) => loadWarningAcks(id),
    myReports: () => myReports,
    loadMyReports: () => loadMyReports(),
    currentRoute,
    onAlertChange: (listener) => (alertListener = listener),
    lastDetail,
  };

  const render = () => {
    const main = el('main', { id: 'main' });
    replaceChildren(root, header(), main);
    showConnection();
    alertListener = null;
    if (!session) {
      refreshView = () => undefined;
      renderSignIn(main);
      return;
    }
    const route = currentRoute();
    if (route.name === 'alert') renderDetail(context, main, route.id);
    else if (route.name === 'warnings') renderWarnings(context, main, route.fromAlert);
    else if (route.name === 'reports' && isRecipient()) renderReports(context, main);
    else if (route.name === 'exercises' && (isAnalyst() || isRecipient()))
      renderExercises(context, main, exercises, route.id);
    else if (route.name === 'admin' && (isAnalyst() || isAdmin())) renderAdmin(context, main, route.screen);
    else if (
      route.name === 'search' ||
      route.name === 'indicator' ||
      route.name === 'report' ||
      route.name === 'lookup'
    )
      renderSearchPage(context, main, route);
    else renderFeed(main);
  };

  // ----- sign-in -----
  const renderSignIn = (main: HTMLElement) => {
    const message = el('p', { class: 'error', role: 'alert', 'data-testid': 'signin-error' });
    const tokenInput = el('textarea', {
      id: 'token',
      rows: 3,
      'data-testid': 'token',
      autocomplete: 'off',
      on: { input: () => (draftToken = tokenInput.value) },
    });
    tokenInput.value = draftToken;
    const form = el(
      'form',
      {
        class: 'card signin',
        on: {
          submit: (event) => {
            event.preventDefault();
            void signIn(tokenInput.value.trim()).catch((error) => {
              message.textContent = t('signin.failed', { reason: reason(error) });
            });
          },
        },
      },
      el('h2', {}, t('signin.title')),
      sessionEnded &&
        el('p', { class: 'notice', role: 'status', 'data-testid': 'session-ended' }, t('session.ended')),
      el('label', { for: 'token' }, t('signin.token')),
      tokenInput,
      el('p', { class: 'help' }, t('signin.tokenHelp')),
      el('button', { type: 'submit', 'data-testid': 'signin' }, t('signin.submit')),
    );
    append(main, form);
    if (config.devMode) {
      const demo = el('form', { class: 'card signin', 'data-testid': 'demo-signin' });
      append(demo, el('h2', {}, t('signin.demo')), el('p', { class: 'help' }, t('signin.demoHelp')));
      append(main, demo);
      void fetchDemoIdentities(gatewayUrl)
        .then(({ items }) => {
          const organisation = el(
            'select',
            { id: 'demo-org', 'data-testid': 'demo-org' },
            ...items.map((item) =>
              el('option', { value: item.organisationId }, `${item.name} (${name('sector', item.sector)})`),
            ),
          );
          const role = el('select', { id: 'demo-role', 'data-testid': 'demo-role' });
          const fillRoles = () => {
            const chosen = items.find((item) => item.organisationId === organisation.value);
            replaceChildren(
              role,
              ...(chosen?.roles ?? []).map((r) => el('option', { value: r }, t(`role.${r}` as MessageKey))),
            );
          };
          organisation.addEventListener('change', fillRoles);
          fillRoles();
          demo.addEventListener('submit', (event) => {
            event.preventDefault();
            void mintDemoToken(gatewayUrl, organisation.value, role.value)
              .then(({ token }) => signIn(token))
              .catch((error) => {
                message.textContent = t('signin.failed', { reason: reason(error) });
              });
          });
          append(
            demo,
            el('label', { for: 'demo-org' }, t('signin.organisation')),
            organisation,
            el('label', { for: 'demo-role' }, t('signin.role')),
            role,
            el('button', { type: 'submit', 'data-testid': 'demo-submit' }, t('signin.demoSubmit')),
          );
        })
        .catch((error) => {
          message.textContent = t('error.generic', { reason: reason(error) });
        });
    }
    append(main, message);
    tokenInput.focus();
  };

  const mergePage = (items: Awaited<ReturnType<Api['alerts']>>['items']) => {
    feedVersion += 1;
    for (const item of items)
      upsertFeed(feed, {
        alert: item,
        cursor: item.cursor,
        ...(item.triageStatus ? { triageStatus: item.triageStatus } : {}),
      });
  };

  const signIn = async (token: string) => {
    const claims = tokenClaims(token);
    if (!claims) throw new Error('not a token');
    const api = createApi(gatewayUrl, config.ingestUrl, token);
    // The hub decides: a refused token fails here, before anything is shown.
    const page = await api.alerts(PAGE_SIZE);
    sessionStorage.setItem(TOKEN_KEY, token);
    draftToken = '';
    // After a session ended, the list, filters and page stay; a new person starts afresh.
    const resuming = sessionEnded && session === null && lastSubject === claims.sub;
    if (!resuming) {
      clearFeed(feed);
      selected.clear();
      warnings = [];
      ownAcks.clear();
      warningAcks.clear();
      warningPending.clear();
      nextBefore = page.nextBefore;
    } else if (nextBefore === null && feed.list.length === 0) nextBefore = page.nextBefore;
    sessionEnded = false;
    mergePage(page.items);
    link.socket = 'connecting';
    link.lastFrameAt = undefined;
    link.failed = undefined;
    link.gapAt = undefined;
    link.heartbeatMs = config.heartbeatMs;
    // The stream is never filtered: filters narrow what is shown, so an alert that
    // arrives under a filter is there when the filter is cleared.
    const stream = createStreamClient({
      url: gatewayUrl,
      token,
      ...(page.nextAfter ? { after: page.nextAfter } : {}),
      silenceTimeoutMs: 2 * config.heartbeatMs + 1_000,
      // A watch floor must be back within seconds of the network: a page is one client
      // per analyst, not a crowd, so its waits stay short (the library's default grows to 30 s).
      backoff: { maxMs: 5_000 },
      onActivity: (at) => {
        link.lastFrameAt = at;
      },
      onStatus: (status) => {
        link.socket =
          status.state === 'open' ? 'open' : status.state === 'connecting' ? 'connecting' : 'closed';
        if (status.state === 'open') link.lastFrameAt = Date.now();
        showConnection();
      },
    });
    session = {
      token,
      api,
      subject: claims.sub,
      organisationId: claims.org,
      sector: claims.sector,
      roles: claims.roles,
      stream,
    };
    lastSubject = claims.sub;
    void consume(stream);
    void loadWarnings();
    if (isRecipient()) void loadMyReports();
    requestSummary(false);
    render();
  };
  let lastSubject: string | undefined;

  /** The hub ended the session: back to sign-in, keeping the list, filters and route for when it is back. */
  const endSession = () => {
    const current = session;
    if (!current) return;
    session = null;
    sessionEnded = true;
    sessionStorage.removeItem(TOKEN_KEY);
    link.failed = undefined;
    void current.stream.close();
    render();
  };

  const signOut = async () => {
    const current = session;
    session = null;
    sessionEnded = false;
    lastSubject = undefined;
    clearFeed(feed);
    selected.clear();
    summary = null;
    sessionStorage.removeItem(TOKEN_KEY);
    window.location.hash = '';
    render();
    await current?.stream.close();
  };

  // ----- the stream -----
  const consume = async (stream: StreamClient) => {
    try {
      // A backlog (a reconnection's replay, a burst) is taken in slices of a few milliseconds with the
      // page free in between: without this, hundreds of queued events run as one long task.
      let sliceStarted = performance.now();
      let alertsThisFrame = 0;
      for await (const event of stream) {
        handleEvent(event);
        if (event.type === 'alert' || event.type === 'alert-update') alertsThisFrame += 1;
        // While the list is on screen, a frame draws the rows of a few alerts at most: each new alert
        // is a row made, styled, laid out and painted, and a batch of twenty drawn in one frame was a
        // task of 20–30 ms of the thread's own time (hundreds of ms on a busy machine). The events wait
        // in order in the stream's queue; each frame shows the list as it stood after those taken.
        const paced = alertsThisFrame >= ALERTS_PER_FRAME && listOnScreen();
        if (paced || performance.now() - sliceStarted > EVENT_SLICE_MS) {
          await (paced ? nextFrame() : new Promise((resolve) => setTimeout(resolve, 0)));
          sliceStarted = performance.now();
          alertsThisFrame = 0;
        }
      }
    } catch (error) {
      if (session?.stream !== stream) return;
      if (error instanceof StreamClientError && error.code === 'unauthenticated') {
        endSession();
        return;
      }
      link.failed = reason(error);
      showConnection();
    }
  };

  const listOnScreen = () => !document.hidden && currentRoute().name === 'feed';
  /**
   * Resolves in the next animation frame, after the list's own repaint callback (asked for earlier, so
   * called first): the events taken then are drawn in the frame after. At once if the page is hidden
   * meanwhile (hidden pages draw no frames). Not a timer after the frame: Chromium ran those some
   * 60 ms late while frames were being drawn, and the list fell behind a burst. A page that is not
   * hidden may still draw no frame (a browser may stop frames for a window it considers out of sight):
   * after FRAME_WAIT_MS it goes on anyway, so the stream, heartbeats included, is never held up.
   */
  const nextFrame = () =>
    new Promise<void>((resolve) => {
      let frame = 0;
      const done = () => {
        document.removeEventListener('visibilitychange', done);
        clearTimeout(timer);
        cancelAnimationFrame(frame);
        resolve();
      };
      const timer = setTimeout(done, FRAME_WAIT_MS);
      document.addEventListener('visibilitychange', done);
      frame = requestAnimationFrame(done);
    });

  const handleEvent = (event: StreamEvent) => {
    feedVersion += 1;
    const route = currentRoute();
    const away = document.hidden || route.name !== 'feed';
    switch (event.type) {
      case 'alert': {
        // The version held before this one, found in the index: no scan of the list per event.
        const previous = feed.byId.get(event.alert.id);
        upsertFeed(feed, { alert: event.alert, cursor: event.cursor, arrivedAt: Date.now() });
        if (away && (!previous || isEscalation(previous.alert, event.alert))) {
          unread += 1;
          showTitle();
        }
        if (event.alert.severity === 'critical' && previous?.alert.severity !== 'critical')
          attend('notify.critical', alertTitle(event.alert));
        alertListener?.(event.alert.id);
        requestSummary();
        break;
      }
      case 'alert-update':
        applyTriageStatus(feed, event.update.alertId, event.update.status);
        alertListener?.(event.update.alertId);
        requestSummary();
        break;
      case 'warning':
        if (!warnings.some((w) => w.id === event.warning.id)) {
          warnings = [event.warning, ...warnings];
          attend('notify.warning', event.warning.title);
          if (away) {
            unread += 1;
            showTitle();
          }
        }
        if (isRecipient() && !ownAcks.has(event.warning.id)) ownAcks.set(event.warning.id, null);
        if (isAnalyst()) void loadWarningAcks(event.warning.id);
        break;
      case 'warning-ack': {
        // A colleague acknowledged for the organisation: nobody else there is asked again.
        if (session && event.ack.organisationId === session.organisationId)
          ownAcks.set(event.ack.warningId, event.ack.at);
        const acks = warningAcks.get(event.ack.warningId) ?? new Map<string, string>();
        acks.set(event.ack.organisationId, event.ack.at);
        warningAcks.set(event.ack.warningId, acks);
        const pending = warningPending.get(event.ack.warningId);
        if (pending)
          warningPending.set(
            event.ack.warningId,
            pending.filter((id) => id !== event.ack.organisationId),
          );
        break;
      }
      case 'exercise':
        if (event.exercise.audience === 'control') takeRun(exercises, event.exercise.run);
        else {
          takeTask(exercises, event.exercise.task);
          attend('notify.exerciseTask', event.exercise.task.message[language]);
        }
        break;
      case 'gap':
        link.gapAt = Date.now();
        showConnection();
        void reloadAlerts();
        break;
    }
    scheduleRefresh();
  };

  let refreshQueued = false;
  const scheduleRefresh = () => {
    if (refreshQueued) return;
    refreshQueued = true;
    // One repaint per frame however many events arrive.
    requestAnimationFrame(() => {
      refreshQueued = false;
      refreshView();
    });
  };

  const reloadAlerts = async () => {
    if (!session) return;
    try {
      mergePage((await session.api.alerts(PAGE_SIZE)).items);
    } catch (error) {
      failed(error);
    }
    scheduleRefresh();
  };

  const loadOlder = async () => {
    if (!session || loadingOlder || nextBefore === null) return;
    loadingOlder = true;
    scheduleRefresh();
    try {
      const page = await session.api.alerts(PAGE_SIZE, nextBefore);
      mergePage(page.items);
      nextBefore = page.nextBefore;
    } catch (error) {
      failed(error);
    } finally {
      loadingOlder = false;
      scheduleRefresh();
    }
  };

  // The counters are the hub's: asked again after events, one request at a time, at most every
  // 1.5 s, and every 5 s while events come in a burst (summaryWait says when).
  let summaryTimer: ReturnType<typeof setTimeout> | undefined;
  let summaryInFlight = false;
  let summaryWanted = false;
  let summaryAskedAt = 0;
  let eventsSinceAsked = 0;
  const requestSummary = (fromEvent = true) => {
    summaryWanted = true;
    if (fromEvent) eventsSinceAsked += 1;
    scheduleSummary();
  };
  const scheduleSummary = () => {
    if (!summaryWanted || summaryInFlight || summaryTimer !== undefined) return;
    summaryTimer = setTimeout(askSummary, summaryWait(Date.now(), summaryAskedAt, eventsSinceAsked));
  };
  const askSummary = () => {
    summaryTimer = undefined;
    // A burst that began after the wait was set waits longer: the timer is set again for the rest.
    const rest = summaryWait(Date.now(), summaryAskedAt, eventsSinceAsked);
    if (rest > 0) {
      summaryTimer = setTimeout(askSummary, rest);
      return;
    }
    const current = session;
    if (!current) return;
    summaryWanted = false;
    summaryInFlight = true;
    summaryAskedAt = Date.now();
    eventsSinceAsked = 0;
    void current.api
      .summary()
      .then((answer) => {
        if (session !== current) return;
        summary = answer;
        scheduleRefresh();
      })
      .catch(failed)
      .finally(() => {
        summaryInFlight = false;
        scheduleSummary();
      });
  };
  setInterval(() => {
    if (session) requestSummary(false);
  }, 30_000);

  // ----- the feed -----
  const renderFeed = (main: HTMLElement) => {
    markRead();
    const banner = el('p', {
      class: 'banner exercise-banner',
      role: 'note',
      'data-testid': 'exercise-banner',
    });
    const counters = el('section', { class: 'card counters', 'aria-labelledby': 'counters-title' });
    const heat = el('section', { class: 'card heatmap', 'aria-labelledby': 'heatmap-title' });
    const rows = el('div', { class: 'feed-rows', role: 'rowgroup', 'data-testid': 'feed-rows' });
    const viewport = el('div', { class: 'feed-viewport', 'data-testid': 'feed-viewport' }, rows);
    const footer = el('p', { class: 'feed-footer', 'data-testid': 'feed-footer' });
    const analyst = isAnalyst();
    const columns: { key: MessageKey; sort?: FeedSort['by'] }[] = [
      { key: 'feed.col.severity', sort: 'severity' },
      { key: 'feed.col.title' },
      { key: 'feed.col.kind' },
      { key: 'feed.col.sectors' },
      { key: 'feed.col.orgs', sort: 'organisations' },
      { key: 'feed.col.age', sort: 'time' },
      { key: 'feed.col.status' },
    ];
    const selectAll = el('input', {
      type: 'checkbox',
      'aria-label': t('bulk.selectAll'),
      'data-testid': 'select-all',
    });
    const headerRow = el(
      'div',
      { class: `feed-row feed-head${analyst ? ' selectable' : ''}`, role: 'row' },
      analyst && el('span', { role: 'columnheader', class: 'cell select' }, selectAll),
      ...columns.map((column) => {
        if (!column.sort) return el('span', { role: 'columnheader', class: 'cell' }, t(column.key));
        const active = sort.by === column.sort;
        return el(
          'span',
          {
            role: 'columnheader',
            class: 'cell',
            'aria-sort': active ? (sort.descending ? 'descending' : 'ascending') : 'none',
          },
          el(
            'button',
            {
              type: 'button',
              class: 'sort',
              'data-testid': `sort-${column.sort}`,
              'aria-label': t('feed.sortBy', { column: t(column.key) }),
              on: {
                click: () => {
                  sort =
                    sort.by === column.sort
                      ? { by: column.sort!, descending: !sort.descending }
                      : { by: column.sort!, descending: true };
                  render();
                },
              },
            },
            t(column.key),
            active ? (sort.descending ? ' ▼' : ' ▲') : '',
          ),
        );
      }),
    );
    const table = el(
      'div',
      { class: 'feed', role: 'table', 'aria-label': t('feed.title'), 'data-testid': 'feed' },
      headerRow,
      viewport,
    );

    /**
     * One alert's row, kept by alert id and changed in place: each part is
     * written again only when what it shows changed, so a burst that moves
     * every row down one place writes a transform per row and draws only the
     * rows of the alerts that came.
     */
    interface RowView {
      /** The alert the row shows now: a row whose alert left the view is used for one that came. */
      alertId: string;
      row: HTMLElement;
      box: HTMLInputElement | undefined;
      severity: HTMLElement;
      title: HTMLElement;
      link: HTMLAnchorElement;
      exerciseTag: HTMLElement;
      kind: HTMLElement;
      sectors: HTMLElement;
      orgs: HTMLElement;
      age: HTMLTimeElement;
      status: HTMLElement;
      /** What is drawn now. */
      alert: AlertView | undefined;
      triageStatus: TriageStatus | undefined;
      selected: boolean | undefined;
      top: number;
      fresh: boolean;
      /** The highlight's step drawn (-1: none). */
      step: number;
      ageText: string;
    }
    /** The rows in the page now, by alert id. */
    let mounted = new Map<string, RowView>();
    const emptyRow = el('div', { class: 'empty', role: 'row' }, t('feed.empty'));
    let shown: readonly FeedAlert[] = [];

    const makeRow = (): RowView => {
      const cell = (attributes: Record<string, string> = {}) =>
        el('span', { class: 'cell', role: 'cell', ...attributes });
      const box = analyst
        ? el('input', {
            type: 'checkbox',
            'data-testid': 'select-row',
            on: {
              change: (event) => {
                if ((event.target as HTMLInputElement).checked) selected.add(view.alertId);
                else selected.delete(view.alertId);
                scheduleRefresh();
              },
            },
          })
        : undefined;
      const view: RowView = {
        alertId: '',
        row: el('div', {
          class: `feed-row${analyst ? ' selectable' : ''}`,
          role: 'row',
          'data-testid': 'feed-row',
        }),
        box,
        severity: cell(),
        title: cell({ class: 'cell title' }),
        link: el('a', {}),
        exerciseTag: el('span', { class: 'tag exercise-tag' }, t('feed.exercise')),
        kind: cell(),
        sectors: cell(),
        orgs: cell({ class: 'cell number' }),
        age: el('time', {}),
        status: cell({ 'data-testid': 'triage-status' }),
        alert: undefined,
        triageStatus: undefined,
        selected: undefined,
        top: -1,
        fresh: false,
        step: -1,
        ageText: '',
      };
      append(
        view.row,
        box && el('span', { class: 'cell select', role: 'cell' }, box),
        view.severity,
        view.title,
        view.kind,
        view.sectors,
        view.orgs,
        el('span', { class: 'cell', role: 'cell' }, view.age),
        view.status,
      );
      append(view.title, view.link);
      return view;
    };

    /** What depends on the alert's version alone: drawn when a new version came. */
    const drawAlert = (view: RowView, alert: AlertView) => {
      const before = view.alert;
      const title = alertTitle(alert);
      if (before?.severity !== alert.severity) replaceChildren(view.severity, severityBadge(alert.severity));
      if (before?.id !== alert.id) {
        view.row.dataset.alertId = alert.id;
        view.link.href = `#/alert/${alert.id}`;
      }
      const shortTitle = middleTruncate(title, 60);
      if (view.link.title !== title) {
        view.link.title = title;
        view.link.setAttribute('aria-label', t('feed.open', { title }));
        view.link.textContent = shortTitle;
        view.box?.setAttribute('aria-label', t('bulk.selectOne', { title: shortTitle }));
      }
      if (before?.exercise !== alert.exercise) {
        if (alert.exercise) view.title.insertBefore(view.exerciseTag, view.link);
        else view.exerciseTag.remove();
        view.row.classList.toggle('exercise', alert.exercise);
      }
      if (before?.kind !== alert.kind) view.kind.textContent = name('kind', alert.kind);
      const sectors = names('sector', alert.sectors);
      if (view.sectors.textContent !== sectors) {
        view.sectors.textContent = sectors;
        view.sectors.title = sectors;
      }
      if (before?.organisationCount !== alert.organisationCount)
        view.orgs.textContent = String(alert.organisationCount);
      if (before?.updatedAt !== alert.updatedAt) {
        view.age.dateTime = alert.updatedAt;
        view.age.title = dateTime(alert.updatedAt);
      }
      view.alert = alert;
    };

    const drawRow = (view: RowView, item: FeedAlert, index: number, now: number) => {
      if (view.alert !== item.alert) drawAlert(view, item.alert);
      if (view.triageStatus !== item.triageStatus) {
        view.status.dataset.status = item.triageStatus;
        view.status.textContent = statusText(item.triageStatus);
        view.triageStatus = item.triageStatus;
      }
      const isSelected = selected.has(item.alert.id);
      if (view.box && view.selected !== isSelected) view.box.checked = isSelected;
      view.selected = isSelected;
      const top = index * ROW_HEIGHT;
      if (view.top !== top) {
        view.row.style.transform = `translateY(${top}px)`;
        view.top = top;
      }
      // Another version arriving while the highlight shows starts it again: the step follows arrivedAt.
      const step = highlightStep(item.arrivedAt, now);
      if (view.step !== step) {
        if (view.step > 0) view.row.classList.remove(`fade-${view.step}`);
        if (step > 0) view.row.classList.add(`fade-${step}`);
        const fresh = step >= 0;
        if (view.fresh !== fresh) {
          view.row.classList.toggle('fresh', fresh);
          view.fresh = fresh;
        }
        view.step = step;
      }
      if (step >= 0) nextStepAt = Math.min(nextStepAt, item.arrivedAt! + (step + 1) * HIGHLIGHT_STEP_MS);
      const age = ageText(language, item.alert.updatedAt, now);
      if (view.ageText !== age) {
        view.age.textContent = age;
        view.ageText = age;
      }
    };

    /** When the next highlight in view steps on (Infinity: none shows); the list is drawn again then. */
    let nextStepAt = Infinity;
    let stepTimer: ReturnType<typeof setTimeout> | undefined;
    /** Draws the rows in view of the virtualised list: a few dozen elements whatever the list holds. */
    const drawRows = () => {
      const now = Date.now();
      nextStepAt = Infinity;
      const { start, end } = visibleRange(
        viewport.scrollTop,
        viewport.clientHeight || 600,
        ROW_HEIGHT,
        shown.length,
      );
      const height = `${shown.length * ROW_HEIGHT}px`;
      if (rows.style.height !== height) rows.style.height = height;
      // Rows whose alert is still in view stay where they are (focus and the highlight survive) and move
      // by transform; a row whose alert left is used again for one that came, so a burst makes and
      // removes no elements and draws only the parts that differ.
      const next = new Map<string, RowView>();
      const entering: number[] = [];
      for (let index = start; index < end; index += 1) {
        const item = shown[index]!;
        const view = mounted.get(item.alert.id);
        if (view) {
          drawRow(view, item, index, now);
          next.set(item.alert.id, view);
        } else entering.push(index);
      }
      const free: RowView[] = [];
      for (const [id, view] of mounted)
        if (!next.has(id)) {
          // A row holding focus is not given another alert under the reader's hand.
          if (view.row.contains(document.activeElement)) view.row.remove();
          else free.push(view);
        }
      for (const index of entering) {
        const item = shown[index]!;
        const view = free.pop() ?? makeRow();
        view.alertId = item.alert.id;
        drawRow(view, item, index, now);
        next.set(item.alert.id, view);
        if (view.row.parentElement !== rows) rows.appendChild(view.row);
      }
      for (const view of free) view.row.remove();
      mounted = next;
      if (shown.length === 0) {
        if (emptyRow.parentElement !== rows) rows.appendChild(emptyRow);
      } else emptyRow.remove();
      if (nextStepAt !== Infinity && stepTimer === undefined)
        stepTimer = setTimeout(
          () => {
            stepTimer = undefined;
            if (root.contains(rows)) scheduleRefresh();
          },
          Math.max(0, nextStepAt - now),
        );
      // Paging back by scrolling: near the end of what is loaded, the next page is asked for.
      if (end >= shown.length - 20 && nextBefore !== null && !loadingOlder) void loadOlder();
    };
    viewport.addEventListener('scroll', () => requestAnimationFrame(drawRows), { passive: true });

    const bulkMessage = el('span', { role: 'status', 'data-testid': 'bulk-message' });
    const assignee = el('input', {
      type: 'text',
      id: 'bulk-assignee',
      'data-testid': 'bulk-assignee',
      size: 10,
    });
    const bulkCount = el('span', { 'data-testid': 'bulk-count' });
    const bulkButtons: HTMLButtonElement[] = [];
    const bulk = (change: Parameters<Api['bulkTriage']>[0]['change']) => {
      const current = session;
      if (!current || selected.size === 0) return;
      void current.api
        .bulkTriage({ alertIds: [...selected], change })
        .then(({ results }) => {
          const ok = results.filter((result) => result.ok).length;
          bulkMessage.textContent = t('bulk.done', { ok, refused: results.length - ok });
          selected.clear();
          scheduleRefresh();
        })
        .catch((error) => {
          bulkMessage.textContent = t('action.failed', { reason: failed(error) });
        });
    };
    const bulkButton = (testid: string, label: MessageKey, run: () => void) => {
      const button = el('button', { type: 'button', 'data-testid': testid, on: { click: run } }, t(label));
      bulkButtons.push(button);
      return button;
    };
    const bulkBar = analyst
      ? el(
          'div',
          { class: 'bulk-bar', 'data-testid': 'bulk-bar' },
          bulkCount,
          bulkButton('bulk-acknowledge', 'bulk.acknowledge', () =>
            bulk({ kind: 'status', status: 'acknowledged' }),
          ),
          bulkButton('bulk-resolve', 'bulk.resolve', () => bulk({ kind: 'status', status: 'resolved' })),
          el('label', { for: 'bulk-assignee' }, t('bulk.assignee')),
          assignee,
          bulkButton('bulk-assign', 'bulk.assign', () =>
            bulk({ kind: 'assignee', assignee: assignee.value.trim() || null }),
          ),
          bulkButton('bulk-clear', 'bulk.clear', () => {
            selected.clear();
            scheduleRefresh();
          }),
          bulkMessage,
        )
      : null;
    selectAll.addEventListener('change', () => {
      if (selectAll.checked) for (const item of shown) selected.add(item.alert.id);
      else selected.clear();
      scheduleRefresh();
    });

    let shownFor = '';
    let shownHasExercise = false;
    const setText = (element: HTMLElement, text: string) => {
      if (element.textContent !== text) element.textContent = text;
    };
    const update = () => {
      const wanted = `${feedVersion}|${JSON.stringify(filter)}|${sort.by}|${sort.descending}`;
      const unfiltered = Object.keys(filter).length === 0;
      if (wanted !== shownFor) {
        shownFor = wanted;
        // Unfiltered and newest first, the feed's own list is what is shown: no copy of 10,000 per frame.
        shown = sortFeed(
          unfiltered ? feed.list : feed.list.filter((item) => matchesFilter(item.alert, filter)),
          sort,
        );
        shownHasExercise = unfiltered ? feed.exercises > 0 : showsExercise(shown);
      }
      // Only what changed is written: a write here would make reading the scroll position in drawRows lay
      // the page out again in the middle of the frame.
      if (banner.hidden === shownHasExercise) banner.hidden = !shownHasExercise;
      setText(banner, t('feed.exerciseBanner'));
      // A selection holds only alerts still shown, looked up by id.
      for (const id of selected) {
        const item = feed.byId.get(id);
        if (!item || (!unfiltered && !matchesFilter(item.alert, filter))) selected.delete(id);
      }
      setText(bulkCount, t('bulk.selected', { count: selected.size }));
      for (const button of bulkButtons)
        if (button.disabled !== (selected.size === 0)) button.disabled = selected.size === 0;
      const all = selected.size > 0 && selected.size === shown.length;
      if (selectAll.checked !== all) selectAll.checked = all;
      drawRows();
      const footerText =
        t('feed.shown', { shown: shown.length, loaded: feed.list.length }) +
        ' · ' +
        (loadingOlder ? t('feed.loadingOlder') : nextBefore === null ? t('feed.allLoaded') : '');
      // Drawn again only when it says something else: a burst of events repaints the rows, nothing more.
      if (footer.dataset.text !== footerText) {
        footer.dataset.text = footerText;
        footer.textContent = footerText;
        if (nextBefore !== null && !loadingOlder)
          append(
            footer,
            el(
              'button',
              { type: 'button', 'data-testid': 'load-older', on: { click: () => void loadOlder() } },
              t('feed.loadOlder'),
            ),
          );
      }
      if (drawnSummary !== summary) {
        drawnSummary = summary;
        drawCounters();
      }
    };

    let drawnSummary: AlertSummary | null | undefined;
    /**
     * The counters and heat map are made once for a shape (whether there is a summary, which sectors
     * and categories) and then only their numbers and shades change: a new summary every few seconds
     * of a burst made some two hundred elements afresh, each made again, styled and laid out.
     */
    let countersShape: string | undefined;
    const setNumber = (node: Node, text: string) => {
      if (node.textContent !== text) node.textContent = text;
    };
    const openCounts = new Map<Severity, Text>();
    const openExercise = el('dd', { 'data-testid': 'open-exercise' });
    const totalAlerts = el('dd', { 'data-testid': 'total-alerts' });
    const reportsPerHour = el('dd', { 'data-testid': 'reports-per-hour' });
    const asOf = el('p', { class: 'help' });
    const heatCells = new Map<string, HTMLTableCellElement>();
    const drawCounters = () => {
      const open = summary?.open;
      const cells = analyst ? (summary?.heatMap ?? []) : [];
      const sectors = [...new Set(cells.map((cell) => cell.sector))].sort();
      const categories = [...new Set(cells.map((cell) => cell.category))].sort();
      const shape = `${summary ? 1 : 0}|${sectors.join(',')}|${categories.join(',')}`;
      if (shape !== countersShape) {
        countersShape = shape;
        buildCounters(sectors, categories);
      }
      for (const [severity, text] of openCounts) setNumber(text, ` ${open ? open[severity] : '–'}`);
      setNumber(openExercise, summary ? String(summary.openExercise) : '–');
      setNumber(totalAlerts, summary ? String(summary.total) : '–');
      setNumber(reportsPerHour, String(summary?.reportsLastHour ?? '–'));
      if (summary) replaceChildren(asOf, ...tf('counters.asOf', { time: time(summary.at) }));
      const max = Math.max(0, ...cells.map((cell) => cell.count));
      const counts = new Map(cells.map((cell) => [`${cell.sector}|${cell.category}`, cell.count]));
      for (const [key, td] of heatCells) {
        const n = counts.get(key) ?? 0;
        setNumber(td, String(n));
        const shade = `heat heat-${heatLevel(n, max)}`;
        if (td.className !== shade) td.className = shade;
      }
    };
    const buildCounters = (sectors: string[], categories: string[]) => {
      openCounts.clear();
      replaceChildren(
        counters,
        el('h2', { id: 'counters-title' }, t('counters.title')),
        el(
          'dl',
          {},
          el('dt', {}, t('counters.open')),
          el(
            'dd',
            { 'data-testid': 'open-counts' },
            ...SEVERITIES.slice()
              .reverse()
              .map((severity) => {
                const text = document.createTextNode('');
                openCounts.set(severity, text);
                return el(
                  'span',
                  { class: 'count', 'data-severity': severity },
                  severityBadge(severity),
                  text,
                );
              }),
          ),
          el('dt', {}, t('counters.exercise')),
          openExercise,
          el('dt', {}, t('counters.total')),
          totalAlerts,
          analyst && el('dt', {}, t('counters.reportsPerHour')),
          analyst && reportsPerHour,
        ),
        summary && asOf,
      );
      heatCells.clear();
      if (!analyst) {
        heat.hidden = true;
        return;
      }
      replaceChildren(
        heat,
        el('h2', { id: 'heatmap-title' }, t('heatmap.title')),
        sectors.length === 0
          ? el('p', {}, t('heatmap.empty'))
          : el(
              'div',
              { class: 'heatmap-scroll' },
              el(
                'table',
                { 'data-testid': 'heatmap' },
                el('caption', { class: 'visually-hidden' }, t('heatmap.caption')),
                el(
                  'thead',
                  {},
                  el(
                    'tr',
                    {},
                    el('th', { scope: 'col' }, t('heatmap.sector')),
                    ...categories.map((category) =>
                      el(
                        'th',
                        { scope: 'col', title: name('category', category) },
                        name('category', category),
                      ),
                    ),
                  ),
                ),
                el(
                  'tbody',
                  {},
                  ...sectors.map((sector) =>
                    el(
                      'tr',
                      {},
                      el('th', { scope: 'row' }, name('sector', sector)),
                      ...categories.map((category) => {
                        const td = el('td', { class: 'heat heat-0' });
                        heatCells.set(`${sector}|${category}`, td);
                        return td;
                      }),
                    ),
                  ),
                ),
              ),
            ),
      );
    };

    append(
      main,
      banner,
      el(
        'div',
        { class: 'feed-layout' },
        el('div', { class: 'feed-main' }, filterForm(), bulkBar, table, footer),
        el('aside', {}, counters, heat),
      ),
    );
    refreshView = update;
    update();
  };

  const filterForm = () => {
    const minSeverity = el(
      'select',
      { id: 'f-severity', 'data-testid': 'filter-severity' },
      el('option', { value: '' }, t('filter.any')),
      ...SEVERITIES.map((s) =>
        el('option', { value: s, selected: filter.minSeverity === s }, t(`severity.${s}` as MessageKey)),
      ),
    );
    const kind = el(
      'select',
      { id: 'f-kind', 'data-testid': 'filter-kind' },
      el('option', { value: '' }, t('filter.any')),
      ...ALERT_KINDS.map((k) =>
        el('option', { value: k, selected: filter.kinds?.[0] === k }, name('kind', k)),
      ),
    );
    const sector = el(
      'select',
      { id: 'f-sector', 'data-testid': 'filter-sector' },
      el('option', { value: '' }, t('filter.any')),
      ...SECTORS.map((s) =>
        el('option', { value: s, selected: filter.sectors?.[0] === s }, name('sector', s)),
      ),
    );
    const exercise = el(
      'select',
      { id: 'f-exercise', 'data-testid': 'filter-exercise' },
      el('option', { value: '' }, t('filter.exercise.any')),
      el('option', { value: 'false', selected: filter.exercise === false }, t('filter.exercise.real')),
      el('option', { value: 'true', selected: filter.exercise === true }, t('filter.exercise.drill')),
    );
    const apply = () => {
      filter = {
        ...(minSeverity.value ? { minSeverity: minSeverity.value as Severity } : {}),
        ...(kind.value ? { kinds: [kind.value as AlertKind] } : {}),
        ...(sector.value ? { sectors: [sector.value as Sector] } : {}),
        ...(exercise.value ? { exercise: exercise.value === 'true' } : {}),
      };
      // Only what is shown narrows: the stream and the list keep everything.
      refreshView();
    };
    for (const control of [minSeverity, kind, sector, exercise]) control.addEventListener('change', apply);
    return el(
      'form',
      {
        class: 'filters',
        'aria-label': t('filter.title'),
        on: {
          submit: (event) => {
            event.preventDefault();
            apply();
          },
        },
      },
      el('label', { for: 'f-severity' }, t('filter.minSeverity')),
      minSeverity,
      el('label', { for: 'f-kind' }, t('filter.kinds')),
      kind,
      el('label', { for: 'f-sector' }, t('filter.sectors')),
      sector,
      el('label', { for: 'f-exercise' }, t('filter.exercise')),
      exercise,
      el('button', { type: 'submit', 'data-testid': 'filter-apply' }, t('filter.apply')),
    );
  };

  // ----- warnings and reports data -----
  const loadWarnings = async () => {
    if (!session) return;
    try {
      const page = await session.api.warnings();
      const known = new Set(warnings.map((w) => w.id));
      warnings = [...warnings, ...page.items.filter((w) => !known.has(w.id))].sort(
        (a, b) => Date.parse(b.publishedAt) - Date.parse(a.publishedAt),
      );
      await Promise.all(
        page.items.map(async (item) => {
          if (isAnalyst()) await loadWarningAcks(item.id);
          else if (isRecipient()) {
            const one = await session!.api.warning(item.id);
            ownAcks.set(item.id, one.acknowledgedAt ?? null);
          }
        }),
      );
    } catch (error) {
      failed(error);
    }
    scheduleRefresh();
  };

  const loadWarningAcks = async (id: string) => {
    if (!session) return;
    const one = await session.api.warning(id);
    const acks = warningAcks.get(id) ?? new Map<string, string>();
    for (const ack of one.acknowledgedBy ?? []) acks.set(ack.organisationId, ack.at);
    warningAcks.set(id, acks);
    warningPending.set(
      id,
      (one.pendingOrganisations ?? []).filter((org) => !acks.has(org)),
    );
    scheduleRefresh();
  };

  const loadMyReports = async () => {
    if (!session) return;
    try {
      myReports = (await session.api.myReports()).items;
    } catch (error) {
      failed(error);
    }
    scheduleRefresh();
  };

  // Ages and highlights move on by themselves.
  setInterval(() => {
    if (currentRoute().name === 'feed') scheduleRefresh();
  }, 5_000);

  void (async () => {
    config = await fetchConsoleConfig(gatewayUrl).catch(() => config);
    link.heartbeatMs = config.heartbeatMs;
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) await signIn(saved).catch(() => sessionStorage.removeItem(TOKEN_KEY));
    render();
  })();
  render();
}

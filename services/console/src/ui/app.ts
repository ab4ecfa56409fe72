import { createStreamClient, type StreamClient, type StreamEvent } from '@renkei/client';
import {
  ALERT_KINDS,
  REPORT_CATEGORIES,
  SECTORS,
  SEVERITIES,
  TLP_LEVELS,
  TRIAGE_TRANSITIONS,
  reportSubmissionSchema,
  warningSubmissionSchema,
  type AlertDetail,
  type AlertKind,
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
  preferredLanguage,
  translate,
  vocabularyName,
  type Language,
  type MessageKey,
} from '../i18n.js';
import { defang, readIndicatorLines } from '../indicators-input.js';
import {
  applyTriageStatus,
  heatLevel,
  heatMap,
  matchesFilter,
  nextConnectionState,
  openBySeverity,
  reportsInLastHour,
  showsExercise,
  upsertAlert,
  type ConnectionState,
  type FeedAlert,
} from '../model.js';
import { append, el, replaceChildren } from './dom.js';

const TOKEN_KEY = 'renkei.token';
const LANGUAGE_KEY = 'renkei.language';
const HIGHLIGHT_MS = 8_000;

interface Session {
  token: string;
  api: Api;
  subject: string;
  organisationId: string;
  sector: string;
  roles: string[];
  stream: StreamClient;
}

type Route =
  | { name: 'feed' }
  | { name: 'alert'; id: string }
  | { name: 'warnings'; fromAlert?: string }
  | { name: 'reports' };

export function startConsole(root: HTMLElement): void {
  const gatewayUrl = window.location.origin;
  let language: Language =
    (localStorage.getItem(LANGUAGE_KEY) as Language | null) ?? preferredLanguage(navigator.languages);
  let config: ConsoleConfig = { ingestUrl: 'http://127.0.0.1:7400', devMode: false };
  let session: Session | null = null;
  /**
   * What has been typed into the sign-in form: the form is drawn again when
   * the hub's console settings arrive (and on a language switch), and a
   * token pasted before that must not vanish.
   */
  let draftToken = '';
  let feed: FeedAlert[] = [];
  let filter: StreamFilter = {};
  let connection: ConnectionState = { state: 'connecting' };
  let everOpened = false;
  let warnings: WarningView[] = [];
  /** Analysts: organisations that acknowledged each warning, as far as this console knows. */
  const warningAcks = new Map<string, Map<string, string>>();
  const warningPending = new Map<string, string[]>();
  /** Recipients: when their organisation acknowledged each warning (null: not yet). */
  const ownAcks = new Map<string, string | null>();
  let detail: AlertDetail | null = null;
  let myReports: MyReport[] = [];
  /** Called when state the current view shows has changed. */
  let refreshView: () => void = () => undefined;
  /** Called when a new version of an alert arrives, in case it is the one open. */
  let reloadDetail: (alertId: string) => void = () => undefined;

  const t = (key: MessageKey, params?: Record<string, string | number>) => translate(language, key, params);
  const name = (group: 'kind' | 'sector' | 'category', value: string) =>
    vocabularyName(language, group, value);
  const names = (group: 'sector', values: readonly string[]) =>
    values.map((value) => name(group, value)).join(language === 'ja' ? '、' : ', ');
  const dateTime = (iso: string) =>
    new Intl.DateTimeFormat(language === 'ja' ? 'ja-JP' : 'en-GB', {
      dateStyle: 'medium',
      timeStyle: 'medium',
    }).format(new Date(iso));
  const isAnalyst = () => session?.roles.includes('analyst') ?? false;
  const isRecipient = () => session?.roles.some((role) => role === 'reporter' || role === 'ceptar') ?? false;
  const canReport = isRecipient;
  const reason = (error: unknown) =>
    error instanceof ApiError
      ? `${error.code}: ${error.message}`
      : String((error as Error)?.message ?? error);

  // ----- routing -----
  const currentRoute = (): Route => {
    const hash = window.location.hash.replace(/^#\/?/, '');
    const [name, id] = hash.split('/');
    if (name === 'alert' && id) return { name: 'alert', id };
    if (name === 'warnings') return id ? { name: 'warnings', fromAlert: id } : { name: 'warnings' };
    if (name === 'reports') return { name: 'reports' };
    return { name: 'feed' };
  };
  window.addEventListener('hashchange', () => render());

  // ----- the page frame -----
  const connectionBadge = el('span', { class: 'connection', role: 'status', 'data-testid': 'connection' });
  const showConnection = () => {
    const text =
      connection.state === 'failed'
        ? t('conn.failed', { reason: connection.reason })
        : t(`conn.${connection.state}` as MessageKey);
    connectionBadge.className = `connection connection-${connection.state}`;
    connectionBadge.setAttribute('data-state', connection.state);
    connectionBadge.textContent = text;
  };

  const header = () => {
    document.documentElement.lang = language;
    document.title = t('app.title');
    const nav = session
      ? el(
          'nav',
          { 'aria-label': 'main' },
          el('a', { href: '#/feed' }, t('nav.feed')),
          el('a', { href: '#/warnings', 'data-testid': 'nav-warnings' }, t('nav.warnings')),
          canReport() && el('a', { href: '#/reports', 'data-testid': 'nav-reports' }, t('nav.reports')),
        )
      : null;
    return el(
      'header',
      { class: 'top' },
      el('h1', {}, t('app.title')),
      nav,
      session && connectionBadge,
      session &&
        el(
          'span',
          { class: 'who', 'data-testid': 'who' },
          t('signin.as', {
            subject: session.subject,
            organisation: session.organisationId,
            roles: session.roles.join(', '),
          }),
        ),
      el(
        'button',
        {
          type: 'button',
          'data-testid': 'language',
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

  const render = () => {
    const main = el('main', { id: 'main' });
    replaceChildren(root, header(), main);
    showConnection();
    if (!session) {
      refreshView = () => undefined;
      renderSignIn(main);
      return;
    }
    const route = currentRoute();
    if (route.name === 'alert') renderDetail(main, route.id);
    else if (route.name === 'warnings') renderWarnings(main, route.fromAlert);
    else if (route.name === 'reports' && canReport()) renderReports(main);
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
        class: 'card',
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
      el('label', { for: 'token' }, t('signin.token')),
      tokenInput,
      el('p', { class: 'help' }, t('signin.tokenHelp')),
      el('button', { type: 'submit', 'data-testid': 'signin' }, t('signin.submit')),
    );
    append(main, form);
    if (config.devMode) {
      const demo = el('form', { class: 'card', 'data-testid': 'demo-signin' });
      append(demo, el('h2', {}, t('signin.demo')), el('p', { class: 'help' }, t('signin.demoHelp')));
      append(main, demo);
      void fetchDemoIdentities(gatewayUrl)
        .then(({ items }) => {
          const organisation = el(
            'select',
            { id: 'demo-org', 'data-testid': 'demo-org' },
            ...items.map((item) =>
              el('option', { value: item.organisationId }, `${item.name} (${item.sector})`),
            ),
          );
          const role = el('select', { id: 'demo-role', 'data-testid': 'demo-role' });
          const fillRoles = () => {
            const chosen = items.find((item) => item.organisationId === organisation.value);
            replaceChildren(role, ...(chosen?.roles ?? []).map((r) => el('option', { value: r }, r)));
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

  const signIn = async (token: string) => {
    const claims = tokenClaims(token);
    if (!claims) throw new Error('not a token');
    const api = createApi(gatewayUrl, config.ingestUrl, token);
    // The hub decides: a refused token fails here, before anything is shown.
    const page = await api.alerts();
    sessionStorage.setItem(TOKEN_KEY, token);
    draftToken = '';
    feed = [];
    for (const item of page.items)
      feed = upsertAlert(feed, {
        alert: item,
        cursor: item.cursor,
        ...(item.triageStatus ? { triageStatus: item.triageStatus } : {}),
      });
    everOpened = false;
    connection = { state: 'connecting' };
    const stream = createStreamClient({
      url: gatewayUrl,
      token,
      ...(page.nextAfter ? { after: page.nextAfter } : {}),
      onStatus: (status) => {
        if (status.state === 'open') {
          connection = nextConnectionState(connection, 'open', everOpened);
          everOpened = true;
        } else if (status.state === 'connecting') {
          if (status.attempt > 0 || everOpened)
            connection = nextConnectionState(connection, 'connecting', everOpened);
        } else connection = nextConnectionState(connection, 'closed', everOpened);
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
    void consume(stream);
    void loadWarnings();
    if (canReport()) void loadMyReports();
    render();
  };

  const signOut = async () => {
    const current = session;
    session = null;
    sessionStorage.removeItem(TOKEN_KEY);
    window.location.hash = '';
    render();
    await current?.stream.close();
  };

  // ----- the stream -----
  const consume = async (stream: StreamClient) => {
    try {
      for await (const event of stream) handleEvent(event);
    } catch (error) {
      connection = { state: 'failed', reason: reason(error) };
      showConnection();
    }
  };

  const handleEvent = (event: StreamEvent) => {
    switch (event.type) {
      case 'alert':
        feed = upsertAlert(feed, { alert: event.alert, cursor: event.cursor, arrivedAt: Date.now() });
        if (currentRoute().name === 'alert') reloadDetail(event.alert.id);
        break;
      case 'alert-update':
        feed = applyTriageStatus(feed, event.update.alertId, event.update.status);
        if (detail && detail.alert.id === event.update.alertId) {
          detail = {
            ...detail,
            triage: {
              ...detail.triage,
              status: event.update.status,
              assignee: event.update.assignee,
              history: [...(detail.triage.history ?? []), event.update],
            },
          };
        }
        break;
      case 'warning':
        if (!warnings.some((w) => w.id === event.warning.id)) warnings = [event.warning, ...warnings];
        if (isRecipient() && !ownAcks.has(event.warning.id)) ownAcks.set(event.warning.id, null);
        if (isAnalyst()) void loadWarningAcks(event.warning.id);
        break;
      case 'warning-ack': {
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
      case 'gap':
        connection = nextConnectionState(connection, 'gap', everOpened);
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
    // One repaint per frame however many events arrive: 1,000 rows stay smooth.
    requestAnimationFrame(() => {
      refreshQueued = false;
      refreshView();
    });
  };

  const reloadAlerts = async () => {
    if (!session) return;
    const page = await session.api.alerts();
    for (const item of page.items)
      feed = upsertAlert(feed, {
        alert: item,
        cursor: item.cursor,
        ...(item.triageStatus ? { triageStatus: item.triageStatus } : {}),
      });
    scheduleRefresh();
  };

  // ----- analyst feed -----
  const severityBadge = (severity: Severity) =>
    el('span', { class: `severity severity-${severity}` }, t(`severity.${severity}` as MessageKey));
  const statusText = (status: TriageStatus) => t(`status.${status}` as MessageKey);

  const renderFeed = (main: HTMLElement) => {
    const banner = el('p', {
      class: 'banner exercise-banner',
      role: 'note',
      'data-testid': 'exercise-banner',
    });
    const counters = el('section', { class: 'card counters', 'aria-labelledby': 'counters-title' });
    const heat = el('section', { class: 'card heatmap', 'aria-labelledby': 'heatmap-title' });
    const body = el('tbody', { 'data-testid': 'feed-rows' });
    /** Each alert's row as last drawn: a burst of events over 1,000 rows rebuilds only what changed. */
    const rowCache = new Map<string, { key: string; row: HTMLTableRowElement; age: HTMLElement }>();
    const table = el(
      'table',
      { class: 'feed', 'data-testid': 'feed' },
      el('caption', {}, t('feed.title')),
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...(
            [
              'feed.col.severity',
              'feed.col.title',
              'feed.col.kind',
              'feed.col.sectors',
              'feed.col.orgs',
              'feed.col.age',
              'feed.col.status',
            ] as const
          ).map((key) => el('th', { scope: 'col' }, t(key))),
        ),
      ),
      body,
    );

    const update = () => {
      const now = Date.now();
      const shown = feed.filter((item) => matchesFilter(item.alert, filter));
      banner.hidden = !showsExercise(shown);
      banner.textContent = t('feed.exerciseBanner');
      const rows: HTMLTableRowElement[] = shown.map((item) => {
        const fresh = item.arrivedAt !== undefined && now - item.arrivedAt < HIGHLIGHT_MS;
        const key = `${item.cursor}|${item.triageStatus}|${language}`;
        const cached = rowCache.get(item.alert.id);
        if (cached?.key === key) {
          // Only what time changes: the age, and the highlight ending.
          cached.age.textContent = ageText(language, item.alert.updatedAt, now);
          cached.row.classList.toggle('fresh', fresh);
          return cached.row;
        }
        const age = el(
          'time',
          { datetime: item.alert.updatedAt, title: dateTime(item.alert.updatedAt) },
          ageText(language, item.alert.updatedAt, now),
        );
        const row = el(
          'tr',
          {
            class: `${fresh ? 'fresh' : ''} ${item.alert.exercise ? 'exercise' : ''}`.trim(),
            'data-alert-id': item.alert.id,
            'data-testid': 'feed-row',
          },
          el('td', {}, severityBadge(item.alert.severity)),
          el(
            'td',
            {},
            item.alert.exercise && el('span', { class: 'tag exercise-tag' }, t('feed.exercise')),
            el(
              'a',
              { href: `#/alert/${item.alert.id}`, 'aria-label': t('feed.open', { title: item.alert.title }) },
              item.alert.title,
            ),
          ),
          el('td', {}, name('kind', item.alert.kind)),
          el('td', {}, names('sector', item.alert.sectors)),
          el('td', { class: 'number' }, item.alert.organisationCount),
          el('td', {}, age),
          el(
            'td',
            { 'data-testid': 'triage-status', 'data-status': item.triageStatus },
            statusText(item.triageStatus),
          ),
        );
        rowCache.set(item.alert.id, { key, row, age });
        return row;
      });
      if (rows.length === 0)
        rows.push(el('tr', {}, el('td', { colspan: 7, class: 'empty' }, t('feed.empty'))));
      // Rows already in place stay in place (their highlight runs once); only new or moved ones are inserted.
      rows.forEach((row, index) => {
        if (body.children[index] !== row) body.insertBefore(row, body.children[index] ?? null);
      });
      while (body.children.length > rows.length) body.lastElementChild!.remove();
      const kept = new Set(shown.map((item) => item.alert.id));
      for (const id of rowCache.keys()) if (!kept.has(id)) rowCache.delete(id);

      const open = openBySeverity(shown);
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
              .map((severity) =>
                el('span', { class: 'count' }, severityBadge(severity), ` ${open[severity]}`),
              ),
          ),
          isAnalyst() && el('dt', {}, t('counters.reportsPerHour')),
          isAnalyst() && el('dd', { 'data-testid': 'reports-per-hour' }, reportsInLastHour(shown, now)),
        ),
      );
      if (isAnalyst()) {
        const map = heatMap(shown, now);
        replaceChildren(
          heat,
          el('h2', { id: 'heatmap-title' }, t('heatmap.title')),
          map.sectors.length === 0
            ? el('p', {}, t('heatmap.empty'))
            : el(
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
                    ...map.categories.map((category) =>
                      el('th', { scope: 'col' }, name('category', category)),
                    ),
                  ),
                ),
                el(
                  'tbody',
                  {},
                  ...map.sectors.map((sector) =>
                    el(
                      'tr',
                      {},
                      el('th', { scope: 'row' }, name('sector', sector)),
                      ...map.categories.map((category) => {
                        const count = map.counts[sector]?.[category] ?? 0;
                        return el('td', { class: `heat heat-${heatLevel(count, map.max)}` }, count);
                      }),
                    ),
                  ),
                ),
              ),
        );
      } else heat.hidden = true;
    };

    append(
      main,
      banner,
      el(
        'div',
        { class: 'feed-layout' },
        el('div', {}, filterForm(), table),
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
    const kinds = ALERT_KINDS.map((kind) =>
      el('input', {
        type: 'checkbox',
        id: `f-kind-${kind}`,
        value: kind,
        checked: filter.kinds?.includes(kind) ?? false,
      }),
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
    return el(
      'form',
      {
        class: 'filters',
        'aria-label': t('filter.title'),
        on: {
          submit: (event) => {
            event.preventDefault();
            const chosenKinds = kinds.filter((box) => box.checked).map((box) => box.value as AlertKind);
            filter = {
              ...(minSeverity.value ? { minSeverity: minSeverity.value as Severity } : {}),
              ...(chosenKinds.length > 0 ? { kinds: chosenKinds } : {}),
              ...(sector.value ? { sectors: [sector.value as Sector] } : {}),
              ...(exercise.value ? { exercise: exercise.value === 'true' } : {}),
            };
            // The filter becomes the stream's subscription; the list already held is filtered here alike.
            void session?.stream.subscribe(filter);
            refreshView();
          },
        },
      },
      el('div', {}, el('label', { for: 'f-severity' }, t('filter.minSeverity')), minSeverity),
      el('div', {}, el('label', { for: 'f-sector' }, t('filter.sectors')), sector),
      el('div', {}, el('label', { for: 'f-exercise' }, t('filter.exercise')), exercise),
      el(
        'fieldset',
        {},
        el('legend', {}, t('filter.kinds')),
        ...ALERT_KINDS.map((kind, index) =>
          el('label', { for: `f-kind-${kind}`, class: 'inline' }, kinds[index]!, ` ${name('kind', kind)}`),
        ),
      ),
      el('button', { type: 'submit', 'data-testid': 'filter-apply' }, t('filter.apply')),
    );
  };

  // ----- alert detail -----
  const renderDetail = (main: HTMLElement, id: string) => {
    const api = session!.api;
    const content = el('div', { 'data-testid': 'alert-detail' }, t('detail.loading'));
    const message = el('p', { class: 'error', role: 'alert' });
    append(main, el('p', {}, el('a', { href: '#/feed' }, t('detail.back'))), content, message);
    detail = null;
    const act = (work: Promise<unknown>) =>
      work
        .then(() => {
          message.textContent = '';
        })
        .catch((error) => {
          message.textContent = t('action.failed', { reason: reason(error) });
        });

    const noteInput = el('textarea', { id: 'note', rows: 2, 'data-testid': 'note' });
    const assigneeInput = el('input', { id: 'assignee', type: 'text', 'data-testid': 'assignee' });
    const triageRegion = el('div', { 'aria-live': 'polite' });
    const timeline = el('ol', { class: 'timeline', 'data-testid': 'timeline' });

    const update = () => {
      if (!detail) return;
      const status = detail.triage.status;
      replaceChildren(
        triageRegion,
        el(
          'p',
          {},
          `${t('detail.status')}: `,
          el('strong', { 'data-testid': 'detail-status', 'data-status': status }, statusText(status)),
          detail.triage.assignee ? ` — ${t('detail.assignee')}: ${detail.triage.assignee}` : '',
        ),
        isAnalyst() &&
          el(
            'div',
            { class: 'actions' },
            ...(['acknowledged', 'investigating', 'resolved', 'false-positive'] as const).map((next) =>
              el(
                'button',
                {
                  type: 'button',
                  'data-testid': `triage-${next}`,
                  disabled: !TRIAGE_TRANSITIONS[status].includes(next),
                  on: {
                    click: () =>
                      void act(
                        api.setStatus(id, next, noteInput.value.trim() || undefined).then(() => {
                          noteInput.value = '';
                        }),
                      ),
                  },
                },
                t(`action.${next}` as MessageKey),
              ),
            ),
          ),
      );
      const entries: { at: string; text: string }[] = [
        ...detail.versions.map((version) => ({
          at: version.updatedAt,
          text: t('detail.version', { version: version.version, change: version.reasons[0] ?? '' }),
        })),
        ...(detail.triage.history ?? []).map((change) => ({
          at: change.at,
          text:
            t('detail.triageChange', { by: change.by, status: statusText(change.status) }) +
            (change.assignee ? ` → ${change.assignee}` : '') +
            (change.note ? ` — ${change.note}` : ''),
        })),
      ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
      replaceChildren(
        timeline,
        ...entries.map((entry) =>
          el('li', {}, el('time', { datetime: entry.at }, dateTime(entry.at)), ' ', entry.text),
        ),
      );
    };

    // Loaded again when a new version arrives; the note and assignee boxes are kept as typed.
    const load = () =>
      api
        .alert(id)
        .then((loaded) => {
          detail = loaded;
          const alert = loaded.alert;
          replaceChildren(
            content,
            el(
              'h2',
              { 'data-testid': 'detail-title' },
              alert.exercise && el('span', { class: 'tag exercise-tag' }, t('feed.exercise')),
              severityBadge(alert.severity),
              ' ',
              alert.title,
            ),
            el(
              'p',
              {},
              `${name('kind', alert.kind)} · ${t('detail.tlp')}:${alert.tlp} · ${names('sector', alert.sectors)} · ${t('feed.col.orgs')} ${alert.organisationCount}`,
            ),
            el(
              'div',
              { class: 'detail-layout' },
              el(
                'div',
                { class: 'detail-main' },
                el('h3', {}, t('detail.reasons')),
                el('ul', { 'data-testid': 'reasons' }, ...alert.reasons.map((r) => el('li', {}, r))),
                el('h3', {}, t('detail.indicators')),
                el(
                  'ul',
                  { class: 'indicators', 'data-testid': 'indicators' },
                  ...alert.indicators.map((indicator) => {
                    const safe = defang(indicator.type, indicator.value);
                    const button = el(
                      'button',
                      {
                        type: 'button',
                        'aria-label': t('detail.copyLabel', { value: safe }),
                        on: {
                          click: () =>
                            void navigator.clipboard?.writeText(safe).then(() => {
                              button.textContent = t('detail.copied');
                            }),
                        },
                      },
                      t('detail.copy'),
                    );
                    return el(
                      'li',
                      {},
                      el('span', { class: 'type' }, indicator.type),
                      ' ',
                      el('code', {}, safe),
                      ' ',
                      button,
                    );
                  }),
                ),
                el('h3', {}, t('detail.reports')),
                alert.contributions
                  ? el(
                      'table',
                      { class: 'reports', 'data-testid': 'contributions' },
                      el(
                        'thead',
                        {},
                        el(
                          'tr',
                          {},
                          ...[
                            t('detail.org'),
                            t('heatmap.sector'),
                            t('reports.field.category'),
                            t('detail.tlp'),
                            t('reports.col.received'),
                          ].map((h) => el('th', { scope: 'col' }, h)),
                        ),
                      ),
                      el(
                        'tbody',
                        {},
                        ...alert.contributions.map((c) =>
                          el(
                            'tr',
                            {},
                            el('td', {}, c.organisationId),
                            el('td', {}, name('sector', c.sector)),
                            el('td', {}, name('category', c.category)),
                            el('td', {}, c.tlp),
                            el('td', {}, dateTime(c.receivedAt)),
                          ),
                        ),
                      ),
                    )
                  : el('p', {}, t('detail.reportsCount', { count: alert.reportIds.length })),
                el('h3', {}, t('detail.timeline')),
                timeline,
              ),
              el(
                'aside',
                { class: 'card triage-panel', 'aria-label': t('detail.status') },
                triageRegion,
                isAnalyst() &&
                  el(
                    'div',
                    { class: 'triage-forms' },
                    el('label', { for: 'assignee' }, t('detail.assignee')),
                    assigneeInput,
                    el(
                      'button',
                      {
                        type: 'button',
                        'data-testid': 'assign',
                        on: { click: () => void act(api.assign(id, assigneeInput.value.trim() || null)) },
                      },
                      t('detail.assign'),
                    ),
                    el('label', { for: 'note' }, t('detail.note')),
                    noteInput,
                    el(
                      'button',
                      {
                        type: 'button',
                        'data-testid': 'add-note',
                        on: {
                          click: () =>
                            void act(
                              api.note(id, noteInput.value.trim()).then(() => {
                                noteInput.value = '';
                              }),
                            ),
                        },
                      },
                      t('detail.addNote'),
                    ),
                    el(
                      'p',
                      {},
                      el(
                        'a',
                        { href: `#/warnings/${id}`, 'data-testid': 'warn-from-alert' },
                        t('detail.warn'),
                      ),
                    ),
                  ),
              ),
            ),
          );
          update();
        })
        .catch((error) => {
          content.textContent = t('error.generic', { reason: reason(error) });
        });
    reloadDetail = (alertId) => {
      if (alertId === id) void load();
    };
    void load();
    refreshView = update;
  };

  // ----- warnings -----
  const loadWarnings = async () => {
    if (!session) return;
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

  const renderWarnings = (main: HTMLElement, fromAlert?: string) => {
    const list = el('section', { class: 'card', 'aria-live': 'polite', 'data-testid': 'warnings' });
    // Side by side at 1280 px: the analyst composes while the acknowledgements come in.
    if (isAnalyst()) append(main, el('div', { class: 'two-columns' }, composeWarning(fromAlert), list));
    else append(main, list);
    const update = () => {
      replaceChildren(
        list,
        el('h2', {}, isAnalyst() ? t('warnings.title') : t('warnings.inbox')),
        warnings.length === 0
          ? el('p', {}, t('warnings.empty'))
          : el(
              'ul',
              { class: 'warnings' },
              ...warnings.map((warning) => {
                const acks = warningAcks.get(warning.id) ?? new Map<string, string>();
                const pending = warningPending.get(warning.id) ?? [];
                const own = ownAcks.get(warning.id);
                return el(
                  'li',
                  { 'data-testid': 'warning', 'data-warning-id': warning.id },
                  el(
                    'h3',
                    {},
                    warning.exercise && el('span', { class: 'tag exercise-tag' }, t('feed.exercise')),
                    severityBadge(warning.severity),
                    ' ',
                    warning.title,
                  ),
                  el(
                    'p',
                    { class: 'meta' },
                    `${dateTime(warning.publishedAt)} · TLP:${warning.tlp} · `,
                    t('warnings.to', {
                      sectors:
                        warning.sectors === 'all'
                          ? t('warnings.field.all')
                          : names('sector', warning.sectors),
                    }),
                  ),
                  el('p', { class: 'body' }, warning.body),
                  warning.indicators.length > 0 &&
                    el(
                      'ul',
                      { class: 'indicators' },
                      ...warning.indicators.map((i) => el('li', {}, el('code', {}, defang(i.type, i.value)))),
                    ),
                  isAnalyst() &&
                    el(
                      'div',
                      { 'data-testid': 'warning-acks' },
                      el('p', {}, t('warnings.acks', { count: acks.size, pending: pending.length })),
                      el(
                        'ul',
                        {},
                        ...[...acks].map(([org, at]) =>
                          el(
                            'li',
                            { 'data-testid': 'ack-org' },
                            `${t('warnings.ackedBy')}: ${org} (${dateTime(at)})`,
                          ),
                        ),
                        ...pending.map((org) =>
                          el('li', { class: 'pending' }, `${t('warnings.pending')}: ${org}`),
                        ),
                      ),
                    ),
                  isRecipient() &&
                    (own
                      ? el('p', { 'data-testid': 'acked' }, t('warnings.acked', { at: dateTime(own) }))
                      : el(
                          'button',
                          {
                            type: 'button',
                            'data-testid': 'ack',
                            on: {
                              click: () =>
                                void session!.api.acknowledgeWarning(warning.id).then((ack) => {
                                  ownAcks.set(warning.id, ack.at);
                                  scheduleRefresh();
                                }),
                            },
                          },
                          t('warnings.ack'),
                        )),
                );
              }),
            ),
      );
    };
    refreshView = update;
    update();
  };

  const composeWarning = (fromAlert?: string) => {
    const message = el('p', { role: 'status', 'data-testid': 'warning-message' });
    const title = el('input', { id: 'w-title', type: 'text', 'data-testid': 'w-title' });
    const body = el('textarea', { id: 'w-body', rows: 4, 'data-testid': 'w-body' });
    const severity = el(
      'select',
      { id: 'w-severity' },
      ...SEVERITIES.map((s) =>
        el('option', { value: s, selected: s === 'high' }, t(`severity.${s}` as MessageKey)),
      ),
    );
    const tlp = el(
      'select',
      { id: 'w-tlp' },
      ...TLP_LEVELS.map((l) => el('option', { value: l, selected: l === 'GREEN' }, l)),
    );
    const sectors = SECTORS.map((s) =>
      el('input', { type: 'checkbox', id: `w-sector-${s}`, value: s, 'data-testid': `w-sector-${s}` }),
    );
    const exercise = el('input', { type: 'checkbox', id: 'w-exercise' });
    const source = detail && detail.alert.id === fromAlert ? detail.alert : undefined;
    if (source) {
      title.value = source.title;
      body.value = source.reasons.join('\n');
      severity.value = source.severity;
      for (const box of sectors) box.checked = source.sectors.includes(box.value as Sector);
    }
    return el(
      'form',
      {
        class: 'card compose',
        'data-testid': 'compose-warning',
        on: {
          submit: (event) => {
            event.preventDefault();
            const candidate = {
              title: title.value,
              body: body.value,
              severity: severity.value,
              tlp: tlp.value,
              sectors: sectors.filter((box) => box.checked).map((box) => box.value),
              indicators: source ? source.indicators.map(({ type, value }) => ({ type, value })) : [],
              alertIds: fromAlert ? [fromAlert] : [],
              exercise: exercise.checked,
            };
            const checked = warningSubmissionSchema.safeParse(candidate);
            if (!checked.success) {
              message.textContent = checked.error.issues
                .map((i) => `${i.path.join('.')}: ${i.message}`)
                .join('; ');
              return;
            }
            void session!.api
              .publishWarning(checked.data)
              .then((published) => {
                message.textContent = t('warnings.published');
                if (!warnings.some((w) => w.id === published.id)) warnings = [published, ...warnings];
                void loadWarningAcks(published.id);
                title.value = '';
                body.value = '';
              })
              .catch((error) => {
                message.textContent = t('action.failed', { reason: reason(error) });
              });
          },
        },
      },
      el('h2', {}, t('warnings.compose')),
      el('label', { for: 'w-title' }, t('warnings.field.title')),
      title,
      el('label', { for: 'w-body' }, t('warnings.field.body')),
      body,
      el('label', { for: 'w-severity' }, t('warnings.field.severity')),
      severity,
      el('label', { for: 'w-tlp' }, t('warnings.field.tlp')),
      tlp,
      el(
        'fieldset',
        { class: 'sectors' },
        el('legend', {}, t('warnings.field.sectors')),
        ...SECTORS.map((s, i) =>
          el('label', { for: `w-sector-${s}`, class: 'inline' }, sectors[i]!, ` ${name('sector', s)}`),
        ),
      ),
      fromAlert && el('p', {}, `${t('warnings.field.alerts')}: ${fromAlert}`),
      el('label', { for: 'w-exercise', class: 'inline' }, exercise, ` ${t('warnings.field.exercise')}`),
      el('button', { type: 'submit', 'data-testid': 'w-publish' }, t('warnings.publish')),
      message,
    );
  };

  // ----- reports -----
  const loadMyReports = async () => {
    if (!session) return;
    myReports = (await session.api.myReports()).items;
    scheduleRefresh();
  };
  let reportPoll: ReturnType<typeof setInterval> | undefined;

  const renderReports = (main: HTMLElement) => {
    const errors = new Map<string, HTMLElement>();
    const field = (name: string, label: string, control: HTMLElement) => {
      const error = el('p', {
        class: 'field-error',
        id: `r-${name}-error`,
        'data-testid': `r-${name}-error`,
      });
      errors.set(name, error);
      control.setAttribute('aria-describedby', error.id);
      return el('div', { class: 'field' }, el('label', { for: `r-${name}` }, label), control, error);
    };
    const title = el('input', { id: 'r-title', type: 'text', 'data-testid': 'r-title' });
    const description = el('textarea', { id: 'r-description', rows: 3 });
    const category = el(
      'select',
      { id: 'r-category', 'data-testid': 'r-category' },
      ...REPORT_CATEGORIES.map((c) => el('option', { value: c }, name('category', c))),
    );
    const severity = el(
      'select',
      { id: 'r-severity', 'data-testid': 'r-severity' },
      ...SEVERITIES.map((s) =>
        el('option', { value: s, selected: s === 'medium' }, t(`severity.${s}` as MessageKey)),
      ),
    );
    const tlp = el(
      'select',
      { id: 'r-tlp', 'data-testid': 'r-tlp' },
      ...TLP_LEVELS.map((l) => el('option', { value: l, selected: l === 'GREEN' }, l)),
    );
    const detectedAt = el('input', {
      id: 'r-detectedAt',
      type: 'datetime-local',
      step: 1,
      'data-testid': 'r-detectedAt',
    });
    const localNow = new Date(Date.now() - new Date().getTimezoneOffset() * 60_000)
      .toISOString()
      .slice(0, 19);
    detectedAt.value = localNow;
    const indicators = el('textarea', {
      id: 'r-indicators',
      rows: 6,
      'data-testid': 'r-indicators',
      spellcheck: false,
    });
    const exercise = el('input', { type: 'checkbox', id: 'r-exercise' });
    const preview = el('ul', { class: 'preview', 'aria-live': 'polite', 'data-testid': 'r-preview' });
    const message = el('p', { role: 'status', 'data-testid': 'r-message' });
    const mine = el('section', { class: 'card', 'data-testid': 'my-reports' });

    const showPreview = () => {
      const lines = readIndicatorLines(indicators.value);
      replaceChildren(
        preview,
        ...lines.map((line) =>
          'error' in line
            ? el(
                'li',
                { class: 'invalid', 'data-testid': 'indicator-invalid' },
                `${line.line}: ${line.written} — ${line.error}`,
              )
            : el(
                'li',
                { class: 'valid', 'data-testid': 'indicator-valid' },
                `${line.line}: ${line.type} `,
                el('code', {}, line.canonical),
              ),
        ),
      );
      return lines;
    };
    indicators.addEventListener('input', () => void showPreview());

    const form = el(
      'form',
      {
        class: 'card report-form',
        'data-testid': 'report-form',
        novalidate: true,
        on: {
          submit: (event) => {
            event.preventDefault();
            for (const error of errors.values()) error.textContent = '';
            const lines = showPreview();
            const when = new Date(detectedAt.value);
            const candidate = {
              title: title.value,
              ...(description.value.trim() ? { description: description.value } : {}),
              category: category.value,
              severity: severity.value,
              tlp: tlp.value,
              detectedAt: Number.isNaN(when.getTime()) ? detectedAt.value : when.toISOString(),
              indicators: lines.map((line) =>
                'error' in line
                  ? { type: 'domain', value: line.written }
                  : { type: line.type, value: line.value },
              ),
              exercise: exercise.checked,
            };
            // The same schema ingest applies, so what it would refuse is named here first.
            const checked = reportSubmissionSchema.safeParse(candidate);
            const bad = lines.filter((line) => 'error' in line);
            if (!checked.success || bad.length > 0) {
              for (const issue of checked.success ? [] : checked.error.issues) {
                const name = String(issue.path[0]);
                const target = errors.get(name);
                if (target && name !== 'indicators') target.textContent = issue.message;
              }
              const indicatorError = errors.get('indicators')!;
              if (bad.length > 0)
                indicatorError.textContent = bad
                  .map((line) => `${line.line}: ${'error' in line ? line.error : ''}`)
                  .join('; ');
              message.textContent = t('reports.invalid');
              return;
            }
            void session!.api
              .submitReport(checked.data)
              .then((answer) => {
                message.textContent = t('reports.sent', { id: answer.id });
                title.value = '';
                description.value = '';
                indicators.value = '';
                showPreview();
                void loadMyReports();
              })
              .catch((error) => {
                if (error instanceof ApiError)
                  for (const f of error.fields) {
                    const target = errors.get(f.field.split(/[.[]/)[0]!);
                    if (target) target.textContent = `${f.field}: ${f.message}`;
                  }
                message.textContent = t('action.failed', { reason: reason(error) });
              });
          },
        },
      },
      el('h2', {}, t('reports.title')),
      field('title', t('reports.field.title'), title),
      field('description', t('reports.field.description'), description),
      field('category', t('reports.field.category'), category),
      field('severity', t('reports.field.severity'), severity),
      field('tlp', t('reports.field.tlp'), tlp),
      field('detectedAt', t('reports.field.detectedAt'), detectedAt),
      field('indicators', t('reports.field.indicators'), indicators),
      el('p', {}, t('reports.preview')),
      preview,
      el('label', { for: 'r-exercise', class: 'inline' }, exercise, ` ${t('reports.field.exercise')}`),
      el('button', { type: 'submit', 'data-testid': 'r-submit' }, t('reports.submit')),
      message,
    );
    append(main, el('div', { class: 'two-columns' }, form, mine));

    const update = () => {
      replaceChildren(
        mine,
        el('h2', {}, t('reports.mine')),
        myReports.length === 0
          ? el('p', {}, t('reports.none'))
          : el(
              'table',
              { class: 'reports' },
              el(
                'thead',
                {},
                el(
                  'tr',
                  {},
                  ...[t('reports.field.title'), t('reports.col.received'), t('reports.col.status')].map((h) =>
                    el('th', { scope: 'col' }, h),
                  ),
                ),
              ),
              el(
                'tbody',
                {},
                ...myReports.map((report) =>
                  el(
                    'tr',
                    { 'data-testid': 'my-report', 'data-report-id': report.id },
                    el('td', { 'data-testid': 'my-report-title' }, report.title),
                    el('td', {}, dateTime(report.receivedAt)),
                    el(
                      'td',
                      { 'data-testid': 'my-report-status', 'data-status': report.status },
                      t(`reports.status.${report.status}` as MessageKey),
                    ),
                  ),
                ),
              ),
            ),
      );
    };
    refreshView = update;
    update();
    // Status moves from accepted to processed without a stream event: asked again while any waits.
    clearInterval(reportPoll);
    reportPoll = setInterval(() => {
      if (currentRoute().name !== 'reports' || !session) return clearInterval(reportPoll);
      if (myReports.some((report) => report.status === 'accepted')) void loadMyReports();
    }, 1_000);
  };

  // Ages and highlights move on by themselves.
  setInterval(() => {
    if (currentRoute().name === 'feed') scheduleRefresh();
  }, 5_000);

  void (async () => {
    config = await fetchConsoleConfig(gatewayUrl).catch(() => config);
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) await signIn(saved).catch(() => sessionStorage.removeItem(TOKEN_KEY));
    render();
  })();
  render();
}

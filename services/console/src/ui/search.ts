import {
  formatLookupCsv,
  type AlertHit,
  type IndicatorHit,
  type IndicatorType,
  type LookupResult,
  type ReadableReport,
  type ReportHit,
  type SearchAnswer,
  type WarningHit,
} from '@renkei/schema';
import type { MessageKey } from '../i18n.js';
import { defang } from '../indicators-input.js';
import { middleTruncate } from '../model.js';
import type { ConsoleContext } from './app.js';
import { copyable } from './detail.js';
import { append, dataValue, el, replaceChildren } from './dom.js';

/** What the search pages read from the address: `#/search?q=…`, `#/indicator/TYPE/VALUE`, `#/report/ID`, `#/lookup`. */
export type SearchRoute =
  | { name: 'search'; q: string }
  | { name: 'indicator'; type: string; value: string }
  | { name: 'report'; id: string }
  | { name: 'lookup' };

type Group = 'indicators' | 'reports' | 'alerts' | 'warnings';

export const searchHref = (q: string) => `#/search?${new URLSearchParams({ q }).toString()}`;
export const indicatorHref = (type: string, value: string) =>
  `#/indicator/${encodeURIComponent(type)}/${encodeURIComponent(value)}`;
export const reportHref = (id: string) => `#/report/${encodeURIComponent(id)}`;

/** The page's route for a hash of the search pages, or null when it is another page's. */
export function searchRouteOf(hash: string): SearchRoute | null {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const [page, ...rest] = path.split('/');
  const decode = (part: string | undefined) => {
    try {
      return part === undefined ? undefined : decodeURIComponent(part);
    } catch {
      return undefined;
    }
  };
  if (page === 'search') return { name: 'search', q: new URLSearchParams(query).get('q') ?? '' };
  if (page === 'lookup') return { name: 'lookup' };
  if (page === 'report' && rest[0]) {
    const id = decode(rest[0]);
    return id ? { name: 'report', id } : null;
  }
  if (page === 'indicator' && rest.length >= 2) {
    const type = decode(rest[0]);
    const value = decode(rest.slice(1).join('/'));
    return type && value ? { name: 'indicator', type, value } : null;
  }
  return null;
}

/** The search box every signed-in page carries in its header. */
export function searchBox(context: ConsoleContext, current: string): HTMLElement {
  const { t } = context;
  const input = el('input', {
    type: 'search',
    id: 'search-q',
    name: 'q',
    value: current,
    placeholder: t('search.placeholder'),
    'aria-label': t('search.label'),
    'data-testid': 'search-box',
    autocomplete: 'off',
  });
  return el(
    'form',
    {
      class: 'search-box',
      role: 'search',
      on: {
        submit: (event) => {
          event.preventDefault();
          const q = input.value.trim();
          if (q) window.location.hash = searchHref(q);
        },
      },
    },
    input,
    el('button', { type: 'submit', 'data-testid': 'search-submit' }, t('search.submit')),
    el('a', { href: '#/lookup', class: 'lookup-link', 'data-testid': 'nav-lookup' }, t('search.lookupLink')),
  );
}

export function renderSearchPage(context: ConsoleContext, main: HTMLElement, route: SearchRoute): void {
  if (route.name === 'search') renderResults(context, main, route.q);
  else if (route.name === 'indicator') renderIndicator(context, main, route.type, route.value);
  else if (route.name === 'report') renderReport(context, main, route.id);
  else renderLookup(context, main);
}

const orgText = (context: ConsoleContext, organisationId: string | null) =>
  organisationId === null ? context.t('search.anonymous') : dataValue(organisationId);

function table(headings: string[], rows: HTMLElement[], testid: string): HTMLElement {
  return el(
    'div',
    { class: 'table-wrap' },
    el(
      'table',
      { class: 'results', 'data-testid': testid },
      el('thead', {}, el('tr', {}, ...headings.map((heading) => el('th', { scope: 'col' }, heading)))),
      el('tbody', {}, ...rows),
    ),
  );
}

function indicatorRow(context: ConsoleContext, hit: IndicatorHit): HTMLElement {
  const { time, names } = context;
  return el(
    'tr',
    { 'data-testid': 'hit-indicator' },
    el(
      'td',
      {},
      el('span', { class: 'type', 'data-value': '' }, hit.type),
      ' ',
      el(
        'a',
        { href: indicatorHref(hit.type, hit.value), title: hit.value, 'data-value': '' },
        middleTruncate(defang(hit.type, hit.value), 64),
      ),
    ),
    el('td', {}, time(hit.firstSeen)),
    el('td', {}, time(hit.lastSeen)),
    el('td', { class: 'number' }, String(hit.reportCount)),
    el(
      'td',
      {},
      String(hit.organisationCount),
      hit.organisations.length > 0 && ' (',
      hit.organisations.length > 0 && dataValue(hit.organisations.join(', ')),
      hit.organisations.length > 0 && ')',
    ),
    el('td', {}, names('sector', hit.sectors)),
  );
}

function reportRow(context: ConsoleContext, hit: ReportHit): HTMLElement {
  const { time, name, severityBadge, t } = context;
  return el(
    'tr',
    { 'data-testid': 'hit-report' },
    el(
      'td',
      {},
      hit.exercise && el('span', { class: 'tag exercise-tag' }, t('feed.exercise')),
      el(
        'a',
        { href: reportHref(hit.id), title: hit.title, 'data-value': '' },
        middleTruncate(hit.title, 80),
      ),
      // A few of its labels: what a partner's report is about often says more than its title.
      hit.labels.length > 0 &&
        el(
          'span',
          { class: 'labels-inline', 'data-testid': 'hit-labels' },
          ...hit.labels
            .slice(0, 3)
            .map((label) => el('span', { class: 'tag' }, dataValue(middleTruncate(label, 40)))),
          hit.labels.length > 3 && ` +${hit.labels.length - 3}`,
        ),
    ),
    el('td', {}, severityBadge(hit.severity)),
    el('td', {}, name('category', hit.category)),
    el('td', {}, dataValue(`TLP:${hit.tlp}`)),
    el('td', {}, orgText(context, hit.organisationId), ` · ${name('sector', hit.sector)}`),
    el('td', {}, time(hit.detectedAt)),
  );
}

function alertRow(context: ConsoleContext, hit: AlertHit): HTMLElement {
  const { time, name, severityBadge, statusText } = context;
  return el(
    'tr',
    { 'data-testid': 'hit-alert' },
    el(
      'td',
      {},
      el(
        'a',
        { href: `#/alert/${hit.id}`, title: hit.title, 'data-value': '' },
        middleTruncate(hit.title, 80),
      ),
    ),
    el('td', {}, severityBadge(hit.severity)),
    el('td', {}, name('kind', hit.kind)),
    el('td', { class: 'number' }, String(hit.version)),
    el('td', {}, statusText(hit.triageStatus)),
    el('td', {}, time(hit.updatedAt)),
  );
}

function warningRow(context: ConsoleContext, hit: WarningHit): HTMLElement {
  const { time, severityBadge, t } = context;
  return el(
    'tr',
    { 'data-testid': 'hit-warning' },
    el(
      'td',
      {},
      hit.exercise && el('span', { class: 'tag exercise-tag' }, t('feed.exercise')),
      el('a', { href: '#/warnings', title: hit.title, 'data-value': '' }, middleTruncate(hit.title, 80)),
    ),
    el('td', {}, severityBadge(hit.severity)),
    el('td', {}, dataValue(`TLP:${hit.tlp}`)),
    el('td', {}, time(hit.publishedAt)),
  );
}

/** How the hub read the query, in the page's language. */
function readAs(context: ConsoleContext, query: SearchAnswer['query']): (Node | string)[] {
  const { tf } = context;
  if (query.kind === 'indicator')
    return tf('search.readIndicator', {
      type: dataValue(query.indicator.type),
      value: dataValue(defang(query.indicator.type, query.indicator.value)),
    });
  if (query.kind === 'network') return tf('search.readNetwork', { cidr: dataValue(query.cidr) });
  return tf(query.scope === 'recent' ? 'search.readTextRecent' : 'search.readText', {
    text: dataValue(query.text),
  });
}

function renderResults(context: ConsoleContext, main: HTMLElement, q: string): void {
  const { t } = context;
  const api = context.session()!.api;
  const status = el('p', { 'data-testid': 'search-status', role: 'status' }, t('detail.loading'));
  const results = el('div', { 'data-testid': 'search-results' });
  append(main, el('h2', {}, t('search.title')), status, results);
  if (!q) {
    status.textContent = t('search.empty');
    return;
  }
  const headings: Record<Group, string[]> = {
    indicators: [
      t('search.col.indicator'),
      t('search.col.firstSeen'),
      t('search.col.lastSeen'),
      t('search.col.reports'),
      t('search.col.orgs'),
      t('feed.col.sectors'),
    ],
    reports: [
      t('reports.field.title'),
      t('feed.col.severity'),
      t('reports.field.category'),
      t('detail.tlp'),
      t('detail.org'),
      t('search.col.detected'),
    ],
    alerts: [
      t('feed.col.title'),
      t('feed.col.severity'),
      t('feed.col.kind'),
      t('search.col.version'),
      t('feed.col.status'),
      t('search.col.updated'),
    ],
    warnings: [t('reports.field.title'), t('feed.col.severity'), t('detail.tlp'), t('search.col.published')],
  };
  const rowOf = {
    indicators: (hit: unknown) => indicatorRow(context, hit as IndicatorHit),
    reports: (hit: unknown) => reportRow(context, hit as ReportHit),
    alerts: (hit: unknown) => alertRow(context, hit as AlertHit),
    warnings: (hit: unknown) => warningRow(context, hit as WarningHit),
  };
  const section = (group: Group, answer: SearchAnswer) => {
    const { items, next } = answer[group];
    const body = el('tbody', {}, ...items.map(rowOf[group]));
    const more = el('p', {});
    const showMore = (token: string | null) => {
      replaceChildren(
        more,
        token &&
          el(
            'button',
            {
              type: 'button',
              'data-testid': `more-${group}`,
              on: {
                click: () => {
                  more.textContent = t('detail.loading');
                  api
                    .search(q, { page: token })
                    .then((page) => {
                      append(body, ...page[group].items.map(rowOf[group]));
                      showMore(page[group].next);
                    })
                    .catch(
                      (error) => (more.textContent = t('action.failed', { reason: context.failed(error) })),
                    );
                },
              },
            },
            t('search.more'),
          ),
      );
    };
    showMore(next);
    return el(
      'section',
      { class: 'search-group', 'data-testid': `group-${group}` },
      el('h3', {}, t(`search.group.${group}` as MessageKey), ` (${items.length}${next ? '+' : ''})`),
      items.length === 0
        ? el('p', { class: 'muted' }, t('search.none'))
        : el(
            'div',
            { class: 'table-wrap' },
            el(
              'table',
              { class: 'results' },
              el('thead', {}, el('tr', {}, ...headings[group].map((h) => el('th', { scope: 'col' }, h)))),
              body,
            ),
          ),
      more,
    );
  };
  context
    .session()!
    .api.search(q)
    .then((answer) => {
      replaceChildren(status, ...readAs(context, answer.query));
      replaceChildren(
        results,
        ...(['indicators', 'alerts', 'reports', 'warnings'] as const).map((group) => section(group, answer)),
      );
    })
    .catch((error) => {
      status.textContent = t('search.failed', { reason: context.failed(error) });
    });
}

/** Everything the viewer may know of one indicator, newest first. */
function renderIndicator(context: ConsoleContext, main: HTMLElement, type: string, value: string): void {
  const { t, tf, time, names, severityBadge, name } = context;
  const api = context.session()!.api;
  const content = el('div', { 'data-testid': 'indicator-page' }, t('detail.loading'));
  append(
    main,
    el('p', { class: 'back' }, el('a', { href: searchHref(value) }, t('search.backToSearch'))),
    el(
      'h2',
      { 'data-testid': 'indicator-title' },
      el('span', { class: 'type', 'data-value': '' }, type),
      ' ',
      copyable(context, defang(type as IndicatorType, value)),
    ),
    content,
  );
  const indicatorType = /^[a-z0-9-]+$/.test(type) ? type : undefined;
  api
    .search(value, indicatorType ? { type: indicatorType, limit: '100' } : { limit: '100' })
    .then((answer) => {
      const canonical =
        answer.query.kind === 'indicator' ? answer.query.indicator : { type: type as IndicatorType, value };
      const summary = answer.indicators.items.find(
        (hit) => hit.type === canonical.type && hit.value === canonical.value,
      );
      type Entry = { at: string; item: HTMLElement };
      const entries: Entry[] = [
        ...answer.reports.items.map((report) => ({
          at: report.detectedAt,
          item: el(
            'li',
            { 'data-testid': 'timeline-report' },
            time(report.detectedAt),
            ' ',
            severityBadge(report.severity),
            ' ',
            ...tf('search.timelineReport', {
              organisation: orgText(context, report.organisationId),
              sector: name('sector', report.sector),
              title: el(
                'a',
                { href: reportHref(report.id), 'data-value': '' },
                middleTruncate(report.title, 80),
              ),
            }),
          ),
        })),
        ...answer.alerts.items.map((alert) => ({
          at: alert.updatedAt,
          item: el(
            'li',
            { 'data-testid': 'timeline-alert' },
            time(alert.updatedAt),
            ' ',
            severityBadge(alert.severity),
            ' ',
            ...tf('search.timelineAlert', {
              kind: name('kind', alert.kind),
              title: el(
                'a',
                { href: `#/alert/${alert.id}`, 'data-value': '' },
                middleTruncate(alert.title, 80),
              ),
            }),
          ),
        })),
        ...answer.warnings.items.map((warning) => ({
          at: warning.publishedAt,
          item: el(
            'li',
            { 'data-testid': 'timeline-warning' },
            time(warning.publishedAt),
            ' ',
            severityBadge(warning.severity),
            ' ',
            ...tf('search.timelineWarning', {
              title: el('a', { href: '#/warnings', 'data-value': '' }, middleTruncate(warning.title, 80)),
            }),
          ),
        })),
      ].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
      replaceChildren(
        content,
        summary
          ? el(
              'dl',
              { class: 'summary-list', 'data-testid': 'indicator-summary' },
              el('dt', {}, t('search.col.firstSeen')),
              el('dd', {}, time(summary.firstSeen)),
              el('dt', {}, t('search.col.lastSeen')),
              el('dd', {}, time(summary.lastSeen)),
              el('dt', {}, t('search.col.reports')),
              el('dd', { 'data-testid': 'indicator-reports' }, String(summary.reportCount)),
              el('dt', {}, t('search.col.orgs')),
              el(
                'dd',
                {},
                String(summary.organisationCount),
                summary.organisations.length > 0 && ' (',
                summary.organisations.length > 0 && dataValue(summary.organisations.join(', ')),
                summary.organisations.length > 0 && ')',
              ),
              el('dt', {}, t('feed.col.sectors')),
              el('dd', {}, names('sector', summary.sectors) || '—'),
            )
          : el('p', { 'data-testid': 'indicator-unknown' }, t('search.unknownIndicator')),
        el('h3', {}, t('detail.timeline')),
        entries.length === 0
          ? el('p', { class: 'muted' }, t('search.none'))
          : el(
              'ol',
              { class: 'timeline', 'data-testid': 'indicator-timeline' },
              ...entries.map((e) => e.item),
            ),
      );
    })
    .catch((error) => {
      content.textContent = t('search.failed', { reason: context.failed(error) });
    });
}

function renderReport(context: ConsoleContext, main: HTMLElement, id: string): void {
  const { t, tf, time, name, severityBadge } = context;
  const api = context.session()!.api;
  const content = el('div', { 'data-testid': 'report-page' }, t('detail.loading'));
  append(main, el('p', { class: 'back' }, el('a', { href: '#/feed' }, t('detail.back'))), content);
  api
    .report(id)
    .then((report: ReadableReport) => {
      replaceChildren(
        content,
        el(
          'h2',
          { 'data-testid': 'report-title', title: report.title },
          report.exercise && el('span', { class: 'tag exercise-tag' }, t('feed.exercise')),
          severityBadge(report.severity),
          ' ',
          dataValue(middleTruncate(report.title, 160), report.title),
        ),
        el(
          'p',
          { class: 'meta' },
          orgText(context, report.organisationId),
          ` · ${name('sector', report.sector)} · ${name('category', report.category)} · `,
          dataValue(`TLP:${report.tlp}`),
          ' · ',
          ...tf('detail.detected', { at: time(report.detectedAt) }),
          ' · ',
          ...tf('detail.received', { at: time(report.receivedAt) }),
        ),
        report.supersededBy &&
          el(
            'p',
            { class: 'notice', 'data-testid': 'report-superseded' },
            t('detail.supersededBy'),
            ' ',
            el('a', { href: reportHref(report.supersededBy) }, t('detail.latestVersion')),
          ),
        report.description && el('p', { class: 'description' }, dataValue(report.description)),
        report.labels.length > 0 && el('h3', {}, t('detail.labels')),
        report.labels.length > 0 &&
          el(
            'ul',
            { class: 'labels', 'data-testid': 'report-labels' },
            ...report.labels.map((label) =>
              el(
                'li',
                {},
                el(
                  'a',
                  { class: 'tag', href: searchHref(label), title: t('detail.labelSearch') },
                  dataValue(label),
                ),
              ),
            ),
          ),
        el('h3', {}, t('detail.reportIndicators')),
        el(
          'ul',
          { class: 'indicators', 'data-testid': 'report-indicators' },
          ...report.indicators.map((indicator) =>
            el(
              'li',
              {},
              el(
                'a',
                {
                  class: 'type',
                  href: indicatorHref(indicator.type, indicator.value),
                  title: t('search.pivot'),
                  'data-value': '',
                },
                indicator.type,
              ),
              ' ',
              copyable(context, defang(indicator.type as IndicatorType, indicator.value)),
            ),
          ),
        ),
      );
    })
    .catch((error) => {
      content.textContent = t('search.reportFailed', { reason: context.failed(error) });
    });
}

/** Paste many values, see each answered in order, take them away as CSV. */
function renderLookup(context: ConsoleContext, main: HTMLElement): void {
  const { t, time } = context;
  const api = context.session()!.api;
  const input = el('textarea', { id: 'lookup-values', rows: 8, 'data-testid': 'lookup-values' });
  const status = el('p', { role: 'status', 'data-testid': 'lookup-status' });
  const results = el('div', { 'data-testid': 'lookup-results' });
  let download: string | null = null;
  const run = () => {
    const values = input.value
      .split(/\r?\n/u)
      .map((line) => line.trim())
      .filter((line) => line !== '');
    if (values.length === 0) {
      status.textContent = t('lookup.empty');
      return;
    }
    if (values.length > 10_000) {
      status.textContent = t('lookup.tooMany', { count: values.length });
      return;
    }
    status.textContent = t('detail.loading');
    api
      .lookup(values)
      .then(({ results: answered }) => {
        const known = answered.filter((result) => result.known).length;
        status.textContent = t('lookup.summary', { count: answered.length, known });
        if (download) URL.revokeObjectURL(download);
        // A byte-order mark, so spreadsheet programs read the UTF-8 (Japanese titles, IDN) as UTF-8.
        download = URL.createObjectURL(
          new Blob([`\uFEFF${formatLookupCsv(answered)}\r\n`], { type: 'text/csv;charset=utf-8' }),
        );
        replaceChildren(
          results,
          el(
            'p',
            {},
            el(
              'a',
              { href: download, download: 'renkei-lookup.csv', 'data-testid': 'lookup-csv', class: 'button' },
              t('lookup.csv'),
            ),
          ),
          table(
            [
              t('lookup.col.value'),
              t('search.col.indicator'),
              t('lookup.col.known'),
              t('search.col.reports'),
              t('search.col.orgs'),
              t('search.col.lastSeen'),
              t('lookup.col.alerts'),
              t('lookup.col.suppressed'),
            ],
            answered.map((result) => lookupRow(context, result, time)),
            'lookup-table',
          ),
        );
      })
      .catch((error) => {
        status.textContent = t('search.failed', { reason: context.failed(error) });
      });
  };
  append(
    main,
    el('h2', {}, t('lookup.title')),
    el(
      'form',
      {
        class: 'card',
        on: {
          submit: (event) => {
            event.preventDefault();
            run();
          },
        },
      },
      el('label', { for: 'lookup-values' }, t('lookup.help')),
      input,
      el('p', {}, el('button', { type: 'submit', 'data-testid': 'lookup-submit' }, t('lookup.submit'))),
    ),
    status,
    results,
  );
}

function lookupRow(context: ConsoleContext, result: LookupResult, time: ConsoleContext['time']): HTMLElement {
  const { t } = context;
  const { canonical, sightings } = result;
  return el(
    'tr',
    { 'data-testid': 'lookup-row', 'data-known': String(result.known) },
    el('td', {}, dataValue(middleTruncate(result.value, 64), result.value)),
    el(
      'td',
      {},
      canonical
        ? el(
            'a',
            {
              href: indicatorHref(canonical.type, canonical.value),
              'data-value': '',
              title: canonical.value,
            },
            `${canonical.type} ${middleTruncate(defang(canonical.type, canonical.value), 56)}`,
          )
        : el(
            'span',
            { class: 'muted' },
            t('lookup.notIndicator'),
            result.error ? ': ' : '',
            result.error ? dataValue(result.error) : '',
          ),
    ),
    el('td', {}, result.known ? t('lookup.yes') : t('lookup.no')),
    el('td', { class: 'number' }, sightings ? String(sightings.reportCount) : ''),
    el('td', { class: 'number' }, sightings ? String(sightings.organisationCount) : ''),
    el('td', {}, sightings ? time(sightings.lastSeen) : ''),
    el(
      'td',
      {},
      ...result.alerts
        .slice(0, 3)
        .flatMap((alert, index) => [
          index > 0 ? ' ' : '',
          el('a', { href: `#/alert/${alert.id}` }, context.name('kind', alert.kind)),
        ]),
      result.alerts.length > 3 ? ` +${result.alerts.length - 3}` : '',
    ),
    el('td', {}, result.suppressedBy ? dataValue(result.suppressedBy) : ''),
  );
}

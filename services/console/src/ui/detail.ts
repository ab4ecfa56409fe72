import { TRIAGE_TRANSITIONS, type AlertDetail, type IndicatorType, type TriageUpdate } from '@renkei/schema';
import type { MessageKey } from '../i18n.js';
import { defang } from '../indicators-input.js';
import { middleTruncate } from '../model.js';
import type { ConsoleContext } from './app.js';
import { append, dataValue, el, replaceChildren } from './dom.js';
import { indicatorHref, reportHref } from './search.js';

/** The note the hub writes when an escalation reopens a closed alert (services/gateway/src/escalation.ts). */
const REOPENED = /^escalated from (low|medium|high|critical) to (low|medium|high|critical)$/;

/** A long value shown cut in the middle, the whole of it on hover and in the copy button. */
export function copyable(context: ConsoleContext, value: string) {
  const button = el(
    'button',
    {
      type: 'button',
      class: 'copy',
      'aria-label': context.t('detail.copyLabel', { value }),
      on: {
        click: () =>
          void navigator.clipboard?.writeText(value).then(() => {
            button.textContent = context.t('detail.copied');
          }),
      },
    },
    context.t('detail.copy'),
  );
  return el(
    'span',
    { class: 'copyable' },
    el('code', { 'data-value': '', title: value }, middleTruncate(value, 72)),
    ' ',
    button,
  );
}

export function renderDetail(context: ConsoleContext, main: HTMLElement, id: string): void {
  const { t, tf, name, names, time, severityBadge, statusText } = context;
  const api = context.session()!.api;
  const content = el('div', { 'data-testid': 'alert-detail' }, t('detail.loading'));
  const message = el('p', { class: 'error', role: 'alert' });
  append(main, el('p', { class: 'back' }, el('a', { href: '#/feed' }, t('detail.back'))), content, message);
  let detail: AlertDetail | null = null;
  const act = (work: Promise<unknown>) =>
    work
      .then(() => {
        message.textContent = '';
      })
      .catch((error) => {
        message.textContent = t('action.failed', { reason: context.failed(error) });
      });

  const noteInput = el('textarea', { id: 'note', rows: 2, 'data-testid': 'note' });
  const assigneeInput = el('input', { id: 'assignee', type: 'text', 'data-testid': 'assignee' });
  const triageRegion = el('div', { 'aria-live': 'polite' });
  const timeline = el('ol', { class: 'timeline', 'data-testid': 'timeline' });

  const triageText = (change: TriageUpdate): (Node | string)[] => {
    const reopened = change.note ? REOPENED.exec(change.note) : null;
    if (reopened)
      return [
        t('detail.reopened', {
          from: t(`severity.${reopened[1]}` as MessageKey),
          to: t(`severity.${reopened[2]}` as MessageKey),
        }),
        ' → ',
        statusText(change.status),
      ];
    return [
      ...tf('detail.triageChange', { by: dataValue(change.by), status: statusText(change.status) }),
      change.assignee ? ' → ' : '',
      change.assignee ? dataValue(change.assignee) : '',
      change.note ? ' — ' : '',
      change.note ? dataValue(change.note) : '',
    ];
  };

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
        detail.triage.assignee ? ` — ${t('detail.assignee')}: ` : '',
        detail.triage.assignee ? dataValue(detail.triage.assignee) : '',
      ),
      context.isAnalyst() &&
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
    const entries: { at: string; text: (Node | string)[] }[] = [
      ...detail.versions.map((version) => ({
        at: version.updatedAt,
        text: [
          t('detail.version', { version: version.version, change: context.alertReasons(version)[0] ?? '' }),
        ],
      })),
      ...(detail.triage.history ?? []).map((change) => ({ at: change.at, text: triageText(change) })),
    ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    replaceChildren(timeline, ...entries.map((entry) => el('li', {}, time(entry.at), ' ', ...entry.text)));
  };

  const reportsSection = (loaded: AlertDetail) => {
    const reports = loaded.reports ?? [];
    if (reports.length === 0)
      return el(
        'p',
        { 'data-testid': 'reports-none' },
        loaded.alert.reportIds.length === 0
          ? t('detail.noReports')
          : t('detail.reportsCount', { count: loaded.alert.reportIds.length }),
      );
    return el(
      'ul',
      { class: 'report-list', 'data-testid': 'alert-reports' },
      ...reports.map((report) =>
        el(
          'li',
          { 'data-testid': 'alert-report', 'data-report-id': report.id },
          el(
            'h4',
            {},
            severityBadge(report.severity),
            ' ',
            el('a', { href: reportHref(report.id), 'data-value': '' }, report.title),
          ),
          el(
            'p',
            { class: 'meta' },
            dataValue(report.organisationId),
            ` · ${name('sector', report.sector)} · ${name('category', report.category)} · `,
            dataValue(`TLP:${report.tlp}`),
            ' · ',
            ...tf('detail.detected', { at: time(report.detectedAt) }),
            ' · ',
            ...tf('detail.received', { at: time(report.receivedAt) }),
          ),
          report.description && el('p', { class: 'description' }, dataValue(report.description)),
          report.indicators.length > 0 &&
            el(
              'ul',
              { class: 'indicators', 'aria-label': t('detail.reportIndicators') },
              ...report.indicators.map((indicator) =>
                el(
                  'li',
                  {},
                  el('span', { class: 'type', 'data-value': '' }, indicator.type),
                  ' ',
                  copyable(context, defang(indicator.type as IndicatorType, indicator.value)),
                ),
              ),
            ),
        ),
      ),
    );
  };

  const load = () =>
    api
      .alert(id)
      .then((loaded) => {
        detail = loaded;
        context.lastDetail.value = loaded;
        const alert = loaded.alert;
        replaceChildren(
          content,
          el(
            'h2',
            { 'data-testid': 'detail-title', title: context.alertTitle(alert) },
            alert.exercise && el('span', { class: 'tag exercise-tag' }, t('feed.exercise')),
            severityBadge(alert.severity),
            ' ',
            middleTruncate(context.alertTitle(alert), 160),
          ),
          el(
            'p',
            { class: 'meta' },
            `${name('kind', alert.kind)} · `,
            dataValue(`TLP:${alert.tlp}`),
            ` · ${names('sector', alert.sectors)} · ${t('feed.col.orgs')} ${alert.organisationCount}`,
          ),
          el(
            'div',
            { class: 'detail-layout' },
            el(
              'div',
              { class: 'detail-main' },
              el('h3', {}, t('detail.reasons')),
              el(
                'ul',
                { 'data-testid': 'reasons' },
                ...context.alertReasons(alert).map((r) => el('li', {}, r)),
              ),
              el('h3', {}, t('detail.indicators')),
              el(
                'ul',
                { class: 'indicators', 'data-testid': 'indicators' },
                ...alert.indicators.map((indicator) =>
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
                        'data-testid': 'indicator-pivot',
                      },
                      indicator.type,
                    ),
                    ' ',
                    copyable(context, defang(indicator.type, indicator.value)),
                  ),
                ),
              ),
              el('h3', {}, t('detail.reports')),
              reportsSection(loaded),
              alert.contributions &&
                el(
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
                        el('td', {}, dataValue(c.organisationId)),
                        el('td', {}, name('sector', c.sector)),
                        el('td', {}, name('category', c.category)),
                        el('td', {}, dataValue(c.tlp)),
                        el('td', {}, time(c.receivedAt)),
                      ),
                    ),
                  ),
                ),
              el('h3', {}, t('detail.related')),
              alert.relatedAlertIds.length === 0
                ? el('p', {}, t('detail.none'))
                : el(
                    'ul',
                    { 'data-testid': 'related' },
                    ...alert.relatedAlertIds.map((related) => {
                      const known = context.feedAlert(related);
                      return el(
                        'li',
                        {},
                        el(
                          'a',
                          { href: `#/alert/${related}`, 'data-testid': 'related-alert' },
                          known ? context.alertTitle(known.alert) : dataValue(related),
                        ),
                      );
                    }),
                  ),
              el('h3', {}, t('detail.timeline')),
              timeline,
            ),
            el(
              'aside',
              { class: 'card triage-panel', 'aria-label': t('detail.status') },
              triageRegion,
              context.isAnalyst() &&
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
                    el('a', { href: `#/warnings/${id}`, 'data-testid': 'warn-from-alert' }, t('detail.warn')),
                  ),
                ),
            ),
          ),
        );
        update();
      })
      .catch((error) => {
        content.textContent = t('error.generic', { reason: context.failed(error) });
      });
  // A new version or a triage change of this alert: loaded again (the note and assignee boxes keep what was typed).
  let reloading: ReturnType<typeof setTimeout> | undefined;
  context.onAlertChange((alertId) => {
    if (alertId !== id || reloading) return;
    reloading = setTimeout(() => {
      reloading = undefined;
      void load();
    }, 100);
  });
  void load();
  context.setRefresh(update);
}

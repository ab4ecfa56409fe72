import { SECTORS, SEVERITIES, TLP_LEVELS, warningSubmissionSchema, type Sector } from '@renkei/schema';
import type { MessageKey } from '../i18n.js';
import { defang } from '../indicators-input.js';
import type { ConsoleContext } from './app.js';
import { append, dataValue, el, replaceChildren } from './dom.js';

export function renderWarnings(context: ConsoleContext, main: HTMLElement, fromAlert?: string): void {
  const { t, tf, names, time, severityBadge } = context;
  const list = el('section', { class: 'card', 'aria-live': 'polite', 'data-testid': 'warnings' });
  // Side by side at 1280 px: the analyst composes while the acknowledgements come in.
  if (context.isAnalyst())
    append(main, el('div', { class: 'two-columns' }, composeWarning(context, fromAlert), list));
  else append(main, list);
  const update = () => {
    const warnings = context.warnings();
    replaceChildren(
      list,
      el('h2', {}, context.isAnalyst() ? t('warnings.title') : t('warnings.inbox')),
      warnings.length === 0
        ? el('p', {}, t('warnings.empty'))
        : el(
            'ul',
            { class: 'warnings' },
            ...warnings.map((warning) => {
              const acks = context.warningAcks.get(warning.id) ?? new Map<string, string>();
              const pending = context.warningPending.get(warning.id) ?? [];
              const own = context.ownAcks.get(warning.id);
              return el(
                'li',
                { 'data-testid': 'warning', 'data-warning-id': warning.id },
                el(
                  'h3',
                  {},
                  warning.exercise && el('span', { class: 'tag exercise-tag' }, t('feed.exercise')),
                  severityBadge(warning.severity),
                  ' ',
                  dataValue(warning.title),
                ),
                el(
                  'p',
                  { class: 'meta' },
                  time(warning.publishedAt),
                  ' · ',
                  dataValue(`TLP:${warning.tlp}`),
                  ' · ',
                  t('warnings.to', {
                    sectors:
                      warning.sectors === 'all' ? t('warnings.field.all') : names('sector', warning.sectors),
                  }),
                ),
                el('p', { class: 'body' }, dataValue(warning.body)),
                warning.indicators.length > 0 &&
                  el(
                    'ul',
                    { class: 'indicators' },
                    ...warning.indicators.map((i) =>
                      el('li', {}, el('code', { 'data-value': '' }, defang(i.type, i.value))),
                    ),
                  ),
                context.isAnalyst() &&
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
                          `${t('warnings.ackedBy')}: `,
                          dataValue(org),
                          ' (',
                          time(at),
                          ')',
                        ),
                      ),
                      ...pending.map((org) =>
                        el('li', { class: 'pending' }, `${t('warnings.pending')}: `, dataValue(org)),
                      ),
                    ),
                  ),
                context.isRecipient() &&
                  (own
                    ? el('p', { 'data-testid': 'acked' }, ...tf('warnings.acked', { at: time(own) }))
                    : el(
                        'button',
                        {
                          type: 'button',
                          'data-testid': 'ack',
                          on: {
                            click: () =>
                              void context
                                .session()!
                                .api.acknowledgeWarning(warning.id)
                                .then((ack) => {
                                  context.ownAcks.set(warning.id, ack.at);
                                  context.scheduleRefresh();
                                })
                                .catch(context.failed),
                          },
                        },
                        t('warnings.ack'),
                      )),
              );
            }),
          ),
    );
  };
  context.setRefresh(update);
  update();
}

function composeWarning(context: ConsoleContext, fromAlert?: string) {
  const { t, name } = context;
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
  const detail = context.lastDetail.value;
  const source = detail && detail.alert.id === fromAlert ? detail.alert : undefined;
  if (source) {
    title.value = context.alertTitle(source);
    body.value = context.alertReasons(source).join('\n');
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
            const fields = [...new Set(checked.error.issues.map((issue) => String(issue.path[0])))];
            message.textContent = t('validation.server', { field: fields.join(', ') });
            return;
          }
          void context
            .session()!
            .api.publishWarning(checked.data)
            .then((published) => {
              message.textContent = t('warnings.published');
              if (!context.warnings().some((w) => w.id === published.id))
                context.setWarnings([published, ...context.warnings()]);
              void context.loadWarningAcks(published.id);
              title.value = '';
              body.value = '';
            })
            .catch((error) => {
              message.textContent = t('action.failed', { reason: context.failed(error) });
            });
        },
      },
    },
    el('h2', {}, t('warnings.compose')),
    el('label', { for: 'w-title' }, t('warnings.field.title')),
    title,
    el('label', { for: 'w-body' }, t('warnings.field.body')),
    body,
    el(
      'div',
      { class: 'pair' },
      el('div', {}, el('label', { for: 'w-severity' }, t('warnings.field.severity')), severity),
      el('div', {}, el('label', { for: 'w-tlp' }, t('warnings.field.tlp')), tlp),
    ),
    el(
      'fieldset',
      { class: 'sectors' },
      el('legend', {}, t('warnings.field.sectors')),
      ...SECTORS.map((s, i) =>
        el('label', { for: `w-sector-${s}`, class: 'inline' }, sectors[i]!, ` ${name('sector', s)}`),
      ),
    ),
    fromAlert && el('p', {}, `${t('warnings.field.alerts')}: `, dataValue(fromAlert)),
    el('label', { for: 'w-exercise', class: 'inline' }, exercise, ` ${t('warnings.field.exercise')}`),
    el('button', { type: 'submit', 'data-testid': 'w-publish' }, t('warnings.publish')),
    message,
  );
}

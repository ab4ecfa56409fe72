import { REPORT_CATEGORIES, SEVERITIES, TLP_LEVELS } from '@renkei/schema';
import { ApiError } from '../api.js';
import type { MessageKey } from '../i18n.js';
import { checkReportForm, localInputValue, type ReportFormField } from '../report-form.js';
import type { ConsoleContext } from './app.js';
import { append, dataValue, el, replaceChildren } from './dom.js';

let reportPoll: ReturnType<typeof setInterval> | undefined;

export function renderReports(context: ConsoleContext, main: HTMLElement): void {
  const { t, name } = context;
  const errors = new Map<string, HTMLElement>();
  const field = (id: ReportFormField, label: string, control: HTMLElement, wide = false) => {
    const error = el('p', { class: 'field-error', id: `r-${id}-error`, 'data-testid': `r-${id}-error` });
    errors.set(id, error);
    control.setAttribute('aria-describedby', error.id);
    return el(
      'div',
      { class: `field${wide ? ' wide' : ''}` },
      el('label', { for: `r-${id}` }, label),
      control,
      error,
    );
  };
  const title = el('input', { id: 'r-title', type: 'text', 'data-testid': 'r-title' });
  const description = el('textarea', { id: 'r-description', rows: 2 });
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
  // The default follows the clock until someone sets a time: a form left open an hour does not say an hour ago.
  let detectedAtSet = false;
  detectedAt.value = localInputValue(Date.now());
  detectedAt.addEventListener('input', () => (detectedAtSet = true));
  const clock = setInterval(() => {
    if (!detectedAt.isConnected) return clearInterval(clock);
    if (!detectedAtSet && document.activeElement !== detectedAt)
      detectedAt.value = localInputValue(Date.now());
  }, 15_000);
  const indicators = el('textarea', {
    id: 'r-indicators',
    rows: 4,
    'data-testid': 'r-indicators',
    spellcheck: false,
  });
  const exercise = el('input', { type: 'checkbox', id: 'r-exercise' });
  const preview = el('ul', { class: 'preview', 'aria-live': 'polite', 'data-testid': 'r-preview' });
  const message = el('p', { role: 'status', 'data-testid': 'r-message' });
  const mine = el('section', { class: 'card', 'data-testid': 'my-reports' });
  /** Fields are judged once touched or once Send was pressed; an error clears as soon as the field is right. */
  const touched = new Set<string>();
  let attempted = false;

  const values = () => ({
    title: title.value,
    description: description.value,
    category: category.value,
    severity: severity.value,
    tlp: tlp.value,
    detectedAt: detectedAt.value,
    indicators: indicators.value,
    exercise: exercise.checked,
  });

  const check = () => {
    const result = checkReportForm(values());
    for (const [id, target] of errors) {
      const problem = result.errors[id as ReportFormField];
      const shown = problem && (attempted || touched.has(id));
      target.textContent = shown ? t(problem.key, problem.params) : '';
      if (shown && problem.detail) target.title = problem.detail;
      else target.removeAttribute('title');
    }
    replaceChildren(
      preview,
      ...result.lines.map((line) =>
        'error' in line
          ? el(
              'li',
              { class: 'invalid', 'data-testid': 'indicator-invalid', title: line.error },
              `${line.line}: `,
              dataValue(line.written),
              ' ✗',
            )
          : el(
              'li',
              { class: 'valid', 'data-testid': 'indicator-valid' },
              `${line.line}: `,
              el('span', { 'data-value': '' }, line.type),
              ' ',
              el('code', { 'data-value': '' }, line.canonical),
            ),
      ),
    );
    if (Object.keys(result.errors).length === 0 && message.dataset.state === 'invalid') {
      message.textContent = '';
      delete message.dataset.state;
    }
    return result;
  };
  const watch = (id: string, control: HTMLElement) => {
    control.addEventListener('input', () => {
      touched.add(id);
      check();
    });
    control.addEventListener('change', () => {
      touched.add(id);
      check();
    });
  };
  watch('title', title);
  watch('description', description);
  watch('detectedAt', detectedAt);
  watch('indicators', indicators);

  const form = el(
    'form',
    {
      class: 'card report-form',
      'data-testid': 'report-form',
      novalidate: true,
      on: {
        submit: (event) => {
          event.preventDefault();
          attempted = true;
          const result = check();
          if (!result.submission) {
            message.textContent = t('reports.invalid');
            message.dataset.state = 'invalid';
            return;
          }
          void context
            .session()!
            .api.submitReport(result.submission)
            .then((answer) => {
              message.textContent = t('reports.sent', { id: answer.id });
              delete message.dataset.state;
              title.value = '';
              description.value = '';
              indicators.value = '';
              attempted = false;
              touched.clear();
              detectedAtSet = false;
              detectedAt.value = localInputValue(Date.now());
              check();
              void context.loadMyReports();
            })
            .catch((error) => {
              if (error instanceof ApiError)
                for (const f of error.fields) {
                  const target = errors.get(f.field.split(/[.[]/)[0]!);
                  if (target) {
                    target.textContent = t('validation.server', { field: f.field });
                    target.title = f.message;
                  }
                }
              message.textContent = t('action.failed', { reason: context.failed(error) });
            });
        },
      },
    },
    el('h2', {}, t('reports.title')),
    el(
      'div',
      { class: 'form-grid' },
      field('title', t('reports.field.title'), title, true),
      field('description', t('reports.field.description'), description, true),
      field('category', t('reports.field.category'), category),
      field('severity', t('reports.field.severity'), severity),
      field('tlp', t('reports.field.tlp'), tlp),
      field('detectedAt', t('reports.field.detectedAt'), detectedAt),
      field('indicators', t('reports.field.indicators'), indicators, true),
    ),
    el('p', { class: 'help' }, t('reports.preview')),
    preview,
    el(
      'div',
      { class: 'form-actions' },
      el('label', { for: 'r-exercise', class: 'inline' }, exercise, ` ${t('reports.field.exercise')}`),
      el('button', { type: 'submit', 'data-testid': 'r-submit' }, t('reports.submit')),
      message,
    ),
  );
  append(main, el('div', { class: 'two-columns reports-page' }, form, mine));

  const update = () => {
    const reports = context.myReports();
    replaceChildren(
      mine,
      el('h2', {}, t('reports.mine')),
      reports.length === 0
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
              ...reports.map((report) =>
                el(
                  'tr',
                  { 'data-testid': 'my-report', 'data-report-id': report.id },
                  el('td', { 'data-testid': 'my-report-title', 'data-value': '' }, report.title),
                  el('td', {}, context.time(report.receivedAt)),
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
  context.setRefresh(update);
  update();
  // Status moves from accepted to processed without a stream event: asked again while any waits.
  clearInterval(reportPoll);
  reportPoll = setInterval(() => {
    if (context.currentRoute().name !== 'reports' || !context.session()) return clearInterval(reportPoll);
    if (context.myReports().some((report) => report.status === 'accepted')) void context.loadMyReports();
  }, 1_000);
}

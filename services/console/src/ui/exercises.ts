import type { ExerciseRunView, ExerciseTask, ExerciseTaskView, ExpectationOutcome } from '@renkei/schema';
import type { MessageKey } from '../i18n.js';
import type { ConsoleContext } from './app.js';
import { append, dataValue, el, replaceChildren } from './dom.js';

/**
 * What the page knows of exercise runs: the control's view of each run
 * (analysts) and the tasks sent to the viewer's organisation (participants),
 * from `GET /v1/exercises` first and then from `exercise` stream frames.
 */
export interface ExerciseState {
  runs: Map<string, { run: ExerciseRunView; receivedAt: number }>;
  tasks: Map<
    string,
    {
      view: Omit<ExerciseTaskView, 'tasks'>;
      tasks: Map<string, ExerciseTask['message'] & { sentAt: string }>;
    }
  >;
}

export const newExerciseState = (): ExerciseState => ({ runs: new Map(), tasks: new Map() });

export function takeRun(state: ExerciseState, run: ExerciseRunView): void {
  state.runs.set(run.id, { run, receivedAt: Date.now() });
}

export function takeTaskView(state: ExerciseState, view: ExerciseTaskView): void {
  const known = state.tasks.get(view.id)?.tasks ?? new Map();
  for (const task of view.tasks) known.set(task.inject, { ...task.message, sentAt: task.sentAt });
  const { tasks: _tasks, ...rest } = view;
  state.tasks.set(view.id, { view: rest, tasks: known });
}

export function takeTask(state: ExerciseState, task: ExerciseTask): void {
  const entry = state.tasks.get(task.runId) ?? {
    view: { id: task.runId, scenario: task.scenario, state: 'running' as const },
    tasks: new Map(),
  };
  entry.tasks.set(task.inject, { ...task.message, sentAt: task.sentAt });
  state.tasks.set(task.runId, entry);
}

/** Scenario time as H:MM:SS. */
export function scenarioClock(ms: number): string {
  const seconds = Math.floor(ms / 1_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(seconds / 3_600)}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}

/** The run's scenario time now: what the hub said, moved on by the real time since at the run's speed. */
export function elapsedNow(entry: { run: ExerciseRunView; receivedAt: number }, now: number): number {
  return entry.run.state === 'running'
    ? entry.run.elapsedMs + Math.max(0, now - entry.receivedAt) * entry.run.speed
    : entry.run.elapsedMs;
}

export function renderExercises(
  context: ConsoleContext,
  main: HTMLElement,
  state: ExerciseState,
  runId: string | undefined,
): void {
  const { t } = context;
  const api = context.session()!.api;
  const content = el('div', { 'data-testid': 'exercises' }, t('detail.loading'));
  const message = el('p', { class: 'error', role: 'alert' });
  append(main, content, message);
  let loaded = false;
  const draw = () => {
    if (!loaded) return;
    if (context.isAnalyst()) {
      const entry = runId ? state.runs.get(runId) : undefined;
      if (runId && entry) replaceChildren(content, ...board(context, entry));
      else if (runId) replaceChildren(content, el('p', {}, t('exercise.none')));
      else replaceChildren(content, ...runList(context, state));
    } else replaceChildren(content, ...taskList(context, state));
  };
  context.setRefresh(draw);
  (runId && context.isAnalyst()
    ? api.exercise(runId).then((one) => [one])
    : api.exercises().then((page) => page.items)
  )
    .then((items) => {
      for (const item of items) {
        if ('participants' in item) takeRun(state, item);
        else takeTaskView(state, item);
      }
      loaded = true;
      draw();
    })
    .catch((error) => {
      message.textContent = t('action.failed', { reason: context.failed(error) });
    });
  // The clock moves between the hub's updates (which come when anything but the clock changes).
  const clock = setInterval(() => {
    if (!content.isConnected) return clearInterval(clock);
    for (const shown of content.querySelectorAll<HTMLElement>('[data-clock-run]')) {
      const entry = state.runs.get(shown.dataset.clockRun!);
      if (entry) shown.textContent = scenarioClock(elapsedNow(entry, Date.now()));
    }
  }, 1_000);
}

const stateText = (context: ConsoleContext, state: string) =>
  context.t(`exercise.state.${state}` as MessageKey);

function runList(context: ConsoleContext, state: ExerciseState): (Node | string)[] {
  const { t, language, time } = context;
  const runs = [...state.runs.values()].sort((a, b) =>
    (b.run.startedAt ?? b.run.startAt ?? '') < (a.run.startedAt ?? a.run.startAt ?? '') ? -1 : 1,
  );
  return [
    el('h2', {}, t('exercise.title')),
    runs.length === 0
      ? el('p', { 'data-testid': 'exercise-none' }, t('exercise.none'))
      : el(
          'ul',
          { class: 'exercise-runs', 'data-testid': 'exercise-runs' },
          ...runs.map(({ run }) =>
            el(
              'li',
              { 'data-testid': 'exercise-run', 'data-run-id': run.id },
              el('a', { href: `#/exercises/${run.id}`, 'data-value': '' }, run.scenario.title[language()]),
              ' · ',
              el('span', { class: `run-state run-${run.state}` }, stateText(context, run.state)),
              run.startedAt && ' · ',
              run.startedAt && time(run.startedAt),
            ),
          ),
        ),
  ];
}

function board(
  context: ConsoleContext,
  entry: { run: ExerciseRunView; receivedAt: number },
): (Node | string | false)[] {
  const { t, language, time } = context;
  const { run } = entry;
  const count = (status: ExpectationOutcome['status']) =>
    run.expectations.filter((outcome) => outcome.status === status).length;
  const byParticipant = new Map<string, ExpectationOutcome[]>();
  for (const outcome of run.expectations)
    byParticipant.set(outcome.participant, [...(byParticipant.get(outcome.participant) ?? []), outcome]);
  return [
    el('p', { class: 'back' }, el('a', { href: '#/exercises' }, t('exercise.back'))),
    el(
      'h2',
      { 'data-testid': 'exercise-title' },
      el('span', { class: 'tag exercise-tag' }, t('feed.exercise')),
      ' ',
      dataValue(run.scenario.title[language()]),
    ),
    el(
      'p',
      { class: 'exercise-clock' },
      el(
        'span',
        { class: `run-state run-${run.state}`, 'data-testid': 'exercise-state', 'data-state': run.state },
        stateText(context, run.state),
      ),
      ' · ',
      t('exercise.clock'),
      ' ',
      el(
        'strong',
        { 'data-testid': 'exercise-clock', 'data-clock-run': run.id },
        scenarioClock(elapsedNow(entry, Date.now())),
      ),
      ' · ',
      t('exercise.speed', { speed: run.speed }),
    ),
    el(
      'p',
      { 'data-testid': 'exercise-score' },
      t('exercise.score', {
        met: count('met'),
        late: count('late'),
        missed: count('missed'),
        pending: count('pending'),
      }),
    ),
    el('h3', {}, t('exercise.injects')),
    el(
      'div',
      { class: 'table-wrap' },
      el(
        'table',
        { class: 'results', 'data-testid': 'exercise-injects' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ...[
              t('exercise.col.at'),
              t('exercise.col.inject'),
              t('feed.col.kind'),
              t('exercise.col.sent'),
            ].map((h) => el('th', { scope: 'col' }, h)),
          ),
        ),
        el(
          'tbody',
          {},
          ...run.injects.map((inject) =>
            el(
              'tr',
              { 'data-testid': 'exercise-inject', 'data-sent': String(inject.sentAt !== null) },
              el('td', {}, dataValue(inject.at)),
              el('td', {}, dataValue(inject.id)),
              el('td', {}, t(`exercise.inject.${inject.kind}` as MessageKey)),
              el(
                'td',
                {},
                inject.sentAt ? time(inject.sentAt) : t('exercise.notYet'),
                inject.alertId && ' · ',
                inject.alertId && el('a', { href: `#/alert/${inject.alertId}` }, t('exercise.alert')),
              ),
            ),
          ),
        ),
      ),
    ),
    el('h3', {}, t('exercise.expectations')),
    ...[...byParticipant.entries()].map(([participant, outcomes]) =>
      el(
        'section',
        {
          class: 'exercise-participant',
          'data-testid': 'exercise-participant',
          'data-participant': participant,
        },
        el('h4', {}, dataValue(participant)),
        el(
          'ul',
          {},
          ...outcomes.map((outcome) =>
            el(
              'li',
              { 'data-testid': 'exercise-outcome', 'data-status': outcome.status },
              el(
                'span',
                { class: `outcome outcome-${outcome.status}` },
                t(`exercise.status.${outcome.status}` as MessageKey),
              ),
              ' ',
              dataValue(outcome.expectation),
              ` (${t(`exercise.expect.${outcome.kind}` as MessageKey)})`,
              outcome.takenMs !== null &&
                ` · ${t('exercise.taken', { minutes: (outcome.takenMs / 60_000).toFixed(1) })}`,
              outcome.status === 'pending' && outcome.dueAt && ' · ',
              outcome.status === 'pending' && outcome.dueAt && t('exercise.due'),
              outcome.status === 'pending' && outcome.dueAt && ' ',
              outcome.status === 'pending' && outcome.dueAt && time(outcome.dueAt),
            ),
          ),
        ),
      ),
    ),
    run.participants.length > 0 &&
      el(
        'p',
        { class: 'muted' },
        t('exercise.participants'),
        ' ',
        ...run.participants.flatMap((p, i) => [i > 0 ? ', ' : '', dataValue(p)]),
      ),
  ];
}

function taskList(context: ConsoleContext, state: ExerciseState): (Node | string)[] {
  const { t, language, time } = context;
  const entries = [...state.tasks.values()];
  return [
    el('h2', {}, t('exercise.tasksTitle')),
    entries.length === 0
      ? el('p', { 'data-testid': 'exercise-none' }, t('exercise.noTasks'))
      : el(
          'div',
          { 'data-testid': 'exercise-tasks' },
          ...entries.map(({ view, tasks }) =>
            el(
              'section',
              { class: 'card' },
              el(
                'h3',
                {},
                el('span', { class: 'tag exercise-tag' }, t('feed.exercise')),
                ' ',
                dataValue(view.scenario.title[language()]),
              ),
              el(
                'ul',
                {},
                ...[...tasks.entries()].map(([inject, task]) =>
                  el(
                    'li',
                    { 'data-testid': 'exercise-task', 'data-inject': inject },
                    time(task.sentAt),
                    ' ',
                    dataValue(task[language()]),
                  ),
                ),
              ),
            ),
          ),
        ),
  ];
}

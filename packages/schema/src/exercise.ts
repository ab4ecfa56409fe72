import { z } from 'zod';
import { indicatorSchema } from './report.js';
import { storableString } from './text.js';
import {
  organisationIdSchema,
  reportCategorySchema,
  sectorSchema,
  severitySchema,
  tlpSchema,
} from './vocabulary.js';
import { warningSectorsSchema } from './warning.js';

/** Names a scenario file's format; a new version gets a new name, so old files stay readable. */
export const EXERCISE_SCENARIO_SCHEMA = 'renkei.exercise-scenario.v1';

/**
 * An ISO 8601 duration of days, hours, minutes and seconds (`PT5M`, `P1DT2H`):
 * the offsets and deadlines of a scenario, in scenario time.
 */
export const scenarioDurationSchema = z
  .string()
  .regex(
    /^P(?=\d|T\d)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/,
    'is not an ISO 8601 duration such as PT5M or P1DT2H',
  );

/** Milliseconds of a duration {@link scenarioDurationSchema} accepted. */
export function durationMs(duration: string): number {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(duration);
  if (!match) throw new RangeError(`not a duration: ${duration}`);
  const [, days = '0', hours = '0', minutes = '0', seconds = '0'] = match;
  return Math.round(((+days * 24 + +hours) * 60 + +minutes) * 60_000 + +seconds * 1000);
}

const bilingualSchema = z.strictObject({
  ja: storableString().trim().min(1).max(2000),
  en: storableString().trim().min(1).max(2000),
});
export type Bilingual = z.infer<typeof bilingualSchema>;

/** Injects and expectations are named so others can point at them (`after: "phish-1"`). */
const stepIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'is not a step id (a-z, 0-9 and -)');

/** Who takes part: one organisation, or every enabled organisation of a sector. */
export const exerciseParticipantSchema = z.union([
  z.strictObject({ organisation: organisationIdSchema }),
  z.strictObject({ sector: sectorSchema }),
]);
export type ExerciseParticipant = z.infer<typeof exerciseParticipantSchema>;

const injectBase = { id: stepIdSchema, at: scenarioDurationSchema };

/**
 * What the exercise control sends at an offset from the start. A report goes
 * through ingest as the organisation it names (the control's own, or a
 * simulated participant's); a warning is published to sectors as the GSOC;
 * an information request asks one participant to report something.
 */
export const exerciseInjectSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    ...injectBase,
    kind: z.literal('report'),
    from: organisationIdSchema,
    report: z.strictObject({
      title: storableString().trim().min(1).max(200),
      description: storableString().max(10_000).optional(),
      category: reportCategorySchema,
      severity: severitySchema,
      tlp: tlpSchema,
      indicators: z.array(indicatorSchema).min(1).max(100),
    }),
  }),
  z.strictObject({
    ...injectBase,
    kind: z.literal('warning'),
    warning: z.strictObject({
      title: storableString().trim().min(1).max(200),
      body: storableString().trim().min(1).max(20_000),
      severity: severitySchema,
      tlp: tlpSchema,
      sectors: warningSectorsSchema,
    }),
  }),
  z.strictObject({
    ...injectBase,
    kind: z.literal('information-request'),
    to: organisationIdSchema,
    message: bilingualSchema,
  }),
]);
export type ExerciseInject = z.infer<typeof exerciseInjectSchema>;

/** A deadline: `within` of scenario time after the inject (or met expectation) `after` names. */
const deadline = { id: stepIdSchema, after: stepIdSchema, within: scenarioDurationSchema };

/**
 * What the control expects of the participants, each scored per participant
 * as met (with the time taken), late, missed or still pending:
 * - `acknowledge`: every recipient organisation acknowledges the warning inject `after` names;
 * - `publish-warning`: the GSOC publishes a warning to `sector` after the alert the report inject `after` raised;
 * - `report`: `participant` submits a report naming `indicator`;
 * - `triage`: an analyst triages the alert the report inject `after` raised.
 */
export const exerciseExpectationSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...deadline, kind: z.literal('acknowledge') }),
  z.strictObject({ ...deadline, kind: z.literal('publish-warning'), sector: sectorSchema }),
  z.strictObject({
    ...deadline,
    kind: z.literal('report'),
    participant: organisationIdSchema,
    indicator: indicatorSchema,
  }),
  z.strictObject({ ...deadline, kind: z.literal('triage') }),
]);
export type ExerciseExpectation = z.infer<typeof exerciseExpectationSchema>;

/** A scenario file: what `renkei exercise validate` reads and `POST /v1/exercises` takes. */
export const exerciseScenarioSchema = z.strictObject({
  schema: z.literal(EXERCISE_SCENARIO_SCHEMA),
  /** Names the scenario across its versions, so runs of one scenario compare. */
  id: stepIdSchema,
  version: z.number().int().positive(),
  title: bilingualSchema,
  description: bilingualSchema,
  participants: z.array(exerciseParticipantSchema).min(1).max(200),
  injects: z.array(exerciseInjectSchema).min(1).max(500),
  expectations: z.array(exerciseExpectationSchema).max(500).default([]),
});
export type ExerciseScenario = z.output<typeof exerciseScenarioSchema>;
export type ExerciseScenarioInput = z.input<typeof exerciseScenarioSchema>;

export const EXERCISE_STATES = ['scheduled', 'running', 'paused', 'completed', 'aborted'] as const;
export const exerciseStateSchema = z.enum(EXERCISE_STATES);
export type ExerciseState = z.infer<typeof exerciseStateSchema>;

/** The body of `POST /v1/exercises`. */
export const exerciseRunRequestSchema = z.strictObject({
  scenario: z.unknown(),
  /** Scenario time per real time: 60 plays an hour in a minute. */
  speed: z.number().int().min(1).max(600).default(1),
  /** Starts by itself then; without it, `POST /v1/exercises/:id/start` starts it. */
  startAt: z.iso.datetime({ offset: true }).optional(),
});

/** How one participant did on one expectation. */
export const expectationOutcomeSchema = z.strictObject({
  expectation: stepIdSchema,
  kind: z.enum(['acknowledge', 'publish-warning', 'report', 'triage']),
  participant: organisationIdSchema,
  status: z.enum(['met', 'late', 'missed', 'pending']),
  /** Scenario time from the anchor to the response (met or late); null otherwise. */
  takenMs: z.number().int().nonnegative().nullable(),
  /** When the deadline falls (real time); null while its anchor has not happened. */
  dueAt: z.iso.datetime({ offset: true }).nullable(),
  /** When the participant responded (real time), or null. */
  respondedAt: z.iso.datetime({ offset: true }).nullable(),
});
export type ExpectationOutcome = z.infer<typeof expectationOutcomeSchema>;

export const injectStatusSchema = z.strictObject({
  id: stepIdSchema,
  kind: z.enum(['report', 'warning', 'information-request']),
  /** Scenario offset. */
  at: scenarioDurationSchema,
  /** When it was sent (real time), null while it has not been. */
  sentAt: z.iso.datetime({ offset: true }).nullable(),
  /** What it made: the report's, warning's or alert's id, as they exist. */
  reportId: z.uuid().nullable().optional(),
  warningId: z.uuid().nullable().optional(),
  alertId: z.uuid().nullable().optional(),
});
export type InjectStatus = z.infer<typeof injectStatusSchema>;

/** `GET /v1/exercises/:id` for analysts and admins. */
export const exerciseRunViewSchema = z.strictObject({
  id: z.uuid(),
  scenario: z.strictObject({ id: z.string(), version: z.number().int(), title: bilingualSchema }),
  state: exerciseStateSchema,
  speed: z.number().int(),
  startAt: z.iso.datetime({ offset: true }).nullable(),
  startedAt: z.iso.datetime({ offset: true }).nullable(),
  endedAt: z.iso.datetime({ offset: true }).nullable(),
  /** Scenario time elapsed. */
  elapsedMs: z.number().int().nonnegative(),
  participants: z.array(organisationIdSchema),
  injects: z.array(injectStatusSchema),
  expectations: z.array(expectationOutcomeSchema),
});
export type ExerciseRunView = z.infer<typeof exerciseRunViewSchema>;

/** What a participant sees of a run: its own tasks, never the scoring. */
export const exerciseTaskViewSchema = z.strictObject({
  id: z.uuid(),
  scenario: z.strictObject({ id: z.string(), version: z.number().int(), title: bilingualSchema }),
  state: exerciseStateSchema,
  tasks: z.array(
    z.strictObject({
      inject: stepIdSchema,
      message: bilingualSchema,
      sentAt: z.iso.datetime({ offset: true }),
    }),
  ),
});
export type ExerciseTaskView = z.infer<typeof exerciseTaskViewSchema>;

/** A task sent to one participant: what its stream frame and its view of a run carry. */
export const exerciseTaskSchema = z.strictObject({
  runId: z.uuid(),
  scenario: z.strictObject({ id: z.string(), version: z.number().int(), title: bilingualSchema }),
  inject: stepIdSchema,
  message: bilingualSchema,
  sentAt: z.iso.datetime({ offset: true }),
});
export type ExerciseTask = z.infer<typeof exerciseTaskSchema>;

/**
 * An exercise event of the feed: the run as the control sees it (analysts:
 * its clock, injects and scoring), sent when any of it changes; or a task for
 * one participant, sent once with the inject. A participant never receives
 * the control's events, so what others do changes nothing it receives.
 */
export const exerciseEventSchema = z.discriminatedUnion('audience', [
  z.strictObject({ audience: z.literal('control'), run: exerciseRunViewSchema }),
  z.strictObject({
    audience: z.literal('participant'),
    organisationId: organisationIdSchema,
    task: exerciseTaskSchema,
  }),
]);
export type ExerciseEvent = z.infer<typeof exerciseEventSchema>;

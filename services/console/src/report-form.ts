// The report form's checks: the schema ingest applies (one truth, shared by
// both), each refusal turned into a catalogue message for the field it names.
// Pure, so what the form says is tested without a browser.
import {
  DETECTED_AT_MAX_AHEAD_MS,
  EARLIEST_DETECTED_AT,
  reportSubmissionSchema,
  type ReportSubmission,
} from '@renkei/schema';
import type { MessageKey } from './i18n.js';
import { readIndicatorLines, type ReadLine } from './indicators-input.js';

export interface ReportFormValues {
  title: string;
  description: string;
  category: string;
  severity: string;
  tlp: string;
  /** As a `datetime-local` input gives it: the reader's wall-clock time, no zone. */
  detectedAt: string;
  indicators: string;
  exercise: boolean;
}

export interface FieldMessage {
  key: MessageKey;
  params?: Record<string, string | number>;
  /** The checker's own words (English), for the hover text. */
  detail?: string;
}

export type ReportFormField =
  'title' | 'description' | 'detectedAt' | 'indicators' | 'category' | 'severity' | 'tlp';

export interface ReportFormCheck {
  lines: ReadLine[];
  errors: Partial<Record<ReportFormField, FieldMessage>>;
  /** What would be sent, when nothing is wrong. */
  submission: ReportSubmission | null;
}

/** The `datetime-local` value of an instant, in the reader's zone (seconds kept). */
export function localInputValue(at: number): string {
  const date = new Date(at);
  return new Date(at - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 19);
}

export function checkReportForm(values: ReportFormValues, now = Date.now()): ReportFormCheck {
  const lines = readIndicatorLines(values.indicators);
  const when = new Date(values.detectedAt);
  const candidate = {
    title: values.title,
    ...(values.description.trim() ? { description: values.description } : {}),
    category: values.category,
    severity: values.severity,
    tlp: values.tlp,
    detectedAt: Number.isNaN(when.getTime()) ? values.detectedAt : when.toISOString(),
    indicators: lines.map((line) =>
      'error' in line ? { type: 'domain', value: line.written } : { type: line.type, value: line.value },
    ),
    exercise: values.exercise,
  };
  const errors: ReportFormCheck['errors'] = {};
  const parsed = reportSubmissionSchema.safeParse(candidate);
  if (!parsed.success)
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0]) as ReportFormField;
      if (errors[field] || field === 'indicators') continue;
      if (field === 'title')
        errors.title =
          values.title.trim() === ''
            ? { key: 'validation.required' }
            : { key: 'validation.tooLong', params: { max: 200 }, detail: issue.message };
      else if (field === 'description')
        errors.description = { key: 'validation.tooLong', params: { max: 10_000 }, detail: issue.message };
      else if (field === 'detectedAt') {
        const at = when.getTime();
        errors.detectedAt = Number.isNaN(at)
          ? { key: 'validation.time' }
          : at > now + DETECTED_AT_MAX_AHEAD_MS
            ? { key: 'validation.future', detail: issue.message }
            : at < Date.parse(EARLIEST_DETECTED_AT)
              ? { key: 'validation.past', detail: issue.message }
              : { key: 'validation.time', detail: issue.message };
      } else errors[field] = { key: 'validation.required', detail: issue.message };
    }
  const bad = lines.find((line) => 'error' in line);
  if (bad && 'error' in bad) {
    const typed = /^([a-z0-9]+): /.exec(bad.error);
    errors.indicators = typed
      ? { key: 'validation.indicator', params: { line: bad.line, type: typed[1]! }, detail: bad.error }
      : { key: 'validation.indicatorUnknown', params: { line: bad.line }, detail: bad.error };
  }
  const submission =
    parsed.success && Object.keys(errors).length === 0 ? (parsed.data as ReportSubmission) : null;
  return { lines, errors, submission };
}

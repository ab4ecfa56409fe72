import type { MispImportResult } from '@renkei/misp';
import type { ImportAnswer, ImportedReportAnswer, ImportItemAnswer, ReportSubmission } from '@renkei/schema';
import { partKey, type StixImportResult } from '@renkei/stix';

/** Why a whole input is refused: the route answers 4xx naming `field`. */
export interface ImportRefusal {
  /** 400 (`RENKEI_INVALID_REQUEST`): the input is not what it should be; 422: nothing in it could be a report. */
  kind: 'invalid' | 'nothing-imported';
  fields: { field: string; message: string }[];
}

export interface PlannedReport {
  answer: ImportedReportAnswer;
  /** Present when the report is to be submitted: the answer's status comes from the submission. */
  submission?: ReportSubmission;
}

export type ImportPlan =
  | { ok: false; refusal: ImportRefusal }
  | {
      ok: true;
      format: ImportAnswer['format'];
      sourceId: string | null;
      reports: PlannedReport[];
      items: ImportItemAnswer[];
    };

/** What became of one submitted report. */
export type SubmittedOutcome = 'accepted' | 'already-accepted' | 'conflict' | 'too-large';

/** Fields listed in a 422; the full per-item story is in a 2xx answer only. */
const MAX_REFUSAL_FIELDS = 100;

/**
 * A STIX import result to what ingest submits and answers. A bundle with no
 * TLP marking at all is refused as a whole, naming the field: nothing is
 * ever given a TLP its author did not set.
 */
export function planStixImport(result: StixImportResult): ImportPlan {
  if (!result.ok) {
    const { field, message } = result.error;
    return { ok: false, refusal: { kind: 'invalid', fields: [{ field, message }] } };
  }
  const reports: PlannedReport[] = result.reports.map((report) => {
    const common = {
      source: report.source,
      notes: report.notes,
    };
    if (report.status === 'refused') {
      return {
        answer: {
          ...common,
          status: 'refused',
          id: null,
          tlp: null,
          indicators: 0,
          reason: report.reason,
        },
      };
    }
    return {
      answer: { ...common, ...acceptedAnswer(report.submission) },
      submission: report.submission,
    };
  });
  const items: ImportItemAnswer[] = result.objects.map((object) => {
    const base = { position: `objects[${object.index}]`, id: object.id, type: object.type };
    switch (object.status) {
      case 'mapped':
        return {
          ...base,
          status: 'mapped',
          reports: object.reports,
          indicators: object.indicators.length,
          ...(object.notes.length ? { notes: object.notes } : {}),
        };
      case 'context':
        return { ...base, status: 'context', notes: [object.detail] };
      case 'unmapped':
        return {
          ...base,
          status: 'unmapped',
          reason: object.reason,
          ...(object.notes.length ? { notes: object.notes } : {}),
        };
    }
  });
  const refusal = refusalOf(reports, items, {
    code: 'no-tlp-marking',
    field: 'object_marking_refs',
    message:
      'no object carries a TLP marking (a TLP 2.0 or 1.0 marking-definition in object_marking_refs), and Renkei ' +
      'never assumes one: declare the TLP of what is unmarked with ?tlp= (for example ?tlp=GREEN)',
  });
  if (refusal) return { ok: false, refusal };
  return { ok: true, format: 'stix-2.1', sourceId: result.bundleId, reports, items };
}

/** A MISP import result to what ingest submits and answers; an event without a usable `tlp:` tag is refused. */
export function planMispImport(result: MispImportResult): ImportPlan {
  if (!result.ok) {
    const { field, message } = result.error;
    return { ok: false, refusal: { kind: 'invalid', fields: [{ field, message }] } };
  }
  const source = { type: 'misp-event' as const, id: result.eventUuid };
  const { report } = result;
  if (report.status === 'refused' && report.reason.code !== 'invalid-report') {
    // Both no tag and an unknown `tlp:` tag are about the event's tags.
    return {
      ok: false,
      refusal: { kind: 'invalid', fields: [{ field: 'Event.Tag', message: report.reason.message }] },
    };
  }
  const planned: PlannedReport[] =
    report.status === 'refused'
      ? [
          {
            answer: {
              source,
              status: 'refused',
              id: null,
              tlp: null,
              indicators: 0,
              notes: report.notes,
              reason: report.reason,
            },
          },
        ]
      : report.submissions.map((submission) => ({
          answer: { source, notes: report.notes, ...acceptedAnswer(submission) },
          submission,
        }));
  const items: ImportItemAnswer[] = result.attributes.map((attribute) => {
    const base = {
      position: attribute.position,
      id: attribute.uuid,
      type: attribute.object ? `${attribute.object}/${attribute.type ?? '?'}` : attribute.type,
    };
    const notes = attribute.notes.length ? { notes: attribute.notes } : {};
    if (attribute.status !== 'mapped') {
      return { ...base, status: 'unmapped', reason: attribute.reason, ...notes };
    }
    const parts =
      report.status === 'ready'
        ? [...new Set(attribute.indicators.map((indicator) => report.partOf.get(partKey(indicator)) ?? 0))]
        : [0];
    return {
      ...base,
      status: 'mapped',
      reports: parts.sort((a, b) => a - b),
      indicators: attribute.indicators.length,
      ...notes,
    };
  });
  const refusal = refusalOf(planned, items);
  if (refusal) return { ok: false, refusal };
  return { ok: true, format: 'misp', sourceId: result.eventUuid, reports: planned, items };
}

/** What the answer says of a report to be submitted: its id, its part of its source, its labels. */
function acceptedAnswer(submission: ReportSubmission) {
  return {
    status: 'accepted' as const,
    id: submission.id ?? null,
    tlp: submission.tlp,
    indicators: submission.indicators.length,
    ...(submission.source
      ? { sourceRef: submission.source.id, part: submission.source.part, parts: submission.source.parts }
      : {}),
    ...(submission.labels?.length ? { labels: submission.labels } : {}),
  };
}

/**
 * Nothing to submit: a 400 when every report was refused for want of a TLP
 * (the field is named), else a 422 listing why each report and item failed.
 */
function refusalOf(
  reports: readonly PlannedReport[],
  items: readonly ImportItemAnswer[],
  noTlp?: { code: string; field: string; message: string },
): ImportRefusal | undefined {
  if (reports.some((report) => report.submission)) return undefined;
  if (
    noTlp &&
    reports.length > 0 &&
    reports.every((report) => report.answer.reason?.code === noTlp.code) &&
    items.every((item) => item.status !== 'mapped')
  ) {
    return { kind: 'invalid', fields: [{ field: noTlp.field, message: noTlp.message }] };
  }
  const fields = [
    ...reports.map((report, index) => ({
      field: `reports[${index}]`,
      message: report.answer.reason
        ? `${report.answer.reason.code}: ${report.answer.reason.message}`
        : 'no report',
    })),
    ...items
      .filter((item) => item.status === 'unmapped')
      .map((item) => ({
        field: item.position,
        message: `${item.reason!.code}: ${item.reason!.message}`,
      })),
  ];
  if (fields.length === 0) fields.push({ field: '(body)', message: 'holds nothing to import' });
  const shown = fields.slice(0, MAX_REFUSAL_FIELDS);
  if (fields.length > shown.length) {
    shown.push({ field: '(more)', message: `${fields.length - shown.length} more not listed` });
  }
  return { kind: 'nothing-imported', fields: shown };
}

/** The answer once every planned submission has an outcome (by position in `reports`). */
export function importAnswer(
  plan: Extract<ImportPlan, { ok: true }>,
  outcomes: ReadonlyMap<number, SubmittedOutcome>,
): ImportAnswer {
  const reports = plan.reports.map(({ answer, submission }, index) => {
    if (!submission) return answer;
    const outcome = outcomes.get(index);
    if (outcome === undefined) throw new Error(`report ${index} was submitted without an outcome`);
    if (outcome === 'conflict') {
      return {
        ...answer,
        status: 'conflict' as const,
        reason: {
          code: 'conflict',
          message: `report ${answer.id} was imported before with different content; change the container's modified time`,
        },
      };
    }
    if (outcome === 'too-large') {
      return {
        ...answer,
        status: 'refused' as const,
        id: null,
        reason: {
          code: 'too-large',
          message: 'the report is larger than one report may be once stored; split the container',
        },
      };
    }
    return { ...answer, status: outcome };
  });
  const count = (status: ImportItemAnswer['status']) => plan.items.filter((i) => i.status === status).length;
  return {
    format: plan.format,
    sourceId: plan.sourceId,
    reports,
    items: plan.items,
    summary: {
      items: plan.items.length,
      mapped: count('mapped'),
      context: count('context'),
      unmapped: count('unmapped'),
      reportsAccepted: reports.filter((r) => r.status === 'accepted' || r.status === 'already-accepted')
        .length,
      reportsRefused: reports.filter((r) => r.status === 'refused' || r.status === 'conflict').length,
    },
  };
}

import { z } from 'zod';
import { tlpSchema } from './vocabulary.js';

/**
 * What ingest answers to a STIX bundle or a MISP event: which reports were
 * made of it (and whether Kafka now holds each), and for every object or
 * attribute what became of it. Partial success is spelled out, never implied.
 */
export const IMPORT_REPORT_STATUSES = ['accepted', 'already-accepted', 'refused', 'conflict'] as const;

const reasonSchema = z.object({ code: z.string(), message: z.string() });

export const importedReportAnswerSchema = z.object({
  /** What the report was made of: a STIX container, the bundle as a whole, or the MISP event. */
  source: z.object({
    type: z.enum(['report', 'incident', 'grouping', 'bundle', 'misp-event']),
    id: z.string().nullable(),
  }),
  /**
   * `accepted`: Kafka holds it now; `already-accepted`: an earlier import of the same
   * source did; `refused`: not made (see `reason`); `conflict`: its id is taken by a
   * different report (the same container version imported with other content).
   */
  status: z.enum(IMPORT_REPORT_STATUSES),
  /** The Renkei report id (follow it with `GET /v1/reports/:id`); null when refused. */
  id: z.uuid().nullable(),
  tlp: tlpSchema.nullable(),
  indicators: z.number().int().min(0),
  notes: z.array(z.string()),
  reason: reasonSchema.optional(),
  /**
   * Links the reports of one source: the same `sourceRef` on every part and
   * every version of it (derived under the hub's key: nobody else can compute
   * it from the partner's ids), and which `part` of how many `parts` this is.
   */
  sourceRef: z.uuid().optional(),
  part: z.number().int().min(1).optional(),
  parts: z.number().int().min(1).optional(),
  /** Context kept with the report (threat actors, malware, MISP tags and galaxies…). */
  labels: z.array(z.string()).optional(),
});
export type ImportedReportAnswer = z.infer<typeof importedReportAnswerSchema>;

export const importItemAnswerSchema = z.object({
  /** Where it is in the input: `objects[12]`, `Attribute[3]`, `Object[1].Attribute[0]`. */
  position: z.string(),
  id: z.string().nullable(),
  type: z.string().nullable(),
  status: z.enum(['mapped', 'context', 'unmapped']),
  /** Positions in `reports` of the reports it went into (mapped items). */
  reports: z.array(z.number().int()).optional(),
  indicators: z.number().int().min(0).optional(),
  reason: reasonSchema.optional(),
  notes: z.array(z.string()).optional(),
});
export type ImportItemAnswer = z.infer<typeof importItemAnswerSchema>;

export const importAnswerSchema = z.object({
  format: z.enum(['stix-2.1', 'misp']),
  /** The bundle's id or the event's uuid (null when it has none). */
  sourceId: z.string().nullable(),
  reports: z.array(importedReportAnswerSchema),
  items: z.array(importItemAnswerSchema),
  summary: z.object({
    items: z.number().int(),
    mapped: z.number().int(),
    context: z.number().int(),
    unmapped: z.number().int(),
    reportsAccepted: z.number().int(),
    reportsRefused: z.number().int(),
  }),
});
export type ImportAnswer = z.infer<typeof importAnswerSchema>;

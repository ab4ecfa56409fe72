import type { Tlp, Indicator, ReportCategory, ReportSubmission, Severity } from '@renkei/schema';
import type { ImportIds } from '../ids.js';

export interface StixImportOptions {
  /** When the hub received the bundle: the report's `detectedAt` when the bundle holds no time at all. */
  receivedAt: string;
  /** STIX has no category; Renkei's own exports carry one as a `renkei:category=…` label. Default `other`. */
  category?: ReportCategory;
  /** Likewise (`renkei:severity=…`). Default `medium`. */
  severity?: Severity;
  /** Import as an exercise. A container labelled `exercise` is one whatever this says. */
  exercise?: boolean;
  /**
   * When given (the hub's import-id key and the submitting organisation's
   * id), each report gets an id derived from them and the container's id and
   * version, so importing the same bundle again gives the same ids and ingest
   * stores it once, while nobody without the hub's key can compute them.
   */
  ids?: ImportIds;
  /**
   * The TLP the sender declares for what carries no TLP marking (`?tlp=` on
   * the import): unmarked content takes it, marked content keeps its own
   * marking, and the stricter of the two wins where both apply. Without it,
   * unmarked content is refused: Renkei never assumes a TLP.
   */
  declaredTlp?: Tlp;
}

/** Why the whole input was refused (the route answers 400). */
export interface StixImportError {
  code:
    'invalid-json' | 'not-a-bundle' | 'too-many-objects' | 'invalid-bundle-id' | 'unsupported-spec-version';
  /** The field at fault, as the 400 names it: `id`, `type`, `objects`, or `(body)` for the whole. */
  field: string;
  message: string;
}

export type StixReasonCode =
  /** Not an object, no `type`, no `id`, or an id that does not name its type. */
  | 'invalid-object'
  /** An earlier version (older `modified`) or a repeat of an object with the same id. */
  | 'superseded'
  /** A type that carries nothing Renkei maps (malware, identity, relationship…). */
  | 'unsupported-type'
  | 'pattern-syntax'
  | 'unsupported-pattern'
  /** A value the report schema refuses (a 31-digit MD5, a network range as an address…). */
  | 'invalid-value'
  /** A mapped type that holds no indicator here (a vulnerability without a CVE id…). */
  | 'no-indicator'
  | 'revoked'
  /** No TLP marking on the object, nor on anything that brings it into a report. */
  | 'no-tlp-marking'
  /** A marking that is neither TLP nor a statement: it may restrict sharing in ways Renkei cannot honour. */
  | 'unknown-marking'
  /** The bundle has containers and none refers to this object. */
  | 'outside-container'
  /** Every report this object would go to was refused. */
  | 'report-refused'
  /** More references than an object may carry. */
  | 'too-large'
  /** The report built from a container does not pass the report schema (a guard: should not happen). */
  | 'invalid-report';

export interface StixReason {
  code: StixReasonCode;
  message: string;
}

export interface StixReportSource {
  /** `bundle` when the bundle has no container and becomes one report as a whole. */
  type: 'report' | 'incident' | 'grouping' | 'bundle';
  /** The container's id, or the bundle's (null for a TAXII envelope, which has none). */
  id: string | null;
}

export type StixImportedReport = {
  source: StixReportSource;
  /** Ids of the objects that brought indicators into the report. */
  objectIds: string[];
  /** What the reader should know: a TLP raised by an object, a cut description, missing references. */
  notes: string[];
} & ({ status: 'ready'; submission: ReportSubmission } | { status: 'refused'; reason: StixReason });

export type StixObjectOutcome = {
  /** Position in the bundle's `objects`. */
  index: number;
  id: string | null;
  type: string | null;
} & (
  | {
      status: 'mapped';
      /** Positions in `reports` of the ready reports it went into. */
      reports: number[];
      /** The indicators it brought into them (none for a container). */
      indicators: Indicator[];
      notes: string[];
    }
  /** Read to understand other objects: marking definitions, relationships that put objects in an incident. */
  | { status: 'context'; detail: string }
  | { status: 'unmapped'; reason: StixReason; notes: string[] }
);

export type StixImportResult =
  | { ok: false; error: StixImportError }
  | {
      ok: true;
      bundleId: string | null;
      reports: StixImportedReport[];
      objects: StixObjectOutcome[];
    };

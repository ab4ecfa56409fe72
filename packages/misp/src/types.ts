import type { Indicator, ReportCategory, ReportSubmission, Severity, Tlp } from '@renkei/schema';
import type { ImportIds } from '@renkei/stix/ids';

export interface MispImportOptions {
  /** When the hub received the event: what expiration sightings are compared with, and the fallback `detectedAt`. */
  receivedAt: string;
  /** MISP events have no category Renkei shares. Default `other`. */
  category?: ReportCategory;
  /** Used when the event's threat level is undefined (4) or absent. Default `medium`. */
  severity?: Severity;
  /** Import as an exercise. An event tagged `exercise` or `exercise:…` is one whatever this says. */
  exercise?: boolean;
  /** As for STIX: a report id derived under the hub's key from the scope and the event's uuid and timestamp. */
  ids?: ImportIds;
  /**
   * The TLP the sender declares for an event without a `tlp:` tag (a partner
   * feed's default TLP). A tag on the event or an attribute still wins where
   * it is stricter; an unknown `tlp:` tag is still refused.
   */
  declaredTlp?: Tlp;
}

export interface MispImportError {
  code: 'invalid-json' | 'not-an-event' | 'invalid-event' | 'too-many-attributes';
  /** The field at fault, as the 400 names it: `Event`, `Event.uuid`, `Event.Attribute`…, or `(body)`. */
  field: string;
  message: string;
}

export type MispReasonCode =
  /** Not an object, or no type or value. */
  | 'invalid-attribute'
  /** A type Renkei has no indicator for (filename, regkey, text, link…). */
  | 'unsupported-type'
  /** A value the report schema refuses, or a composite without its `|`. */
  | 'invalid-value'
  | 'deleted'
  /** Its author (or the event's) turned correlation off for it, and correlating is all Renkei does with indicators. */
  | 'correlation-disabled'
  /** Someone sighted it as a false positive. */
  | 'false-positive'
  /** An expiration sighting dated before the event reached the hub. */
  | 'expired'
  /** A `tlp:` tag that is none of the TLP 1.0 or 2.0 levels. */
  | 'unknown-tlp-tag'
  /** The event as a whole was refused. */
  | 'report-refused';

export interface MispReason {
  code: MispReasonCode;
  message: string;
}

export type MispReportRefusalCode = 'no-tlp-tag' | 'unknown-tlp-tag' | 'invalid-report';

export type MispAttributeOutcome = {
  /** Where it is: `Attribute[3]` or `Object[1].Attribute[0]`. */
  position: string;
  uuid: string | null;
  type: string | null;
  /** The MISP object it belongs to (`file`, `domain-ip`…), if any. */
  object: string | null;
} & (
  | { status: 'mapped'; indicators: Indicator[]; notes: string[] }
  | { status: 'unmapped'; reason: MispReason; notes: string[] }
);

export type MispImportedReport = { notes: string[] } & (
  | {
      status: 'ready';
      /** One report, or linked parts of one source when the event holds more than one report carries. */
      submissions: ReportSubmission[];
      /** The part (0-based) holding each indicator, by `partKey`. */
      partOf: Map<string, number>;
    }
  | { status: 'refused'; reason: { code: MispReportRefusalCode; message: string } }
);

export type MispImportResult =
  | { ok: false; error: MispImportError }
  | { ok: true; eventUuid: string; report: MispImportedReport; attributes: MispAttributeOutcome[] };

import {
  MAX_INDICATORS_PER_REPORT,
  MAX_LABEL_LENGTH,
  MAX_REPORT_LABELS,
  reportSubmissionSchema,
  type Indicator,
  type IndicatorType,
  type Severity,
  type Tlp,
} from '@renkei/schema';
import {
  addressIndicatorType,
  checkIndicator,
  clip,
  mostRestrictiveTlp,
  storableText,
} from '@renkei/stix/values';
import { reportParts, UNVERSIONED } from '@renkei/stix/ids';
import type {
  MispAttributeOutcome,
  MispImportOptions,
  MispImportResult,
  MispImportedReport,
  MispReason,
} from './types.js';

/** Attributes in one event, those inside objects included; above this the event is refused as a whole. */
export const MAX_MISP_ATTRIBUTES = 20_000;
const MAX_TITLE_LENGTH = 200;

type Part = IndicatorType | 'address' | { drop: string };

/**
 * What each mapped attribute type holds, part by part (`domain|ip` has two).
 * `address` means IPv4 or IPv6 by the value's syntax, as MISP's `ip-*` types
 * take both. Roles say which side of the traffic or mail the value was on.
 */
const TYPES: Readonly<Record<string, { parts: Part[]; role?: string }>> = {
  'ip-src': { parts: ['address'], role: 'source' },
  'ip-dst': { parts: ['address'], role: 'destination' },
  domain: { parts: ['domain'] },
  hostname: { parts: ['domain'] },
  url: { parts: ['url'] },
  'email-src': { parts: ['email'], role: 'source' },
  'email-dst': { parts: ['email'], role: 'destination' },
  md5: { parts: ['md5'] },
  sha1: { parts: ['sha1'] },
  sha256: { parts: ['sha256'] },
  vulnerability: { parts: ['cve'] },
  'domain|ip': { parts: ['domain', 'address'] },
  'ip-src|port': { parts: ['address', { drop: 'port' }], role: 'source' },
  'ip-dst|port': { parts: ['address', { drop: 'port' }], role: 'destination' },
  'hostname|port': { parts: ['domain', { drop: 'port' }] },
  'filename|md5': { parts: [{ drop: 'file name' }, 'md5'] },
  'filename|sha1': { parts: [{ drop: 'file name' }, 'sha1'] },
  'filename|sha256': { parts: [{ drop: 'file name' }, 'sha256'] },
};

const THREAT_LEVELS: Readonly<Record<string, Severity>> = { '1': 'high', '2': 'medium', '3': 'low' };

type Json = Record<string, unknown>;

interface Located {
  position: string;
  attribute: unknown;
  object: Json | null;
}

/**
 * A MISP event (`{"Event": {…}}`, parsed or as text) to one Renkei report
 * submission, and for every attribute, those inside objects too, what became
 * of it. Never throws for bad input.
 *
 * Sightings: an attribute anyone sighted as a false positive (type 1) is left
 * out, since correlating on it would link reports through a known mistake;
 * one with an expiration sighting (type 2) dated before `receivedAt` is left
 * out as expired (a later expiration is noted); ordinary sightings (type 0)
 * are noted.
 */
export function importMispEvent(input: unknown, options: MispImportOptions): MispImportResult {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      return {
        ok: false,
        error: { code: 'invalid-json', field: '(body)', message: `not JSON: ${(error as Error).message}` },
      };
    }
  }
  // Many tools export the event bare, without MISP's {"Event": …} wrapper; its fields tell it apart.
  const bare =
    isRecord(value) &&
    value.Event === undefined &&
    (Array.isArray(value.Attribute) || typeof value.info === 'string');
  if (!isRecord(value) || (!isRecord(value.Event) && !bare)) {
    return {
      ok: false,
      error: {
        code: 'not-an-event',
        field: 'Event',
        message: 'expected a MISP event: {"Event": {…}}, or the event itself (with `info` or `Attribute`)',
      },
    };
  }
  const event = (bare ? value : value.Event) as Record<string, unknown>;
  const malformed = checkShape(event);
  if (malformed !== undefined) return { ok: false, error: { code: 'invalid-event', ...malformed } };
  const eventUuid = event.uuid as string;
  const located = locate(event);
  if (located.length > MAX_MISP_ATTRIBUTES) {
    return {
      ok: false,
      error: {
        code: 'too-many-attributes',
        field: 'Event.Attribute',
        message: `the event holds ${located.length} attributes; at most ${MAX_MISP_ATTRIBUTES} are accepted at once`,
      },
    };
  }
  const receivedAt = Date.parse(options.receivedAt);
  const eventCorrelation = event.disable_correlation === true;

  const candidates: Array<{ index: number; indicators: Indicator[]; tlp: Tlp | undefined }> = [];
  const attributes: MispAttributeOutcome[] = located.map(({ position, attribute, object }, index) => {
    const base = {
      position,
      uuid: isRecord(attribute) && typeof attribute.uuid === 'string' ? attribute.uuid : null,
      type: isRecord(attribute) && typeof attribute.type === 'string' ? attribute.type : null,
      object: object && typeof object.name === 'string' ? object.name : null,
    };
    const unmapped = (
      code: MispReason['code'],
      message: string,
      notes: string[] = [],
    ): MispAttributeOutcome => ({
      ...base,
      status: 'unmapped',
      reason: { code, message },
      notes,
    });
    if (!isRecord(attribute)) return unmapped('invalid-attribute', 'not a JSON object');
    if (base.type === null) return unmapped('invalid-attribute', 'no type');
    if (typeof attribute.value !== 'string') return unmapped('invalid-attribute', 'no value (a string)');
    // Own keys only: an attribute type named `toString` or `constructor` is not a mapping.
    const mapping = Object.hasOwn(TYPES, base.type) ? TYPES[base.type] : undefined;
    if (mapping === undefined)
      return unmapped('unsupported-type', `MISP type ${base.type} has no Renkei indicator type`);
    if (attribute.deleted === true || object?.deleted === true) return unmapped('deleted', 'deleted in MISP');
    if (attribute.disable_correlation === true || eventCorrelation) {
      return unmapped('correlation-disabled', 'correlation is disabled for it in MISP');
    }
    const tags = tlpTags(attribute);
    if (tags.unknown.length) {
      return unmapped('unknown-tlp-tag', `${tags.unknown.join(', ')} is not a TLP level Renkei can honour`);
    }

    const notes: string[] = [];
    const sightings = Array.isArray(attribute.Sighting) ? attribute.Sighting.filter(isRecord) : [];
    const ofType = (type: string) => sightings.filter((sighting) => scalarText(sighting.type) === type);
    const falsePositives = ofType('1');
    if (falsePositives.length) {
      return unmapped(
        'false-positive',
        `sighted as a false positive ${falsePositives.length === 1 ? 'once' : `${falsePositives.length} times`}`,
      );
    }
    for (const expiration of ofType('2')) {
      const at = unixTime(expiration.date_sighting);
      if (at === undefined) continue;
      if (at <= receivedAt) return unmapped('expired', `expired on ${new Date(at).toISOString()}`);
      notes.push(`expires on ${new Date(at).toISOString()}`);
    }
    const seen = ofType('0').length;
    if (seen) notes.push(`sighted ${seen === 1 ? 'once' : `${seen} times`} in MISP`);

    const parts = mapping.parts.length === 1 ? [attribute.value] : splitComposite(attribute.value);
    if (parts.length !== mapping.parts.length) {
      return unmapped('invalid-value', `a ${base.type} value is two values joined by "|"`);
    }
    const indicators: Indicator[] = [];
    for (const [i, part] of mapping.parts.entries()) {
      const text = parts[i]!;
      if (typeof part === 'object') {
        if (text.trim())
          notes.push(`${part.drop} ${JSON.stringify(text.trim())} not mapped: Renkei has no such indicator`);
        continue;
      }
      const type = part === 'address' ? addressIndicatorType(text) : part;
      if (type === undefined)
        return unmapped('invalid-value', `"${clip(text.trim(), 80)}" is not an IPv4 or IPv6 address`, notes);
      let checked = checkIndicator(type, text, mapping.role);
      // MISP keeps `url` values as people paste them, often without a scheme (www.whitewall.top/a).
      if (!checked.ok && type === 'url' && !/^[a-z][a-z0-9+.-]*:/i.test(text.trim())) {
        const withScheme = checkIndicator(type, `http://${text.trim()}`, mapping.role);
        if (withScheme.ok) {
          checked = withScheme;
          notes.push(`no scheme: read as http://${clip(text.trim(), 80)}`);
        }
      }
      if (!checked.ok) return unmapped('invalid-value', checked.reason, notes);
      indicators.push(checked.indicator);
    }
    candidates.push({ index, indicators, tlp: tags.tlp });
    return { ...base, status: 'mapped', indicators, notes };
  });

  const report = buildReport();
  return { ok: true, eventUuid, report, attributes };

  function buildReport(): MispImportedReport {
    const notes: string[] = [];
    const tagged = tlpTags(event);
    const declared = tagged.tlp === undefined ? options.declaredTlp : undefined;
    const eventTags = { ...tagged, tlp: tagged.tlp ?? declared };
    const refusal =
      eventTags.unknown.length > 0
        ? ({
            code: 'unknown-tlp-tag',
            message: `${eventTags.unknown.join(', ')} is not a TLP level Renkei can honour`,
          } as const)
        : eventTags.tlp === undefined
          ? ({
              code: 'no-tlp-tag',
              message: 'the event has no tlp: tag, and Renkei never assumes one',
            } as const)
          : undefined;
    if (refusal !== undefined) {
      setBack('report-refused', `the event was refused: ${refusal.message}`, candidates);
      return { notes, status: 'refused', reason: refusal };
    }
    if (declared !== undefined)
      notes.push(`TLP ${declared} as the sender declared it: the event has no tlp: tag`);
    const tlp = mostRestrictiveTlp([eventTags.tlp, ...candidates.map((candidate) => candidate.tlp)])!;
    if (tlp !== eventTags.tlp) {
      const raiser = attributes[candidates.find((candidate) => candidate.tlp === tlp)!.index]!;
      notes.push(
        `TLP raised from ${eventTags.tlp} to ${tlp}: ${raiser.position} is tagged tlp:${tlp.toLowerCase()}`,
      );
    }
    // No cap: an event larger than one report is split into linked parts (reportParts).
    const admitted = new Map<string, Indicator>();
    for (const candidate of candidates) {
      for (const indicator of candidate.indicators) {
        if (!admitted.has(key(indicator))) admitted.set(key(indicator), indicator);
      }
    }

    const info = typeof event.info === 'string' ? storableText(event.info).trim() : '';
    if (info.length > MAX_TITLE_LENGTH) notes.push(`the title was cut to ${MAX_TITLE_LENGTH} characters`);
    const version = unixTime(event.timestamp);
    const labels = eventLabels(event);
    const parts = reportParts(
      {
        title: clip(info || `MISP event ${eventUuid}`, MAX_TITLE_LENGTH),
        category: options.category ?? 'other',
        severity: threatLevel(event.threat_level_id) ?? options.severity ?? 'medium',
        tlp,
        detectedAt: detectedAt(),
        exercise: options.exercise === true || tagNames(event).some((name) => /^exercise(:|$)/i.test(name)),
        ...(labels.length ? { labels } : {}),
      },
      [...admitted.values()],
      options.ids === undefined
        ? undefined
        : {
            ids: options.ids,
            // The event's uuid names it; its timestamp, which MISP moves on every edit, is the version.
            name: ['misp', eventUuid],
            version: version === undefined ? UNVERSIONED : new Date(version).toISOString(),
          },
    );
    if (parts.submissions.length > 1) {
      notes.push(
        `the event holds ${admitted.size} indicators, more than one report carries (${MAX_INDICATORS_PER_REPORT}): ` +
          `split into ${parts.submissions.length} linked reports sharing source.id`,
      );
    }
    for (const submission of parts.submissions) {
      const checked = reportSubmissionSchema.safeParse(submission);
      if (checked.success) continue;
      const issues = checked.error.issues
        .slice(0, 3)
        .map((issue) => `${issue.path.join('.') || '(report)'}: ${issue.message}`);
      setBack('report-refused', 'the event could not become a valid report', candidates);
      return { notes, status: 'refused', reason: { code: 'invalid-report', message: issues.join('; ') } };
    }
    return { notes, status: 'ready', submissions: parts.submissions, partOf: parts.partOf };
  }

  /** The event's own date (YYYY-MM-DD), else its timestamp, else when the hub received it. */
  function detectedAt(): string {
    if (typeof event.date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(event.date)) {
      const millis = Date.parse(`${event.date}T00:00:00Z`);
      if (Number.isFinite(millis)) return new Date(millis).toISOString();
    }
    const timestamp = unixTime(event.timestamp);
    return timestamp !== undefined ? new Date(timestamp).toISOString() : options.receivedAt;
  }

  function setBack(code: MispReason['code'], message: string, which: typeof candidates): void {
    for (const { index, indicators } of which) {
      const outcome = attributes[index]!;
      attributes[index] = {
        position: outcome.position,
        uuid: outcome.uuid,
        type: outcome.type,
        object: outcome.object,
        status: 'unmapped',
        reason: { code, message },
        notes: [
          ...outcome.notes,
          `it would bring: ${indicators.map((i) => `${i.type} ${i.value}`).join(', ')}`,
        ],
      };
    }
  }
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What makes an event unreadable as a whole, naming the field: its uuid
 * (every MISP event has one, and the report's id is derived from it), and
 * its lists that are not lists. Anything wrong inside one attribute is that
 * attribute's reason instead (and an entry of `Object` that is not an object
 * holds no attributes to speak of).
 */
function checkShape(event: Json): { field: string; message: string } | undefined {
  if (typeof event.uuid !== 'string' || !UUID.test(event.uuid)) {
    return {
      field: 'Event.uuid',
      message:
        event.uuid === undefined
          ? 'a MISP event needs its uuid'
          : typeof event.uuid === 'string'
            ? `${JSON.stringify(event.uuid.slice(0, 80))} is not a UUID`
            : `must be a UUID string (it is ${jsonKind(event.uuid)})`,
    };
  }
  for (const field of ['Attribute', 'Object', 'Tag', 'EventTag'] as const) {
    if (event[field] !== undefined && event[field] !== null && !Array.isArray(event[field])) {
      return { field: `Event.${field}`, message: `must be a list (it is ${jsonKind(event[field])})` };
    }
  }
  return undefined;
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Every attribute of the event, those of its objects after its own, with where each sits. */
function locate(event: Json): Located[] {
  const located: Located[] = [];
  if (Array.isArray(event.Attribute)) {
    event.Attribute.forEach((attribute: unknown, i) =>
      located.push({ position: `Attribute[${i}]`, attribute, object: null }),
    );
  }
  if (Array.isArray(event.Object)) {
    event.Object.forEach((object: unknown, o) => {
      if (!isRecord(object) || !Array.isArray(object.Attribute)) return;
      object.Attribute.forEach((attribute: unknown, i) =>
        located.push({ position: `Object[${o}].Attribute[${i}]`, attribute, object }),
      );
    });
  }
  return located;
}

/** Tag names in both shapes MISP writes: `Tag: [{name}]` and `EventTag: [{Tag: {name}}]`. */
/**
 * The event's context as labels: its tags other than TLP and exercise ones
 * (MISP galaxy tags included, `misp-galaxy:threat-actor="APT1"`), and the
 * clusters of its galaxies (`threat-actor:APT1`).
 */
function eventLabels(event: Json): string[] {
  const labels = new Set<string>();
  for (const name of tagNames(event)) {
    const plain = storableText(name).trim();
    if (!plain || /^tlp:/i.test(plain) || /^exercise(:|$)/i.test(plain)) continue;
    labels.add(clip(plain, MAX_LABEL_LENGTH));
  }
  const galaxies = Array.isArray(event.Galaxy) ? event.Galaxy.filter(isRecord) : [];
  for (const galaxy of galaxies) {
    const type =
      typeof galaxy.type === 'string'
        ? galaxy.type
        : typeof galaxy.name === 'string'
          ? galaxy.name
          : 'galaxy';
    const clusters = Array.isArray(galaxy.GalaxyCluster) ? galaxy.GalaxyCluster.filter(isRecord) : [];
    for (const cluster of clusters) {
      if (typeof cluster.value !== 'string' || !cluster.value.trim()) continue;
      labels.add(clip(storableText(`${type}:${cluster.value.trim()}`), MAX_LABEL_LENGTH));
    }
  }
  return [...labels].slice(0, MAX_REPORT_LABELS);
}

function tagNames(holder: Json): string[] {
  const names: string[] = [];
  if (Array.isArray(holder.Tag)) {
    for (const tag of holder.Tag) if (isRecord(tag) && typeof tag.name === 'string') names.push(tag.name);
  }
  for (const field of ['EventTag', 'AttributeTag']) {
    const list = holder[field];
    if (!Array.isArray(list)) continue;
    for (const item of list)
      if (isRecord(item) && isRecord(item.Tag) && typeof item.Tag.name === 'string')
        names.push(item.Tag.name);
  }
  return names;
}

const TLP_TAG_LEVELS: Readonly<Record<string, Tlp>> = {
  'tlp:white': 'CLEAR',
  'tlp:clear': 'CLEAR',
  'tlp:green': 'GREEN',
  'tlp:amber': 'AMBER',
  'tlp:amber+strict': 'AMBER+STRICT',
  'tlp:red': 'RED',
};

/** The most restrictive TLP among the `tlp:` tags, and those that are no TLP level (`tlp:ex:chr`, `tlp:unclear`). */
function tlpTags(holder: Json): { tlp: Tlp | undefined; unknown: string[] } {
  const levels: Tlp[] = [];
  const unknown: string[] = [];
  for (const name of tagNames(holder)) {
    const plain = name.trim().toLowerCase();
    if (!plain.startsWith('tlp:')) continue;
    const level = TLP_TAG_LEVELS[plain];
    if (level === undefined) unknown.push(name);
    else levels.push(level);
  }
  return { tlp: mostRestrictiveTlp(levels), unknown };
}

function splitComposite(value: string): string[] {
  const at = value.lastIndexOf('|');
  return at < 0 ? [value] : [value.slice(0, at), value.slice(at + 1)];
}

const MAX_UNIX_SECONDS = 8.64e12;

/** MISP writes times as Unix seconds, as a number or a string of digits. */
function unixTime(value: unknown): number | undefined {
  const seconds =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value)
        ? Number(value)
        : NaN;
  // Beyond ±8.64e15 ms a Date is invalid and toISOString throws.
  return Number.isFinite(seconds) && seconds > 0 && seconds <= MAX_UNIX_SECONDS ? seconds * 1000 : undefined;
}

function key(indicator: Indicator): string {
  return `${indicator.type}\u0000${indicator.value}`;
}

/**
 * A MISP field that may be written as a string or a number (`"1"` or `1`),
 * as text; anything else is no value. `String()` of an arbitrary object runs
 * its `toString`, which a hostile event can make throw.
 */
function scalarText(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

/** Own keys only: a `threat_level_id` of `"toString"` names no level. */
function threatLevel(value: unknown): Severity | undefined {
  const key = scalarText(value);
  return key !== undefined && Object.hasOwn(THREAT_LEVELS, key) ? THREAT_LEVELS[key] : undefined;
}

import {
  MAX_LABEL_LENGTH,
  MAX_REPORT_LABELS,
  REPORT_CATEGORIES,
  SEVERITIES,
  reportSubmissionSchema,
  type Indicator,
  type Tlp,
} from '@renkei/schema';
import { partKey, reportParts, UNVERSIONED, type ReportParts } from '../ids.js';
import { contentSha256Hex } from './digest.js';
import { MAX_DESCRIPTION_LENGTH, MAX_REFS_PER_OBJECT, MAX_TITLE_LENGTH } from '../limits.js';
import { clip, mostRestrictiveTlp, storableText } from '../values.js';
import { Extractor, MAPPED_TYPES, type Contribution } from './extract.js';
import {
  markingMeaning,
  objectMarkings,
  readBundle,
  timestampMillis,
  type Entry,
  type MarkingMeaning,
  type ObjectMarkings,
} from './read.js';
import type {
  StixImportOptions,
  StixImportResult,
  StixImportedReport,
  StixObjectOutcome,
  StixReason,
  StixReportSource,
} from './types.js';

const CONTAINER_TYPES = new Set(['report', 'incident', 'grouping']);

/** Objects whose name is context for people: kept as a label of the report, never correlated. */
const LABEL_TYPES = new Set([
  'threat-actor',
  'intrusion-set',
  'malware',
  'campaign',
  'attack-pattern',
  'tool',
]);

/** A report while the bundle is read: its parts once finished. */
type Draft = Omit<StixImportedReport, 'status' | 'submission' | 'reason'> &
  ({ status: 'ready'; parts: ReportParts } | { status: 'refused'; reason: StixReason });

/** How a sender of unmarked content says what TLP it has. */
const DECLARE =
  'declare one with `tlp` (`POST /v1/stix/bundles?tlp=GREEN`, `renkei import stix FILE --tlp GREEN`)';

/** What happened to one object across every report. */
interface Fate {
  reports: Set<number>;
  indicators: Map<string, Indicator>;
}

/**
 * A STIX 2.1 bundle (parsed, or as text) to Renkei report submissions: one
 * per `report`, `incident` or `grouping`, or one for the whole bundle when it
 * has none, and for every object what became of it. Never throws for bad
 * input: a bundle that cannot be read at all gives `ok: false` with an error
 * the route turns into a 400; anything else is answered per object.
 */
export function importStixBundle(input: unknown, options: StixImportOptions): StixImportResult {
  const read = readBundle(input);
  if (!read.ok) return read;
  const { bundleId, slots, byId } = read.bundle;
  const entries = [...byId.values()].sort((a, b) => a.index - b.index);
  if (
    options.ids !== undefined &&
    bundleId === null &&
    !entries.some((entry) => CONTAINER_TYPES.has(entry.type))
  ) {
    // Its one report would be named from the bundle's id, and it has none.
    return {
      ok: false,
      error: {
        code: 'invalid-bundle-id',
        field: 'id',
        message:
          'an envelope without report, incident or grouping becomes one report and needs a bundle id to name it',
      },
    };
  }

  const definitions = new Map<string, MarkingMeaning>();
  for (const entry of entries) {
    if (entry.type === 'marking-definition') definitions.set(entry.id, markingMeaning(entry.object));
  }
  const markingCache = new Map<string, ObjectMarkings>();
  const markingsOf = (entry: Entry): ObjectMarkings => {
    let markings = markingCache.get(entry.id);
    if (markings === undefined) {
      markings = objectMarkings(entry.object, definitions);
      markingCache.set(entry.id, markings);
    }
    return markings;
  };
  const extractor = new Extractor(byId, markingsOf);
  const declared = options.declaredTlp;
  const tlpOfPath = (path: readonly Entry[]): Tlp | undefined =>
    mostRestrictiveTlp(path.map((e) => markingsOf(e).tlp));

  const fates = new Map<string, Fate>();
  const setbacks = new Map<string, StixReason>();
  const members = new Set<string>();
  const reports: Draft[] = [];
  const related = relatedEntries(entries);
  const contextLabels = new Map<string, string>();
  const reportOfContainer = new Map<string, number>();

  /** Puts the contributions in report `index` and says which got in. */
  const admit = (index: number, contributions: readonly Contribution[]): Map<string, Indicator> => {
    const admitted = new Map<string, Indicator>();
    for (const { indicator, path } of contributions) {
      // No cap here: a report larger than one report may be is split into linked parts (reportParts).
      const key = partKey(indicator);
      if (!admitted.has(key)) admitted.set(key, indicator);
      for (const entry of path) {
        let fate = fates.get(entry.id);
        if (fate === undefined) {
          fate = { reports: new Set(), indicators: new Map() };
          fates.set(entry.id, fate);
        }
        fate.reports.add(index);
        fate.indicators.set(key, indicator);
      }
    }
    return admitted;
  };

  const containers = entries.filter((entry) => CONTAINER_TYPES.has(entry.type));
  const incidentLinks = incidentMembership(entries);

  for (const container of containers) {
    const index = reports.length;
    reportOfContainer.set(container.id, index);
    const source: StixReportSource = { type: container.type as StixReportSource['type'], id: container.id };
    const notes: string[] = [];
    const refs = containerRefs(container, incidentLinks.members.get(container.id) ?? []);
    if (!refs.ok) {
      reports.push({ source, objectIds: [], notes, status: 'refused', reason: refs.reason });
      continue;
    }
    const contributions: Contribution[] = [];
    const missing: string[] = [];
    for (const id of refs.ids) {
      const member = byId.get(id);
      if (member === undefined) {
        missing.push(id);
        continue;
      }
      members.add(id);
      if (CONTAINER_TYPES.has(member.type)) {
        notes.push(`${id} is a container of its own and becomes its own report`);
        continue;
      }
      if (!MAPPED_TYPES.has(member.type)) continue;
      const extraction = extractor.extract(member);
      if (!extraction.ok) continue;
      for (const contribution of extraction.contributions) {
        contribution.path.forEach((entry) => members.add(entry.id));
        contributions.push(contribution);
      }
    }
    if (missing.length) {
      notes.push(
        `${missing.length} referenced object${missing.length === 1 ? ' is' : 's are'} not in the bundle: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
      );
    }
    const markings = markingsOf(container);
    const refusal: StixReason | undefined = markings.unknown.length
      ? {
          code: 'unknown-marking',
          message: `it carries a marking Renkei cannot honour: ${markings.unknown.join('; ')}`,
        }
      : markings.tlp === undefined && declared === undefined
        ? {
            code: 'no-tlp-marking',
            message: `the ${container.type} carries no TLP marking, and Renkei never assumes one: ${DECLARE}`,
          }
        : undefined;
    if (refusal !== undefined) {
      for (const { path } of contributions) {
        setbacks.set(path[0]!.id, {
          code: 'report-refused',
          message: `${container.id} was refused: ${refusal.message}`,
        });
      }
      reports.push({ source, objectIds: [], notes, status: 'refused', reason: refusal });
      continue;
    }
    const containerTlp = markings.tlp ?? declared!;
    if (markings.tlp === undefined)
      notes.push(`TLP ${declared} as the sender declared it: the ${container.type} carries no marking`);
    const tlps = contributions.map(({ path }) => tlpOfPath(path));
    const tlp = mostRestrictiveTlp([containerTlp, ...tlps])!;
    if (tlp !== containerTlp) {
      const raiser = contributions[tlps.indexOf(tlp)]!.path.find((entry) => markingsOf(entry).tlp === tlp)!;
      notes.push(`TLP raised from ${containerTlp} to ${tlp}: ${raiser.id} is marked ${tlp}`);
    }
    const admitted = admit(index, contributions);
    reports.push(
      finish({
        index,
        source,
        container,
        tlp,
        admitted,
        contributions: contributionsIn(index, contributions),
        notes,
      }),
    );
  }

  if (containers.length === 0) {
    const index = 0;
    const source: StixReportSource = { type: 'bundle', id: bundleId };
    const covered: Contribution[] = [];
    let uncovered = 0;
    for (const entry of entries) {
      if (!MAPPED_TYPES.has(entry.type)) continue;
      const extraction = extractor.extract(entry);
      if (!extraction.ok) continue;
      for (const contribution of extraction.contributions) {
        if (tlpOfPath(contribution.path) === undefined && declared === undefined) {
          uncovered++;
          setbacks.set(contribution.path[0]!.id, {
            code: 'no-tlp-marking',
            message: `neither it nor anything that refers to it carries a TLP marking, and Renkei never assumes one: ${DECLARE}`,
          });
        } else {
          covered.push(contribution);
        }
      }
    }
    if (covered.length === 0) {
      const reason: StixReason = uncovered
        ? {
            code: 'no-tlp-marking',
            message: `no object in the bundle carries a TLP marking, and Renkei never assumes one: ${DECLARE}`,
          }
        : { code: 'no-indicator', message: 'the bundle holds nothing Renkei maps to an indicator' };
      reports.push({ source, objectIds: [], notes: [], status: 'refused', reason });
    } else {
      const tlp = mostRestrictiveTlp(covered.map(({ path }) => tlpOfPath(path) ?? declared))!;
      const notes = covered.some(({ path }) => tlpOfPath(path) === undefined)
        ? [`TLP ${declared} as the sender declared it for what carries no marking`]
        : [];
      const admitted = admit(index, covered);
      reports.push(
        finish({ index, source, tlp, admitted, contributions: contributionsIn(index, covered), notes }),
      );
    }
  }

  const { flat, partsOf } = flatten();
  // Reasons and notes quote the input; a TAXII add stores them in a jsonb status.
  return { ok: true, bundleId, reports: storableDeep(flat), objects: storableDeep(outcomes()) };

  /** Each ready report as its parts, in order; `partsOf` maps a draft's position to its parts' positions. */
  function flatten(): { flat: StixImportedReport[]; partsOf: Map<number, number[]> } {
    const flat: StixImportedReport[] = [];
    const partsOf = new Map<number, number[]>();
    reports.forEach((draft, index) => {
      if (draft.status === 'refused') {
        partsOf.set(index, []);
        flat.push({
          source: draft.source,
          objectIds: draft.objectIds,
          notes: draft.notes,
          status: 'refused',
          reason: draft.reason,
        });
        return;
      }
      const { submissions } = draft.parts;
      const positions: number[] = [];
      submissions.forEach((submission, n) => {
        positions.push(flat.length);
        const notes =
          submissions.length > 1
            ? [
                ...draft.notes,
                `part ${n + 1} of ${submissions.length}: the ${draft.source.type} holds more indicators than one report carries, so it is split into linked reports sharing source.id`,
              ]
            : draft.notes;
        flat.push({ source: draft.source, objectIds: draft.objectIds, notes, status: 'ready', submission });
      });
      partsOf.set(index, positions);
    });
    return { flat, partsOf };
  }

  /** The positions of the parts of draft `index` holding any of these indicators. */
  function partsHolding(index: number, indicators: Iterable<Indicator>): number[] {
    const draft = reports[index]!;
    const positions = partsOf.get(index) ?? [];
    if (draft.status !== 'ready') return [];
    const parts = new Set<number>();
    for (const indicator of indicators) {
      const part = draft.parts.partOf.get(partKey(indicator));
      if (part !== undefined) parts.add(positions[part]!);
    }
    return [...parts];
  }

  /** The names of the context objects a report is about, as labels (`threat-actor:APT1`). */
  function labelsFor(container: Entry | undefined, members: readonly Entry[]): string[] {
    const found = new Map<string, Entry>();
    const consider = (entry: Entry | undefined) => {
      if (entry !== undefined && LABEL_TYPES.has(entry.type)) found.set(entry.id, entry);
    };
    if (container === undefined) {
      entries.forEach(consider);
    } else {
      const refs = container.object.object_refs;
      if (Array.isArray(refs))
        for (const ref of refs.slice(0, MAX_REFS_PER_OBJECT))
          if (typeof ref === 'string') consider(byId.get(ref));
      for (const id of related.get(container.id) ?? []) consider(byId.get(id));
    }
    for (const member of members) for (const id of related.get(member.id) ?? []) consider(byId.get(id));
    const labels = new Set<string>();
    for (const entry of [...found.values()].sort((a, b) => a.index - b.index)) {
      const name = typeof entry.object.name === 'string' ? storableText(entry.object.name).trim() : '';
      if (!name) continue;
      const label = clip(`${entry.type}:${name}`, MAX_LABEL_LENGTH);
      labels.add(label);
      contextLabels.set(entry.id, label);
    }
    if (container !== undefined) {
      for (const label of labelsOf(container.object.labels)) {
        const text = storableText(label).trim();
        if (text && !text.startsWith('renkei:') && text !== 'exercise')
          labels.add(clip(text, MAX_LABEL_LENGTH));
      }
    }
    return [...labels].slice(0, MAX_REPORT_LABELS);
  }

  /** The contributions whose indicators made it into report `index`. */
  function contributionsIn(index: number, contributions: readonly Contribution[]): Contribution[] {
    return contributions.filter(({ path }) => fates.get(path[0]!.id)?.reports.has(index));
  }

  function finish(draft: {
    index: number;
    source: StixReportSource;
    container?: Entry;
    tlp: Tlp;
    admitted: Map<string, Indicator>;
    contributions: Contribution[];
    notes: string[];
  }): Draft {
    const { source, container, tlp, contributions, notes } = draft;
    const pathEntries = new Map<string, Entry>();
    for (const { path } of contributions) for (const entry of path) pathEntries.set(entry.id, entry);
    const members = [...pathEntries.values()].sort((a, b) => a.index - b.index);
    const objectIds = members.map((entry) => entry.id);

    const observed = members
      .map((entry) => {
        const extraction = extractor.extract(entry);
        return extraction.ok ? extraction.observedAt : undefined;
      })
      .filter((millis): millis is number => millis !== undefined);
    const created = members
      .map((entry) => timestampMillis(entry.object.created))
      .filter((millis): millis is number => millis !== undefined);
    const detected =
      minimum(observed) ??
      (container
        ? (timestampMillis(container.object.published) ?? timestampMillis(container.object.created))
        : undefined) ??
      minimum(created);

    const labels = container ? labelsOf(container.object.labels) : [];
    const name =
      container && typeof container.object.name === 'string'
        ? storableText(container.object.name).trim()
        : '';
    // Without a container the title names what it holds, not the bundle: a re-sent copy in
    // another bundle (or a TAXII envelope) is the same report, so it must have the same content.
    const fallback = container
      ? `STIX ${source.type} ${source.id}`
      : `STIX objects: ${members.length} without a report`;
    const title = clip(name || fallback, MAX_TITLE_LENGTH);
    if (name.length > MAX_TITLE_LENGTH) notes.push(`the title was cut to ${MAX_TITLE_LENGTH} characters`);
    let description: string | undefined;
    if (
      container &&
      typeof container.object.description === 'string' &&
      container.object.description.trim() !== ''
    ) {
      const text = storableText(container.object.description);
      description = clip(text, MAX_DESCRIPTION_LENGTH);
      if (text.length > MAX_DESCRIPTION_LENGTH)
        notes.push(`the description was cut to ${MAX_DESCRIPTION_LENGTH} characters`);
    }
    const context = labelsFor(container, members);
    const parts = reportParts(
      {
        title,
        ...(description !== undefined ? { description } : {}),
        category: labelled(labels, 'category', REPORT_CATEGORIES) ?? options.category ?? 'other',
        severity: labelled(labels, 'severity', SEVERITIES) ?? options.severity ?? 'medium',
        tlp,
        detectedAt: detected !== undefined ? new Date(detected).toISOString() : options.receivedAt,
        exercise:
          options.exercise === true ||
          labels.includes('exercise') ||
          labels.includes('renkei:exercise') ||
          container?.object.x_renkei_exercise === true,
        ...(context.length ? { labels: context } : {}),
      },
      [...draft.admitted.values()],
      options.ids === undefined ? undefined : { ids: options.ids, ...sourceNaming(container, members) },
    );
    for (const submission of parts.submissions) {
      const checked = reportSubmissionSchema.safeParse(submission);
      if (checked.success) continue;
      const issues = checked.error.issues
        .slice(0, 3)
        .map((issue) => `${issue.path.join('.') || '(report)'}: ${issue.message}`);
      const reason: StixReason = { code: 'invalid-report', message: issues.join('; ') };
      // What was admitted did not go in after all.
      for (const id of objectIds) {
        const fate = fates.get(id)!;
        fate.reports.delete(draft.index);
        if (fate.reports.size === 0) {
          fates.delete(id);
          setbacks.set(id, { code: 'report-refused', message: `the report was refused: ${reason.message}` });
        }
      }
      return { source, objectIds: [], notes, status: 'refused', reason };
    }
    return { source, objectIds, notes, status: 'ready', parts };
  }

  /**
   * What names a report's source: a container by its own id (so the same
   * container in a new bundle, as TAXII servers give every export, is the
   * same report) and its `modified` (a later one is a new version); a bundle
   * without a container by the ids of the objects it maps, never the
   * bundle's id, and their latest `modified`.
   */
  function sourceNaming(
    container: Entry | undefined,
    members: readonly Entry[],
  ): { name: string[]; version: string } {
    if (container !== undefined) {
      return {
        name: ['stix', container.id],
        version: isoTime(container.object.modified) ?? isoTime(container.object.created) ?? UNVERSIONED,
      };
    }
    const ids = members.map((entry) => entry.id).sort();
    const times = members
      .map((entry) => timestampMillis(entry.object.modified) ?? timestampMillis(entry.object.created))
      .filter((millis): millis is number => millis !== undefined);
    const latest = times.length ? new Date(Math.max(...times)).toISOString() : UNVERSIONED;
    return { name: ['stix-objects', contentSha256Hex(ids)], version: latest };
  }

  function outcomes(): StixObjectOutcome[] {
    return slots.map((slot): StixObjectOutcome => {
      if (!('entry' in slot)) {
        return {
          index: slot.index,
          id: slot.id,
          type: slot.type,
          status: 'unmapped',
          reason: slot.reason,
          notes: [],
        };
      }
      const { entry } = slot;
      const base = { index: entry.index, id: entry.id, type: entry.type };
      if (entry.type === 'marking-definition') {
        const meaning = definitions.get(entry.id)!;
        if (meaning.kind === 'unknown') {
          return {
            ...base,
            status: 'unmapped',
            reason: {
              code: 'unknown-marking',
              message: `${meaning.why}; objects carrying it are not mapped`,
            },
            notes: [],
          };
        }
        return {
          ...base,
          status: 'context',
          detail:
            meaning.kind === 'tlp'
              ? `TLP:${meaning.tlp} marking`
              : 'statement marking: not a sharing restriction',
        };
      }
      if (CONTAINER_TYPES.has(entry.type)) {
        const report = reports[reportOfContainer.get(entry.id)!]!;
        return report.status === 'ready'
          ? {
              ...base,
              status: 'mapped',
              reports: partsOf.get(reportOfContainer.get(entry.id)!) ?? [],
              indicators: [],
              notes: report.notes,
            }
          : { ...base, status: 'unmapped', reason: report.reason, notes: report.notes };
      }
      const link = incidentLinks.links.get(entry.id);
      if (link !== undefined) return { ...base, status: 'context', detail: link };
      const label = contextLabels.get(entry.id);
      if (label !== undefined)
        return { ...base, status: 'context', detail: `kept as the label "${label}" of its report` };
      const extraction = extractor.extract(entry);
      const notes = extraction.notes;
      const fate = fates.get(entry.id);
      if (fate !== undefined) {
        return {
          ...base,
          status: 'mapped',
          reports: [
            ...new Set([...fate.reports].flatMap((index) => partsHolding(index, fate.indicators.values()))),
          ].sort((a, b) => a - b),
          indicators: [...fate.indicators.values()],
          notes,
        };
      }
      if (!extraction.ok) return { ...base, status: 'unmapped', reason: extraction.reason, notes };
      const setback = setbacks.get(entry.id);
      if (setback !== undefined) {
        const would = extraction.contributions.map(({ indicator }) => `${indicator.type} ${indicator.value}`);
        const list = [...new Set(would)].slice(0, 10).join(', ');
        return { ...base, status: 'unmapped', reason: setback, notes: [...notes, `it would bring: ${list}`] };
      }
      if (containers.length > 0 && !members.has(entry.id)) {
        return {
          ...base,
          status: 'unmapped',
          reason: {
            code: 'outside-container',
            message: 'no report, incident or grouping in the bundle refers to it',
          },
          notes,
        };
      }
      return {
        ...base,
        status: 'unmapped',
        reason: {
          code: 'no-indicator',
          message: 'no report took its indicators',
        },
        notes,
      };
    });
  }
}

/** For each object, the objects a relationship links it with (either end). */
function relatedEntries(entries: readonly Entry[]): Map<string, string[]> {
  const related = new Map<string, string[]>();
  const link = (from: string, to: string) => {
    const list = related.get(from) ?? [];
    list.push(to);
    related.set(from, list);
  };
  for (const entry of entries) {
    const { source_ref: sourceRef, target_ref: targetRef } = entry.object;
    if (entry.type !== 'relationship' || typeof sourceRef !== 'string' || typeof targetRef !== 'string')
      continue;
    link(sourceRef, targetRef);
    link(targetRef, sourceRef);
  }
  return related;
}

/** The ids a container puts in its report. */
function containerRefs(
  container: Entry,
  linked: readonly string[],
): { ok: true; ids: string[] } | { ok: false; reason: StixReason } {
  const refs = container.object.object_refs;
  // STIX 2.1 incidents have no object_refs; their objects come from relationships and sightings.
  if (refs === undefined && container.type === 'incident') return { ok: true, ids: [...new Set(linked)] };
  if (!Array.isArray(refs) || !refs.every((ref) => typeof ref === 'string')) {
    return {
      ok: false,
      reason: { code: 'invalid-object', message: `a ${container.type} needs object_refs, a list of ids` },
    };
  }
  if (refs.length > MAX_REFS_PER_OBJECT) {
    return {
      ok: false,
      reason: {
        code: 'too-large',
        message: `object_refs lists ${refs.length} ids; at most ${MAX_REFS_PER_OBJECT} are read`,
      },
    };
  }
  return { ok: true, ids: [...new Set([...(refs as string[]), ...linked])] };
}

/**
 * What relationships and sightings put in each incident: the other end of a
 * relationship to or from it, and a sighting of it. The relationships used so
 * are context rather than unmapped.
 */
function incidentMembership(entries: readonly Entry[]): {
  members: Map<string, string[]>;
  links: Map<string, string>;
} {
  const incidents = new Set(entries.filter((entry) => entry.type === 'incident').map((entry) => entry.id));
  const members = new Map<string, string[]>();
  const links = new Map<string, string>();
  const add = (incident: string, member: string) => {
    const list = members.get(incident) ?? [];
    list.push(member);
    members.set(incident, list);
  };
  if (incidents.size === 0) return { members, links };
  for (const entry of entries) {
    const { source_ref: sourceRef, target_ref: targetRef, sighting_of_ref: sightingOf } = entry.object;
    if (entry.type === 'relationship' && typeof sourceRef === 'string' && typeof targetRef === 'string') {
      if (incidents.has(targetRef)) {
        add(targetRef, sourceRef);
        links.set(entry.id, `puts ${sourceRef} in ${targetRef}`);
      } else if (incidents.has(sourceRef)) {
        add(sourceRef, targetRef);
        links.set(entry.id, `puts ${targetRef} in ${sourceRef}`);
      }
    } else if (entry.type === 'sighting' && typeof sightingOf === 'string' && incidents.has(sightingOf)) {
      add(sightingOf, entry.id);
    }
  }
  return { members, links };
}

/** Every string within made storable (NUL and unpaired surrogates become U+FFFD). */
function storableDeep<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) return value.map(storableDeep) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, storableDeep(item)])) as T;
  }
  return value;
}

function labelsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((label): label is string => typeof label === 'string') : [];
}

/** A `renkei:<key>=<value>` label (what Renkei's own exports write), if its value is one of `allowed`. */
function labelled<T extends string>(
  labels: readonly string[],
  key: string,
  allowed: readonly T[],
): T | undefined {
  const prefix = `renkei:${key}=`;
  const label = labels.find((candidate) => candidate.startsWith(prefix));
  const value = label?.slice(prefix.length);
  return allowed.includes(value as T) ? (value as T) : undefined;
}

function isoTime(value: unknown): string | undefined {
  const millis = timestampMillis(value);
  return millis === undefined ? undefined : new Date(millis).toISOString();
}

function minimum(values: readonly number[]): number | undefined {
  let result: number | undefined;
  for (const value of values) if (result === undefined || value < result) result = value;
  return result;
}

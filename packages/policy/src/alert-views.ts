import {
  SEVERITIES,
  TLP_LEVELS,
  type AlertContribution,
  type AlertIndicator,
  type AlertRecord,
  type AlertView,
  type Severity,
  type Tlp,
} from '@renkei/schema';
import { describeView } from './describe.js';
import { VIEW_RULES, type ViewRules } from './view-rules.js';

/** Labels whose reports every member organisation may read. */
export const TLP_SHARED_WITH_EVERYONE: readonly Tlp[] = ['CLEAR', 'GREEN'];

/**
 * How much a viewer may know of one contribution:
 * - `own`: its organisation's report, whatever its TLP;
 * - `shared`: CLEAR or GREEN, readable by every member;
 * - `counted`: AMBER, and the viewer reported one of its indicators: it counts
 *   as "reported elsewhere" and tells nothing else;
 * - `hidden`: anything else (AMBER+STRICT, RED, AMBER without a common indicator).
 */
type Knowledge = 'own' | 'shared' | 'counted' | 'hidden';

interface Known {
  contribution: AlertContribution;
  knowledge: Exclude<Knowledge, 'hidden'>;
  /** The indicator keys the viewer may know this contribution carries. */
  indicatorKeys: Set<string>;
}

/** What a view says, without its version and times: two equal contents are the same view. */
export type ViewContent = Omit<AlertView, 'id' | 'version' | 'createdAt' | 'updatedAt'>;

const keyOf = (indicator: Pick<AlertIndicator, 'type' | 'value'>) =>
  `${indicator.type}\u0000${indicator.value}`;

function mostRestrictive(levels: readonly Tlp[]): Tlp {
  return levels.reduce((a, b) => (TLP_LEVELS.indexOf(b) > TLP_LEVELS.indexOf(a) ? b : a));
}

function highest(severities: readonly Severity[]): Severity {
  return severities.reduce((a, b) => (SEVERITIES.indexOf(b) > SEVERITIES.indexOf(a) ? b : a));
}

/** For each report whose TLP was tightened, its changes in version order. */
const tlpChangesOf = new WeakMap<AlertRecord, Map<string, { version: number; previousTlp: Tlp }[]>>();

function tlpChanges(record: AlertRecord): Map<string, { version: number; previousTlp: Tlp }[]> {
  let changes = tlpChangesOf.get(record);
  if (!changes) {
    changes = new Map();
    for (const change of [...record.history].sort((a, b) => a.version - b.version)) {
      if (change.change !== 'tlp' || !change.reportId || !change.previousTlp) continue;
      const list = changes.get(change.reportId) ?? [];
      list.push({ version: change.version, previousTlp: change.previousTlp });
      changes.set(change.reportId, list);
    }
    tlpChangesOf.set(record, changes);
  }
  return changes;
}

/**
 * The contributions as they were at a version of the record: those added by
 * then, each with the TLP it had then (`tlp` history entries say what a
 * tightening replaced).
 */
export function contributionsAt(record: AlertRecord, version: number): AlertContribution[] {
  const changes = tlpChanges(record);
  return record.contributions
    .filter((contribution) => contribution.addedInVersion <= version)
    .map((contribution) => {
      const laterChange = changes.get(contribution.reportId)?.find((change) => change.version > version);
      return laterChange ? { ...contribution, tlp: laterChange.previousTlp } : contribution;
    });
}

function classify(organisationId: string, contributions: readonly AlertContribution[]): Known[] {
  const ownKeys = new Set(
    contributions
      .filter((contribution) => contribution.organisationId === organisationId)
      .flatMap((contribution) => contribution.indicators.map(keyOf)),
  );
  return contributions.flatMap((contribution): Known[] => {
    const keys = contribution.indicators.map(keyOf);
    if (contribution.organisationId === organisationId) {
      return [{ contribution, knowledge: 'own', indicatorKeys: new Set(keys) }];
    }
    if (TLP_SHARED_WITH_EVERYONE.includes(contribution.tlp)) {
      return [{ contribution, knowledge: 'shared', indicatorKeys: new Set(keys) }];
    }
    if (contribution.tlp === 'AMBER') {
      const common = keys.filter((key) => ownKeys.has(key));
      if (common.length > 0) return [{ contribution, knowledge: 'counted', indicatorKeys: new Set(common) }];
    }
    return [];
  });
}

const parsedTimes = new Map<string, number>();
/** Date.parse, remembered: the same few timestamps are compared over and over in a replay. */
function timeOf(iso: string): number {
  let time = parsedTimes.get(iso);
  if (time === undefined) {
    if (parsedTimes.size > 10_000) parsedTimes.clear();
    parsedTimes.set(iso, (time = Date.parse(iso)));
  }
  return time;
}
const detectedAt = (known: Known) => timeOf(known.contribution.detectedAt);

/** Two contributions of different organisations, detected within the window of each other, that `also` holds for. */
function somePair(known: readonly Known[], rules: ViewRules, also: (a: Known, b: Known) => boolean): boolean {
  for (const [index, a] of known.entries()) {
    for (const b of known.slice(index + 1)) {
      if (a.contribution.organisationId === b.contribution.organisationId) continue;
      if (Math.abs(detectedAt(a) - detectedAt(b)) > rules.correlationWindowMs) continue;
      if (also(a, b)) return true;
    }
  }
  return false;
}

function sharedKeyCount(a: Known, b: Known): number {
  let count = 0;
  for (const key of a.indicatorKeys) if (b.indicatorKeys.has(key)) count += 1;
  return count;
}

/** Whether the contributions the viewer may know of would raise this kind of alert on their own. */
function raisesOnItsOwn(kind: AlertRecord['kind'], known: readonly Known[], rules: ViewRules): boolean {
  switch (kind) {
    case 'shared-indicator':
      return somePair(known, rules, (a, b) => sharedKeyCount(a, b) >= 1);
    case 'campaign':
      return somePair(known, rules, (a, b) => sharedKeyCount(a, b) >= rules.campaignMinimumSharedIndicators);
    case 'sector-surge': {
      const readable = known.filter((entry) => entry.knowledge !== 'counted');
      if (!readable.some((entry) => entry.knowledge === 'shared')) return false;
      const times = readable.map(detectedAt).sort((a, b) => a - b);
      return times.some((start, index) => {
        const end = times[index + rules.surgeMinimumReports - 1];
        return end !== undefined && end - start <= rules.surgeWindowMs;
      });
    }
    case 'watchlist-match':
      // The watchlist is the GSOC's own list: a match tells others what the GSOC watches.
      return false;
  }
}

/** A non-analyst's view of the record as it was at `version`, without version and times; null when none. */
export function contentAt(
  organisationId: string,
  record: AlertRecord,
  version: number,
  rules: ViewRules = VIEW_RULES,
): ViewContent | null {
  return contentOf(record, classify(organisationId, contributionsAt(record, version)), rules);
}

/** What a viewer's knowledge of a version makes its view: the same knowledge, the same view. */
function knowledgeKey(known: readonly Known[]): string {
  return known
    .map((entry) => `${entry.contribution.reportId}/${entry.knowledge}/${entry.contribution.tlp}`)
    .join(' ');
}

function contentOf(record: AlertRecord, known: readonly Known[], rules: ViewRules): ViewContent | null {
  if (!raisesOnItsOwn(record.kind, known, rules)) return null;

  const readable = known.filter((entry) => entry.knowledge !== 'counted');
  const organisations = new Set(known.map((entry) => entry.contribution.organisationId));
  const readableOrganisations = new Set(readable.map((entry) => entry.contribution.organisationId));
  const indicators = record.indicators.filter((indicator) => {
    const key = keyOf(indicator);
    if (record.kind === 'sector-surge') return readable.some((entry) => entry.indicatorKeys.has(key));
    // An indicator of a correlation is news only when two organisations the viewer knows of carry it.
    const carriers = new Set(
      known.filter((entry) => entry.indicatorKeys.has(key)).map((entry) => entry.contribution.organisationId),
    );
    return carriers.size >= 2;
  });
  const sectors = [...new Set(readable.map((entry) => entry.contribution.sector))].sort();
  const detected = readable
    .map((entry) => entry.contribution.detectedAt)
    .sort((a, b) => timeOf(a) - timeOf(b));
  const { title, reasons } = describeView({
    kind: record.kind,
    exercise: record.exercise,
    indicators,
    organisationCount: organisations.size,
    countedOnly: [...organisations].filter((id) => !readableOrganisations.has(id)).length,
    sectors,
    reportCount: readable.length,
    categories: [...new Set(readable.map((entry) => entry.contribution.category))].sort(),
    firstDetectedAt: detected[0]!,
    lastDetectedAt: detected.at(-1)!,
  });
  return {
    kind: record.kind,
    severity: highest(readable.map((entry) => entry.contribution.severity)),
    tlp: mostRestrictive(known.map((entry) => entry.contribution.tlp)),
    title,
    reasons,
    indicators,
    sectors,
    organisationCount: organisations.size,
    reportIds: known.filter((entry) => entry.knowledge === 'own').map((entry) => entry.contribution.reportId),
    // Related alerts may rest on reports this viewer may not know of.
    relatedAlertIds: [],
    tooCommon: organisations.size > rules.tooCommonOrganisations,
    exercise: record.exercise,
  };
}

/** When a version of the record was made. */
function versionTime(record: AlertRecord, version: number): string {
  const entry = record.history.find((change) => change.version === version);
  if (entry) return entry.at;
  return version === record.version ? record.updatedAt : record.createdAt;
}

export interface ViewerHistory {
  /** The view now, or null. */
  content: ViewContent | null;
  /** How many versions changed what the viewer sees. */
  versions: number;
  /** The record version that last changed it (null when the viewer sees nothing). */
  lastChangedIn: number | null;
  createdAt: string | null;
  updatedAt: string | null;
}

/**
 * Replays the record's versions as one organisation would have seen them:
 * a version counts only when it changed that organisation's view, and the
 * view's times are those of such versions, so nothing the viewer may not
 * know of shows, not even as timing.
 */
export function historyFor(
  organisationId: string,
  record: AlertRecord,
  rules: ViewRules = VIEW_RULES,
): ViewerHistory {
  // The stream asks once per audience and a list twice per row, about the same record
  // object: viewers of one organisation share the answer. Records are never changed in place.
  if (rules !== VIEW_RULES) return replay(organisationId, record, rules);
  let byOrganisation = histories.get(record);
  if (!byOrganisation) histories.set(record, (byOrganisation = new Map()));
  let history = byOrganisation.get(organisationId);
  if (!history) byOrganisation.set(organisationId, (history = replay(organisationId, record, rules)));
  return history;
}

const histories = new WeakMap<AlertRecord, Map<string, ViewerHistory>>();

function replay(organisationId: string, record: AlertRecord, rules: ViewRules): ViewerHistory {
  let previous: string | null = null;
  let content: ViewContent | null = null;
  let versions = 0;
  let lastChangedIn: number | null = null;
  let createdAt: string | null = null;
  let updatedAt: string | null = null;
  let previousKnowledge: string | undefined;
  for (let version = 1; version <= record.version; version += 1) {
    const known = classify(organisationId, contributionsAt(record, version));
    // A version that added only reports this viewer may not know of changes nothing for it.
    const knowledge = knowledgeKey(known);
    if (knowledge === previousKnowledge) continue;
    previousKnowledge = knowledge;
    content = contentOf(record, known, rules);
    const serialised = content === null ? null : JSON.stringify(content);
    if (serialised !== null && serialised !== previous) {
      versions += 1;
      lastChangedIn = version;
      updatedAt = versionTime(record, version);
      createdAt ??= updatedAt;
    }
    previous = serialised;
  }
  return content === null
    ? { content, versions, lastChangedIn: null, createdAt: null, updatedAt: null }
    : { content, versions, lastChangedIn, createdAt, updatedAt };
}

/**
 * The reports of the record that one organisation may know of at some version
 * (its own, CLEAR and GREEN ones, AMBER ones it counts): every other report
 * must change nothing it observes. The differential leak test
 * (`test/support/leak`) removes the rest and compares.
 */
export function knownReportIds(organisationId: string, record: AlertRecord): Set<string> {
  const known = new Set<string>();
  for (let version = 1; version <= record.version; version += 1) {
    for (const entry of classify(organisationId, contributionsAt(record, version)))
      known.add(entry.contribution.reportId);
  }
  return known;
}

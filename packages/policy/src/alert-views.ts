import {
  decodeAlertPairs,
  SEVERITIES,
  TLP_LEVELS,
  type AlertContribution,
  type AlertIndicator,
  type AlertRecord,
  type AlertView,
  type Severity,
  type Tlp,
} from '@renkei/schema';
import { describeView, describeViewText, type ViewFacts } from './describe.js';
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

/**
 * An indicator as the correlator keys it (`indicatorKey` of @renkei/indicators):
 * a campaign is named by the smallest, in this form, of the indicators a pair shares.
 */
const correlatorKey = (indicator: Pick<AlertIndicator, 'type' | 'value'>) =>
  `${indicator.type}:${indicator.value}`;

const recordedKeys = new WeakMap<AlertContribution, Set<string>>();
/** The indicators the record lists for a contribution, whoever put them there. */
function recorded(contribution: AlertContribution): Set<string> {
  let keys = recordedKeys.get(contribution);
  if (!keys) recordedKeys.set(contribution, (keys = new Set(contribution.indicators.map(keyOf))));
  return keys;
}

/**
 * The indicator a campaign record is keyed on: every indicator the correlator
 * lists for a campaign is one a pair shares whose smallest shared indicator is
 * the key, so the key is the smallest listed. It names the record, which a
 * viewer sees only if the campaign forms from what it may know of.
 */
function campaignAnchor(record: AlertRecord): string | undefined {
  let anchor: { key: string; indicator: AlertIndicator } | undefined;
  for (const contribution of record.contributions) {
    for (const indicator of contribution.indicators) {
      const key = correlatorKey(indicator);
      if (!anchor || key < anchor.key) anchor = { key, indicator };
    }
  }
  return anchor && keyOf(anchor.indicator);
}

/** The indicators the two contributions both list, in the correlator's order. */
function sharedRecorded(a: AlertContribution, b: AlertContribution): string[] {
  const theirs = recorded(b);
  return a.indicators
    .filter((indicator) => theirs.has(keyOf(indicator)))
    .sort((x, y) => (correlatorKey(x) < correlatorKey(y) ? -1 : 1))
    .map(keyOf);
}

/**
 * The contributions the correlator would have put in this alert had it seen
 * only `known`, each with the indicators it would have recorded: a report
 * joins a shared-indicator or campaign alert through a pair with a report of
 * another organisation, so one that joined only by pairing with a report the
 * viewer may not know of is left out, and so are the indicators only such a
 * pair put on it. A campaign holds only the pairs the correlator filed under
 * it: two of its reports that share an indicator smaller than its key are
 * paired under another campaign (the record lists its pairs; older records
 * are judged by the indicators they list). Indicators are compared as the
 * record lists them, which for a pair the correlator made is exactly what the
 * two share.
 */
function pairMembers(
  kind: 'shared-indicator' | 'campaign',
  record: AlertRecord,
  known: readonly Known[],
  rules: ViewRules,
  carry: PairCarry = { knowledge: new Map(), keys: new Map() },
): Map<Known, Set<string>> {
  if (kind === 'shared-indicator') {
    const alone = pairedOnOneIndicator(known, rules);
    if (alone) return alone;
  }
  const pairs = pairsOf(kind, record, rules);
  const present = new Map(known.map((entry) => [entry.contribution.reportId, fingerprint(entry)]));
  const extendsCarry = [...carry.knowledge].every(([id, was]) => present.get(id) === was);
  if (!extendsCarry) {
    carry.knowledge.clear();
    carry.keys.clear();
  }
  for (const entry of known) {
    const id = entry.contribution.reportId;
    if (carry.knowledge.has(id)) continue;
    for (const { partner, shared } of pairs.get(id) ?? []) {
      if (!present.has(partner)) continue;
      for (const one of [id, partner]) {
        const keys = carry.keys.get(one) ?? new Set<string>();
        for (const key of shared) keys.add(key);
        carry.keys.set(one, keys);
      }
    }
    carry.knowledge.set(id, present.get(id)!);
  }
  const members = new Map<Known, Set<string>>();
  for (const entry of known) {
    const keys = carry.keys.get(entry.contribution.reportId);
    if (keys) members.set(entry, keys);
  }
  return members;
}

/**
 * The pairs among the contributions a viewer knew of at the previous version
 * of a replay. Versions mostly only add reports, so only the pairs of the
 * added ones are new; when a report's knowledge changed (a TLP tightening)
 * the carry starts again.
 */
interface PairCarry {
  /** Report id → what the viewer knew of it (`fingerprint`). */
  knowledge: Map<string, string>;
  /** Report id → the indicators its pairs with those reports share. */
  keys: Map<string, Set<string>>;
}

const fingerprint = (entry: Known) => `${entry.knowledge}/${entry.contribution.tlp}`;

interface Pair {
  /** The other report's id: `contributionsAt` gives copies where a TLP changed later. */
  partner: string;
  shared: readonly string[];
}

const pairsByRecord = new WeakMap<AlertRecord, Map<string, Pair[]>>();

/**
 * Every pair of the record's contributions the correlator joined to it,
 * whoever may know of them: for a campaign, the pairs it lists; for a
 * shared-indicator alert (and a campaign written before pairs were kept),
 * worked out from the indicators. A contribution lists the same indicators at every
 * version (`contributionsAt` replays only who was there and their TLP), so the
 * pairs are worked out once per record and each version and viewer keeps the
 * ones both of whose reports it may know of: a campaign of 500 reports would
 * otherwise compare every pair again at each of its versions.
 */
function pairsOf(
  kind: 'shared-indicator' | 'campaign',
  record: AlertRecord,
  rules: ViewRules,
): Map<string, Pair[]> {
  const cached = rules === VIEW_RULES ? pairsByRecord.get(record) : undefined;
  if (cached) return cached;
  if (kind === 'campaign' && record.pairs) {
    const pairs = pairsFiled(record);
    if (rules === VIEW_RULES) pairsByRecord.set(record, pairs);
    return pairs;
  }
  const anchor = kind === 'campaign' ? campaignAnchor(record) : undefined;
  const minimum = kind === 'campaign' ? rules.campaignMinimumSharedIndicators : 1;
  const pairs = new Map<string, Pair[]>();
  const contributions = [...record.contributions].sort((x, y) => timeOf(x.detectedAt) - timeOf(y.detectedAt));
  for (const [index, a] of contributions.entries()) {
    for (const b of contributions.slice(index + 1)) {
      // Sorted by detection: every later one is further away.
      if (timeOf(b.detectedAt) - timeOf(a.detectedAt) > rules.correlationWindowMs) break;
      if (a.organisationId === b.organisationId) continue;
      const shared = sharedRecorded(a, b);
      if (shared.length < minimum) continue;
      if (anchor !== undefined && shared[0] !== anchor) continue;
      for (const [one, other] of [
        [a, b],
        [b, a],
      ] as const) {
        const list = pairs.get(one.reportId) ?? [];
        list.push({ partner: other.reportId, shared });
        pairs.set(one.reportId, list);
      }
    }
  }
  if (rules === VIEW_RULES) pairsByRecord.set(record, pairs);
  return pairs;
}

/**
 * A campaign's pairs as the correlator filed them. Each pair's indicators are
 * those both reports list: it lists all they share, and neither lists any
 * indicator the other lacks.
 */
function pairsFiled(record: AlertRecord): Map<string, Pair[]> {
  const pairs = new Map<string, Pair[]>();
  for (const [i, j] of decodeAlertPairs(record.contributions.length, record.pairs ?? '')) {
    const a = record.contributions[i];
    const b = record.contributions[j];
    if (!a || !b) continue;
    const shared = sharedRecorded(a, b);
    for (const [one, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const list = pairs.get(one.reportId) ?? [];
      list.push({ partner: other.reportId, shared });
      pairs.set(one.reportId, list);
    }
  }
  return pairs;
}

/**
 * The usual shared-indicator record, where every contribution lists the one
 * indicator: a contribution is paired when the nearest report of another
 * organisation before or after it lies within the window. Linear after the
 * sort, where trying every pair of a record of 500 reports would not be; null
 * when the contributions list anything else.
 */
function pairedOnOneIndicator(known: readonly Known[], rules: ViewRules): Map<Known, Set<string>> | null {
  const keys = known.length > 0 ? recorded(known[0]!.contribution) : undefined;
  if (!keys || keys.size !== 1) return null;
  const [key] = keys as Set<string>;
  for (const entry of known) {
    const theirs = recorded(entry.contribution);
    if (theirs.size !== 1 || !theirs.has(key!)) return null;
  }
  const sorted = [...known].sort((a, b) => detectedAt(a) - detectedAt(b));
  const paired = new Array<boolean>(sorted.length).fill(false);
  // Walking one way, `other` is the latest report so far of an organisation other than the current one's.
  for (const order of [sorted.keys(), [...sorted.keys()].reverse()]) {
    let last: number | undefined;
    let other: number | undefined;
    for (const index of order) {
      const organisation = sorted[index]!.contribution.organisationId;
      if (last !== undefined && sorted[last]!.contribution.organisationId !== organisation) other = last;
      if (
        other !== undefined &&
        Math.abs(detectedAt(sorted[index]!) - detectedAt(sorted[other]!)) <= rules.correlationWindowMs
      )
        paired[index] = true;
      last = index;
    }
  }
  return new Map(
    sorted.flatMap((entry, index) => (paired[index] ? [[entry, new Set([key!])] as const] : [])),
  );
}

/**
 * Reports the viewer may read that lie in some surge period holding enough
 * of them: the correlator adds a report to a surge only as one of such a
 * group, so one that joined only with reports the viewer may not read is left out.
 */
function surgeMembers(readable: readonly Known[], rules: ViewRules): Set<Known> {
  const sorted = [...readable].sort((a, b) => detectedAt(a) - detectedAt(b));
  const members = new Set<Known>();
  let right = 0;
  for (let left = 0; left < sorted.length; left += 1) {
    right = Math.max(right, left);
    while (
      right < sorted.length &&
      detectedAt(sorted[right]!) - detectedAt(sorted[left]!) <= rules.surgeWindowMs
    )
      right += 1;
    if (right - left >= rules.surgeMinimumReports)
      for (let i = left; i < right; i += 1) members.add(sorted[i]!);
  }
  return members;
}

/**
 * What the viewer's view rests on: the contributions it may know of that
 * would have made the alert without any other, each with the indicators it
 * may know that contribution carries there; empty when they make no alert.
 * A function of those contributions alone, so reports the viewer may not
 * know of change nothing in it.
 */
function membersOf(
  record: AlertRecord,
  known: readonly Known[],
  rules: ViewRules,
  carry?: PairCarry,
): Known[] {
  switch (record.kind) {
    case 'shared-indicator':
    case 'campaign': {
      // An AMBER report counts only through indicators the viewer's own reports share with
      // it here; dropping one can drop pairs and so other indicators: repeat until stable.
      const byId = new Map(known.map((entry) => [entry.contribution.reportId, entry]));
      let candidates = known;
      for (;;) {
        // The carry holds pairs among all of `known`: only the first round may use it.
        const members = pairMembers(
          record.kind,
          record,
          candidates,
          rules,
          candidates === known ? carry : undefined,
        );
        const ownKeys = new Set(
          [...members].filter(([entry]) => entry.knowledge === 'own').flatMap(([, keys]) => [...keys]),
        );
        const next: Known[] = [];
        for (const entry of candidates) {
          const keys = members.get(entry);
          if (!keys) continue;
          const visible =
            entry.knowledge === 'counted' ? [...keys].filter((key) => ownKeys.has(key)) : [...keys];
          if (visible.length > 0) next.push({ ...entry, indicatorKeys: new Set(visible) });
        }
        if (next.length === candidates.length) return next;
        candidates = next.map((entry) => byId.get(entry.contribution.reportId)!);
      }
    }
    case 'sector-surge': {
      const readable = known.filter((entry) => entry.knowledge !== 'counted');
      const members = surgeMembers(readable, rules);
      // A surge of the viewer's own reports alone tells it nothing new.
      if (![...members].some((entry) => entry.knowledge === 'shared')) return [];
      return known.filter((entry) => (entry.knowledge === 'counted' ? members.size > 0 : members.has(entry)));
    }
    case 'watchlist-match':
      // The watchlist is the GSOC's own list: a match tells others what the GSOC watches.
      return [];
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
    .map(
      (entry) =>
        `${entry.contribution.reportId}/${entry.knowledge}/${entry.contribution.tlp}/${[...recorded(entry.contribution)].join(',')}`,
    )
    .join(' ');
}

function contentOf(
  record: AlertRecord,
  all: readonly Known[],
  rules: ViewRules,
  carry?: PairCarry,
): ViewContent | null {
  const known = membersOf(record, all, rules, carry);
  if (known.length === 0) return null;

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
  const facts: ViewFacts = {
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
  };
  const { title, reasons } = describeView(facts);
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
    text: describeViewText(facts),
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
  const carry: PairCarry = { knowledge: new Map(), keys: new Map() };
  for (let version = 1; version <= record.version; version += 1) {
    const known = classify(organisationId, contributionsAt(record, version));
    // A version that added only reports this viewer may not know of changes nothing for it.
    const knowledge = knowledgeKey(known);
    if (knowledge === previousKnowledge) continue;
    previousKnowledge = knowledge;
    content = contentOf(record, known, rules, carry);
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

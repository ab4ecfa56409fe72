import type { Indicator, IndicatorType } from '@renkei/schema';
import { MAX_REFS_PER_OBJECT } from '../limits.js';
import { hashType, mapPattern } from '../pattern/map.js';
import { checkIndicator } from '../values.js';
import { isRecord, timestampMillis, type Entry, type ObjectMarkings, type StixObject } from './read.js';
import type { StixReason } from './types.js';

/** One indicator and the objects it comes through, itself first: the markings of each apply to it. */
export interface Contribution {
  indicator: Indicator;
  path: Entry[];
}

export type Extraction =
  | { ok: true; contributions: Contribution[]; notes: string[]; observedAt: number | undefined }
  | { ok: false; reason: StixReason; notes: string[] };

const VALUE_OBSERVABLES: Readonly<Record<string, IndicatorType>> = {
  'ipv4-addr': 'ipv4',
  'ipv6-addr': 'ipv6',
  'domain-name': 'domain',
  url: 'url',
  'email-addr': 'email',
};

/** Types that can bring indicators; every other type is reported as unsupported. */
export const MAPPED_TYPES = new Set([
  'indicator',
  'observed-data',
  'sighting',
  'vulnerability',
  ...Object.keys(VALUE_OBSERVABLES),
  'file',
]);

const CVE_ID = /^CVE-\d{4}-\d{4,}$/i;

/**
 * What each object brings, worked out once per object however many others
 * refer to it (10,000 sightings of one indicator parse its pattern once).
 */
export class Extractor {
  private readonly done = new Map<string, Extraction>();
  private readonly recipientsOnly: ReadonlySet<string>;

  constructor(
    private readonly byId: ReadonlyMap<string, Entry>,
    private readonly markingsOf: (entry: Entry) => ObjectMarkings,
  ) {
    this.recipientsOnly = recipientOnlyAddresses(
      [...byId.values()].filter((entry) => entry.type === 'email-message').map((entry) => entry.object),
    );
  }

  extract(entry: Entry): Extraction {
    let extraction = this.done.get(entry.id);
    if (extraction === undefined) {
      extraction = this.compute(entry);
      this.done.set(entry.id, extraction);
    }
    return extraction;
  }

  private compute(entry: Entry): Extraction {
    const { object } = entry;
    if (!MAPPED_TYPES.has(entry.type)) return fail('unsupported-type', unsupportedWhy(entry.type));
    const unknown = this.markingsOf(entry).unknown;
    if (unknown.length) {
      return fail('unknown-marking', `it carries a marking Renkei cannot honour: ${unknown.join('; ')}`);
    }
    if (object.revoked === true) return fail('revoked', 'its author revoked it');
    switch (entry.type) {
      case 'indicator':
        return this.indicator(entry);
      case 'observed-data':
        return this.observedData(entry);
      case 'sighting':
        return this.sighting(entry);
      case 'vulnerability':
        return this.vulnerability(entry);
      default: {
        if (this.recipientsOnly.has(entry.id)) {
          return fail('no-indicator', 'a recipient of an e-mail message is a victim, not an indicator');
        }
        const found = observableIndicators(object);
        if (found.failure !== undefined) return fail(found.code, found.failure, found.notes);
        return own(entry, found.indicators, found.notes);
      }
    }
  }

  private indicator(entry: Entry): Extraction {
    const { pattern, pattern_type: patternType } = entry.object;
    if (typeof pattern !== 'string') return fail('invalid-object', 'an indicator needs a pattern (a string)');
    // STIX 2.0 indicators have no pattern_type: their patterns are STIX patterns.
    if (patternType !== undefined && patternType !== 'stix') {
      return fail(
        'unsupported-pattern',
        `pattern_type ${JSON.stringify(patternType)} is not STIX patterning`,
      );
    }
    const mapped = mapPattern(pattern);
    if (!mapped.ok) return fail(mapped.code, mapped.reason);
    return own(entry, mapped.indicators, mapped.notes);
  }

  private vulnerability(entry: Entry): Extraction {
    const ids: string[] = [];
    const references = Array.isArray(entry.object.external_references)
      ? entry.object.external_references
      : [];
    for (const reference of references.slice(0, MAX_REFS_PER_OBJECT)) {
      if (
        isRecord(reference) &&
        typeof reference.source_name === 'string' &&
        reference.source_name.toLowerCase() === 'cve' &&
        typeof reference.external_id === 'string'
      ) {
        ids.push(reference.external_id);
      }
    }
    // Many producers name the vulnerability after its CVE id and leave the reference out.
    if (typeof entry.object.name === 'string' && CVE_ID.test(entry.object.name.trim()))
      ids.push(entry.object.name);
    if (ids.length === 0) {
      return fail(
        'no-indicator',
        'no CVE id: neither an external reference with source_name "cve" nor a CVE name',
      );
    }
    const indicators: Indicator[] = [];
    const notes: string[] = [];
    for (const id of ids) {
      const checked = checkIndicator('cve', id);
      if (checked.ok) indicators.push(checked.indicator);
      else notes.push(checked.reason);
    }
    if (indicators.length === 0) return fail('invalid-value', notes.join('; '));
    return own(entry, indicators, notes);
  }

  private observedData(entry: Entry): Extraction {
    const { object } = entry;
    const contributions: Contribution[] = [];
    const notes: string[] = [];
    if (object.objects !== undefined) {
      if (!isRecord(object.objects))
        return fail('invalid-object', 'objects must be a dictionary of observables');
      const embedded = Object.entries(object.objects);
      if (embedded.length > MAX_REFS_PER_OBJECT) {
        return fail(
          'too-large',
          `objects holds ${embedded.length} observables; at most ${MAX_REFS_PER_OBJECT} are read`,
        );
      }
      const recipients = recipientOnlyAddresses(
        embedded
          .map(([, value]) => value)
          .filter((value) => isRecord(value) && value.type === 'email-message') as StixObject[],
      );
      for (const [key, value] of embedded) {
        if (!isRecord(value) || typeof value.type !== 'string') {
          notes.push(`objects.${key} is not an observable with a type`);
          continue;
        }
        if (recipients.has(key)) {
          notes.push(`objects.${key}: a recipient address is not an indicator`);
          continue;
        }
        const found = observableIndicators(value);
        notes.push(...found.notes.map((note) => `objects.${key}: ${note}`));
        if (found.failure !== undefined) notes.push(`objects.${key}: ${found.failure}`);
        for (const indicator of found.indicators) contributions.push({ indicator, path: [entry] });
      }
    }
    if (object.object_refs !== undefined) {
      const refs = this.refs(object.object_refs, 'object_refs');
      if (!refs.ok) return fail(refs.code, refs.message);
      contributions.push(...this.follow(entry, refs.ids, notes));
    }
    if (object.objects === undefined && object.object_refs === undefined) {
      return fail('invalid-object', 'observed-data needs objects or object_refs');
    }
    if (contributions.length === 0)
      return fail('no-indicator', 'none of its observables maps to an indicator', notes);
    return { ok: true, contributions, notes, observedAt: timestampMillis(object.first_observed) };
  }

  private sighting(entry: Entry): Extraction {
    const { object } = entry;
    const notes: string[] = [];
    const contributions: Contribution[] = [];
    const targets: string[] = [];
    if (typeof object.sighting_of_ref === 'string') targets.push(object.sighting_of_ref);
    else return fail('invalid-object', 'a sighting needs sighting_of_ref');
    if (object.observed_data_refs !== undefined) {
      const refs = this.refs(object.observed_data_refs, 'observed_data_refs');
      if (!refs.ok) return fail(refs.code, refs.message);
      targets.push(...refs.ids);
    }
    contributions.push(...this.follow(entry, targets, notes));
    if (contributions.length === 0)
      return fail('no-indicator', 'nothing it refers to maps to an indicator', notes);
    let observedAt = timestampMillis(object.first_seen);
    for (const target of targets) {
      const referenced = this.byId.get(target);
      const extraction = referenced ? this.extract(referenced) : undefined;
      if (extraction?.ok && extraction.observedAt !== undefined) {
        observedAt = Math.min(observedAt ?? Infinity, extraction.observedAt);
      }
    }
    return { ok: true, contributions, notes, observedAt };
  }

  /** The contributions of the objects `from` refers to, with `from` put in front of each path. */
  private follow(from: Entry, ids: readonly string[], notes: string[]): Contribution[] {
    const contributions: Contribution[] = [];
    for (const id of ids) {
      const target = this.byId.get(id);
      if (target === undefined) {
        notes.push(`${id} is not in the bundle`);
        continue;
      }
      if (!MAPPED_TYPES.has(target.type) || target.type === from.type) {
        // Context Renkei does not map (a sighting of malware). A sighting of an incident only
        // puts the sighting in that incident, which is the incident's business, not a loss.
        if (target.type !== 'incident') notes.push(`${id}: ${target.type} is not mapped`);
        continue;
      }
      const extraction = this.extract(target);
      if (!extraction.ok) {
        notes.push(`${id} not mapped: ${extraction.reason.message}`);
        continue;
      }
      for (const contribution of extraction.contributions) {
        contributions.push({ indicator: contribution.indicator, path: [from, ...contribution.path] });
      }
    }
    return contributions;
  }

  private refs(
    value: unknown,
    name: string,
  ): { ok: true; ids: string[] } | { ok: false; code: 'invalid-object' | 'too-large'; message: string } {
    if (!Array.isArray(value) || !value.every((id) => typeof id === 'string')) {
      return { ok: false, code: 'invalid-object', message: `${name} must be a list of ids` };
    }
    if (value.length > MAX_REFS_PER_OBJECT) {
      return {
        ok: false,
        code: 'too-large',
        message: `${name} lists ${value.length} ids; at most ${MAX_REFS_PER_OBJECT} are read`,
      };
    }
    return { ok: true, ids: [...new Set(value as string[])] };
  }
}

function own(entry: Entry, indicators: readonly Indicator[], notes: string[]): Extraction {
  return {
    ok: true,
    contributions: indicators.map((indicator) => ({ indicator, path: [entry] })),
    notes,
    observedAt: undefined,
  };
}

function fail(code: StixReason['code'], message: string, notes: string[] = []): Extraction {
  return { ok: false, reason: { code, message }, notes };
}

/** The indicators one observable (SCO) holds. */
function observableIndicators(observable: StixObject): {
  indicators: Indicator[];
  notes: string[];
  failure?: string;
  code: 'unsupported-type' | 'invalid-value' | 'no-indicator';
} {
  // Text only: String() of an object runs its toString, which hostile input can make throw.
  const type = typeof observable.type === 'string' ? observable.type : '';
  // Own keys only: an observable of type `constructor` is no value observable.
  const valueType = Object.hasOwn(VALUE_OBSERVABLES, type) ? VALUE_OBSERVABLES[type] : undefined;
  if (valueType !== undefined) {
    if (typeof observable.value !== 'string') {
      return {
        indicators: [],
        notes: [],
        failure: `a ${type} needs a value (a string)`,
        code: 'invalid-value',
      };
    }
    const checked = checkIndicator(valueType, observable.value);
    return checked.ok
      ? { indicators: [checked.indicator], notes: [], code: 'invalid-value' }
      : { indicators: [], notes: [], failure: checked.reason, code: 'invalid-value' };
  }
  if (type === 'file') {
    const indicators: Indicator[] = [];
    const notes: string[] = [];
    if (isRecord(observable.hashes)) {
      for (const [algorithm, value] of Object.entries(observable.hashes)) {
        const hash = hashType(algorithm);
        if (hash === undefined || typeof value !== 'string') {
          notes.push(`hash ${algorithm} not mapped: Renkei has no indicator type for it`);
          continue;
        }
        const checked = checkIndicator(hash, value);
        if (checked.ok) indicators.push(checked.indicator);
        else notes.push(checked.reason);
      }
    }
    if (typeof observable.name === 'string')
      notes.push(`file name "${observable.name}" not mapped: Renkei has no file-name indicator`);
    if (indicators.length === 0) {
      return {
        indicators,
        notes,
        failure: 'the file has no MD5, SHA-1 or SHA-256 hash',
        code: 'no-indicator',
      };
    }
    return { indicators, notes, code: 'no-indicator' };
  }
  return { indicators: [], notes: [], failure: unsupportedWhy(type), code: 'unsupported-type' };
}

function unsupportedWhy(type: string): string {
  switch (type) {
    case 'network-traffic':
    case 'email-message':
      return `${type} objects are not indicators themselves; the addresses they refer to map from their own objects`;
    case 'identity':
      return 'identities are not mapped: the submitting organisation comes from the token';
    case 'relationship':
      return 'relationships are not mapped: reports take their objects from object_refs';
    default:
      return `${type} objects carry no indicator Renkei maps`;
  }
}

/**
 * E-mail addresses that appear only as recipients (to, cc, bcc) of the given
 * messages: victims, not indicators. Refs are ids at the top level of a
 * bundle, dictionary keys inside an observed-data.
 */
function recipientOnlyAddresses(messages: readonly StixObject[]): Set<string> {
  const recipients = new Set<string>();
  const senders = new Set<string>();
  for (const message of messages) {
    for (const field of ['to_refs', 'cc_refs', 'bcc_refs']) {
      const refs = message[field];
      if (Array.isArray(refs))
        for (const ref of refs.slice(0, MAX_REFS_PER_OBJECT))
          if (typeof ref === 'string') recipients.add(ref);
    }
    for (const field of ['from_ref', 'sender_ref']) {
      const ref = message[field];
      if (typeof ref === 'string') senders.add(ref);
    }
  }
  for (const sender of senders) recipients.delete(sender);
  return recipients;
}

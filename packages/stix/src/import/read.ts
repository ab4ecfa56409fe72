import type { Tlp } from '@renkei/schema';
import { MAX_BUNDLE_OBJECTS } from '../limits.js';
import { TLP2_EXTENSION_ID, tlpFromLabel, tlpOfCanonicalMarking } from '../tlp.js';
import { mostRestrictiveTlp } from '../values.js';
import type { StixImportError, StixReason } from './types.js';

export type StixObject = Record<string, unknown>;

/** One object of the bundle that has a usable type and id. */
export interface Entry {
  index: number;
  id: string;
  type: string;
  object: StixObject;
}

export interface ReadBundle {
  bundleId: string | null;
  /** Every position of `objects`, with the entry or why it cannot be one. */
  slots: Array<
    { entry: Entry } | { index: number; id: string | null; type: string | null; reason: StixReason }
  >;
  /** The entry kept for each id (the latest version). */
  byId: Map<string, Entry>;
}

const TYPE_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*-?$/;
const ANY_ID =
  /^[a-z][a-z0-9-]{0,249}--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const ID_SUFFIX = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * Where the input says it is STIX older than 2.1: a 2.0 bundle carries
 * `spec_version` on the bundle (2.1 moved it to each object), and a 2.1
 * envelope may still hold objects that say `"spec_version": "2.0"`.
 */
function olderSpecVersion(value: StixObject): { field: string; version: string } | undefined {
  if (value.spec_version !== undefined) {
    return { field: 'spec_version', version: asText(value.spec_version).slice(0, 20) };
  }
  const objects = value.objects as unknown[];
  const index = objects.findIndex(
    (object) => isRecord(object) && object.spec_version !== undefined && object.spec_version !== '2.1',
  );
  if (index === -1) return undefined;
  const version = asText((objects[index] as StixObject).spec_version).slice(0, 20);
  return { field: `objects[${index}].spec_version`, version };
}

export function isRecord(value: unknown): value is StixObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A bundle, or a TAXII 2.1 envelope (`{"objects": […]}`, which TAXII adds
 * carry): the list of objects, each checked for a type and an id, and one
 * entry per id.
 */
export function readBundle(
  input: unknown,
): { ok: true; bundle: ReadBundle } | { ok: false; error: StixImportError } {
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
  if (!isRecord(value)) {
    return {
      ok: false,
      error: { code: 'not-a-bundle', field: '(body)', message: 'expected a STIX bundle: a JSON object' },
    };
  }
  if (value.type !== undefined && value.type !== 'bundle') {
    return {
      ok: false,
      error: {
        code: 'not-a-bundle',
        field: 'type',
        message: `is ${typeof value.type === 'string' ? JSON.stringify(value.type.slice(0, 80)) : jsonKind(value.type)}, expected "bundle"`,
      },
    };
  }
  if (!Array.isArray(value.objects)) {
    return {
      ok: false,
      error: { code: 'not-a-bundle', field: 'objects', message: 'must be a list of STIX objects' },
    };
  }
  if (value.objects.length > MAX_BUNDLE_OBJECTS) {
    return {
      ok: false,
      error: {
        code: 'too-many-objects',
        field: 'objects',
        message: `the bundle holds ${value.objects.length} objects; at most ${MAX_BUNDLE_OBJECTS} are accepted at once`,
      },
    };
  }
  const olderSpec = olderSpecVersion(value);
  if (olderSpec !== undefined) {
    return {
      ok: false,
      error: {
        code: 'unsupported-spec-version',
        field: olderSpec.field,
        message:
          `is ${JSON.stringify(olderSpec.version)}: Renkei imports STIX 2.1 only, and does not convert older ` +
          'STIX, whose markings and patterns it could misread; convert it to 2.1 first (the OASIS stix2-elevator does)',
      },
    };
  }
  // A bundle must have its id (STIX 2.1, 8.1): report ids are derived from it. Only a
  // TAXII envelope, which has neither type nor id, goes without.
  let bundleId: string | null = null;
  if (value.type !== undefined || value.id !== undefined) {
    if (typeof value.id !== 'string' || !isBundleId(value.id)) {
      return {
        ok: false,
        error: {
          code: 'invalid-bundle-id',
          field: 'id',
          message:
            value.id === undefined
              ? 'a bundle needs an id: "bundle--" followed by a UUID'
              : typeof value.id === 'string'
                ? `${JSON.stringify(value.id.slice(0, 120))} is not "bundle--" followed by a UUID`
                : `must be a string, "bundle--" followed by a UUID (it is ${jsonKind(value.id)})`,
        },
      };
    }
    bundleId = value.id;
  }
  const slots: ReadBundle['slots'] = [];
  const byId = new Map<string, Entry>();
  value.objects.forEach((object: unknown, index) => {
    const checked = checkObject(object, index);
    if ('reason' in checked) {
      slots.push(checked);
      return;
    }
    slots.push({ entry: checked });
    const previous = byId.get(checked.id);
    if (previous === undefined || !isOlder(checked.object, previous.object)) byId.set(checked.id, checked);
  });
  for (const [index, slot] of slots.entries()) {
    if ('entry' in slot && byId.get(slot.entry.id) !== slot.entry) {
      const kept = byId.get(slot.entry.id)!;
      slots[index] = {
        index,
        id: slot.entry.id,
        type: slot.entry.type,
        reason: {
          code: 'superseded',
          message: `object ${kept.index} has the same id and is ${isOlder(slot.entry.object, kept.object) ? 'a later version' : 'repeated after it'}`,
        },
      };
    }
  }
  return { ok: true, bundle: { bundleId, slots, byId } };
}

/** What a JSON value is, for messages that must not echo it whole. */
export function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isBundleId(id: string): boolean {
  return id.startsWith('bundle--') && ID_SUFFIX.test(id.slice('bundle--'.length));
}

function checkObject(
  object: unknown,
  index: number,
): Entry | { index: number; id: string | null; type: string | null; reason: StixReason } {
  const invalid = (message: string, id: string | null = null, type: string | null = null) => ({
    index,
    id,
    type,
    reason: { code: 'invalid-object' as const, message },
  });
  if (!isRecord(object)) return invalid('not a JSON object');
  const type = typeof object.type === 'string' ? object.type : null;
  const id = typeof object.id === 'string' ? object.id : null;
  // The answer (and a TAXII status, stored as jsonb) names the object by its id only when it is one.
  if (type === null) return invalid('no type', id !== null && ANY_ID.test(id) ? id : null);
  if (type.length > 250 || !TYPE_PATTERN.test(type))
    return invalid(`type ${JSON.stringify(type.slice(0, 80))} is not a STIX type name`, id);
  if (id === null) return invalid('no id', null, type);
  if (!id.startsWith(`${type}--`) || !ID_SUFFIX.test(id.slice(type.length + 2))) {
    return invalid(
      `id ${JSON.stringify(id.slice(0, 120))} is not "${type}--" followed by a UUID`,
      null,
      type,
    );
  }
  return { index, id, type, object };
}

/** Whether `a` is an older version than `b` (by `modified`); equal or unknown versions count as newer. */
function isOlder(a: StixObject, b: StixObject): boolean {
  const aTime = timestampMillis(a.modified);
  const bTime = timestampMillis(b.modified);
  return aTime !== undefined && bTime !== undefined && aTime < bTime;
}

const STIX_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function timestampMillis(value: unknown): number | undefined {
  if (typeof value !== 'string' || !STIX_TIMESTAMP.test(value)) return undefined;
  const millis = Date.parse(value);
  return Number.isFinite(millis) ? millis : undefined;
}

/** What one marking definition means to Renkei. */
export type MarkingMeaning =
  { kind: 'tlp'; tlp: Tlp } | { kind: 'statement' } | { kind: 'unknown'; why: string };

export function markingMeaning(definition: StixObject): MarkingMeaning {
  const extensions = isRecord(definition.extensions) ? definition.extensions : {};
  const tlp2 = extensions[TLP2_EXTENSION_ID];
  if (isRecord(tlp2) && typeof tlp2.tlp_2_0 === 'string') {
    const tlp = tlpFromLabel(tlp2.tlp_2_0);
    return tlp
      ? { kind: 'tlp', tlp }
      : { kind: 'unknown', why: `TLP 2.0 level "${tlp2.tlp_2_0}" is not one of the five` };
  }
  const definitionType =
    typeof definition.definition_type === 'string' ? definition.definition_type.toLowerCase() : undefined;
  const content = isRecord(definition.definition) ? definition.definition : {};
  if (definitionType === 'tlp' && typeof content.tlp === 'string') {
    const tlp = tlpFromLabel(content.tlp);
    return tlp
      ? { kind: 'tlp', tlp }
      : { kind: 'unknown', why: `TLP level "${content.tlp}" is not one Renkei knows` };
  }
  if (definitionType === 'statement' && typeof content.statement === 'string') return { kind: 'statement' };
  return { kind: 'unknown', why: 'it is neither a TLP marking nor a statement' };
}

export interface ObjectMarkings {
  /** The most restrictive TLP among its markings, if any is TLP. */
  tlp: Tlp | undefined;
  /** Markings Renkei cannot read; their presence keeps the object out of every report. */
  unknown: string[];
}

/**
 * The markings of an object, object-level and granular alike: a TLP that
 * marks only some properties still applies to the whole object here, which
 * can only make it more restrictive.
 */
export function objectMarkings(
  object: StixObject,
  definitions: ReadonlyMap<string, MarkingMeaning>,
): ObjectMarkings {
  const refs: unknown[] = [];
  const unknown: string[] = [];
  if (object.object_marking_refs !== undefined) {
    if (Array.isArray(object.object_marking_refs)) refs.push(...object.object_marking_refs);
    else unknown.push('object_marking_refs is not a list');
  }
  if (object.granular_markings !== undefined) {
    if (Array.isArray(object.granular_markings)) {
      for (const marking of object.granular_markings) {
        // A granular marking may carry a language (`lang`) instead of a marking: not a restriction.
        if (isRecord(marking) && marking.marking_ref !== undefined) refs.push(marking.marking_ref);
      }
    } else {
      unknown.push('granular_markings is not a list');
    }
  }
  const levels: Tlp[] = [];
  for (const ref of refs) {
    if (typeof ref !== 'string') {
      unknown.push(`${JSON.stringify(ref)} is not a marking id`);
      continue;
    }
    const canonical = tlpOfCanonicalMarking(ref);
    const defined = definitions.get(ref);
    if (canonical !== undefined) {
      // A bundle that redefines a canonical id with another level gets the stricter of the two.
      levels.push(canonical);
      if (defined?.kind === 'tlp') levels.push(defined.tlp);
    } else if (defined === undefined) {
      unknown.push(`${ref} is not defined in the bundle and is not a TLP marking`);
    } else if (defined.kind === 'tlp') {
      levels.push(defined.tlp);
    } else if (defined.kind === 'unknown') {
      unknown.push(`${ref}: ${defined.why}`);
    }
  }
  return { tlp: mostRestrictiveTlp(levels), unknown };
}

/** A value to quote in a message: text as it is, anything else as JSON (String() may run a hostile toString). */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
}

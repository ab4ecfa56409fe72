import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { domainToASCII, fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';

/**
 * Validation against the official STIX 2.1 JSON schemas (vendored in
 * `../schemas`, loaded once into one registry keyed by `$id`, so no schema is
 * ever fetched). The bundle envelope is checked here and each object against
 * the schema of its own type: the official `bundle.json` wrongly refuses
 * groupings, incidents, notes and a few others (see schemas/README.md).
 */

export interface StixValidationIssue {
  /** Position in `objects`; null for the envelope. */
  index: number | null;
  id: string | null;
  type: string | null;
  /** JSON pointer inside the object (or the envelope). */
  path: string;
  message: string;
}

export type StixValidation = { valid: true } | { valid: false; issues: StixValidationIssue[] };

const SCHEMA_ROOT = fileURLToPath(new URL('../schemas/', import.meta.url));
const SCHEMA_BASE = 'http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/';
/** Object types whose schema lives in `common/` rather than under `sdos/`, `sros/` or `observables/`. */
const COMMON_TYPES = ['marking-definition', 'language-content', 'extension-definition'];

interface Validators {
  envelope: ValidateFunction;
  /** Compiled on first use: compiling all 50 schemas up front costs seconds. */
  forType: (type: string | null) => ValidateFunction;
}

let validators: Validators | undefined;

function load(): Validators {
  if (validators) return validators;
  // The official schemas are not ours to edit: strict mode is off because they
  // use `definitions`, and their patterns escape `-` outside classes, which
  // Unicode-mode regular expressions refuse.
  const ajv = new Ajv2020({ allErrors: true, strict: false, unicodeRegExp: false });
  ajvFormats.default(ajv);
  // ajv-formats has no idn-hostname (domain-name values): an IDN is valid when its ASCII form is a host name.
  ajv.addFormat('idn-hostname', (value: string) => isHostname(domainToASCII(value)));
  const byType = new Map<string, string>();
  for (const file of readdirSync(SCHEMA_ROOT, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.json')) continue;
    const schema = JSON.parse(readFileSync(path.join(SCHEMA_ROOT, file), 'utf8')) as { $id: string };
    ajv.addSchema(schema);
    const [folder, name] = file.split(path.sep);
    const type = name?.replace(/\.json$/, '');
    if (type && (folder !== 'common' || COMMON_TYPES.includes(type))) byType.set(type, schema.$id);
  }
  validators = {
    envelope: ajv.compile({
      type: 'object',
      required: ['type', 'id', 'objects'],
      properties: {
        type: { const: 'bundle' },
        id: { allOf: [{ $ref: `${SCHEMA_BASE}common/identifier.json` }, { pattern: '^bundle--' }] },
        objects: { type: 'array', minItems: 1, items: { type: 'object' } },
      },
    }),
    // A type without a schema of its own is a custom object: it must still meet the common properties.
    forType: (type) =>
      ajv.getSchema((type !== null ? byType.get(type) : undefined) ?? `${SCHEMA_BASE}common/core.json`)!,
  };
  return validators;
}

export function validateStixBundle(bundle: unknown): StixValidation {
  const { envelope, forType } = load();
  const issues: StixValidationIssue[] = [];
  if (!envelope(bundle)) {
    issues.push(...describe(envelope.errors, null, null, null));
    return { valid: false, issues };
  }
  const objects = (bundle as { objects: Array<Record<string, unknown>> }).objects;
  objects.forEach((object, index) => {
    const type = typeof object.type === 'string' ? object.type : null;
    const id = typeof object.id === 'string' ? object.id : null;
    const validate = forType(type);
    if (!validate(object)) issues.push(...describe(validate.errors, index, id, type));
  });
  return issues.length ? { valid: false, issues } : { valid: true };
}

function isHostname(ascii: string): boolean {
  const labels = ascii.replace(/\.$/, '').split('.');
  return (
    ascii.length > 0 &&
    ascii.length <= 253 &&
    labels.every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(label))
  );
}

function describe(
  errors: ErrorObject[] | null | undefined,
  index: number | null,
  id: string | null,
  type: string | null,
): StixValidationIssue[] {
  return (errors ?? []).map((error) => ({
    index,
    id,
    type,
    path: error.instancePath || '/',
    message: `${error.message ?? 'is not valid'}${error.params && Object.keys(error.params).length ? ` ${JSON.stringify(error.params)}` : ''}`,
  }));
}

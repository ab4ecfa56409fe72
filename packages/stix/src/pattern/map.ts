import type { Indicator, IndicatorType } from '@renkei/schema';
import { addressIndicatorType, checkIndicator, uniqueIndicators } from '../values.js';
import {
  formatPath,
  parsePattern,
  type ComparisonExpression,
  type Literal,
  type ObjectPath,
  type ObservationExpression,
} from './parse.js';

/**
 * What a STIX pattern means as Renkei indicators.
 *
 * Mapped: equality (`=`, and `IN` as a list of equalities) on an observable
 * Renkei has a type for, and any number of those joined by `OR`, inside one
 * observation or across observations. An `OR` keeps its mappable
 * alternatives and lists the others in `notes`: each alternative matches on
 * its own, so dropping one never widens another. `AND`, `FOLLOWEDBY`,
 * qualifiers, negation and every other operator narrow what matches; an
 * indicator without that narrowing would match more than the author meant,
 * so they are refused, except two conjunctions about one single observable
 * that exporters such as MISP write and whose every part is kept or implied:
 *   - a file's hashes, with its name (`file:name = … AND file:hashes.MD5 = …`):
 *     each hash identifies the file; the name is listed in `notes`;
 *   - a network-traffic address with its type
 *     (`network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = …`).
 */
export type PatternMapping =
  | { ok: true; indicators: Indicator[]; notes: string[] }
  | { ok: false; code: 'pattern-syntax' | 'unsupported-pattern'; reason: string };

type Outcome = { ok: true; indicators: Indicator[]; notes: string[] } | { ok: false; reason: string };

export function mapPattern(pattern: string): PatternMapping {
  const parsed = parsePattern(pattern);
  if (!parsed.ok) return { ok: false, code: 'pattern-syntax', reason: parsed.reason };
  const outcome = observation(parsed.expression);
  if (!outcome.ok) return { ok: false, code: 'unsupported-pattern', reason: outcome.reason };
  return { ok: true, indicators: uniqueIndicators(outcome.indicators), notes: outcome.notes };
}

function observation(expression: ObservationExpression): Outcome {
  switch (expression.kind) {
    case 'observation':
      return comparison(expression.comparison);
    case 'or':
      return anyOf(expression.operands.map(observation));
    case 'and':
      return refuse('AND between observations (they must all be seen together) is not mapped');
    case 'followedby':
      return refuse('FOLLOWEDBY (observations in sequence) is not mapped');
    case 'qualified':
      return refuse(
        `the ${expression.qualifier.kind === 'START' ? 'START … STOP' : expression.qualifier.kind} qualifier cannot be honoured by an indicator`,
      );
  }
}

function comparison(expression: ComparisonExpression): Outcome {
  switch (expression.kind) {
    case 'or':
      return anyOf(expression.operands.map(comparison));
    case 'and':
      return conjunction(flattenAnd(expression));
    case 'exists':
      return refuse(`EXISTS ${formatPath(expression.path)} is not mapped`);
    case 'test': {
      const path = formatPath(expression.path);
      if (expression.negated) return refuse(`NOT ${expression.operator} on ${path} is not mapped`);
      if (expression.operator === '=') return equality(expression.path, expression.value as Literal);
      if (expression.operator === 'IN') {
        const values = expression.value as Literal[];
        if (values.length === 0) return refuse(`${path} IN () matches nothing`);
        return anyOf(values.map((value) => equality(expression.path, value)));
      }
      return refuse(`the ${expression.operator} operator on ${path} is not mapped (only = and IN are)`);
    }
  }
}

/** Alternatives: what maps is kept, what does not is noted; refused only when nothing maps. */
function anyOf(outcomes: Outcome[]): Outcome {
  const indicators: Indicator[] = [];
  const notes: string[] = [];
  const refusals: string[] = [];
  for (const outcome of outcomes) {
    if (outcome.ok) {
      indicators.push(...outcome.indicators);
      notes.push(...outcome.notes);
    } else {
      refusals.push(outcome.reason);
    }
  }
  if (indicators.length === 0) {
    const unique = [...new Set(refusals)];
    return refuse(unique.length === 1 ? unique[0]! : `no alternative maps: ${unique.join('; ')}`);
  }
  return {
    ok: true,
    indicators,
    notes: [...notes, ...refusals.map((reason) => `alternative not mapped: ${reason}`)],
  };
}

function flattenAnd(expression: ComparisonExpression): ComparisonExpression[] {
  return expression.kind === 'and' ? expression.operands.flatMap(flattenAnd) : [expression];
}

type Equality = { path: ObjectPath; value: string };

function conjunction(operands: ComparisonExpression[]): Outcome {
  // An object type Renkei has no indicator for is the reason, whatever joins it: blaming the AND
  // would send a partner looking for a rewrite that cannot help.
  for (const operand of operands) {
    if (operand.kind === 'test' && !MAPPED_OBJECT_TYPES.has(operand.path.objectType)) {
      return refuse(
        `${formatPath(operand.path)} has no Renkei indicator type (no ${operand.path.objectType} is mapped)`,
      );
    }
  }
  const refusal = refuse('AND joins comparisons that must all match together; it is not mapped');
  const equalities: Equality[] = [];
  for (const operand of operands) {
    if (operand.kind !== 'test' || operand.negated || operand.operator !== '=') return refusal;
    const value = operand.value as Literal;
    if (value.kind !== 'string') return refusal;
    equalities.push({ path: operand.path, value: value.value });
  }
  return fileConjunction(equalities) ?? networkTrafficConjunction(equalities) ?? refusal;
}

function fileConjunction(equalities: Equality[]): Outcome | undefined {
  if (!equalities.every(({ path }) => path.objectType === 'file')) return undefined;
  const indicators: Indicator[] = [];
  const notes: string[] = [];
  for (const { path, value } of equalities) {
    const [first, second, ...rest] = path.steps;
    if (first?.kind === 'property' && first.name === 'name' && second === undefined) {
      notes.push(`file name "${value}" not mapped: Renkei has no file-name indicator`);
      continue;
    }
    if (first?.kind !== 'property' || first.name !== 'hashes' || second?.kind !== 'property' || rest.length) {
      return undefined;
    }
    const type = hashType(second.name);
    if (type === undefined) {
      notes.push(`${formatPath(path)} not mapped: Renkei has no indicator type for that hash`);
      continue;
    }
    const checked = checkIndicator(type, value);
    if (!checked.ok) return refuse(checked.reason);
    indicators.push(checked.indicator);
  }
  if (indicators.length === 0) return refuse(`the file has no hash Renkei maps (${notes.join('; ')})`);
  return { ok: true, indicators, notes };
}

function networkTrafficConjunction(equalities: Equality[]): Outcome | undefined {
  const refs = new Set<string>();
  let address: string | undefined;
  const declaredTypes: string[] = [];
  for (const { path, value } of equalities) {
    const [ref, property, ...rest] = path.steps;
    if (
      path.objectType !== 'network-traffic' ||
      ref?.kind !== 'property' ||
      (ref.name !== 'src_ref' && ref.name !== 'dst_ref') ||
      property?.kind !== 'property' ||
      rest.length
    ) {
      return undefined;
    }
    refs.add(ref.name);
    if (property.name === 'value') {
      if (address !== undefined) return undefined;
      address = value;
    } else if (property.name === 'type') {
      declaredTypes.push(value);
    } else {
      return undefined;
    }
  }
  // Two references (source AND destination) describe a flow between two hosts, not one address.
  if (refs.size !== 1 || address === undefined) return undefined;
  const type = addressIndicatorType(address);
  if (type === undefined) return refuse(`"${address}" is not an IPv4 or IPv6 address`);
  const stixType = type === 'ipv4' ? 'ipv4-addr' : 'ipv6-addr';
  if (declaredTypes.some((declared) => declared !== stixType)) {
    return refuse(
      `the reference is declared as ${declaredTypes.join(', ')} but "${address}" is an ${stixType}`,
    );
  }
  return single(type, address);
}

function equality(path: ObjectPath, literal: Literal): Outcome {
  const written = formatPath(path);
  const type = indicatorTypeOf(path);
  if (type === undefined) return refuse(`${written} has no Renkei indicator type`);
  if (literal.kind !== 'string') return refuse(`${written} is compared with a ${literal.kind}, not a string`);
  if (type === 'address') {
    const family = addressIndicatorType(literal.value);
    if (family === undefined)
      return refuse(`"${literal.value}" in ${written} is not an IPv4 or IPv6 address`);
    return single(family, literal.value);
  }
  return single(type, literal.value);
}

function single(type: IndicatorType, value: string): Outcome {
  const checked = checkIndicator(type, value);
  return checked.ok ? { ok: true, indicators: [checked.indicator], notes: [] } : refuse(checked.reason);
}

const SIMPLE_PATHS: Record<string, IndicatorType | 'address'> = {
  'ipv4-addr:value': 'ipv4',
  'ipv6-addr:value': 'ipv6',
  'domain-name:value': 'domain',
  'url:value': 'url',
  'email-addr:value': 'email',
  // The sender of a message is the phishing indicator; recipients are victims, not indicators.
  'email-message:from_ref.value': 'email',
  'email-message:sender_ref.value': 'email',
  // A reference may point to either address family: the value's syntax decides.
  'network-traffic:src_ref.value': 'address',
  'network-traffic:dst_ref.value': 'address',
};

/** Object types some comparison of which maps to an indicator. */
const MAPPED_OBJECT_TYPES = new Set(['file', ...Object.keys(SIMPLE_PATHS).map((key) => key.split(':')[0]!)]);

function indicatorTypeOf(path: ObjectPath): IndicatorType | 'address' | undefined {
  const [first, second, ...rest] = path.steps;
  if (
    path.objectType === 'file' &&
    first?.kind === 'property' &&
    first.name === 'hashes' &&
    second?.kind === 'property' &&
    rest.length === 0
  ) {
    return hashType(second.name);
  }
  if (!path.steps.every((step) => step.kind === 'property')) return undefined;
  const key = `${path.objectType}:${path.steps.map((step) => (step as { name: string }).name).join('.')}`;
  return Object.hasOwn(SIMPLE_PATHS, key) ? SIMPLE_PATHS[key] : undefined;
}

/** STIX names the algorithms `MD5`, `SHA-1`, `SHA-256`; producers also write `SHA1`, `sha256`. */
export function hashType(algorithm: string): 'md5' | 'sha1' | 'sha256' | undefined {
  switch (algorithm.toUpperCase().replace('-', '')) {
    case 'MD5':
      return 'md5';
    case 'SHA1':
      return 'sha1';
    case 'SHA256':
      return 'sha256';
    default:
      return undefined;
  }
}

function refuse(reason: string): Outcome {
  return { ok: false, reason };
}

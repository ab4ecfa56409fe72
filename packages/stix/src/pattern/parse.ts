import { MAX_PATTERN_COMPARISONS, MAX_PATTERN_DEPTH, MAX_PATTERN_LENGTH } from '../limits.js';

/**
 * A parser for the whole STIX 2.1 patterning grammar (section 9 of the
 * specification), not only the part Renkei maps: a pattern is understood
 * first and judged afterwards, so "unsupported" always names the construct
 * that is not mapped instead of guessing from a regular expression.
 */

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'timestamp' | 'hex' | 'binary'; value: string };

export type PathStep = { kind: 'property'; name: string } | { kind: 'index'; index: number | '*' };

export interface ObjectPath {
  objectType: string;
  steps: PathStep[];
}

export const COMPARISON_OPERATORS = [
  '=',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'IN',
  'LIKE',
  'MATCHES',
  'ISSUBSET',
  'ISSUPERSET',
] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];

export type ComparisonExpression =
  | { kind: 'or' | 'and'; operands: ComparisonExpression[] }
  | { kind: 'exists'; path: ObjectPath }
  | {
      kind: 'test';
      path: ObjectPath;
      negated: boolean;
      operator: ComparisonOperator;
      /** A list for `IN`, one literal otherwise. */
      value: Literal | Literal[];
    };

export type Qualifier =
  | { kind: 'WITHIN'; seconds: number }
  | { kind: 'REPEATS'; times: number }
  | { kind: 'START'; start: string; stop: string };

export type ObservationExpression =
  | { kind: 'observation'; comparison: ComparisonExpression }
  | { kind: 'or' | 'and' | 'followedby'; operands: ObservationExpression[] }
  | { kind: 'qualified'; qualifier: Qualifier; operand: ObservationExpression };

export type ParsedPattern = { ok: true; expression: ObservationExpression } | { ok: false; reason: string };

type Token =
  | { kind: 'punct'; value: '[' | ']' | '(' | ')' | ',' | ':' | '.' | '*'; at: number }
  | { kind: 'operator'; value: '=' | '!=' | '<' | '<=' | '>' | '>='; at: number }
  | { kind: 'word'; value: string; at: number }
  | { kind: 'literal'; literal: Literal; at: number }
  | { kind: 'end'; at: number };

class PatternSyntaxError extends Error {}

const KEYWORD_OPERATORS = new Set(['IN', 'LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET']);

export function parsePattern(pattern: string): ParsedPattern {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return { ok: false, reason: `the pattern is longer than ${MAX_PATTERN_LENGTH} characters` };
  }
  try {
    return { ok: true, expression: new Parser(tokenize(pattern)).parse() };
  } catch (error) {
    if (error instanceof PatternSyntaxError) return { ok: false, reason: error.message };
    throw error;
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    const at = i;
    if ('[]():,.*'.includes(char)) {
      tokens.push({ kind: 'punct', value: char as '[', at });
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '==' || two === '!=' || two === '<>' || two === '<=' || two === '>=') {
      const value = two === '==' ? '=' : two === '<>' ? '!=' : two;
      tokens.push({ kind: 'operator', value: value as '=', at });
      i += 2;
      continue;
    }
    if (char === '=' || char === '<' || char === '>') {
      tokens.push({ kind: 'operator', value: char, at });
      i++;
      continue;
    }
    if (char === "'") {
      const { value, end } = readString(text, i);
      tokens.push({ kind: 'literal', literal: { kind: 'string', value }, at });
      i = end;
      continue;
    }
    const typed = /^([thb])'/.exec(text.slice(i, i + 2));
    if (typed) {
      const { value, end } = readString(text, i + 1);
      const kind = typed[1] === 't' ? 'timestamp' : typed[1] === 'h' ? 'hex' : 'binary';
      tokens.push({ kind: 'literal', literal: { kind, value }, at });
      i = end;
      continue;
    }
    const number = /^[+-]?(\d+(\.\d+)?|\.\d+)/.exec(text.slice(i, i + 64));
    if (number && (char !== '.' || tokens.at(-1)?.kind === 'operator')) {
      tokens.push({ kind: 'literal', literal: { kind: 'number', value: Number(number[0]) }, at });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(text.slice(i, i + 256));
    if (word) {
      const value = word[0];
      if (value === 'true' || value === 'false') {
        tokens.push({ kind: 'literal', literal: { kind: 'boolean', value: value === 'true' }, at });
      } else {
        tokens.push({ kind: 'word', value, at });
      }
      i += value.length;
      continue;
    }
    throw new PatternSyntaxError(`unexpected character ${JSON.stringify(char)} at position ${at}`);
  }
  tokens.push({ kind: 'end', at: text.length });
  return tokens;
}

/** A quoted string from `start` (the opening quote); only `\'` and `\\` are escapes in STIX patterns. */
function readString(text: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const char = text[i]!;
    if (char === "'") return { value, end: i + 1 };
    if (char === '\\') {
      const next = text[i + 1];
      if (next !== "'" && next !== '\\') {
        throw new PatternSyntaxError(
          `invalid escape ${JSON.stringify('\\' + (next ?? ''))} at position ${i}: only \\' and \\\\ are allowed`,
        );
      }
      value += next;
      i += 2;
      continue;
    }
    value += char;
    i++;
  }
  throw new PatternSyntaxError(`the string starting at position ${start} is not closed`);
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the pattern';
    case 'literal':
      return `a ${token.literal.kind} literal`;
    default:
      return `"${token.value}"`;
  }
}

class Parser {
  private position = 0;
  private depth = 0;
  private comparisons = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): ObservationExpression {
    const expression = this.observationSequence();
    const next = this.peek();
    if (next.kind !== 'end') this.fail(`expected the end of the pattern`, next);
    return expression;
  }

  private peek(): Token {
    return this.tokens[this.position]!;
  }

  private take(): Token {
    const token = this.tokens[this.position]!;
    if (token.kind !== 'end') this.position++;
    return token;
  }

  private isWord(value: string): boolean {
    const token = this.peek();
    return token.kind === 'word' && token.value === value;
  }

  private isPunct(value: string): boolean {
    const token = this.peek();
    return token.kind === 'punct' && token.value === value;
  }

  private expectPunct(value: string): void {
    const token = this.take();
    if (token.kind !== 'punct' || token.value !== value) this.fail(`expected "${value}"`, token);
  }

  private fail(expected: string, token: Token): never {
    throw new PatternSyntaxError(`${expected} at position ${token.at}, found ${describe(token)}`);
  }

  private enter(token: Token): void {
    this.depth++;
    if (this.depth > MAX_PATTERN_DEPTH) {
      throw new PatternSyntaxError(
        `brackets and parentheses are nested deeper than ${MAX_PATTERN_DEPTH} levels at position ${token.at}`,
      );
    }
  }

  /** Lowest precedence: `a FOLLOWEDBY b`. */
  private observationSequence(): ObservationExpression {
    return this.observationList('followedby', 'FOLLOWEDBY', () => this.observationDisjunction());
  }

  private observationDisjunction(): ObservationExpression {
    return this.observationList('or', 'OR', () => this.observationConjunction());
  }

  private observationConjunction(): ObservationExpression {
    return this.observationList('and', 'AND', () => this.qualifiedObservation());
  }

  private observationList(
    kind: 'or' | 'and' | 'followedby',
    keyword: string,
    operand: () => ObservationExpression,
  ): ObservationExpression {
    const operands = this.operands(keyword, operand);
    return operands.length === 1 ? operands[0]! : { kind, operands };
  }

  private comparisonList(
    kind: 'or' | 'and',
    keyword: string,
    operand: () => ComparisonExpression,
  ): ComparisonExpression {
    const operands = this.operands(keyword, operand);
    return operands.length === 1 ? operands[0]! : { kind, operands };
  }

  /** Operands joined by a keyword, read in a loop so a long chain never deepens the stack. */
  private operands<T>(keyword: string, operand: () => T): T[] {
    const operands = [operand()];
    while (this.isWord(keyword)) {
      this.take();
      operands.push(operand());
    }
    return operands;
  }

  private qualifiedObservation(): ObservationExpression {
    let expression = this.observation();
    for (;;) {
      if (this.isWord('WITHIN')) {
        this.take();
        const seconds = this.number();
        if (!this.isWord('SECONDS')) this.fail('expected SECONDS', this.peek());
        this.take();
        expression = { kind: 'qualified', qualifier: { kind: 'WITHIN', seconds }, operand: expression };
      } else if (this.isWord('REPEATS')) {
        this.take();
        const times = this.number();
        if (!this.isWord('TIMES')) this.fail('expected TIMES', this.peek());
        this.take();
        expression = { kind: 'qualified', qualifier: { kind: 'REPEATS', times }, operand: expression };
      } else if (this.isWord('START')) {
        this.take();
        const start = this.timestamp();
        if (!this.isWord('STOP')) this.fail('expected STOP', this.peek());
        this.take();
        const stop = this.timestamp();
        expression = { kind: 'qualified', qualifier: { kind: 'START', start, stop }, operand: expression };
      } else {
        return expression;
      }
    }
  }

  private number(): number {
    const token = this.take();
    if (token.kind !== 'literal' || token.literal.kind !== 'number') this.fail('expected a number', token);
    return token.literal.value;
  }

  private timestamp(): string {
    const token = this.take();
    if (token.kind !== 'literal' || token.literal.kind !== 'timestamp') {
      this.fail("expected a timestamp literal t'…'", token);
    }
    return token.literal.value;
  }

  private observation(): ObservationExpression {
    const token = this.take();
    if (token.kind === 'punct' && token.value === '[') {
      this.enter(token);
      const comparison = this.comparisonDisjunction();
      this.expectPunct(']');
      this.depth--;
      return { kind: 'observation', comparison };
    }
    if (token.kind === 'punct' && token.value === '(') {
      this.enter(token);
      const expression = this.observationSequence();
      this.expectPunct(')');
      this.depth--;
      return expression;
    }
    return this.fail('expected "[" or "(" to open an observation', token);
  }

  private comparisonDisjunction(): ComparisonExpression {
    return this.comparisonList('or', 'OR', () => this.comparisonConjunction());
  }

  private comparisonConjunction(): ComparisonExpression {
    return this.comparisonList('and', 'AND', () => this.comparison());
  }

  private comparison(): ComparisonExpression {
    if (this.isPunct('(')) {
      const open = this.take();
      this.enter(open);
      const expression = this.comparisonDisjunction();
      this.expectPunct(')');
      this.depth--;
      return expression;
    }
    this.comparisons++;
    if (this.comparisons > MAX_PATTERN_COMPARISONS) {
      throw new PatternSyntaxError(`the pattern has more than ${MAX_PATTERN_COMPARISONS} comparisons`);
    }
    if (this.isWord('EXISTS')) {
      this.take();
      return { kind: 'exists', path: this.objectPath() };
    }
    const path = this.objectPath();
    let negated = false;
    if (this.isWord('NOT')) {
      this.take();
      negated = true;
    }
    const token = this.take();
    if (token.kind === 'operator') {
      return { kind: 'test', path, negated, operator: token.value, value: this.literal() };
    }
    if (token.kind === 'word' && KEYWORD_OPERATORS.has(token.value)) {
      const operator = token.value as ComparisonOperator;
      const value = operator === 'IN' ? this.set() : this.literal();
      return { kind: 'test', path, negated, operator, value };
    }
    return this.fail('expected a comparison operator', token);
  }

  private literal(): Literal {
    const token = this.take();
    if (token.kind !== 'literal') this.fail('expected a literal value', token);
    return token.literal;
  }

  private set(): Literal[] {
    this.expectPunct('(');
    const values: Literal[] = [];
    if (this.isPunct(')')) {
      this.take();
      return values;
    }
    for (;;) {
      values.push(this.literal());
      const token = this.take();
      if (token.kind === 'punct' && token.value === ')') return values;
      if (token.kind !== 'punct' || token.value !== ',') this.fail('expected "," or ")" in a set', token);
      if (values.length >= MAX_PATTERN_COMPARISONS) {
        throw new PatternSyntaxError(`a set has more than ${MAX_PATTERN_COMPARISONS} values`);
      }
    }
  }

  private objectPath(): ObjectPath {
    const type = this.take();
    if (type.kind !== 'word') this.fail('expected an object type such as ipv4-addr', type);
    this.expectPunct(':');
    const steps: PathStep[] = [this.propertyName()];
    for (;;) {
      if (this.isPunct('.')) {
        this.take();
        steps.push(this.propertyName());
      } else if (this.isPunct('[')) {
        this.take();
        const token = this.take();
        if (token.kind === 'punct' && token.value === '*') {
          steps.push({ kind: 'index', index: '*' });
        } else if (
          token.kind === 'literal' &&
          token.literal.kind === 'number' &&
          Number.isInteger(token.literal.value)
        ) {
          steps.push({ kind: 'index', index: token.literal.value });
        } else {
          this.fail('expected a list index or "*"', token);
        }
        this.expectPunct(']');
      } else {
        return { objectType: type.value, steps };
      }
    }
  }

  private propertyName(): PathStep {
    const token = this.take();
    if (token.kind === 'word') return { kind: 'property', name: token.value };
    if (token.kind === 'literal' && token.literal.kind === 'string') {
      return { kind: 'property', name: token.literal.value };
    }
    return this.fail('expected a property name', token);
  }
}

/** `file:hashes.'SHA-256'` as written in STIX, for messages. */
export function formatPath(path: ObjectPath): string {
  let text = `${path.objectType}:`;
  path.steps.forEach((step, index) => {
    if (step.kind === 'index') {
      text += `[${step.index}]`;
      return;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*$/.test(step.name) ? step.name : `'${step.name}'`;
    text += index === 0 ? name : `.${name}`;
  });
  return text;
}

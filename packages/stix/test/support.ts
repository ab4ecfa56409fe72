import { readFileSync, readdirSync } from 'node:fs';
import type { Tlp } from '@renkei/schema';
import { TLP2_MARKING_IDS, type StixImportResult } from '@renkei/stix';

export const EXAMPLES_DIR = new URL('./fixtures/vendor/stix-examples/', import.meta.url);

export function exampleNames(): string[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort();
}

export function readExample(
  name: string,
): Record<string, unknown> & { objects: Array<Record<string, unknown>> } {
  return JSON.parse(readFileSync(new URL(name, EXAMPLES_DIR), 'utf8'));
}

/** A version-4-shaped UUID that reads as its number, so tests can name objects. */
export function uuid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

export const RECEIVED_AT = '2026-03-01T00:00:00.000Z';

export function marking(tlp: Tlp): { object_marking_refs: string[] } {
  return { object_marking_refs: [TLP2_MARKING_IDS[tlp]] };
}

export function bundle(...objects: unknown[]): { type: 'bundle'; id: string; objects: unknown[] } {
  return { type: 'bundle', id: `bundle--${uuid(999_999)}`, objects };
}

const core = (type: string, n: number) => ({
  type,
  spec_version: '2.1',
  id: `${type}--${uuid(n)}`,
  created: '2025-01-01T00:00:00.000Z',
  modified: '2025-01-01T00:00:00.000Z',
});

export function indicator(n: number, pattern: string, extra: Record<string, unknown> = {}) {
  return {
    ...core('indicator', n),
    pattern,
    pattern_type: 'stix',
    valid_from: '2025-01-01T00:00:00.000Z',
    ...extra,
  };
}

export function sdo(type: string, n: number, extra: Record<string, unknown> = {}) {
  return { ...core(type, n), ...extra };
}

export function sco(type: string, n: number, extra: Record<string, unknown>) {
  return { type, spec_version: '2.1', id: `${type}--${uuid(n)}`, ...extra };
}

export function ok(result: StixImportResult) {
  if (!result.ok) throw new Error(`import refused: ${result.error.code}: ${result.error.message}`);
  return result;
}

/** The submission of report `index`, failing the test when it was refused. */
export function ready(result: StixImportResult, index = 0) {
  const report = ok(result).reports[index];
  if (report?.status !== 'ready') throw new Error(`report ${index} is not ready: ${JSON.stringify(report)}`);
  return report.submission;
}

export function outcome(result: StixImportResult, index: number) {
  const found = ok(result).objects.find((object) => object.index === index);
  if (!found) throw new Error(`no outcome for object ${index}`);
  return found;
}

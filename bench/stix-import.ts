/**
 * STIX import and export against their floor: the same bundle text only
 * parsed with JSON.parse, then imported (parse included); views exported,
 * then the same bundle validated against the official schemas. Figures are
 * medians of several rounds in one run, so the ratios mean something on a
 * noisy, shared machine.
 *
 *   node_modules/.bin/tsx bench/stix-import.ts            # 10000 objects, 7 rounds
 *   node_modules/.bin/tsx bench/stix-import.ts 20000 11
 */
// Relative imports: the root package does not depend on the format packages (the lead wires them).
import {
  exportStixBundle,
  importStixBundle,
  TLP2_MARKING_IDS,
  validateStixBundle,
} from '../packages/stix/src/index.js';
import { importMispEvent } from '../packages/misp/src/index.js';

const total = Number(process.argv[2] ?? 10_000);
const rounds = Number(process.argv[3] ?? 7);

const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const address = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const created = {
  spec_version: '2.1',
  created: '2025-01-01T00:00:00.000Z',
  modified: '2025-01-01T00:00:00.000Z',
};

/** A realistic mix: indicators (some OR patterns, some refused), observed data, sightings, one report. */
function bundleText(size: number): string {
  const objects: Array<Record<string, unknown>> = [];
  const refs: string[] = [];
  for (let i = 1; objects.length < size - 1; i++) {
    const id = (type: string) => `${type}--${uuid(i)}`;
    let object: Record<string, unknown>;
    switch (i % 5) {
      case 0:
        object = {
          type: 'observed-data',
          id: id('observed-data'),
          ...created,
          first_observed: '2025-01-02T00:00:00Z',
          last_observed: '2025-01-02T00:00:00Z',
          number_observed: 1,
          objects: {
            '0': { type: 'domain-name', value: `d${i}.example` },
            '1': { type: 'ipv4-addr', value: address(i) },
          },
        };
        break;
      case 1:
        object = {
          type: 'sighting',
          id: id('sighting'),
          ...created,
          first_seen: '2025-01-03T00:00:00Z',
          sighting_of_ref: `indicator--${uuid(i + 1)}`,
        };
        break;
      case 2:
        object = {
          type: 'indicator',
          id: id('indicator'),
          ...created,
          pattern: `[ipv4-addr:value = '${address(i)}' OR url:value = 'http://d${i}.example/x\\'y']`,
          pattern_type: 'stix',
          valid_from: '2025-01-01T00:00:00Z',
        };
        break;
      case 3:
        object = {
          type: 'indicator',
          id: id('indicator'),
          ...created,
          pattern: `[file:hashes.'SHA-256' = '${i.toString(16).padStart(64, '0')}']`,
          pattern_type: 'stix',
          valid_from: '2025-01-01T00:00:00Z',
        };
        break;
      default:
        object = {
          type: 'indicator',
          id: id('indicator'),
          ...created,
          pattern: `[domain-name:value = 'd${i}.example'] FOLLOWEDBY [ipv4-addr:value = '${address(i)}']`,
          pattern_type: 'stix',
          valid_from: '2025-01-01T00:00:00Z',
        };
    }
    objects.push(object);
    refs.push(object.id as string);
  }
  objects.unshift({
    type: 'report',
    id: `report--${uuid(0)}`,
    ...created,
    name: 'Benchmark report',
    published: '2025-01-04T00:00:00Z',
    object_refs: refs,
    object_marking_refs: [TLP2_MARKING_IDS.AMBER],
  });
  return JSON.stringify({ type: 'bundle', id: `bundle--${uuid(0)}`, objects });
}

function mispText(size: number): string {
  const types = ['ip-dst', 'domain', 'url', 'sha256', 'domain|ip', 'filename|md5', 'regkey'];
  const Attribute = Array.from({ length: size }, (_, i) => {
    const type = types[i % types.length]!;
    const value =
      type === 'ip-dst'
        ? address(i)
        : type === 'domain'
          ? `d${i}.example`
          : type === 'url'
            ? `http://d${i}.example/`
            : type === 'sha256'
              ? i.toString(16).padStart(64, '0')
              : type === 'domain|ip'
                ? `d${i}.example|${address(i)}`
                : type === 'filename|md5'
                  ? `f${i}.exe|${i.toString(16).padStart(32, '0')}`
                  : 'HKLM\\Run';
    return {
      type,
      value,
      uuid: uuid(i),
      to_ids: true,
      Sighting: i % 50 === 0 ? [{ type: '1', date_sighting: '1700000000' }] : [],
    };
  });
  return JSON.stringify({
    Event: { uuid: uuid(0), info: 'Benchmark', date: '2025-01-01', Tag: [{ name: 'tlp:green' }], Attribute },
  });
}

function median(run: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

const text = bundleText(total);
const misp = mispText(total);
const views = {
  reports: Array.from({ length: Math.ceil(total / 10) }, (_, i) => ({
    id: `6f1c1f4e-3a8b-4c55-9d55-${i.toString(16).padStart(12, '0')}`,
    title: `Report ${i}`,
    category: 'malware' as const,
    severity: 'high' as const,
    tlp: 'AMBER' as const,
    detectedAt: '2026-01-02T00:00:00Z',
    receivedAt: '2026-01-02T01:00:00Z',
    indicators: [
      { type: 'ipv4' as const, value: address(i) },
      { type: 'domain' as const, value: `d${i}.example` },
      { type: 'cve' as const, value: 'CVE-2024-3400' },
    ],
  })),
};
const exported = exportStixBundle(views).bundle;

const parse = median(() => JSON.parse(text));
const importing = median(() => importStixBundle(text, { receivedAt: '2026-01-01T00:00:00Z' }));
const mispParse = median(() => JSON.parse(misp));
const mispImport = median(() => importMispEvent(misp, { receivedAt: '2026-01-01T00:00:00Z' }));
const exporting = median(() => exportStixBundle(views));
validateStixBundle(exported); // compile the schemas it needs before timing
const validating = median(() => validateStixBundle(exported));

const result = importStixBundle(text, { receivedAt: '2026-01-01T00:00:00Z' });
const mapped = result.ok ? result.objects.filter((o) => o.status === 'mapped').length : 0;
const row = (name: string, ms: number, base?: number) =>
  console.log(
    `${name.padEnd(44)} ${ms.toFixed(1).padStart(9)} ms${base ? `   ${(ms / base).toFixed(1)}x JSON.parse` : ''}`,
  );

console.log(
  `STIX bundle: ${total} objects, ${(text.length / 1e6).toFixed(1)} MB; ${mapped} mapped; median of ${rounds}`,
);
row('JSON.parse of the bundle (floor)', parse);
row('importStixBundle (parse included)', importing, parse);
console.log(`MISP event: ${total} attributes, ${(misp.length / 1e6).toFixed(1)} MB`);
row('JSON.parse of the event (floor)', mispParse);
row('importMispEvent (parse included)', mispImport, mispParse);
console.log(`Export: ${views.reports.length} reports, ${exported.objects.length} STIX objects`);
row('exportStixBundle', exporting);
row('validateStixBundle (schemas already compiled)', validating);

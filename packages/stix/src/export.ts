import { z } from 'zod';
import {
  TLP_LEVELS,
  alertIndicatorSchema,
  alertViewSchema,
  reportCategorySchema,
  sectorSchema,
  severitySchema,
  tlpSchema,
  warningViewSchema,
  type AlertIndicator,
  type Sector,
  type Tlp,
} from '@renkei/schema';
import { stixId } from './ids.js';
import { formatPattern } from './pattern/write.js';
import { TLP2_MARKING_IDS, tlpMarkingDefinition } from './tlp.js';
import { leastRestrictiveTlp } from './values.js';

/**
 * How one organisation appears in a bundle. The policy decides which; the
 * exporter shows no organisation it is not given. `key` names the identity's
 * id: the organisation id for a named one, and for an anonymised one an
 * opaque pseudonym that nobody can compute from the organisation id (a
 * name-based id of the organisation id could be recomputed for every member
 * and would undo the anonymisation).
 */
export const stixIdentityInputSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('named'),
    key: z.string().min(1),
    name: z.string().min(1),
    sectors: z.array(sectorSchema).optional(),
  }),
  z.strictObject({
    kind: z.literal('anonymised'),
    key: z.string().min(1),
    sectors: z.array(sectorSchema).optional(),
  }),
]);
export type StixIdentityInput = z.infer<typeof stixIdentityInputSchema>;

/** A report as the caller may see it, with its indicators in canonical form. */
export const stixReportViewSchema = z.strictObject({
  id: z.uuid(),
  title: z.string().min(1),
  description: z.string().optional(),
  category: reportCategorySchema,
  severity: severitySchema,
  tlp: tlpSchema,
  detectedAt: z.iso.datetime({ offset: true }),
  receivedAt: z.iso.datetime({ offset: true }),
  /** When the report last changed (a tightened TLP); `receivedAt` when absent. */
  modifiedAt: z.iso.datetime({ offset: true }).optional(),
  indicators: z.array(alertIndicatorSchema),
  exercise: z.boolean().default(false),
  author: stixIdentityInputSchema.optional(),
  /** Context the report carries (threat actors, malware, MISP tags…): exported as STIX labels. */
  labels: z.array(z.string()).default([]),
});
export type StixReportView = z.input<typeof stixReportViewSchema>;

export const stixExportInputSchema = z.strictObject({
  hub: z
    .strictObject({ name: z.string().min(1), created: z.iso.datetime({ offset: true }) })
    .default({ name: 'Renkei', created: '2024-01-01T00:00:00.000Z' }),
  reports: z.array(stixReportViewSchema).default([]),
  alerts: z.array(alertViewSchema).default([]),
  warnings: z.array(warningViewSchema).default([]),
  /** How the organisations of an analyst's alert contributions appear, by organisation id; absent ones do not. */
  organisations: z.record(z.string(), stixIdentityInputSchema).default({}),
});
export type StixExportInput = z.input<typeof stixExportInputSchema>;

export type StixObject = { type: string; id: string } & Record<string, unknown>;

export interface StixBundle {
  type: 'bundle';
  id: string;
  objects: StixObject[];
}

export interface StixExport {
  bundle: StixBundle;
  /** Indicators with no STIX form (a CVE id STIX's own syntax refuses): left out, not bent. */
  omitted: Array<{ source: string; indicator: AlertIndicator; reason: string }>;
}

const CVE_FOR_STIX = /^CVE-\d{4}-(0\d{3}|[1-9]\d{3,})$/;

/**
 * A STIX 2.1 bundle of what the caller may see. Ids are name-based and every
 * timestamp comes from the data, so the same input always gives the same
 * bytes; each object carries the canonical TLP 2.0 marking of what it came
 * from. Throws only when the input breaks its own schema (a caller's bug).
 */
export function exportStixBundle(input: StixExportInput): StixExport {
  const { hub, reports, alerts, warnings, organisations } = stixExportInputSchema.parse(input);
  const objects = new Map<string, StixObject>();
  const omitted: StixExport['omitted'] = [];
  /** For each identity: the TLPs of the objects that point to it. */
  const identityReferrers = new Map<string, Tlp[]>();
  const identityInputs = new Map<string, StixIdentityInput>();

  const hubId = stixId('identity', `hub:${hub.name}`);
  const hubCreated = stamp(hub.created);

  const add = (object: StixObject): string => {
    if (!objects.has(object.id)) objects.set(object.id, object);
    return object.id;
  };
  const refer = (identity: StixIdentityInput | undefined, tlp: Tlp): string | undefined => {
    if (identity === undefined) return undefined;
    const id = stixId('identity', `${identity.kind}:${identity.key}`);
    if (!identityInputs.has(id)) identityInputs.set(id, identity);
    identityReferrers.set(id, [...(identityReferrers.get(id) ?? []), tlp]);
    return id;
  };

  /** The indicator (or, for a CVE, vulnerability) object of one indicator in one source. */
  const indicatorObject = (
    source: string,
    indicator: AlertIndicator,
    common: { createdBy: string; created: string; modified: string; validFrom: string; tlp: Tlp },
  ): string | undefined => {
    const times = { created: common.created, modified: later(common.created, common.modified) };
    const marking = { object_marking_refs: [TLP2_MARKING_IDS[common.tlp]] };
    const derived = indicator.derived ? { labels: ['renkei:derived'] } : {};
    if (indicator.type === 'cve') {
      const cve = indicator.value.trim().toUpperCase();
      if (!CVE_FOR_STIX.test(cve)) {
        omitted.push({ source, indicator, reason: `"${indicator.value}" is not a CVE id STIX accepts` });
        return undefined;
      }
      return add({
        type: 'vulnerability',
        spec_version: '2.1',
        id: stixId('vulnerability', `${source}:cve:${cve}`),
        created_by_ref: common.createdBy,
        ...times,
        name: cve,
        external_references: [{ source_name: 'cve', external_id: cve }],
        ...derived,
        ...marking,
      });
    }
    return add({
      type: 'indicator',
      spec_version: '2.1',
      id: stixId('indicator', `${source}:${indicator.type}:${indicator.value}`),
      created_by_ref: common.createdBy,
      ...times,
      name: indicator.value,
      pattern: formatPattern(indicator.type, indicator.value),
      pattern_type: 'stix',
      pattern_version: '2.1',
      valid_from: common.validFrom,
      ...derived,
      ...marking,
    });
  };

  const reportIds = new Map<string, string>();
  for (const report of reports) {
    const source = `report:${report.id}`;
    const createdBy = refer(report.author, report.tlp) ?? hubId;
    const created = stamp(report.receivedAt);
    const modified = later(created, stamp(report.modifiedAt ?? report.receivedAt));
    const detected = stamp(report.detectedAt);
    const refs: string[] = [];
    for (const indicator of report.indicators) {
      const of = indicatorObject(source, indicator, {
        createdBy,
        created,
        modified,
        validFrom: detected,
        tlp: report.tlp,
      });
      if (of === undefined) continue;
      refs.push(of);
      // The report says its author saw the observable when the incident was detected: a sighting
      // (none for a CVE, which is a weakness, not something seen).
      if (indicator.type === 'cve') continue;
      const seenBy = report.author ? createdBy : undefined;
      refs.push(
        add({
          type: 'sighting',
          spec_version: '2.1',
          id: stixId('sighting', `${source}:${indicator.type}:${indicator.value}`),
          created_by_ref: createdBy,
          created,
          modified,
          first_seen: detected,
          last_seen: detected,
          count: 1,
          sighting_of_ref: of,
          ...(seenBy ? { where_sighted_refs: [seenBy] } : {}),
          object_marking_refs: [TLP2_MARKING_IDS[report.tlp]],
        }),
      );
    }
    const id = add({
      type: 'report',
      spec_version: '2.1',
      id: stixId('report', source),
      created_by_ref: createdBy,
      created,
      modified,
      name: report.title,
      ...(report.description ? { description: report.description } : {}),
      report_types: ['threat-report'],
      published: created,
      // A report must refer to something; one without indicators refers to its author.
      object_refs: refs.length ? unique(refs) : [createdBy],
      labels: [
        `renkei:category=${report.category}`,
        `renkei:severity=${report.severity}`,
        ...exerciseLabel(report.exercise),
        ...report.labels,
      ],
      ...exerciseProperty(report.exercise),
      object_marking_refs: [TLP2_MARKING_IDS[report.tlp]],
    });
    reportIds.set(report.id, id);
  }

  const alertIds = new Map<string, string>();
  for (const alert of alerts) alertIds.set(alert.id, stixId('grouping', `alert:${alert.id}`));

  for (const alert of alerts) {
    const source = `alert:${alert.id}`;
    const created = stamp(alert.createdAt);
    const modified = later(created, stamp(alert.updatedAt));
    const common = { createdBy: hubId, created, modified, validFrom: created, tlp: alert.tlp };
    const indicatorIds = new Map<string, string | undefined>();
    const indicatorFor = (indicator: AlertIndicator) => {
      const key = `${indicator.type}:${indicator.value}`;
      if (!indicatorIds.has(key)) indicatorIds.set(key, indicatorObject(source, indicator, common));
      return indicatorIds.get(key);
    };
    alert.indicators.forEach(indicatorFor);
    const sightings = alert.contributions
      ? alert.contributions.flatMap((contribution) =>
          contribution.indicators.flatMap((indicator) => {
            const of = indicatorFor(indicator);
            if (of === undefined) return [];
            const seenBy = refer(organisations[contribution.organisationId], contribution.tlp);
            const sightingCreated = stamp(contribution.receivedAt);
            return [
              add({
                type: 'sighting',
                spec_version: '2.1',
                id: stixId(
                  'sighting',
                  `${source}:report:${contribution.reportId}:${indicator.type}:${indicator.value}`,
                ),
                created_by_ref: hubId,
                created: sightingCreated,
                modified: later(sightingCreated, modified),
                first_seen: stamp(contribution.detectedAt),
                last_seen: stamp(contribution.detectedAt),
                count: 1,
                sighting_of_ref: of,
                ...(seenBy ? { where_sighted_refs: [seenBy] } : {}),
                object_marking_refs: [TLP2_MARKING_IDS[contribution.tlp]],
              }),
            ];
          }),
        )
      : alert.indicators.flatMap((indicator) => {
          const of = indicatorFor(indicator);
          if (of === undefined) return [];
          return [
            add({
              type: 'sighting',
              spec_version: '2.1',
              id: stixId('sighting', `${source}:${indicator.type}:${indicator.value}`),
              created_by_ref: hubId,
              created,
              modified,
              // Only a shared-indicator alert counts the organisations that reported this one indicator.
              ...(alert.kind === 'shared-indicator' ? { count: alert.organisationCount } : {}),
              sighting_of_ref: of,
              summary: true,
              object_marking_refs: [TLP2_MARKING_IDS[alert.tlp]],
            }),
          ];
        });
    const refs = unique([
      ...[...indicatorIds.values()].filter((id): id is string => id !== undefined),
      ...sightings,
      ...alert.reportIds.flatMap((id) => (reportIds.has(id) ? [reportIds.get(id)!] : [])),
      ...alert.relatedAlertIds.flatMap((id) => (alertIds.has(id) ? [alertIds.get(id)!] : [])),
    ]);
    add({
      type: 'grouping',
      spec_version: '2.1',
      id: alertIds.get(alert.id)!,
      created_by_ref: hubId,
      created,
      modified,
      name: alert.title,
      description: alert.reasons.join('\n'),
      context: 'suspicious-activity',
      // A grouping must refer to something; a sector surge without visible reports refers to the hub.
      object_refs: refs.length ? refs : [hubId],
      labels: [
        `renkei:alert-kind=${alert.kind}`,
        `renkei:severity=${alert.severity}`,
        ...alert.sectors.map((sector) => `renkei:sector=${sector}`),
        ...(alert.tooCommon ? ['renkei:too-common'] : []),
        ...exerciseLabel(alert.exercise),
      ],
      ...exerciseProperty(alert.exercise),
      object_marking_refs: [TLP2_MARKING_IDS[alert.tlp]],
    });
  }

  for (const warning of warnings) {
    const source = `warning:${warning.id}`;
    const published = stamp(warning.publishedAt);
    const common = {
      createdBy: hubId,
      created: published,
      modified: published,
      validFrom: published,
      tlp: warning.tlp,
    };
    const refs = unique([
      ...warning.indicators
        .map((indicator) => indicatorObject(source, indicator, common))
        .filter((id): id is string => id !== undefined),
      ...warning.alertIds.flatMap((id) => (alertIds.has(id) ? [alertIds.get(id)!] : [])),
    ]);
    add({
      type: 'report',
      spec_version: '2.1',
      id: stixId('report', source),
      created_by_ref: hubId,
      created: published,
      modified: published,
      name: warning.title,
      description: warning.body,
      report_types: ['threat-report'],
      published,
      object_refs: refs.length ? refs : [hubId],
      labels: [
        'renkei:warning',
        `renkei:severity=${warning.severity}`,
        ...(warning.sectors === 'all'
          ? ['renkei:sector=all']
          : warning.sectors.map((sector) => `renkei:sector=${sector}`)),
        ...exerciseLabel(warning.exercise),
      ],
      ...exerciseProperty(warning.exercise),
      object_marking_refs: [TLP2_MARKING_IDS[warning.tlp]],
    });
  }

  const identities: StixObject[] = [
    {
      type: 'identity',
      spec_version: '2.1',
      id: hubId,
      created: hubCreated,
      modified: hubCreated,
      name: hub.name,
      identity_class: 'organization',
      // The hub's existence is public: everyone may know who published what it sends.
      object_marking_refs: [TLP2_MARKING_IDS.CLEAR],
    },
  ];
  for (const [id, identity] of [...identityInputs].sort(([a], [b]) => compare(a, b))) {
    // An identity is disclosed by whatever points to it, so it may go as far as the least restricted of those.
    const tlp = leastRestrictiveTlp(identityReferrers.get(id)!)!;
    identities.push({
      type: 'identity',
      spec_version: '2.1',
      id,
      created: hubCreated,
      modified: hubCreated,
      name: identity.kind === 'named' ? identity.name : anonymisedName(identity.sectors),
      identity_class: 'organization',
      ...(identity.sectors?.length ? { sectors: [...identity.sectors] } : {}),
      object_marking_refs: [TLP2_MARKING_IDS[tlp]],
    });
  }

  const rest = [...objects.values()].sort((a, b) => compare(a.type, b.type) || compare(a.id, b.id));
  const used = new Set<string>();
  for (const object of [...identities, ...rest]) {
    for (const ref of object.object_marking_refs as string[]) used.add(ref);
  }
  const markings = TLP_LEVELS.filter((tlp) => used.has(TLP2_MARKING_IDS[tlp])).map(
    (tlp) => tlpMarkingDefinition(tlp) as unknown as StixObject,
  );
  const all = [...markings, ...identities, ...rest];
  return {
    bundle: { type: 'bundle', id: stixId('bundle', JSON.stringify(all)), objects: all },
    omitted,
  };
}

/** A STIX timestamp: UTC, millisecond precision, as `created` and `modified` require. */
function stamp(time: string): string {
  return new Date(time).toISOString();
}

function later(a: string, b: string): string {
  return a > b ? a : b;
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function exerciseLabel(exercise: boolean): string[] {
  return exercise ? ['exercise'] : [];
}

/** Drills must never pass for real incidents, in tools that show labels and in those that read properties. */
function exerciseProperty(exercise: boolean): { x_renkei_exercise?: true } {
  return exercise ? { x_renkei_exercise: true } : {};
}

function anonymisedName(sectors: readonly Sector[] | undefined): string {
  return sectors?.length ? `An organisation of the ${sectors.join(', ')} sector` : 'An organisation';
}

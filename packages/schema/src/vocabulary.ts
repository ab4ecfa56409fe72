import { z } from 'zod';
import { INDICATOR_TYPES } from '@renkei/indicators';

// Owned by the indicators package, which depends on nothing of the hub's.
export { INDICATOR_TYPES };

/** TLP 2.0 labels, ordered from least to most restrictive. */
export const TLP_LEVELS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'] as const;
export const tlpSchema = z.enum(TLP_LEVELS);
export type Tlp = z.infer<typeof tlpSchema>;

/** Ordered from least to most severe. */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const severitySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof severitySchema>;

export const REPORT_CATEGORIES = [
  'targeted-attack',
  'malware',
  'phishing',
  'ddos',
  'intrusion',
  'vulnerability-exploit',
  'data-breach',
  'defacement',
  'service-outage',
  'control-system',
  'mobile',
  'other',
] as const;
export const reportCategorySchema = z.enum(REPORT_CATEGORIES);
export type ReportCategory = z.infer<typeof reportCategorySchema>;

export const indicatorTypeSchema = z.enum(INDICATOR_TYPES);
export type IndicatorType = z.infer<typeof indicatorTypeSchema>;

/** Critical-infrastructure sectors, plus the agencies themselves (`central-government`). */
export const SECTORS = [
  'telecom',
  'finance',
  'aviation',
  'railway',
  'electricity',
  'gas',
  'local-government',
  'healthcare',
  'water',
  'logistics',
  'chemical',
  'credit-card',
  'petroleum',
  'central-government',
] as const;
export const sectorSchema = z.enum(SECTORS);
export type Sector = z.infer<typeof sectorSchema>;

export const ROLES = ['reporter', 'ceptar', 'analyst', 'admin'] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

/**
 * The roles demo sign-in (development mode) may hand out. Never `admin`: an
 * admin token reads the audit log and changes the registry, and demo sign-in
 * asks for no credential at all.
 */
export const demoRoleSchema = roleSchema.exclude(['admin'], {
  error: (issue) =>
    issue.input === 'admin'
      ? 'admin is never minted by demo sign-in: use `renkei token --org gsoc --role admin` on the hub'
      : undefined,
});
export type DemoRole = z.infer<typeof demoRoleSchema>;

/** Organisation ids are slugs so they are safe in logs, URLs and Kafka headers. */
export const organisationIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a lower-case slug (a-z, 0-9, "-"), at most 63 characters');
export type OrganisationId = z.infer<typeof organisationIdSchema>;

// Here rather than in triage.ts, so alert pages can carry the status without an import cycle.
/** An alert's triage status: `new` → `acknowledged` → `investigating` → `resolved` | `false-positive`. */
export const TRIAGE_STATUSES = [
  'new',
  'acknowledged',
  'investigating',
  'resolved',
  'false-positive',
] as const;
export const triageStatusSchema = z.enum(TRIAGE_STATUSES);
export type TriageStatus = z.infer<typeof triageStatusSchema>;

// The public HTTP routes the console uses, each answer checked with the
// shared schema: a console and a hub of different versions fail loudly.
import { z } from 'zod';
import {
  alertDetailSchema,
  alertPageSchema,
  alertSummarySchema,
  auditEventSchema,
  bulkTriageResultSchema,
  exclusionSchema,
  organisationSchema,
  watchlistEntrySchema,
  type BulkTriage,
  type OrganisationSubmission,
  demoRoleSchema,
  myReportPageSchema,
  organisationIdSchema,
  organisationKindSchema,
  sectorSchema,
  triageUpdateSchema,
  warningAckSchema,
  warningViewSchema,
  warningDetailSchema,
  warningPageSchema,
  exerciseRunViewSchema,
  exerciseTaskViewSchema,
  lookupAnswerSchema,
  readableReportSchema,
  searchAnswerSchema,
  type ReportSubmission,
  type TriageStatus,
  type WarningSubmission,
} from '@renkei/schema';

export const consoleConfigSchema = z.object({
  ingestUrl: z.string(),
  devMode: z.boolean(),
  heartbeatMs: z.number().int().positive().default(30_000),
});
export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;

export const demoIdentitiesSchema = z.object({
  items: z.array(
    z.object({
      organisationId: organisationIdSchema,
      name: z.string(),
      sector: sectorSchema,
      kind: organisationKindSchema,
      // Demo sign-in never offers admin: administrators sign in with a token from `renkei token`.
      roles: z.array(demoRoleSchema),
    }),
  ),
});

const errorBodySchema = z.object({
  code: z.string(),
  message: z.string(),
  fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

/** A refused request, with the hub's code and the fields it named. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

async function call<T>(
  url: string,
  schema: z.ZodType<T>,
  init: { method?: string; token?: string; body?: unknown } = {},
): Promise<T> {
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const body: unknown = response.status === 204 ? null : await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = errorBodySchema.safeParse(body);
    if (error.success)
      throw new ApiError(response.status, error.data.code, error.data.message, error.data.fields);
    throw new ApiError(response.status, 'HTTP', `HTTP ${response.status}`);
  }
  return schema.parse(body);
}

const itemsOf = <T>(item: z.ZodType<T>) => z.object({ items: z.array(item) });

export function createApi(gatewayUrl: string, ingestUrl: string, token: string) {
  const gateway = (path: string) => `${gatewayUrl.replace(/\/$/, '')}${path}`;
  return {
    alerts: (limit = 200, before?: string) =>
      call(
        gateway(`/v1/alerts?limit=${limit}${before ? `&before=${encodeURIComponent(before)}` : ''}`),
        alertPageSchema,
        { token },
      ),
    summary: () => call(gateway('/v1/alerts/summary'), alertSummarySchema, { token }),
    bulkTriage: (request: BulkTriage) =>
      call(gateway('/v1/alerts/triage'), bulkTriageResultSchema, { method: 'POST', token, body: request }),
    watchlist: () => call(gateway('/v1/watchlist'), itemsOf(watchlistEntrySchema), { token }),
    addWatchlist: (entry: { type: string; value: string; note: string }) =>
      call(gateway('/v1/watchlist'), watchlistEntrySchema, { method: 'POST', token, body: entry }),
    removeWatchlist: (id: string) =>
      call(gateway(`/v1/watchlist/${encodeURIComponent(id)}`), z.null(), { method: 'DELETE', token }),
    exclusions: () => call(gateway('/v1/exclusions'), itemsOf(exclusionSchema), { token }),
    addExclusion: (entry: { type: string; value?: string; cidr?: string; note: string }) =>
      call(gateway('/v1/exclusions'), exclusionSchema, { method: 'POST', token, body: entry }),
    removeExclusion: (id: string) =>
      call(gateway(`/v1/exclusions/${encodeURIComponent(id)}`), z.null(), { method: 'DELETE', token }),
    organisations: () => call(gateway('/v1/organisations'), itemsOf(organisationSchema), { token }),
    addOrganisation: (organisation: OrganisationSubmission) =>
      call(gateway('/v1/organisations'), organisationSchema, { method: 'POST', token, body: organisation }),
    setOrganisationEnabled: (id: string, enabled: boolean) =>
      call(
        gateway(`/v1/organisations/${encodeURIComponent(id)}/${enabled ? 'enable' : 'disable'}`),
        organisationSchema,
        { method: 'POST', token, body: {} },
      ),
    audit: (filters: Record<string, string>) =>
      call(
        gateway(`/v1/audit?${new URLSearchParams({ limit: '100', ...filters }).toString()}`),
        z.object({ items: z.array(auditEventSchema), nextBefore: z.string().nullable() }),
        { token },
      ),
    alert: (id: string) =>
      call(gateway(`/v1/alerts/${encodeURIComponent(id)}`), alertDetailSchema, { token }),
    setStatus: (id: string, status: TriageStatus, note?: string) =>
      call(gateway(`/v1/alerts/${id}/status`), triageUpdateSchema, {
        method: 'POST',
        token,
        body: note ? { status, note } : { status },
      }),
    assign: (id: string, assignee: string | null) =>
      call(gateway(`/v1/alerts/${id}/assignee`), triageUpdateSchema, {
        method: 'POST',
        token,
        body: { assignee },
      }),
    note: (id: string, text: string) =>
      call(gateway(`/v1/alerts/${id}/notes`), triageUpdateSchema, { method: 'POST', token, body: { text } }),
    warnings: () => call(gateway('/v1/warnings?limit=100'), warningPageSchema, { token }),
    warning: (id: string) => call(gateway(`/v1/warnings/${id}`), warningDetailSchema, { token }),
    publishWarning: (warning: WarningSubmission) =>
      call(gateway('/v1/warnings'), warningViewSchema, { method: 'POST', token, body: warning }),
    acknowledgeWarning: (id: string) =>
      call(gateway(`/v1/warnings/${id}/ack`), warningAckSchema, { method: 'POST', token, body: {} }),
    myReports: () => call(gateway('/v1/reports?limit=50'), myReportPageSchema, { token }),
    /** `extra`: `page` (a group's `next`), `type`, `limit` and the other filters of `GET /v1/search`. */
    search: (q: string, extra: Record<string, string> = {}) =>
      call(gateway(`/v1/search?${new URLSearchParams({ q, ...extra }).toString()}`), searchAnswerSchema, {
        token,
      }),
    /** Analysts get each run as the control sees it; participants their tasks. */
    exercises: () =>
      call(gateway('/v1/exercises'), itemsOf(z.union([exerciseRunViewSchema, exerciseTaskViewSchema])), {
        token,
      }),
    exercise: (id: string) =>
      call(
        gateway(`/v1/exercises/${encodeURIComponent(id)}`),
        z.union([exerciseRunViewSchema, exerciseTaskViewSchema]),
        {
          token,
        },
      ),
    lookup: (values: string[]) =>
      call(gateway('/v1/lookup'), lookupAnswerSchema, { method: 'POST', token, body: { values } }),
    report: (id: string) =>
      call(gateway(`/v1/reports/${encodeURIComponent(id)}`), readableReportSchema, { token }),
    submitReport: (report: ReportSubmission) =>
      call(`${ingestUrl.replace(/\/$/, '')}/v1/reports`, z.object({ id: z.string(), status: z.string() }), {
        method: 'POST',
        token,
        body: report,
      }),
  };
}
export type Api = ReturnType<typeof createApi>;

export const fetchConsoleConfig = (gatewayUrl: string) =>
  call(`${gatewayUrl}/console-config.json`, consoleConfigSchema);
export const fetchDemoIdentities = (gatewayUrl: string) =>
  call(`${gatewayUrl}/v1/dev/identities`, demoIdentitiesSchema);
export const mintDemoToken = (gatewayUrl: string, organisationId: string, role: string) =>
  call(`${gatewayUrl}/v1/dev/token`, z.object({ token: z.string() }), {
    method: 'POST',
    body: { organisationId, role },
  });

/** The principal a token names, read (not verified: the hub verifies) to decide what the page shows. */
export function tokenClaims(
  token: string,
): { sub: string; org: string; sector: string; roles: string[] } | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const claims = z
      .object({ sub: z.string(), org: z.string(), sector: z.string(), roles: z.array(z.string()) })
      .safeParse(JSON.parse(json));
    return claims.success ? claims.data : null;
  } catch {
    return null;
  }
}

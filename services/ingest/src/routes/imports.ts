import { z } from 'zod';
import { principalOf, requireAnyRole } from '@renkei/auth';
import { annotateRequest, errorReplies, invalidField, type HttpServer } from '@renkei/http';
import { importMispEvent } from '@renkei/misp';
import { REPORTING_ROLES } from '@renkei/policy';
import { isRenkeiError, RenkeiError } from '@renkei/runtime';
import {
  importAnswerSchema,
  reportSchema,
  tlpSchema,
  type ImportAnswer,
  type Principal,
  type Tlp,
} from '@renkei/schema';
import { importStixBundle } from '@renkei/stix';
import { contentSha256 } from '../content-hash.js';
import { envelopeFor } from '../envelope.js';
import {
  importAnswer,
  planMispImport,
  planStixImport,
  type ImportPlan,
  type SubmittedOutcome,
} from '../import-plan.js';
import type { SubmissionBatcher } from '../submission-batcher.js';

export interface ImportRoutesDeps {
  submissions: Pick<SubmissionBatcher, 'submit'>;
  /** The hub's import-id key (`deriveHubKey(secret, 'import-id')`): report ids nobody else can compute. */
  importIdKey: Uint8Array;
  /** The largest bundle or event accepted, in bytes (a 10,000-object bundle is a few MiB). */
  maxBodyBytes: number;
}

/** The media types a STIX 2.1 bundle comes in; both go through the hub's JSON parser. */
export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';

const importReplies = {
  202: importAnswerSchema,
  ...errorReplies(
    'RENKEI_INVALID_REQUEST',
    'RENKEI_FORBIDDEN',
    'RENKEI_IMPORT_REFUSED',
    'RENKEI_PAYLOAD_TOO_LARGE',
    'RENKEI_UNSUPPORTED_MEDIA_TYPE',
    'RENKEI_RATE_LIMITED',
    'RENKEI_UNAVAILABLE',
  ),
};

/** Any JSON object: what is in it is the importer's to judge, object by object. */
const anyObject = z.record(z.string(), z.unknown());

/**
 * `POST /v1/stix/bundles` and `POST /v1/misp/events`. Each report made of the
 * input goes through the same batcher as `POST /v1/reports`, with an id derived
 * under the hub's key from the organisation and the source's id and version, so
 * a 202 means Kafka holds every report listed as accepted, a retried import
 * stores nothing twice, and no other organisation can compute the id.
 */
export function importRoutes(app: HttpServer, deps: ImportRoutesDeps): void {
  app.post(
    '/v1/stix/bundles',
    {
      bodyLimit: deps.maxBodyBytes,
      schema: {
        summary: 'Import a STIX 2.1 bundle: one report per report, incident or grouping (or for the bundle)',
        description:
          `Send \`${STIX_MEDIA_TYPE}\` or \`application/json\`. Answered 202 once Kafka holds every report listed ` +
          'as accepted; each object says whether it was mapped, and why not. What carries no TLP marking takes the TLP ' +
          'the sender declares with `?tlp=` (or the `Renkei-Declared-Tlp` header); a marking inside the bundle wins where ' +
          'it is stricter. Without a declaration, a bundle with no TLP marking is a 400 naming `object_marking_refs`; ' +
          'one of which no report could be made is a 422. Importing it again stores nothing twice.',
        tags: ['imports'],
        querystring: z.object({ tlp: tlpSchema.optional() }),
        headers: z.object({ 'renkei-declared-tlp': tlpSchema.optional() }).loose(),
        body: anyObject,
        response: importReplies,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireAnyRole(principal, REPORTING_ROLES);
      const answer = await importStix(
        deps,
        principal,
        asBundle(request.body),
        declaredTlp(request.query.tlp, request.headers['renkei-declared-tlp']).declaredTlp,
      );
      annotateRequest(request, {
        imported: answer.summary.reportsAccepted,
        unmapped: answer.summary.unmapped,
      });
      return reply.status(202).send(answer);
    },
  );

  app.post(
    '/v1/misp/events',
    {
      bodyLimit: deps.maxBodyBytes,
      schema: {
        summary: 'Import a MISP event ({"Event": {…}}, or the event bare) as one report',
        description:
          'Answered 202 once Kafka holds the report; each attribute says whether it was mapped, and why not. ' +
          'An event without a `tlp:` tag takes the TLP the sender declares with `?tlp=`; without one it is a 400 ' +
          'naming `Event.Tag`. A tag still wins where it is stricter. Importing it again stores nothing twice.',
        tags: ['imports'],
        querystring: z.object({ tlp: tlpSchema.optional() }),
        body: anyObject,
        response: importReplies,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireAnyRole(principal, REPORTING_ROLES);
      const answer = await importMisp(deps, principal, request.body, request.query.tlp);
      annotateRequest(request, {
        imported: answer.summary.reportsAccepted,
        unmapped: answer.summary.unmapped,
      });
      return reply.status(202).send(answer);
    },
  );
}

/** What an import needs of ingest: the batcher and the hub's import-id key. */
export type ImportDeps = Pick<ImportRoutesDeps, 'submissions' | 'importIdKey'>;

/**
 * A STIX bundle imported for `principal`: the path of `POST /v1/stix/bundles`,
 * which partner feeds take too. Throws the route's RenkeiError when refused.
 */
export async function importStix(
  deps: ImportDeps,
  principal: Principal,
  bundle: Record<string, unknown>,
  declared: Tlp | undefined,
): Promise<ImportAnswer> {
  const receivedAt = new Date().toISOString();
  const plan = planStixImport(
    importStixBundle(bundle, {
      receivedAt,
      ids: { key: deps.importIdKey, scope: principal.organisationId },
      ...(declared === undefined ? {} : { declaredTlp: declared }),
    }),
  );
  return submitPlan(deps, principal, plan, receivedAt);
}

/** A MISP event imported for `principal`: the path of `POST /v1/misp/events`, which partner feeds take too. */
export async function importMisp(
  deps: ImportDeps,
  principal: Principal,
  event: unknown,
  declared: Tlp | undefined,
): Promise<ImportAnswer> {
  const receivedAt = new Date().toISOString();
  const plan = planMispImport(
    importMispEvent(event, {
      receivedAt,
      ids: { key: deps.importIdKey, scope: principal.organisationId },
      ...(declared === undefined ? {} : { declaredTlp: declared }),
    }),
  );
  return submitPlan(deps, principal, plan, receivedAt);
}

/** The sender's declared TLP, from the query or the header; both given must agree. */
function declaredTlp(query: Tlp | undefined, header: Tlp | undefined): { declaredTlp?: Tlp } {
  if (query !== undefined && header !== undefined && query !== header) {
    throw invalidField('tlp', `is ${query}, but the Renkei-Declared-Tlp header says ${header}`);
  }
  const tlp = query ?? header;
  return tlp === undefined ? {} : { declaredTlp: tlp };
}

/**
 * A TAXII envelope (`{"objects": […]}`, what a TAXII add carries) has no
 * bundle id, and report ids are named from it: it gets one named from its
 * content, so the same envelope sent again makes the same reports.
 */
export function asBundle(body: Record<string, unknown>): Record<string, unknown> {
  if (body.type !== undefined || body.id !== undefined || !Array.isArray(body.objects)) return body;
  const hex = contentSha256(body.objects);
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  return { type: 'bundle', id: `bundle--${id}`, objects: body.objects };
}

/**
 * Submits every planned report and waits for all of them: a failure other
 * than a conflict (Kafka did not acknowledge) fails the whole request with
 * its 503, and the client's retry resubmits the same ids.
 */
async function submitPlan(
  deps: ImportDeps,
  principal: Principal,
  plan: ImportPlan,
  receivedAt: string,
): Promise<ImportAnswer> {
  if (!plan.ok) {
    const { refusal } = plan;
    const message = refusal.fields.map((f) => `${f.field}: ${f.message}`).join('; ');
    throw new RenkeiError(
      refusal.kind === 'invalid' ? 'RENKEI_INVALID_REQUEST' : 'RENKEI_IMPORT_REFUSED',
      message,
      { details: { fields: refusal.fields } },
    );
  }
  const submitted = plan.reports.flatMap(({ submission }, index) => {
    if (!submission) return [];
    // Every import names its reports (idScope); an id-less one would be stored again on a retry.
    if (!submission.id) throw new Error(`report ${index} of an import has no name-based id`);
    // The same parse as `POST /v1/reports`, so defaults and the content hash are the same.
    const report = reportSchema.parse({ ...submission, id: submission.id });
    const envelope = envelopeFor(principal, report, receivedAt);
    return [{ index, outcome: deps.submissions.submit(envelope) }];
  });
  const settled = await Promise.allSettled(submitted.map((item) => item.outcome));
  const outcomes = new Map<number, SubmittedOutcome>();
  for (const [i, result] of settled.entries()) {
    const { index } = submitted[i]!;
    if (result.status === 'fulfilled') outcomes.set(index, result.value);
    else if (isRenkeiError(result.reason) && result.reason.code === 'RENKEI_CONFLICT')
      outcomes.set(index, 'conflict');
    else if (isRenkeiError(result.reason) && result.reason.code === 'RENKEI_PAYLOAD_TOO_LARGE')
      outcomes.set(index, 'too-large');
    else throw result.reason;
  }
  return importAnswer(plan, outcomes);
}

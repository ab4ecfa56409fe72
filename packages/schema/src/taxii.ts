import { z } from 'zod';

/**
 * The TAXII 2.1 error resource (CS01 §3.6.1): what every TAXII route answers
 * on an error, with the TAXII media type, whichever part of the hub refused
 * the request (the token check, a rate limit, the route, the router).
 * `http_status` is a string in the specification; the hub always sets it,
 * with `error_code` carrying the hub's own code (ERRORS.md).
 */
export const taxiiErrorSchema = z.object({
  title: z.string().min(1),
  description: z.string().optional(),
  error_id: z.string().optional(),
  error_code: z.string().optional(),
  http_status: z.string().regex(/^[45]\d\d$/),
  external_details: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type TaxiiError = z.infer<typeof taxiiErrorSchema>;

const statusDetailSchema = z.object({
  id: z.string().min(1),
  version: z.string().optional(),
  message: z.string().optional(),
});

/**
 * The TAXII 2.1 status resource (CS01 §4.3.1): every required field, and the
 * counts agreeing with the lists the hub always gives (each list is optional
 * in the specification; the hub sends all three, empty when nothing is in it).
 */
export const taxiiStatusSchema = z
  .object({
    id: z.string().min(1),
    status: z.enum(['complete', 'pending']),
    request_timestamp: z.iso.datetime({ offset: true }).optional(),
    total_count: z.number().int().min(0),
    success_count: z.number().int().min(0),
    successes: z.array(statusDetailSchema).optional(),
    failure_count: z.number().int().min(0),
    failures: z.array(statusDetailSchema).optional(),
    pending_count: z.number().int().min(0),
    pendings: z.array(statusDetailSchema).optional(),
  })
  .superRefine((status, ctx) => {
    if (status.success_count + status.failure_count + status.pending_count !== status.total_count) {
      ctx.addIssue({
        code: 'custom',
        message: 'success, failure and pending counts do not add up to total_count',
      });
    }
    for (const [list, count] of [
      ['successes', status.success_count],
      ['failures', status.failure_count],
      ['pendings', status.pending_count],
    ] as const) {
      const given = status[list];
      if (given !== undefined && given.length !== count) {
        ctx.addIssue({
          code: 'custom',
          path: [list],
          message: `lists ${given.length}, the count says ${count}`,
        });
      }
    }
  });
export type TaxiiStatusResource = z.infer<typeof taxiiStatusSchema>;

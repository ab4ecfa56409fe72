import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import { invalidRequest } from './errors.js';

/**
 * Validates each part of a request with the zod schema its route declares and
 * hands the route the parsed value (defaults applied, strings trimmed). A
 * failure is the hub's 400 naming every bad field as a client writes it:
 * `indicators[1].type` in a body, `limit` in a query string.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema }) =>
  (data) => {
    const result = schema.safeParse(data);
    return result.success ? { value: result.data } : { error: invalidRequest(result.error) };
  };

import { ERROR_CODES, type HttpErrorCode } from '@renkei/runtime';
import { errorReplySchema } from './errors.js';

/**
 * Response schemas for the error statuses a route can answer, so the OpenAPI
 * document lists them: `errorReplies('RENKEI_INVALID_REQUEST', 'RENKEI_NOT_FOUND')`.
 * 401, 429 (writes are limited and reads budgeted per organisation) and 500
 * apply to every protected route and are always included.
 */
export function errorReplies(...codes: HttpErrorCode[]): Record<number, typeof errorReplySchema> {
  const statuses = new Set<number>([401, 429, 500, ...codes.map((code) => ERROR_CODES[code].status)]);
  return Object.fromEntries([...statuses].sort().map((status) => [status, errorReplySchema]));
}

import type { IHeaders } from 'kafkajs';

/**
 * Header names the hub sets on its messages. The report id travels on every
 * message a report causes, so one report can be followed through every service.
 */
export const HEADERS = {
  reportId: 'renkei-report-id',
  messageType: 'renkei-message-type',
  alertId: 'renkei-alert-id',
  alertVersion: 'renkei-alert-version',
  feedPosition: 'renkei-feed-position',
  contentType: 'content-type',
} as const;

export function readHeader(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined || first === null) return undefined;
  return Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
}

/**
 * A message of the reports topic (a report, or a change to one): keyed by the
 * report id, so everything about one report lands on one partition in order,
 * and carrying it in the headers for tracing.
 */
export function reportsTopicMessage(
  reportId: string,
  payload: { schema: string },
  /** The payload already serialised, when the caller has it. */
  json: string = JSON.stringify(payload),
) {
  return {
    key: reportId,
    value: json,
    headers: {
      [HEADERS.reportId]: reportId,
      [HEADERS.messageType]: payload.schema,
      [HEADERS.contentType]: 'application/json',
    },
  };
}

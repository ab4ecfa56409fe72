import type { KafkaMessage } from 'kafkajs';
import type { z } from 'zod';
import { describeIssues, fieldIssues } from '@renkei/schema';

export type ParsedMessage<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * A message of the reports topic read against its schema, or why it cannot
 * be (the reason goes with it to the dead-letter topic, so it is kept short).
 */
export function parseMessage<S extends z.ZodType>(
  message: KafkaMessage,
  schema: S,
): ParsedMessage<z.output<S>> {
  if (!message.value) return { ok: false, reason: 'empty message' };
  let json: unknown;
  try {
    json = JSON.parse(message.value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const result = schema.safeParse(json);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, reason: describeIssues(fieldIssues(result.error)).slice(0, 1000) };
}

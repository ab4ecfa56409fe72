import { z } from 'zod';

export const STORABLE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';

/**
 * PostgreSQL refuses NUL in text and jsonb, and an unpaired surrogate has no
 * UTF-8 form; such text is refused at the boundary with the field's name
 * instead of failing an insert later.
 */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !UNPAIRED_SURROGATE.test(value);
}

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A string the hub can store: every free-text field of every input schema is one. */
export function storableString() {
  return z.string().refine(isStorableText, STORABLE_TEXT_MESSAGE);
}

import { z } from 'zod';

/** `https://Hub.Example:443/x` → `https://hub.example`; null for what is not an http(s) origin (`null`, garbage). */
export function normaliseOrigin(value: string): string | null {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.origin;
  } catch {
    return null;
  }
}

/** A setting listing browser origins, comma-separated: `https://console.example,https://soc.example`. */
export const originListSchema = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
  )
  .pipe(
    z.array(
      z
        .string()
        .refine((origin) => normaliseOrigin(origin) !== null, 'must be an origin like https://host:port'),
    ),
  );

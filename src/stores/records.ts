import type { z } from 'zod';

/**
 * A JSON record read back from the key-value store, checked against its schema: what another
 * version wrote, a truncated value or a record of another kind reads as none, never as a cast
 * that later code trusts.
 */
export function parseRecord<T>(schema: z.ZodType<T>, value: string | null | undefined): T | undefined {
  if (value === null || value === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

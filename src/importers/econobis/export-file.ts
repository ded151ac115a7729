import { z } from 'zod';

/**
 * The export file (docs/econobis-export.md): one JSON document with the cooperation's requirement
 * flag and every staff and portal user. Only the outer shape is checked here as a whole; each user
 * is checked on its own (rowSchemas), so one bad row is reported instead of failing the file.
 */
export const EXPORT_FORMAT = 'econobis-users/1';

/** The whole import cannot go on (not an export, no or the wrong APP_KEY); nothing is written. */
export class ImportFailure extends Error {}

// MySQL's JSON_OBJECT writes a tinyint(1) as 0 or 1
const flag = z.union([z.boolean(), z.literal(0), z.literal(1)]).transform((v) => v === true || v === 1);

export const exportFileSchema = z.object({
  format: z.literal(EXPORT_FORMAT, { message: `must be "${EXPORT_FORMAT}"` }),
  cooperation: z.object({ require_two_factor_authentication: flag.nullable().transform((v) => v ?? false) }).nullable(),
  users: z.array(z.unknown()),
  portal_users: z.array(z.unknown()),
});

export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// MySQL datetime as exported (`2024-03-01 09:30:00[.000000]`, UTC) or ISO 8601
const DATETIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

const commonRow = {
  id: z.union([z.number().int(), z.string().max(64)]),
  email: z.string().trim().max(320, 'is longer than 320 characters').regex(EMAIL, 'is not an e-mail address'),
  name: z.string().trim().max(200, 'is longer than 200 characters').nullish().transform((v) => v ?? ''),
  password: z.string().nullish().transform((v) => v ?? null),
  active: flag.nullish().transform((v) => v ?? true),
  two_factor_secret: z.string().nullish().transform((v) => v ?? null),
  two_factor_recovery_codes: z.string().nullish().transform((v) => v ?? null),
  two_factor_confirmed_at: z.string().regex(DATETIME, 'is not a date and time').nullish().transform((v) => v ?? null),
};

export const rowSchemas = {
  staff: z.object({
    ...commonRow,
    roles: z.array(z.string()).nullish().transform((v) => v ?? []),
    require_two_factor_authentication: flag.nullish().transform((v) => v ?? false),
  }),
  // portal users have no requirement flag (docs/rules.md, rule 5: they decide for themselves)
  portal: z.object(commonRow),
};

export type ExportFile = z.infer<typeof exportFileSchema>;
export type StaffRow = z.infer<(typeof rowSchemas)['staff']>;
export type PortalRow = z.infer<(typeof rowSchemas)['portal']>;

/** A MySQL datetime without offset is UTC (the export query sets time_zone to +00:00). */
export function parseDateTime(value: string): Date {
  const iso = value.replace(' ', 'T');
  return new Date(/(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}Z`);
}

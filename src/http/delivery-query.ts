import { z } from 'zod';
import { decodeCursor, DELIVERY_STATES, type DeliveryFilter, type DeliveryState } from '../store/store.ts';

const DAY_MS = 86_400_000;
const isoDate = z.iso.date();
const isoDateTime = z.iso.datetime({ offset: true });

// A plain date means the whole day in UTC: from=D starts at its midnight, to=D ends at the next.
const instant = (endOfDay: boolean) =>
  z.string().refine((v) => isoDate.safeParse(v).success || isoDateTime.safeParse(v).success, 'must be an ISO date (YYYY-MM-DD) or date-time with offset')
    .transform((v) => Date.parse(isoDate.safeParse(v).success ? `${v}T00:00:00Z` : v) + (endOfDay && isoDate.safeParse(v).success ? DAY_MS : 0));

const states = z.string().transform((v, ctx) => {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = list.filter((s) => !(DELIVERY_STATES as readonly string[]).includes(s));
  if (unknown.length) ctx.addIssue({ code: 'custom', message: `unknown state; one or more of ${DELIVERY_STATES.join(', ')}` });
  return list as DeliveryState[];
});

const fields = {
  state: states.optional(),
  from: instant(false).optional(),
  to: instant(true).optional(),
  critical: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  target: z.string().regex(/^[a-z0-9-]{1,32}$/, 'must be a delivery target such as fhir or hl7v2').optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).transform((v, ctx) => {
    const cursor = decodeCursor(v);
    if (!cursor) ctx.addIssue({ code: 'custom', message: 'not a cursor this server handed out' });
    return cursor;
  }).optional(),
};

const Strict = z.strictObject(fields);
const Lenient = z.object(fields);

export type DeliveryQuery = { ok: true; filter: DeliveryFilter } | { ok: false; fields: string[]; message: string };

/**
 * /api/deliveries and the audit page share these filters. Empty values count as absent (an
 * HTML form sends every field); the API refuses unknown parameters, so a typo cannot silently
 * widen the result.
 */
export function parseDeliveryQuery(query: unknown, options: { strict: boolean }): DeliveryQuery {
  const present = Object.fromEntries(Object.entries((query ?? {}) as Record<string, unknown>).filter(([, v]) => v !== ''));
  const parsed = (options.strict ? Strict : Lenient).safeParse(present);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ field: i.code === 'unrecognized_keys' ? i.keys.join(', ') : i.path.join('.'), message: i.message }));
    return { ok: false, fields: issues.map((i) => i.field), message: issues.map((i) => `${i.field}: ${i.message}`).join('; ') };
  }
  const { state, from, to, critical, target, limit, cursor } = parsed.data;
  if (from !== undefined && to !== undefined && from >= to) return { ok: false, fields: ['from', 'to'], message: 'from: must be before to' };
  return { ok: true, filter: { states: state, from, to, critical, target, limit, cursor } };
}

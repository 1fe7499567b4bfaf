// HL7 v2.5.1 DTM/DT as hl7v2-mapping.md writes them: `YYYYMMDDHHMMSS+ZZZZ` to the second (fractions
// dropped: the contract's format has none) and `YYYYMMDD`.

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// An explicit zone is required: without one, Date.parse would read the time in the host's zone.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;
const ISO_LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|([+-])(\d{2}):?(\d{2}))$/i;

/** An instant (ISO 8601 with a zone, or a Date) in UTC: `YYYYMMDDHHMMSS+0000`. */
export function hl7Instant(instant: string | Date): string {
  const ms = typeof instant === 'string' ? parseInstant(instant) : instant.getTime();
  if (Number.isNaN(ms)) throw new RangeError('not a valid instant');
  const iso = new Date(ms).toISOString(); // 2026-08-21T15:31:40.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}+0000`;
}

/** `YYYY-MM-DD` -> `YYYYMMDD`. */
export function hl7Date(isoDate: string): string {
  const match = ISO_DATE.exec(isoDate);
  if (!match) throw new RangeError('not an ISO 8601 date (YYYY-MM-DD)');
  return `${match[1]}${match[2]}${match[3]}`;
}

/**
 * A FHIR `date` or `dateTime` as HL7, keeping its wall-clock digits and its offset (a study time
 * is read in the study's zone, and the reader should see that zone): `2026-08-21T11:48:00-04:00`
 * -> `20260821114800-0400`; a date alone -> `YYYYMMDD`.
 */
export function hl7DateTime(value: string): string {
  if (ISO_DATE.test(value)) return hl7Date(value);
  const match = ISO_LOCAL_DATE_TIME.exec(value);
  if (!match) throw new RangeError('not an ISO 8601 date or date-time with an offset');
  const [, y, mo, d, h, mi, s = '00', zone, sign, zh, zm] = match;
  const offset = zone!.toUpperCase() === 'Z' ? '+0000' : `${sign}${zh}${zm}`;
  return `${y}${mo}${d}${h}${mi}${s}${offset}`;
}

function parseInstant(value: string): number {
  return ISO_INSTANT.test(value) ? Date.parse(value) : Number.NaN;
}

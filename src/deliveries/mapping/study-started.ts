import { SyncError } from '../../errors.ts';

/**
 * `ImagingStudy.started` from Avara's zone-less `studyDate` + `studyTime`, read as wall-clock time
 * in `timeZone` (STUDY_TIME_ZONE) and written with the UTC offset in force at that moment, DST
 * included. Date only without a time; absent without a date.
 *
 * Around DST changes (the Temporal "compatible" choice): a time that occurs twice takes the
 * earlier instant; a time skipped by the clock keeps its digits with the offset in force just
 * before the jump.
 */
export function studyStarted(studyDate: string | undefined, studyTime: string | undefined, timeZone: string): string | undefined {
  if (!studyDate) return undefined;
  if (!studyTime) return studyDate;
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(studyDate);
  const time = /^(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?$/.exec(studyTime);
  if (!date || !time) return undefined; // the zod schemas reject these; never invent a time
  const [, y, mo, d] = date.map(Number) as [number, number, number, number];
  const [, h, mi, s] = [time[0], Number(time[1]), Number(time[2]), Number(time[3] ?? 0)] as const;
  const wallMs = Date.UTC(y, mo - 1, d, h, mi, s);
  const offsetMinutes = offsetForWallTime(wallMs, timeZone);
  const seconds = `${pad(s)}${time[4] ?? ''}`;
  return `${studyDate}T${pad(h)}:${pad(mi)}:${seconds}${formatOffset(offsetMinutes)}`;
}

function offsetForWallTime(wallMs: number, timeZone: string): number {
  const dayMs = 24 * 60 * 60 * 1000;
  // Assumes at most one offset change within a day either side, true of every IANA zone today.
  const formatter = formatterFor(timeZone);
  const before = offsetAt(wallMs - dayMs, formatter);
  const after = offsetAt(wallMs + dayMs, formatter);
  const valid = [...new Set([before, after])].filter((o) => offsetAt(wallMs - o * 60_000, formatter) === o);
  if (valid.length === 0) return before; // skipped by the clock (spring forward)
  return Math.max(...valid); // the larger offset is the earlier instant
}

/** Minutes east of UTC in the formatter's zone at the instant `utcMs`. */
function offsetAt(utcMs: number, formatter: Intl.DateTimeFormat): number {
  const parts = formatter.formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wallMs = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((wallMs - Math.floor(utcMs / 1000) * 1000) / 60_000);
}

// Building a formatter costs more than the rest of a delivery's mapping; one per zone is reused
// (a formatter is immutable, so the mapping stays pure).
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  const known = formatters.get(timeZone);
  if (known) return known;
  try {
    const formatter = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(timeZone, formatter);
    return formatter;
  } catch {
    throw SyncError.permanent('internal', 'STUDY_TIME_ZONE is not a valid IANA time zone');
  }
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * A FHIR dateTime as Avara's zone-less `studyDate` (YYYY-MM-DD) and `studyTime` (HH:MM) in
 * STUDY_TIME_ZONE, the inverse of the delivery mapping's `started`. A date without a time gives
 * only the date; a partial date (YYYY or YYYY-MM) gives nothing (Avara needs a whole date).
 */
export function toLocalDateTime(value: string | undefined, timeZone: string): { studyDate?: string; studyTime?: string } {
  if (!value) return {};
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return { studyDate: value };
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value)) return {};
  const instant = new Date(value);
  if (Number.isNaN(instant.getTime())) return {};
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(instant);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return { studyDate: `${part('year')}-${part('month')}-${part('day')}`, studyTime: `${part('hour')}:${part('minute')}` };
}

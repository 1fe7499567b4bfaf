import { createHash } from 'node:crypto';
import type { HumanName } from '@medplum/fhirtypes';

/** DICOM PN `FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX` (PS3.5 6.2); trailing empty components dropped. */
export function dicomPersonName(name: HumanName | undefined): string {
  if (!name) return '';
  const clean = (value: string | undefined) => (value ?? '').replace(/[\^\\=]/g, ' ').replace(/\s+/g, ' ').trim();
  const given = name.given ?? [];
  if (!name.family && given.length === 0) return clean(name.text);
  const parts = [clean(name.family), clean(given[0]), clean(given.slice(1).join(' ')), clean(name.prefix?.join(' ')), clean(name.suffix?.join(' '))];
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.join('^');
}

/** A FHIR date/dateTime as DICOM DA `YYYYMMDD` and TM `HHMMSS` in `timeZone`; '' when unknown. */
export function dicomDateTime(value: string | undefined, timeZone: string): { date: string; time: string } {
  if (!value) return { date: '', time: '' };
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return { date: value.replaceAll('-', ''), time: '' };
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value)) return { date: '', time: '' };
  const instant = new Date(value);
  if (Number.isNaN(instant.getTime())) return { date: '', time: '' };
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(instant);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return { date: `${part('year')}${part('month')}${part('day')}`, time: `${part('hour')}${part('minute')}${part('second')}` };
}

// A fixed namespace for this product's name-based UUIDs (RFC 4122 §4.3); never change it, or
// every order without an ImagingStudy gets a new Study Instance UID.
const UID_NAMESPACE = Buffer.from('6f1d4a52b0e84c3a9e57c1f0a2d3b4c5', 'hex');

/**
 * DICOM PS3.5 B.2: a UUID as the decimal integer under `2.25.`. The UUID is version 5 (SHA-1,
 * name-based) of `ServiceRequest/<id>`, so the same order gets the same UID on every query.
 */
export function derivedStudyUid(serviceRequestId: string): string {
  const bytes = createHash('sha1').update(UID_NAMESPACE).update(`ServiceRequest/${serviceRequestId}`).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return `2.25.${BigInt(`0x${bytes.toString('hex')}`).toString(10)}`;
}

/** DICOM SH is at most 16 characters: a longer id becomes 16 hex digits of its SHA-256 (stable). */
export function shortStringId(value: string): string {
  if (value.length <= 16 && /^[\x20-\x7e]*$/.test(value) && !value.includes('\\')) return value;
  return createHash('sha256').update(value).digest('hex').slice(0, 16).toUpperCase();
}

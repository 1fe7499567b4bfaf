import { createHash } from 'node:crypto';
import { REPORT_METADATA_KEYS, type StudyCreateBody } from '../../avara/study-write-schemas.ts';

// Age, height and weight are never mapped from FHIR: Avara's own values stay untouched.
const UNMANAGED_METADATA = new Set(['age', 'height', 'weight']);
export const MANAGED_METADATA_KEYS = REPORT_METADATA_KEYS.filter((k) => !UNMANAGED_METADATA.has(k));

/** Top-level create fields the order sync owns; `reportMetadata` is compared field by field. */
export const MANAGED_FIELDS = [
  'studyDescription', 'severity', 'modality', 'externalPatientId', 'clinicalIndication', 'clinicalHistory', 'priorReports', 'metadata',
] as const;

/** A create body, or a study read back from Avara (which also carries fields we never send). */
export type StudyFields = Partial<Record<(typeof MANAGED_FIELDS)[number], unknown>> & { reportMetadata?: Record<string, unknown> };

/**
 * One hash per managed field ("severity", "reportMetadata.mrn", ...) of what Avara holds. The
 * database keeps these instead of the body: enough to send only what changed, without storing
 * the patient's name, MRN or prior reports a second time.
 */
export function studyFieldHashes(fields: StudyFields | StudyCreateBody): Record<string, string> {
  const source = fields as StudyFields;
  const hashes: Record<string, string> = {};
  for (const key of MANAGED_FIELDS) {
    const value = source[key];
    if (isPresent(value)) hashes[key] = hashValue(value);
  }
  for (const key of MANAGED_METADATA_KEYS) {
    const value = source.reportMetadata?.[key];
    if (isPresent(value)) hashes[`reportMetadata.${key}`] = hashValue(value);
  }
  return hashes;
}

/** Avara answers null, [] or {} for what was never set; all of them mean "absent". */
function isPresent(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

function hashValue(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 32);
}

/** Key order must not matter: Avara may answer an object's keys in another order than we sent. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

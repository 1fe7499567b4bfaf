import { createHash } from 'node:crypto';
import type { Study } from '../avara/schemas.ts';

// The identity-bearing fields a correction in Avara can change after delivery (fhir-mapping.md
// "Lifecycle cases": recorded by field name, never by value).
const DEMOGRAPHIC_FIELDS = ['patientName', 'mrn', 'dateOfBirth', 'sex'] as const;

/** Everything the poller acts on, in one hash: an equal signature means nothing to do. */
export function studySignature(study: Study): string {
  const reports = (study.reportIds ?? []).map((r) => `${r.reportId}:${r.status}`).sort();
  return sha256(JSON.stringify([study.updatedAt, study.isCancelled, study.studyReportStatus, reports, demographicHashes(study)]));
}

/** One salted-free hash per demographic field: enough to say which field changed, not to what. */
export function demographicHashes(study: Study): Record<string, string> {
  const values: Record<string, string | null | undefined> = {
    ...Object.fromEntries(DEMOGRAPHIC_FIELDS.map((field) => [field, study.reportMetadata[field]])),
    externalPatientId: study.externalPatientId,
  };
  return Object.fromEntries(Object.entries(values).map(([field, value]) => [field, sha256(`${field}:${value ?? ''}`)]));
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

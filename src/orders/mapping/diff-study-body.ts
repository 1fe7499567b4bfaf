import type { StudyCreateBody, StudyPatchBody } from '../../avara/study-write-schemas.ts';
import { MANAGED_FIELDS, MANAGED_METADATA_KEYS, studyFieldHashes } from './study-field-hashes.ts';

// §1.3: an omitted PATCH field is unchanged, null clears a nullable one, arrays replace.
const CLEARED: Partial<Record<(typeof MANAGED_FIELDS)[number], null | []>> = {
  modality: null, externalPatientId: null, clinicalIndication: null, clinicalHistory: null, priorReports: [],
};

/**
 * The PATCH that turns what Avara holds (its field hashes) into `next`, with only the fields
 * that changed; null when nothing did. A field that disappeared from the EHR is cleared.
 */
export function diffStudyBody(previous: Record<string, string>, next: StudyCreateBody): StudyPatchBody | null {
  const nextHashes = studyFieldHashes(next);
  const changed = (key: string) => previous[key] !== nextHashes[key];
  const patch: Record<string, unknown> = {};
  for (const key of MANAGED_FIELDS) {
    if (!changed(key)) continue;
    if (nextHashes[key] !== undefined) patch[key] = next[key];
    else if (key in CLEARED) patch[key] = CLEARED[key];
  }
  const metadataPatch: Record<string, unknown> = {};
  for (const key of MANAGED_METADATA_KEYS) {
    const path = `reportMetadata.${key}`;
    if (!changed(path)) continue;
    metadataPatch[key] = nextHashes[path] !== undefined ? next.reportMetadata[key] : null;
  }
  if (Object.keys(metadataPatch).length > 0) patch['reportMetadata'] = metadataPatch;
  return Object.keys(patch).length > 0 ? (patch as StudyPatchBody) : null;
}

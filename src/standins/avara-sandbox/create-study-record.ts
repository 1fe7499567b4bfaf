import type { StudyCreateBody, StudyPatchBody } from '../../avara/study-write-schemas.ts';
import { isoSeconds, type SandboxStudy } from './sandbox-types.ts';

/** A new reading-workflow study as Avara would store it after §9.1 create: unassigned, no reports. */
export function createStudyRecord(body: StudyCreateBody, ids: { studyId: string; apiKeyId: string }, now: Date): SandboxStudy {
  const at = isoSeconds(now);
  const { expressCustomerId: _customer, assignedTo: _assignee, ...fields } = body;
  return {
    ...fields,
    studyId: ids.studyId,
    studyReportStatus: 'unassigned',
    studyType: 'standard',
    isCancelled: false,
    cancelledAt: null,
    createdAt: at,
    updatedAt: at,
    reportIds: [],
    technologistNotes: body.technologistNotes ?? [],
    assignedTo: null,
    createdByApiKey: { apiKeyId: ids.apiKeyId, description: 'RIS integration (sandbox)', isViewerEnabled: true },
    createdByUser: null,
  };
}

/** §1.3 PATCH: omitted = unchanged, null clears, arrays (and the metadata object) replace. */
export function applyStudyPatch(study: SandboxStudy, patch: StudyPatchBody, now: Date): void {
  const { reportMetadata, assignedTo: _assignee, expressCustomerId: _customer, ...rest } = patch;
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined) Object.assign(study, { [key]: value });
  }
  if (reportMetadata) {
    const merged: Record<string, unknown> = { ...study.reportMetadata };
    for (const [key, value] of Object.entries(reportMetadata)) {
      if (value === null) delete merged[key];
      else if (value !== undefined) merged[key] = value;
    }
    study.reportMetadata = merged as SandboxStudy['reportMetadata'];
  }
  study.updatedAt = isoSeconds(now);
}

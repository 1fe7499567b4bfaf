import type { SeededRandom } from './seeded-random.ts';
import { generateAddendumText } from './generate-report-text.ts';
import { displayName } from './generate-radiologists.ts';
import { isoSeconds, type SandboxReport, type SandboxStudy, type SandboxUser } from './sandbox-types.ts';

export interface AddendumDeps {
  reports: Map<string, SandboxReport>;
  users: Map<string, SandboxUser>;
  random: SeededRandom;
  now: () => Date;
}

export class SandboxConflict extends Error {}

export function reportsOf(deps: AddendumDeps, study: SandboxStudy): SandboxReport[] {
  return (study.reportIds ?? []).map((entry) => deps.reports.get(entry.reportId)).filter((r): r is SandboxReport => r !== undefined);
}

function openAddendumOf(deps: AddendumDeps, study: SandboxStudy): SandboxReport | undefined {
  return reportsOf(deps, study).find((r) => r.report.isAddendum && r.report.status === 'in_progress');
}

/** §9.3 addendum: a new in-progress report; the study becomes `addendum_active`. */
export function openAddendum(deps: AddendumDeps, study: SandboxStudy): SandboxReport {
  if (study.studyReportStatus !== 'completed') throw new SandboxConflict('study has no completed report to amend');
  const at = isoSeconds(deps.now());
  const addendum: SandboxReport = {
    studyInstanceUid: study.studyInstanceUid,
    plainText: undefined,
    report: {
      reportId: `rep_${deps.random.hex(32)}`, studyId: study.studyId, status: 'in_progress', isAddendum: true,
      isCritical: null, createdAt: at, updatedAt: at, signedAt: null,
      userId: study.assignedTo?.userId ?? deps.random.pick([...deps.users.keys()]),
      snapshotMetadata: { ...study.reportMetadata },
    },
  };
  deps.reports.set(addendum.report.reportId, addendum);
  study.reportIds = [...(study.reportIds ?? []), { reportId: addendum.report.reportId, status: 'in_progress', isCritical: null }];
  Object.assign(study, { studyReportStatus: 'addendum_active', updatedAt: at });
  return addendum;
}

/** Signs the open addendum (opening one first if needed); the study returns to `completed` (§6.8 step 5). */
export function signAddendum(deps: AddendumDeps, study: SandboxStudy, critical: boolean | undefined): SandboxReport {
  const addendum = openAddendumOf(deps, study) ?? openAddendum(deps, study);
  const original = reportsOf(deps, study).find((r) => !r.report.isAddendum);
  const signer = deps.users.get(addendum.report.userId);
  const at = isoSeconds(deps.now());
  const isCritical = critical ?? original?.report.isCritical ?? false;
  const signerName = signer ? displayName(signer) : 'the reading radiologist';
  addendum.plainText = generateAddendumText(deps.random, original?.plainText ?? '', signerName, at);
  Object.assign(addendum.report, { status: 'completed', isCritical, signedAt: at, updatedAt: at });
  study.reportIds = (study.reportIds ?? []).map((entry) =>
    entry.reportId === addendum.report.reportId ? { ...entry, status: 'completed', isCritical } : entry);
  Object.assign(study, { studyReportStatus: 'completed', updatedAt: at });
  return addendum;
}

/** §9.3 cancel-addendum: drops the in-progress addendum; the original stays as it was. */
export function cancelAddendum(deps: AddendumDeps, study: SandboxStudy): boolean {
  const addendum = openAddendumOf(deps, study);
  if (!addendum) return false;
  deps.reports.delete(addendum.report.reportId);
  study.reportIds = (study.reportIds ?? []).filter((entry) => entry.reportId !== addendum.report.reportId);
  Object.assign(study, { studyReportStatus: 'completed', updatedAt: isoSeconds(deps.now()) });
  return true;
}

import type { SeededRandom } from './seeded-random.ts';
import { generateSignedStudy } from './generate-study.ts';
import { generateAddendumText } from './generate-report-text.ts';
import { displayName, generateRadiologists } from './generate-radiologists.ts';
import { isoSeconds, type SandboxReport, type SandboxStudy, type SandboxUser } from './sandbox-types.ts';

/** The sandbox's in-memory Avara tenant. Studies keep insertion order, which is the list order. */
export interface SandboxState {
  readonly studies: Map<string, SandboxStudy>;
  readonly reports: Map<string, SandboxReport>;
  readonly users: Map<string, SandboxUser>;
  addSignedStudy(signedAt: Date, critical: boolean | undefined): SandboxReport;
  openAddendum(study: SandboxStudy): SandboxReport;
  signAddendum(study: SandboxStudy, critical: boolean | undefined): SandboxReport;
  cancelAddendum(study: SandboxStudy): boolean;
  reportsOf(study: SandboxStudy): SandboxReport[];
}

export class SandboxConflict extends Error {}

export function createSandboxState(random: SeededRandom, now: () => Date, apiKeyId: string): SandboxState {
  const studies = new Map<string, SandboxStudy>();
  const reports = new Map<string, SandboxReport>();
  const radiologists = generateRadiologists(random, now());
  const users = new Map(radiologists.map((user) => [user.userId, user]));

  const reportsOf = (study: SandboxStudy): SandboxReport[] =>
    (study.reportIds ?? []).map((entry) => reports.get(entry.reportId)).filter((r): r is SandboxReport => r !== undefined);
  const openAddendumOf = (study: SandboxStudy): SandboxReport | undefined =>
    reportsOf(study).find((r) => r.report.isAddendum && r.report.status === 'in_progress');

  const openAddendum = (study: SandboxStudy): SandboxReport => {
    if (study.studyReportStatus !== 'completed') throw new SandboxConflict('study has no completed report to amend');
    const at = isoSeconds(now());
    const addendum: SandboxReport = {
      studyInstanceUid: study.studyInstanceUid,
      plainText: undefined,
      report: {
        reportId: `rep_${random.hex(32)}`, studyId: study.studyId, status: 'in_progress', isAddendum: true,
        isCritical: null, createdAt: at, updatedAt: at, signedAt: null,
        userId: study.assignedTo?.userId ?? random.pick(radiologists).userId,
        snapshotMetadata: { ...study.reportMetadata },
      },
    };
    reports.set(addendum.report.reportId, addendum);
    study.reportIds = [...(study.reportIds ?? []), { reportId: addendum.report.reportId, status: 'in_progress', isCritical: null }];
    Object.assign(study, { studyReportStatus: 'addendum_active', updatedAt: at });
    return addendum;
  };

  return {
    studies, reports, users, reportsOf, openAddendum,
    addSignedStudy(signedAt, critical) {
      const { study, report } = generateSignedStudy(random, {
        signedAt, critical, radiologist: random.pick(radiologists), apiKeyId,
      });
      studies.set(study.studyId, study);
      reports.set(report.report.reportId, report);
      return report;
    },
    signAddendum(study, critical) {
      const addendum = openAddendumOf(study) ?? openAddendum(study);
      const original = reportsOf(study).find((r) => !r.report.isAddendum);
      const signer = users.get(addendum.report.userId) ?? random.pick(radiologists);
      const at = isoSeconds(now());
      const isCritical = critical ?? original?.report.isCritical ?? false;
      addendum.plainText = generateAddendumText(random, original?.plainText ?? '', displayName(signer), at);
      Object.assign(addendum.report, { status: 'completed', isCritical, signedAt: at, updatedAt: at });
      study.reportIds = (study.reportIds ?? []).map((entry) =>
        entry.reportId === addendum.report.reportId ? { ...entry, status: 'completed', isCritical } : entry);
      Object.assign(study, { studyReportStatus: 'completed', updatedAt: at });
      return addendum;
    },
    cancelAddendum(study) {
      const addendum = openAddendumOf(study);
      if (!addendum) return false;
      reports.delete(addendum.report.reportId);
      study.reportIds = (study.reportIds ?? []).filter((entry) => entry.reportId !== addendum.report.reportId);
      Object.assign(study, { studyReportStatus: 'completed', updatedAt: isoSeconds(now()) });
      return true;
    },
  };
}

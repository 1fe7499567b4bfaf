import type { SeededRandom } from './seeded-random.ts';
import { PROCEDURES } from './procedure-catalog.ts';
import { generateReportText } from './generate-report-text.ts';
import { displayName } from './generate-radiologists.ts';
import { isoSeconds, type SandboxReport, type SandboxStudy, type SandboxUser } from './sandbox-types.ts';

/**
 * A radiologist reads a study that was created through the API and signs its original report:
 * the study becomes `completed` with one signed report, as if dictated in Avara.
 */
export function signCreatedStudy(random: SeededRandom, study: SandboxStudy, radiologist: SandboxUser, signedAt: Date): SandboxReport {
  const template = PROCEDURES.find((p) => p.modality === study.modality) ?? random.pick(PROCEDURES);
  const at = isoSeconds(signedAt);
  const metadata = study.reportMetadata;
  const plainText = generateReportText(random, {
    template: { ...template, procedure: metadata.procedure ?? template.procedure },
    studyDate: metadata.studyDate ?? at.slice(0, 10),
    studyTime: metadata.studyTime ?? at.slice(11, 16),
    signerName: displayName(radiologist),
    signedAt: at,
  });
  const report: SandboxReport = {
    studyInstanceUid: study.studyInstanceUid,
    plainText,
    report: {
      reportId: `rep_${random.hex(32)}`, studyId: study.studyId, status: 'completed', isAddendum: false, isCritical: false,
      createdAt: study.createdAt, updatedAt: at, signedAt: at, userId: radiologist.userId,
      snapshotMetadata: { ...metadata },
    },
  };
  Object.assign(study, {
    studyReportStatus: 'completed',
    updatedAt: at,
    isCritical: false,
    assignedTo: { userId: radiologist.userId, email: radiologist.email, firstName: radiologist.firstName, lastName: radiologist.lastName, suffix1: radiologist.suffix1 },
    reportIds: [...(study.reportIds ?? []), { reportId: report.report.reportId, status: 'completed', isCritical: false }],
  });
  return report;
}

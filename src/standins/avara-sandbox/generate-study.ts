import type { SeededRandom } from './seeded-random.ts';
import { PROCEDURES } from './procedure-catalog.ts';
import { generatePatient } from './generate-patient.ts';
import { generateReportText } from './generate-report-text.ts';
import { displayName } from './generate-radiologists.ts';
import { isoSeconds, type SandboxReport, type SandboxStudy, type SandboxUser } from './sandbox-types.ts';

export interface SignedStudyInput {
  signedAt: Date;
  radiologist: SandboxUser;
  critical: boolean | undefined;   // undefined: about one study in ten
  apiKeyId: string;
}

const MINUTE_MS = 60_000;

/** A completed study with one signed original report, its times counted back from the signature. */
export function generateSignedStudy(random: SeededRandom, input: SignedStudyInput): { study: SandboxStudy; report: SandboxReport } {
  const createdAt = new Date(input.signedAt.getTime() - random.int(15, 240) * MINUTE_MS);
  const scannedAt = new Date(createdAt.getTime() - random.int(5, 45) * MINUTE_MS);
  const template = random.pick(PROCEDURES);
  const { metadata, externalPatientId } = generatePatient(random, scannedAt);
  const studyDate = isoSeconds(scannedAt).slice(0, 10);
  const studyTime = isoSeconds(scannedAt).slice(11, 16);
  const isCritical = input.critical ?? random.chance(0.1);
  const studyId = `stu_${random.hex(32)}`;
  const studyInstanceUid = random.chance(0.5)
    ? `2.25.${random.int(1, 9)}${random.digits(37)}`
    : `1.2.826.0.1.3680043.8.498.${random.int(1, 9)}${random.digits(30)}`;
  const signedAt = isoSeconds(input.signedAt);
  const plainText = generateReportText(random, {
    template, studyDate, studyTime, signerName: displayName(input.radiologist), signedAt,
  });
  const reportMetadata = { ...metadata, procedure: template.procedure, studyDate, studyTime };
  const report: SandboxReport = {
    studyInstanceUid,
    plainText,
    report: {
      reportId: `rep_${random.hex(32)}`, studyId, status: 'completed', isAddendum: false, isCritical,
      createdAt: isoSeconds(createdAt), updatedAt: signedAt, signedAt, userId: input.radiologist.userId,
      snapshotMetadata: { ...reportMetadata },
    },
  };
  const study: SandboxStudy = {
    studyId, studyInstanceUid, studyDescription: template.description,
    severity: random.pick(['normal', 'normal', 'normal', 'high', 'stat']),
    studyReportStatus: 'completed', studyType: 'standard', isCancelled: false, cancelledAt: null,
    createdAt: isoSeconds(createdAt), updatedAt: signedAt, isCritical, reportMetadata,
    modality: template.modality,
    clinicalIndication: random.pick(template.indications),
    clinicalHistory: random.chance(0.5) ? 'No relevant surgical history.' : null,
    technologistNotes: random.chance(0.3) ? ['Patient tolerated the examination well.'] : [],
    assignedTo: userReference(input.radiologist),
    createdByApiKey: { apiKeyId: input.apiKeyId, description: 'RIS integration (sandbox)', isViewerEnabled: true },
    createdByUser: null,
    reportIds: [{ reportId: report.report.reportId, status: 'completed', isCritical }],
    ...(externalPatientId ? { externalPatientId } : {}),
    ...(random.chance(0.85) ? { metadata: { accessionNumber: `ACC${random.digits(8)}`, risOrderId: `ORD-${random.digits(6)}` } } : {}),
  };
  return { study, report };
}

function userReference(user: SandboxUser): NonNullable<SandboxStudy['assignedTo']> {
  return {
    userId: user.userId, email: user.email, firstName: user.firstName, lastName: user.lastName,
    ...(user.suffix1 ? { suffix1: user.suffix1 } : {}),
  };
}

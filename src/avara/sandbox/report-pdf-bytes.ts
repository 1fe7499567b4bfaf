import { renderReportPdf } from './render-report-pdf.ts';
import type { SandboxReport } from './sandbox-types.ts';

/** The PDF Avara would render for a report, from the report's own frozen data only. */
export function reportPdfBytes(stored: SandboxReport): Uint8Array {
  const { report } = stored;
  const meta = report.snapshotMetadata;
  const kind = report.isAddendum ? 'Addendum' : 'Radiology Report';
  return renderReportPdf({
    title: `${kind}: ${meta.procedure ?? 'Imaging study'}`,
    headerLines: [
      `Patient: ${meta.patientName ?? ''}    MRN: ${meta.mrn ?? ''}    DOB: ${meta.dateOfBirth ?? ''}`,
      `Facility: ${meta.facilityName ?? ''}    Referring: ${meta.referringPhysicianName ?? ''}`,
      `Study date: ${meta.studyDate ?? ''} ${meta.studyTime ?? ''}    Study UID: ${stored.studyInstanceUid}`,
      `Report: ${report.reportId}    Signed: ${report.signedAt ?? 'not signed'}${report.isCritical ? '    CRITICAL RESULT' : ''}`,
    ],
    body: stored.plainText ?? '',
    creationDate: report.signedAt,
  });
}

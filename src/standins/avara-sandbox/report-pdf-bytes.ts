import { createCipheriv, createHash } from 'node:crypto';
import { renderReportPdf, type PdfReportContent } from './render-report-pdf.ts';
import type { SandboxReport } from './sandbox-types.ts';

export interface PdfSizeOptions {
  /** Attach a scan so the file weighs 100-300 KB like Avara's real report PDFs (benchmarks). */
  realisticSize?: boolean;
}

const MIN_PDF_BYTES = 102 * 1024;
const PDF_BYTES_RANGE = 196 * 1024;

/** The PDF Avara would render for a report, from the report's own frozen data only. */
export function reportPdfBytes(stored: SandboxReport, options: PdfSizeOptions = {}): Uint8Array {
  const content = reportContent(stored);
  const plain = renderReportPdf(content);
  if (!options.realisticSize) return plain;
  // The scan makes up the difference to a per-report size; its object adds ~200 bytes and rows of
  // 1 KiB round it down, hence the 2 KiB margins on both ends of 100-300 KB.
  const digest = createHash('sha256').update(stored.report.reportId).digest();
  const target = MIN_PDF_BYTES + (digest.readUInt32BE(16) % PDF_BYTES_RANGE);
  return renderReportPdf({ ...content, scan: scanBytes(digest, Math.max(0, target - plain.length)) });
}

function reportContent(stored: SandboxReport): PdfReportContent {
  const { report } = stored;
  const meta = report.snapshotMetadata;
  const kind = report.isAddendum ? 'Addendum' : 'Radiology Report';
  return {
    title: `${kind}: ${meta.procedure ?? 'Imaging study'}`,
    headerLines: [
      `Patient: ${meta.patientName ?? ''}    MRN: ${meta.mrn ?? ''}    DOB: ${meta.dateOfBirth ?? ''}`,
      `Facility: ${meta.facilityName ?? ''}    Referring: ${meta.referringPhysicianName ?? ''}`,
      `Study date: ${meta.studyDate ?? ''} ${meta.studyTime ?? ''}    Study UID: ${stored.studyInstanceUid}`,
      `Report: ${report.reportId}    Signed: ${report.signedAt ?? 'not signed'}${report.isCritical ? '    CRITICAL RESULT' : ''}`,
    ],
    body: stored.plainText ?? '',
    creationDate: report.signedAt,
  };
}

/**
 * Incompressible like a real scan (so transfer and base64 cost what they would), and the same
 * bytes for the same report every time: an AES-CTR key stream keyed by the report id's hash.
 */
function scanBytes(digest: Buffer, size: number): Uint8Array {
  const cipher = createCipheriv('aes-128-ctr', digest.subarray(0, 16), Buffer.alloc(16));
  return cipher.update(Buffer.alloc(size));
}

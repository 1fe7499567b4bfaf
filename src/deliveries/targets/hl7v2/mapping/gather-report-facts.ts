import type { ReportMetadata, Study } from '../../../../avara/schemas.ts';
import { SyncError } from '../../../../errors.ts';
import { combineReportTexts } from '../../../mapping/combine-report-texts.ts';
import { currentMetadata } from '../../../mapping/current-metadata.ts';
import type { SignedReport } from '../../../mapping/delivery-input.ts';
import { diagnosticReportConclusion } from '../../../mapping/diagnostic-report-conclusion.ts';
import { orderSignedReports } from '../../../mapping/order-signed-reports.ts';
import { ownReportTexts } from '../../../mapping/own-report-texts.ts';
import type { Hl7MessageInput, Hl7MessageOptions } from './hl7-message-input.ts';

/** What every segment reads, derived once from the study's current state. */
export interface ReportFacts {
  study: Study;
  original: SignedReport;
  addenda: SignedReport[];           // in signing order
  latest: SignedReport;
  metadata: ReportMetadata;          // current metadata, falling back to the latest snapshot
  text: string | undefined;          // presentedForm[0]'s text; undefined when Avara has none
  conclusion: string | undefined;    // DiagnosticReport.conclusion
  critical: boolean;
  resultStatus: 'F' | 'C';           // C once an addendum is signed (OBR-25, OBX-11 of ORU)
  placerOrderNumber: string | undefined;
}

/** The same content the FHIR mapping delivers (fhir-mapping.md "DiagnosticReport"), for HL7. */
export function gatherReportFacts(input: Hl7MessageInput, options: Pick<Hl7MessageOptions, 'accessionMetadataKey'>): ReportFacts {
  const signed = orderSignedReports(input.reports);
  checkSignedReports(input.study, signed);
  const original = signed.find((r) => !r.report.isAddendum)!;
  const addenda = signed.filter((r) => r !== original);
  const latest = signed[signed.length - 1]!;
  const ownTexts = ownReportTexts(original, addenda);
  return {
    study: input.study,
    original,
    addenda,
    latest,
    metadata: currentMetadata(input.study, latest.report.snapshotMetadata),
    text: combineReportTexts(original, addenda, ownTexts),
    conclusion: diagnosticReportConclusion(signed, ownTexts),
    critical: signed.some((r) => r.report.isCritical === true),
    resultStatus: addenda.length > 0 ? 'C' : 'F',
    // hl7v2-mapping.md ORC-2: the EHR order's accession when the study came from one, as the
    // FHIR mapping prefers it, else the integrator's accession.
    placerOrderNumber: input.ehrOrder?.accession?.value?.trim() || input.study.metadata?.[options.accessionMetadataKey]?.trim() || undefined,
  };
}

// The FHIR mapping's verdicts (mapping-context.ts), so a study fails the same way on every target.
function checkSignedReports(study: Study, signed: readonly SignedReport[]): void {
  if (signed.length === 0) {
    // Avara may briefly show a just-signed report as in progress (avara-api.md §10): try again.
    throw SyncError.retryable('report_not_signed', `study ${study.studyId} has no signed report yet`);
  }
  if (signed.some((r) => r.report.studyId !== study.studyId)) {
    throw SyncError.permanent('internal', `a report given for study ${study.studyId} belongs to another study`);
  }
  const originals = signed.filter((r) => !r.report.isAddendum).length;
  if (originals !== 1) {
    // Without exactly one original the text layout and the MDM parent document would be guesses.
    throw SyncError.permanent('avara_bad_response', `study ${study.studyId} has ${originals} signed non-addendum reports; expected 1`);
  }
}

import type { Hl7Segment } from '@medplum/core';
import { SyncError } from '../../../../errors.ts';
import { buildSegment, type Hl7FieldValue } from './build-segment.ts';
import { hl7SignedAt } from './hl7-signed-at.ts';
import type { ReportFacts } from './gather-report-facts.ts';
import { signerNameParts } from './signer-name-parts.ts';

const REPORT_TEXT_CODE = ['18748-4', 'Diagnostic imaging study', 'LN'];
const IMPRESSION_CODE = ['19005-8', 'Impression', 'LN'];
const PDF_CODE = ['PDF', 'Report PDF', 'AVARA'];

/**
 * The observations, in the contract's order: the report text (with addenda), the impression when
 * there is one, the latest PDF when embedded. Set ids run 1, 2, 3 over the segments present.
 * `status` is OBX-11: the result status for ORU, always F for MDM.
 */
export function buildObxSegments(facts: ReportFacts, options: { embedPdf: boolean; status: 'F' | 'C' }): Hl7Segment[] {
  const observations: Record<number, Hl7FieldValue>[] = [];
  if (facts.text !== undefined) observations.push(textObservation(facts, facts.text, options.status));
  if (facts.conclusion !== undefined) {
    observations.push({ 2: 'FT', 3: IMPRESSION_CODE, 5: facts.conclusion, 11: options.status });
  }
  if (options.embedPdf) {
    // A report Avara has no text for is the PDF alone (as in FHIR); the critical flag then rides
    // on it, so the engine's critical-result alerting still fires.
    const critical = facts.text === undefined && facts.critical ? 'AA' : undefined;
    observations.push({ 2: 'ED', 3: PDF_CODE, 5: pdfValue(facts.latest.pdf), 8: critical, 11: options.status });
  }
  if (observations.length === 0) {
    // Sending it would file an empty result in the chart; a person decides (turn on HL7_EMBED_PDF).
    throw SyncError.permanent('avara_bad_response', `study ${facts.study.studyId} has no report text and HL7_EMBED_PDF is off: nothing to send`);
  }
  return observations.map((fields, index) => buildSegment('OBX', { 1: String(index + 1), ...fields }));
}

function textObservation(facts: ReportFacts, text: string, status: 'F' | 'C'): Record<number, Hl7FieldValue> {
  return {
    2: 'FT',
    3: REPORT_TEXT_CODE,
    5: text,
    8: facts.critical ? 'AA' : undefined,
    11: status,
    14: hl7SignedAt(facts.latest.report),
    16: signerNameParts(facts.latest.signer),
  };
}

// ED: source application (empty), type AP(plication), subtype PDF, encoding, data.
function pdfValue(pdf: Uint8Array): Hl7FieldValue {
  const base64 = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength).toString('base64');
  return [undefined, 'AP', 'PDF', 'Base64', { base64 }];
}

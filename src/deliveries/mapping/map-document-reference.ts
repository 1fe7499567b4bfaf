import type { DocumentReference, DocumentReferenceContent } from '@medplum/fhirtypes';
import { CLINICAL_NOTE_CATEGORY, DIAGNOSTIC_IMAGING_STUDY, MIME_TYPE_SUFFICIENT, US_CORE_DOCUMENT_REFERENCE } from './code-systems.ts';
import type { SignedReport } from './delivery-input.ts';
import type { MappingContext } from './mapping-context.ts';
import { pdfAttachment, textAttachment, type EncodedBytes } from './attachments.ts';
import { hasText } from './combine-report-texts.ts';

/** One signed Avara report, original or addendum, as its own document (fhir-mapping.md "DocumentReference"). */
export function mapDocumentReference(context: MappingContext, signed: SignedReport): DocumentReference {
  const { report, signer } = signed;
  const isAddendum = signed !== context.original;
  return {
    resourceType: 'DocumentReference',
    meta: { profile: [US_CORE_DOCUMENT_REFERENCE] },
    identifier: [{ system: context.systems.reportId, value: report.reportId }],
    status: 'current',
    docStatus: 'final',
    type: { coding: [DIAGNOSTIC_IMAGING_STUDY] },
    category: [CLINICAL_NOTE_CATEGORY],
    subject: { reference: context.refs.patient },
    date: report.signedAt!,
    author: [{ reference: context.refs.practitioners.get(signer.userId)! }],
    // An addendum appends to the original: Avara names no parent, so the study's one signed
    // original is the target (avara-api.md §10), always in this same bundle.
    ...(isAddendum
      ? { relatesTo: [{ code: 'appends', target: { reference: context.refs.documents.get(context.original.report.reportId)! } }] }
      : {}),
    description: isAddendum ? 'Radiology report addendum' : 'Radiology report',
    content: documentContent(signed, context.encodedPdf(signed)),
    context: {
      related: [{ reference: context.refs.diagnosticReport }, { reference: context.refs.imagingStudy }],
      ...(context.effectiveStarted ? { period: { start: context.effectiveStarted } } : {}),
    },
  };
}

function documentContent({ plainText }: SignedReport, pdf: EncodedBytes): DocumentReferenceContent[] {
  const content: DocumentReferenceContent[] = [
    { attachment: pdfAttachment(pdf, { title: 'Report PDF' }), format: MIME_TYPE_SUFFICIENT },
  ];
  if (hasText(plainText)) {
    content.push({ attachment: textAttachment(plainText, { title: 'Report text' }) });
  }
  return content;
}

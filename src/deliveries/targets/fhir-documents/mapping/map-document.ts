import type { DocumentReference, DocumentReferenceContent, Reference } from '@medplum/fhirtypes';
import { SyncError } from '../../../../errors.ts';
import { pdfAttachment, textAttachment } from '../../../mapping/attachments.ts';
import { CLINICAL_NOTE_CATEGORY, CRITICAL_TAG, DIAGNOSTIC_IMAGING_STUDY, MIME_TYPE_SUFFICIENT, US_CORE_DOCUMENT_REFERENCE } from '../../../mapping/code-systems.ts';
import { hasText } from '../../../mapping/combine-report-texts.ts';
import { currentMetadata } from '../../../mapping/current-metadata.ts';
import { studyStarted } from '../../../mapping/study-started.ts';
import type { DocumentInput, DocumentOptions } from './document-input.ts';
import { signerDisplay } from './signer-display.ts';

/**
 * The one DocumentReference the `fhir-documents` target creates for one signed report
 * (fhir-mapping.md "Document target"): the DocumentReference of the bundle, with exactly one
 * content entry and only references to what the EHR already holds. Pure.
 */
export function mapDocument(input: DocumentInput, options: DocumentOptions): DocumentReference {
  const { report, signer } = input.signed;
  const isAddendum = report.isAddendum === true;
  if (isAddendum && input.original === undefined) {
    // Without its original the addendum would read as a report of its own.
    throw SyncError.permanent('internal', `addendum ${report.reportId} mapped without its original's DocumentReference`);
  }
  const started = input.ehrStarted?.trim() || studyStarted(...studyTime(input), options.studyTimeZone);
  const related = serviceRequestReference(input.study.metadata?.fhirServiceRequest);
  const context: DocumentReference['context'] = {
    ...(input.encounter ? { encounter: [{ reference: input.encounter }] } : {}),
    ...(started ? { period: { start: started } } : {}),
    ...(related ? { related: [related] } : {}),
  };
  return {
    resourceType: 'DocumentReference',
    meta: { profile: [US_CORE_DOCUMENT_REFERENCE], ...(report.isCritical ? { tag: [CRITICAL_TAG] } : {}) },
    identifier: [{ system: `${options.identifierSystemBase.replace(/\/+$/, '')}/report-id`, value: report.reportId }],
    status: 'current',
    docStatus: 'final',
    type: { coding: [DIAGNOSTIC_IMAGING_STUDY] },
    category: [CLINICAL_NOTE_CATEGORY],
    subject: { reference: input.patient },
    date: report.signedAt!,
    author: [input.author ? { reference: input.author } : { display: signerDisplay(signer) }],
    ...(isAddendum ? { relatesTo: [{ code: 'appends', target: { reference: input.original! } }] } : {}),
    description: isAddendum ? 'Radiology report addendum' : 'Radiology report',
    content: [documentContent(input, options.content)],
    ...(Object.keys(context).length > 0 ? { context } : {}),
  };
}

function documentContent({ signed }: DocumentInput, kind: DocumentOptions['content']): DocumentReferenceContent {
  if (kind === 'text') {
    // Avara may show the text a little after the webhook (avara-api.md §10); MAX_ATTEMPTS bounds the wait.
    if (!hasText(signed.plainText)) throw SyncError.retryable('avara_bad_response', `report ${signed.report.reportId} has no text, and FHIR_DOCUMENT_CONTENT=text sends text only`);
    return { attachment: textAttachment(signed.plainText, { title: 'Report text' }) };
  }
  if (!isPdf(signed.pdf)) throw SyncError.retryable('pdf_invalid', `PDF of report ${signed.report.reportId} is not a PDF`);
  return { attachment: pdfAttachment(signed.pdf, { title: 'Report PDF' }), format: MIME_TYPE_SUFFICIENT };
}

function studyTime({ study, signed }: DocumentInput): [string | undefined, string | undefined] {
  const metadata = currentMetadata(study, signed.report.snapshotMetadata);
  return [metadata.studyDate, metadata.studyTime];
}

// Integrator metadata is free text: only a well-formed reference of the expected type is followed.
function serviceRequestReference(value: string | undefined): Reference | undefined {
  const reference = value?.trim();
  return reference && /^ServiceRequest\/[A-Za-z0-9\-.]{1,64}$/.test(reference) ? { reference } : undefined;
}

function isPdf(bytes: Uint8Array): boolean {
  return bytes.length > 5 && Buffer.from(bytes.subarray(0, 5)).toString('latin1') === '%PDF-';
}

import type { Attachment, DiagnosticReport, Identifier, Meta, Practitioner, Reference, ServiceRequest } from '@medplum/fhirtypes';
import { pdfAttachment, textAttachment } from './attachments.ts';
import { CRITICAL_TAG, DIAGNOSTIC_IMAGING_STUDY, RADIOLOGY_CATEGORY, US_CORE_DIAGNOSTIC_REPORT_NOTE } from './code-systems.ts';
import { combineReportTexts } from './combine-report-texts.ts';
import { diagnosticReportConclusion } from './diagnostic-report-conclusion.ts';
import { ownReportTexts } from './own-report-texts.ts';
import { accessionIdentifiers, studyIdIdentifier } from './map-imaging-study.ts';
import type { SignedReport } from './delivery-input.ts';
import type { MappingContext } from './mapping-context.ts';

/**
 * The study's one DiagnosticReport, rebuilt from every signed report each time
 * (fhir-mapping.md "DiagnosticReport"), so any delivery of the study converges on the same content.
 */
export function mapDiagnosticReport(context: MappingContext): DiagnosticReport {
  const { study, metadata, latest } = context;
  const basedOn = serviceRequestReference(study.metadata?.fhirServiceRequest);
  const ownTexts = ownReportTexts(context.original, context.addenda);
  const conclusion = diagnosticReportConclusion(context.signed, ownTexts);
  const performers = signerReferences(context);
  return {
    resourceType: 'DiagnosticReport',
    meta: diagnosticReportMeta(context),
    identifier: diagnosticReportIdentifiers(context),
    ...(basedOn ? { basedOn: [basedOn] } : {}),
    status: context.addenda.length > 0 ? 'appended' : 'final',
    category: [RADIOLOGY_CATEGORY],
    code: { coding: [DIAGNOSTIC_IMAGING_STUDY], text: metadata.procedure ?? study.studyDescription },
    subject: { reference: context.refs.patient },
    effectiveDateTime: context.effectiveStarted ?? context.original.report.signedAt!,
    issued: latest.report.signedAt!,
    performer: performers,
    resultsInterpreter: performers,
    imagingStudy: [{ reference: context.refs.imagingStudy }],
    ...(conclusion ? { conclusion } : {}),
    presentedForm: presentedForm(context, ownTexts),
  };
}

function diagnosticReportMeta(context: MappingContext): Meta {
  const critical = context.signed.some((r) => r.report.isCritical === true);
  return { profile: [US_CORE_DIAGNOSTIC_REPORT_NOTE], ...(critical ? { tag: [CRITICAL_TAG] } : {}) };
}

function diagnosticReportIdentifiers(context: MappingContext): Identifier[] {
  const reportIds = context.signed.map((r) => ({ system: context.systems.reportId, value: r.report.reportId }));
  return [studyIdIdentifier(context), ...reportIds, ...accessionIdentifiers(context)];
}

// Original signer first, then addendum signers, each once.
function signerReferences(context: MappingContext): Reference<Practitioner>[] {
  const userIds = [...new Set([context.original, ...context.addenda].map((r) => r.signer.userId))];
  return userIds.map((userId) => ({ reference: context.refs.practitioners.get(userId)! }));
}

function presentedForm(context: MappingContext, ownTexts: ReadonlyMap<SignedReport, string | undefined>): Attachment[] {
  const creation = context.latest.report.signedAt!;
  const text = combineReportTexts(context.original, context.addenda, ownTexts);
  const pdf = pdfAttachment(context.encodedPdf(context.latest), { title: 'Report PDF', creation });
  return text === undefined ? [pdf] : [textAttachment(text, { title: 'Report text', creation }), pdf];
}

// Integrator metadata is free text: only a well-formed ServiceRequest reference is written, so a
// stray value cannot make the EHR reject the whole transaction or point at another resource.
function serviceRequestReference(value: string | undefined): Reference<ServiceRequest> | undefined {
  const reference = value?.trim();
  return reference && /^ServiceRequest\/[A-Za-z0-9\-.]{1,64}$/.test(reference) ? { reference } : undefined;
}

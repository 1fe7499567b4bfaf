import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { SyncError } from '../../errors.ts';
import type { DeliveryInput, MappingOptions } from './delivery-input.ts';
import { identifierQuery } from './identifier-query.ts';
import { dicomUidValue } from './identifier-systems.ts';
import { mapDiagnosticReport } from './map-diagnostic-report.ts';
import { mapDocumentReference } from './map-document-reference.ts';
import { mapImagingStudy } from './map-imaging-study.ts';
import { mapPatient } from './map-patient.ts';
import { mapPractitioner } from './map-practitioner.ts';
import { createMappingContext, type MappingContext } from './mapping-context.ts';

/**
 * The transaction Bundle for one delivery: the current state of one study's signed reports
 * (fhir-mapping.md). Pure: same input and same `newUuid` sequence, same Bundle. Order is Patient
 * (when created) -> Practitioners -> ImagingStudy -> DocumentReferences -> DiagnosticReport, and
 * every entry is conditional on a business identifier so a replay creates nothing new.
 */
export function buildDeliveryBundle(input: DeliveryInput, options: MappingOptions): Bundle {
  const context = createMappingContext(input, options);
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      ...patientEntries(input, context, options),
      ...practitionerEntries(context),
      imagingStudyEntry(context),
      ...documentReferenceEntries(context),
      diagnosticReportEntry(context),
    ],
  };
}

function patientEntries(input: DeliveryInput, context: MappingContext, options: MappingOptions): BundleEntry[] {
  if (input.patient.kind !== 'create') return [];
  const { identifierSystem, identifierValue } = input.patient;
  const patient = mapPatient(context.study, context.metadata, options);
  // The conditional key must be one of the identifiers we write, or the next delivery would not
  // find the Patient this one created and would create a second chart.
  if (!patient.identifier?.some((i) => i.system === identifierSystem && i.value === identifierValue)) {
    throw SyncError.permanent('internal', 'patient resolution key is not one of the patient identifiers of the study');
  }
  return [createEntry(context.refs.patientEntry!, patient, identifierQuery(identifierSystem, identifierValue))];
}

function practitionerEntries(context: MappingContext): BundleEntry[] {
  const signers = new Map(context.signed.map((r) => [r.signer.userId, r.signer] as const));
  return [...context.refs.practitioners].map(([userId, fullUrl]) =>
    createEntry(fullUrl, mapPractitioner(signers.get(userId)!, context.systems), identifierQuery(context.systems.userId, userId)),
  );
}

function imagingStudyEntry(context: MappingContext): BundleEntry {
  const query = identifierQuery(context.systems.dicomUid, dicomUidValue(context.study.studyInstanceUid));
  return createEntry(context.refs.imagingStudy, mapImagingStudy(context), query);
}

function documentReferenceEntries(context: MappingContext): BundleEntry[] {
  const byId = new Map(context.signed.map((r) => [r.report.reportId, r] as const));
  return [...context.refs.documents].map(([reportId, fullUrl]) =>
    updateEntry(fullUrl, mapDocumentReference(context, byId.get(reportId)!), identifierQuery(context.systems.reportId, reportId)),
  );
}

function diagnosticReportEntry(context: MappingContext): BundleEntry {
  const query = identifierQuery(context.systems.studyId, context.study.studyId);
  return updateEntry(context.refs.diagnosticReport, mapDiagnosticReport(context), query);
}

// Conditional create: resources the EHR or PACS may own already are never overwritten.
function createEntry(fullUrl: string, resource: Resource, query: string): BundleEntry {
  return { fullUrl, resource, request: { method: 'POST', url: resource.resourceType, ifNoneExist: query } };
}

// Conditional update: our own resources, created when absent and replaced in place when present.
function updateEntry(fullUrl: string, resource: Resource, query: string): BundleEntry {
  return { fullUrl, resource, request: { method: 'PUT', url: `${resource.resourceType}?${query}` } };
}

import type { DiagnosticReport, ImagingStudy, Patient, Practitioner, Resource, ServiceRequest } from '@medplum/fhirtypes';
import type { FhirClient } from '../fhir/fhir-client.ts';
import { orderDataError } from './mapping/order-data-error.ts';
import type { OrderInput, PriorCandidate } from './mapping/order-input.ts';

export interface OrderLinks {
  serviceRequestId: string | null;
  patientId: string | null;
}

/** The ids an ImagingStudy points at, known before they are read (so their later fixes re-queue it). */
export function orderLinks(study: ImagingStudy): OrderLinks {
  const sr = study.basedOn?.find((r) => r.reference?.startsWith('ServiceRequest/'))?.reference;
  const patient = study.subject?.reference?.startsWith('Patient/') ? study.subject.reference : undefined;
  return { serviceRequestId: sr?.slice('ServiceRequest/'.length) ?? null, patientId: patient?.slice('Patient/'.length) ?? null };
}

export async function readImagingStudy(fhir: FhirClient, id: string): Promise<ImagingStudy> {
  const study = await readById<ImagingStudy>(fhir, 'ImagingStudy', id);
  if (!study) throw orderDataError('order_invalid_data', 'ImagingStudy no longer exists');
  return study;
}

/** Reads everything the mapping needs: the order, the patient, the requester and the priors. */
export async function readOrderInput(fhir: FhirClient, imagingStudy: ImagingStudy, links: OrderLinks): Promise<OrderInput> {
  const serviceRequest = links.serviceRequestId ? await readById<ServiceRequest>(fhir, 'ServiceRequest', links.serviceRequestId) : undefined;
  if (!serviceRequest) throw orderDataError('order_no_service_request', 'the ServiceRequest in ImagingStudy.basedOn does not exist');
  const patientId = links.patientId ?? serviceRequest.subject?.reference?.replace(/^Patient\//, '');
  const patient = patientId ? await readById<Patient>(fhir, 'Patient', patientId) : undefined;
  if (!patient) throw orderDataError('order_no_patient', 'the ImagingStudy subject is not an existing Patient');
  const requesterRef = serviceRequest.requester?.display ? undefined : serviceRequest.requester?.reference;
  const requester = requesterRef?.startsWith('Practitioner/') ? await readById<Practitioner>(fhir, 'Practitioner', requesterRef.slice(13)) : undefined;
  return { imagingStudy, serviceRequest, patient, requester, priors: await readPriors(fhir, patient.id!) };
}

/** The patient's DiagnosticReports with their ImagingStudies (also read by the clinical-context answer). */
export async function readPriors(fhir: Pick<FhirClient, 'search'>, patientId: string): Promise<PriorCandidate[]> {
  const reports = await fhir.search<DiagnosticReport>('DiagnosticReport', { subject: `Patient/${patientId}`, _count: '200' });
  const studyIds = [...new Set(reports.flatMap((r) => (r.imagingStudy ?? []).map((s) => s.reference?.replace(/^ImagingStudy\//, '')).filter((id): id is string => !!id)))];
  const studies = studyIds.length > 0 ? await fhir.search<ImagingStudy>('ImagingStudy', { _id: studyIds.join(','), _count: String(studyIds.length) }) : [];
  const byRef = new Map(studies.map((s) => [`ImagingStudy/${s.id}`, s]));
  return reports.map((report) => ({ report, imagingStudy: byRef.get(report.imagingStudy?.[0]?.reference ?? '') }));
}

async function readById<T extends Resource>(fhir: FhirClient, type: T['resourceType'], id: string): Promise<T | undefined> {
  return (await fhir.search<T>(type, { _id: id }))[0];
}

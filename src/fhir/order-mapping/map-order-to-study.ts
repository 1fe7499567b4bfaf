import type { CodeableConcept, HumanName, Patient, ServiceRequest } from '@medplum/fhirtypes';
import type { StudyCreateBody } from '../../avara/study-write-schemas.ts';
import { toLocalDateTime } from './local-date-time.ts';
import { mapPriorReports } from './map-prior-reports.ts';
import { orderDataError } from './order-data-error.ts';
import { DICOM_UID_SYSTEM, type OrderInput, type OrderMappingOptions } from './order-input.ts';

const SEVERITY: Record<string, StudyCreateBody['severity']> = { routine: 'normal', urgent: 'high', asap: 'stat', stat: 'stat' };

/** fhir-mapping.md "The other direction": one order -> the body of Avara's study create (§9.1). */
export function mapOrderToStudy(input: OrderInput, options: OrderMappingOptions): StudyCreateBody {
  const { imagingStudy: study, serviceRequest: order, patient } = input;
  const srRef = `ServiceRequest/${order.id}`;
  const isRef = `ImagingStudy/${study.id}`;
  const procedure = conceptText(order.code);
  const studyDescription = study.description ?? procedure;
  if (!studyDescription) throw orderDataError('order_invalid_data', 'neither ImagingStudy.description nor ServiceRequest.code has a text or display');
  const priorReports = mapPriorReports(input.priors, options.priorReportsMax, [srRef, isRef], options.studyTimeZone);
  const body: StudyCreateBody = {
    studyInstanceUid: studyUid(input),
    studyDescription,
    severity: SEVERITY[order.priority ?? 'routine'] ?? 'normal',
    reportMetadata: compact({
      patientName: patientName(patient),
      mrn: mrn(patient, options.mrnSystem),
      dateOfBirth: patient.birthDate && /^\d{4}-\d{2}-\d{2}$/.test(patient.birthDate) ? patient.birthDate : undefined,
      sex: patient.gender === 'male' || patient.gender === 'female' || patient.gender === 'other' ? patient.gender : undefined,
      procedure,
      referringPhysicianName: order.requester?.display ?? (input.requester ? nameText(input.requester.name?.[0]) : undefined),
      facilityName: order.performer?.find((p) => p.display)?.display ?? order.locationReference?.find((l) => l.display)?.display,
      ...toLocalDateTime(study.started, options.studyTimeZone),
    }),
    externalPatientId: `Patient/${patient.id}`,
    ...compact({
      modality: study.modality?.[0]?.code,
      clinicalIndication: joined((order.reasonCode ?? []).map(conceptText), '; '),
      clinicalHistory: joined((order.note ?? []).map((n) => n.text), '\n'),
    }),
    ...(priorReports.length > 0 ? { priorReports } : {}),
    metadata: compact({ fhirServiceRequest: srRef, fhirImagingStudy: isRef, accessionNumber: accession(order) }),
  };
  return body;
}

function studyUid(input: OrderInput): string {
  const value = input.imagingStudy.identifier?.find((i) => i.system === DICOM_UID_SYSTEM)?.value?.replace(/^urn:oid:/, '');
  if (!value) throw orderDataError('order_no_study_uid', 'ImagingStudy has no urn:dicom:uid identifier');
  return value;
}

function mrn(patient: Patient, system: string): string {
  const value = patient.identifier?.find((i) => i.system === system)?.value;
  // Without the MRN the signed report could not find this chart again (fhir-mapping.md, Patient).
  if (!value) throw orderDataError('order_no_mrn', 'Patient has no identifier with MRN_SYSTEM');
  return value;
}

function patientName(patient: Patient): string | undefined {
  return nameText(patient.name?.[0]);
}

function nameText(name: HumanName | undefined): string | undefined {
  if (!name) return undefined;
  return name.text ?? joined([...(name.given ?? []), name.family], ' ');
}

function conceptText(concept: CodeableConcept | undefined): string | undefined {
  return concept?.text ?? concept?.coding?.find((c) => c.display)?.display;
}

function accession(order: ServiceRequest): string | undefined {
  return order.identifier?.find((i) => i.type?.coding?.some((c) => c.code === 'ACSN'))?.value;
}

function joined(values: (string | undefined)[], separator: string): string | undefined {
  const present = values.filter((v): v is string => !!v && v.trim() !== '');
  return present.length > 0 ? present.join(separator) : undefined;
}

/** Drops undefined values so absent FHIR elements are absent keys, not `undefined`s in JSON. */
function compact<T extends Record<string, unknown>>(record: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as never;
}


import type { Patient } from '@medplum/fhirtypes';
import type { StudyCreateBody } from '../../avara/study-write-schemas.ts';
import { accessionNumber, birthDateOf, compact, conceptText, facilityNameOf, joinedText, mrnValue, nameText, severityOf, sexOf } from '../../fhir/element-text.ts';
import { toLocalDateTime } from '../../fhir/local-date-time.ts';
import { mapPriorReports } from './map-prior-reports.ts';
import { orderDataError } from './order-data-error.ts';
import { DICOM_UID_SYSTEM } from '../../fhir/dicom-uid.ts';
import type { OrderInput, OrderMappingOptions } from './order-input.ts';

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
    severity: severityOf(order),
    reportMetadata: compact({
      patientName: nameText(patient.name?.[0]),
      mrn: mrn(patient, options.mrnSystem),
      dateOfBirth: birthDateOf(patient),
      sex: sexOf(patient),
      procedure,
      referringPhysicianName: order.requester?.display ?? (input.requester ? nameText(input.requester.name?.[0]) : undefined),
      facilityName: facilityNameOf(order),
      ...toLocalDateTime(study.started, options.studyTimeZone),
    }),
    externalPatientId: `Patient/${patient.id}`,
    ...compact({
      modality: study.modality?.[0]?.code,
      clinicalIndication: joinedText((order.reasonCode ?? []).map(conceptText), '; '),
      clinicalHistory: joinedText((order.note ?? []).map((n) => n.text), '\n'),
    }),
    ...(priorReports.length > 0 ? { priorReports } : {}),
    metadata: compact({ fhirServiceRequest: srRef, fhirImagingStudy: isRef, accessionNumber: accessionNumber(order) }),
  };
  return body;
}

function studyUid(input: OrderInput): string {
  const value = input.imagingStudy.identifier?.find((i) => i.system === DICOM_UID_SYSTEM)?.value?.replace(/^urn:oid:/, '');
  if (!value) throw orderDataError('order_no_study_uid', 'ImagingStudy has no urn:dicom:uid identifier');
  return value;
}

function mrn(patient: Patient, system: string): string {
  const value = mrnValue(patient, system);
  // Without the MRN the signed report could not find this chart again (fhir-mapping.md, Patient).
  if (!value) throw orderDataError('order_no_mrn', 'Patient has no identifier with MRN_SYSTEM');
  return value;
}

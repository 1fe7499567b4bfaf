import type { ServiceRequest } from '@medplum/fhirtypes';
import { accessionNumber, conceptText, mrnValue } from '../../fhir/element-text.ts';
import { DICOM_UID_SYSTEM } from '../../fhir/dicom-uid.ts';
import { heightMetres, weightKg } from './body-measures.ts';
import { derivedStudyUid, dicomDateTime, dicomPersonName, shortStringId } from './dicom-values.ts';
import type { FoundOrder, SyncAnswerOptions, WorklistItem } from './answer-types.ts';

export interface WorklistQuery {
  /** `YYYY-MM-DD`, inclusive, in STUDY_TIME_ZONE. */
  dateStart: string;
  dateEnd: string;
  modality?: string;
}

export type ScheduledOrder = FoundOrder & { serviceRequest: ServiceRequest };

const DCM_SYSTEM = 'http://dicom.nema.org/resources/ontology/DCM';
const SEX: Record<string, string> = { male: 'M', female: 'F', other: 'O' };

/**
 * avara-api.md §7.3.5: one worklist item per active order scheduled in the window (local dates),
 * earliest first. Orders the modality could not file correctly are left out: no patient, no MRN
 * (the PatientID), no scheduled time, or (with a modality filter) an unknown modality.
 */
export function mapWorklistItems(orders: ScheduledOrder[], query: WorklistQuery, options: Pick<SyncAnswerOptions, 'mrnSystem' | 'studyTimeZone'>): WorklistItem[] {
  const start = query.dateStart.replaceAll('-', '');
  const end = query.dateEnd.replaceAll('-', '');
  const wanted = query.modality?.trim().toUpperCase();
  return orders
    .map((order) => ({ order, item: mapWorklistItem(order, options) }))
    .filter((x): x is { order: ScheduledOrder; item: WorklistItem } => x.item !== undefined)
    .filter(({ item }) => {
      const step = item.ScheduledProcedureStepSequence[0]!;
      return step.ScheduledProcedureStepStartDate >= start && step.ScheduledProcedureStepStartDate <= end && (!wanted || item.Modality.toUpperCase() === wanted);
    })
    .sort((a, b) => stepKey(a.item).localeCompare(stepKey(b.item)) || (a.order.serviceRequest.id ?? '').localeCompare(b.order.serviceRequest.id ?? ''))
    .map(({ item }) => item);
}

function mapWorklistItem(found: ScheduledOrder, options: Pick<SyncAnswerOptions, 'mrnSystem' | 'studyTimeZone'>): WorklistItem | undefined {
  const { serviceRequest: order, patient, imagingStudy: study } = found;
  const mrn = patient ? mrnValue(patient, options.mrnSystem) : undefined;
  const scheduled = dicomDateTime(order.occurrenceDateTime ?? order.occurrencePeriod?.start, options.studyTimeZone);
  if (!patient || !mrn || !scheduled.date || !order.id) return undefined;
  const modality = study?.modality?.[0]?.code ?? dicomModality(order) ?? '';
  const procedure = conceptText(order.code) ?? '';
  const accession = accessionNumber(order) ?? '';
  const height = heightMetres(found.measures?.height);
  const weight = weightKg(found.measures?.weight);
  const studyUid = study?.identifier?.find((i) => i.system === DICOM_UID_SYSTEM)?.value?.replace(/^urn:oid:/, '');
  return {
    // SH holds 16 characters; a longer accession is left empty rather than cut into another one.
    AccessionNumber: accession.length <= 16 ? accession : '',
    Modality: modality,
    PatientBirthDate: patient.birthDate && /^\d{4}-\d{2}-\d{2}$/.test(patient.birthDate) ? patient.birthDate.replaceAll('-', '') : '',
    PatientID: mrn,
    PatientName: dicomPersonName(patient.name?.[0]),
    PatientSex: SEX[patient.gender ?? ''] ?? 'O',
    PatientSize: height !== undefined ? String(Math.round(height * 100) / 100) : '',
    PatientWeight: weight !== undefined ? String(Math.round(weight * 10) / 10) : '',
    ProtocolName: procedure,
    RequestedProcedureDescription: procedure,
    StudyDescription: study?.description ?? procedure,
    StudyInstanceUID: studyUid ?? derivedStudyUid(order.id),
    ScheduledProcedureStepSequence: [
      {
        Modality: modality,
        ScheduledProcedureStepDescription: procedure,
        ScheduledProcedureStepID: shortStringId(order.id),
        ScheduledProcedureStepStartDate: scheduled.date,
        ScheduledProcedureStepStartTime: scheduled.time,
      },
    ],
  };
}

function dicomModality(order: ServiceRequest): string | undefined {
  const codings = [...(order.code?.coding ?? []), ...(order.category ?? []).flatMap((c) => c.coding ?? [])];
  return codings.find((c) => c.system === DCM_SYSTEM && c.code)?.code;
}

function stepKey(item: WorklistItem): string {
  const step = item.ScheduledProcedureStepSequence[0]!;
  return `${step.ScheduledProcedureStepStartDate}${step.ScheduledProcedureStepStartTime.padEnd(6, '0')}`;
}

import type { ImagingStudy, Observation, Patient, Practitioner, Resource, ServiceRequest } from '@medplum/fhirtypes';
import { BODY_HEIGHT_CODE, BODY_WEIGHT_CODE, latestMeasures } from './mapping/body-measures.ts';
import type { FoundOrder } from './mapping/answer-types.ts';
import { DICOM_UID_SYSTEM } from '../fhir/dicom-uid.ts';
import type { BudgetedSearch } from './budgeted-search.ts';

/** What Avara gave us to find the order and the patient with (any may be absent). */
export interface OrderKeys {
  studyInstanceUid?: string;
  accessionNumber?: string;
  /** The MRN (DICOM Patient ID). */
  mrn?: string;
  /** `Patient/<id>`, as the orders direction sends `externalPatientId`. */
  patientRef?: string;
}

/** Why an answer is empty although something may exist: we will not guess between records. */
export type LookupVerdict = 'found' | 'not_found' | 'ambiguous' | 'patient_mismatch';

export interface OrderLookup {
  verdict: LookupVerdict;
  found: FoundOrder;
}

/**
 * Finds the order and its patient from whatever keys Avara sent, in two rounds of parallel
 * searches: first by the keys themselves, then the parts they point at. Two records for one key,
 * or an order whose patient is not the one the MRN names, give nothing: a wrong chart is worse
 * than an empty answer.
 */
export async function readFoundOrder(search: BudgetedSearch, keys: OrderKeys, mrnSystem: string): Promise<OrderLookup> {
  const patientId = keys.patientRef?.match(/^Patient\/([A-Za-z0-9\-.]{1,64})$/)?.[1];
  const [studies, orders, byMrn, byId] = await Promise.all([
    keys.studyInstanceUid ? search<ImagingStudy>('ImagingStudy', { identifier: `${DICOM_UID_SYSTEM}|urn:oid:${keys.studyInstanceUid}` }) : none<ImagingStudy>(),
    keys.accessionNumber ? search<ServiceRequest>('ServiceRequest', { identifier: keys.accessionNumber }) : none<ServiceRequest>(),
    keys.mrn ? search<Patient>('Patient', { identifier: `${mrnSystem}|${keys.mrn}` }) : none<Patient>(),
    patientId ? search<Patient>('Patient', { _id: patientId }) : none<Patient>(),
  ]);
  if ([studies, orders, byMrn].some((list) => list.length > 1)) return { verdict: 'ambiguous', found: {} };
  let study = studies[0];
  let order = orders[0];
  const keyedPatient = byMrn[0] ?? byId[0];
  if (byMrn[0] && byId[0] && byMrn[0].id !== byId[0].id) return { verdict: 'patient_mismatch', found: {} };

  const orderId = order ? undefined : refId(study?.basedOn?.find((r) => r.reference?.startsWith('ServiceRequest/'))?.reference, 'ServiceRequest');
  const [linkedOrders, linkedStudies] = await Promise.all([
    orderId ? search<ServiceRequest>('ServiceRequest', { _id: orderId }) : none<ServiceRequest>(),
    !study && order?.id ? search<ImagingStudy>('ImagingStudy', { basedon: `ServiceRequest/${order.id}` }) : none<ImagingStudy>(),
  ]);
  order ??= linkedOrders[0];
  // Several studies for one order (e.g. a repeat): we cannot tell which one Avara holds.
  if (!study && linkedStudies.length === 1) study = linkedStudies[0];

  const subjects = new Set([order?.subject?.reference, study?.subject?.reference].filter((r): r is string => !!r));
  if (subjects.size > 1) return { verdict: 'patient_mismatch', found: {} };
  const subjectId = refId([...subjects][0], 'Patient');
  if (keyedPatient && subjectId && keyedPatient.id !== subjectId) return { verdict: 'patient_mismatch', found: {} };

  const requesterId = order?.requester?.display ? undefined : refId(order?.requester?.reference, 'Practitioner');
  const patientIdToRead = keyedPatient ? undefined : subjectId;
  const measuredId = keyedPatient?.id ?? subjectId;
  const [subjectPatients, requesters, observations] = await Promise.all([
    patientIdToRead ? search<Patient>('Patient', { _id: patientIdToRead }) : none<Patient>(),
    requesterId ? search<Practitioner>('Practitioner', { _id: requesterId }) : none<Practitioner>(),
    measuredId ? search<Observation>('Observation', measuresQuery([measuredId])) : none<Observation>(),
  ]);
  const patient = keyedPatient ?? subjectPatients[0];
  const found = compactFound({ patient, serviceRequest: order, imagingStudy: study, requester: requesters[0], measures: latestMeasures(observations) });
  return { verdict: patient || order || study ? 'found' : 'not_found', found };
}

export function measuresQuery(patientIds: string[]): Record<string, string> {
  return {
    subject: patientIds.map((id) => `Patient/${id}`).join(','),
    code: `http://loinc.org|${BODY_HEIGHT_CODE},http://loinc.org|${BODY_WEIGHT_CODE}`,
    _count: '1000',
  };
}

export function refId(reference: string | undefined, type: string): string | undefined {
  return reference?.startsWith(`${type}/`) ? reference.slice(type.length + 1) : undefined;
}

export function none<T extends Resource>(): Promise<T[]> {
  return Promise.resolve([]);
}

function compactFound(found: FoundOrder): FoundOrder {
  return Object.fromEntries(Object.entries(found).filter(([, v]) => v !== undefined)) as FoundOrder;
}

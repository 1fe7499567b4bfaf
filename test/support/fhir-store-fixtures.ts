import type { Bundle, BundleEntry, DiagnosticReport, DocumentReference, ImagingStudy, Patient } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';

export const SID = 'https://api.avarasoftware.com/fhir/sid';
export const MRN_SYSTEM = 'urn:avara-fhir-sync:mrn';
export const CRITICAL_TAG = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'AA' };

export type DeliveryKeys = { mrn: string; studyUid: string; studyId: string; reportId: string; conclusion?: string };

/**
 * A delivery-shaped transaction: conditional Patient and ImagingStudy creates, conditional
 * DocumentReference and DiagnosticReport updates, all cross-referenced by fresh urn:uuids.
 */
export function deliveryBundle(keys: DeliveryKeys): Bundle {
  const urn = { patient: newUrn(), study: newUrn(), document: newUrn(), report: newUrn() };
  const patient: Patient = { resourceType: 'Patient', identifier: [{ system: MRN_SYSTEM, value: keys.mrn }], gender: 'female' };
  const study: ImagingStudy = {
    resourceType: 'ImagingStudy',
    status: 'available',
    identifier: [{ system: 'urn:dicom:uid', value: `urn:oid:${keys.studyUid}` }],
    subject: { reference: urn.patient },
  };
  const document: DocumentReference = {
    resourceType: 'DocumentReference',
    status: 'current',
    identifier: [{ system: `${SID}/report-id`, value: keys.reportId }],
    subject: { reference: urn.patient },
    content: [{ attachment: { contentType: 'text/plain', data: Buffer.from(keys.conclusion ?? 'No acute findings.').toString('base64') } }],
    context: { related: [{ reference: urn.report }, { reference: urn.study }] },
  };
  const report: DiagnosticReport = {
    resourceType: 'DiagnosticReport',
    status: 'final',
    code: { text: 'CT chest' },
    identifier: [{ system: `${SID}/study-id`, value: keys.studyId }],
    subject: { reference: urn.patient },
    imagingStudy: [{ reference: urn.study }],
    conclusion: keys.conclusion ?? 'No acute findings.',
    meta: { tag: [CRITICAL_TAG] },
  };
  return transaction([
    { fullUrl: urn.patient, resource: patient, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${MRN_SYSTEM}|${keys.mrn}` } },
    { fullUrl: urn.study, resource: study, request: { method: 'POST', url: 'ImagingStudy', ifNoneExist: `identifier=urn:dicom:uid|urn:oid:${keys.studyUid}` } },
    { fullUrl: urn.document, resource: document, request: { method: 'PUT', url: `DocumentReference?identifier=${SID}/report-id|${keys.reportId}` } },
    { fullUrl: urn.report, resource: report, request: { method: 'PUT', url: `DiagnosticReport?identifier=${SID}/study-id|${keys.studyId}` } },
  ]);
}

export function transaction(entry: BundleEntry[]): Bundle {
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

export function newUrn(): string {
  return `urn:uuid:${randomUUID()}`;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/fhir+json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

export async function putJson(url: string, body: unknown): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

export async function getJson(url: string): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(url, { headers: { accept: 'application/fhir+json' } });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

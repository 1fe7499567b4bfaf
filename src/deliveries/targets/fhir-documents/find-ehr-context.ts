import type { Encounter, Practitioner, ServiceRequest } from '@medplum/fhirtypes';
import type { Study, User } from '../../../avara/schemas.ts';
import { SyncError } from '../../../errors.ts';
import type { FhirClient } from '../../../fhir/fhir-client.ts';
import { identifierSearchToken } from '../../mapping/identifier-query.ts';

const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';

/**
 * The signer's Practitioner in the EHR, found by NPI (exactly one), else undefined: the document
 * then names the signer in a display. Found ones are remembered: practitioners are not deleted.
 */
export async function findAuthor(fhir: FhirClient, signer: User, known: Map<string, string>): Promise<string | undefined> {
  const npi = signer.npiNumber?.trim();
  if (!npi) return undefined;
  const cached = known.get(npi);
  if (cached) return cached;
  const found = await fhir.search<Practitioner>('Practitioner', { identifier: identifierSearchToken(NPI_SYSTEM, npi), _count: '2' });
  if (found.length !== 1) return undefined;
  const reference = `Practitioner/${found[0]!.id}`;
  known.set(npi, reference);
  return reference;
}

/**
 * FHIR_DOCUMENT_ENCOUNTER=search (fhir-mapping.md "Document target"): the Encounter the order
 * names, else the patient's one Encounter whose period covers the study date. None or several:
 * retryable, the EHR may open or close encounters later; a guess would file the note wrongly.
 */
export async function findEncounter(fhir: FhirClient, study: Study, patient: string, studyDate: string | undefined): Promise<string> {
  const serviceRequestId = /^ServiceRequest\/([A-Za-z0-9\-.]{1,64})$/.exec(study.metadata?.fhirServiceRequest?.trim() ?? '')?.[1];
  if (serviceRequestId) {
    const [order] = await fhir.search<ServiceRequest>('ServiceRequest', { _id: serviceRequestId });
    const named = order?.encounter?.reference;
    if (named && /^Encounter\/[A-Za-z0-9\-.]{1,64}$/.test(named)) return named;
  }
  if (!studyDate) throw SyncError.retryable('encounter_not_found', 'the study has no date to find its encounter by, and its order names none');
  const encounters = await fhir.search<Encounter>('Encounter', { patient, _count: '100' });
  const covering = encounters.filter((encounter) => periodCovers(encounter.period, studyDate));
  if (covering.length !== 1) {
    throw SyncError.retryable('encounter_not_found', `${covering.length === 0 ? 'no' : covering.length} Encounter(s) of the patient cover the study date; one is needed`);
  }
  return `Encounter/${covering[0]!.id}`;
}

/** By calendar day: the study date has no zone, and an encounter's times are the EHR's local ones. */
export function periodCovers(period: Encounter['period'], day: string): boolean {
  const start = period?.start?.slice(0, 10);
  const end = period?.end?.slice(0, 10);
  return start !== undefined && start <= day && (end === undefined || end >= day);
}

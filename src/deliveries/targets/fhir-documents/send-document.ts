import type { DocumentReference } from '@medplum/fhirtypes';
import { SyncError } from '../../../errors.ts';
import type { FhirClient } from '../../../fhir/fhir-client.ts';
import { identifierSearchToken } from '../../mapping/identifier-query.ts';

export type SendResult = { kind: 'created' | 'adopted'; reference: string };

export interface SendDeps {
  fhir: FhirClient;
  /** FHIR_DOCUMENT_IDENTIFIER_SEARCH. */
  identifierSearch: boolean;
  /** Marks the row before the POST leaves, so a crash right after it is not taken for "never sent". */
  notePostSent(): Promise<void>;
  /** Clears that mark when the server's answer says nothing was written. */
  notePostRefused(): Promise<void>;
}

/** `DocumentReference/<id>` of the report's document on the patient's chart, found by identifier. */
export async function findDocument(fhir: FhirClient, patient: string, system: string, reportId: string): Promise<string | undefined> {
  const found = await fhir.search<DocumentReference>('DocumentReference', { patient, identifier: identifierSearchToken(system, reportId), _count: '2', _elements: 'identifier' });
  if (found.length > 1) {
    throw SyncError.permanent('fhir_conflicting_matches', `two DocumentReferences carry report ${reportId}: ${found.map((d) => `DocumentReference/${d.id}`).join(', ')}`);
  }
  return found[0] ? `DocumentReference/${found[0].id}` : undefined;
}

/**
 * Never twice without conditional writes (fhir-mapping.md "Document target"): searched before
 * the POST by the caller; a POST whose outcome is unknown is searched for again before anything
 * else is sent, or, when the EHR cannot search by identifier, stops for a person.
 */
export async function sendDocument(deps: SendDeps, document: DocumentReference, patient: string, system: string, reportId: string): Promise<SendResult> {
  await deps.notePostSent();
  try {
    const created = await deps.fhir.create(document);
    return { kind: 'created', reference: `DocumentReference/${created.id}` };
  } catch (error) {
    if (!(error instanceof SyncError) || !isUnknownOutcome(error)) {
      await deps.notePostRefused();
      throw error;
    }
    if (!deps.identifierSearch) {
      throw SyncError.permanent('write_outcome_unknown', `the DocumentReference POST for report ${reportId} got no answer (${error.code}) and FHIR_DOCUMENT_IDENTIFIER_SEARCH=false: look at the chart before a retry`, error);
    }
    const found = await findDocument(deps.fhir, patient, system, reportId);
    if (found) return { kind: 'adopted', reference: found };
    // Not there (yet): the next attempt searches again before it sends.
    throw error;
  }
}

// A status that says the server did not write (4xx, 429, 401) is not unknown; anything without one is.
function isUnknownOutcome(error: SyncError): boolean {
  return error.code === 'fhir_unavailable' || error.code === 'fhir_readback_failed';
}

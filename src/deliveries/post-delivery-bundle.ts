import type { Bundle, Resource } from '@medplum/fhirtypes';
import { SyncError } from '../errors.ts';
import type { FhirClient } from '../fhir/fhir-client.ts';

/**
 * POSTs the transaction and accepts only an unambiguous success: every entry answered 2xx.
 * A 412 (a conditional write matched several resources) is reported with the ids found, for a
 * person to merge; it is never resolved by picking one.
 */
export async function postDeliveryBundle(fhir: FhirClient, bundle: Bundle): Promise<Bundle> {
  let response: Bundle;
  try {
    response = await fhir.postTransaction(bundle);
  } catch (error) {
    if (error instanceof SyncError && error.code === 'fhir_conflicting_matches') throw await describeConflicts(fhir, bundle, error);
    throw error;
  }
  const requested = bundle.entry?.length ?? 0;
  const answered = response.entry ?? [];
  if (answered.length !== requested) {
    throw SyncError.retryable('fhir_rejected_bundle', `FHIR answered the transaction with ${answered.length} entries for ${requested}; outcome unknown`);
  }
  const failed = answered
    .map((entry, index) => ({ index, status: entry.response?.status ?? '' }))
    .filter(({ status }) => !/^2\d\d/.test(status));
  if (failed.length > 0) {
    const which = failed.map(({ index, status }) => `entry ${index} ${bundle.entry?.[index]?.resource?.resourceType} answered ${status || 'nothing'}`);
    const message = `FHIR transaction had failed entries: ${which.join('; ')}`;
    // Entries that failed for the server's own reasons (5xx, 429, 408) may succeed next time.
    const transient = failed.every(({ status }) => /^(5\d\d|429|408)/.test(status));
    throw transient ? SyncError.retryable('fhir_unavailable', message) : SyncError.permanent('fhir_rejected_bundle', message);
  }
  return response;
}

async function describeConflicts(fhir: FhirClient, bundle: Bundle, original: SyncError): Promise<SyncError> {
  const duplicates: string[] = [];
  for (const entry of bundle.entry ?? []) {
    const resourceType = entry.resource?.resourceType;
    const query = entry.request?.ifNoneExist ?? entry.request?.url.split('?')[1];
    if (!resourceType || !query) continue;
    const found = await fhir.search<Resource>(resourceType, Object.fromEntries(new URLSearchParams(query)));
    if (found.length > 1) duplicates.push(`${resourceType}: ${found.map((r) => `${resourceType}/${r.id}`).join(', ')}`);
  }
  if (duplicates.length === 0) return original;
  return SyncError.permanent('fhir_conflicting_matches', `several EHR resources carry one business identifier (merge them, then retry): ${duplicates.join('; ')}`);
}

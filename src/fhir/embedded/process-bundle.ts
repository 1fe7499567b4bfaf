import { OperationOutcomeError, allOk, badRequest, getStatus, isOk, normalizeOperationOutcome } from '@medplum/core';
import type { FhirRequest, FhirResponse, FhirRouter } from '@medplum/fhir-router';
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { IndexedMemoryRepository } from './indexed-memory-repository.ts';
import { resolveConditionalEntries } from './resolve-conditional-entries.ts';

export type BundleProcessor = { repository: IndexedMemoryRepository; router: FhirRouter };

/**
 * Applies a transaction or batch Bundle posted to the base URL.
 * Transaction: all or nothing; any failing entry answers that entry's error for the whole Bundle.
 * Batch: each entry on its own, as a one-entry transaction, so conditional entries behave the same
 * way in both and one failing entry neither stops nor half-applies the others.
 */
export async function processBundle(processor: BundleProcessor, bundle: Bundle): Promise<FhirResponse> {
  if (!bundle.entry?.length) return [badRequest('Bundle has no entries', 'Bundle.entry')];
  if (bundle.type === 'transaction') return processTransaction(processor, bundle);
  if (bundle.type !== 'batch') return [badRequest('Bundle.type must be transaction or batch', 'Bundle.type')];
  const entry: BundleEntry[] = [];
  for (const item of bundle.entry) {
    const [outcome, result] = await processTransaction(processor, { resourceType: 'Bundle', type: 'transaction', entry: [item] });
    const answered = (result as Bundle | undefined)?.entry?.[0];
    entry.push(isOk(outcome) && answered ? answered : { response: { status: String(getStatus(outcome)), outcome } });
  }
  return [allOk, { resourceType: 'Bundle', type: 'batch-response', entry }];
}

async function processTransaction({ repository, router }: BundleProcessor, bundle: Bundle): Promise<FhirResponse> {
  try {
    const response = await repository.withTransaction(async () => {
      const prepared = await resolveConditionalEntries(repository, bundle);
      const [outcome, result] = await router.handleRequest(transactionRequest(prepared), repository);
      // Medplum's processor has already undone its own writes; rethrowing ends this (outer)
      // transaction the same way instead of relying on that.
      if (!isOk(outcome) || !result) throw new OperationOutcomeError(outcome);
      return result;
    });
    return [allOk, response];
  } catch (err) {
    return [normalizeOperationOutcome(err)];
  }
}

function transactionRequest(bundle: Bundle): FhirRequest {
  // Without config.transactions Medplum's processor treats a transaction as a batch.
  return { method: 'POST', url: '', pathname: '', params: {}, query: {}, body: bundle, config: { transactions: true } };
}

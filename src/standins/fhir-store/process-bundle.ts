import { OperationOutcomeError, allOk, badRequest, getStatus, isOk, normalizeOperationOutcome } from '@medplum/core';
import type { FhirRequest, FhirResponse, FhirRouter } from '@medplum/fhir-router';
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { IndexedMemoryRepository } from './indexed-memory-repository.ts';
import { resolveConditionalEntries } from './resolve-conditional-entries.ts';
import type { RunSerially } from './serial-queue.ts';

/**
 * The racyConditionalCreates fault: conditions are decided outside the store's single-writer
 * queue, with a pause after each check, and only the writes are queued.
 */
export type RacyMode = { gapMs: number; runSerially: RunSerially };

export type BundleProcessor = { repository: IndexedMemoryRepository; router: FhirRouter; racy?: RacyMode };

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

async function processTransaction(processor: BundleProcessor, bundle: Bundle): Promise<FhirResponse> {
  const { repository, racy } = processor;
  try {
    if (racy) {
      // Check, pause, write: by the time the entries are applied another request may have
      // created the very resource a check found absent, like check-then-insert without a lock.
      const afterCheck = () => new Promise<void>((resolve) => setTimeout(resolve, racy.gapMs));
      const prepared = await resolveConditionalEntries(repository, bundle, { afterCheck });
      return [allOk, await racy.runSerially(() => repository.withTransaction(() => applyResolved(processor, prepared)))];
    }
    const response = await repository.withTransaction(async () => applyResolved(processor, await resolveConditionalEntries(repository, bundle)));
    return [allOk, response];
  } catch (err) {
    return [normalizeOperationOutcome(err)];
  }
}

async function applyResolved({ repository, router }: BundleProcessor, prepared: Bundle): Promise<Bundle> {
  const [outcome, result] = await router.handleRequest(transactionRequest(prepared), repository);
  // Medplum's processor has already undone its own writes; rethrowing ends this (outer)
  // transaction the same way instead of relying on that.
  if (!isOk(outcome) || !result) throw new OperationOutcomeError(outcome);
  return result as Bundle;
}

function transactionRequest(bundle: Bundle): FhirRequest {
  // Without config.transactions Medplum's processor treats a transaction as a batch.
  return { method: 'POST', url: '', pathname: '', params: {}, query: {}, body: bundle, config: { transactions: true } };
}

import type { DocumentReference } from '@medplum/fhirtypes';
import type { ClinicalContextInput } from './mapping/answer-types.ts';
import { readPriors } from '../orders/read-order-input.ts';
import type { BudgetedSearch } from './budgeted-search.ts';
import { readFoundOrder, type LookupVerdict, type OrderKeys } from './read-found-order.ts';

// Enough to pick the newest few text notes from; the mapping caps what is sent.
const NOTES_SEARCH_COUNT = '50';

export interface ClinicalContextLookup {
  verdict: LookupVerdict;
  input: ClinicalContextInput | undefined;
}

/** The order as enrichment finds it, then the patient's prior reports and clinical notes in parallel. */
export async function readClinicalContextInput(search: BudgetedSearch, keys: OrderKeys, mrnSystem: string): Promise<ClinicalContextLookup> {
  const lookup = await readFoundOrder(search, keys, mrnSystem);
  const patientId = lookup.found.patient?.id;
  if (lookup.verdict !== 'found') return { verdict: lookup.verdict, input: undefined };
  const [priors, notes] = await Promise.all([
    patientId ? readPriors({ search }, patientId) : Promise.resolve([]),
    patientId
      ? search<DocumentReference>('DocumentReference', { subject: `Patient/${patientId}`, status: 'current', _sort: '-date', _count: NOTES_SEARCH_COUNT })
      : Promise.resolve([]),
  ]);
  return { verdict: 'found', input: { ...lookup.found, priors, notes } };
}

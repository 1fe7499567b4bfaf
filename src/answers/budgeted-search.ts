import type { Resource } from '@medplum/fhirtypes';
import { toSearchParams, type FhirClient, type SearchQuery } from '../fhir/fhir-client.ts';

/** A search that did not answer before the webhook's deadline. */
export class DeadlineExceeded extends Error {
  constructor() {
    super('synchronous webhook budget spent');
    this.name = 'DeadlineExceeded';
  }
}

export type BudgetedSearch = <T extends Resource>(resourceType: T['resourceType'], query: SearchQuery) => Promise<T[]>;

export interface SearchCache {
  /** A search bound to one answer's deadline (epoch ms). */
  within(deadlineAt: number): BudgetedSearch;
}

export interface SearchCacheSettings {
  ttlMs: number;
  maxEntries: number;
  now: () => number;
}

/**
 * Avara asks the same questions in bursts (a modality polls its worklist, a study is opened by
 * two readers, enrichment then clinical context for one new study). Identical searches within
 * `ttlMs` share one FHIR request, in flight or answered; failures are never kept. Entries hold
 * patient data in memory only, for seconds.
 */
export function createSearchCache(fhir: FhirClient, settings: SearchCacheSettings): SearchCache {
  const entries = new Map<string, { at: number; result: Promise<Resource[]> }>();
  const lookup = (resourceType: string, query: SearchQuery): Promise<Resource[]> => {
    const key = `${resourceType}?${toSearchParams(Object.fromEntries(Object.entries(query).sort(([a], [b]) => a.localeCompare(b))))}`;
    const now = settings.now();
    const hit = entries.get(key);
    if (hit && now - hit.at < settings.ttlMs) return hit.result;
    if (hit) entries.delete(key);
    const result = fhir.search(resourceType as Resource['resourceType'], query);
    entries.set(key, { at: now, result });
    result.catch(() => { if (entries.get(key)?.result === result) entries.delete(key); });
    // Map order is insertion order: the first keys are the oldest.
    for (const oldest of entries.keys()) {
      if (entries.size <= settings.maxEntries) break;
      entries.delete(oldest);
    }
    return result;
  };
  return {
    within: (deadlineAt) => <T extends Resource>(resourceType: T['resourceType'], query: SearchQuery) =>
      beforeDeadline(lookup(resourceType, query) as Promise<T[]>, deadlineAt - settings.now()),
  };
}

/** The FHIR request keeps running (and may fill the cache for the next ask); the answer does not wait. */
function beforeDeadline<T>(work: Promise<T>, remainingMs: number): Promise<T> {
  if (remainingMs <= 0) return Promise.reject(new DeadlineExceeded());
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new DeadlineExceeded()), remainingMs); });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

import type { WithId } from '@medplum/core';
import { OperationOutcomeError, badRequest, getReferenceString, multipleMatches, parseSearchRequest } from '@medplum/core';
import type { FhirRepository } from '@medplum/fhir-router';
import type { Bundle, BundleEntry, BundleEntryRequest, Resource } from '@medplum/fhirtypes';

type Placeholders = Map<string, string>;

export type ResolveOptions = {
  /** Awaited after each existence check (the store's racy fault mode pauses here). */
  afterCheck?: () => Promise<void>;
};

/**
 * Turns the conditional entries of a transaction into plain ones, deciding each condition against
 * the current data: a matched `ifNoneExist` create becomes a read of the match, an unmatched one a
 * plain create; a conditional update becomes an update of its match, or a create.
 *
 * Why not leave them to Medplum's batch processor: it refuses any transaction with a conditional
 * entry and more than 8 entries ("requires strict isolation", a limit for its Postgres server), and
 * it answers 400 where FHIR says 412 when a conditional update matches several resources. The
 * caller holds the store's single-writer lock and a repository transaction, so the decisions made
 * here cannot go stale before the entries are applied (except in the racy fault mode, on purpose).
 */
export async function resolveConditionalEntries(repository: FhirRepository, bundle: Bundle, options: ResolveOptions = {}): Promise<Bundle> {
  const placeholders: Placeholders = new Map();
  const entries: BundleEntry[] = [];
  for (const [index, entry] of (bundle.entry ?? []).entries()) {
    const resolved = await resolveEntry(repository, entry, `Bundle.entry[${index}]`, placeholders);
    if (resolved !== entry) await options.afterCheck?.();
    entries.push(resolved);
  }
  if (placeholders.size === 0) return { ...bundle, entry: entries };
  return { ...bundle, entry: entries.map((entry) => rewritePlaceholders(entry, placeholders) as BundleEntry) };
}

async function resolveEntry(
  repository: FhirRepository,
  entry: BundleEntry,
  path: string,
  placeholders: Placeholders,
): Promise<BundleEntry> {
  const request = entry.request;
  if (request?.method === 'POST' && request.ifNoneExist) {
    return resolveConditionalCreate(repository, entry, request, path, placeholders);
  }
  if (request?.method === 'PUT' && request.url.includes('?')) {
    return resolveConditionalUpdate(repository, entry, request, path);
  }
  return entry;
}

async function resolveConditionalCreate(
  repository: FhirRepository,
  entry: BundleEntry,
  request: BundleEntryRequest,
  path: string,
  placeholders: Placeholders,
): Promise<BundleEntry> {
  // Some clients send "Patient?identifier=..." or "?identifier=..." rather than just the query.
  const query = request.ifNoneExist?.slice((request.ifNoneExist?.indexOf('?') ?? -1) + 1) ?? '';
  const match = await findAtMostOne(repository, `${request.url}?${query}`, path);
  const { ifNoneExist: _decided, ...plainRequest } = request;
  if (!match) return { ...entry, request: plainRequest };
  // FHIR: a matched conditional create answers 200 with the existing resource and creates nothing;
  // references to the entry's fullUrl must then point at the match.
  const reference = getReferenceString(match);
  if (entry.fullUrl) placeholders.set(entry.fullUrl, reference);
  return { fullUrl: entry.fullUrl, request: { method: 'GET', url: reference } };
}

async function resolveConditionalUpdate(
  repository: FhirRepository,
  entry: BundleEntry,
  request: BundleEntryRequest,
  path: string,
): Promise<BundleEntry> {
  const match = await findAtMostOne(repository, request.url, path);
  const resource = entry.resource;
  if (match && resource?.id && resource.id !== match.id) {
    throw new OperationOutcomeError(badRequest('Resource id does not match the conditional update match', `${path}.resource.id`));
  }
  if (match) {
    return { ...entry, resource: resource && { ...resource, id: match.id }, request: { ...request, url: getReferenceString(match) } };
  }
  if (resource?.id) {
    throw new OperationOutcomeError(badRequest('Conditional update without a match cannot carry an id', `${path}.resource.id`));
  }
  const resourceType = request.url.slice(0, request.url.indexOf('?'));
  return { ...entry, request: { ...request, method: 'POST', url: resourceType } };
}

async function findAtMostOne(repository: FhirRepository, url: string, path: string): Promise<WithId<Resource> | undefined> {
  const search = parseSearchRequest(url);
  search.count = 2;
  search.offset = 0;
  search.sortRules = undefined;
  const matches = await repository.searchResources(search);
  if (matches.length > 1) {
    // FHIR conditional create/update: several matches -> 412 Precondition Failed.
    const issue = { ...multipleMatches.issue[0]!, expression: [`${path}.request`] };
    throw new OperationOutcomeError({ ...multipleMatches, issue: [issue] });
  }
  return matches[0];
}

function rewritePlaceholders(value: unknown, placeholders: Placeholders): unknown {
  if (typeof value === 'string') {
    if (!value.includes('urn:uuid:')) return value;
    let result = value;
    for (const [placeholder, reference] of placeholders) result = result.replaceAll(placeholder, reference);
    return result;
  }
  if (Array.isArray(value)) return value.map((item) => rewritePlaceholders(item, placeholders));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, rewritePlaceholders(item, placeholders)]));
  }
  return value;
}

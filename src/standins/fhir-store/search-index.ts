import type { Filter, SearchRequest } from '@medplum/core';
import {
  Operator,
  convertToSearchableReferences,
  convertToSearchableTokens,
  getParsedExpressionForResourceType,
  globalSchema,
  splitSearchOnComma,
  toTypedValue,
} from '@medplum/core';
import type { FhirPathAtom } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';

/** The search parameters delivery relies on for its conditional writes and patient lookups. */
export const INDEXED_SEARCH_PARAMS = ['identifier', '_tag', 'subject', 'patient'] as const;

type IndexedParam = { code: string; kind: 'token' | 'reference'; expression: FhirPathAtom };

type TypeIndex = {
  params: IndexedParam[];
  /** Insertion order of the ids, mirroring MemoryRepository's Map so results come out in the same order. */
  order: Map<string, number>;
  keysById: Map<string, string[]>;
  postings: Map<string, Set<string>>;
};

/**
 * An inverted index over the values of a few search parameters, per resource type.
 *
 * It answers "which resources could match" (a superset): keys are computed with the same FHIRPath
 * expressions and the same token/reference conversion as Medplum's matcher, tokens are keyed by
 * their lower-cased value only (the matcher compares case-insensitively), and the caller confirms
 * each candidate with `matchesSearchRequest`, so system and every other filter stay exact.
 */
export class SearchIndex {
  private readonly types = new Map<string, TypeIndex>();
  private nextOrder = 0;

  /** Indexes the stored version of a resource, replacing what its previous version contributed. */
  put(resource: Resource & { id: string }): void {
    const index = this.typeIndex(resource.resourceType);
    this.unlink(index, resource.id);
    if (!index.order.has(resource.id)) index.order.set(resource.id, this.nextOrder++);
    const keys = extractKeys(index.params, resource);
    index.keysById.set(resource.id, keys);
    for (const key of keys) {
      let ids = index.postings.get(key);
      if (!ids) index.postings.set(key, (ids = new Set()));
      ids.add(resource.id);
    }
  }

  remove(resourceType: string, id: string): void {
    const index = this.types.get(resourceType);
    if (!index) return;
    this.unlink(index, id);
    index.order.delete(id);
  }

  clear(): void {
    this.types.clear();
  }

  /**
   * Ids that may match, in storage order; undefined when no filter of the request can be answered
   * from the index (the caller then scans).
   */
  candidates(searchRequest: SearchRequest): string[] | undefined {
    const index = this.types.get(searchRequest.resourceType);
    let result: Set<string> | undefined;
    for (const filter of searchRequest.filters ?? []) {
      const keys = filterKeys(index?.params ?? paramsFor(searchRequest.resourceType), filter);
      if (!keys) continue;
      const matches = new Set<string>();
      for (const key of keys) index?.postings.get(key)?.forEach((id) => matches.add(id));
      result = result ? intersect(result, matches) : matches;
    }
    if (!result) return undefined;
    const order = index?.order;
    return [...result].sort((a, b) => (order?.get(a) ?? 0) - (order?.get(b) ?? 0));
  }

  private unlink(index: TypeIndex, id: string): void {
    for (const key of index.keysById.get(id) ?? []) {
      const ids = index.postings.get(key);
      ids?.delete(id);
      if (ids?.size === 0) index.postings.delete(key);
    }
    index.keysById.delete(id);
  }

  private typeIndex(resourceType: string): TypeIndex {
    let index = this.types.get(resourceType);
    if (!index) {
      index = { params: paramsFor(resourceType), order: new Map(), keysById: new Map(), postings: new Map() };
      this.types.set(resourceType, index);
    }
    return index;
  }
}

const paramCache = new Map<string, IndexedParam[]>();

/**
 * Search parameter definitions list one expression for dozens of types ("AllergyIntolerance.identifier |
 * CarePlan.identifier | ..."); evaluating the whole union costs ~0.7 ms per resource, which is
 * what makes the unindexed scan slow. Keep only the branches for this type, parsed once.
 */
function paramsFor(resourceType: string): IndexedParam[] {
  let params = paramCache.get(resourceType);
  if (params) return params;
  params = [];
  const definitions = globalSchema.types[resourceType]?.searchParams ?? {};
  for (const code of INDEXED_SEARCH_PARAMS) {
    const definition = definitions[code];
    if (!definition?.expression || (definition.type !== 'token' && definition.type !== 'reference')) continue;
    const expression = getParsedExpressionForResourceType(resourceType, definition.expression);
    params.push({ code, kind: definition.type, expression });
  }
  paramCache.set(resourceType, params);
  return params;
}

function extractKeys(params: IndexedParam[], resource: Resource): string[] {
  const keys = new Set<string>();
  for (const param of params) {
    const values = param.expression
      .eval({ variables: {} }, [toTypedValue(resource)])
      .map((v) => ({ type: v.type, value: v.value?.valueOf() }));
    if (param.kind === 'token') {
      for (const token of convertToSearchableTokens(values)) {
        if (token.value) keys.add(tokenKey(param.code, token.value));
      }
    } else {
      for (const reference of convertToSearchableReferences(values)) keys.add(referenceKey(param.code, reference));
    }
  }
  return [...keys];
}

/** Keys a filter can be answered with, or undefined when this filter needs a scan. */
function filterKeys(params: IndexedParam[], filter: Filter): string[] | undefined {
  const param = params.find((p) => p.code === filter.code);
  if (!param || filter.operator !== Operator.EQUALS || filter.value === '') return undefined;
  const keys: string[] = [];
  for (const value of splitSearchOnComma(filter.value)) {
    if (param.kind === 'reference') {
      keys.push(referenceKey(param.code, value));
      continue;
    }
    // Same split as Medplum's matcher: "system|" (any value of a system) has no value to look up.
    const code = value.includes('|') ? value.split('|')[1] : value;
    if (!code) return undefined;
    keys.push(tokenKey(param.code, code));
  }
  return keys;
}

function tokenKey(code: string, value: string): string {
  return `${code}\u0000${value.toLowerCase()}`;
}

function referenceKey(code: string, reference: string): string {
  return `${code}\u0000${reference}`;
}

function intersect(a: Set<string>, b: Set<string>): Set<string> {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  return new Set([...small].filter((id) => large.has(id)));
}

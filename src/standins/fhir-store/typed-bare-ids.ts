import type { SearchRequest } from '@medplum/core';
import { globalSchema } from '@medplum/core';

/**
 * `DocumentReference?patient=123` as FHIR search.html#reference reads it: a bare id on a reference
 * parameter with a single target type means that type (`Patient/123`). Epic-style clients search
 * this way; Medplum's matcher compares the reference text literally and would find nothing.
 */
export function withTypedBareIds<T extends SearchRequest>(searchRequest: T): T {
  const definitions = globalSchema.types[searchRequest.resourceType]?.searchParams ?? {};
  let changed = false;
  const filters = searchRequest.filters?.map((filter) => {
    const target = definitions[filter.code]?.type === 'reference' ? definitions[filter.code]?.target : undefined;
    if (target?.length !== 1 || filter.value === '' || filter.value.includes('/')) return filter;
    changed = true;
    const value = filter.value.split(',').map((id) => (id.includes('/') || id === '' ? id : `${target[0]}/${id}`)).join(',');
    return { ...filter, value };
  });
  return changed ? { ...searchRequest, filters } : searchRequest;
}

import type { MemoryRepository } from '@medplum/fhir-router';
import type { Resource } from '@medplum/fhirtypes';

/** MemoryRepository's two maps: current resources and every stored version, by type then id. */
export type MemoryStorage = {
  resources: Map<string, Map<string, Resource>>;
  history: Map<string, Map<string, Resource[]>>;
};

/**
 * Reaches MemoryRepository's (TypeScript-)private maps. Rolling a failed transaction back means
 * putting back exactly the objects and history that were there, which its public API cannot do
 * (an update always appends a version). @medplum/fhir-router is pinned to 4.5.2; the shape check
 * makes an upgrade that renames the fields fail at start-up instead of silently not rolling back.
 */
export function memoryStorageOf(repository: MemoryRepository): MemoryStorage {
  const candidate = repository as unknown as Partial<MemoryStorage>;
  if (!(candidate.resources instanceof Map) || !(candidate.history instanceof Map)) {
    throw new Error('MemoryRepository internals changed: cannot enable transaction rollback');
  }
  return candidate as MemoryStorage;
}

import type { SearchRequest, WithId } from '@medplum/core';
import { deepClone, matchesSearchRequest } from '@medplum/core';
import type { CreateResourceOptions } from '@medplum/fhir-router';
import { MemoryRepository } from '@medplum/fhir-router';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from './load-fhir-definitions.ts';
import type { MemoryStorage } from './memory-storage.ts';
import { memoryStorageOf } from './memory-storage.ts';
import { SearchIndex } from './search-index.ts';
import { withTypedBareIds } from './typed-bare-ids.ts';
import { validateStoredResource } from './validate-stored-resource.ts';

/** What a write inside a transaction replaced, so a failure can put it back. */
type UndoRecord = { resourceType: string; id: string; previous: Resource | undefined; historyLength: number };

export type SearchStats = { indexed: number; scanned: number };

/**
 * Medplum's MemoryRepository with what an EHR stand-in needs and it lacks:
 * - searches on identifier/_tag/subject/patient answered from an index instead of a FHIRPath scan
 *   of every stored resource (see SearchIndex); any other search shape still scans;
 * - transactions that roll back (MemoryRepository's withTransaction just runs the callback);
 * - resources validated against the R4 definitions before they are stored, as a real server does
 *   (inline base64 attachments may exceed Medplum's 1 MiB string cap, see validateStoredResource);
 * - version ids 1, 2, 3... per resource and a server-assigned meta.lastUpdated;
 * - history reads that do not reverse the stored history in place.
 *
 * One writer at a time: the undo log belongs to the repository, not to an async context, so
 * callers serialize requests (the embedded server does). Direct use from tests is sequential.
 */
export class IndexedMemoryRepository extends MemoryRepository {
  private readonly storage: MemoryStorage;
  private readonly index = new SearchIndex();
  private undoLog: UndoRecord[] | undefined;
  readonly searchStats: SearchStats = { indexed: 0, scanned: 0 };

  constructor() {
    super();
    loadFhirDefinitions();
    this.storage = memoryStorageOf(this);
  }

  override clear(): void {
    super.clear();
    this.index.clear();
  }

  override async createResource<T extends Resource>(resource: T, options?: CreateResourceOptions): Promise<WithId<T>> {
    // FHIR create: a client-supplied id is ignored. Medplum's router passes assignedId=false for a
    // plain POST and true inside bundles, where the batch processor has chosen the id already.
    const id = (options?.assignedId === false ? undefined : resource.id) ?? this.generateId();
    const versionCount = this.storage.history.get(resource.resourceType)?.get(id)?.length ?? 0;
    const meta = { ...resource.meta, versionId: String(versionCount + 1), lastUpdated: new Date().toISOString() };
    const toStore = { ...resource, id, meta } as T;
    validateStoredResource(toStore);
    this.recordUndo(resource.resourceType, id);
    const stored = await super.createResource(toStore);
    this.index.put(stored);
    return stored;
  }

  override async deleteResource(resourceType: string, id: string): Promise<void> {
    const exists = this.storage.resources.get(resourceType)?.has(id) ?? false;
    if (exists) this.recordUndo(resourceType, id);
    await super.deleteResource(resourceType, id);
    this.index.remove(resourceType, id);
  }

  override async search<T extends Resource>(request: SearchRequest<T>): Promise<Bundle<WithId<T>>> {
    const searchRequest = withTypedBareIds(request);
    // Sorting stays with MemoryRepository so its comparator decides the order.
    const ids = searchRequest.sortRules?.length ? undefined : this.index.candidates(searchRequest);
    if (!ids) {
      this.searchStats.scanned++;
      return super.search(searchRequest);
    }
    this.searchStats.indexed++;
    const stored = this.storage.resources.get(searchRequest.resourceType);
    const matches: Resource[] = [];
    for (const id of ids) {
      const resource = stored?.get(id);
      if (resource && matchesSearchRequest(resource, searchRequest)) matches.push(resource);
    }
    const start = searchRequest.offset ?? 0;
    const page = matches.slice(start, searchRequest.count === undefined ? undefined : start + searchRequest.count);
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: page.length ? page.map((resource) => ({ resource: deepClone(resource) as WithId<T> })) : undefined,
      total: matches.length,
    };
  }

  /** MemoryRepository's own scan, for tests that prove the index answers the same. */
  searchUnindexed<T extends Resource>(searchRequest: SearchRequest<T>): Promise<Bundle<WithId<T>>> {
    return super.search(searchRequest);
  }

  override async readHistory<T extends Resource>(resourceType: string, id: string): Promise<Bundle<T>> {
    await this.readResource(resourceType, id);
    const versions = [...(this.storage.history.get(resourceType)?.get(id) ?? [])].reverse();
    return {
      resourceType: 'Bundle',
      type: 'history',
      ...(versions.length ? { entry: versions.map((version) => ({ resource: deepClone(version) as T })) } : undefined),
    };
  }

  /**
   * Runs the callback as a transaction; nested calls (conditional create inside a transaction
   * Bundle) act as savepoints. On a throw every write since this call started is undone.
   */
  override async withTransaction<TResult>(callback: (client: undefined) => Promise<TResult>): Promise<TResult> {
    const outermost = this.undoLog === undefined;
    const log = (this.undoLog ??= []);
    const mark = log.length;
    try {
      return await callback(undefined);
    } catch (err) {
      this.rollbackTo(log, mark);
      throw err;
    } finally {
      if (outermost) this.undoLog = undefined;
    }
  }

  private recordUndo(resourceType: string, id: string): void {
    if (!this.undoLog) return;
    const previous = this.storage.resources.get(resourceType)?.get(id);
    const historyLength = this.storage.history.get(resourceType)?.get(id)?.length ?? 0;
    this.undoLog.push({ resourceType, id, previous, historyLength });
  }

  private rollbackTo(log: UndoRecord[], mark: number): void {
    // Newest first, so a resource written twice ends at the state before the first write.
    while (log.length > mark) {
      const record = log.pop();
      if (record) this.restore(record);
    }
  }

  private restore({ resourceType, id, previous, historyLength }: UndoRecord): void {
    let resources = this.storage.resources.get(resourceType);
    if (!resources) this.storage.resources.set(resourceType, (resources = new Map()));
    if (previous) {
      resources.set(id, previous);
      this.index.put(previous as WithId<Resource>);
    } else {
      resources.delete(id);
      this.index.remove(resourceType, id);
    }
    const histories = this.storage.history.get(resourceType);
    const versions = histories?.get(id);
    if (versions) versions.length = historyLength;
    if (histories && historyLength === 0) histories.delete(id);
  }
}

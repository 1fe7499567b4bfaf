import type { ImagingStudy, Resource } from '@medplum/fhirtypes';
import type { FhirClient } from '../fhir/fhir-client.ts';
import { isOrderCandidate } from './mapping/is-order-candidate.ts';
import type { Store } from '../store/store.ts';

// A resource committed with a _lastUpdated just before the previous sweep's newest one may
// become visible only after that sweep read its page: look back this far every time. The
// versions recorded per order make the second sighting free.
export const WATERMARK_OVERLAP_MS = 5 * 60_000;
// Without a watermark (first start) look back a day, not to the beginning of the EHR: years of
// historic ImagingStudies must not become new reading work. Older orders: `orders sync <id>`.
export const FIRST_SWEEP_LOOKBACK_MS = 24 * 3600_000;
const TYPES = ['ImagingStudy', 'ServiceRequest', 'Patient'] as const;
const PAGE_SIZE = '100';

export interface OrderSweepStats {
  seen: number;
  queued: number;
}

export const watermarkKey = (type: string) => `orders.watermark.${type}`;

/**
 * Finds orders changed since the durable watermark: new or changed ImagingStudies that are
 * orders, and changed ServiceRequests and Patients that known orders read. Each type's
 * watermark moves only after all its pages were read, so an interrupted sweep repeats, never skips.
 */
export async function sweepOrders(store: Store, fhir: FhirClient, avaraStudyIdSystem: string, now: () => number, shouldStop: () => boolean): Promise<OrderSweepStats> {
  const stats: OrderSweepStats = { seen: 0, queued: 0 };
  for (const type of TYPES) {
    const stored = await store.settings.read(watermarkKey(type));
    const since = stored ? Date.parse(stored) - WATERMARK_OVERLAP_MS : now() - FIRST_SWEEP_LOOKBACK_MS;
    let newest = stored;
    const query = { _lastUpdated: `ge${new Date(since).toISOString()}`, _sort: '_lastUpdated', _count: PAGE_SIZE };
    for await (const page of fhir.searchPages<Resource>(type, query)) {
      for (const resource of page) {
        if (shouldStop()) return stats;
        stats.seen += 1;
        stats.queued += await noteResource(store, resource, avaraStudyIdSystem, now());
        const updated = resource.meta?.lastUpdated;
        if (updated && (!newest || Date.parse(updated) > Date.parse(newest))) newest = updated;
      }
    }
    if (newest) await store.settings.write(watermarkKey(type), newest, now());
  }
  return stats;
}

async function noteResource(store: Store, resource: Resource, avaraStudyIdSystem: string, now: number): Promise<number> {
  const version = resource.meta?.versionId ?? resource.meta?.lastUpdated ?? '';
  const ref = `${resource.resourceType}/${resource.id}`;
  if (resource.resourceType === 'ImagingStudy') {
    if (!isOrderCandidate(resource as ImagingStudy, avaraStudyIdSystem)) return 0;
    return Number(await store.orders.noteChange({ imagingStudyId: resource.id!, resource: ref, version, source: 'sweep' }, now));
  }
  let queued = 0;
  for (const imagingStudyId of await store.orders.reading(ref)) {
    queued += Number(await store.orders.noteChange({ imagingStudyId, resource: ref, version, source: 'sweep' }, now));
  }
  return queued;
}

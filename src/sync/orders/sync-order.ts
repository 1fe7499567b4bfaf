import type { ServiceRequest } from '@medplum/fhirtypes';
import type { StudyWriteCalls } from '../../avara/study-write-calls.ts';
import type { StudyCreateBody } from '../../avara/study-write-schemas.ts';
import { SyncError } from '../../errors.ts';
import type { FhirClient } from '../../fhir/fhir-client.ts';
import { decideOrderStatus, mayCreateStudy } from '../../fhir/order-mapping/decide-order-status.ts';
import { diffStudyBody } from '../../fhir/order-mapping/diff-study-body.ts';
import { mapOrderToStudy } from '../../fhir/order-mapping/map-order-to-study.ts';
import type { OrderMappingOptions } from '../../fhir/order-mapping/order-input.ts';
import { studyFieldHashes } from '../../fhir/order-mapping/study-field-hashes.ts';
import type { Db } from '../../store/open-store.ts';
import { getOrder, recordOrderStep, type Order, type OrderLease } from '../../store/orders.ts';
import type { PipelineHooks } from '../pipeline-hooks.ts';
import { orderLinks, readImagingStudy, readOrderInput } from './read-order-input.ts';
import { syncViewerStudy } from './sync-viewer-study.ts';

export interface OrderSyncSettings extends OrderMappingOptions {
  viewerStudies: boolean;
}

export interface OrderAttemptDeps {
  db: Db;
  avara: StudyWriteCalls;
  fhir: FhirClient;
  settings: OrderSyncSettings;
  lease: OrderLease;
  now: () => number;
  hooks?: PipelineHooks;
}

/**
 * One attempt at one order: read the EHR, then make Avara match it. Every Avara write is
 * recorded (fenced by the lease) right after its answer, before the next step, so a crash
 * leaves at most one unrecorded write, which the next attempt's by-uid lookup finds.
 */
export async function syncOrder(deps: OrderAttemptDeps): Promise<Record<string, unknown>> {
  const imagingStudy = await readImagingStudy(deps.fhir, deps.lease.imagingStudyId);
  const links = orderLinks(imagingStudy);
  // Known before anything can fail, so a fix to the ServiceRequest or Patient re-queues this order.
  step(deps, { ...links }, null, {});
  const input = await readOrderInput(deps.fhir, imagingStudy, links);
  const body = mapOrderToStudy(input, deps.settings);
  step(deps, { studyInstanceUid: body.studyInstanceUid }, null, {});
  let order = current(deps);
  if (!order.avaraStudyId) {
    const created = await ensureStudy(deps, body, input.serviceRequest);
    if (!created) return { avaraStudy: null, reason: `order status ${input.serviceRequest.status}` };
    order = current(deps);
  }
  const fields = await patchChangedFields(deps, order, body);
  await applyStatus(deps, current(deps), input.serviceRequest);
  if (deps.settings.viewerStudies && mayCreateStudy(input.serviceRequest)) await syncViewerStudy(deps, body);
  return { avaraStudy: current(deps).avaraStudyId, patched: fields };
}

/** By-uid first, always: Avara has no idempotency keys, so only a lookup can prove "not created yet". */
async function ensureStudy(deps: OrderAttemptDeps, body: StudyCreateBody, order: ServiceRequest): Promise<boolean> {
  const existing = await deps.avara.findStudyByUid(body.studyInstanceUid);
  if (existing) {
    step(deps, { avaraStudyId: existing.studyId, sentFieldHashes: studyFieldHashes(existing), avaraCancelled: existing.isCancelled }, 'order_study_adopted', { avaraStudy: existing.studyId });
    return true;
  }
  if (!mayCreateStudy(order)) return false;
  assertLeaseHeld(deps);
  const created = await deps.avara.createStudy(body);
  deps.hooks?.at('after_avara_create');
  step(deps, { avaraStudyId: created.studyId, sentFieldHashes: studyFieldHashes(body), avaraCancelled: false }, 'order_study_created', { avaraStudy: created.studyId });
  return true;
}

async function patchChangedFields(deps: OrderAttemptDeps, order: Order, body: StudyCreateBody): Promise<string[]> {
  const patch = diffStudyBody(order.sentFieldHashes ?? {}, body);
  if (!patch) return [];
  await deps.avara.updateStudy(order.avaraStudyId!, patch);
  // Field names only in the audit: the values are the patient's.
  const fields = Object.keys(patch).flatMap((k) => (k === 'reportMetadata' ? Object.keys(patch.reportMetadata ?? {}).map((m) => `reportMetadata.${m}`) : [k]));
  step(deps, { sentFieldHashes: studyFieldHashes(body) }, 'order_study_updated', { fields });
  return fields;
}

async function applyStatus(deps: OrderAttemptDeps, order: Order, serviceRequest: ServiceRequest): Promise<void> {
  const action = decideOrderStatus(serviceRequest, order.avaraCancelled);
  if (!action) return;
  if (action === 'cancel') await deps.avara.cancelStudy(order.avaraStudyId!);
  else await deps.avara.uncancelStudy(order.avaraStudyId!);
  step(deps, { avaraCancelled: action === 'cancel' }, action === 'cancel' ? 'order_study_cancelled' : 'order_study_uncancelled', { status: serviceRequest.status });
}

export function step(deps: OrderAttemptDeps, set: Parameters<typeof recordOrderStep>[2], event: Parameters<typeof recordOrderStep>[3] | null, detail: Record<string, unknown>): void {
  const recorded = recordOrderStep(deps.db, deps.lease, set, event, detail, deps.now());
  if (!recorded) throw SyncError.retryable('lease_lost', 'the order lease expired and another worker may own it; stopping');
}

function current(deps: OrderAttemptDeps): Order {
  const order = getOrder(deps.db, deps.lease.imagingStudyId);
  if (!order) throw SyncError.retryable('lease_lost', 'the order row disappeared');
  return order;
}

function assertLeaseHeld(deps: OrderAttemptDeps): void {
  const order = current(deps);
  if (order.leaseToken !== deps.lease.token || (order.leaseExpiresAt ?? 0) <= deps.now()) {
    throw SyncError.retryable('lease_lost', 'the order lease expired before the create; not creating');
  }
}

import type { ServiceRequest } from '@medplum/fhirtypes';
import type { StudyCreateBody } from '../avara/study-write-schemas.ts';
import { SyncError } from '../errors.ts';
import { decideOrderStatus, mayCreateStudy } from './mapping/decide-order-status.ts';
import { diffStudyBody } from './mapping/diff-study-body.ts';
import { mapOrderToStudy } from './mapping/map-order-to-study.ts';
import { studyFieldHashes } from './mapping/study-field-hashes.ts';
import type { Order } from '../store/store.ts';
import type { OrderAttemptDeps } from './order-attempt-deps.ts';
import { orderLinks, readImagingStudy, readOrderInput } from './read-order-input.ts';
import { syncViewerStudy } from './sync-viewer-study.ts';

/**
 * One attempt at one order: read the EHR, then make Avara match it. Every Avara write is
 * recorded (fenced by the lease) right after its answer, before the next step, so a crash
 * leaves at most one unrecorded write, which the next attempt's by-uid lookup finds.
 */
export async function syncOrder(deps: OrderAttemptDeps): Promise<Record<string, unknown>> {
  const imagingStudy = await readImagingStudy(deps.fhir, deps.context.lease.imagingStudyId);
  const links = orderLinks(imagingStudy);
  // Known before anything can fail, so a fix to the ServiceRequest or Patient re-queues this order.
  await deps.context.recordStep({ ...links }, null);
  const input = await readOrderInput(deps.fhir, imagingStudy, links);
  const body = mapOrderToStudy(input, deps.settings);
  await deps.context.recordStep({ studyInstanceUid: body.studyInstanceUid }, null);
  let order = await current(deps);
  if (!order.avaraStudyId) {
    const created = await ensureStudy(deps, body, input.serviceRequest);
    if (!created) return { avaraStudy: null, reason: `order status ${input.serviceRequest.status}` };
    order = await current(deps);
  }
  const fields = await patchChangedFields(deps, order, body);
  await applyStatus(deps, await current(deps), input.serviceRequest);
  if (deps.settings.viewerStudies && mayCreateStudy(input.serviceRequest)) await syncViewerStudy(deps, body);
  return { avaraStudy: (await current(deps)).avaraStudyId, patched: fields };
}

/** By-uid first, always: Avara has no idempotency keys, so only a lookup can prove "not created yet". */
async function ensureStudy(deps: OrderAttemptDeps, body: StudyCreateBody, order: ServiceRequest): Promise<boolean> {
  const existing = await deps.avara.findStudyByUid(body.studyInstanceUid);
  if (existing) {
    await deps.context.recordStep({ avaraStudyId: existing.studyId, sentFieldHashes: studyFieldHashes(existing), avaraCancelled: existing.isCancelled }, 'order_study_adopted', { avaraStudy: existing.studyId });
    return true;
  }
  if (!mayCreateStudy(order)) return false;
  await deps.context.assertLeaseHeld();
  const created = await deps.avara.createStudy(body);
  deps.hooks?.at('after_avara_create');
  await deps.context.recordStep({ avaraStudyId: created.studyId, sentFieldHashes: studyFieldHashes(body), avaraCancelled: false }, 'order_study_created', { avaraStudy: created.studyId });
  return true;
}

async function patchChangedFields(deps: OrderAttemptDeps, order: Order, body: StudyCreateBody): Promise<string[]> {
  const patch = diffStudyBody(order.sentFieldHashes ?? {}, body);
  if (!patch) return [];
  await deps.avara.updateStudy(order.avaraStudyId!, patch);
  // Field names only in the audit: the values are the patient's.
  const fields = Object.keys(patch).flatMap((k) => (k === 'reportMetadata' ? Object.keys(patch.reportMetadata ?? {}).map((m) => `reportMetadata.${m}`) : [k]));
  await deps.context.recordStep({ sentFieldHashes: studyFieldHashes(body) }, 'order_study_updated', { fields });
  return fields;
}

async function applyStatus(deps: OrderAttemptDeps, order: Order, serviceRequest: ServiceRequest): Promise<void> {
  const action = decideOrderStatus(serviceRequest, order.avaraCancelled);
  if (!action) return;
  if (action === 'cancel') await deps.avara.cancelStudy(order.avaraStudyId!);
  else await deps.avara.uncancelStudy(order.avaraStudyId!);
  await deps.context.recordStep({ avaraCancelled: action === 'cancel' }, action === 'cancel' ? 'order_study_cancelled' : 'order_study_uncancelled', { status: serviceRequest.status });
}

async function current(deps: OrderAttemptDeps): Promise<Order> {
  const order = await deps.store.orders.get(deps.context.lease.imagingStudyId);
  if (!order) throw SyncError.retryable('lease_lost', 'the order row disappeared');
  return order;
}

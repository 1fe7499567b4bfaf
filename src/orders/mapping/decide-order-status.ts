import type { ServiceRequest } from '@medplum/fhirtypes';

/** fhir-mapping.md: revoked or entered-in-error cancel the Avara study. */
const CANCELLING = new Set<ServiceRequest['status']>(['revoked', 'entered-in-error']);
// Only a live order creates reading work; a draft or on-hold order has not been placed yet.
const CREATING = new Set<ServiceRequest['status']>(['active', 'completed']);

export type OrderStatusAction = 'cancel' | 'uncancel' | null;

/** Whether the order may create a study at all (a revoked one never creates just to cancel it). */
export function mayCreateStudy(order: ServiceRequest): boolean {
  return CREATING.has(order.status);
}

/** What Avara's cancel flag must do, given the order's status and what we last set it to. */
export function decideOrderStatus(order: ServiceRequest, avaraCancelled: boolean): OrderStatusAction {
  if (CANCELLING.has(order.status)) return avaraCancelled ? null : 'cancel';
  if (CREATING.has(order.status) && avaraCancelled) return 'uncancel';
  return null;
}

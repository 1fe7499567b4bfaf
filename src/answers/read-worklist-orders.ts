import type { ImagingStudy, Observation, Patient, ServiceRequest } from '@medplum/fhirtypes';
import { latestMeasures } from './mapping/body-measures.ts';
import type { ScheduledOrder } from './mapping/map-worklist-items.ts';
import type { BudgetedSearch } from './budgeted-search.ts';
import { measuresQuery, refId } from './read-found-order.ts';

// A worklist is a day or a few: more active orders than this in one window is a query to narrow.
const MAX_ORDERS = 500;
const DAY_MS = 86_400_000;

/**
 * Active orders whose occurrence touches the window, widened by a day on each side because the
 * window is in local dates and FHIR compares instants; the mapping then keeps exactly the orders
 * whose local date falls inside. Then their patients, ImagingStudies and measures, in parallel.
 */
export async function readWorklistOrders(search: BudgetedSearch, window: { dateStart: string; dateEnd: string }): Promise<ScheduledOrder[]> {
  const orders = await search<ServiceRequest>('ServiceRequest', {
    status: 'active',
    occurrence: [`ge${shiftDate(window.dateStart, -1)}`, `le${shiftDate(window.dateEnd, 1)}`],
    _count: String(MAX_ORDERS),
  });
  const scheduled = orders.filter((o) => o.id && refId(o.subject?.reference, 'Patient'));
  if (scheduled.length === 0) return [];
  const patientIds = [...new Set(scheduled.map((o) => refId(o.subject!.reference, 'Patient')!))];
  const [patients, studies, observations] = await Promise.all([
    search<Patient>('Patient', { _id: patientIds.join(','), _count: String(patientIds.length) }),
    search<ImagingStudy>('ImagingStudy', { basedon: scheduled.map((o) => `ServiceRequest/${o.id}`).join(','), _count: '1000' }),
    search<Observation>('Observation', measuresQuery(patientIds)),
  ]);
  const patientById = new Map(patients.map((p) => [p.id, p]));
  return scheduled.map((order) => {
    const patientId = refId(order.subject!.reference, 'Patient')!;
    const own = studies.filter((s) => s.basedOn?.some((r) => r.reference === `ServiceRequest/${order.id}`));
    const measures = latestMeasures(observations.filter((o) => o.subject?.reference === `Patient/${patientId}`));
    return {
      serviceRequest: order,
      patient: patientById.get(patientId),
      // Several studies for one order: none is "the" study; the derived UID stays stable instead.
      ...(own.length === 1 ? { imagingStudy: own[0] } : {}),
      measures,
    };
  });
}

function shiftDate(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

import type { DiagnosticReport } from '@medplum/fhirtypes';
import { seedDemoOrders, type DemoOrder } from '../standins/fhir-store/seed-demo-orders.ts';
import { DEMO_MRN_SYSTEM, printKeepUrls, startDemoStack, type DemoStack } from './run-demo.ts';

export interface OrdersDemoOptions {
  orders: number;
  keep: boolean;
  out: NodeJS.WritableStream;
  timeoutMs?: number;
}

interface RoundTrip {
  order: DemoOrder;
  avaraStudyId: string | undefined;
  report: DiagnosticReport | undefined;
}

/**
 * `demo --orders`: the EHR orders exams (FHIR ServiceRequest + ImagingStudy), the studies appear
 * in Avara, the sandbox signs them, and each report comes back to the same chart, `basedOn` its order.
 */
export async function runOrdersDemo(options: OrdersDemoOptions): Promise<{ ok: boolean; stop: () => Promise<void> }> {
  options.out.write('Starting the embedded parts on 127.0.0.1 (a few seconds)...\n');
  const stack = await startDemoStack({ ORDERS_ENABLED: 'true', ORDERS_POLL_INTERVAL_SECONDS: '1' }, ['fhir'], (line) => options.out.write(`  started ${line}\n`));
  stack.sandbox.setAutoSign({ delayMs: 300 });
  const started = Date.now();
  options.out.write(`The EHR orders ${options.orders} imaging exams (FHIR ServiceRequest + ImagingStudy)...\n`);
  const orders = await seedDemoOrders(stack.fhir.baseUrl, options.orders, DEMO_MRN_SYSTEM);
  await stack.app.orders?.sweepNow();
  const trips = await waitForRoundTrips(stack, orders, options.timeoutMs ?? 120_000);
  options.out.write(renderTable(trips));
  const ok = trips.every(isClosed);
  options.out.write(`\n${trips.filter(isClosed).length} of ${trips.length} orders came back as reports on the same chart, basedOn their order (in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  if (options.keep) {
    printKeepUrls(options.out, stack, options.orders);
    return { ok, stop: stack.stop };
  }
  await stack.stop();
  return { ok, stop: async () => {} };
}

function isClosed(trip: RoundTrip): boolean {
  return trip.report?.subject?.reference === `Patient/${trip.order.patientId}`
    && trip.report.basedOn?.some((b) => b.reference === `ServiceRequest/${trip.order.serviceRequestId}`) === true;
}

async function waitForRoundTrips(stack: DemoStack, orders: DemoOrder[], timeoutMs: number): Promise<RoundTrip[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reports = await searchDiagnosticReports(stack.fhir.baseUrl);
    const trips = await Promise.all(orders.map(async (order) => ({
      order,
      avaraStudyId: (await stack.app.store.orders.get(order.imagingStudyId))?.avaraStudyId ?? undefined,
      report: reports.find((r) => r.basedOn?.some((b) => b.reference === `ServiceRequest/${order.serviceRequestId}`)),
    })));
    if (trips.every(isClosed) || Date.now() > deadline) return trips;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function searchDiagnosticReports(fhirBaseUrl: string): Promise<DiagnosticReport[]> {
  const bundle = (await (await fetch(`${fhirBaseUrl}/DiagnosticReport?_count=1000`)).json()) as { entry?: { resource: DiagnosticReport }[] };
  return (bundle.entry ?? []).map((e) => e.resource);
}

function renderTable(trips: RoundTrip[]): string {
  const header = ['order (ServiceRequest)', 'patient', 'Avara study', 'FHIR DiagnosticReport', 'basedOn order'];
  const lines = trips.map((t) => [
    `ServiceRequest/${t.order.serviceRequestId}`,
    t.order.initials,
    t.avaraStudyId ?? '(not created)',
    t.report ? `DiagnosticReport/${t.report.id}` : '(no report yet)',
    isClosed(t) ? 'yes, same chart' : 'no',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n') + '\n';
}

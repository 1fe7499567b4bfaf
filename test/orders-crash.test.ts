import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite } from '../src/store/open-store.ts';
import { getOrder } from '../src/store/orders.ts';
import { listOrderEvents } from '../src/store/order-status.ts';
import { MRN_SYSTEM } from './fixtures/order-fixtures.ts';
import { seedFhirOrders } from './support/seed-fhir-orders.ts';
import { startStandIns, type StandIns } from './support/start-stand-ins.ts';
import { waitFor } from './support/wait-for.ts';

describe('an order create interrupted by kill -9', () => {
  let standIns: StandIns;
  beforeEach(async () => {
    standIns = await startStandIns({ dirPrefix: 'afs-orders-crash-', sandbox: { seed: 11 } });
  });
  afterEach(() => standIns.stop());

  const child = (extra: Record<string, string>) => {
    const env = standIns.serveEnv({
      PATH: process.env.PATH ?? '', PORT: '0', POLL_INTERVAL_SECONDS: '0', LOG_LEVEL: 'warn',
      ORDERS_ENABLED: 'true', ORDERS_POLL_INTERVAL_SECONDS: '1', MRN_SYSTEM, LEASE_SECONDS: '5', RETRY_BASE_SECONDS: '0.1', ...extra,
    });
    return spawn(process.execPath, ['--import', 'tsx', 'test/support/orders-crash-child.ts'], { env, stdio: 'ignore' });
  };

  it('never creates a second study after a restart: the by-uid lookup adopts the first one', async () => {
    const { sandbox, fhir, sqlitePath } = standIns;
    const [order] = await seedFhirOrders(fhir.baseUrl, [31]);
    const crashing = child({ ORDERS_CRASH_AFTER_CREATE: '1' });
    const exit = await new Promise<NodeJS.Signals | null>((resolve) => crashing.once('exit', (_code, signal) => resolve(signal)));
    expect(exit).toBe('SIGKILL');
    expect(sandbox.requestCounts()['POST /v1/autoScribe/studies']).toBe(1);

    const restarted = child({});
    try {
      const store = openSqlite({ sqlitePath, migrate: false });
      try {
        // The restart waits out the dead child's lease (LEASE_SECONDS=5) before it takes the order up.
        await waitFor('the order to be synced after the restart', () => getOrder(store.db, order!.imagingStudyId)?.state === 'synced', {
          timeoutMs: 30_000,
          explain: () => `order is ${getOrder(store.db, order!.imagingStudyId)?.state ?? 'absent'}`,
        });
        const row = getOrder(store.db, order!.imagingStudyId)!;
        expect(row.state).toBe('synced');
        expect(sandbox.requestCounts()['POST /v1/autoScribe/studies']).toBe(1);
        expect(sandbox.getStudyState(row.avaraStudyId!).metadata?.fhirImagingStudy).toBe(`ImagingStudy/${order!.imagingStudyId}`);
        const events = listOrderEvents(store.db, order!.imagingStudyId).map((e) => e.event);
        expect(events).toContain('order_study_adopted');
        expect(events).not.toContain('order_study_created');
        // What was found is what the order says: nothing to PATCH.
        expect(sandbox.requestCounts()['PATCH /v1/autoScribe/studies/{studyId}'] ?? 0).toBe(0);
      } finally {
        store.close();
      }
    } finally {
      restarted.kill('SIGKILL');
    }
  });
});

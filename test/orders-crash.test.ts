import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/avara/sandbox/start-sandbox.ts';
import { startFhirServer, type EmbeddedFhirServer } from '../src/fhir/embedded/start-fhir-server.ts';
import { openStore } from '../src/store/open-store.ts';
import { getOrder } from '../src/store/orders.ts';
import { listOrderEvents } from '../src/store/order-status.ts';
import { MRN_SYSTEM } from './fixtures/order-fixtures.ts';
import { seedFhirOrders } from './support/seed-fhir-orders.ts';
import { SERVE_TEST_SETTINGS } from './support/serve-test-settings.ts';

describe('an order create interrupted by kill -9', () => {
  let dir: string;
  let sandbox: Sandbox;
  let fhir: EmbeddedFhirServer;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'afs-orders-crash-'));
    fhir = await startFhirServer({ port: 0 });
    sandbox = await startSandbox({ port: 0, seed: 11 });
  });
  afterEach(async () => {
    await sandbox.stop();
    await fhir.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({
    PATH: process.env.PATH ?? '', ...SERVE_TEST_SETTINGS, AVARA_BASE_URL: sandbox.baseUrl, AVARA_API_KEY: sandbox.apiKey, AVARA_WEBHOOK_KEY: sandbox.webhookKey,
    FHIR_BASE_URL: fhir.baseUrl, SQLITE_PATH: join(dir, 'state.db'), PORT: '0', POLL_INTERVAL_SECONDS: '0', LOG_LEVEL: 'warn',
    ORDERS_ENABLED: 'true', ORDERS_POLL_INTERVAL_SECONDS: '1', MRN_SYSTEM, LEASE_SECONDS: '5', RETRY_BASE_SECONDS: '0.1',
  });
  const child = (extra: Record<string, string>) =>
    spawn(process.execPath, ['--import', 'tsx', 'test/support/orders-crash-child.ts'], { env: { ...env(), ...extra }, stdio: 'ignore' });

  it('never creates a second study after a restart: the by-uid lookup adopts the first one', async () => {
    const [order] = await seedFhirOrders(fhir.baseUrl, [31]);
    const crashing = child({ ORDERS_CRASH_AFTER_CREATE: '1' });
    const exit = await new Promise<NodeJS.Signals | null>((resolve) => crashing.once('exit', (_code, signal) => resolve(signal)));
    expect(exit).toBe('SIGKILL');
    expect(sandbox.requestCounts()['POST /v1/autoScribe/studies']).toBe(1);

    const restarted = child({});
    try {
      const store = openStore({ sqlitePath: join(dir, 'state.db'), migrate: false });
      try {
        const deadline = Date.now() + 30_000;
        while (getOrder(store.db, order!.imagingStudyId)?.state !== 'synced' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
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

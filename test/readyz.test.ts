import express from 'express';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { healthRouter } from '../src/http/health-routes.ts';
import { openStoreFromConfig } from '../src/store/open-store-from-config.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { sqliteOf } from './support/sqlite-of.ts';

type Ready = { status: string; database: { migrated: boolean; writable: string }; worker: string; fhirLastSuccessAt: string | null; targets: Record<string, unknown> };

describe('GET /readyz', () => {
  let env: TestEnv | undefined;
  afterEach(async () => {
    await env?.stop();
    env = undefined;
  });

  it('is ready when the database is migrated and writable and the worker runs, and reports the last FHIR contact', async () => {
    env = await startTestEnv();
    const before = (await (await fetch(`${env.app.url}/readyz`)).json()) as Ready;
    const { targets, ...rest } = before;
    expect(rest).toEqual({ status: 'ready', database: { migrated: true, writable: 'writable' }, worker: 'running', fhirLastSuccessAt: null });
    // Each target's background reachability check (test/target-reachability.test.ts), whatever its result so far.
    expect(Object.keys(targets)).toEqual(['fhir']);
    const [signed] = await env.sandbox.signReports(1);
    await env.waitForDelivery(signed!.reportId, 'delivered');
    const after = (await (await fetch(`${env.app.url}/readyz`)).json()) as Ready;
    expect(Date.parse(after.fhirLastSuccessAt!)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('answers 503 while the database refuses writes, and 200 again once it accepts them', async () => {
    env = await startTestEnv();
    sqliteOf(env.app).sqlite.pragma('query_only = ON');
    const refused = await fetch(`${env.app.url}/readyz`);
    sqliteOf(env.app).sqlite.pragma('query_only = OFF');
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as Ready).database.writable).toBe('not_writable');
    expect((await fetch(`${env.app.url}/readyz`)).status).toBe(200);
  });

  it('answers 503 when the worker is not running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'afs-ready-'));
    const store = await openStoreFromConfig({ sqlitePath: join(dir, 'state.db') });
    const app = express().use(healthRouter(store, { isWorkerRunning: () => false, fhirLastSuccessAt: () => null }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`);
      expect(response.status).toBe(503);
      expect(((await response.json()) as Ready).worker).toBe('stopped');
    } finally {
      server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

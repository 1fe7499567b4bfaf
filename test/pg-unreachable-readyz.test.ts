import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthRouter } from '../src/http/health-routes.ts';
import { openPostgresStore, type PostgresStore } from '../src/store/pg/pg-store.ts';
import { probePgHealth } from '../src/store/pg/pg-health.ts';
import { startPrivatePostgres, type PrivatePostgres } from './support/private-postgres.ts';

// readyz when the PostgreSQL server is gone (stopped), stops answering (frozen) and comes back:
// 503 that names the database unreachable with a code, never a 500, never the URL; ready again
// once the server is, on new connections from the same pool.

type Ready = { status: string; database: { migrated: boolean; writable: string; error?: string } };

describe('readyz with the PostgreSQL server unreachable', () => {
  let database: PrivatePostgres;
  let store: PostgresStore;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    database = await startPrivatePostgres();
    store = await openPostgresStore({ databaseUrl: database.url });
    server = express().use(healthRouter(store, { isWorkerRunning: () => true, fhirLastSuccessAt: () => null })).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/readyz`;
  }, 120_000);
  afterAll(async () => {
    server?.close();
    await store?.close();
    await database?.destroy();
  });
  const readyz = async () => {
    const response = await fetch(url);
    const text = await response.text();
    expect(text).not.toContain('postgres://');
    return { status: response.status, body: JSON.parse(text) as Ready };
  };

  it('stopped: 503, unreachable with the refusal code; started again: ready on the same pool', async () => {
    expect(await readyz()).toMatchObject({ status: 200, body: { status: 'ready', database: { migrated: true, writable: 'writable' } } });
    await database.stop('immediate');
    const down = await readyz();
    expect(down).toMatchObject({ status: 503, body: { status: 'not_ready', database: { migrated: false, writable: 'unreachable' } } });
    expect(down.body.database.error).toMatch(/^(ECONNREFUSED|ECONNRESET|57P0\d|connection_lost)$/);
    expect(await probePgHealth(store.connection)).toMatchObject({ writable: 'unreachable' });
    await database.start();
    expect(await readyz()).toMatchObject({ status: 200, body: { database: { migrated: true, writable: 'writable' } } });
  }, 120_000);

  it('frozen (connections taken, nothing answered): 503 unreachable after the probe timeout, not a hung probe', async () => {
    database.freeze();
    try {
      expect(await readyz()).toMatchObject({ status: 503, body: { database: { writable: 'unreachable', error: 'timeout' } } });
    } finally {
      database.thaw();
    }
    await expect.poll(async () => (await readyz()).status, { timeout: 30_000, interval: 200 }).toBe(200);
  }, 120_000);
});

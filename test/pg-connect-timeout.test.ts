import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgStore, type PgStore } from '../src/store/pg/open-pg-store.ts';
import { startPrivatePostgres, type PrivatePostgres } from './support/private-postgres.ts';

// A PostgreSQL that accepts connections and never answers (frozen: a hung server, or a host
// partitioned after the TCP handshake) must make the store fail fast, so the worker and the
// poller log it and try again, instead of waiting minutes for the OS to give up.

describe('PostgreSQL that takes connections and never answers', () => {
  let server: PrivatePostgres;
  let store: PgStore;
  beforeAll(async () => {
    server = await startPrivatePostgres();
    store = await openPgStore({ databaseUrl: server.url, poolSize: 2, connectTimeoutMs: 1_500 });
  }, 120_000);
  afterAll(async () => {
    server?.thaw();
    await store?.close().catch(() => undefined);
    await server?.destroy();
  });

  it('a query needing a new connection fails with a timeout; once the server answers the same pool works again', async () => {
    // The pool keeps no connection open: the next query must connect while the server is frozen.
    const client = await store.pool.connect();
    // Released with an error argument, a client is destroyed rather than kept idle.
    client.release(true);
    expect(store.pool.totalCount).toBe(0);
    server.freeze();
    let failure: unknown;
    try {
      await store.pool.query('SELECT 1');
    } catch (error) {
      failure = error;
    } finally {
      server.thaw();
    }
    expect(String((failure as Error | undefined)?.message)).toMatch(/timeout/i);
    const { rows } = await store.pool.query<{ one: number }>('SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
  }, 60_000);
});

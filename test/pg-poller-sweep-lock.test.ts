import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAvaraClient } from '../src/avara/avara-client.ts';
import { createLogger } from '../src/create-logger.ts';
import { startPoller, type Poller, type SweepOutcome } from '../src/deliveries/poller.ts';
import { startSandbox, type Sandbox } from '../src/standins/avara-sandbox/start-sandbox.ts';
import type { PostgresStore } from '../src/store/pg/pg-store.ts';
import { twoPostgresStores } from './support/pg-two-replicas.ts';
import { sleep, waitFor } from './support/wait-for.ts';

// The poller's sweep lock across two replicas on one PostgreSQL database: renewed on a timer, so a
// sweep longer than the lock (Avara slow to answer one page) keeps it; and a sweep whose lock
// another replica took stops instead of running beside the new holder.

const SWEEP_LOCK = 'sweep:poller';
const LOCK_MS = 600;
// One page of studies answered this late lasts several unrenewed locks.
const SLOW_PAGE = { delayMs: 5 * LOCK_MS };
const STUDIES_ROUTE = 'GET /v1/autoScribe/studies';

let sandbox: Sandbox;
let a: PostgresStore;
let b: PostgresStore;

twoPostgresStores((replicas) => ({ a, b } = replicas));

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, studies: 0 });
});

afterAll(async () => {
  await sandbox?.stop();
});

function pollerOn(store: PostgresStore, logs: string[] = []): Poller {
  const sink = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } });
  return startPoller({
    store,
    avara: createAvaraClient({ baseUrl: sandbox.baseUrl, apiKey: sandbox.apiKey, pdfAllowedHosts: [] }),
    log: createLogger('info', sink),
    settings: { intervalMs: 0, maxRequestsPerSecond: 4, lockMs: LOCK_MS },
  });
}

describe('the poller sweep lock across replicas (PostgreSQL)', () => {
  it('is kept by a sweep longer than the lock: the other replica runs no sweep meanwhile', async () => {
    await sandbox.signReports(3, { sendWebhooks: false });
    sandbox.failNext(STUDIES_ROUTE, SLOW_PAGE);
    const logs: string[] = [];
    const first = pollerOn(a, logs);
    const other = pollerOn(b);
    const startedAt = Date.now();
    let done = false;
    const sweep = first.sweepNow().finally(() => (done = true));
    await waitFor('the first sweep holding its lock', () => b.locks.read(SWEEP_LOCK), 20_000);
    const othersDuring: SweepOutcome[] = [];
    while (!done) {
      const outcome = await other.sweepNow();
      if (!done) othersDuring.push(outcome);
      await sleep(50);
    }
    const outcome = await sweep;
    await Promise.all([first.stop(), other.stop()]);
    expect(outcome).toMatchObject({ ran: true, completed: true, studies: 3 });
    // The sweep outlasted several unrenewed locks, and nothing else swept meanwhile.
    expect(Date.now() - startedAt).toBeGreaterThan(SLOW_PAGE.delayMs);
    expect(othersDuring.length).toBeGreaterThan(0);
    expect(othersDuring.filter((o) => o.ran)).toEqual([]);
    expect(logs.join('')).not.toContain('lost its lock');
  }, 60_000);

  it('stops a sweep whose lock another replica took, and leaves the new holder its lock', async () => {
    await sandbox.signReports(3, { sendWebhooks: false });
    sandbox.failNext(STUDIES_ROUTE, SLOW_PAGE);
    const logs: string[] = [];
    const first = pollerOn(a, logs);
    const sweep = first.sweepNow();
    const held = await waitFor('the sweep holding its lock', async () => (await b.locks.read(SWEEP_LOCK)), 20_000);
    // What a replica does with a lock whose holder's renewals stopped (its lease lapsed).
    expect(await b.locks.takeOver(SWEEP_LOCK, held.holder, 'another-replica', Date.now() + 60_000)).toBe(true);
    const outcome = await sweep;
    await first.stop();
    expect(outcome).toMatchObject({ ran: true, completed: false });
    expect(logs.join('')).toContain('poll sweep lost its lock');
    expect((await b.locks.read(SWEEP_LOCK))?.holder).toBe('another-replica');
    await b.locks.release('another-replica');
  }, 60_000);
});

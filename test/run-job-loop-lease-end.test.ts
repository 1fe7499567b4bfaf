import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startJobLoop, type AttemptEnd, type JobLoop } from '../src/queue/run-job-loop.ts';
import { openStoreFromConfig } from '../src/store/open-store-from-config.ts';
import type { DeliveryEnding, Store } from '../src/store/store.ts';
import { waitFor } from './support/wait-for.ts';

// A replica that died holding a lease leaves its job in progress. An idle loop elsewhere must
// take it over when that lease ends, not at its own next idle look (minutes here): the takeover
// time of a dead replica's work is then LEASE_SECONDS, not LEASE_SECONDS plus an idle poll.

describe('an idle job loop and a lease that ends', () => {
  let dir: string;
  let store: Store;
  let loop: JobLoop | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'afs-loop-lease-end-'));
    store = await openStoreFromConfig({ sqlitePath: join(dir, 'state.db') });
  });
  afterEach(async () => {
    await loop?.stop();
    loop = undefined;
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("takes over a dead worker's job just after its lease ends, though its own idle look is 10 minutes away", async () => {
    const queue = store.deliveryQueue('fhir');
    await store.deliveries.enqueue({ reportId: 'rep_orphan', studyId: 'stu_1', source: 'webhook' }, Date.now());
    // The dead worker: claimed with a 1.5 s lease and never heard from again.
    const dead = await queue.claim(Date.now(), 1_500);
    expect(dead).toMatchObject({ reportId: 'rep_orphan', attempt: 1 });
    const attempted: { reportId: string; attempt: number; at: number }[] = [];
    loop = startJobLoop({
      queue,
      noun: 'test job',
      logFields: (lease) => ({ reportId: lease.reportId }),
      attempt: async ({ lease }): Promise<AttemptEnd<DeliveryEnding>> => {
        attempted.push({ reportId: lease.reportId, attempt: lease.attempt, at: Date.now() });
        return { kind: 'done', outcome: 'skipped', ending: { kind: 'skipped', code: 'study_cancelled', message: 'test' } };
      },
    }, {
      log: pino({ level: 'silent' }),
      // The loop's own lease is long too: neither its idle look nor its lease bound its sleep.
      settings: { concurrency: 1, leaseMs: 600_000, idlePollMs: 600_000, maxAttempts: 3, retryBaseMs: 10, retryMaxMs: 20, shutdownGraceMs: 100 },
      now: Date.now,
    });
    await waitFor('the orphaned job attempted again', () => attempted.length > 0, 30_000);
    // An expired lease gives its attempt back (the worker died, the job did not fail).
    expect(attempted[0]).toMatchObject({ reportId: 'rep_orphan', attempt: 1 });
    // Never before the dead worker's lease ended.
    expect(attempted[0]!.at).toBeGreaterThan(dead!.expiresAt);
    expect((await store.deliveries.get('rep_orphan'))?.state).toBe('skipped');
  }, 60_000);
});

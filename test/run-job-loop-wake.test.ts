import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startJobLoop, type AttemptEnd, type JobLoop } from '../src/queue/run-job-loop.ts';
import { openStoreFromConfig } from '../src/store/open-store-from-config.ts';
import type { DeliveryEnding, Store } from '../src/store/store.ts';

// A wake that arrives while the loop is still looking (after it asked for the next due time,
// before it went to sleep) must not be lost: work stored in that gap would otherwise wait for the
// idle poll. The loop's timers are faked and never advanced, so the only way the loop can look
// again is the wake itself.

/** Lets the event loop turn (setImmediate is not faked), up to `limit` times, until `done`. */
async function turnsUntil(done: () => boolean, limit = 2_000): Promise<boolean> {
  for (let i = 0; i < limit && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
  return done();
}

describe('the job loop woken while it looks', () => {
  let dir: string;
  let store: Store;
  let loop: JobLoop | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'afs-loop-wake-'));
    store = await openStoreFromConfig({ sqlitePath: join(dir, 'state.db') });
  });
  afterEach(async () => {
    vi.useRealTimers();
    await loop?.stop();
    loop = undefined;
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a wake between the last look and the sleep makes the sleep end at once, and the loop then sleeps again', async () => {
    const queue = store.deliveryQueue('fhir');
    let looks = 0;
    let inGap: () => void = () => undefined;
    const reachedGap = new Promise<void>((resolve) => (inGap = resolve));
    let leaveGap: () => void = () => undefined;
    const gap = new Promise<void>((resolve) => (leaveGap = resolve));
    const attempted: string[] = [];
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    loop = startJobLoop({
      queue: {
        ...queue,
        // The first answer is held back: the test stores work and wakes the loop in that gap,
        // after the queue was found empty and before the loop sleeps.
        async nextDueAt() {
          const due = await queue.nextDueAt();
          looks += 1;
          if (looks === 1) {
            inGap();
            await gap;
          }
          return due;
        },
      },
      noun: 'test job',
      logFields: (lease) => ({ reportId: lease.reportId }),
      attempt: async ({ lease }): Promise<AttemptEnd<DeliveryEnding>> => {
        attempted.push(lease.reportId);
        return { kind: 'done', outcome: 'skipped', ending: { kind: 'skipped', code: 'study_cancelled', message: 'test' } };
      },
    }, { log: pino({ level: 'silent' }), settings: { concurrency: 1, leaseMs: 60_000, maxAttempts: 3, retryBaseMs: 10, retryMaxMs: 20, shutdownGraceMs: 100 }, now: Date.now });

    await reachedGap;
    await store.deliveries.enqueue({ reportId: 'rep_gap', studyId: 'stu_1', source: 'webhook' }, Date.now());
    loop.wake();
    // The wake is deferred one turn (oncePerTurn): let it happen while the loop is still in the gap.
    await new Promise((resolve) => setImmediate(resolve));
    leaveGap();

    expect(await turnsUntil(() => attempted.length > 0)).toBe(true);
    expect(attempted).toEqual(['rep_gap']);
    // The attempt's end wakes the loop once more; after that look it sleeps (its timer never
    // fires here) instead of spinning on a remembered wake.
    await turnsUntil(() => false, 500);
    const settledLooks = looks;
    await turnsUntil(() => false, 500);
    expect(looks).toBe(settledLooks);
    expect((await store.deliveries.get('rep_gap'))?.state).toBe('skipped');
  });
});

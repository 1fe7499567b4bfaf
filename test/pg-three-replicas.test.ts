import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SignedRef } from '../src/standins/avara-sandbox/sandbox-types.ts';
import { openPostgresStore, type PostgresStore } from '../src/store/pg/pg-store.ts';
import { countFhirCopies } from './support/count-fhir-copies.ts';
import { createTestDatabase } from './support/pg-test-database.ts';
import { leasedDeliveries, takeoversOf } from './support/pg-takeover-evidence.ts';
import { startReplica, type ReplicaRun } from './support/replica-process.ts';
import { freePort } from './support/serve-child.ts';
import { runCli } from './support/run-cli.ts';
import { startStandIns } from './support/start-stand-ins.ts';
import { overlappingSweeps, sweepIntervals } from './support/sweep-intervals.ts';
import { fetchPdfLink, reportDeliveredBody, signWebhook } from './support/test-webhooks.ts';
import { sleep, STALL_MS, waitFor } from './support/wait-for.ts';

// Issue 19's replica test: three `serve` replicas as real child processes on one fresh PostgreSQL
// database, the poller on in all three, webhooks spread over them (some sent to two at once),
// some reports reachable only by the poller, one replica killed -9 right after a FHIR commit and
// started again. Nothing lost, nothing written twice, every replica's API says the same, the audit
// chain verifies, no two poller sweeps ran at once, and the killed replica's leased jobs are taken
// over when their leases end (the time printed).

const LEASE_SECONDS = 5;
const SLOTS = 3;
// The crashing replica dies at its second FHIR commit: mid-run, with webhooks still arriving.
const CRASH_AFTER = '2';
const MAX_ROUNDS = 12;

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

describe('three serve replicas on one PostgreSQL database', () => {
  it('deliver every report once through webhooks, duplicates, the poller and a kill -9, and agree on every delivery', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const standIns = await startStandIns({ dirPrefix: 'afs-pg-three-', sandbox: { seed: 19 } });
    cleanups.push(() => standIns.stop());
    const { sandbox, fhir } = standIns;
    const env = standIns.serveEnv({
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      DATABASE_URL: database.url,
      SQLITE_PATH: join(standIns.dir, 'must-not-exist.db'),
      POLL_INTERVAL_SECONDS: '1',
      LEASE_SECONDS: String(LEASE_SECONDS),
      RETRY_BASE_SECONDS: '0.05',
      RETRY_MAX_SECONDS: '0.5',
      LOG_LEVEL: 'info',
    });
    const ports = await Promise.all(Array.from({ length: SLOTS }, () => freePort()));
    const runs: ReplicaRun[] = [];
    const start = async (slot: number, entry: 'serve' | 'crash-child', extra: Record<string, string> = {}) => {
      const run = await startReplica(`replica-${slot}${runs.some((r) => r.url.endsWith(`:${ports[slot]}`)) ? '-restarted' : ''}`, ports[slot]!, { ...env, ...extra }, entry);
      runs.push(run);
      cleanups.push(() => run.stop());
      return run;
    };
    // Slot 0 runs the crash hooks; all three migrate at once, under the migration lock.
    const slots = await Promise.all([
      start(0, 'crash-child', { CRASH_AT: 'after_fhir_commit', CRASH_AFTER, PRELOAD_FHIR_DEFINITIONS: 'true' }),
      start(1, 'serve'),
      start(2, 'serve'),
    ]);
    const crashing = slots[0]!;
    let reader: PostgresStore | undefined;
    const store = async () => {
      if (!reader) {
        const opened = (reader = await openPostgresStore({ databaseUrl: database.url, migrate: false }));
        cleanups.push(() => opened.close());
      }
      return reader;
    };

    const webhookIds = new Set<string>();
    let bothAnsweredTwice = 0;
    let turn = 0;
    // Round-robin over the slots; `twice` also sends it to the next slot at the same moment.
    const sendWebhook = async (ref: SignedRef, twice: boolean) => {
      const first = turn++ % SLOTS;
      const body = reportDeliveredBody(ref, await fetchPdfLink(sandbox, ref.reportId));
      const headers = { 'content-type': 'application/json', ...signWebhook(sandbox.webhookKey, body, { id: ref.webhookId }) };
      const post = (slot: number) => fetch(`${slots[slot]!.url}/webhooks/avara`, { method: 'POST', body, headers }).then((r) => r.status < 300, () => false);
      const answers = await Promise.all((twice ? [first, (first + 1) % SLOTS] : [first]).map(post));
      if (twice && answers.every(Boolean)) bothAnsweredTwice += 1;
      // A replica that died under the request: Avara sends it again, and another replica takes it.
      for (let slot = first + 1; !answers.some(Boolean); slot += 1) {
        if (slot > first + 2 * SLOTS) throw new Error(`webhook ${ref.webhookId} refused by every replica`);
        answers.push(await post(slot % SLOTS));
      }
      webhookIds.add(ref.webhookId);
    };
    const viaWebhook: SignedRef[] = [];
    const pollOnly: SignedRef[] = [];
    const signRound = async (webhooks: number) => {
      const batch = await sandbox.signReports(webhooks, { sendWebhooks: false });
      viaWebhook.push(...batch);
      await Promise.all(batch.map((ref, i) => sendWebhook(ref, i === 0)));
      // Signed after every replica's first start and never announced: only a sweep finds it.
      pollOnly.push(...(await sandbox.signReports(1, { sendWebhooks: false })));
    };

    // Until the crashing replica reaches its crash point, work keeps arriving on all three.
    for (let round = 0; crashing.exitedAt() === undefined; round += 1) {
      if (round >= MAX_ROUNDS) throw new Error(`replica-0 never reached its crash point:\n${crashing.lines.slice(-30).join('\n')}`);
      await signRound(3);
      await Promise.race([crashing.exited, sleep(1000)]);
    }
    const killedAt = crashing.exitedAt()!;
    expect(crashing.child.signalCode).toBe('SIGKILL');
    // The killed replica's leases stand until they end: no one renews or finishes them.
    const leasedAtKill = await leasedDeliveries(database.url);

    slots[0] = await start(0, 'serve');
    await signRound(3);
    await signRound(3);

    const everyReport = [...viaWebhook, ...pollOnly];
    let deliveredSoFar = 0;
    await waitFor('every signed report delivered', async () => {
      const states = await Promise.all(everyReport.map(async (ref) => (await (await store()).deliveries.get(ref.reportId))?.state));
      deliveredSoFar = states.filter((state) => state === 'delivered').length;
      return deliveredSoFar === everyReport.length;
    }, { stallMs: STALL_MS, progress: () => deliveredSoFar, explain: () => `${deliveredSoFar} of ${everyReport.length} delivered` });
    // Time for any replica to do what it wrongly would: a second claim, a second write.
    await sleep(1500);

    // 0 lost, 0 written twice.
    const reader_ = await store();
    for (const ref of everyReport) {
      const events = (await reader_.audit.ofReport(ref.reportId)).map((e) => e.event);
      expect(events.filter((event) => event === 'delivered'), ref.reportId).toHaveLength(1);
    }
    const copies = await countFhirCopies(fhir.baseUrl, sandbox, everyReport);
    expect(copies.missing).toBe(0);
    expect(copies.duplicates, JSON.stringify(copies.counts.filter((c) => c.found !== 1))).toBe(0);
    expect(copies.totals.DiagnosticReport).toBe(everyReport.length);
    expect(copies.totals.DocumentReference).toBe(everyReport.length);
    // Each webhook stored once, whichever replicas it reached; the poll-only reports have none and were found by a sweep.
    expect(await reader_.intake.count()).toBe(webhookIds.size);
    for (const ref of pollOnly) {
      const enqueued = (await reader_.audit.ofReport(ref.reportId)).filter((e) => e.event === 'enqueued');
      expect(enqueued.map((e) => e.detail?.source), ref.reportId).toEqual(['poll']);
    }
    expect(bothAnsweredTwice).toBeGreaterThan(0);

    // Every replica's API says the same about every delivery.
    const expected = Object.fromEntries(everyReport.map((ref) => [ref.reportId, 'delivered']));
    for (const run of slots) expect(await apiStates(run.url), run.name).toEqual(expected);

    // The killed replica's jobs (at least the one it died on): taken over when their leases ended,
    // not before, and soon after. A lease is renewed every LEASE_SECONDS/3, so at the kill it has
    // between about 2/3 and all of LEASE_SECONDS left; an idle replica sleeps until just after
    // the earliest lease end (nextDueAt), so the takeover follows the lease's end closely (a few
    // ms on a quiet machine; the bound allows for a loaded one).
    const takeovers = await takeoversOf(database.url, leasedAtKill, killedAt);
    expect(takeovers.length).toBeGreaterThan(0);
    for (const t of takeovers) {
      const takeoverMs = t.claimedAgainAt - killedAt;
      console.log(`takeover ${(takeoverMs / 1000).toFixed(2)} s after the kill (LEASE_SECONDS=${LEASE_SECONDS}): lease ended after ${t.leaseExpiresAt - killedAt} ms, requeued after ${t.expiredAt - killedAt} ms, claimed again after ${takeoverMs} ms`);
      expect(t.expiredAt).toBeGreaterThan(t.leaseExpiresAt);
      expect(t.claimedAgainAt).toBeGreaterThanOrEqual(t.expiredAt);
      expect(takeoverMs).toBeLessThan((LEASE_SECONDS + 10) * 1000);
      expect(t.claimedAgainAt - t.leaseExpiresAt).toBeLessThan(5_000);
    }

    for (const run of slots) await run.stop();
    for (const run of slots) expect(run.child.exitCode, run.name).toBe(0);
    const verify = await runCli(['audit', 'verify'], { DATABASE_URL: database.url });
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);

    // No two sweeps at once, across every run of every replica.
    const sweeps = runs.flatMap(sweepIntervals);
    const sweepers = new Set(sweeps.map((s) => s.replica));
    console.log(`poller sweeps: ${sweeps.length} by ${[...sweepers].sort().join(', ')}; ended ${JSON.stringify(countBy(sweeps.map((s) => s.end)))}`);
    expect(overlappingSweeps(sweeps)).toEqual([]);
    expect(sweepers.size).toBeGreaterThanOrEqual(2);
  }, 240_000);
});

/** reportId -> state, from every page of one replica's GET /api/deliveries. */
async function apiStates(url: string): Promise<Record<string, string>> {
  const states: Record<string, string> = {};
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ limit: '500', ...(cursor ? { cursor } : {}) });
    const response = await fetch(`${url}/api/deliveries?${query}`);
    if (!response.ok) throw new Error(`${url}/api/deliveries answered ${response.status}`);
    const page = (await response.json()) as { items: { reportId: string; state: string }[]; nextCursor: string | null };
    for (const item of page.items) states[item.reportId] = item.state;
    cursor = page.nextCursor;
  } while (cursor);
  return states;
}

function countBy(values: string[]): Record<string, number> {
  return values.reduce<Record<string, number>>((counts, value) => ({ ...counts, [value]: (counts[value] ?? 0) + 1 }), {});
}

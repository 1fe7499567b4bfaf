import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SignedRef } from '../src/standins/avara-sandbox/sandbox-types.ts';
import { createSeededRandom } from '../src/standins/avara-sandbox/seeded-random.ts';
import { verifyAuditChain } from '../src/store/audit.ts';
import { startChildAppHarness, type ChildAppHarness } from './support/child-app-harness.ts';
import { countFhirCopies, reportIdsInFhir } from './support/count-fhir-copies.ts';
import { standInActivity } from './support/start-stand-ins.ts';
import { failOnStall, HANG_GUARD_MS, sleep } from './support/wait-for.ts';

const CYCLES = 20;
const REPORTS = 200;
const BATCH = REPORTS / CYCLES;
// The kill lands 100-800 ms after the child is listening. Odd cycles start a child that indexed
// the FHIR definitions before listening (as a long-running process has), so their kills land in
// intake, deliveries and FHIR commits; even cycles start cold, so theirs land while the first
// validation blocks the child and webhooks wait. CRASH_CYCLES_SEED replays a failing run.
const KILL_MIN_MS = 100;
const KILL_SPREAD_MS = 700;
const SEED = Number(process.env.CRASH_CYCLES_SEED ?? Math.floor(Math.random() * 2 ** 31));

const REDELIVERY_ROUNDS = 5;
const REDELIVERIES_AT_ONCE = 16;

// Bounded by progress, not by a total: about 45-75 s alone on two cores, but several times that on
// a loaded machine is still a pass. The run fails when nothing moved for STALL_MS (no cycle ended,
// no report signed, no request reached Avara or the FHIR store, no webhook was sent); the waits
// inside have their own bounds (a child that logs no listening line in 30 s, a queue that stands
// still for 30 s). The vitest timeout is only the outer guard against a hang of the runner itself.
const STALL_MS = 60_000;

/**
 * Avara's real sender keeps retrying an unanswered webhook for days; the sandbox's gives up after
 * three quick attempts, so the test plays the later retries: rounds of redeliveries (same
 * webhook-id) until each is answered 2xx. Returns the ids still unanswered after the last round.
 */
async function redeliverUntilAcknowledged(harness: ChildAppHarness, webhookIds: string[]): Promise<string[]> {
  let pending = webhookIds;
  for (let round = 0; round < REDELIVERY_ROUNDS && pending.length > 0; round++) {
    const queue = [...pending];
    const failed: string[] = [];
    await Promise.all(Array.from({ length: REDELIVERIES_AT_ONCE }, async () => {
      for (let id = queue.shift(); id; id = queue.shift()) {
        if (!(await harness.sandbox.resendWebhook(id)).delivered) failed.push(id);
      }
    }));
    pending = failed;
  }
  return pending;
}

describe('[long] random kill -9 cycles while reports flow', () => {
  let harness: ChildAppHarness;
  beforeEach(async () => {
    harness = await startChildAppHarness({ env: { WORKER_CONCURRENCY: '8' } });
  });
  afterEach(async () => {
    await harness.stop();
  });

  it('delivers each of 200 reports exactly once through 20 kill -9 cycles', { timeout: HANG_GUARD_MS }, async () => {
    const signed: SignedRef[] = [];
    const cyclesDone: number[] = [];
    const progress = () => ({ cycles: cyclesDone.length, signed: signed.length, ...standInActivity(harness.sandbox, harness.fhir) });
    await failOnStall('the kill -9 cycles', runCycles(signed, cyclesDone), { stallMs: STALL_MS, progress });
  });

  /** The test's body; `signed` and `cyclesDone` grow as it goes, for the stall watch. */
  async function runCycles(signed: SignedRef[], cyclesDone: number[]): Promise<void> {
    const started = Date.now();
    const random = createSeededRandom(SEED);
    const signing: Promise<void>[] = [];
    const exits: (NodeJS.Signals | number | null)[] = [];
    // Reports the EHR already held while their delivery row was not yet `delivered`: the kill
    // fell between the FHIR commit and the mark, the outcome the restart must resolve safely.
    const committedUnmarked = new Set<string>();
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const run = await harness.start({ env: { PRELOAD_FHIR_DEFINITIONS: String(cycle % 2 === 1) } });
      const killAfterMs = KILL_MIN_MS + random.next() * KILL_SPREAD_MS;
      // Signed at a random moment before the kill; webhooks still in flight when it lands fail,
      // and the sandbox's sender gives up after its three quick attempts.
      signing.push(sleep(random.next() * killAfterMs).then(async () => void signed.push(...(await harness.sandbox.signReports(BATCH)))));
      await sleep(killAfterMs);
      const exit = await run.kill9();
      exits.push(exit.signal ?? exit.code);
      for (const reportId of await reportIdsInFhir(harness.fhir.baseUrl)) {
        if (harness.delivery(reportId)?.state !== 'delivered') committedUnmarked.add(reportId);
      }
      cyclesDone.push(cycle);
    }
    await Promise.all(signing);
    expect(exits).toEqual(Array(CYCLES).fill('SIGKILL'));
    const deliveredDuringCycles = harness.deliveryCounts().delivered;

    await harness.start();
    const acknowledged = new Set(harness.sandbox.webhookOutcomes().filter((o) => o.delivered).map((o) => o.webhookId));
    const unanswered = signed.filter((s) => !acknowledged.has(s.webhookId)).map((s) => s.webhookId);
    expect(await redeliverUntilAcknowledged(harness, unanswered)).toEqual([]);
    await harness.waitForDelivered(signed.map((s) => s.reportId));

    const copies = await countFhirCopies(harness.fhir.baseUrl, harness.sandbox, signed);
    const states = harness.deliveryCounts();
    const figures = {
      seed: SEED,
      cycles: CYCLES,
      reports: signed.length,
      deliveredDuringCycles,
      webhooksRedelivered: unanswered.length,
      leasesExpired: harness.auditEventCount('lease_expired'),
      // Each claim counts an attempt, also one a kill cut short (MAX_ATTEMPTS applies to failures).
      maxAttempts: Math.max(...signed.map((s) => harness.delivery(s.reportId)?.attempts ?? 0)),
      committedUnmarked: committedUnmarked.size,
      lost: signed.length - states.delivered,
      duplicates: copies.duplicates,
      missingInFhir: copies.missing,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
    console.log(`crash cycles: ${JSON.stringify(figures)}`);

    expect(signed).toHaveLength(REPORTS);
    expect(states).toEqual({ queued: 0, in_progress: 0, delivered: REPORTS, skipped: 0, failed: 0, dead: 0 });
    expect(harness.inboxCount()).toBe(REPORTS);
    expect({ lost: figures.lost, duplicates: copies.duplicates, missing: copies.missing }).toEqual({ lost: 0, duplicates: 0, missing: 0 });
    expect(copies.totals).toEqual({ DiagnosticReport: REPORTS, DocumentReference: REPORTS, ImagingStudy: REPORTS, Patient: REPORTS });
    expect(verifyAuditChain(harness.readStore().db).ok).toBe(true);
  }
});

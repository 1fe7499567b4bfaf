import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStoreFromConfig } from '../src/store/open-store-from-config.ts';
import type { InboxEvent, Store } from '../src/store/store.ts';
import { openPgTestStore } from './support/pg-test-store.ts';

// The Store as every consumer sees it; each implementation is opened here and must behave alike
// (PostgreSQL joins this list with its own database per run).
const IMPLEMENTATIONS: { name: string; open(dir: string): Promise<Store> }[] = [
  { name: 'sqlite', open: (dir) => openStoreFromConfig({ sqlitePath: join(dir, 'state.db') }) },
  { name: 'postgres', open: () => openPgTestStore() },
];
const LEASE_MS = 60_000;

function webhook(n: number, reportId = `rep_${n}`): InboxEvent {
  return { webhookId: `msg_${n}`, eventId: `whe_${n}`, type: 'report.delivered', bodySha256: 'ab'.repeat(32), report: { reportId, studyId: 'stu_1', isCritical: false, presignedUrl: `http://127.0.0.1/${reportId}.pdf?sig=x` } };
}

describe.each(IMPLEMENTATIONS)('the $name store', ({ open }) => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'afs-store-'));
    store = await open(dir);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a webhook with one queued delivery per target, and a redelivery once', async () => {
    const outcomes = await Promise.all([store.intake.recordWebhook(webhook(1), 1000, ['fhir', 'hl7v2']), store.intake.recordWebhook(webhook(1), 1001, ['fhir', 'hl7v2'])]);
    expect(outcomes.sort()).toEqual(['duplicate', 'stored']);
    expect(await store.intake.count()).toBe(1);
    expect((await store.deliveries.ofReport('rep_1')).map((d) => [d.target, d.state]).sort()).toEqual([['fhir', 'queued'], ['hl7v2', 'queued']]);
    expect(await store.deliveries.countByTarget(['fhir', 'hl7v2', 'fhir-documents'])).toMatchObject({ 'fhir-documents': { queued: 0 }, fhir: { queued: 1 }, hl7v2: { queued: 1 } });
  });

  it('ends an attempt in one call: delivered, its locks given back and its webhook PDF link forgotten', async () => {
    await store.intake.recordWebhook(webhook(2), 1000, ['fhir']);
    const queue = store.deliveryQueue('fhir');
    const lease = (await queue.claim(2000, LEASE_MS))!;
    expect(lease).toMatchObject({ reportId: 'rep_2', studyId: 'stu_1', target: 'fhir', attempt: 1 });
    expect(await queue.acquireLocks(lease, ['study:stu_1'], 2000)).toBe(true);
    expect(await store.intake.findPdfLink('rep_2')).toMatchObject({ receivedAt: 1000 });
    expect(await queue.finish(lease, { kind: 'delivered', refs: { DiagnosticReport: 'DiagnosticReport/1/_history/1' }, contentHash: 'h' }, 3000)).toBe(true);
    expect(await store.deliveries.get('rep_2')).toMatchObject({ state: 'delivered', fhirRefs: { DiagnosticReport: 'DiagnosticReport/1/_history/1' }, leaseToken: null });
    expect(await store.intake.findPdfLink('rep_2')).toBeUndefined();
    expect(await store.locks.tryAcquire(['fhir:study:stu_1', 'study:stu_1'], 'someone-else', 9000, 3000)).toBe(true);
    expect((await store.audit.ofReport('rep_2')).map((e) => e.event)).toEqual(['received', 'enqueued', 'attempt_started', 'delivered']);
  });

  it('fences every write of an attempt on its lease: a late attempt changes nothing once another owns the job', async () => {
    await store.deliveries.enqueue({ reportId: 'rep_3', studyId: 'stu_1', source: 'cli' }, 1000);
    const queue = store.deliveryQueue('fhir');
    const late = (await queue.claim(1000, 10))!;
    expect(await queue.requeueExpired(2000, 3)).toBe(1);
    const owner = (await queue.claim(2000, LEASE_MS))!;
    expect(await queue.holds(late, 2000)).toBe(false);
    expect(await queue.recordStep(late, { patientLabel: 'A.B.' }, null, {}, 2001)).toBe(false);
    expect(await queue.finish(late, { kind: 'skipped', code: 'study_cancelled', message: 'late' }, 2002)).toBe(false);
    expect(await queue.fail(late, { code: 'fhir_unavailable', message: 'late' }, 5000, 2003)).toBe(false);
    expect(await store.deliveries.get('rep_3')).toMatchObject({ state: 'in_progress', leaseToken: owner.token, patientLabel: null });
  });

  it('retries a dead delivery and replays a delivered one, audited with who asked', async () => {
    await store.deliveries.enqueue({ reportId: 'rep_4', studyId: 'stu_1', source: 'cli' }, 1000);
    const queue = store.deliveryQueue('fhir');
    await queue.dead((await queue.claim(1000, LEASE_MS))!, { code: 'patient_mismatch', message: 'birthDate differs' }, 1100);
    expect(await store.deliveries.replay('rep_4', 1200, { by: 'test', operator: 'test' })).toBe('not_retryable');
    expect(await store.deliveries.requeueDead(1300, { by: 'test', operator: 'test' })).toBe(1);
    await queue.finish((await queue.claim(1400, LEASE_MS))!, { kind: 'hl7_delivered', controlId: 'c1', ackControlId: 'a1', contentHash: 'h' }, 1500);
    expect(await store.deliveries.replay('rep_4', 1600, { by: 'test', operator: 'test' })).toBe('requeued');
    expect(await store.deliveries.requeue('rep_missing', 1600, { by: 'test', operator: 'test' })).toBe('not_found');
    const trail = await store.audit.ofReport('rep_4');
    expect(trail.filter((e) => e.event === 'retried' || e.event === 'replayed').map((e) => [e.event, e.detail?.operator])).toEqual([['retried', 'test'], ['replayed', 'test']]);
    expect(await store.audit.verify()).toMatchObject({ ok: true, rows: (await collect(store.audit.iterate(0))).length });
  });

  it('retries a skipped delivery (its study reinstated) and nothing delivered, audited with the state it left', async () => {
    await store.deliveries.enqueue({ reportId: 'rep_5', studyId: 'stu_1', source: 'cli' }, 1000);
    const queue = store.deliveryQueue('fhir');
    await queue.finish((await queue.claim(1000, LEASE_MS))!, { kind: 'skipped', code: 'study_cancelled', message: 'the study is cancelled in Avara' }, 1100);
    expect(await store.deliveries.requeue('rep_5', 1200, { by: 'test', operator: 'test' })).toBe('requeued');
    expect(await store.deliveries.get('rep_5')).toMatchObject({ state: 'queued', attempts: 0, nextAttemptAt: 1200 });
    const retried = (await store.audit.ofReport('rep_5')).find((e) => e.event === 'retried');
    expect(retried?.detail).toMatchObject({ target: 'fhir', previousState: 'skipped', previousCode: 'study_cancelled', operator: 'test' });
    await queue.finish((await queue.claim(1300, LEASE_MS))!, { kind: 'delivered', refs: {}, contentHash: 'h' }, 1400);
    expect(await store.deliveries.requeue('rep_5', 1500, { by: 'test', operator: 'test' })).toBe('not_retryable');
  });

  it('reconciles a polled study once per signature, and flags a cancellation after delivery once', async () => {
    const sighting = { studyId: 'stu_9', signature: 's1', demographicHashes: { mrn: 'm1' }, isCancelled: false, completedReports: [{ reportId: 'rep_9', isCritical: true }] };
    expect(await store.polledStudies.reconcile(sighting, 'poll', 1000, ['fhir'])).toEqual({ changed: true, enqueued: ['rep_9'] });
    expect(await store.polledStudies.reconcile(sighting, 'poll', 1001, ['fhir'])).toEqual({ changed: false, enqueued: [] });
    const queue = store.deliveryQueue('fhir');
    await queue.finish((await queue.claim(1100, LEASE_MS))!, { kind: 'delivered', refs: {}, contentHash: 'h' }, 1200);
    const changed = { ...sighting, signature: 's2', isCancelled: true, demographicHashes: { mrn: 'm2' } };
    expect(await store.polledStudies.reconcile(changed, 'poll', 1300, ['fhir'])).toEqual({ changed: true, enqueued: [] });
    expect(await store.polledStudies.countCancelledAfterDelivery()).toBe(1);
    const flags = (await store.audit.ofReport('rep_9')).filter((e) => e.event === 'study_cancelled_after_delivery' || e.event === 'demographics_changed');
    expect(flags.map((e) => [e.event, e.detail])).toEqual([['study_cancelled_after_delivery', { studyId: 'stu_9' }], ['demographics_changed', { studyId: 'stu_9', fields: ['mrn'] }]]);
  });

  it('keeps settings and named locks across holders', async () => {
    await store.settings.write('poll.cursor', 'c1', 1000);
    expect(await store.settings.read('poll.cursor')).toBe('c1');
    await store.settings.write('poll.cursor', undefined, 1001);
    expect(await store.settings.read('poll.cursor')).toBeUndefined();
    expect(await store.locks.tryAcquire(['sweep:poller'], 'a', 5000, 1000)).toBe(true);
    expect(await store.locks.tryAcquire(['sweep:poller'], 'b', 5000, 1000)).toBe(false);
    await store.locks.release('a');
    expect(await store.locks.tryAcquire(['sweep:poller'], 'b', 5000, 1000)).toBe(true);
  });

  it('reports itself migrated and writable, and closed after close()', async () => {
    expect(await store.health()).toEqual({ migrated: true, writable: 'writable' });
    await store.close();
    expect(await store.health()).toMatchObject({ migrated: false, writable: 'closed' });
  });
});

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const row of rows) all.push(row);
  return all;
}

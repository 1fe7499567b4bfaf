import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStore, withoutPassword, type PostgresStore } from '../src/store/pg/pg-store.ts';
import { decodeCursor, FIRST_STARTED_KEY, IdentifierSystemsChangedError, type OperatorAction } from '../src/store/store.ts';
import { createTestDatabase, emptyTestDatabase, type TestDatabase } from './support/pg-test-database.ts';

// The PostgreSQL Store beyond the shared interface suite (store-interface.test.ts): what two
// replicas on one database must agree on, and the reads the audit page, status and metrics use.

const ACTION: OperatorAction = { by: 'cli', operator: 'cli:tester', reason: 'EHR back' };
const LEASE_MS = 60_000;

describe('the PostgreSQL store, two replicas on one database', () => {
  let database: TestDatabase;
  let a: PostgresStore;
  let b: PostgresStore;
  beforeAll(async () => {
    database = await createTestDatabase();
    await (await openPostgresStore({ databaseUrl: database.url })).close();
  });
  afterAll(() => database.drop());
  beforeEach(async () => {
    await emptyTestDatabase(database.url);
    [a, b] = await Promise.all([openPostgresStore({ databaseUrl: database.url }), openPostgresStore({ databaseUrl: database.url })]);
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('records first_started_at once: replicas opening together agree, later opens keep it', async () => {
    const recorded = await a.settings.read(FIRST_STARTED_KEY);
    expect(Number(recorded)).toBeGreaterThan(0);
    expect(await b.settings.read(FIRST_STARTED_KEY)).toBe(recorded);
    const later = await openPostgresStore({ databaseUrl: database.url });
    try {
      expect(await later.settings.read(FIRST_STARTED_KEY)).toBe(recorded);
      expect(await later.settings.firstStart(Date.now() + 3_600_000)).toBe(Number(recorded));
    } finally {
      await later.close();
    }
  });

  it('an open without migrating records nothing; on an emptied database firstStart falls back to the earliest row', async () => {
    await emptyTestDatabase(database.url);
    const reader = await openPostgresStore({ databaseUrl: database.url, migrate: false });
    try {
      expect(await reader.settings.read(FIRST_STARTED_KEY)).toBeUndefined();
      expect(await reader.settings.firstStart(9999)).toBe(9999);
      await a.deliveries.enqueue({ reportId: 'rep_old', studyId: 'stu_1', source: 'cli' }, 1234);
      expect(await reader.settings.firstStart(9999)).toBe(1234);
    } finally {
      await reader.close();
    }
  });

  it('pages deliveries newest first with a cursor, and groups studies for the audit page with search', async () => {
    for (let i = 1; i <= 5; i += 1) await a.deliveries.enqueue({ reportId: `rep_${i}`, studyId: i <= 3 ? 'stu_a' : 'stu_b', source: 'cli', targets: ['fhir', 'hl7v2'] }, 1000 + i);
    const first = await a.deliveries.list({ limit: 4, target: 'fhir' });
    expect(first.items.map((d) => d.reportId)).toEqual(['rep_5', 'rep_4', 'rep_3', 'rep_2']);
    const second = await b.deliveries.list({ limit: 4, target: 'fhir', cursor: decodeCursor(first.nextCursor!)! });
    expect(second).toMatchObject({ items: [{ reportId: 'rep_1' }], nextCursor: null });
    const groups = await a.deliveries.listGroups({ limit: 1 });
    expect(groups.groups.map((g) => [g.studyId, g.deliveries.length])).toEqual([['stu_b', 4]]);
    const next = await a.deliveries.listGroups({ limit: 1, cursor: decodeCursor(groups.nextCursor!)! });
    expect(next.groups.map((g) => [g.studyId, g.deliveries.length])).toEqual([['stu_a', 6]]);
    expect(next.nextCursor).toBeNull();
    const searched = await b.deliveries.listGroups({ limit: 10, target: 'hl7v2', search: { by: 'report', value: 'rep_2' } });
    expect(searched.groups.map((g) => [g.studyId, g.deliveries.map((d) => d.reportId).sort()])).toEqual([['stu_a', ['rep_1', 'rep_2', 'rep_3']]]);
  });

  it('summarizes counts, oldest waiting, last delivered and the hourly outcomes from the audit trail', async () => {
    const hour = 3_600_000;
    const now = 100 * hour + 10;
    await a.deliveries.enqueue({ reportId: 'rep_1', studyId: 'stu_1', source: 'cli' }, now - 2 * hour);
    await a.deliveries.enqueue({ reportId: 'rep_2', studyId: 'stu_1', source: 'cli' }, now - hour);
    const queue = a.deliveryQueue('fhir');
    await queue.finish((await queue.claim(now - hour, LEASE_MS))!, { kind: 'delivered', refs: {}, contentHash: 'h' }, now - hour + 5);
    await queue.fail((await queue.claim(now, LEASE_MS))!, { code: 'fhir_unavailable', message: '503' }, now + 1000, now);
    const summary = await b.deliveries.summarize(now);
    expect(summary.counts).toMatchObject({ delivered: 1, failed: 1, queued: 0 });
    expect(summary.oldestWaitingCreatedAt).toBe(now - hour);
    expect(summary.lastDeliveredAt).toBe(now - hour + 5);
    expect(summary.hourly).toHaveLength(24);
    expect(summary.hourly.slice(-2)).toEqual([{ hourStart: 99 * hour, delivered: 1, failed: 0 }, { hourStart: 100 * hour, delivered: 0, failed: 1 }]);
  });

  it('two replicas requeueing every dead delivery at once requeue and audit each once, with who asked', async () => {
    for (const reportId of ['rep_1', 'rep_2', 'rep_3']) {
      await a.deliveries.enqueue({ reportId, studyId: 'stu_1', source: 'cli' }, 1000);
      const queue = a.deliveryQueue('fhir');
      await queue.dead((await queue.claim(1000, LEASE_MS))!, { code: 'patient_mismatch', message: 'x' }, 1100);
    }
    const [fromA, fromB] = await Promise.all([a.deliveries.requeueDead(2000, ACTION), b.deliveries.requeueDead(2000, ACTION)]);
    expect(fromA + fromB).toBe(3);
    for (const reportId of ['rep_1', 'rep_2', 'rep_3']) {
      const retried = (await a.audit.ofReport(reportId)).filter((e) => e.event === 'retried');
      expect(retried.map((e) => e.detail)).toEqual([{ target: 'fhir', by: 'cli', operator: 'cli:tester', reason: 'EHR back', previousState: 'dead', previousCode: 'patient_mismatch' }]);
    }
    expect(await b.audit.verify()).toMatchObject({ ok: true });
  });

  it('orders: a change noted on two replicas at once queues once; a retry records the operator; the order trail reads back', async () => {
    const change = { imagingStudyId: 'is-1', resource: 'ImagingStudy/is-1', version: '1', source: 'sweep' as const };
    expect((await Promise.all([a.orders.noteChange(change, 1000), b.orders.noteChange(change, 1000)])).sort()).toEqual([false, true]);
    const queue = a.orderQueue();
    await queue.dead((await queue.claim(1000, LEASE_MS))!, { code: 'avara_refused', message: 'x' }, 1100);
    expect(await b.orders.countByState()).toMatchObject({ dead: 1 });
    expect(await b.orders.recentErrors()).toMatchObject([{ imagingStudyId: 'is-1', code: 'avara_refused' }]);
    expect(await b.orders.requeue(1200, ACTION, 'is-1')).toBe(1);
    expect((await a.audit.ofOrder('is-1')).map((e) => e.event)).toEqual(['order_enqueued', 'order_attempt_started', 'order_dead', 'order_retried']);
    expect((await a.audit.ofOrder('is-1')).at(-1)?.detail).toMatchObject({ order: 'is-1', operator: 'cli:tester' });
  });

  it('audit head reads: chainEnd, hashAt, countRows and iterate agree across replicas', async () => {
    expect(await a.audit.chainEnd()).toBeUndefined();
    await Promise.all([1, 2, 3, 4].map((n) => (n % 2 ? a : b).audit.append({ reportId: `rep_${n}`, event: 'received', at: 1000 * n })));
    const end = (await b.audit.chainEnd())!;
    expect(end.seq).toBe(4);
    expect(await a.audit.hashAt(4)).toBe(end.hash);
    expect(await a.audit.countRows(1, 4)).toBe(3);
    const rows = [];
    for await (const row of a.audit.iterate(2000)) rows.push(row.seq);
    expect(rows).toHaveLength(3);
    expect(await a.audit.verify({ rows: end.seq, hash: end.hash.slice(0, 16) })).toMatchObject({ ok: true, rows: 4 });
    expect(await a.audit.verify({ rows: 3, hash: end.hash.slice(0, 16) })).not.toMatchObject({ head: { outcome: 'found' } });
  });

  it('settings: the MRN hash key and identifier systems are one per database; locks move from a dead holder to one taker', async () => {
    const [keyA, keyB] = await Promise.all([a.settings.mrnHashKey(), b.settings.mrnHashKey()]);
    expect(keyA.length).toBe(32);
    expect(keyB.equals(keyA)).toBe(true);
    await a.settings.checkIdentifierSystems({ report: 'urn:a' }, false, 1000);
    await expect(b.settings.checkIdentifierSystems({ report: 'urn:b' }, false, 1001)).rejects.toBeInstanceOf(IdentifierSystemsChangedError);
    await b.settings.checkIdentifierSystems({ report: 'urn:b' }, true, 1002);
    expect(await a.locks.tryAcquire(['backfill'], 'dead-holder', 5000, 1000)).toBe(true);
    expect(await b.locks.read('backfill')).toEqual({ holder: 'dead-holder', expiresAt: 5000 });
    const takes = await Promise.all([a.locks.takeOver('backfill', 'dead-holder', 'a', 9000), b.locks.takeOver('backfill', 'dead-holder', 'b', 9000)]);
    expect(takes.sort()).toEqual([false, true]);
  });

  it('an open that fails names DATABASE_URL, the database without its password and the cause', async () => {
    const missing = new URL(database.url);
    missing.pathname = '/afs_no_such_database';
    missing.password = 's3cret';
    const refused = (await openPostgresStore({ databaseUrl: missing.toString(), migrate: false }).then(() => new Error('opened'), (error: unknown) => error)) as Error & { code?: string };
    expect(refused.message).toMatch(/^DATABASE_URL: cannot open the database at postgres:\/\/[^ ]*:\*\*\*@[^ ]+\/afs_no_such_database \(3D000: database "afs_no_such_database" does not exist\)$/);
    expect(refused.message).not.toContain('s3cret');
    expect(refused.code).toBe('3D000');
  });

  it('names its database without the password', () => {
    expect(withoutPassword('postgres://afs:s3cret@db.example:5432/afs')).toBe('postgres://afs:***@db.example:5432/afs');
    expect(a.location).not.toContain('s3cret');
  });
});

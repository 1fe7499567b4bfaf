import { asc, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { InboxEvent, RecordOutcome } from '../src/store/inbox.ts';
import { openPgStore } from '../src/store/pg/open-pg-store.ts';
import { verifyAuditChainPg } from '../src/store/pg/pg-audit.ts';
import { createPgGroupCommit } from '../src/store/pg/pg-group-commit.ts';
import { createPgIntakeBatcher, dollarQuoted, type PgIntakeBatcher } from '../src/store/pg/pg-intake-batch.ts';
import { recordWebhookPg } from '../src/store/pg/pg-intake.ts';
import { JOBS_CHANNEL } from '../src/store/pg/pg-notify.ts';
import { AUDIT_CHAIN_LOCK } from '../src/store/pg/advisory-locks.ts';
import type { PgStore } from '../src/store/pg/open-pg-store.ts';
import { auditEvents, deliveries, inbox } from '../src/store/pg/schema.ts';
import { countRows, twoPgReplicasPerBlock } from './support/pg-two-replicas.ts';
import { emptyTestDatabase, TEST_SERVER_URL } from './support/pg-test-database.ts';

const TARGETS = ['fhir', 'hl7v2'] as const;

function webhook(n: number, ids: { webhookId?: string; eventId?: string; reportId?: string } = {}): InboxEvent {
  const reportId = ids.reportId ?? `rep_${n}`;
  return {
    webhookId: ids.webhookId ?? `msg_${String(n).padStart(3, '0')}`, eventId: ids.eventId ?? `evt_${n}`, type: 'report.delivered', bodySha256: `sha_${n}`,
    report: { reportId, studyId: `stu_${n}`, isCritical: n % 2 === 0, presignedUrl: `https://files.example/${reportId}.pdf` },
  };
}

describe('webhooks stored a group at a time, in one round trip (PostgreSQL)', () => {
  let a: PgStore;
  let b: PgStore;
  twoPgReplicasPerBlock((replicas) => ({ a, b } = replicas));
  const count = (table: PgTable) => countRows(a, table);
  // The per-webhook path the batcher falls back to, as the store wires it.
  const batcherOn = (store: PgStore, options = {}): PgIntakeBatcher => {
    const group = createPgGroupCommit(store.pool);
    return createPgIntakeBatcher(store.pool, (event, now, targets) => group.run(() => recordWebhookPg(store.pool, event, now, targets), event.webhookId), options);
  };
  const waitingForChainLock = async () => Number((await a.pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'")).rows[0]!.n) === 1;
  const trail = async (store: PgStore) => (await store.db.select({ reportId: auditEvents.reportId, event: auditEvents.event, detail: auditEvents.detail, at: auditEvents.at })
    .from(auditEvents).orderBy(asc(auditEvents.seq)));

  it('a burst is one transaction; rows, deliveries and audit rows are those the per-webhook path writes, in webhook-id order', async () => {
    const batcher = batcherOn(a);
    const burst = [3, 1, 2].map((n) => webhook(n));
    const outcomes = await Promise.all(burst.map((event, i) => batcher.record(event, 1000 + i, TARGETS)));
    expect(outcomes).toEqual(['stored', 'stored', 'stored']);
    // One transaction: every row of the burst has the same xmin.
    const xmins = await a.pool.query<{ n: string }>('SELECT count(DISTINCT xmin::text) AS n FROM (SELECT xmin FROM inbox UNION ALL SELECT xmin FROM deliveries UNION ALL SELECT xmin FROM audit_events) AS rows');
    expect(xmins.rows[0]!.n).toBe('1');
    // The same webhooks one at a time through recordWebhookPg, on the other database half.
    const ours = await trail(a);
    await emptyTestDatabase(a.databaseUrl);
    for (const [i, event] of burst.entries()) await recordWebhookPg(a.pool, event, 1000 + i, TARGETS);
    const reference = await trail(a);
    const byReport = (rows: typeof ours) => rows.reduce<Record<string, unknown[]>>((all, row) => ({ ...all, [row.reportId!]: [...(all[row.reportId!] ?? []), row] }), {});
    expect(byReport(ours)).toEqual(byReport(reference));
    expect(ours.map((row) => row.reportId)).toEqual(['rep_1', 'rep_1', 'rep_1', 'rep_2', 'rep_2', 'rep_2', 'rep_3', 'rep_3', 'rep_3']);
    const [delivery] = await a.db.select().from(deliveries).where(sql`${deliveries.id} = 'hl7v2:rep_2'`);
    expect(delivery).toMatchObject({ reportId: 'rep_2', target: 'hl7v2', studyId: 'stu_2', state: 'queued', isCritical: true, attempts: 0, source: 'webhook', nextAttemptAt: 1002, createdAt: 1002 });
  });

  it('in one burst: a webhook twice, a redelivery under a new webhook-id, a second event of one report, an event we do not deliver: each decided as one at a time would', async () => {
    const batcher = batcherOn(a);
    const ping: InboxEvent = { webhookId: 'msg_ping', eventId: 'evt_ping', type: 'study.created', bodySha256: 'sha' };
    const burst: [InboxEvent, RecordOutcome][] = [
      [webhook(1), 'stored'],
      [webhook(1), 'duplicate'],
      [webhook(1, { webhookId: 'msg_retry' }), 'duplicate'],
      [webhook(2), 'stored'],
      [webhook(7, { reportId: 'rep_2', webhookId: 'msg_007' }), 'stored'],
      [ping, 'stored'],
    ];
    const outcomes = await Promise.all(burst.map(([event]) => batcher.record(event, 1000, ['fhir'])));
    expect(outcomes).toEqual(burst.map(([, outcome]) => outcome));
    expect((await a.db.select({ id: inbox.webhookId }).from(inbox)).map((row) => row.id).sort()).toEqual(['msg_001', 'msg_002', 'msg_007', 'msg_ping']);
    expect((await a.db.select({ id: deliveries.id }).from(deliveries)).map((row) => row.id).sort()).toEqual(['fhir:rep_1', 'fhir:rep_2']);
    // rep_2: received and enqueued once for the first event, received alone for the second.
    const rep2 = (await trail(a)).filter((row) => row.reportId === 'rep_2').map((row) => [row.event, (row.detail as { webhookId?: string }).webhookId ?? null]);
    expect(rep2).toEqual([['received', 'msg_002'], ['enqueued', null], ['received', 'msg_007']]);
    expect(await verifyAuditChainPg(a.db)).toMatchObject({ ok: true, rows: 5 });
  });

  it('two replicas receiving the same 40 webhooks at once in opposite orders: each stored once, answered on both, the chain linear', async () => {
    const [onA, onB] = [batcherOn(a), batcherOn(b)];
    const ids = Array.from({ length: 40 }, (_, n) => n);
    const [fromA, fromB] = await Promise.all([
      Promise.all(ids.map((n) => onA.record(webhook(n), 1000, TARGETS))),
      Promise.all([...ids].reverse().map((n) => onB.record(webhook(n), 1000, TARGETS))),
    ]);
    for (const n of ids) expect([fromA[n], fromB[39 - n]].sort(), `webhook ${n}`).toEqual(['duplicate', 'stored']);
    expect(await count(inbox)).toBe(40);
    expect(await count(deliveries)).toBe(80);
    expect(await verifyAuditChainPg(a.db)).toMatchObject({ ok: true, rows: 120 });
  }, 60_000);

  it('a webhook whose value PostgreSQL refuses fails alone; the rest of its group is stored, nothing of it is', async () => {
    const batcher = batcherOn(a);
    const outcomes = await Promise.allSettled([
      batcher.record(webhook(1), 1000, TARGETS),
      batcher.record(webhook(2, { eventId: 'evt_\u0000' }), 1000, TARGETS),
      batcher.record(webhook(3), 1000, TARGETS),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await a.db.select({ id: inbox.webhookId }).from(inbox)).map((row) => row.id).sort()).toEqual(['msg_001', 'msg_003']);
    expect(await count(deliveries)).toBe(4);
    expect(await verifyAuditChainPg(a.db)).toMatchObject({ ok: true, rows: 6 });
  });

  it('ids holding quotes, backslashes, placeholders of the statement and String.replace patterns are stored as sent', async () => {
    const batcher = batcherOn(a);
    const odd = ["msg_'; DROP TABLE inbox; --", 'msg_$candidates', "msg_$'$&$$\\"];
    const outcomes = await Promise.all(odd.map((webhookId, n) => batcher.record(webhook(n, { webhookId, eventId: `${webhookId}_evt`, reportId: `${webhookId}_rep` }), 1000, ['fhir'])));
    expect(outcomes).toEqual(['stored', 'stored', 'stored']);
    expect((await a.db.select({ id: inbox.webhookId }).from(inbox)).map((row) => row.id).sort()).toEqual([...odd].sort());
    expect((await a.db.select({ id: deliveries.reportId }).from(deliveries)).map((row) => row.id).sort()).toEqual(odd.map((id) => `${id}_rep`).sort());
    expect(await verifyAuditChainPg(a.db)).toMatchObject({ ok: true, rows: 6 });
  });

  it('wakes other replicas once per target that got a delivery, at commit; a burst of duplicates wakes nobody', async () => {
    const listener = new pg.Client({ connectionString: a.databaseUrl });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (message) => heard.push(message.payload!));
    await listener.query(`LISTEN ${JOBS_CHANNEL}`);
    try {
      const batcher = batcherOn(b);
      await Promise.all([1, 2, 3].map((n) => batcher.record(webhook(n), 1000, TARGETS)));
      await until(() => heard.length >= 2);
      expect(heard.sort()).toEqual(['deliveries.fhir', 'deliveries.hl7v2']);
      heard.length = 0;
      await Promise.all([1, 2, 3].map((n) => batcher.record(webhook(n), 2000, TARGETS)));
      await listener.query('SELECT 1');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(heard).toEqual([]);
    } finally {
      await listener.end();
    }
  });

  it('a database that is gone: every webhook of the group is refused, none answered stored', async () => {
    const gone = await openPgStore({ databaseUrl: a.databaseUrl, migrate: false });
    await gone.close();
    const batcher = batcherOn(gone);
    const outcomes = await Promise.allSettled([1, 2].map((n) => batcher.record(webhook(n), 1000, TARGETS)));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(await count(inbox)).toBe(0);
  });

  it('webhooks sharing a key are stored in the order they arrived, even when the first of them waits for a group in flight', async () => {
    const batcher = batcherOn(a);
    // The chain's lock held from outside: the first group writes, then waits at its append.
    const holder = new pg.Client({ connectionString: a.databaseUrl });
    await holder.connect();
    await holder.query(`BEGIN; SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK[0]}, ${AUDIT_CHAIN_LOCK[1]})`);
    let outcomes: RecordOutcome[];
    try {
      const first = batcher.record(webhook(1), 1000, ['fhir']);
      for (let waited = 0; !(await waitingForChainLock()); waited += 10) {
        if (waited > 5000) throw new Error('the first group never reached the chain lock');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // P waits for the group in flight (its report); Q shares P's event id, not the flight's keys.
      const p = batcher.record(webhook(2, { webhookId: 'msg_p', eventId: 'evt_shared', reportId: 'rep_1' }), 1000, ['fhir']);
      const q = batcher.record(webhook(3, { webhookId: 'msg_q', eventId: 'evt_shared', reportId: 'rep_9' }), 1000, ['fhir']);
      const settled = Promise.all([first, p, q]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await holder.query('COMMIT');
      outcomes = await settled;
    } finally {
      await holder.end();
    }
    expect(outcomes).toEqual(['stored', 'stored', 'duplicate']);
    expect((await a.db.select({ id: inbox.webhookId }).from(inbox)).map((row) => row.id).sort()).toEqual(['msg_001', 'msg_p']);
    expect(await verifyAuditChainPg(a.db)).toMatchObject({ ok: true });
  });

  it('more webhooks than a group holds: several groups, up to the in-flight limit at once, each webhook once', async () => {
    const batcher = batcherOn(a, { maxGroup: 5, maxInFlight: 2 });
    const outcomes = await Promise.all(Array.from({ length: 23 }, (_, n) => batcher.record(webhook(n), 1000, ['fhir'])));
    expect(outcomes.every((o) => o === 'stored')).toBe(true);
    const transactions = await a.pool.query<{ n: string }>('SELECT count(DISTINCT xmin::text) AS n FROM inbox');
    expect(Number(transactions.rows[0]!.n)).toBe(5);
    expect(await verifyAuditChainPg(a.db)).toMatchObject({ ok: true, rows: 46 });
  });
});


async function until(ok: () => boolean): Promise<void> {
  for (const started = Date.now(); !ok();) {
    if (Date.now() - started > 5000) throw new Error('not heard in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('dollarQuoted', () => {
  it('takes any text as it is, a text holding the tag included, as PostgreSQL reads it', async () => {
    const client = new pg.Client({ connectionString: TEST_SERVER_URL });
    await client.connect();
    try {
      for (const text of ['', "it's \\ a \"test\"", 'ends with $', '$afs$ and $afs0$ inside', '{"a":"\\u0000\\n"}', '東京 🩻']) {
        const { rows } = await client.query<{ v: string }>(`SELECT ${dollarQuoted(text)}::text AS v`);
        expect(rows[0]!.v).toBe(text);
      }
    } finally {
      await client.end();
    }
  });
});

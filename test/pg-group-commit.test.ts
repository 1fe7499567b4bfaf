import type { PgTable } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { InboxEvent } from '../src/store/inbox.ts';
import { AUDIT_CHAIN_LOCK } from '../src/store/pg/advisory-locks.ts';
import { openPgStore, type PgStore } from '../src/store/pg/open-pg-store.ts';
import { verifyAuditChainPg } from '../src/store/pg/pg-audit.ts';
import { createPgGroupCommit } from '../src/store/pg/pg-group-commit.ts';
import { recordWebhookPg } from '../src/store/pg/pg-intake.ts';
import { inTransaction } from '../src/store/pg/pg-transaction.ts';
import { auditEvents, deliveries, inbox } from '../src/store/pg/schema.ts';
import { countRows, twoPgReplicasPerBlock } from './support/pg-two-replicas.ts';

const webhook = (n: number): InboxEvent => ({
  webhookId: `msg_${n}`, eventId: `evt_${n}`, type: 'report.delivered', bodySha256: 's',
  report: { reportId: `rep_${n}`, studyId: `stu_${n}`, isCritical: false, presignedUrl: 'https://files.example/p.pdf' },
});

describe('group commit on PostgreSQL', () => {
  let a: PgStore;
  let b: PgStore;
  twoPgReplicasPerBlock((replicas) => ({ a, b } = replicas));
  const count = (table: PgTable) => countRows(a, table);
  const txid = () => inTransaction(a.pool, async (tx) => (await tx.client.query<{ id: string }>('select txid_current()::text as id')).rows[0]!.id);

  it('writes that arrive together share one transaction, and each is answered after its commit', async () => {
    const group = createPgGroupCommit(a.pool);
    const results = await Promise.all(Array.from({ length: 12 }, (_, n) => group.run(async () => ({ outcome: await recordWebhookPg(a.pool, webhook(n), 1000, ['fhir']), txid: await txid() }))));
    expect(results.every((r) => r.outcome === 'stored')).toBe(true);
    expect(new Set(results.map((r) => r.txid)).size).toBe(1);
    expect(await count(inbox)).toBe(12);
    expect(await verifyAuditChainPg(a.db)).toMatchObject({ ok: true, rows: 24 });
  });

  it('a write that fails is rolled back alone, its audit rows with it; the others commit', async () => {
    const group = createPgGroupCommit(a.pool);
    const outcomes = await Promise.allSettled([
      group.run(() => recordWebhookPg(a.pool, webhook(1), 1000, ['fhir'])),
      group.run(async () => {
        await recordWebhookPg(a.pool, webhook(2), 1000, ['fhir']);
        throw new Error('the request was refused after its insert');
      }),
      group.run(() => recordWebhookPg(a.pool, webhook(3), 1000, ['fhir'])),
      // The same webhook again in the same group: it sees the first one's row.
      group.run(() => recordWebhookPg(a.pool, webhook(1), 1000, ['fhir'])),
    ]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message))).toEqual(['stored', 'the request was refused after its insert', 'stored', 'duplicate']);
    expect((await a.db.select({ id: inbox.webhookId }).from(inbox)).map((r) => r.id).sort()).toEqual(['msg_1', 'msg_3']);
    expect(await count(deliveries)).toBe(2);
    expect(await verifyAuditChainPg(a.db)).toMatchObject({ ok: true, rows: 4 });
  });

  it('two replicas\' groups receiving the same webhooks in opposite orders: each stored once, both answered', async () => {
    const [groupA, groupB] = [createPgGroupCommit(a.pool), createPgGroupCommit(b.pool)];
    const ids = Array.from({ length: 30 }, (_, n) => n);
    const [fromA, fromB] = await Promise.all([
      Promise.all(ids.map((n) => groupA.run(() => recordWebhookPg(a.pool, webhook(n), 1000, ['fhir', 'hl7v2']), webhook(n).webhookId))),
      Promise.all([...ids].reverse().map((n) => groupB.run(() => recordWebhookPg(b.pool, webhook(n), 1000, ['fhir', 'hl7v2']), webhook(n).webhookId))),
    ]);
    const byId = new Map(ids.map((n) => [n, [fromA[n], fromB[29 - n]].sort()]));
    for (const [n, pair] of byId) expect(pair, `webhook ${n}`).toEqual(['duplicate', 'stored']);
    expect(await count(inbox)).toBe(30);
    expect(await count(deliveries)).toBe(60);
    expect(await verifyAuditChainPg(a.db)).toMatchObject({ ok: true, rows: 90 });
  }, 60_000);

  it('without an order key, groups that deadlock each other: the victim write runs again, each stored once', async () => {
    const [groupA, groupB] = [createPgGroupCommit(a.pool), createPgGroupCommit(b.pool)];
    const [fromA, fromB] = await Promise.all([
      Promise.all([1, 2].map((n) => groupA.run(() => recordWebhookPg(a.pool, webhook(n), 1000, ['fhir'])))),
      Promise.all([2, 1].map((n) => groupB.run(() => recordWebhookPg(b.pool, webhook(n), 1000, ['fhir'])))),
    ]);
    expect([fromA[0], fromB[1]].sort()).toEqual(['duplicate', 'stored']);
    expect([fromA[1], fromB[0]].sort()).toEqual(['duplicate', 'stored']);
    expect(await count(inbox)).toBe(2);
    expect((await verifyAuditChainPg(a.db)).ok).toBe(true);
  }, 30_000);

  it('when the transaction itself cannot run, every write of the group is refused and nothing is stored', async () => {
    const doomed = await openPgStore({ databaseUrl: a.databaseUrl, migrate: false });
    await doomed.close();
    const group = createPgGroupCommit(doomed.pool);
    const outcomes = await Promise.allSettled([1, 2].map((n) => group.run(() => recordWebhookPg(doomed.pool, webhook(n), 1000, ['fhir']))));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(await count(inbox)).toBe(0);
  });
  // Holds the audit chain's lock from outside, so a group that has written waits at its commit.
  async function holdChainLock(): Promise<{ release(): Promise<void> }> {
    const client = new pg.Client({ connectionString: a.databaseUrl });
    await client.connect();
    await client.query(`BEGIN; SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK[0]}, ${AUDIT_CHAIN_LOCK[1]})`);
    return { release: async () => void (await client.query('COMMIT'), await client.end()) };
  }
  const waitingForChain = async () => Number((await a.pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'")).rows[0]!.n);
  async function until(what: string, ok: () => Promise<boolean> | boolean): Promise<void> {
    for (const started = Date.now(); !(await ok());) {
      if (Date.now() - started > 20_000) throw new Error(`still not: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('while a group waits to append to the audit chain and commit, the next group writes; both commit, each webhook once, the chain gapless', async () => {
    const group = createPgGroupCommit(a.pool);
    const lock = await holdChainLock();
    const ran: number[] = [];
    const write = (n: number) => group.run(async () => {
      ran.push(n);
      return { outcome: await recordWebhookPg(a.pool, webhook(n), 1000, ['fhir']), txid: await txid() };
    }, webhook(n).webhookId);
    const first = [1, 2, 3].map(write);
    let second: ReturnType<typeof write>[] = [];
    try {
      await until('the first group waits for the chain', async () => (await waitingForChain()) === 1);
      second = [4, 5, 6].map(write);
      await until('the second group has written and waits too', async () => (await waitingForChain()) === 2);
      expect(ran.sort()).toEqual([1, 2, 3, 4, 5, 6]);
    } finally {
      await lock.release();
    }
    const results = await Promise.all([...first, ...second]);
    expect(results.map((r) => r.outcome)).toEqual(Array(6).fill('stored'));
    expect(new Set(results.map((r) => r.txid)).size).toBe(2);
    expect(await count(inbox)).toBe(6);
    expect(await count(deliveries)).toBe(6);
    expect(await verifyAuditChainPg(a.db)).toMatchObject({ ok: true, rows: 12 });
  }, 60_000);

  it('two groups in flight, the second with a write that fails and a webhook of the first: the first commits whole, the second loses only the failing write, nothing twice', async () => {
    const group = createPgGroupCommit(a.pool);
    const lock = await holdChainLock();
    const first = [1, 2].map((n) => group.run(() => recordWebhookPg(a.pool, webhook(n), 1000, ['fhir']), webhook(n).webhookId));
    await until('the first group waits for the chain', async () => (await waitingForChain()) === 1);
    let secondStarted = false;
    const second = [
      group.run(() => {
        secondStarted = true;
        return recordWebhookPg(a.pool, webhook(3), 1000, ['fhir']);
      }, webhook(3).webhookId),
      group.run(async () => {
        await recordWebhookPg(a.pool, webhook(4), 1000, ['fhir']);
        throw new Error('the request was refused after its insert');
      }, webhook(4).webhookId),
      group.run(() => recordWebhookPg(a.pool, webhook(5), 1000, ['fhir']), webhook(5).webhookId),
      // Already written by the first group, not yet committed: waits for it, then finds it (last
      // in the group, so the others have run before it waits).
      group.run(() => recordWebhookPg(a.pool, webhook(1), 1000, ['fhir']), 'zz_again'),
    ];
    // Settled from now on: once the lock's COMMIT is sent, both groups may commit (and webhook 4
    // be refused) before release() has closed its connection; a rejection with no handler yet
    // is reported by vitest as an unhandled error.
    const settled = Promise.allSettled([...first, ...second]);
    try {
      await until('the second group has started writing', () => secondStarted);
    } finally {
      await lock.release();
    }
    const outcomes = await settled;
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message)))
      .toEqual(['stored', 'stored', 'stored', 'the request was refused after its insert', 'stored', 'duplicate']);
    expect((await a.db.select({ id: inbox.webhookId }).from(inbox)).map((r) => r.id).sort()).toEqual(['msg_1', 'msg_2', 'msg_3', 'msg_5']);
    expect(await count(deliveries)).toBe(4);
    expect(await verifyAuditChainPg(a.db)).toMatchObject({ ok: true, rows: 8 });
  }, 60_000);
});

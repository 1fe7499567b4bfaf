import { asc, eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPgStore, type PgStore } from '../src/store/pg/open-pg-store.ts';
import { appendAuditEventPg, listAuditEventsPg, verifyAuditChainPg } from '../src/store/pg/pg-audit.ts';
import { inTransaction } from '../src/store/pg/pg-transaction.ts';
import { auditEvents } from '../src/store/pg/schema.ts';
import { createTestDatabase, emptyTestDatabase, type TestDatabase } from './support/pg-test-database.ts';

describe('the audit hash chain on PostgreSQL with concurrent writers', () => {
  let database: TestDatabase;
  let replicas: PgStore[];
  beforeAll(async () => {
    database = await createTestDatabase();
    replicas = [];
    for (let i = 0; i < 4; i++) replicas.push(await openPgStore({ databaseUrl: database.url, migrate: i === 0, poolSize: 3 }));
  });
  beforeEach(() => emptyTestDatabase(database.url));
  afterAll(async () => {
    await Promise.all(replicas?.map((store) => store.close()) ?? []);
    await database?.drop();
  });

  it('4 writers on 4 pools, some transactions rolled back: one linear chain, gapless seq, each commit\'s rows together, verify passes', async () => {
    const committed: number[] = [];
    const writers = replicas.map(async (store, writer) => {
      for (let n = 0; n < 15; n++) {
        const tx = `w${writer}-${n}`;
        const rows = 1 + (n % 3);
        const rollBack = n % 5 === 4;
        await inTransaction(store.pool, async (t) => {
          for (let r = 0; r < rows; r++) appendAuditEventPg(t, { reportId: tx, event: 'enqueued', at: 1000 + n, detail: { tx, r, zeta: 'last key first', alpha: { nested: true, b: 2, a: 1 } } });
          // Something else in the same transaction between the appends and the commit.
          await t.client.query('select pg_sleep(0.001)');
          if (rollBack) throw new Error('rolled back on purpose');
        }).then(() => committed.push(rows), (error: Error) => {
          if (error.message !== 'rolled back on purpose') throw error;
        });
      }
    });
    await Promise.all(writers);
    const total = committed.reduce((sum, rows) => sum + rows, 0);
    expect(await verifyAuditChainPg(replicas[1]!.db)).toMatchObject({ ok: true, rows: total });
    const rows = await replicas[2]!.db.select({ seq: auditEvents.seq, reportId: auditEvents.reportId }).from(auditEvents).orderBy(asc(auditEvents.seq));
    expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    // A transaction's rows are written as one run: no other writer's row between them.
    const runs = rows.map((row) => row.reportId).filter((id, i, all) => id !== all[i - 1]);
    expect(new Set(runs).size).toBe(runs.length);
    expect(rows.some((row) => /-(4|9|14)$/.test(row.reportId!))).toBe(false);
    // The detail comes back with its keys in the order they were hashed in.
    const [first] = await listAuditEventsPg(replicas[3]!.db, rows[0]!.reportId!);
    expect(Object.keys(first!.detail!)).toEqual(['tx', 'r', 'zeta', 'alpha']);
  }, 60_000);

  it('details with quotes, backslashes, non-ASCII text and control characters, no detail, no report: PostgreSQL links and hashes them as chainHash does, and they come back as written', async () => {
    const [store] = replicas;
    const details = [
      { note: 'say "hi" \\ back\\slash', accents: 'Zoë Ångström, 東京, 🩻', tab: 'a\tb\nc\u0001' },
      undefined,
      { nested: { list: [1, 'two', null, { three: 3.5 }] }, empty: '' },
    ];
    await inTransaction(store!.pool, async (tx) => {
      details.forEach((detail, i) => appendAuditEventPg(tx, { reportId: i === 1 ? null : `rep_${i}`, event: 'received', at: 1_700_000_000_000 + i, ...(detail ? { detail } : {}) }));
    });
    expect(await verifyAuditChainPg(store!.db)).toMatchObject({ ok: true, rows: 3 });
    const rows = await store!.db.select().from(auditEvents).orderBy(asc(auditEvents.seq));
    expect(rows.map((row) => row.detail ?? undefined)).toEqual(details);
    expect(rows.map((row) => row.reportId)).toEqual(['rep_0', null, 'rep_2']);
  });

  it('a NUL character in a detail (an EHR\'s error text) is linked, hashed and read back as written', async () => {
    const [store] = replicas;
    await inTransaction(store!.pool, async (tx) => {
      appendAuditEventPg(tx, { reportId: 'rep_nul', event: 'attempt_failed', at: 1_700_000_000_100, detail: { code: 'fhir_rejected', message: 'bad\u0000byte', list: ['x\u0000'] } });
    });
    expect(await verifyAuditChainPg(store!.db)).toMatchObject({ ok: true });
    const [row] = await store!.db.select().from(auditEvents).where(eq(auditEvents.reportId, 'rep_nul'));
    expect(row!.detail).toEqual({ code: 'fhir_rejected', message: 'bad\u0000byte', list: ['x\u0000'] });
  });

  it('a detail holding String.replace\'s own patterns ($\', $&, $$, $`) is linked and read back as written (an EHR\'s error text can hold anything)', async () => {
    const [store] = replicas;
    const detail = { code: 'fhir_rejected', message: "price $' and $& and $$ and $` end", quote: "it's" };
    await inTransaction(store!.pool, async (tx) => {
      appendAuditEventPg(tx, { reportId: 'rep_dollar', event: 'attempt_failed', at: 1_700_000_000_200, detail });
    });
    expect(await verifyAuditChainPg(store!.db)).toMatchObject({ ok: true, rows: 1 });
    const [row] = await store!.db.select().from(auditEvents).where(eq(auditEvents.reportId, 'rep_dollar'));
    expect(row!.detail).toEqual(detail);
  });

  it('verify names the first row whose detail was changed behind the triggers\' back', async () => {
    const [store] = replicas;
    for (let i = 0; i < 3; i++) await inTransaction(store!.pool, async (tx) => appendAuditEventPg(tx, { reportId: `rep_${i}`, event: 'delivered', at: i, detail: { n: i } }));
    expect(await verifyAuditChainPg(store!.db)).toMatchObject({ ok: true, rows: 3 });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query('SET session_replication_role = replica');
    await client.query(`update audit_events set detail = '{"n": 99}' where seq = 2`);
    await client.end();
    expect(await verifyAuditChainPg(store!.db)).toMatchObject({ ok: false, brokenAtSeq: 2 });
  });
});

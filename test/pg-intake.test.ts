import { asc, eq, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import type { InboxEvent } from '../src/store/inbox.ts';
import type { PgStore } from '../src/store/pg/open-pg-store.ts';
import { verifyAuditChainPg } from '../src/store/pg/pg-audit.ts';
import { recordWebhookPg } from '../src/store/pg/pg-intake.ts';
import { auditEvents, deliveries, inbox } from '../src/store/pg/schema.ts';
import { countRows, twoPgReplicasPerBlock } from './support/pg-two-replicas.ts';

const TARGETS = ['fhir', 'hl7v2'] as const;

function webhook(n: number, ids: { webhookId?: string; eventId?: string } = {}): InboxEvent {
  return {
    webhookId: ids.webhookId ?? `msg_${n}`,
    eventId: ids.eventId ?? `evt_${n}`,
    type: 'report.delivered',
    bodySha256: `sha_${n}`,
    report: { reportId: `rep_${n}`, studyId: `stu_${n}`, isCritical: n % 2 === 0, presignedUrl: `https://files.example/rep_${n}.pdf` },
  };
}

describe('webhook intake on PostgreSQL, two replicas', () => {
  let a: PgStore;
  let b: PgStore;
  twoPgReplicasPerBlock((replicas) => ({ a, b } = replicas));

  const count = (table: PgTable) => countRows(a, table);

  it('the same webhook to both replicas at once, 40 times: each stored once, its deliveries enqueued once, both answered', async () => {
    const outcomes = await Promise.all(Array.from({ length: 40 }, (_, n) => Promise.all([
      recordWebhookPg(a.pool, webhook(n), 1000 + n, TARGETS),
      recordWebhookPg(b.pool, webhook(n), 1000 + n, TARGETS),
    ])));
    for (const pair of outcomes) expect([...pair].sort()).toEqual(['duplicate', 'stored']);
    expect(await count(inbox)).toBe(40);
    expect(await count(deliveries)).toBe(80);
    const events = await a.db.select({ event: auditEvents.event, n: sql<number>`count(*)`.mapWith(Number) }).from(auditEvents).groupBy(auditEvents.event).orderBy(asc(auditEvents.event));
    expect(events).toEqual([{ event: 'enqueued', n: 80 }, { event: 'received', n: 40 }]);
    expect(await verifyAuditChainPg(a.db)).toMatchObject({ ok: true, rows: 120 });
    const [one] = await a.db.select().from(deliveries).where(eq(deliveries.id, 'hl7v2:rep_2'));
    expect(one).toMatchObject({ reportId: 'rep_2', target: 'hl7v2', studyId: 'stu_2', state: 'queued', isCritical: true, attempts: 0, source: 'webhook', nextAttemptAt: 1002 });
  }, 60_000);

  it('a redelivery under a new webhook-id but the same event id is a duplicate; audit rows of the report in target order', async () => {
    expect(await recordWebhookPg(a.pool, webhook(1), 1000, TARGETS)).toBe('stored');
    expect(await recordWebhookPg(b.pool, webhook(1, { webhookId: 'msg_retry' }), 2000, TARGETS)).toBe('duplicate');
    expect(await recordWebhookPg(b.pool, webhook(1, { eventId: 'evt_other' }), 2000, TARGETS)).toBe('duplicate');
    expect(await count(inbox)).toBe(1);
    const trail = await a.db.select({ event: auditEvents.event, detail: auditEvents.detail }).from(auditEvents).orderBy(asc(auditEvents.seq));
    expect(trail).toEqual([
      { event: 'received', detail: { webhookId: 'msg_1', eventId: 'evt_1', type: 'report.delivered' } },
      { event: 'enqueued', detail: { target: 'fhir', source: 'webhook', studyId: 'stu_1' } },
      { event: 'enqueued', detail: { target: 'hl7v2', source: 'webhook', studyId: 'stu_1' } },
    ]);
  });

  it('an event we do not deliver is stored once and enqueues nothing', async () => {
    const ping: InboxEvent = { webhookId: 'msg_ping', eventId: 'evt_ping', type: 'study.created', bodySha256: 'sha' };
    const [x, y] = await Promise.all([recordWebhookPg(a.pool, ping, 1000), recordWebhookPg(b.pool, ping, 1000)]);
    expect([x, y].sort()).toEqual(['duplicate', 'stored']);
    expect(await count(inbox)).toBe(1);
    expect(await count(deliveries)).toBe(0);
    expect(await count(auditEvents)).toBe(0);
  });

  it('a report already queued by the poller: the webhook is stored, the delivery not enqueued twice', async () => {
    expect(await recordWebhookPg(a.pool, webhook(5, { webhookId: 'first' , eventId: 'e1' }), 1000, ['fhir'])).toBe('stored');
    // Same report, a different event (Avara resent the report as a new event): one delivery still.
    expect(await recordWebhookPg(b.pool, webhook(5, { webhookId: 'second', eventId: 'e2' }), 2000, ['fhir'])).toBe('stored');
    expect(await count(inbox)).toBe(2);
    expect(await count(deliveries)).toBe(1);
    expect((await a.db.select({ event: auditEvents.event }).from(auditEvents).orderBy(asc(auditEvents.seq))).map((row) => row.event)).toEqual(['received', 'enqueued', 'received']);
  });
});

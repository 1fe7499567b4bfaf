import { and, eq, isNotNull, lt, or, sql } from 'drizzle-orm';
import { appendAuditEvent } from './audit.ts';
import { enqueueDelivery, FIRST_TARGET } from './deliveries.ts';
import type { Db } from './open-store.ts';
import { placeholdersFor, preparedOnce } from './prepared-statements.ts';
import { inbox } from './schema.ts';
import type { InboxEvent, RecordOutcome } from './store.ts';

export type { InboxEvent, RecordOutcome };

/**
 * Stores a verified webhook and, for report.delivered, enqueues its delivery: one transaction,
 * committed (synchronous=FULL) before the sender gets its 2xx. A webhook-id or event id seen
 * before is a redelivery: stored once, answered the same.
 */
export function recordWebhook(db: Db, event: InboxEvent, now: number, targets: readonly string[] = [FIRST_TARGET]): RecordOutcome {
  return db.transaction(
    (tx) => {
      const seen = preparedOnce(tx, 'inbox.seen', (db) =>
        db.select({ webhookId: inbox.webhookId })
          .from(inbox)
          .where(or(eq(inbox.webhookId, sql.placeholder('webhookId')), eq(inbox.eventId, sql.placeholder('eventId'))))
          .prepare(),
      ).get({ webhookId: event.webhookId, eventId: event.eventId });
      if (seen) return 'duplicate';
      preparedOnce(tx, 'inbox.insert', (db) => db.insert(inbox).values(placeholdersFor(INBOX_COLUMNS)).prepare()).run({
        webhookId: event.webhookId,
        eventId: event.eventId,
        type: event.type,
        receivedAt: now,
        bodySha256: event.bodySha256,
        reportId: event.report?.reportId ?? null,
        studyId: event.report?.studyId ?? null,
        presignedUrl: event.report?.presignedUrl ?? null,
      });
      if (event.report) {
        const { reportId, studyId, isCritical } = event.report;
        appendAuditEvent(tx, { reportId, event: 'received', at: now, detail: { webhookId: event.webhookId, eventId: event.eventId, type: event.type } });
        enqueueDelivery(tx, { reportId, studyId, source: 'webhook', isCritical, targets }, now);
      }
      return 'stored';
    },
    { behavior: 'immediate' },
  );
}

const INBOX_COLUMNS = ['webhookId', 'eventId', 'type', 'receivedAt', 'bodySha256', 'reportId', 'studyId', 'presignedUrl'] as const;

/** The newest presigned link a webhook brought for this report, with when it arrived. */
export function findWebhookPdfLink(db: Db, reportId: string): { url: string; receivedAt: number } | undefined {
  const row = preparedOnce(db, 'inbox.pdfLink', (db) =>
    db.select({ url: inbox.presignedUrl, receivedAt: inbox.receivedAt })
      .from(inbox)
      .where(and(eq(inbox.reportId, sql.placeholder('reportId')), isNotNull(inbox.presignedUrl)))
      .orderBy(sql`${inbox.receivedAt} desc`)
      .limit(1)
      .prepare(),
  ).get({ reportId });
  return row?.url ? { url: row.url, receivedAt: row.receivedAt } : undefined;
}

/** A used link carries a storage token and is worthless later: drop it. */
export function forgetWebhookPdfLinks(db: Db, reportId: string): void {
  preparedOnce(db, 'inbox.forgetLinks', (db) => db.update(inbox).set({ presignedUrl: null }).where(eq(inbox.reportId, sql.placeholder('reportId'))).prepare()).run({ reportId });
}

/** Seen ids are kept for at least `keepMs` (senders retry for days), then pruned. */
export function pruneInbox(db: Db, now: number, keepMs: number): number {
  return db.delete(inbox).where(lt(inbox.receivedAt, now - keepMs)).run().changes;
}

export function countInbox(db: Db): number {
  return db.select({ n: sql<number>`count(*)` }).from(inbox).get()?.n ?? 0;
}

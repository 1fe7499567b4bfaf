import type { Pool } from 'pg';
import { FIRST_TARGET } from '../deliveries.ts';
import type { InboxEvent, RecordOutcome } from '../inbox.ts';
import { appendAuditEventPg } from './pg-audit.ts';
import { enqueueDeliveryPg } from './pg-deliveries.ts';
import { inTransaction } from './pg-transaction.ts';
import { inbox } from './schema.ts';

/**
 * Stores a verified webhook and enqueues its deliveries in one transaction, committed before the
 * sender's 2xx, as the SQLite intake does. With several replicas the same webhook may reach two
 * at once: the insert's ON CONFLICT (webhook id, or event id) makes the second wait for the
 * first's commit and then find it, so it is stored and enqueued once and both answer 2xx. Were
 * the first to roll back, the second stores it.
 */
export function recordWebhookPg(pool: Pool, event: InboxEvent, now: number, targets: readonly string[] = [FIRST_TARGET]): Promise<RecordOutcome> {
  return inTransaction(pool, async (tx) => {
    const stored = await tx.db.insert(inbox)
      .values({
        webhookId: event.webhookId,
        eventId: event.eventId,
        type: event.type,
        receivedAt: now,
        bodySha256: event.bodySha256,
        reportId: event.report?.reportId ?? null,
        studyId: event.report?.studyId ?? null,
        presignedUrl: event.report?.presignedUrl ?? null,
      })
      .onConflictDoNothing()
      .returning({ webhookId: inbox.webhookId });
    if (stored.length === 0) return 'duplicate';
    if (event.report) {
      const { reportId, studyId, isCritical } = event.report;
      appendAuditEventPg(tx, { reportId, event: 'received', at: now, detail: { webhookId: event.webhookId, eventId: event.eventId, type: event.type } });
      await enqueueDeliveryPg(tx, { reportId, studyId, source: 'webhook', isCritical, targets }, now);
    }
    return 'stored';
  });
}

import type { Pool } from 'pg';
import { deliveryId, FIRST_TARGET } from '../deliveries.ts';
import type { AuditEventInput } from '../audit.ts';
import type { InboxEvent, RecordOutcome } from '../inbox.ts';
import { appendAuditEventPg } from './pg-audit.ts';
import { wakeOnCommit } from './pg-notify.ts';
import { inTransaction } from './pg-transaction.ts';

/**
 * Stores a verified webhook and enqueues its deliveries in one transaction, committed before the
 * sender's 2xx, as the SQLite intake does. With several replicas the same webhook may reach two
 * at once: the insert's ON CONFLICT (webhook id, or event id) makes the second wait for the
 * first's commit and then find it, so it is stored and enqueued once and both answer 2xx. Were
 * the first to roll back, the second stores it.
 *
 * serve stores webhooks a group at a time (pg-intake-batch.ts); this is the way of one webhook
 * alone, which that takes when a group's statement fails, so that only a webhook whose write
 * fails again is refused.
 *
 * One statement, one round trip: a group commit runs its webhooks one after another on one
 * connection, so its time was its round trips (bench/stages/postgres-intake.ts). The deliveries
 * are inserted only when the inbox row was (the `stored` CTE), per target unless the report
 * already has one there, as enqueueDeliveryPg does; the audit rows and wakes are the same.
 */
export function recordWebhookPg(pool: Pool, event: InboxEvent, now: number, targets: readonly string[] = [FIRST_TARGET]): Promise<RecordOutcome> {
  return inTransaction(pool, async (tx) => {
    const report = event.report;
    const enqueue = report ? targets : [];
    const { rows } = await tx.client.query<{ stored: boolean; added: string[] }>(RECORD_WEBHOOK, [
      event.webhookId, event.eventId, event.type, now, event.bodySha256, report?.reportId ?? null, report?.studyId ?? null, report?.presignedUrl ?? null,
      enqueue.map((target) => deliveryId(target, report!.reportId)), enqueue, report?.isCritical ?? false,
    ]);
    if (!rows[0]!.stored) return 'duplicate';
    if (report) {
      const { reportId, studyId } = report;
      appendAuditEventPg(tx, receivedAudit(event, reportId, now));
      const added = new Set(rows[0]!.added);
      // Audited in the order of DELIVERY_TARGETS, as SQLite does (RETURNING promises no order).
      for (const target of targets.filter((t) => added.has(t))) {
        appendAuditEventPg(tx, enqueuedAudit(target, reportId, studyId, now));
        wakeOnCommit(tx, `deliveries.${target}`);
      }
    }
    return 'stored';
  });
}

/** A stored webhook's audit row (the group path, pg-intake-batch.ts, writes the same). */
export function receivedAudit(event: InboxEvent, reportId: string, now: number): AuditEventInput {
  return { reportId, event: 'received', at: now, detail: { webhookId: event.webhookId, eventId: event.eventId, type: event.type } };
}

/** The audit row of a delivery a webhook enqueued. */
export function enqueuedAudit(target: string, reportId: string, studyId: string, now: number): AuditEventInput {
  return { reportId, event: 'enqueued', at: now, detail: { target, source: 'webhook', studyId } };
}

// The columns are those of schema.ts (inbox, deliveries); the others keep their defaults.
const RECORD_WEBHOOK = `
WITH stored AS (
  INSERT INTO inbox (webhook_id, event_id, type, received_at, body_sha256, report_id, study_id, presigned_url)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT DO NOTHING
  RETURNING webhook_id
), added AS (
  INSERT INTO deliveries (id, report_id, target, study_id, state, next_attempt_at, is_critical, source, created_at, updated_at)
  SELECT queued.id, $6::text, queued.target, $7::text, 'queued', $4::bigint, $11::boolean, 'webhook', $4::bigint, $4::bigint
  FROM unnest($9::text[], $10::text[]) AS queued (id, target)
  WHERE EXISTS (SELECT 1 FROM stored)
  ON CONFLICT DO NOTHING
  RETURNING target
)
SELECT EXISTS (SELECT 1 FROM stored) AS stored, ARRAY(SELECT target FROM added) AS added`;

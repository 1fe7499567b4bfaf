import type { Pool } from 'pg';
import pg from 'pg';
import { deliveryId } from '../deliveries.ts';
import type { InboxEvent, RecordOutcome } from '../inbox.ts';
import { appendLinkedRowsSql, auditRowToLink } from './pg-audit.ts';
import { enqueuedAudit, receivedAudit } from './pg-intake.ts';
import { deliveriesWakeName, JOBS_CHANNEL } from './pg-notify.ts';
import { transactionInOneRoundTrip } from './pg-transaction.ts';

// Webhooks that arrive together are stored by one query string, BEGIN to COMMIT: their inbox
// rows, their deliveries, their audit rows linked to the chain, the wakes. A group written one
// statement per webhook was a chain of round trips (BEGIN, one per webhook, the closing string),
// and under load each round trip waits for serve's event loop and for a core: at 10 connections
// a group took 10-14 ms for 4 webhooks. What the per-webhook path (recordWebhookPg) decides, the
// statement decides in SQL the same way: a webhook-id or event id already stored is a duplicate,
// a report's delivery per target is enqueued unless one exists, and the audit rows are those of
// what was written, in the same order.

export interface PgIntakeBatcher {
  /** Settles once the webhook's transaction has committed (or failed). */
  record(event: InboxEvent, now: number, targets: readonly string[]): Promise<RecordOutcome>;
}

/** The per-webhook path, each write rolled back alone when it fails (pg-group-commit.ts). */
export type RecordOneWebhook = (event: InboxEvent, now: number, targets: readonly string[]) => Promise<RecordOutcome>;

interface Waiting {
  event: InboxEvent;
  now: number;
  targets: readonly string[];
  resolve: (outcome: RecordOutcome) => void;
  reject: (error: unknown) => void;
}

export interface PgIntakeBatchOptions {
  maxGroup?: number;
  /** Groups whose query strings may be in flight at once (each on its own connection). */
  maxInFlight?: number;
}

export function createPgIntakeBatcher(pool: Pool, recordOne: RecordOneWebhook, options: PgIntakeBatchOptions = {}): PgIntakeBatcher {
  const maxGroup = options.maxGroup ?? 64;
  const maxInFlight = options.maxInFlight ?? 4;
  let waiting: Waiting[] = [];
  let inFlight = 0;
  let scheduled = false;

  function pump(): void {
    if (scheduled || inFlight >= maxInFlight || waiting.length === 0) return;
    scheduled = true;
    // After the event loop has read what else has arrived.
    setImmediate(() => {
      scheduled = false;
      while (inFlight < maxInFlight && waiting.length > 0) {
        const group = takeGroup();
        if (group.length === 0) break;
        void runGroup(group);
      }
    });
  }

  // One statement decides each webhook by the rows it returns, so no two webhooks sharing a
  // webhook-id, an event id or a report are in one group, nor in two groups in flight at once:
  // the later one waits until the earlier one's group has committed, then finds its rows, as the
  // per-webhook path would. Keys of the groups in flight:
  const busy = new Set<string>();

  function takeGroup(): Waiting[] {
    const group: Waiting[] = [];
    const rest: Waiting[] = [];
    // Keys of webhooks left waiting: a later arrival sharing one waits behind them, so webhooks
    // sharing a key are stored in the order they arrived.
    const behind = new Set<string>();
    for (const item of waiting) {
      const own = keysOf(item.event);
      if (group.length >= maxGroup || own.some((key) => busy.has(key) || behind.has(key))) {
        rest.push(item);
        for (const key of own) behind.add(key);
        continue;
      }
      for (const key of own) busy.add(key);
      group.push(item);
    }
    waiting = rest;
    // In webhook-id order, as the group commit orders its writes: two replicas' groups holding
    // the same webhooks take their rows in the same order.
    return group.sort((x, y) => (x.event.webhookId < y.event.webhookId ? -1 : x.event.webhookId > y.event.webhookId ? 1 : 0));
  }

  async function runGroup(group: Waiting[]): Promise<void> {
    inFlight += 1;
    try {
      const outcomes = await recordGroup(pool, group);
      group.forEach((item, index) => item.resolve(outcomes[index]!));
    } catch {
      // Nothing of the group was committed. One webhook's value the statement refused, a
      // deadlock with another replica, or a lost connection: each webhook goes the per-webhook
      // way, where only a write that fails again is refused (and a database that is gone is
      // found gone again).
      for (const item of group) recordOne(item.event, item.now, item.targets).then(item.resolve, item.reject);
    } finally {
      for (const item of group) for (const key of keysOf(item.event)) busy.delete(key);
      inFlight -= 1;
      pump();
    }
  }

  return {
    record(event, now, targets) {
      return new Promise<RecordOutcome>((resolve, reject) => {
        waiting.push({ event, now, targets, resolve, reject });
        pump();
      });
    },
  };
}

function keysOf({ webhookId, eventId, report }: InboxEvent): string[] {
  return [`w:${webhookId}`, `e:${eventId}`, ...(report ? [`r:${report.reportId}`] : [])];
}

/** The group's transaction in one round trip; each webhook's outcome in the group's order. */
async function recordGroup(pool: Pool, group: readonly Waiting[]): Promise<RecordOutcome[]> {
  const inputs = group.map(({ event, now, targets }, index) => {
    const enqueue = event.report ? targets : [];
    return {
      ord: index, webhook_id: event.webhookId, event_id: event.eventId, type: event.type, received_at: now, body_sha256: event.bodySha256,
      report_id: event.report?.reportId ?? null, study_id: event.report?.studyId ?? null, presigned_url: event.report?.presignedUrl ?? null,
      is_critical: event.report?.isCritical ?? false, delivery_ids: enqueue.map((target) => deliveryId(target, event.report!.reportId)), targets: enqueue,
    };
  });
  // Every audit row the group could write, in chain order; the statement keeps those of the
  // webhooks it stored (received) and of the deliveries it added (enqueued).
  const candidates = group.flatMap(({ event, now, targets }) => {
    const report = event.report;
    if (!report) return [];
    const { reportId, studyId } = report;
    return [
      { webhook_id: event.webhookId, delivery_id: null, ...auditRowToLink(receivedAudit(event, reportId, now), 0) },
      ...targets.map((target) => ({ webhook_id: event.webhookId, delivery_id: deliveryId(target, reportId), ...auditRowToLink(enqueuedAudit(target, reportId, studyId, now), 0) })),
    ];
  }).map((row, index) => ({ ...row, ord: index }));
  const targets = [...new Set(group.flatMap((item) => (item.event.report ? item.targets : [])))];
  const wakes = targets.map((target) => ({ target, wake: deliveriesWakeName(target) }));
  const literal = (value: unknown) => dollarQuoted(JSON.stringify(value));
  const values: Record<string, string> = {
    inputs: literal(inputs), candidates: literal(candidates), wakes: literal(wakes),
    channel: pg.escapeLiteral(JOBS_CHANNEL), setting: pg.escapeLiteral(AUDIT_SETTING),
  };
  // One pass, with a function: the values are never scanned again for a placeholder, nor for
  // String.replace's own patterns ($&, $'), whatever a webhook's ids hold.
  const write = RECORD_GROUP.replace(/\$(inputs|candidates|wakes|channel|setting)\b/g, (_, name: string) => values[name]!);
  const results = await transactionInOneRoundTrip(pool, [write, appendLinkedRowsSql(`current_setting(${pg.escapeLiteral(AUDIT_SETTING)})`)]);
  // results[0] is BEGIN's.
  const stored = new Set((results[1]!.rows[0] as { stored: string[] }).stored);
  return group.map((item) => (stored.has(item.event.webhookId) ? 'stored' : 'duplicate'));
}

/**
 * `text` as an SQL string constant taken as it is (dollar quoting): no character is escaped,
 * so nothing is copied a character at a time (pg.escapeLiteral was a tenth of the intake's own
 * CPU), and JSON's backslash escapes reach the JSON parser untouched. The tag is one the text
 * does not hold.
 */
export function dollarQuoted(text: string): string {
  let tag = '$afs$';
  for (let n = 0; text.includes(tag); n++) tag = `$afs${n}$`;
  return `${tag}${text}${tag}`;
}

// Carries the audit rows to link from the writing statement to the appending one (a setting
// local to the transaction): the append takes the chain's lock first, and only a statement
// started after the lock was granted sees the previous appender's committed head.
const AUDIT_SETTING = 'avara_fhir_sync.intake_audit';

// The columns are those of schema.ts (inbox, deliveries), as in pg-intake.ts. `stored` and
// `added` are the rows this statement inserted (RETURNING): a conflicting row, committed or
// being written by another replica (the insert waits for its outcome), is not among them.
const RECORD_GROUP = `
WITH input AS (
  SELECT * FROM json_to_recordset($inputs::json) AS i (
    ord int, webhook_id text, event_id text, type text, received_at bigint, body_sha256 text, report_id text, study_id text,
    presigned_url text, is_critical boolean, delivery_ids text[], targets text[])
), stored AS (
  INSERT INTO inbox (webhook_id, event_id, type, received_at, body_sha256, report_id, study_id, presigned_url)
  SELECT webhook_id, event_id, type, received_at, body_sha256, report_id, study_id, presigned_url FROM input ORDER BY ord
  ON CONFLICT DO NOTHING
  RETURNING webhook_id
), added AS (
  INSERT INTO deliveries (id, report_id, target, study_id, state, next_attempt_at, is_critical, source, created_at, updated_at)
  SELECT queued.id, input.report_id, queued.target, input.study_id, 'queued', input.received_at, input.is_critical, 'webhook', input.received_at, input.received_at
  FROM input JOIN stored ON stored.webhook_id = input.webhook_id
  CROSS JOIN LATERAL unnest(input.delivery_ids, input.targets) AS queued (id, target)
  ORDER BY input.ord
  ON CONFLICT DO NOTHING
  RETURNING id, target
), audited AS (
  SELECT row_number() OVER (ORDER BY c.ord) AS ord, c.at, c.report_id, c.event, c.detail, c.rest
  FROM json_to_recordset($candidates::json) AS c (ord int, webhook_id text, delivery_id text, at bigint, report_id text, event text, detail text, rest text)
  WHERE CASE WHEN c.delivery_id IS NULL THEN c.webhook_id IN (SELECT webhook_id FROM stored) ELSE c.delivery_id IN (SELECT id FROM added) END
)
SELECT
  ARRAY(SELECT webhook_id FROM stored) AS stored,
  set_config($setting, coalesce((SELECT json_agg(audited ORDER BY audited.ord) FROM audited)::text, '[]'), true) AS audit,
  (SELECT count(pg_notify($channel, w.wake)) FROM json_to_recordset($wakes::json) AS w (target text, wake text)
   WHERE w.target IN (SELECT target FROM added)) AS woken`;

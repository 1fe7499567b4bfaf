import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, json, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { DELIVERY_STATES, ORDER_STATES } from '../schema.ts';

// The PostgreSQL twin of ../schema.ts: same tables, columns, defaults, keys and indexes.
//
// Two explicit drizzle files, held in step by test/pg-schema-in-step.test.ts (every table and
// column compared by name, nullability, default, primary key, uniques and indexes), rather than
// one dialect-neutral definition generating both: ../schema.ts is what every consumer's query
// types come from and what drizzle-kit diffs the shipped SQLite migrations against, and a generic
// builder would blur SQLiteColumn and PgColumn into one type and put indirection between each
// file and the SQL it generates. Drift cannot pass unseen: the test names the differing column.
//
// Times are unix milliseconds as bigint (read back as JS numbers: every time fits 2^53).

export const inbox = pgTable(
  'inbox',
  {
    webhookId: text('webhook_id').primaryKey(),
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    receivedAt: bigint('received_at', { mode: 'number' }).notNull(),
    bodySha256: text('body_sha256').notNull(),
    reportId: text('report_id'),
    studyId: text('study_id'),
    presignedUrl: text('presigned_url'),
  },
  (t) => [
    uniqueIndex('inbox_event_id').on(t.eventId),
    index('inbox_received_at').on(t.receivedAt),
    index('inbox_report_id').on(t.reportId),
  ],
);

function queuedJobColumns() {
  return {
    attempts: integer('attempts').notNull().default(0),
    leaseToken: text('lease_token'),
    leaseExpiresAt: bigint('lease_expires_at', { mode: 'number' }),
    nextAttemptAt: bigint('next_attempt_at', { mode: 'number' }).notNull(),
    lastErrorCode: text('last_error_code'),
    lastErrorMessage: text('last_error_message'),
    leaseExpiries: integer('lease_expiries').notNull().default(0),
  };
}

export const deliveries = pgTable(
  'deliveries',
  {
    id: text('id').primaryKey(),
    reportId: text('report_id').notNull(),
    target: text('target').notNull(),
    studyId: text('study_id').notNull(),
    state: text('state', { enum: DELIVERY_STATES }).notNull(),
    ...queuedJobColumns(),
    fhirRefs: jsonb('fhir_refs').$type<Record<string, string>>(),
    contentHash: text('content_hash'),
    isCritical: boolean('is_critical').notNull().default(false),
    source: text('source').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
    deliveredAt: bigint('delivered_at', { mode: 'number' }),
    patientLabel: text('patient_label'),
    hl7ControlId: text('hl7_control_id'),
    hl7AckControlId: text('hl7_ack_control_id'),
    rejectionText: text('rejection_text'),
    mrnHash: text('mrn_hash'),
    accession: text('accession'),
    signedAt: bigint('signed_at', { mode: 'number' }),
    isAddendum: boolean('is_addendum'),
  },
  (t) => [
    uniqueIndex('deliveries_report_target').on(t.reportId, t.target),
    index('deliveries_claim').on(t.target, t.state, t.nextAttemptAt),
    index('deliveries_study').on(t.studyId),
    index('deliveries_created').on(t.createdAt, t.id),
    index('deliveries_delivered').on(t.deliveredAt),
    index('deliveries_mrn_hash').on(t.mrnHash),
    index('deliveries_accession').on(t.accession),
  ],
);

/** Lock rows with leases, as in SQLite (pg-locks.ts argues why not advisory locks). */
export const locks = pgTable('locks', {
  key: text('key').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
});

/**
 * Append-only (migration 0001's triggers) and hash-chained. `seq` is no identity: the appender
 * numbers rows under the chain's lock (pg-audit.ts), so it has no gaps, as in SQLite, where a
 * head's row count is read from it; a sequence would leave one per rolled-back transaction.
 * `detail` is `json`, not `jsonb`: jsonb reorders an object's keys, and the chain hashes the
 * detail as it was written; json keeps the text exactly, so what was hashed is what is stored.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    at: bigint('at', { mode: 'number' }).notNull(),
    reportId: text('report_id'),
    event: text('event').notNull(),
    detail: json('detail').$type<Record<string, unknown>>(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [index('audit_report').on(t.reportId, t.seq), index('audit_at').on(t.at)],
);

export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull().default(sql`((extract(epoch from now()) * 1000)::bigint)`),
});

export const polledStudies = pgTable('polled_studies', {
  studyId: text('study_id').primaryKey(),
  signature: text('signature').notNull(),
  demographicHashes: jsonb('demographic_hashes').$type<Record<string, string>>().notNull(),
  cancelledFlagged: boolean('cancelled_flagged').notNull().default(false),
  seenAt: bigint('seen_at', { mode: 'number' }).notNull(),
});

export const orders = pgTable(
  'orders',
  {
    imagingStudyId: text('imaging_study_id').primaryKey(),
    serviceRequestId: text('service_request_id'),
    patientId: text('patient_id'),
    studyInstanceUid: text('study_instance_uid'),
    avaraStudyId: text('avara_study_id'),
    viewerStudyId: text('viewer_study_id'),
    avaraCancelled: boolean('avara_cancelled').notNull().default(false),
    sentFieldHashes: jsonb('sent_field_hashes').$type<Record<string, string>>(),
    sourceVersions: jsonb('source_versions').$type<Record<string, string>>().notNull(),
    changeSeq: integer('change_seq').notNull().default(0),
    state: text('state', { enum: ORDER_STATES }).notNull(),
    ...queuedJobColumns(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
    syncedAt: bigint('synced_at', { mode: 'number' }),
  },
  (t) => [
    index('orders_claim').on(t.state, t.nextAttemptAt),
    index('orders_service_request').on(t.serviceRequestId),
    index('orders_patient').on(t.patientId),
  ],
);

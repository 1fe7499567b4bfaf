import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { DELIVERY_STATES, ORDER_STATES, type DeliveryState, type OrderState } from './store.ts';

// Times are unix milliseconds (integer): cheap to compare in claims and leases.

/** Received webhooks. Ids, type, time and a body hash only: never the report text. */
export const inbox = sqliteTable(
  'inbox',
  {
    webhookId: text('webhook_id').primaryKey(),
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    receivedAt: integer('received_at').notNull(),
    bodySha256: text('body_sha256').notNull(),
    reportId: text('report_id'),
    studyId: text('study_id'),
    // The presigned PDF link from report.delivered, kept only until the worker has used it.
    presignedUrl: text('presigned_url'),
  },
  (t) => [
    uniqueIndex('inbox_event_id').on(t.eventId),
    index('inbox_received_at').on(t.receivedAt),
    index('inbox_report_id').on(t.reportId),
  ],
);

export { DELIVERY_STATES, ORDER_STATES, type DeliveryState, type OrderState };

/** What every leased, retried job carries (report deliveries and orders alike). */
function queuedJobColumns() {
  return {
    attempts: integer('attempts').notNull().default(0),
    leaseToken: text('lease_token'),
    leaseExpiresAt: integer('lease_expires_at'),
    nextAttemptAt: integer('next_attempt_at').notNull(),
    lastErrorCode: text('last_error_code'),
    lastErrorMessage: text('last_error_message'),
    // How often a worker died (or hung) holding this job: past a cap it is dead-lettered.
    leaseExpiries: integer('lease_expiries').notNull().default(0),
  };
}

/**
 * One job per (Avara report, delivery target); the state machine of design.md "Delivery states".
 * `id` is `<target>:<reportId>`: the one key the leased-job queue fences on.
 */
export const deliveries = sqliteTable(
  'deliveries',
  {
    id: text('id').primaryKey(),
    reportId: text('report_id').notNull(),
    target: text('target').notNull(),
    studyId: text('study_id').notNull(),
    state: text('state', { enum: DELIVERY_STATES }).notNull(),
    ...queuedJobColumns(),
    fhirRefs: text('fhir_refs', { mode: 'json' }).$type<Record<string, string>>(),
    contentHash: text('content_hash'),
    isCritical: integer('is_critical', { mode: 'boolean' }).notNull().default(false),
    source: text('source').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    deliveredAt: integer('delivered_at'),
    // Initials and the MRN's last characters only ("A.O. ···2913"), for the audit page: enough
    // for a person to tell deliveries apart, not enough to identify anyone. Never logged.
    patientLabel: text('patient_label'),
    // hl7v2: the control id of the message last sent (stable across resends of the same
    // content) and the ACK's own MSH-10 once accepted.
    hl7ControlId: text('hl7_control_id'),
    hl7AckControlId: text('hl7_ack_control_id'),
    // What a receiver said when it refused the content (AE/CE): shown to operators in the API
    // and on the page, never logged or exported (it may quote patient data).
    rejectionText: text('rejection_text'),
    // The audit page's search keys, recorded by the attempt that read the study. The MRN (or the
    // external patient id) only as an HMAC under a key kept in `settings`: an exact search can
    // match it, the database never holds it. The accession is an order number, not a person.
    mrnHash: text('mrn_hash'),
    accession: text('accession'),
    // Where the report stands in its study (signing order), for grouping: null until an attempt
    // has read the study's reports.
    signedAt: integer('signed_at'),
    isAddendum: integer('is_addendum', { mode: 'boolean' }),
  },
  (t) => [
    uniqueIndex('deliveries_report_target').on(t.reportId, t.target),
    index('deliveries_claim').on(t.target, t.state, t.nextAttemptAt),
    index('deliveries_study').on(t.studyId),
    // The API and the audit page page newest first by (created_at, id).
    index('deliveries_created').on(t.createdAt, t.id),
    index('deliveries_delivered').on(t.deliveredAt),
    index('deliveries_mrn_hash').on(t.mrnHash),
    index('deliveries_accession').on(t.accession),
  ],
);

/**
 * Cross-worker (and cross-process) mutual exclusion by study and by patient, so two reports of
 * one new patient can never race two conditional creates. A lock dies with its holder's lease.
 */
export const locks = sqliteTable('locks', {
  key: text('key').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: integer('expires_at').notNull(),
});

/** Append-only, hash-chained trail of every state change (triggers refuse UPDATE and DELETE). */
export const auditEvents = sqliteTable(
  'audit_events',
  {
    seq: integer('seq').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull(),
    reportId: text('report_id'),
    event: text('event').notNull(),
    detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [index('audit_report').on(t.reportId, t.seq), index('audit_at').on(t.at)],
);

/** Facts the database must keep across restarts, e.g. the identifier systems deliveries used. */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at').notNull().default(sql`(unixepoch() * 1000)`),
});

/**
 * What the reconciliation poller last saw of each completed study, so an unchanged study costs
 * nothing on the next sweep. Hashes only: the per-field demographic hashes let a correction be
 * recorded by field name without keeping any value.
 */
export const polledStudies = sqliteTable('polled_studies', {
  studyId: text('study_id').primaryKey(),
  signature: text('signature').notNull(),
  demographicHashes: text('demographic_hashes', { mode: 'json' }).$type<Record<string, string>>().notNull(),
  cancelledFlagged: integer('cancelled_flagged', { mode: 'boolean' }).notNull().default(false),
  seenAt: integer('seen_at').notNull(),
});

/**
 * One row per EHR order (keyed by its ImagingStudy's FHIR id) on its way to an Avara study:
 * the same lease, retry and dead-letter machinery as deliveries. Ids, versions and hashes only:
 * what was sent is kept as per-field hashes (enough to PATCH only what changed), never as the
 * patient's name, MRN or prior report texts.
 */
export const orders = sqliteTable(
  'orders',
  {
    imagingStudyId: text('imaging_study_id').primaryKey(),
    serviceRequestId: text('service_request_id'),
    patientId: text('patient_id'),
    studyInstanceUid: text('study_instance_uid'),
    avaraStudyId: text('avara_study_id'),
    viewerStudyId: text('viewer_study_id'),
    avaraCancelled: integer('avara_cancelled', { mode: 'boolean' }).notNull().default(false),
    sentFieldHashes: text('sent_field_hashes', { mode: 'json' }).$type<Record<string, string>>(),
    // FHIR versions seen per resource ("ImagingStudy/x" -> "3"): the sweep's overlap window sees
    // a resource again, and only a new version queues the order again.
    sourceVersions: text('source_versions', { mode: 'json' }).$type<Record<string, string>>().notNull(),
    // Bumped by every queued change; an attempt that started before a change ends queued, not synced.
    changeSeq: integer('change_seq').notNull().default(0),
    state: text('state', { enum: ORDER_STATES }).notNull(),
    ...queuedJobColumns(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    syncedAt: integer('synced_at'),
  },
  (t) => [
    index('orders_claim').on(t.state, t.nextAttemptAt),
    index('orders_service_request').on(t.serviceRequestId),
    index('orders_patient').on(t.patientId),
  ],
);

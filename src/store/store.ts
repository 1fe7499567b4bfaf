import type { JobFailure, JobLease, JobQueue } from '../queue/job-queue.ts';
import type { ChainVerdict, ExpectedHead } from './audit-chain.ts';
import type { OperatorAction } from './operator-action.ts';

// The one store interface (design.md "Several replicas: PostgreSQL"): what every consumer may ask
// of the database, in domain words. SQLite (embedded, one process) and PostgreSQL (any number of
// replicas) implement it; consumers import this file and open-store-from-config.ts only, never
// drizzle, SQL or a database handle.
//
// Every method returns a Promise and is ONE transaction: a networked database implements each
// faithfully, and nothing a consumer does spans two of them atomically. Where a flow needs several
// writes committed together (a webhook and its deliveries, an attempt's outcome and its locks, a
// polled study's enqueues and flags), it is one method here. Every write to a leased job is fenced
// on the lease token inside that transaction; a consumer never checks a lease and then writes.
// Times are unix milliseconds.

export const DELIVERY_STATES = ['queued', 'in_progress', 'delivered', 'skipped', 'failed', 'dead'] as const;

/**
 * What a person's retry takes back to the queue. A skipped delivery too: its study was cancelled
 * or external when it ran, and a study reinstated in Avara leaves the report's delivery skipped
 * for good otherwise (a new webhook for the report finds its delivery and enqueues nothing).
 * Retried, the attempt asks the policy again: still cancelled, it is skipped again.
 */
export const RETRYABLE_STATES: readonly DeliveryState[] = ['failed', 'dead', 'skipped'];
export type DeliveryState = (typeof DELIVERY_STATES)[number];
/** Deliveries not finished yet: waiting, running, or failed and due again. */
export const WAITING_STATES: DeliveryState[] = ['queued', 'in_progress', 'failed'];

export const ORDER_STATES = ['queued', 'in_progress', 'synced', 'failed', 'dead'] as const;
export type OrderState = (typeof ORDER_STATES)[number];

/** Every report was delivered to this one target before targets existed (migration 0007). */
export const FIRST_TARGET = 'fhir';

/** Settings keys the poller writes and the metrics and status read. */
export const POLL_CURSOR_KEY = 'poll.cursor';
export const POLL_LAST_SUCCESS_KEY = 'poll.last_success_at';
// The latest history cutoff a study's signature was saved under, and the cutoff of a revisit in
// progress (deliveries/poll-cutoff-state.ts).
export const POLL_CUTOFF_KEY = 'poll.cutoff_at';
export const POLL_REVISIT_KEY = 'poll.revisit_cutoff_at';
/** Unix ms of the database's first start: the poller leaves reports signed before it to `backfill`. */
export const FIRST_STARTED_KEY = 'first_started_at';

// Pure pieces both stores and their consumers share: who acted and why, and the audit chain's walk.
export { MAX_REASON_CHARS, readReason, type OperatorAction } from './operator-action.ts';
export { GENESIS, MIN_HEAD_PREFIX_HEX, parseExpectedHead, walkAuditChain, type ChainRow, type ChainVerdict, type ExpectedHead } from './audit-chain.ts';
export { hashMrn } from './mrn-hash-function.ts';

// ---------------------------------------------------------------------------------------------
// Rows as consumers see them

/** The columns of every leased, retried job (deliveries and orders alike). */
export interface JobColumns {
  attempts: number;
  leaseToken: string | null;
  leaseExpiresAt: number | null;
  nextAttemptAt: number;
  lastErrorCode: string | null;
  lastErrorMessage: string | null;
  /** How often a worker died (or hung) holding this job: past a cap it is dead-lettered. */
  leaseExpiries: number;
}

/** One job per (Avara report, delivery target); `id` is `<target>:<reportId>`. */
export interface Delivery extends JobColumns {
  id: string;
  reportId: string;
  target: string;
  studyId: string;
  state: DeliveryState;
  fhirRefs: Record<string, string> | null;
  contentHash: string | null;
  isCritical: boolean;
  source: string;
  createdAt: number;
  updatedAt: number;
  deliveredAt: number | null;
  /** Initials and the MRN's last characters only, for the audit page; never logged. */
  patientLabel: string | null;
  hl7ControlId: string | null;
  hl7AckControlId: string | null;
  /** What an HL7 receiver said when it refused the content: operators only, never logged or exported. */
  rejectionText: string | null;
  /** The audit page's search keys: the MRN only as an HMAC (settings.mrnHashKey), the accession as it is. */
  mrnHash: string | null;
  accession: string | null;
  /** Where the report stands in its study (signing order); null until an attempt read the study. */
  signedAt: number | null;
  isAddendum: boolean | null;
}

/** One EHR order (keyed by its ImagingStudy's FHIR id) on its way to an Avara study. */
export interface Order extends JobColumns {
  imagingStudyId: string;
  serviceRequestId: string | null;
  patientId: string | null;
  studyInstanceUid: string | null;
  avaraStudyId: string | null;
  viewerStudyId: string | null;
  avaraCancelled: boolean;
  sentFieldHashes: Record<string, string> | null;
  sourceVersions: Record<string, string>;
  changeSeq: number;
  state: OrderState;
  createdAt: number;
  updatedAt: number;
  syncedAt: number | null;
}

export type AuditEventName =
  | 'received'
  | 'enqueued'
  | 'duplicate_ignored'
  | 'attempt_started'
  | 'attempt_failed'
  | 'delivered'
  | 'skipped'
  | 'dead'
  | 'released'
  | 'lease_expired'
  | 'retried'
  | 'replayed'
  // hl7v2: a message went out (control id and type), and a delivery found its content already accepted.
  | 'hl7_sent'
  | 'text_missing'
  | 'study_cancelled_after_delivery'
  | 'demographics_changed'
  // Orders (EHR -> Avara): reportId is null; detail.order is the ImagingStudy's FHIR id.
  | 'order_enqueued'
  | 'order_attempt_started'
  | 'order_study_created'
  | 'order_study_adopted'
  | 'order_study_updated'
  | 'order_study_cancelled'
  | 'order_study_uncancelled'
  | 'order_viewer_created'
  | 'order_viewer_adopted'
  | 'order_synced'
  | 'order_attempt_failed'
  | 'order_dead'
  | 'order_released'
  | 'order_lease_expired'
  | 'order_retried'
  // Synchronous webhooks answered from the EHR: reportId is null; detail has type, outcome, ms, ids and counts.
  | 'sync_webhook_answered';

/** Ids, codes and field names only: never patient data or report text. */
export interface AuditEventInput {
  reportId: string | null;
  event: AuditEventName;
  at: number;
  detail?: Record<string, unknown>;
}

/** A row of the append-only, hash-chained audit trail. */
export interface AuditEvent extends AuditEventInput {
  seq: number;
  prevHash: string;
  hash: string;
}

/** What the reconciliation poller last saw of a completed study (hashes only). */
export interface PolledStudy {
  studyId: string;
  signature: string;
  demographicHashes: Record<string, string>;
  cancelledFlagged: boolean;
  seenAt: number;
}

// ---------------------------------------------------------------------------------------------
// Inputs and answers

export interface InboxEvent {
  webhookId: string;
  eventId: string;
  type: string;
  bodySha256: string;
  report?: { reportId: string; studyId: string; isCritical: boolean; presignedUrl: string };
}

export type RecordOutcome = 'stored' | 'duplicate';

export interface EnqueueInput {
  reportId: string;
  studyId: string;
  source: 'webhook' | 'poll' | 'backfill' | 'cli';
  isCritical?: boolean;
  /** DELIVERY_TARGETS: one delivery each, in the same transaction (the first target when absent). */
  targets?: readonly string[];
  /** Who asked for it (backfill, a CLI enqueue): recorded on the `enqueued` audit row. */
  action?: OperatorAction;
}

export interface DeliveryCursor {
  createdAt: number;
  /** The delivery's id (`<target>:<reportId>`): a report has one row per target. */
  id: string;
}

export interface DeliveryFilter {
  states?: DeliveryState[];
  /** createdAt range: from inclusive, to exclusive. */
  from?: number;
  to?: number;
  critical?: boolean;
  target?: string;
  limit: number;
  cursor?: DeliveryCursor;
}

export interface DeliveryPage {
  items: Delivery[];
  /** An opaque cursor (encodeCursor) for the next page, or null on the last. */
  nextCursor: string | null;
}

export type RequeueResult = 'requeued' | 'not_found' | 'not_retryable';
export type DeliveryCounts = Record<DeliveryState, number>;

export interface HourlyCount {
  /** Start of the hour. */
  hourStart: number;
  delivered: number;
  failed: number;
}

export interface DeliverySummary {
  counts: DeliveryCounts;
  /** createdAt of the oldest delivery not yet finished (WAITING_STATES). */
  oldestWaitingCreatedAt: number | null;
  lastDeliveredAt: number | null;
  /** The last 24 hours, oldest first; the last bucket is the current (partial) hour; from the audit trail. */
  hourly: HourlyCount[];
}

export type DeliverySearch = { by: 'report' | 'study' | 'accession'; value: string } | { by: 'mrn'; mrnHash: string };

export interface StudyGroup {
  studyId: string;
  deliveries: Delivery[];
}

export interface DeliveryGroupPage {
  groups: StudyGroup[];
  nextCursor: string | null;
}

export type DeliveredRow = Pick<Delivery, 'reportId' | 'fhirRefs' | 'contentHash' | 'hl7ControlId' | 'state'>;

/** One sweep's sighting of a completed study, as reconcile() needs it (computed by the poller). */
export interface StudySighting {
  studyId: string;
  /** Everything the poller acts on, hashed: equal to the last sighting means nothing to do. */
  signature: string;
  /** One hash per demographic field: a later correction is recorded by field name only. */
  demographicHashes: Record<string, string>;
  isCancelled: boolean;
  /** The completed reports the sweep may enqueue (history before the cutoff left out). */
  completedReports: { reportId: string; isCritical: boolean }[];
}

export interface ReconcileResult {
  changed: boolean;
  /** Report ids that got at least one new delivery. */
  enqueued: string[];
}

export interface OrderChange {
  imagingStudyId: string;
  /** The resource whose new version queues the order: "ImagingStudy/x", "Patient/y", ... */
  resource: string;
  version: string;
  source: 'sweep' | 'cli';
  /** `orders sync`: the person who asked, recorded with the change. */
  action?: OperatorAction;
}

export interface OrderErrorRow {
  imagingStudyId: string;
  state: OrderState;
  attempts: number;
  code: string;
  message: string;
  updatedAt: number;
}

export interface StoreHealth {
  /** Every shipped migration applied (false when closed or unreachable). */
  migrated: boolean;
  /**
   * A write was taken and rolled back (a write lock held by another writer still counts as
   * writable); 'unreachable': the database server could not be asked (down, restarting).
   */
  writable: 'writable' | 'not_writable' | 'closed' | 'unreachable';
  /** With 'unreachable': why, as a code only (ECONNREFUSED, 57P01), never a message or a URL. */
  error?: string;
}

/**
 * Work committed by any process sharing the database (this one included) that is due now. A wake
 * may be missed while the connection is lost; after reconnecting every subscriber is woken once.
 */
export interface WorkWakes {
  onDeliveries(target: string, wake: () => void): void;
  onOrders(wake: () => void): void;
  /** Settles once listening (rejects if the first connection failed; it keeps trying). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export interface WorkWakesOptions {
  /** The listening connection was lost or could not be made: a code only (never a URL or password). */
  onLost?(code: string): void;
  /** Listening again after it was lost. */
  onReconnected?(): void;
  /** Wait before reconnecting. */
  reconnectMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Leased jobs

/** Proof of ownership of an in-progress delivery; every later write is fenced by its token. */
export interface Lease extends JobLease {
  reportId: string;
  studyId: string;
  target: string;
}

/** Ownership of an order attempt; every write of the attempt is fenced by its token. */
export interface OrderLease extends JobLease {
  imagingStudyId: string;
  changeSeq: number;
}

/**
 * How a delivery attempt ends when it ends well (failures go through fail/dead/release). The
 * delivered endings also forget the report's webhook PDF links (they carry a storage token).
 */
export type DeliveryEnding =
  | { kind: 'delivered'; refs: Record<string, string>; contentHash: string; detail?: Record<string, unknown> }
  /** hl7v2: accepted (AA/CA), or already accepted with the same content (ackControlId undefined: nothing sent). */
  | { kind: 'hl7_delivered'; controlId: string; ackControlId: string | undefined; contentHash: string; detail?: Record<string, unknown> }
  /** hl7v2: refused (AE/CE): dead, its text kept on the row for operators and never audited. */
  | { kind: 'hl7_rejected'; controlId: string; text: string }
  | { kind: 'skipped'; code: string; message: string };

/** An order attempt that synced; a change noted while it ran queues the order again instead. */
export type OrderEnding = { kind: 'synced'; detail: Record<string, unknown> };

export type DeliveryQueue = JobQueue<Lease, AuditEventName, DeliveryEnding>;
export type OrderQueue = JobQueue<OrderLease, AuditEventName, OrderEnding>;
export type { JobFailure, JobLease, JobQueue };

// ---------------------------------------------------------------------------------------------
// The store

export interface IntakeStore {
  /**
   * Stores a verified webhook and, for report.delivered, enqueues one delivery per target: one
   * transaction, durable before it resolves (the sender gets its 2xx after). A webhook-id or
   * event id seen before is 'duplicate', stored once. SQLite commits webhooks that arrive
   * together in one transaction (group commit), each still all or nothing.
   */
  recordWebhook(event: InboxEvent, now: number, targets: readonly string[]): Promise<RecordOutcome>;
  /** The newest presigned PDF link a webhook brought for this report, with when it arrived. */
  findPdfLink(reportId: string): Promise<{ url: string; receivedAt: number } | undefined>;
  /** Seen ids are kept for at least `keepMs` (senders retry for days), then pruned; returns how many. */
  prune(now: number, keepMs: number): Promise<number>;
  count(): Promise<number>;
}

export interface DeliveriesStore {
  get(reportId: string, target?: string): Promise<Delivery | undefined>;
  /** Every target's delivery of the report. */
  ofReport(reportId: string): Promise<Delivery[]>;
  /** Newest first, keyset-paged on (createdAt, id). */
  list(filter: DeliveryFilter): Promise<DeliveryPage>;
  /** Inserts a queued delivery per target unless the report has one there (audited); whether any was new. */
  enqueue(input: EnqueueInput, now: number): Promise<boolean>;
  countByState(target?: string): Promise<DeliveryCounts>;
  /** Counts by target and state; the given targets always appear, with zeros. */
  countByTarget(targets?: readonly string[]): Promise<Record<string, DeliveryCounts>>;
  oldestWaitingCreatedAt(): Promise<number | null>;
  lastDeliveredAt(): Promise<number | null>;
  summarize(now: number): Promise<DeliverySummary>;
  /** The audit page: studies newest first, each with its matching deliveries in signing order. */
  listGroups(filter: DeliveryFilter & { search?: DeliverySearch }): Promise<DeliveryGroupPage>;
  /** A person's retry: failed, dead or skipped back to the queue with fresh attempts (audited `retried` with who and why). */
  requeue(reportId: string, now: number, action: OperatorAction, target?: string): Promise<RequeueResult>;
  /** Delivers a delivered report again (audited `replayed`); every target is idempotent. */
  replay(reportId: string, now: number, action: OperatorAction, target?: string): Promise<RequeueResult>;
  /** Every dead delivery of every target back to the queue; how many. */
  requeueDead(now: number, action: OperatorAction): Promise<number>;
  /** The study's deliveries to `target` that reached it at least once (delivered_at kept through a replay). */
  deliveredRowsOfStudy(studyId: string, target: string): Promise<DeliveredRow[]>;
  /** Whether a delivery of the study to `target` is in state delivered. */
  isStudyDelivered(studyId: string, target: string): Promise<boolean>;
  /** The study's deliveries to `target` still waiting or running (queued, in_progress, failed). */
  pendingOfStudy(studyId: string, target: string): Promise<{ reportId: string }[]>;
}

export interface AuditStore {
  /** Appends one row to the chain (its own transaction). */
  append(event: AuditEventInput): Promise<void>;
  /** A report's rows, oldest first. */
  ofReport(reportId: string): Promise<AuditEvent[]>;
  /** An order's rows (reportId null, detail.order the ImagingStudy id), oldest first. */
  ofOrder(imagingStudyId: string): Promise<AuditEvent[]>;
  count(reportId: string, event: AuditEventName): Promise<number>;
  /** Walks the whole chain; names the first row whose hash or link does not match, and the head (checked against `expect`). */
  verify(expect?: ExpectedHead): Promise<ChainVerdict>;
  /** The newest row's seq and hash; undefined while the trail is empty. */
  chainEnd(): Promise<{ seq: number; hash: string } | undefined>;
  hashAt(seq: number): Promise<string | undefined>;
  /** Rows with `afterSeq < seq <= throughSeq`. */
  countRows(afterSeq: number, throughSeq: number): Promise<number>;
  /** Rows at or after `sinceMs` in chain order, read in pages (an export of years stays small). */
  iterate(sinceMs: number): AsyncIterable<AuditEvent>;
}

export interface OrdersStore {
  get(imagingStudyId: string): Promise<Order | undefined>;
  /**
   * Queues the order unless this version of the resource was already seen; a new version gives
   * a dead order fresh attempts, and a running one ends queued. Whether it was queued.
   */
  noteChange(change: OrderChange, now: number): Promise<boolean>;
  /** Orders that read `reference` ("ServiceRequest/x" or "Patient/y"). */
  reading(reference: string): Promise<string[]>;
  countByState(): Promise<Record<OrderState, number>>;
  /** The most recently failed or dead orders with their error. */
  recentErrors(limit?: number): Promise<OrderErrorRow[]>;
  /** A person's retry: failed and dead orders (or one) back to the queue; how many. */
  requeue(now: number, action: OperatorAction, imagingStudyId?: string): Promise<number>;
}

export interface PolledStudiesStore {
  get(studyId: string): Promise<PolledStudy | undefined>;
  /**
   * One study seen by a sweep, in one transaction: unchanged signature does nothing (unless
   * `revisit`); otherwise every listed report without a delivery is enqueued (per target), a
   * cancellation or a demographic change after a delivery is audited once (field names only),
   * and the sighting kept. `changed` is whether the signature differed.
   */
  reconcile(sighting: StudySighting, source: EnqueueInput['source'], now: number, targets: readonly string[], options?: { revisit?: boolean }): Promise<ReconcileResult>;
  count(): Promise<number>;
  countCancelledAfterDelivery(): Promise<number>;
}

export interface SettingsStore {
  read(key: string): Promise<string | undefined>;
  /** undefined deletes the key. */
  write(key: string, value: string | undefined, now: number): Promise<void>;
  /**
   * Conditional writes match on identifier systems: refuses (IdentifierSystemsChangedError) when
   * they differ from those recorded, unless `acceptChange`; then records them.
   */
  checkIdentifierSystems(systems: Record<string, string>, acceptChange: boolean, now: number): Promise<void>;
  /** The recorded first start, else what the first migrating open would record now. */
  firstStart(now: number): Promise<number>;
  /** The per-database key MRNs are hashed under (hashMrn), created on first use. */
  mrnHashKey(): Promise<Buffer>;
}

/** Named mutual exclusion across processes (sweeps, backfill): a lock is free once its expiry passed. */
export interface LocksStore {
  /** All of `keys` for `holder`, or none. */
  tryAcquire(keys: string[], holder: string, expiresAt: number, now: number): Promise<boolean>;
  extend(holder: string, expiresAt: number): Promise<void>;
  release(holder: string): Promise<void>;
  read(key: string): Promise<{ holder: string; expiresAt: number } | undefined>;
  /** Moves `key` from `from` (a holder known dead) to `to`; false when someone else holds it now. */
  takeOver(key: string, from: string, to: string, expiresAt: number): Promise<boolean>;
}

export interface Store {
  readonly intake: IntakeStore;
  readonly deliveries: DeliveriesStore;
  readonly audit: AuditStore;
  readonly orders: OrdersStore;
  readonly polledStudies: PolledStudiesStore;
  readonly settings: SettingsStore;
  readonly locks: LocksStore;
  /** One target's deliveries on the leased-job queue (each target has its own loop). */
  deliveryQueue(target: string): DeliveryQueue;
  orderQueue(): OrderQueue;
  /** For /readyz and doctor. */
  health(): Promise<StoreHealth>;
  /**
   * Wakes for work other processes commit to this database (PostgreSQL replicas: LISTEN/NOTIFY),
   * on a connection of its own. Absent on SQLite: one process, whose own writes wake its loops.
   */
  listenForWork?(options?: WorkWakesOptions): WorkWakes;
  /** Where the data lives, for messages (a path, or a URL without its password). */
  readonly location: string;
  close(): Promise<void>;
}

export class IdentifierSystemsChangedError extends Error {
  override name = 'IdentifierSystemsChangedError';
}

/** The opaque page cursor both stores hand out and take back. */
export function encodeCursor(row: DeliveryCursor): string {
  return Buffer.from(JSON.stringify([row.createdAt, row.id])).toString('base64url');
}

/** undefined for anything we did not hand out, so callers can answer 400 instead of page 1. */
export function decodeCursor(cursor: string): DeliveryCursor | undefined {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    return Number.isSafeInteger(createdAt) && typeof id === 'string' ? { createdAt: createdAt as number, id } : undefined;
  } catch {
    return undefined;
  }
}

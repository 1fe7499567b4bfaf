import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { ReportDeliveredDataSchema, WebhookEnvelopeSchema } from '../avara/schemas.ts';
import { verifyAvaraWebhook } from '../avara/verify-webhook.ts';
import type { RecordOutcome, Store } from '../store/store.ts';
import { neutralAnswer, typeForLog, typeLabel } from './neutral-answers.ts';
import type { PipelineHooks } from '../pipeline-hooks.ts';

/**
 * Who answers Avara's synchronous webhooks (answers/ does, from the EHR). Declared here, where
 * it is called, so intake does not depend on that flow.
 */
export interface SynchronousAnswers {
  handles(type: string): boolean;
  /** Never rejects: a failure or a spent budget is the soft answer of the event type. */
  answer(type: string, data: unknown, ids: { eventId: string }): Promise<{ body: unknown; outcome: string }>;
}

export interface IntakeDeps {
  store: Store;
  webhookKeys: string[];
  /** DELIVERY_TARGETS: a report.delivered is one delivery per target, stored in the webhook's own commit. */
  targets: readonly string[];
  log: Logger;
  now?: () => number;
  /** Called after a delivery was enqueued, so an idle worker starts at once. */
  onEnqueued?: () => void;
  hooks?: PipelineHooks;
  /** Counts every verdict by event type and outcome (metrics). */
  count?: (type: string, outcome: string) => void;
  /** Answers enrichment, clinical context and worklist requests from the EHR; neutral answers without it. */
  syncAnswers?: SynchronousAnswers;
}

export interface IntakeAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** A synchronous event answered from the EHR: the body to send once it settles (it never rejects). */
  pending?: Promise<unknown>;
}

const ACK = { success: true };
const STORE_RETRY_AFTER_SECONDS = 30;
// A database that holds the write without answering (a network partition, a hung server) would
// hold the sender until its own timeout: past this the sender gets 503 and retries. A write that
// still commits later makes that retry a duplicate, answered 2xx then.
const STORE_DEADLINE_MS = 10_000;

/**
 * POST /webhooks/avara (design.md "HTTP"): verify on the raw bytes, then store durably, then
 * answer. Nothing is stored for a request that fails verification or validation.
 */
export async function handleAvaraWebhook(deps: IntakeDeps, rawBody: Buffer | string, headers: Record<string, string | string[] | undefined>): Promise<IntakeAnswer> {
  const now = deps.now ?? Date.now;
  const count = deps.count ?? (() => {});
  const verdict = verifyAvaraWebhook(rawBody, headers, deps.webhookKeys, Math.floor(now() / 1000));
  if (!verdict.ok) {
    count('unknown', verdict.code);
    deps.log.warn({ code: verdict.code }, 'webhook refused');
    return { status: verdict.status, body: { error: verdict.code } };
  }
  const envelope = WebhookEnvelopeSchema.safeParse(verdict.payload);
  if (!envelope.success) {
    count('unknown', 'malformed_envelope');
    return { status: 400, body: { error: 'malformed_envelope', message: 'body must be {id, type, data}' } };
  }
  const { id: eventId, type, data } = envelope.data;
  if (deps.syncAnswers?.handles(type)) {
    // Answered, not stored: nothing is acted on later, so a redelivery is simply asked again.
    const pending = deps.syncAnswers.answer(type, data, { eventId }).then(({ body, outcome }) => {
      count(type, outcome);
      return body;
    });
    return { status: 200, body: undefined, pending };
  }
  if (type !== 'report.delivered') {
    // Events we do not handle get the neutral answer their spec allows; never a 4xx or 410,
    // which makes a sender disable the endpoint.
    count(typeLabel(type), 'not_handled');
    deps.log.info({ type: typeForLog(type) }, 'webhook type not handled; neutral answer');
    return { status: 200, body: neutralAnswer(type) };
  }
  const parsed = ReportDeliveredDataSchema.safeParse(data);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    count(type, 'invalid_data');
    return { status: 400, body: { error: 'invalid_data', message: `report.delivered data is missing or has invalid fields: ${fields}` } };
  }
  const webhookId = headerValue(headers, 'webhook-id')!;
  const { reportId, studyId, isCritical, presignedUrl } = parsed.data;
  const event = { webhookId, eventId, type, bodySha256: sha256(rawBody), report: { reportId, studyId, isCritical, presignedUrl } };
  const receivedAt = now();
  let outcome: RecordOutcome;
  try {
    outcome = await withinDeadline(deps.store.intake.recordWebhook(event, receivedAt, deps.targets), STORE_DEADLINE_MS);
  } catch (error) {
    // Busy, full, read-only or gone: we could not keep the event, so the sender must retry it.
    count(type, 'store_unavailable');
    deps.log.error({ type, webhookId, code: (error as { code?: string }).code }, 'webhook not stored: database unavailable');
    return { status: 503, body: { error: 'store_unavailable' }, headers: { 'Retry-After': String(STORE_RETRY_AFTER_SECONDS) } };
  }
  deps.hooks?.at('after_inbox_commit');
  count(type, outcome);
  deps.log.info({ type, webhookId, eventId, reportId, studyId, outcome }, 'webhook accepted');
  if (outcome === 'stored') deps.onEnqueued?.();
  return { status: 200, body: ACK };
}

function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('the database did not answer in time'), { code: 'timeout' })), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function sha256(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex');
}

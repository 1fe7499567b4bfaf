import express, { Router, type Request, type Response } from 'express';
import { readReason, type AuditEvent, type Delivery, type RequeueResult, type Store } from '../store/store.ts';
import { deriveAttempts } from './derive-attempts.ts';
import { parseDeliveryQuery } from './delivery-query.ts';
import { OPERATOR_TOKEN_REQUIRED, operatorOf } from './require-admin.ts';

export interface DeliveriesRouteDeps {
  store: Store;
  /** DELIVERY_TARGETS, in order: `?target=` picks one, the first is the default. */
  targets: readonly string[];
  /** Wakes the worker after a retry or replay, so it does not wait for its next look. */
  onRequeued?: () => void;
  now?: () => number;
}

export function deliveriesRouter(deps: DeliveriesRouteDeps): Router {
  const router = Router();
  const now = deps.now ?? Date.now;

  router.get('/deliveries', async (req, res) => {
    const query = parseDeliveryQuery(req.query, { strict: true });
    if (!query.ok) {
      res.status(400).json({ error: 'invalid_query', fields: query.fields, message: query.message });
      return;
    }
    const page = await deps.store.deliveries.list(query.filter);
    res.json({ items: page.items.map(toApiDelivery), nextCursor: page.nextCursor });
  });

  router.get('/deliveries/:reportId', async (req, res) => {
    const target = targetOf(req.query, res, deps.targets);
    if (target === null) return;
    const row = await deps.store.deliveries.get(req.params.reportId, target ?? deps.targets[0]);
    if (!row) {
      res.status(404).json({ error: 'not_found', message: `no delivery for report ${req.params.reportId}` });
      return;
    }
    res.json(toApiDeliveryDetail(row, await auditTrailOf(deps.store, row)));
  });

  // Without `?target=`, every target of the report that the action applies to. The operator is
  // the bearer token's (requireAdmin); an optional JSON `reason` goes into the audit row only.
  const requeue = async (req: Request, res: Response, action: 'requeue' | 'replay') => {
    const target = targetOf(req.query, res, deps.targets);
    if (target === null) return;
    // requireAdmin lets no state change through without one; this keeps the audit row from lying if it ever did.
    const operator = operatorOf(res);
    if (operator === undefined) {
      res.status(403).json({ error: 'operator_token_required', message: OPERATOR_TOKEN_REQUIRED });
      return;
    }
    const reason = readReason((req.body as { reason?: unknown } | undefined)?.reason);
    if (!reason.ok) {
      res.status(400).json({ error: 'invalid_body', fields: ['reason'], message: reason.message });
      return;
    }
    const result = await deps.store.deliveries[action](String(req.params.reportId), now(), { by: 'api', operator, ...(reason.reason ? { reason: reason.reason } : {}) }, target);
    if (result === 'requeued') deps.onRequeued?.();
    res.status(requeueStatus(result)).json({ result });
  };
  const body = express.json({ limit: '4kb' });
  router.post('/deliveries/:reportId/retry', body, (req, res) => requeue(req, res, 'requeue'));
  router.post('/deliveries/:reportId/replay', body, (req, res) => requeue(req, res, 'replay'));
  return router;
}

/** `?target=` when given and configured; null after answering 400 for any other value. */
function targetOf(query: Request['query'], res: Response, targets: readonly string[]): string | undefined | null {
  const target = query.target;
  if (target === undefined || target === '') return undefined;
  if (typeof target === 'string' && targets.includes(target)) return target;
  res.status(400).json({ error: 'invalid_query', fields: ['target'], message: `target: must be one of ${targets.join(', ')}` });
  return null;
}

function requeueStatus(result: RequeueResult): number {
  return result === 'requeued' ? 202 : result === 'not_found' ? 404 : 409;
}

/** The shape design.md fixes for /api/deliveries items, plus critical, nextAttemptAt and the patient label. */
export function toApiDelivery(row: Delivery) {
  return {
    reportId: row.reportId,
    target: row.target,
    studyId: row.studyId,
    state: row.state,
    attempts: row.attempts,
    lastError: row.lastErrorCode ? { code: row.lastErrorCode, message: row.lastErrorMessage ?? '' } : null,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
    deliveredAt: iso(row.deliveredAt),
    nextAttemptAt: row.state === 'failed' || row.state === 'queued' ? iso(row.nextAttemptAt) : null,
    critical: row.isCritical,
    source: row.source,
    patient: row.patientLabel,
    ...(row.target === 'hl7v2'
      ? { hl7: { controlId: row.hl7ControlId, ackControlId: row.hl7AckControlId }, rejection: row.rejectionText }
      : { fhir: row.fhirRefs ?? {} }),
  };
}

/** One delivery with its attempts (derived from the audit trail) and the trail itself. */
export function toApiDeliveryDetail(row: Delivery, events: AuditEvent[]) {
  return {
    ...toApiDelivery(row),
    contentHash: row.contentHash,
    attemptTimeline: deriveAttempts(events).map((a) => ({ ...a, startedAt: iso(a.startedAt), endedAt: iso(a.endedAt) })),
    audit: events.map(({ seq, at, event, detail }) => ({ seq, at: iso(at), event, detail: detail ?? null })),
  };
}

/** The report's audit rows that concern this target: its own, and those of no target (the webhook). */
export async function auditTrailOf(store: Store, row: Delivery): Promise<AuditEvent[]> {
  return (await store.audit.ofReport(row.reportId)).filter((event) => {
    const target = (event.detail as { target?: unknown } | null)?.target;
    return target === undefined || target === row.target;
  });
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

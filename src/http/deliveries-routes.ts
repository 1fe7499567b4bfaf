import { Router } from 'express';
import { z } from 'zod';
import { listAuditEvents } from '../store/audit.ts';
import { getDelivery, listDeliveries, requeueDelivery, type Delivery } from '../store/deliveries.ts';
import type { Store } from '../store/open-store.ts';
import { DELIVERY_STATES } from '../store/schema.ts';

const ListQuery = z.object({
  state: z.enum(DELIVERY_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional(),
});

export function deliveriesRouter(store: Store, onRequeued: () => void = () => {}): Router {
  const router = Router();

  router.get('/deliveries', (req, res) => {
    const query = ListQuery.safeParse(req.query);
    if (!query.success) {
      res.status(400).json({ error: 'invalid_query', message: query.error.issues.map((i) => i.path.join('.')).join(', ') });
      return;
    }
    const page = listDeliveries(store.db, query.data);
    res.json({ items: page.items.map(toApiDelivery), nextCursor: page.nextCursor });
  });

  router.get('/deliveries/:reportId', (req, res) => {
    const row = getDelivery(store.db, req.params.reportId);
    if (!row) {
      res.status(404).json({ error: 'not_found' });
      return;
    }
    res.json({ ...toApiDelivery(row), audit: listAuditEvents(store.db, row.reportId).map(({ seq, at, event, detail }) => ({ seq, at: new Date(at).toISOString(), event, detail })) });
  });

  router.post('/deliveries/:reportId/retry', (req, res) => {
    const result = requeueDelivery(store.db, req.params.reportId, Date.now(), 'api');
    const status = result === 'requeued' ? 202 : result === 'not_found' ? 404 : 409;
    if (result === 'requeued') onRequeued();
    res.status(status).json({ result });
  });

  return router;
}

/** The shape design.md fixes for /api/deliveries items. */
export function toApiDelivery(row: Delivery) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    reportId: row.reportId,
    studyId: row.studyId,
    state: row.state,
    attempts: row.attempts,
    lastError: row.lastErrorCode ? { code: row.lastErrorCode, message: row.lastErrorMessage ?? '' } : null,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
    deliveredAt: iso(row.deliveredAt),
    nextAttemptAt: row.state === 'failed' || row.state === 'queued' ? iso(row.nextAttemptAt) : null,
    critical: row.isCritical,
    fhir: row.fhirRefs ?? {},
  };
}

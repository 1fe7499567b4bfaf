import { Router } from 'express';
import type { Store } from '../store/store.ts';

/** GET /api/summary: what the audit page's header shows, for dashboards and scripts. */
export function summaryRouter(store: Store, now: () => number = Date.now): Router {
  const router = Router();
  router.get('/summary', async (_req, res) => {
    const at = now();
    const summary = await store.deliveries.summarize(at);
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    res.json({
      counts: summary.counts,
      oldestWaiting: summary.oldestWaitingCreatedAt === null ? null : { createdAt: iso(summary.oldestWaitingCreatedAt), ageSeconds: Math.round((at - summary.oldestWaitingCreatedAt) / 1000) },
      lastDeliveredAt: iso(summary.lastDeliveredAt),
      last24h: summary.hourly.map((h) => ({ hour: iso(h.hourStart), delivered: h.delivered, failed: h.failed })),
    });
  });
  return router;
}

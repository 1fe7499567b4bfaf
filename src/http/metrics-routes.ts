import { Router } from 'express';
import type { Registry } from 'prom-client';

/** GET /metrics (mounted at /metrics) in Prometheus text format, behind the same admin auth as /api. */
export function metricsRouter(registry: Registry): Router {
  const router = Router();
  router.get('/', async (_req, res, next) => {
    try {
      const text = await registry.metrics();
      res.set('Content-Type', registry.contentType).send(text);
    } catch (error) {
      next(error);
    }
  });
  return router;
}

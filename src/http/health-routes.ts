import { Router } from 'express';
import type { Store } from '../store/store.ts';
import type { TargetStatus } from '../reachability/watch-targets.ts';

export interface Readiness {
  isWorkerRunning(): boolean;
  /** Unix ms of the last successful FHIR call, or null. Reported, not required: an idle service is ready. */
  fhirLastSuccessAt(): number | null;
  /**
   * Each delivery target's last background reachability check. Reported, not required: a FHIR
   * server that is down must not take the webhook intake out of the load balancer, since what
   * intake accepts is kept and delivered when the server is back.
   */
  targets?(): Record<string, TargetStatus>;
}

export function healthRouter(store: Store, readiness?: Readiness): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const health = await store.health();
    const migrated = health.migrated;
    const writable = migrated ? health.writable : 'unknown';
    const worker = readiness ? (readiness.isWorkerRunning() ? 'running' : 'stopped') : 'unknown';
    const ready = migrated && writable === 'writable' && worker !== 'stopped';
    const fhirAt = readiness?.fhirLastSuccessAt() ?? null;
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not_ready',
      database: { migrated, writable },
      worker,
      fhirLastSuccessAt: fhirAt === null ? null : new Date(fhirAt).toISOString(),
      targets: Object.fromEntries(Object.entries(readiness?.targets?.() ?? {}).map(([target, status]) => [
        target,
        status.checkedAt === null ? status : { ...status, checkedAt: new Date(status.checkedAt).toISOString() },
      ])),
    });
  });
  return router;
}

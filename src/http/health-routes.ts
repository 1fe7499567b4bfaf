import { Router } from 'express';
import { isMigrated, type Store } from '../store/open-store.ts';
import { probeWritable } from '../store/probe-writable.ts';

export interface Readiness {
  isWorkerRunning(): boolean;
  /** Unix ms of the last successful FHIR call, or null. Reported, not required: an idle service is ready. */
  fhirLastSuccessAt(): number | null;
}

export function healthRouter(store: Store, readiness?: Readiness): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    const migrated = store.sqlite.open && isMigrated(store);
    const writable = migrated ? probeWritable(store) : 'unknown';
    const worker = readiness ? (readiness.isWorkerRunning() ? 'running' : 'stopped') : 'unknown';
    const ready = migrated && writable === 'writable' && worker !== 'stopped';
    const fhirAt = readiness?.fhirLastSuccessAt() ?? null;
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not_ready',
      database: { migrated, writable },
      worker,
      fhirLastSuccessAt: fhirAt === null ? null : new Date(fhirAt).toISOString(),
    });
  });
  return router;
}

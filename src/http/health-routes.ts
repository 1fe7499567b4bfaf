import { Router } from 'express';
import type { Store, StoreHealth } from '../store/store.ts';
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
    const health = await probeStore(store);
    const migrated = health.migrated;
    // Unreachable says why even though nothing could be read about migrations.
    const writable = migrated || health.writable === 'unreachable' ? health.writable : 'unknown';
    const worker = readiness ? (readiness.isWorkerRunning() ? 'running' : 'stopped') : 'unknown';
    const ready = migrated && writable === 'writable' && worker !== 'stopped';
    const fhirAt = readiness?.fhirLastSuccessAt() ?? null;
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not_ready',
      database: { migrated, writable, ...(health.error ? { error: health.error } : {}) },
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

// A database that does not answer (a host gone from the network) must not hold a load balancer's
// probe for the TCP timeout: past this, it is unreachable.
const PROBE_TIMEOUT_MS = 3_000;

/** The store's health, never a rejection: readyz answers 503 with a reason, not 500. */
async function probeStore(store: Store): Promise<StoreHealth> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<StoreHealth>((resolve) => {
    timer = setTimeout(() => resolve({ migrated: false, writable: 'unreachable', error: 'timeout' }), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([store.health(), timeout]);
  } catch (error) {
    const code = (error as { code?: unknown } | undefined)?.code;
    return { migrated: false, writable: 'unreachable', error: typeof code === 'string' && /^[A-Za-z0-9_]{1,32}$/.test(code) ? code : 'error' };
  } finally {
    clearTimeout(timer);
  }
}

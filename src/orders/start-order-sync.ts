import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { StudyWriteCalls } from '../avara/study-write-calls.ts';
import { toSyncError } from '../errors.ts';
import type { FhirClient } from '../fhir/fhir-client.ts';
import type { Store } from '../store/store.ts';
import { startJobLoop } from '../queue/run-job-loop.ts';
import type { PipelineHooks } from '../pipeline-hooks.ts';
import { orderAttempts, type OrderRunSettings } from './run-order-attempt.ts';
import { sweepOrders, type OrderSweepStats } from './sweep-orders.ts';

export interface OrderSyncDeps {
  store: Store;
  avara: StudyWriteCalls;
  fhir: FhirClient;
  log: Logger;
  settings: OrderRunSettings & { pollIntervalMs: number; avaraStudyIdSystem: string };
  now?: () => number;
  hooks?: PipelineHooks;
}

export interface OrderSync {
  /** One sweep now (joined when one is running); ran:false when another process holds it. */
  sweepNow(): Promise<OrderSweepStats & { ran: boolean }>;
  wake(): void;
  stop(): Promise<void>;
}

const SWEEP_LOCK = 'sweep:orders';
const SWEEP_LOCK_MS = 120_000;

/** The EHR -> Avara direction in `serve`: a sweep every interval (and on a FHIR webhook), and a worker. */
export function startOrderSync(deps: OrderSyncDeps): OrderSync {
  const now = deps.now ?? Date.now;
  const { store } = deps;
  let stopping = false;
  let sweeping: Promise<OrderSweepStats & { ran: boolean }> | undefined;
  let followUp: Promise<OrderSweepStats & { ran: boolean }> | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;

  async function sweep(): Promise<OrderSweepStats & { ran: boolean }> {
    const holder = randomUUID();
    if (!(await store.locks.tryAcquire([SWEEP_LOCK], holder, now() + SWEEP_LOCK_MS, now()))) return { ran: false, seen: 0, queued: 0 };
    try {
      const stats = await sweepOrders(store, deps.fhir, deps.settings.avaraStudyIdSystem, now, () => stopping);
      deps.log.info({ seen: stats.seen, queued: stats.queued }, 'order sweep finished');
      if (stats.queued > 0) worker.wake();
      return { ran: true, ...stats };
    } finally {
      await store.locks.release(holder);
    }
  }
  // A request during a sweep gets one more sweep after it: the running one may have read past
  // the change that prompted the request (a webhook about a just-written order).
  function sweepNow(): Promise<OrderSweepStats & { ran: boolean }> {
    if (!sweeping) return (sweeping = sweep().finally(() => (sweeping = undefined)));
    return (followUp ??= sweeping.catch(() => undefined).then(() => {
      followUp = undefined;
      return sweepNow();
    }));
  }

  function scheduleSweep(delayMs: number): void {
    if (stopping) return;
    sweepTimer = setTimeout(() => {
      sweepNow()
        .catch((error: unknown) => deps.log.warn({ code: toSyncError(error).code }, 'order sweep failed; the watermark did not move, the next sweep repeats it'))
        .finally(() => scheduleSweep(deps.settings.pollIntervalMs));
    }, delayMs);
  }

  const worker = startJobLoop(orderAttempts({ ...deps, now }), { log: deps.log, settings: deps.settings, now });
  scheduleSweep(0);
  return {
    sweepNow,
    wake: worker.wake,
    async stop() {
      stopping = true;
      clearTimeout(sweepTimer);
      await Promise.all([worker.stop(), sweeping?.catch(() => undefined)]);
    },
  };
}

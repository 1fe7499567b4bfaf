import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { StudyWriteCalls } from '../../avara/study-write-calls.ts';
import { toSyncError } from '../../errors.ts';
import type { FhirClient } from '../../fhir/fhir-client.ts';
import { releaseLocks, tryAcquireLocks } from '../../store/locks.ts';
import type { Store } from '../../store/open-store.ts';
import { claimNextOrder, nextOrderDueAt, requeueExpiredOrderLeases, type OrderLease } from '../../store/orders.ts';
import type { PipelineHooks } from '../pipeline-hooks.ts';
import { runOrderAttempt, type OrderRunSettings } from './run-order-attempt.ts';
import { sweepOrders, type OrderSweepStats } from './sweep-orders.ts';

export interface OrderSyncDeps {
  store: Store;
  avara: StudyWriteCalls;
  fhir: FhirClient;
  log: Logger;
  settings: OrderRunSettings & { pollIntervalMs: number; concurrency: number; avaraStudyIdSystem: string };
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
const IDLE_MS = 5_000;

/** The EHR -> Avara direction in `serve`: a sweep every interval (and on a FHIR webhook), and a worker. */
export function startOrderSync(deps: OrderSyncDeps): OrderSync {
  const now = deps.now ?? Date.now;
  const { db } = deps.store;
  const inFlight = new Set<Promise<unknown>>();
  let stopping = false;
  let sweeping: Promise<OrderSweepStats & { ran: boolean }> | undefined;
  let followUp: Promise<OrderSweepStats & { ran: boolean }> | undefined;
  let wakeUp: (() => void) | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;

  async function sweep(): Promise<OrderSweepStats & { ran: boolean }> {
    const holder = randomUUID();
    if (!tryAcquireLocks(db, [SWEEP_LOCK], holder, now() + SWEEP_LOCK_MS, now())) return { ran: false, seen: 0, queued: 0 };
    try {
      const stats = await sweepOrders(db, deps.fhir, deps.settings.avaraStudyIdSystem, now, () => stopping);
      deps.log.info({ seen: stats.seen, queued: stats.queued }, 'order sweep finished');
      if (stats.queued > 0) wakeUp?.();
      return { ran: true, ...stats };
    } finally {
      releaseLocks(db, holder);
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

  async function loop(): Promise<void> {
    while (!stopping) {
      try {
        requeueExpiredOrderLeases(db, now());
        while (!stopping && inFlight.size < deps.settings.concurrency) {
          const lease = claimNextOrder(db, now(), deps.settings.leaseMs);
          if (!lease) break;
          track(lease);
        }
      } catch (error) {
        deps.log.error({ code: toSyncError(error).code }, 'order worker could not claim orders');
      }
      await new Promise<void>((resolve) => {
        const due = safeNextDue();
        const timer = setTimeout(resolve, Math.min(IDLE_MS, due === undefined ? IDLE_MS : Math.max(0, due - now())));
        wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  function track(lease: OrderLease): void {
    // A bookkeeping write that failed (database busy) leaves the lease to expire and the order to run again.
    const run = runOrderAttempt({ ...deps, now }, lease).catch((error: unknown) => {
      deps.log.error({ order: lease.imagingStudyId, code: toSyncError(error).code }, 'could not record the order attempt; its lease will expire');
    }).finally(() => {
      inFlight.delete(run);
      wakeUp?.();
    });
    inFlight.add(run);
  }

  function safeNextDue(): number | undefined {
    if (inFlight.size >= deps.settings.concurrency) return undefined;
    try {
      return nextOrderDueAt(db);
    } catch {
      return undefined;
    }
  }

  const running = loop();
  scheduleSweep(0);
  return {
    sweepNow,
    wake: () => wakeUp?.(),
    async stop() {
      stopping = true;
      clearTimeout(sweepTimer);
      wakeUp?.();
      await running;
      await sweeping?.catch(() => undefined);
      await Promise.allSettled([...inFlight]);
    },
  };
}

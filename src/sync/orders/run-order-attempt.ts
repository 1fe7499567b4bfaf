import type { Logger } from 'pino';
import type { StudyWriteCalls } from '../../avara/study-write-calls.ts';
import { toSyncError } from '../../errors.ts';
import type { FhirClient } from '../../fhir/fhir-client.ts';
import { extendLocks, releaseLocks, tryAcquireLocks } from '../../store/locks.ts';
import type { Store } from '../../store/open-store.ts';
import { finishOrderAttempt, getOrder, renewOrderLease, type OrderLease } from '../../store/orders.ts';
import { decideFailure } from '../decide-failure.ts';
import type { PipelineHooks } from '../pipeline-hooks.ts';
import { syncOrder, type OrderSyncSettings } from './sync-order.ts';

export interface OrderRunSettings extends OrderSyncSettings {
  leaseMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export interface OrderRunDeps {
  store: Store;
  avara: StudyWriteCalls;
  fhir: FhirClient;
  log: Logger;
  settings: OrderRunSettings;
  now: () => number;
  hooks?: PipelineHooks;
}

const UID_BUSY_RETRY_MS = 1_000;

/** Runs one leased attempt to its recorded end: synced, failed (retry later), dead or released. */
export async function runOrderAttempt(deps: OrderRunDeps, lease: OrderLease): Promise<string> {
  const { db } = deps.store;
  const log = deps.log.child({ order: lease.imagingStudyId, attempt: lease.attempt });
  const heartbeat = setInterval(() => {
    try {
      if (renewOrderLease(db, lease, deps.now(), deps.settings.leaseMs)) extendLocks(db, lease.token, lease.expiresAt);
    } catch {
      // A missed renewal is harmless: the next one, or the lease expiry, decides.
    }
  }, Math.max(1000, Math.floor(deps.settings.leaseMs / 3)));
  try {
    // Two ImagingStudies with one UID must not both pass the by-uid check and create.
    const uid = getOrder(db, lease.imagingStudyId)?.studyInstanceUid;
    if (uid && !tryAcquireLocks(db, [`order-uid:${uid}`], lease.token, lease.expiresAt, deps.now())) {
      finishOrderAttempt(db, lease, { kind: 'released', reason: 'uid_locked', nextAttemptAt: deps.now() + UID_BUSY_RETRY_MS }, deps.now());
      return 'released';
    }
    const detail = await syncOrder({ db, avara: deps.avara, fhir: deps.fhir, settings: deps.settings, lease, now: deps.now, hooks: deps.hooks });
    finishOrderAttempt(db, lease, { kind: 'synced', detail }, deps.now());
    log.info({ outcome: 'synced', avaraStudy: detail['avaraStudy'] ?? null }, 'order synced');
    return 'synced';
  } catch (error) {
    return recordFailure(deps, lease, toSyncError(error), log);
  } finally {
    clearInterval(heartbeat);
    try {
      releaseLocks(db, lease.token);
    } catch {
      // Locks die with the lease anyway.
    }
  }
}

function recordFailure(deps: OrderRunDeps, lease: OrderLease, failure: ReturnType<typeof toSyncError>, log: Logger): string {
  const at = deps.now();
  const decision = decideFailure(failure, lease.attempt, deps.settings);
  const { code, message } = failure;
  if (decision.action === 'release') {
    finishOrderAttempt(deps.store.db, lease, { kind: 'released', reason: decision.reason, nextAttemptAt: at + decision.delayMs }, at);
    return 'released';
  }
  if (decision.action === 'dead') {
    finishOrderAttempt(deps.store.db, lease, { kind: 'dead', code, message }, at);
    log.error({ outcome: 'dead', code }, 'order dead-lettered; a person must look');
    return 'dead';
  }
  finishOrderAttempt(deps.store.db, lease, { kind: 'failed', code, message, nextAttemptAt: at + decision.delayMs }, at);
  log.warn({ outcome: 'failed', code, retryInMs: decision.delayMs }, 'order failed; will retry');
  return 'failed';
}

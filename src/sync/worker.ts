import type { Logger } from 'pino';
import type { User } from '../avara/schemas.ts';
import { toSyncError, type SyncError } from '../errors.ts';
import type { FhirClient } from '../fhir/fhir-client.ts';
import { claimNextDelivery, isStudyDelivered, markDead, markDelivered, markFailed, markSkipped, nextDueAt, releaseDelivery, renewLease, requeueExpiredLeases, type Lease } from '../store/deliveries.ts';
import { findWebhookPdfLink, forgetWebhookPdfLinks } from '../store/inbox.ts';
import { extendLocks, releaseLocks, tryAcquireLocks } from '../store/locks.ts';
import type { Store } from '../store/open-store.ts';
import type { AvaraReader } from './avara-reader.ts';
import { nextAttemptDelayMs } from './backoff.ts';
import { deliverReport, type DeliveryOutcome, type DeliverySettings } from './deliver-report.ts';

export interface WorkerSettings extends DeliverySettings {
  concurrency: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  leaseMs: number;
}

export interface WorkerDeps {
  store: Store;
  avara: AvaraReader;
  fhir: FhirClient;
  log: Logger;
  settings: WorkerSettings;
  now?: () => number;
  /** Test hook: observe each finished attempt. */
  onSettled?: (reportId: string) => void;
}

export interface Worker {
  wake(): void;
  stop(): Promise<void>;
}

// A presigned link lives one hour (avara-api.md §6.6); leave a margin for queueing and download.
const WEBHOOK_LINK_MAX_AGE_MS = 50 * 60_000;
const LOCK_BUSY_RETRY_MS = 500;
const IDLE_POLL_MS = 5_000;

export function startWorker(deps: WorkerDeps): Worker {
  const now = deps.now ?? Date.now;
  const { db } = deps.store;
  const userCache = new Map<string, User>();
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  let wakeUp: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  const wake = () => wakeUp?.();

  async function loop(): Promise<void> {
    while (!stopping) {
      try {
        claimWhileFree();
      } catch (error) {
        // The database busy or unwritable: nothing was claimed; look again shortly.
        deps.log.error({ err: toSyncError(error).message }, 'worker could not claim deliveries');
        await sleepUntilWoken(IDLE_POLL_MS);
        continue;
      }
      if (stopping) break;
      await sleepUntilWoken(waitMs());
    }
  }

  function claimWhileFree(): void {
    requeueExpiredLeases(db, now());
    while (!stopping && inFlight.size < deps.settings.concurrency) {
      const lease = claimNextDelivery(db, now(), deps.settings.leaseMs);
      if (!lease) return;
      const run = runAttempt(lease).finally(() => {
        inFlight.delete(run);
        wake();
      });
      inFlight.add(run);
    }
  }

  function waitMs(): number {
    if (inFlight.size >= deps.settings.concurrency) return deps.settings.leaseMs;
    const due = nextDueAt(db);
    const untilDue = due === undefined ? IDLE_POLL_MS : Math.max(0, due - now());
    // Also look again before any lease could expire unnoticed.
    return Math.min(untilDue, IDLE_POLL_MS, deps.settings.leaseMs);
  }

  function sleepUntilWoken(ms: number): Promise<void> {
    return new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
      wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async function runAttempt(lease: Lease): Promise<void> {
    const log = deps.log.child({ reportId: lease.reportId, studyId: lease.studyId, attempt: lease.attempt });
    const started = now();
    const heartbeat = setInterval(() => {
      if (renewLease(db, lease, now(), deps.settings.leaseMs)) extendLocks(db, lease.token, lease.expiresAt);
    }, Math.max(1000, Math.floor(deps.settings.leaseMs / 3)));
    try {
      const link = findWebhookPdfLink(db, lease.reportId);
      const hint = link && now() - link.receivedAt < WEBHOOK_LINK_MAX_AGE_MS ? { reportId: lease.reportId, url: link.url } : undefined;
      const outcome = await deliverReport(
        {
          avara: deps.avara,
          fhir: deps.fhir,
          settings: deps.settings,
          userCache,
          acquireLocks: (keys) => tryAcquireLocks(db, keys, lease.token, lease.expiresAt, now()),
          isStudyDelivered: (studyId) => isStudyDelivered(db, studyId),
        },
        lease.reportId,
        lease.studyId,
        hint,
      );
      recordOutcome(lease, outcome, log, now() - started);
    } catch (error) {
      recordFailure(lease, toSyncError(error), log);
    } finally {
      clearInterval(heartbeat);
      releaseLocks(db, lease.token);
      deps.onSettled?.(lease.reportId);
    }
  }

  function recordOutcome(lease: Lease, outcome: DeliveryOutcome, log: Logger, ms: number): void {
    const at = now();
    if (outcome.kind === 'locked') {
      releaseDelivery(db, lease, at + LOCK_BUSY_RETRY_MS, 'study_or_patient_locked', at);
      return;
    }
    if (outcome.kind === 'skipped') {
      markSkipped(db, lease, { code: outcome.code, message: outcome.reason }, at);
      log.info({ outcome: 'skipped', code: outcome.code, ms }, 'delivery skipped');
      return;
    }
    if (!markDelivered(db, lease, { refs: outcome.refs, contentHash: outcome.contentHash, detail: deliveredDetail(outcome) }, at)) {
      log.warn({ outcome: 'lease_lost', ms }, 'delivery finished after its lease was taken over; the new owner decides');
      return;
    }
    forgetWebhookPdfLinks(db, lease.reportId);
    log.info({ outcome: 'delivered', ms, diagnosticReport: outcome.refs.DiagnosticReport }, 'delivery finished');
  }

  function deliveredDetail(outcome: Extract<DeliveryOutcome, { kind: 'delivered' }>): Record<string, unknown> {
    // A report without text is delivered with its PDF only; the gap is on the record.
    return {
      critical: outcome.critical,
      ...(outcome.textMissingFor.length > 0 ? { textMissingFor: outcome.textMissingFor } : {}),
      ...(outcome.cancelledAfterDelivery ? { flag: 'study_cancelled_after_delivery' } : {}),
    };
  }

  function recordFailure(lease: Lease, failure: SyncError, log: Logger): void {
    const at = now();
    const record = { code: failure.code, message: failure.message };
    if (failure.code === 'avara_rate_limited' && failure.retryAfterMs !== undefined) {
      // Being told to wait is not a failed attempt (the job would otherwise burn its attempts).
      releaseDelivery(db, lease, at + failure.retryAfterMs, 'rate_limited', at);
      log.info({ code: failure.code, retryInMs: failure.retryAfterMs }, 'rate limited; waiting as asked');
      return;
    }
    if (!failure.retryable || lease.attempt >= deps.settings.maxAttempts) {
      markDead(db, lease, record, at);
      log.error({ outcome: 'dead', code: failure.code, retryable: failure.retryable }, 'delivery dead-lettered; a person must look');
      return;
    }
    const delay = nextAttemptDelayMs(lease.attempt, deps.settings, failure.retryAfterMs);
    markFailed(db, lease, record, at + delay, at);
    log.warn({ outcome: 'failed', code: failure.code, retryInMs: delay }, 'delivery failed; will retry');
  }

  const running = loop();
  return {
    wake,
    async stop() {
      stopping = true;
      wake();
      await running;
      await Promise.allSettled([...inFlight]);
    },
  };
}

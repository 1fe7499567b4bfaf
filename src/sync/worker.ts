import type { Logger } from 'pino';
import type { User } from '../avara/schemas.ts';
import { SyncError, toSyncError } from '../errors.ts';
import type { FhirClient } from '../fhir/fhir-client.ts';
import {
  claimNextDelivery, deliveredRefsOfStudy, holdsLease, isStudyDelivered, markDead, markDelivered, markFailed, markSkipped, nextDueAt, recordPatientLabel, releaseDelivery,
  renewLease, requeueExpiredLeases, type Lease,
} from '../store/deliveries.ts';
import { findWebhookPdfLink, forgetWebhookPdfLinks } from '../store/inbox.ts';
import { extendLocks, releaseLocks, tryAcquireLocks } from '../store/locks.ts';
import type { Store } from '../store/open-store.ts';
import { writeTogether, writeWithoutFsync } from '../store/write-together.ts';
import type { AvaraReader } from './avara-reader.ts';
import { decideFailure } from './decide-failure.ts';
import { deliverReport, type DeliveryOutcome, type DeliverySettings } from './deliver-report.ts';
import type { PipelineHooks } from './pipeline-hooks.ts';
import type { Config } from '../config/load-config.ts';

/** The worker's slice of the configuration, plus the mapping options it passes on. */
export type WorkerSettings = Config['worker'] & DeliverySettings;

export interface WorkerDeps {
  store: Store;
  avara: AvaraReader;
  fhir: FhirClient;
  log: Logger;
  settings: WorkerSettings;
  now?: () => number;
  hooks?: PipelineHooks;
  /** Told about every finished attempt (metrics). */
  onFinished?: (finished: AttemptFinished) => void;
}

export interface AttemptFinished {
  outcome: 'delivered' | 'skipped' | 'failed' | 'dead' | 'released' | 'lease_lost';
  ms: number;
  code?: string;
  critical?: boolean;
}

export interface Worker {
  wake(): void;
  /** False once stop() was called (for /readyz). */
  isRunning(): boolean;
  stop(): Promise<void>;
}

// A presigned link lives one hour (avara-api.md §6.6); leave a margin for queueing and download.
const WEBHOOK_LINK_MAX_AGE_MS = 50 * 60_000;
const LOCK_BUSY_RETRY_MS = 500;
const IDLE_POLL_MS = 5_000;
const LEASE_CHECK_MS = 1_000;

export function startWorker(deps: WorkerDeps): Worker {
  const now = deps.now ?? Date.now;
  const { db } = deps.store;
  const userCache = new Map<string, User>();
  const signersInEhr = new Set<string>();
  const inFlight = new Map<Promise<void>, Lease>();
  let stopping = false;
  let pausedUntil = 0;
  let wakeUp: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let wakeScheduled = false;
  let leasesCheckedAt = Number.NEGATIVE_INFINITY;
  // Deferred to the next turn and coalesced: a webhook's wake must not run a claim (a commit and
  // its fsync) before that webhook's own answer is written, and a burst of webhooks is one look.
  const wake = () => {
    if (wakeScheduled) return;
    wakeScheduled = true;
    setImmediate(() => {
      wakeScheduled = false;
      wakeUp?.();
    });
  };

  async function loop(): Promise<void> {
    while (!stopping) {
      try {
        if (now() >= pausedUntil) claimWhileFree();
      } catch (error) {
        // The database busy or unwritable: nothing was claimed; look again shortly.
        deps.log.error({ err: toSyncError(error).message }, 'worker could not claim deliveries');
      }
      if (stopping) break;
      await sleepUntilWoken(waitMs());
    }
  }

  function claimWhileFree(): void {
    // Leases last minutes; looking for expired ones on every wake (every webhook, every finished
    // attempt) would be a transaction each time for nothing.
    if (now() - leasesCheckedAt >= Math.min(LEASE_CHECK_MS, deps.settings.leaseMs / 4)) {
      requeueExpiredLeases(db, now(), deps.settings.maxAttempts);
      leasesCheckedAt = now();
    }
    while (!stopping && now() >= pausedUntil && inFlight.size < deps.settings.concurrency) {
      // Not fsynced: a claim lost in a power cut leaves the job queued, to be delivered again
      // (idempotently); its outcome, written later, is durable and carries the claim with it.
      const lease = writeWithoutFsync(db, () => claimNextDelivery(db, now(), deps.settings.leaseMs));
      if (!lease) return;
      const run = runAttempt(lease).finally(() => {
        inFlight.delete(run);
        wake();
      });
      inFlight.set(run, lease);
    }
  }

  function waitMs(): number {
    if (now() < pausedUntil) return pausedUntil - now();
    if (inFlight.size >= deps.settings.concurrency) return deps.settings.leaseMs;
    let due: number | undefined;
    try {
      due = nextDueAt(db);
    } catch {
      due = undefined;
    }
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
      // A missed renewal (database busy) is harmless: the next one, or the lease expiry, decides.
      bestEffort(log, () => {
        writeWithoutFsync(db, () => {
          if (renewLease(db, lease, now(), deps.settings.leaseMs)) extendLocks(db, lease.token, lease.expiresAt);
        });
      });
    }, Math.max(1000, Math.floor(deps.settings.leaseMs / 3)));
    const label = pendingLabel(lease, log);
    try {
      const outcome = await deliverReport(deliveryDeps(lease, label), lease.reportId, lease.studyId, webhookLinkFor(lease.reportId));
      if (outcome.kind === 'delivered') deps.hooks?.at('after_fhir_commit');
      // If recording fails (database busy, closed), the lease expires and the job runs again:
      // the FHIR side is idempotent, so nothing is lost or duplicated. Outcome, label and lock
      // release share one commit (one fsync).
      bestEffort(log, () => writeTogether(db, () => {
        label.write();
        recordOutcome(lease, outcome, log, now() - started);
        releaseLocks(db, lease.token);
      }));
    } catch (error) {
      bestEffort(log, () => writeTogether(db, () => {
        label.write();
        recordFailure(lease, toSyncError(error), log, now() - started);
        releaseLocks(db, lease.token);
      }));
    } finally {
      clearInterval(heartbeat);
      // Normally released above already; then this changes nothing and commits no fsync.
      bestEffort(log, () => releaseLocks(db, lease.token));
    }
  }

  /** The audit page's patient label, written with this attempt's next commit instead of one of its own. */
  function pendingLabel(lease: Lease, log: Logger) {
    let label: string | undefined;
    return {
      note: (value: string) => void (label = value),
      write() {
        if (label === undefined) return;
        const value = label;
        label = undefined;
        bestEffort(log, () => recordPatientLabel(db, lease, value));
      },
    };
  }

  function deliveryDeps(lease: Lease, label: ReturnType<typeof pendingLabel>) {
    return {
      avara: deps.hooks ? withPdfDownloadHook(deps.avara, deps.hooks) : deps.avara,
      fhir: deps.fhir,
      settings: deps.settings,
      userCache,
      signersInEhr,
      acquireLocks: (keys: string[]) => writeWithoutFsync(db, () => {
        label.write();
        return tryAcquireLocks(db, keys, lease.token, lease.expiresAt, now());
      }),
      isStudyDelivered: (studyId: string) => isStudyDelivered(db, studyId),
      deliveredRefsOfStudy: (studyId: string) => deliveredRefsOfStudy(db, studyId),
      assertLeaseHeld: () => {
        if (!holdsLease(db, lease, now())) throw SyncError.retryable('lease_lost', 'the lease expired and another worker may own the job; not writing');
      },
      notePatientLabel: label.note,
    };
  }

  function webhookLinkFor(reportId: string) {
    const link = findWebhookPdfLink(db, reportId);
    return link && now() - link.receivedAt < WEBHOOK_LINK_MAX_AGE_MS ? { reportId, url: link.url } : undefined;
  }

  function recordOutcome(lease: Lease, outcome: DeliveryOutcome, log: Logger, ms: number): void {
    const at = now();
    if (outcome.kind === 'locked') {
      releaseDelivery(db, lease, at + LOCK_BUSY_RETRY_MS, 'study_or_patient_locked', at);
      deps.onFinished?.({ outcome: 'released', ms, code: 'study_or_patient_locked' });
      return;
    }
    if (outcome.kind === 'skipped') {
      markSkipped(db, lease, { code: outcome.code, message: outcome.reason }, at);
      deps.onFinished?.({ outcome: 'skipped', ms, code: outcome.code });
      log.info({ outcome: 'skipped', code: outcome.code, ms }, 'delivery skipped');
      return;
    }
    if (!markDelivered(db, lease, { refs: outcome.refs, contentHash: outcome.contentHash, detail: deliveredDetail(outcome) }, at)) {
      deps.onFinished?.({ outcome: 'lease_lost', ms });
      log.warn({ outcome: 'lease_lost', ms }, 'delivery finished after its lease was taken over; the new owner decides');
      return;
    }
    deps.onFinished?.({ outcome: 'delivered', ms, critical: outcome.critical });
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

  function recordFailure(lease: Lease, failure: SyncError, log: Logger, ms: number): void {
    const at = now();
    const record = { code: failure.code, message: failure.message };
    const decision = decideFailure(failure, lease.attempt, deps.settings);
    deps.onFinished?.({ outcome: decision.action === 'release' ? 'released' : decision.action === 'dead' ? 'dead' : 'failed', ms, code: failure.code });
    if (decision.action === 'release') {
      releaseDelivery(db, lease, at + decision.delayMs, decision.reason, at);
      if (decision.reason === 'credentials_refused') pause(decision.delayMs, failure, log);
      else log.info({ code: failure.code, retryInMs: decision.delayMs }, 'rate limited; waiting as asked');
    } else if (decision.action === 'dead') {
      markDead(db, lease, record, at);
      log.error({ outcome: 'dead', code: failure.code, retryable: failure.retryable }, 'delivery dead-lettered; a person must look');
    } else {
      markFailed(db, lease, record, at + decision.delayMs, at);
      log.warn({ outcome: 'failed', code: failure.code, retryInMs: decision.delayMs }, 'delivery failed; will retry');
    }
  }

  function pause(ms: number, failure: SyncError, log: Logger): void {
    if (now() < pausedUntil) return;
    pausedUntil = now() + ms;
    // Alert level: every delivery would fail the same way until a person fixes the credentials.
    log.fatal({ alert: 'credentials_refused', code: failure.code, pauseSeconds: ms / 1000 }, 'upstream refused our credentials; worker paused, no attempts spent');
  }

  /**
   * A bookkeeping write that fails (database busy, or closed after stop()) must not crash the
   * process: the lease fences it, and an unrecorded outcome is redone idempotently.
   */
  function bestEffort(log: Logger, write: () => void): void {
    try {
      write();
    } catch (error) {
      const level = stopping ? 'debug' : 'error';
      log[level]({ err: (error as { code?: string }).code ?? toSyncError(error).code }, 'could not record delivery state; the lease will expire and the job run again');
    }
  }

  const running = loop();
  return {
    wake,
    isRunning: () => !stopping,
    async stop() {
      stopping = true;
      wake();
      await running;
      const finished = Promise.allSettled([...inFlight.keys()]);
      const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), deps.settings.shutdownGraceMs).unref());
      if ((await Promise.race([finished, grace])) === 'timeout') releaseUnfinished();
    },
  };

  function releaseUnfinished(): void {
    const at = now();
    for (const lease of inFlight.values()) {
      // Given back, not failed: the next start delivers it, fenced against this late attempt.
      releaseDelivery(db, lease, at, 'shutdown', at);
      releaseLocks(db, lease.token);
    }
    deps.log.warn({ released: inFlight.size }, 'shutdown grace over; unfinished deliveries given back to the queue');
  }
}

function withPdfDownloadHook(avara: AvaraReader, hooks: PipelineHooks): AvaraReader {
  return {
    ...avara,
    downloadPdf(url) {
      const download = avara.downloadPdf(url);
      hooks.at('mid_pdf_download');
      return download;
    },
  };
}

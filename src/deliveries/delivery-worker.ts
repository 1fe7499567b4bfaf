import type { Logger } from 'pino';
import type { User } from '../avara/schemas.ts';
import type { Config } from '../config/load-config.ts';
import type { FhirClient } from '../fhir/fhir-client.ts';
import type { AttemptContext } from '../queue/attempt-context.ts';
import { sqliteJobQueue } from '../store/sqlite-job-queue.ts';
import { startJobLoop, type AttemptEnd, type AttemptFinished, type JobLoop } from '../queue/run-job-loop.ts';
import {
  DELIVERY_QUEUE, deliveredRefsOfStudy, isStudyDelivered, markDelivered, markSkipped, type Lease,
} from '../store/deliveries.ts';
import { findWebhookPdfLink, forgetWebhookPdfLinks } from '../store/inbox.ts';
import type { Db, Store } from '../store/open-store.ts';
import type { AvaraReader } from './avara-reader.ts';
import { deliverReport, type DeliveryDeps, type DeliveryOutcome } from './deliver-report.ts';
import type { PipelineHooks } from '../pipeline-hooks.ts';

/** The delivery slice of the configuration, as it is. */
export type WorkerSettings = Config['delivery'];

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

export type Worker = JobLoop;

// A presigned link lives one hour (avara-api.md §6.6); leave a margin for queueing and download.
const WEBHOOK_LINK_MAX_AGE_MS = 50 * 60_000;
const LOCK_BUSY_RETRY_MS = 500;

/** The delivery worker: report deliveries as one job kind on the leased-job queue. */
export function startWorker(deps: WorkerDeps): Worker {
  const now = deps.now ?? Date.now;
  const { db } = deps.store;
  // Per process: a practice has tens of radiologists and thousands of reports.
  const userCache = new Map<string, User>();
  const signersInEhr = new Set<string>();
  const queue = sqliteJobQueue(db, DELIVERY_QUEUE);
  const avara = deps.hooks ? withPdfDownloadHook(deps.avara, deps.hooks) : deps.avara;

  async function attempt(context: AttemptContext<Lease>): Promise<AttemptEnd> {
    const { lease, log } = context;
    const started = now();
    const delivery: DeliveryDeps = {
      avara, fhir: deps.fhir, settings: deps.settings, userCache, signersInEhr,
      isStudyDelivered: (studyId) => isStudyDelivered(db, studyId),
      deliveredRefsOfStudy: (studyId) => deliveredRefsOfStudy(db, studyId),
      acquireLocks: context.acquireLocks,
      assertLeaseHeld: context.assertLeaseHeld,
      notePatientLabel: (label) => context.recordStep({ patientLabel: label }, null),
    };
    const outcome = await deliverReport(delivery, lease.reportId, lease.studyId, webhookLinkFor(db, lease.reportId, now()));
    if (outcome.kind === 'delivered') deps.hooks?.at('after_fhir_commit');
    if (outcome.kind === 'locked') return { kind: 'busy', reason: 'study_or_patient_locked', retryInMs: LOCK_BUSY_RETRY_MS };
    return { kind: 'done', outcome: outcome.kind, record: () => recordOutcome(lease, outcome, log, now() - started) };
  }

  function recordOutcome(lease: Lease, outcome: Exclude<DeliveryOutcome, { kind: 'locked' }>, log: Logger, ms: number): void {
    const at = now();
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

  return startJobLoop(
    {
      queue,
      noun: 'delivery',
      logFields: (lease) => ({ reportId: lease.reportId, studyId: lease.studyId }),
      attempt,
      ...(deps.onFinished ? { onFinished: deps.onFinished } : {}),
    },
    { log: deps.log, settings: deps.settings, now },
  );
}

function webhookLinkFor(db: Db, reportId: string, now: number) {
  const link = findWebhookPdfLink(db, reportId);
  return link && now - link.receivedAt < WEBHOOK_LINK_MAX_AGE_MS ? { reportId, url: link.url } : undefined;
}

function deliveredDetail(outcome: Extract<DeliveryOutcome, { kind: 'delivered' }>): Record<string, unknown> {
  // A report without text is delivered with its PDF only; the gap is on the record.
  return {
    critical: outcome.critical,
    ...(outcome.textMissingFor.length > 0 ? { textMissingFor: outcome.textMissingFor } : {}),
    ...(outcome.cancelledAfterDelivery ? { flag: 'study_cancelled_after_delivery' } : {}),
  };
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

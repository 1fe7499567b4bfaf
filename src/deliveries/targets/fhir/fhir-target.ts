import type { Logger } from 'pino';
import type { DeliveryEnding, Lease } from '../../../store/store.ts';
import { deliverReport, type DeliveryDeps, type DeliveryOutcome } from '../../deliver-report.ts';
import { deliveredRefs } from '../../delivered-refs.ts';
import { deliverySearchKeys } from '../../delivery-search-keys.ts';
import { webhookLinkFor } from '../../webhook-pdf-link.ts';
import type { DeliveryTarget, TargetDeps } from '../delivery-target.ts';

const LOCK_BUSY_RETRY_MS = 500;

/** The `fhir` target: one conditional transaction Bundle per delivery (fhir-mapping.md). */
export function createFhirTarget(deps: TargetDeps): DeliveryTarget {
  const { store, now } = deps;
  // Signers whose Practitioner the EHR is known to hold: searched once per process, not per delivery.
  const signersInEhr = new Set<string>();

  function endingOf(outcome: Exclude<DeliveryOutcome, { kind: 'locked' }>): DeliveryEnding {
    return outcome.kind === 'skipped'
      ? { kind: 'skipped', code: outcome.code, message: outcome.reason }
      : { kind: 'delivered', refs: outcome.refs, contentHash: outcome.contentHash, detail: deliveredDetail(outcome) };
  }

  function announce(lease: Lease, outcome: Exclude<DeliveryOutcome, { kind: 'locked' }>, log: Logger, ms: number, held: boolean): void {
    if (outcome.kind === 'skipped') {
      deps.onFinished?.({ target: lease.target, outcome: 'skipped', ms, code: outcome.code });
      log.info({ outcome: 'skipped', code: outcome.code, ms }, 'delivery skipped');
      return;
    }
    if (!held) {
      deps.onFinished?.({ target: lease.target, outcome: 'lease_lost', ms });
      log.warn({ outcome: 'lease_lost', ms }, 'delivery finished after its lease was taken over; the new owner decides');
      return;
    }
    deps.onFinished?.({ target: lease.target, outcome: 'delivered', ms, critical: outcome.critical });
    log.info({ outcome: 'delivered', ms, diagnosticReport: outcome.refs.DiagnosticReport, unchanged: outcome.unchanged }, 'delivery finished');
  }

  return {
    async attempt(context) {
      const { lease, log } = context;
      const started = now();
      const delivery: DeliveryDeps = {
        avara: deps.avara, fhir: deps.fhir, settings: deps.settings, userCache: deps.userCache, signersInEhr,
        isStudyDelivered: (studyId) => store.deliveries.isStudyDelivered(studyId, lease.target),
        deliveredRefsOfStudy: async (studyId) => deliveredRefs(await store.deliveries.deliveredRowsOfStudy(studyId, lease.target)),
        deliveredContentOfStudy: (studyId) => store.deliveries.deliveredRowsOfStudy(studyId, lease.target),
        acquireLocks: context.acquireLocks,
        assertLeaseHeld: context.assertLeaseHeld,
        noteStudyRead: async (study, reports) => context.recordStep(deliverySearchKeys(study, reports, lease.reportId, deps.settings.mapping, await store.settings.mrnHashKey()), null),
      };
      const outcome = await deliverReport(delivery, lease.reportId, lease.studyId, await webhookLinkFor(store, lease.reportId, now()));
      if (outcome.kind === 'delivered') deps.hooks?.at('after_fhir_commit');
      if (outcome.kind === 'locked') return { kind: 'busy', reason: 'study_or_patient_locked', retryInMs: LOCK_BUSY_RETRY_MS };
      const ms = now() - started;
      return { kind: 'done', outcome: outcome.kind, ending: endingOf(outcome), announce: (held) => announce(lease, outcome, log, ms, held) };
    },
  };
}

function deliveredDetail(outcome: Extract<DeliveryOutcome, { kind: 'delivered' }>): Record<string, unknown> {
  // A report without text is delivered with its PDF only; the gap is on the record.
  return {
    critical: outcome.critical,
    // A replay of content the EHR already holds at the recorded version: nothing was written.
    ...(outcome.unchanged ? { unchanged: true } : {}),
    ...(outcome.textMissingFor.length > 0 ? { textMissingFor: outcome.textMissingFor } : {}),
    ...(outcome.cancelledAfterDelivery ? { flag: 'study_cancelled_after_delivery' } : {}),
  };
}

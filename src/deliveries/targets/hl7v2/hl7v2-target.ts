import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Hl7Settings } from '../../../config/load-config.ts';
import { SyncError } from '../../../errors.ts';
import { createMllpClient, type MllpClient } from '../../../hl7/mllp-client.ts';
import { nextAttemptDelayMs } from '../../../queue/backoff.ts';
import type { DeliveryEnding, Lease, Store } from '../../../store/store.ts';
import { decideDeliveryPolicy } from '../../mapping/decide-delivery-policy.ts';
import { compareBySignOff, isSigned } from '../../mapping/order-signed-reports.ts';
import { gatherSignedReports } from '../../gather-signed-reports.ts';
import { ensureReportSigned } from '../../ensure-report-signed.ts';
import { webhookLinkFor } from '../../webhook-pdf-link.ts';
import { deliverySearchKeys } from '../../delivery-search-keys.ts';
import type { DeliveryTarget, TargetDeps } from '../delivery-target.ts';
import { buildHl7Message } from './mapping/build-hl7-message.ts';
import type { Hl7MessageOptions } from './mapping/hl7-message-input.ts';

// Another report of the study must reach this target first (signing order): look again soon.
const EARLIER_REPORT_WAIT_MS = 1_000;
const LOCK_BUSY_RETRY_MS = 500;

/**
 * The `hl7v2` target (hl7v2-mapping.md): one ORU^R01 or MDM message per delivery over MLLP, one
 * message in flight on one connection. No search before sending: the interface engine matches
 * the patient on PID-3. Never twice: the control id is the same for the same content, and a
 * content this target already accepted for the study is not sent again.
 */
export function createHl7v2Target(deps: TargetDeps, settings: Hl7Settings, client: MllpClient = createClient(settings, deps)): DeliveryTarget {
  const { store, now } = deps;
  const options = messageOptions(settings, deps);
  return {
    async attempt(context) {
      const { lease, log } = context;
      const started = now();
      const study = await deps.avara.getStudy(lease.studyId);
      const policy = decideDeliveryPolicy(study, {
        deliverExternalStudies: deps.settings.deliverExternalStudies,
        studyAlreadyDelivered: study.isCancelled && (await store.deliveries.isStudyDelivered(lease.studyId, lease.target)),
      });
      if (!policy.deliver) {
        return { kind: 'done', outcome: 'skipped', ending: { kind: 'skipped', code: policy.code, message: policy.reason } };
      }
      const list = await deps.avara.listReports(lease.studyId);
      ensureReportSigned(list.reports, lease.reportId);
      await context.recordStep(deliverySearchKeys(study, list.reports, lease.reportId, deps.settings.mapping, await store.settings.mrnHashKey()), null);
      const signed = list.reports.filter(isSigned).sort(compareBySignOff);
      if (await waitsForEarlierReport(store, lease, signed.map((r) => r.reportId))) {
        return { kind: 'busy', reason: 'earlier_report_not_delivered', retryInMs: EARLIER_REPORT_WAIT_MS };
      }
      if (!(await context.acquireLocks([`study:${lease.studyId}`]))) return { kind: 'busy', reason: 'study_locked', retryInMs: LOCK_BUSY_RETRY_MS };
      const gathered = await gatherSignedReports(deps.avara, study, signed, await webhookLinkFor(store, lease.reportId, now()), deps.userCache);
      const message = buildHl7Message({ study, reports: gathered.reports, reportId: lease.reportId }, options);
      const ms = () => now() - started;

      const accepted = await alreadyAccepted(store, lease, message.contentHash);
      if (accepted) {
        return delivered(lease, { kind: 'hl7_delivered', controlId: accepted, ackControlId: undefined, contentHash: message.contentHash, detail: { unchanged: true } }, log, ms());
      }
      await context.assertLeaseHeld();
      await context.recordStep({ hl7ControlId: message.controlId }, 'hl7_sent', { controlId: message.controlId, messageType: message.messageType });
      const outcome = await client.send(message.text, message.controlId);
      switch (outcome.kind) {
        case 'accepted':
          return delivered(lease, { kind: 'hl7_delivered', controlId: message.controlId, ackControlId: outcome.ackControlId, contentHash: message.contentHash }, log, ms());
        case 'rejected': {
          const took = ms();
          return {
            kind: 'done',
            outcome: 'dead',
            ending: { kind: 'hl7_rejected', controlId: message.controlId, text: outcome.text },
            announce() {
              deps.onFinished?.({ target: lease.target, outcome: 'dead', ms: took, code: 'hl7_rejected' });
              log.error({ outcome: 'dead', code: 'hl7_rejected', controlId: message.controlId }, 'receiver refused the message; a person must look');
            },
          };
        }
        case 'retry_later':
          // AR/CR: the receiver cannot take it now; the message is not at fault.
          return { kind: 'busy', reason: 'hl7_receiver_busy', retryInMs: nextAttemptDelayMs(lease.attempt, deps.settings) };
        case 'unreachable':
          // An interface engine queues while it is down; waiting costs no attempt (the oldest-undelivered alert tells people).
          log.warn({ code: outcome.code, controlId: message.controlId }, 'HL7 receiver unreachable; waiting');
          return { kind: 'busy', reason: `hl7_unreachable ${outcome.code} ${settings.host}:${settings.port}`, retryInMs: nextAttemptDelayMs(lease.attempt, deps.settings) };
        case 'unknown':
          throw SyncError.retryable('hl7_no_ack', `no acknowledgment for control id ${message.controlId} (${outcome.reason === 'timeout' ? 'timed out' : 'connection closed after sending'}); it is sent again under the same control id`);
      }
    },
    close: () => client.close(),
  };

  function delivered(lease: Lease, result: Extract<DeliveryEnding, { kind: 'hl7_delivered' }>, log: Logger, ms: number) {
    return {
      kind: 'done' as const,
      outcome: 'delivered',
      ending: result,
      announce(held: boolean) {
        if (!held) {
          deps.onFinished?.({ target: lease.target, outcome: 'lease_lost', ms });
          log.warn({ outcome: 'lease_lost', ms }, 'delivery finished after its lease was taken over; the new owner decides');
          return;
        }
        deps.onFinished?.({ target: lease.target, outcome: 'delivered', ms });
        log.info({ outcome: 'delivered', ms, controlId: result.controlId, ackControlId: result.ackControlId ?? null, unchanged: result.ackControlId === undefined }, 'delivery finished');
      },
    };
  }
}

/** Messages of one study leave in signing order: an earlier report still waiting here goes first. */
async function waitsForEarlierReport(store: Store, lease: Lease, signedInOrder: string[]): Promise<boolean> {
  const earlier = new Set(signedInOrder.slice(0, Math.max(0, signedInOrder.indexOf(lease.reportId))));
  // A dead earlier delivery does not hold the rest back: a person already has it.
  return (await store.deliveries.pendingOfStudy(lease.studyId, lease.target)).some((row) => earlier.has(row.reportId));
}

/**
 * The control id under which this target already accepted the same content for the study, for
 * another of its reports (the original's delivery ran after its addendum was signed and the
 * addendum's message carried it): sent again, it would be a second message for one content.
 * This report's own earlier acceptance does not count: a replay sends the message again under
 * the same control id (hl7v2-mapping.md), so an interface engine that lost an accepted message
 * gets it back, and one that drops repeated control ids drops the copy.
 */
async function alreadyAccepted(store: Store, lease: Lease, contentHash: string): Promise<string | undefined> {
  return (await store.deliveries.deliveredRowsOfStudy(lease.studyId, lease.target))
    .find((row) => row.contentHash === contentHash && row.reportId !== lease.reportId && row.state === 'delivered')?.hl7ControlId ?? undefined;
}

function messageOptions(settings: Hl7Settings, deps: TargetDeps): Hl7MessageOptions {
  const { sendingFacility, receivingApplication, receivingFacility, mrnAssigningAuthority } = settings;
  return {
    messageType: settings.messageType,
    sendingApplication: settings.sendingApplication,
    processingId: settings.processingId,
    patientClass: settings.patientClass,
    embedPdf: settings.embedPdf,
    studyTimeZone: deps.settings.mapping.studyTimeZone,
    accessionMetadataKey: deps.settings.mapping.accessionMetadataKey,
    now: () => new Date(deps.now()),
    ...(sendingFacility ? { sendingFacility } : {}),
    ...(receivingApplication ? { receivingApplication } : {}),
    ...(receivingFacility ? { receivingFacility } : {}),
    ...(mrnAssigningAuthority ? { mrnAssigningAuthority } : {}),
  };
}

function createClient(settings: Hl7Settings, deps: TargetDeps): MllpClient {
  const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(file));
  const tls = settings.tls && Object.fromEntries(Object.entries({ ca: read(settings.tls.caFile), cert: read(settings.tls.certFile), key: read(settings.tls.keyFile) }).filter(([, v]) => v !== undefined));
  return createMllpClient({ host: settings.host, port: settings.port, ackTimeoutMs: settings.ackTimeoutMs, ...(tls ? { tls } : {}), log: deps.log });
}

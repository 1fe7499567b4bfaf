import type { DocumentReference } from '@medplum/fhirtypes';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Report, Study } from '../../../avara/schemas.ts';
import type { DocumentSettings } from '../../../config/load-config.ts';
import { SyncError } from '../../../errors.ts';
import { validateOneResource } from '../../../fhir/validate-resource.ts';
import type { DeliveryEnding, Lease } from '../../../store/store.ts';
import { deliveredRefs } from '../../delivered-refs.ts';
import { ensureReportSigned } from '../../ensure-report-signed.ts';
import { ensureSamePatient } from '../../ensure-same-patient.ts';
import { gatherSignedReports } from '../../gather-signed-reports.ts';
import { currentMetadata } from '../../mapping/current-metadata.ts';
import { resourceContentHash } from '../../mapping/delivery-content-hash.ts';
import { decideDeliveryPolicy } from '../../mapping/decide-delivery-policy.ts';
import { identifierSystems } from '../../mapping/identifier-systems.ts';
import { compareBySignOff, isSigned } from '../../mapping/order-signed-reports.ts';
import { patientKey, type PatientKey } from '../../mapping/patient-key.ts';
import { deliverySearchKeys } from '../../delivery-search-keys.ts';
import { readEhrOrder } from '../../read-ehr-order.ts';
import { resolvePatient } from '../../resolve-patient.ts';
import { webhookLinkFor } from '../../webhook-pdf-link.ts';
import type { DeliveryTarget, TargetDeps } from '../delivery-target.ts';
import { findAuthor, findEncounter } from './find-ehr-context.ts';
import { mapDocument } from './mapping/map-document.ts';
import { findDocument, sendDocument, type SendResult } from './send-document.ts';

// Another report of the study must reach this target first (signing order): look again soon.
const EARLIER_REPORT_WAIT_MS = 1_000;
const LOCK_BUSY_RETRY_MS = 500;
// Marks a POST that left without a recorded answer (FHIR_DOCUMENT_IDENTIFIER_SEARCH=false needs it).
const POST_SENT = 'sent';

type Delivered = { reference: string; patient: string; contentHash: string; detail: Record<string, unknown>; critical: boolean };

/**
 * The `fhir-documents` target (fhir-mapping.md "Document target"): one plain `POST
 * DocumentReference` per signed report on a patient the EHR already has, in signing order, and
 * nothing else written. A delivered report is never sent again: documents there are immutable.
 */
export function createFhirDocumentsTarget(deps: TargetDeps, settings: DocumentSettings): DeliveryTarget {
  const { store, now } = deps;
  const mapping = deps.settings.mapping;
  const systems = identifierSystems(mapping);
  const authors = new Map<string, string>();

  return {
    async attempt(context) {
      const { lease, log } = context;
      const started = now();
      const ms = () => now() - started;
      const done = (result: Delivered) => {
        const took = ms();
        return { kind: 'done' as const, outcome: 'delivered', ending: deliveredEnding(result), announce: (held: boolean) => announceDelivered(lease, result, log, took, held) };
      };

      const row = await store.deliveries.get(lease.reportId, lease.target);
      const recorded = row?.fhirRefs ?? undefined;
      const study = await deps.avara.getStudy(lease.studyId);
      const policy = decideDeliveryPolicy(study, {
        deliverExternalStudies: deps.settings.deliverExternalStudies,
        studyAlreadyDelivered: study.isCancelled && (await store.deliveries.isStudyDelivered(lease.studyId, lease.target)),
      });
      if (recorded?.DocumentReference) return done(await recheck(recorded, row?.contentHash ?? ''));
      if (!policy.deliver) {
        return { kind: 'done', outcome: 'skipped', ending: { kind: 'skipped', code: policy.code, message: policy.reason } };
      }
      const list = await deps.avara.listReports(lease.studyId);
      ensureReportSigned(list.reports, lease.reportId);
      const signed = list.reports.filter(isSigned).sort(compareBySignOff);
      if (await waitsForEarlierReport(lease, signed.map((r) => r.reportId))) {
        return { kind: 'busy', reason: 'earlier_report_not_delivered', retryInMs: EARLIER_REPORT_WAIT_MS };
      }
      const report = signed.find((r) => r.reportId === lease.reportId)!;
      const key = patientKey(study, signed.at(-1)?.snapshotMetadata, mapping);
      const demographics = currentMetadata(study, signed.at(-1)?.snapshotMetadata);
      await context.recordStep(deliverySearchKeys(study, list.reports, lease.reportId, mapping, await store.settings.mrnHashKey()), null);
      if (!(await context.acquireLocks(lockKeys(lease.studyId, key)))) return { kind: 'busy', reason: 'study_or_patient_locked', retryInMs: LOCK_BUSY_RETRY_MS };

      const patient = await resolvePatient(deps.fhir, key, demographics, 'match');
      if (patient.kind !== 'existing') throw SyncError.permanent('internal', 'a patient to create in match mode');
      await ensureSamePatient(deps.fhir, lease.studyId, patient, deliveredRefs(await store.deliveries.deliveredRowsOfStudy(lease.studyId, lease.target)));
      const chart = patient.reference;
      if (settings.identifierSearch) {
        const existing = await findDocument(deps.fhir, chart, systems.reportId, lease.reportId);
        if (existing) return done({ reference: existing, patient: chart, contentHash: '', detail: { adopted: true }, critical: report.isCritical === true });
      } else if (recorded?.documentPost === POST_SENT) {
        throw SyncError.permanent('write_outcome_unknown', `a DocumentReference POST for report ${lease.reportId} left without a recorded answer and FHIR_DOCUMENT_IDENTIFIER_SEARCH=false: look at the chart before a retry`);
      }

      const document = await buildDocument(study, report, signed, chart, lease);
      const contentHash = resourceContentHash(document);
      await context.assertLeaseHeld();
      const sent: SendResult = await sendDocument({
        fhir: deps.fhir,
        identifierSearch: settings.identifierSearch,
        notePostSent: () => context.recordStep({ fhirRefs: { Patient: chart, documentPost: POST_SENT } }, null),
        notePostRefused: () => context.recordStep({ fhirRefs: null }, null),
      }, document, chart, systems.reportId, lease.reportId);
      return done({ reference: sent.reference, patient: chart, contentHash, detail: sent.kind === 'adopted' ? { adopted: true } : {}, critical: report.isCritical === true });
    },
  };

  async function buildDocument(study: Study, report: Report, signed: Report[], chart: string, lease: Lease): Promise<DocumentReference> {
    const original = report.isAddendum ? await originalDocument(lease, signed, chart) : undefined;
    const gathered = await gatherSignedReports(deps.avara, study, [report], await webhookLinkFor(store, lease.reportId, now()), deps.userCache);
    const one = gathered.reports[0]!;
    const metadata = currentMetadata(study, report.snapshotMetadata);
    const [author, encounter, ehrOrder] = await Promise.all([
      findAuthor(deps.fhir, one.signer, authors),
      settings.encounter === 'search' ? findEncounter(deps.fhir, study, chart, metadata.studyDate) : undefined,
      readEhrOrder(deps.fhir, study),
    ]);
    const document = mapDocument(
      { study, signed: one, patient: chart, author, original, encounter, ehrStarted: ehrOrder?.started },
      { content: settings.content, identifierSystemBase: mapping.identifierSystemBase, studyTimeZone: mapping.studyTimeZone },
    );
    validateOneResource(document);
    return document;
  }

  /** The study's original as this target delivered it (or, when the EHR can tell, found on the chart). */
  async function originalDocument(lease: Lease, signed: Report[], chart: string): Promise<string> {
    const original = signed.find((r) => !r.isAddendum);
    if (!original) throw SyncError.permanent('avara_bad_response', `study ${lease.studyId} has an addendum but no signed original`);
    const row = (await store.deliveries.deliveredRowsOfStudy(lease.studyId, lease.target)).find((r) => r.reportId === original.reportId);
    const recorded = row?.fhirRefs?.DocumentReference;
    if (recorded) return recorded;
    const found = settings.identifierSearch ? await findDocument(deps.fhir, chart, systems.reportId, original.reportId) : undefined;
    if (found) return found;
    throw SyncError.retryable('fhir_readback_failed', `the original report ${original.reportId} has no DocumentReference in the EHR yet; the addendum appends to it`);
  }

  /** Replay of a delivered report: nothing is sent again, only looked at. */
  async function recheck(recorded: Record<string, string>, contentHash: string): Promise<Delivered> {
    const reference = recorded.DocumentReference!;
    const [found] = await deps.fhir.search<DocumentReference>('DocumentReference', { _id: reference.split('/')[1]!, _elements: 'identifier' });
    // The hash the delivery recorded stays: nothing was sent, so the chart holds that content.
    return { reference, patient: recorded.Patient ?? '', contentHash, detail: { unchanged: true, ...(found ? {} : { flag: 'document_not_found_on_recheck' }) }, critical: false };
  }

  function deliveredEnding(result: Delivered): DeliveryEnding {
    const refs = { ...(result.patient ? { Patient: result.patient } : {}), DocumentReference: result.reference };
    return { kind: 'delivered', refs, contentHash: result.contentHash, detail: result.detail };
  }

  function announceDelivered(lease: Lease, result: Delivered, log: Logger, ms: number, held: boolean): void {
    if (!held) {
      deps.onFinished?.({ target: lease.target, outcome: 'lease_lost', ms });
      log.warn({ outcome: 'lease_lost', ms }, 'delivery finished after its lease was taken over; the new owner decides');
      return;
    }
    deps.onFinished?.({ target: lease.target, outcome: 'delivered', ms, critical: result.critical });
    log.info({ outcome: 'delivered', ms, documentReference: result.reference, ...result.detail }, 'delivery finished');
  }

  /** Documents of one study leave in signing order: an earlier report still waiting here goes first. */
  async function waitsForEarlierReport(lease: Lease, signedInOrder: string[]): Promise<boolean> {
    const earlier = new Set(signedInOrder.slice(0, Math.max(0, signedInOrder.indexOf(lease.reportId))));
    // A dead earlier delivery does not hold the rest back: a person already has it.
    return (await store.deliveries.pendingOfStudy(lease.studyId, lease.target)).some((row) => earlier.has(row.reportId));
  }
}

// Same study => same lock, same patient => same lock; the key is hashed so the lock table holds no patient data.
function lockKeys(studyId: string, key: PatientKey | undefined): string[] {
  return [`study:${studyId}`, ...(key ? [`patient:${sha256(`${key.system}|${key.value}`)}`] : [])];
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

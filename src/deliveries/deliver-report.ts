import type { DiagnosticReport, Practitioner } from '@medplum/fhirtypes';
import { createHash } from 'node:crypto';
import type { Report, Study, User } from '../avara/schemas.ts';
import { SyncError } from '../errors.ts';
import type { FhirClient } from '../fhir/fhir-client.ts';
import { buildDeliveryBundle } from './mapping/build-delivery-bundle.ts';
import { currentMetadata } from './mapping/current-metadata.ts';
import { decideDeliveryPolicy } from './mapping/decide-delivery-policy.ts';
import { deliveryContentHash } from './mapping/delivery-content-hash.ts';
import type { MappingOptions } from './mapping/delivery-input.ts';
import { identifierSearchToken } from './mapping/identifier-query.ts';
import { identifierSystems } from './mapping/identifier-systems.ts';
import { compareBySignOff, isSigned } from './mapping/order-signed-reports.ts';
import { patientKey, type PatientKey } from './mapping/patient-key.ts';
import { postDeliveryBundle } from './post-delivery-bundle.ts';
import { resolvePatient, type PatientMode } from './resolve-patient.ts';
import { validateDeliveryBundle } from '../fhir/validate-resource.ts';
import type { AvaraReader } from './avara-reader.ts';
import { gatherSignedReports, type PdfLinkHint } from './gather-signed-reports.ts';
import { collectFhirRefs } from './collect-fhir-refs.ts';
import { findUnchangedDelivery, type DeliveredContent } from './find-unchanged-delivery.ts';
import { ensureSamePatient } from './ensure-same-patient.ts';
import { ensureReportSigned } from './ensure-report-signed.ts';
import { readEhrOrder } from './read-ehr-order.ts';

export interface DeliverySettings {
  mapping: Omit<MappingOptions, 'newUuid'>;
  patientMode: PatientMode;
  deliverExternalStudies: boolean;
}

export interface DeliveryDeps {
  avara: AvaraReader;
  fhir: FhirClient;
  settings: DeliverySettings;
  userCache: Map<string, User>;
  /** Signers whose Practitioner the EHR is known to hold (found, or written by an earlier delivery). */
  signersInEhr: Set<string>;
  /** Whether an earlier report of this study already reached the EHR (cancelled-after-delivery rule). */
  isStudyDelivered(studyId: string): Promise<boolean>;
  /** The references recorded by the study's deliveries that reached the EHR (never-re-point rule). */
  deliveredRefsOfStudy(studyId: string): Promise<Record<string, string>[]>;
  /** Takes the study, patient and new-signer locks, all or none; false when another worker holds one. */
  acquireLocks(keys: string[]): Promise<boolean>;
  /** Throws `lease_lost` when this attempt no longer owns its job (another worker took it over). */
  assertLeaseHeld(): Promise<void>;
  /** What the study's deliveries to this target recorded when they reached it (a replay of unchanged content writes nothing). */
  deliveredContentOfStudy?(studyId: string): Promise<DeliveredContent[]>;
  /** Records the audit page's search keys (delivery-search-keys.ts) as soon as the study is read. */
  noteStudyRead?(study: Study, reports: Report[]): Promise<void>;
}

export type DeliveryOutcome =
  | {
      kind: 'delivered';
      refs: Record<string, string>;
      contentHash: string;
      textMissingFor: string[];
      usedWebhookLink: boolean;
      critical: boolean;
      /** Cancelled in Avara after an earlier delivery: delivered, never retracted, flagged for a person. */
      cancelledAfterDelivery: boolean;
      /** Same content as a delivery the EHR still holds at its recorded version: nothing was written. */
      unchanged: boolean;
    }
  | { kind: 'skipped'; code: 'study_cancelled' | 'study_external'; reason: string }
  | { kind: 'locked' };

/** One delivery attempt for one Avara report: the only place that knows the order of the steps. */
export async function deliverReport(deps: DeliveryDeps, reportId: string, studyId: string, webhookLink: PdfLinkHint | undefined): Promise<DeliveryOutcome> {
  const study = await deps.avara.getStudy(studyId);
  const policy = decideDeliveryPolicy(study, {
    deliverExternalStudies: deps.settings.deliverExternalStudies,
    studyAlreadyDelivered: study.isCancelled && (await deps.isStudyDelivered(studyId)),
  });
  if (!policy.deliver) return { kind: 'skipped', code: policy.code, reason: policy.reason };

  const list = await deps.avara.listReports(studyId);
  const signed = list.reports.filter(isSigned);
  ensureReportSigned(list.reports, reportId);
  const latest = latestSigned(signed);
  const key = patientKey(study, latest?.snapshotMetadata, deps.settings.mapping);
  await deps.noteStudyRead?.(study, list.reports);
  // Locks before the PDFs: a delivery that must wait should not have downloaded anything yet.
  const signerIds = [...new Set(signed.map((r) => r.userId))];
  const lockKeys = await deliveryLockKeys(deps, studyId, key, signerIds);
  if (!(await waitForLocks(deps, lockKeys))) return { kind: 'locked' };
  const gathered = await gatherSignedReports(deps.avara, study, signed, webhookLink, deps.userCache);

  const demographics = currentMetadata(study, latest?.snapshotMetadata);
  const [patient, ehrOrder] = await Promise.all([
    resolvePatient(deps.fhir, key, demographics, deps.settings.patientMode),
    readEhrOrder(deps.fhir, study),
  ]);
  await ensureSamePatient(deps.fhir, studyId, patient, await deps.deliveredRefsOfStudy(studyId));
  const bundle = buildDeliveryBundle(
    { study, reports: gathered.reports, patient, ...(ehrOrder ? { ehrOrder } : {}) },
    { ...deps.settings.mapping, newUuid: () => crypto.randomUUID() },
  );
  validateDeliveryBundle(bundle);
  const contentHash = deliveryContentHash(bundle, key && `${key.system}|${key.value}`);
  const systems = identifierSystems(deps.settings.mapping);
  const delivered = {
    contentHash,
    textMissingFor: gathered.textMissingFor,
    usedWebhookLink: gathered.usedWebhookLink,
    critical: signed.some((r) => r.isCritical === true),
    cancelledAfterDelivery: study.isCancelled,
  };
  const unchanged = await findUnchangedDelivery(deps.fhir, systems.studyId, studyId, contentHash, (await deps.deliveredContentOfStudy?.(studyId)) ?? []);
  if (unchanged) return { kind: 'delivered', refs: { ...unchanged }, unchanged: true, ...delivered };
  // A late attempt whose job was taken over must not write next to the new owner: a server's
  // conditional create may race.
  await deps.assertLeaseHeld();
  const response = await postDeliveryBundle(deps.fhir, bundle);
  const refs = collectFhirRefs(bundle, response);
  // The chart this study is on, kept with the delivery so that no later delivery moves it.
  if (patient.kind === 'existing') refs.Patient = patient.reference;
  refs.DiagnosticReport = await readBackDiagnosticReport(deps.fhir, systems.studyId, studyId);
  for (const userId of signerIds) deps.signersInEhr.add(userId);
  return { kind: 'delivered', refs, unchanged: false, ...delivered };
}

/**
 * Same study => same lock, same patient => same lock (fhir-mapping.md principle 1); the MRN is
 * hashed so the lock table holds no patient data. A signer without a Practitioner in the EHR yet
 * is locked too: two studies of different patients signed by one radiologist would otherwise both
 * create that Practitioner on a server whose conditional create is check-then-insert. Once it
 * exists its conditional create only matches, so no lock is needed; locking every signer would
 * serialize all deliveries of one radiologist, each loser having already fetched its PDFs.
 * A signer seen in the EHR is remembered for the life of the process: a practice has tens of
 * radiologists and thousands of reports, so the search would otherwise repeat on every delivery.
 */
async function deliveryLockKeys(deps: DeliveryDeps, studyId: string, key: PatientKey | undefined, signerIds: string[]): Promise<string[]> {
  const userIdSystem = identifierSystems(deps.settings.mapping).userId;
  const newSigners = await Promise.all(
    signerIds.map(async (userId) => {
      if (deps.signersInEhr.has(userId)) return [];
      const found = await deps.fhir.search<Practitioner>('Practitioner', { identifier: identifierSearchToken(userIdSystem, userId), _count: '1' });
      if (found.length > 0) deps.signersInEhr.add(userId);
      return found.length === 0 ? [`practitioner:${userId}`] : [];
    }),
  );
  return [`study:${studyId}`, ...(key ? [`patient:${sha256(`${key.system}|${key.value}`)}`] : []), ...newSigners.flat()];
}

// Holders finish in well under a second; waiting briefly beats releasing and re-fetching.
const LOCK_WAIT_MS = 2_000;
const LOCK_POLL_MS = 50;

async function waitForLocks(deps: DeliveryDeps, keys: string[]): Promise<boolean> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    if (await deps.acquireLocks(keys)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

function latestSigned(signed: Report[]): Report | undefined {
  // The mapping's order (signedAt, createdAt, reportId), so both agree on "latest".
  return [...signed].sort(compareBySignOff).at(-1);
}

/** Delivered means committed: the DiagnosticReport must be found by its identifier, exactly once. */
async function readBackDiagnosticReport(fhir: FhirClient, system: string, studyId: string): Promise<string> {
  // Only id and version are needed: `_elements` spares the server sending the report's PDF back.
  const found = await fhir.search<DiagnosticReport>('DiagnosticReport', { identifier: `${system}|${studyId}`, _count: '2', _elements: 'identifier' });
  if (found.length === 0) {
    throw SyncError.retryable('fhir_readback_failed', 'the FHIR server accepted the transaction but the DiagnosticReport is not found by its identifier');
  }
  if (found.length > 1) {
    throw SyncError.permanent('fhir_readback_failed', `two DiagnosticReports carry the study identifier: ${found.map((r) => `DiagnosticReport/${r.id}`).join(', ')}`);
  }
  const report = found[0]!;
  return `DiagnosticReport/${report.id}/_history/${report.meta?.versionId ?? '1'}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}


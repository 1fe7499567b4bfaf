import type { Identifier } from '@medplum/fhirtypes';
import type { ReportMetadata, Study } from '../../avara/schemas.ts';
import { SyncError } from '../../errors.ts';
import { accessionIdentifier } from './accession-identifier.ts';
import { encodeBytes, type EncodedBytes } from './attachments.ts';
import { currentMetadata } from './current-metadata.ts';
import type { DeliveryInput, MappingOptions, SignedReport } from './delivery-input.ts';
import { identifierSystems, type IdentifierSystems } from './identifier-systems.ts';
import { orderSignedReports } from './order-signed-reports.ts';
import { studyStarted } from './study-started.ts';

/** `urn:uuid:` fullUrls of this bundle's entries, allocated in bundle order. */
export interface EntryRefs {
  patient: string; // `Patient/<id>` for an existing patient, else the created entry's urn:uuid
  patientEntry: string | undefined;
  practitioners: Map<string, string>; // by Avara userId
  imagingStudy: string;
  documents: Map<string, string>; // by Avara reportId
  diagnosticReport: string;
}

/** Everything the mappers share, derived once from the input. */
export interface MappingContext {
  study: Study;
  signed: SignedReport[]; // ordered by signedAt, createdAt, reportId; never empty
  original: SignedReport; // the signed report that is not an addendum
  addenda: SignedReport[]; // every other signed report, in order
  latest: SignedReport;
  metadata: ReportMetadata; // current metadata, falling back to the latest snapshot
  started: string | undefined; // our ImagingStudy.started, from Avara's study date and time
  // When the study was done, for DiagnosticReport.effectiveDateTime and DocumentReference
  // context.period.start: the EHR's own ImagingStudy.started for a study from an EHR order (that is
  // the ImagingStudy our conditional create matches and the report points to), else ours.
  effectiveStarted: string | undefined;
  accession: Identifier | undefined;
  systems: IdentifierSystems;
  refs: EntryRefs;
  /** A signed report's PDF as base64, SHA-1 and size, encoded on first use and then shared. */
  encodedPdf(signed: SignedReport): EncodedBytes;
}

export function createMappingContext(input: DeliveryInput, options: MappingOptions): MappingContext {
  const signed = orderSignedReports(input.reports);
  checkReports(input.study, signed);
  checkPatient(input.patient);
  const latest = signed[signed.length - 1]!;
  const original = signed.find((r) => !r.report.isAddendum)!;
  const addenda = signed.filter((r) => r !== original);
  const metadata = currentMetadata(input.study, latest.report.snapshotMetadata);
  const started = studyStarted(metadata.studyDate, metadata.studyTime, options.studyTimeZone);
  return {
    study: input.study,
    signed,
    original,
    addenda,
    latest,
    metadata,
    started,
    effectiveStarted: input.ehrOrder?.started?.trim() || started,
    accession: accessionIdentifier(input.study, input.ehrOrder, options),
    systems: identifierSystems(options),
    refs: allocateRefs(input, [original, ...addenda], options.newUuid),
    encodedPdf: encodeOnce(),
  };
}

// Each check guards against putting one study's documents on another chart or mislabelling them.
function checkReports(study: Study, signed: SignedReport[]): void {
  if (signed.length === 0) {
    // Avara may briefly show a just-signed report as in progress (avara-api.md §10): try again.
    throw SyncError.retryable('report_not_signed', `study ${study.studyId} has no signed report yet`);
  }
  for (const { report, signer, pdf } of signed) {
    if (report.studyId !== study.studyId || signer.userId !== report.userId) {
      throw SyncError.permanent('internal', `report ${report.reportId} does not belong with study ${study.studyId} or its signer`);
    }
    if (!isPdf(pdf)) throw SyncError.retryable('pdf_invalid', `PDF of report ${report.reportId} is not a PDF`);
  }
  const originals = signed.filter((r) => !r.report.isAddendum).length;
  if (originals !== 1) {
    // Avara links no addendum to its original (avara-api.md §10); with none or several originals
    // the text layout and `relatesTo` would be guesses, so a person decides.
    throw SyncError.permanent('avara_bad_response', `study ${study.studyId} has ${originals} signed non-addendum reports; expected 1`);
  }
}

function checkPatient(patient: DeliveryInput['patient']): void {
  if (patient.kind === 'existing' && !/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(patient.reference)) {
    throw SyncError.permanent('internal', 'existing patient reference is not of the form Patient/<id>');
  }
  if (patient.kind === 'create' && (!patient.identifierSystem || !patient.identifierValue)) {
    throw SyncError.permanent('patient_unidentified', 'patient to create has no identifier');
  }
}

function isPdf(bytes: Uint8Array): boolean {
  return bytes.length > 5 && Buffer.from(bytes.subarray(0, 5)).toString('latin1') === '%PDF-';
}

// The latest PDF goes into its DocumentReference and into the DiagnosticReport's presentedForm:
// one encoding for both, the same string, which validation then checks once.
function encodeOnce(): (signed: SignedReport) => EncodedBytes {
  const encoded = new Map<SignedReport, EncodedBytes>();
  return (signed) => {
    let bytes = encoded.get(signed);
    if (!bytes) {
      bytes = encodeBytes(signed.pdf);
      encoded.set(signed, bytes);
    }
    return bytes;
  };
}

// Practitioners in signing order, original signer first (fhir-mapping.md `performer`).
function allocateRefs(input: DeliveryInput, originalFirst: SignedReport[], newUuid: () => string): EntryRefs {
  const urn = () => `urn:uuid:${newUuid()}`;
  const patientEntry = input.patient.kind === 'create' ? urn() : undefined;
  const practitioners = new Map<string, string>();
  for (const { signer } of originalFirst) if (!practitioners.has(signer.userId)) practitioners.set(signer.userId, urn());
  const imagingStudy = urn();
  const documents = new Map(originalFirst.map((r) => [r.report.reportId, urn()] as const));
  return {
    patient: input.patient.kind === 'existing' ? input.patient.reference : patientEntry!,
    patientEntry,
    practitioners,
    imagingStudy,
    documents,
    diagnosticReport: urn(),
  };
}
